/* pstats.c: the participants' media statistics, taken from their streams
 * on the mixer thread (a stream's counters belong to the thread that holds
 * it) and given to the signalling thread and to the room totals.
 *
 * Every participant's figures go out in a MIXER_EV_STATS event about once a
 * second, each on its own tick of the second (by its id), so that a big
 * room sends a few each tick rather than all at once. A full event queue
 * leaves the event for the next tick. At the same moments, and when the
 * participant leaves, what its stream counted since the last time is added
 * to the room's totals (struct mixer_stats), so that /metrics counts every
 * packet once, never goes back and lags by a second at most. At the same
 * moments a listener whose RTCP reports stopped is back to the FEC of one
 * that never reported (rtp/fecloss.c), its shared encoder too. A loss count
 * that falls (a late packet counted as lost arrives, RFC 3550 A.3) is not
 * taken back from the totals.
 *
 * Mixer thread, except pstats_sum() for what a stopped thread still held,
 * which the signalling thread runs once the thread has been joined. */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#define STATS_EVERY_TICKS (1000 / MIXER_FRAME_MS)

void mixer_part_stats_of(struct mixer_part_stats *out, const struct stream *s)
{
	struct stream_stats st;

	stream_get_stats(s, &st);
	*out = (struct mixer_part_stats){
	    .packets_in = st.packets_in,
	    .packets_out = st.packets_out,
	    .lost = st.lost,
	    .late = st.late,
	    .discarded = st.discarded + st.malformed,
	    .concealed = st.concealed,
	    .fec_recovered = st.fec_recovered,
	    .jitter_us = st.jitter_us,
	    .foreign = st.foreign,
	    .srtp_failed = st.srtp_failed,
	    .malformed = st.malformed,
	    .latched = st.latched,
	    .last_rx_ns = st.last_rx_ns,
	    .undecoded = st.dtx + st.quiet,
	    .fec_loss_pct = stream_tx_fec_loss(s),
	};
}

/* A stream may come with figures already counted by another room's mixer
 * (a dial-in caller moved from the lobby to its room): those are in that
 * mixer's totals, so this one counts from what the stream holds now. */
void pstats_init(struct part *pt)
{
	pt->stats_in = 1 + pt->id % STATS_EVERY_TICKS;
	mixer_part_stats_of(&pt->summed, pt->stream);
}

/* v - *was when v grew, else 0; *was follows v upwards only. */
static uint64_t grown(uint64_t v, uint64_t *was)
{
	uint64_t d = v > *was ? v - *was : 0;
	if (v > *was)
		*was = v;
	return d;
}

static void add(_Atomic uint64_t *total, uint64_t v)
{
	if (v)
		atomic_fetch_add_explicit(total, v, memory_order_relaxed);
}

/* Adds to the totals what now holds beyond pt->summed. */
static void sum(struct mixer *m, struct part *pt,
		const struct mixer_part_stats *now)
{
	struct mixer_part_stats *was = &pt->summed;

	add(&m->packets_in, grown(now->packets_in, &was->packets_in));
	add(&m->packets_out, grown(now->packets_out, &was->packets_out));
	add(&m->packets_lost, grown(now->lost, &was->lost));
	add(&m->concealed, grown(now->concealed, &was->concealed));
	add(&m->fec_recovered, grown(now->fec_recovered, &was->fec_recovered));
	add(&m->undecoded, grown(now->undecoded, &was->undecoded));
	add(&m->dropped_foreign, grown(now->foreign, &was->foreign));
	add(&m->dropped_srtp, grown(now->srtp_failed, &was->srtp_failed));
	add(&m->dropped_malformed, grown(now->malformed, &was->malformed));
}

void pstats_sum(struct mixer *m, struct part *pt)
{
	struct mixer_part_stats now;

	mixer_part_stats_of(&now, pt->stream);
	sum(m, pt, &now);
}

void pstats_tick(struct mixer *m, uint64_t now_ns)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (pt->stats_in > 1) {
			pt->stats_in--;
			continue;
		}
		if (stream_fec_expire(pt->stream, now_ns))
			shared_fec_heard(m, pt);
		struct mixer_event ev = {.kind = MIXER_EV_STATS,
					 .part_id = pt->id};
		mixer_part_stats_of(&ev.stats, pt->stream);
		ev.stats.fec_loss_pct = shared_fec_loss_of(pt);
		sum(m, pt, &ev.stats);
		if (!events_push(m, &ev))
			continue; /* stats_in stays 1: next tick */
		pt->stats_in = STATS_EVERY_TICKS;
	}
}
