/* tick.c: one 20 ms tick of a room's mixer, on the mixer thread.
 *
 * A tick is a list of steps: apply the signalling thread's commands
 * (cmds.c), pull one frame from every participant, run its talker detector
 * (talk.c), choose the speakers (select.c), sum them once into an int32
 * accumulator, render the room's tones (play.c), send every participant
 * its mix, and queue events (events.c: talking, key presses, prompts played
 * out), the participants' statistics last (pstats.c), so that they never
 * hold up a removal.
 *
 * A contributor is a speaker: one of the loudest talkers, unmuted, whose
 * frame carries received audio; its talk gain scales its frame before the
 * sum. A contributor hears sum - own through its own limiter (limit.c)
 * and its own encoder; everyone else shares the sum, limited once and
 * encoded once per codec and packet time (shared.c). A listen gain is
 * applied by the listener's own limiter, before its knee; a deaf
 * participant is sent silence. The CSRC list of a participant's packets
 * names the other contributors' local SSRCs (none when deaf), with their
 * levels (RFC 6465, levels.c) for a listener who asked for them.
 * Detection sees the frame as decoded, at the codec's rate, before any
 * gain, muted or not; a participant with nothing received (packets
 * stopped, concealment over, on hold) counts as silence, so it stops
 * talking. Only the speakers' frames are converted to the room rate.
 *
 * Prompts and tones (play.c) go over what a listener hears after its mix
 * is made and limited, so the recording (the shared mix) and the other
 * listeners never have them. The room's join and leave tones, which every
 * listener of the shared mix hears, go into the shared encode (over a copy
 * of the shared mix); a listener with a prompt of its own, or the one
 * those tones are about, hears its own mix through its own encoder while
 * that lasts, even if it would otherwise share the shared encode.
 *
 * The recording tap, when one is set, gets the shared mix every tick, at
 * MIXER_REC_RATE_HZ; a full queue loses the frame (counted) and never
 * makes the tick wait.
 *
 * The room rate (rate.c) changes between ticks: a tick that prepares a
 * change also mixes the speakers at the next rate (rate_warm), only to
 * fill the next rate's converters and limiters, which take over on the
 * next tick.
 *
 * Nothing here allocates, blocks or logs (cmds.c may allocate for a
 * participant it adds). */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include <limits.h>
#include <stddef.h>
#include <string.h>

/* The steps that are one piece of work per participant, in the order of
 * m->parts: on this thread, or shared with the pool's workers when the
 * room's ticks have grown long (pool.c). */
static void for_each_part(struct mixer *m, mixpool_fn fn)
{
	if (m->fan_out) {
		mixpool_run(m->p.pool, fn, m, m->n_parts);
		return;
	}
	for (size_t i = 0; i < m->n_parts; i++)
		fn(m, i, 0);
}

/* A few participants ahead of item i of a pass over them: start loading
 * their lines, each of which would otherwise be a miss in a big room
 * (docs/benchmarks.md, "A listener's lines in memory"): the part eight
 * ahead, its stream four ahead (its part is loaded by then), and, for
 * the pull (jbuf), its jitter buffer two ahead (its stream is). */
#define AHEAD 4

static void prefetch_ahead(const struct mixer *m, size_t i, bool jbuf)
{
	if (i + 2 * AHEAD < m->n_parts) {
		const char *pt = (const char *)m->parts[i + 2 * AHEAD];
		for (size_t off = 0; off < offsetof(struct part, play.q);
		     off += 64)
			__builtin_prefetch(pt + off);
	}
	if (i + AHEAD < m->n_parts)
		stream_prefetch(m->parts[i + AHEAD]->stream, false);
	if (jbuf && i + AHEAD / 2 < m->n_parts)
		stream_prefetch(m->parts[i + AHEAD / 2]->stream, true);
}

/* A participant's next 20 ms at its codec's rate (only the speakers' are
 * converted to the room rate, after selection), then its talker detector.
 * One who was not mixed last tick need not have its quiet packets
 * decoded, when it sends their levels (RFC 6464, rtp/stream_quiet.c):
 * below off_db it could not become a speaker this tick. The detector
 * takes the level the caller sent, else the frame's; silence for a
 * participant with nothing received, so that it stops. */
static void pull_and_detect(void *ctx, size_t i, unsigned slot)
{
	struct mixer *m = ctx;
	struct part *pt = m->parts[i];

	(void)slot;
	prefetch_ahead(m, i, true);
	stream_rx_skip_quiet(pt->stream,
			     pt->contributing ? INT_MIN : pt->talk.off_db);
	pt->frame = stream_pull_codec(pt->stream, &pt->frame_n);
	pt->received = pt->frame && stream_recv_enabled(pt->stream);
	int level = pt->frame ? stream_rx_level(pt->stream) : -1;
	if (level >= 0)
		talk_update_level(&pt->talk, (unsigned)level);
	else if (pt->frame)
		talk_update_energy(&pt->talk,
				   m->k->sumsq(pt->frame, pt->frame_n),
				   pt->frame_n);
	else /* nothing received: a frame of silence */
		talk_update_energy(&pt->talk, 0, 1);
	/* Key presses: heard in this pull, or an RFC 4733 event whose end
	 * was lost timing out now; events_digits() takes them after the
	 * send, and need not touch the stream of anyone who has none. */
	struct digit dg;
	pt->digits = stream_digit_peek(pt->stream, m->tick_ns, &dg) == 0;
}

/* The speakers' frames at the room rate (no one else's: that is what a
 * participant who does not speak saves), scaled by their talk gain and
 * faded in or out when they enter or leave mid-utterance. */
static void ready_speakers(struct mixer *m)
{
	for (size_t t = 0; t < m->n_contribs; t++) {
		struct part *pt = m->contribs[t];
		stream_pull_room(pt->stream, pt->pcm);
		if (pt->talk_q12 != GAIN_UNITY)
			gain_apply(pt->pcm, pt->pcm, m->frame_n, pt->talk_q12);
		if (pt->fade != FADE_NONE)
			gain_fade(pt->pcm, m->frame_n, pt->fade == FADE_IN);
	}
}

static void sum_contributors(struct mixer *m)
{
	memset(m->acc, 0, m->frame_n * sizeof(*m->acc));
	for (size_t t = 0; t < m->n_contribs; t++)
		m->k->add(m->acc, m->contribs[t]->pcm, m->frame_n);
}

/* The shared mix, limited once for everyone who hears it. */
static void limit_shared(struct mixer *m)
{
	m->shared_lim_was = m->shared_lim;
	limit_run(&m->shared_lim, m->k, m->shared, m->acc, NULL, m->frame_n,
		  1.0f);
}

static void record_mix(struct mixer *m)
{
	if (!m->rec)
		return;
	struct mixer_rec_frame *f = &m->rec_frame;
	f->seq = m->rec_seq++;
	f->n_samples = MIXER_REC_MAX_SAMPLES;
	resamp_exact(m->rec_rs, m->shared, m->frame_n, f->pcm,
		     MIXER_REC_MAX_SAMPLES);
	_Atomic uint64_t *count = &m->rec_frames;
	if (spscq_push(m->rec, f) < 0)
		count = &m->rec_dropped;
	atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
}

/* Every contributor but pt, at most RTPPKT_MAX_CSRC of them. */
static unsigned csrc_list(const struct mixer *m, const struct part *pt,
			  uint32_t *csrc)
{
	unsigned n = 0;
	for (size_t t = 0; t < m->n_contribs && n < RTPPKT_MAX_CSRC; t++)
		if (m->contribs[t] != pt)
			csrc[n++] = stream_local_ssrc(m->contribs[t]->stream);
	return n;
}

/* True when pt hears the shared mix just as it is, the same samples as
 * every other listener who does, so that it can share their encode. A
 * listener whose mix differs in any way (its own voice left out, a listen
 * gain, deafness, or any audio of its own added: a prompt to it; or, while
 * the room's tones play, which the shared encode carries, being the one
 * they are about) must not pass. */
static bool hears_shared(const struct mixer *m, const struct part *pt)
{
	return !pt->contributing && !pt->ctl.deaf &&
	       pt->listen_q12 == GAIN_UNITY && !play_own(m, pt);
}

/* The mix of a listener who does not hear the shared one, in buf,
 * limited with its own limiter. One who heard the shared mix last tick
 * takes over the shared limiter's state from before this tick, so that
 * its gain and its held millisecond carry on without a jump. */
static const int16_t *own_mix(const struct mixer *m, struct part *pt,
			      int16_t *buf)
{
	if (pt->ctl.deaf) {
		pt->lim_own = false;
		memset(buf, 0, m->frame_n * sizeof(*buf));
		return buf;
	}
	if (!pt->lim_own)
		pt->lim = m->shared_lim_was;
	pt->lim_own = true;
	limit_run(&pt->lim, m->k, buf, m->acc,
		  pt->contributing ? pt->pcm : NULL, m->frame_n,
		  (float)pt->listen_q12 / GAIN_UNITY);
	return buf;
}

/* Encodes mix with pt's own encoder and sends it. */
static void send_own(struct mixer *m, struct part *pt, struct sendq *q,
		     const int16_t *mix, const uint32_t *csrc, unsigned n_csrc,
		     uint64_t now_ns)
{
	int got = stream_push(pt->stream, q, mix, csrc, n_csrc, now_ns);
	if (got > 0)
		atomic_fetch_add_explicit(&m->encodes, (uint64_t)got,
					  memory_order_relaxed);
}

/* A listener's packets: the shared mix through the shared encoder of its
 * format (shared.c) when it hears that mix, else its own mix, with
 * whatever play.c has for it over it, through its own encoder. The CSRC
 * list of the shared mix names every speaker. */
static void send_mix(void *ctx, size_t i, unsigned slot)
{
	struct mixer *m = ctx;
	struct part *pt = m->parts[i];
	struct sendq *q = slot ? mixpool_sendq(m->p.pool, slot) : m->sendq;
	uint32_t csrc[RTPPKT_MAX_CSRC];

	prefetch_ahead(m, i, false); /* the send reads no jitter buffer */
	if (hears_shared(m, pt)) {
		pt->lim_own = false;
		levels_send(m, pt, m->csrc_all, m->n_csrc_all);
		if (!shared_send(m, pt, q, m->csrc_all, m->n_csrc_all,
				 m->send_ns))
			send_own(m, pt, q, m->shared_out, m->csrc_all,
				 m->n_csrc_all, m->send_ns);
		return;
	}
	int16_t *buf = m->own + (size_t)slot * m->frame_n;
	const int16_t *mix = play_over(m, pt, own_mix(m, pt, buf), buf);
	unsigned n = pt->ctl.deaf ? 0 : csrc_list(m, pt, csrc);
	levels_send(m, pt, csrc, n);
	send_own(m, pt, q, mix, csrc, n, m->send_ns);
}

/* Every listener's packets. Fanned out, the shared encodes are made
 * first, here, so that no two threads make the same one. Each thread's
 * packets leave in its batch (rtp/sendq.c), a worker's as it leaves the
 * job, the mixer thread's here: all of them before the figures and the
 * removals that follow read or free a stream. */
static void send_mixes(struct mixer *m, uint64_t now_ns)
{
	m->n_csrc_all = csrc_list(m, NULL, m->csrc_all);
	levels_measure(m);
	m->send_ns = now_ns;
	m->tick_no++;
	if (m->fan_out)
		for (size_t i = 0; i < m->n_parts; i++)
			if (hears_shared(m, m->parts[i]))
				shared_encode(m, m->parts[i]);
	for_each_part(m, send_mix);
	sendq_flush(m->sendq);
}

void tick_run(struct mixer *m, uint64_t now_ns)
{
	rate_commit(m);
	bool was_empty = m->n_parts == 0;
	cmds_apply(m);
	rate_plan(m, was_empty);
	m->tick_ns = now_ns;
	for_each_part(m, pull_and_detect);
	select_speakers(m);
	ready_speakers(m);
	sum_contributors(m);
	limit_shared(m);
	record_mix(m);
	rate_warm(m);
	play_room(m);
	send_mixes(m, now_ns);
	events_talking(m);
	events_digits(m, now_ns);
	play_events(m);
	events_hand_back(m);
	events_rec_stopped(m);
	pstats_tick(m, now_ns);
	events_notify(m);
}
