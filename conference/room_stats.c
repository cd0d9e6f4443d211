/* room_stats.c: a participant's media figures as the API shows them, the
 * line logged when its call ends, the mixers' totals for /metrics, and
 * whether every mixer still ticks (/healthz, the systemd watchdog).
 *
 * The figures are counted by the participant's stream, which only the
 * room's mixer thread may read while it holds it: the mixer sends them
 * about once a second (MIXER_EV_STATS, kept in p->stats), and once the
 * stream is handed back at the end of the call the signalling thread
 * reads the last word from the stream itself. Signalling thread only. */
#include "conference/focus.h"

static double loss_percent(const struct mixer_part_stats *s)
{
	uint64_t expected = s->packets_in + s->lost;
	return expected ? 100.0 * (double)s->lost / (double)expected : 0;
}

void room_stats_info(const struct participant *p, struct conf_media_stats *out)
{
	const struct mixer_part_stats *s = &p->stats;
	*out = (struct conf_media_stats){
	    .packets_in = s->packets_in,
	    .packets_out = s->packets_out,
	    .lost = s->lost,
	    .late = s->late,
	    .discarded = s->discarded,
	    .concealed = s->concealed,
	    .fec_recovered = s->fec_recovered,
	    .loss_percent = loss_percent(s),
	    .jitter_ms = s->jitter_us / 1000.0,
	    .foreign = s->foreign,
	    .srtp_failed = s->srtp_failed,
	    .latched = s->latched,
	    .undecoded = s->undecoded,
	    .fec_loss_pct = s->fec_loss_pct,
	};
}

void room_stats_summary(struct participant *p)
{
	if (!p->stream)
		return; /* never had media */
	mixer_part_stats_of(&p->stats, p->stream);
	const struct mixer_part_stats *s = &p->stats;
	const struct codec_desc *d = codec_by_id(p->codec);
	double secs = (double)(mono_now_ns() - p->joined_ns) / 1e9;
	log_info(
	    "room",
	    "room=%s call=%s part=%u ended after %.1f s: codec %s, "
	    "packets in %llu out %llu, lost %llu (%.1f%%), jitter %.1f "
	    "ms, late %llu, discarded %llu, concealed %llu, fec recovered "
	    "%llu",
	    p->room->name, p->call_id, p->id, secs, d ? d->name : "none",
	    (unsigned long long)s->packets_in,
	    (unsigned long long)s->packets_out, (unsigned long long)s->lost,
	    loss_percent(s), s->jitter_us / 1000.0, (unsigned long long)s->late,
	    (unsigned long long)s->discarded, (unsigned long long)s->concealed,
	    (unsigned long long)s->fec_recovered);
}

void room_stats_add(struct mixer_stats *t, const struct mixer_stats *st)
{
	t->ticks += st->ticks;
	t->late_ticks += st->late_ticks;
	t->missed_ticks += st->missed_ticks;
	t->tick_ns_sum += st->tick_ns_sum;
	for (int i = 0; i < MIXER_TICK_HIST_N; i++)
		t->tick_hist[i] += st->tick_hist[i];
	t->rec_frames += st->rec_frames;
	t->rec_dropped += st->rec_dropped;
	t->packets_in += st->packets_in;
	t->packets_out += st->packets_out;
	t->packets_lost += st->packets_lost;
	t->concealed += st->concealed;
	t->fec_recovered += st->fec_recovered;
	t->undecoded += st->undecoded;
	t->dropped_foreign += st->dropped_foreign;
	t->dropped_srtp += st->dropped_srtp;
	t->dropped_malformed += st->dropped_malformed;
	t->encodes += st->encodes;
	t->fanned_ticks += st->fanned_ticks;
}

void room_stats_check_timeout(struct participant *p)
{
	unsigned secs = p->room->conf->opts->rtp_timeout_s;
	/* on hold (sendonly, inactive) or listening only (recvonly), a
	 * caller owes us no packets */
	if (!secs || p->leaving || p->peer_dir != OA_SENDRECV ||
	    !p->rx_expected_ns)
		return;
	uint64_t since = p->stats.last_rx_ns > p->rx_expected_ns
			     ? p->stats.last_rx_ns
			     : p->rx_expected_ns;
	uint64_t now = mono_now_ns();
	if (now > since && now - since >= (uint64_t)secs * 1000000000ull)
		sig_call_rtp_timeout(p, secs);
}

/* A mixer thread that hangs (a deadlock, a blocking call) stops counting
 * ticks, and also late ones: it only counts the ticks it missed once it
 * runs again. So a hang shows as a tick count that stays put between two
 * looks at it, however often someone looks. */
unsigned room_stats_stalled(struct conference *c, uint64_t now_ns,
			    uint64_t stall_ns)
{
	unsigned stalled = 0;
	for (struct room *r = c->rooms; r; r = r->next) {
		if (!r->mixer)
			continue;
		struct mixer_stats st;
		mixer_get_stats(r->mixer, &st);
		if (!r->watch_ns || st.ticks != r->watch_ticks) {
			r->watch_ticks = st.ticks;
			r->watch_ns = now_ns;
		} else if (now_ns - r->watch_ns >= stall_ns) {
			stalled++;
		}
	}
	return stalled;
}
