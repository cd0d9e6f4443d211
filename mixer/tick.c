/* tick.c: one 20 ms tick of a room's mixer, on the mixer thread.
 *
 * A tick is a list of steps: apply the signalling thread's commands
 * (cmds.c), pull one frame from every participant, run its talker detector
 * (talk.c), choose the contributors, sum them once into an int32
 * accumulator, send every participant its mix, and queue events (events.c).
 *
 * A contributor is a participant whose frame carries received audio and
 * who is not muted; its talk gain scales its frame before the sum. A
 * contributor hears sat16(sum - own); everyone else shares sat16(sum),
 * computed once. A listen gain scales a copy of the participant's mix; a
 * deaf participant is sent silence. The CSRC list of a participant's
 * packets names the other contributors' local SSRCs (none when deaf).
 * Detection sees the frame as decoded, before any gain, muted or not; a
 * participant with nothing received (packets stopped, concealment over, on
 * hold) is pulled as silence, so it stops talking.
 *
 * Prompts and tones (play.c) go over what a listener hears after its mix
 * is made, so the recording and the other listeners never have them.
 *
 * The recording tap, when one is set, gets the shared mix every tick; a
 * full queue loses the frame (counted) and never makes the tick wait.
 *
 * Nothing here allocates, blocks or logs (cmds.c may allocate for a
 * participant it adds). */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include <string.h>

static void pull_frames(struct mixer *m)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		pt->received = stream_pull(pt->stream, pt->pcm) == 1 &&
			       stream_recv_enabled(pt->stream);
	}
}

static void detect_talkers(struct mixer *m)
{
	for (size_t i = 0; i < m->n_parts; i++)
		talk_update(&m->parts[i]->talk, m->parts[i]->pcm, m->frame_n);
}

static void choose_contributors(struct mixer *m)
{
	m->n_contribs = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		pt->contributing = pt->received && !pt->ctl.muted;
		if (!pt->contributing)
			continue;
		if (pt->talk_q12 != GAIN_UNITY)
			gain_apply(pt->pcm, pt->pcm, m->frame_n, pt->talk_q12);
		m->contribs[m->n_contribs++] = pt;
	}
}

static void sum_contributors(struct mixer *m)
{
	memset(m->acc, 0, m->frame_n * sizeof(*m->acc));
	for (size_t t = 0; t < m->n_contribs; t++)
		m->k->add(m->acc, m->contribs[t]->pcm, m->frame_n);
	m->k->sat(m->shared, m->acc, m->frame_n);
}

static void record_mix(struct mixer *m)
{
	if (!m->rec)
		return;
	struct mixer_rec_frame *f = &m->rec_frame;
	f->seq = m->rec_seq++;
	f->n_samples = (uint32_t)m->frame_n;
	memcpy(f->pcm, m->shared, m->frame_n * sizeof(*f->pcm));
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

/* What pt hears this tick: the shared mix, or its own in m->own. */
static const int16_t *mix_for(struct mixer *m, const struct part *pt)
{
	const int16_t *mix = m->shared;

	if (pt->ctl.deaf) {
		memset(m->own, 0, m->frame_n * sizeof(*m->own));
		return m->own;
	}
	if (pt->contributing) {
		m->k->sub_sat(m->own, m->acc, pt->pcm, m->frame_n);
		mix = m->own;
	}
	if (pt->listen_q12 != GAIN_UNITY) {
		gain_apply(m->own, mix, m->frame_n, pt->listen_q12);
		mix = m->own;
	}
	return mix;
}

static void send_mixes(struct mixer *m, uint64_t now_ns)
{
	uint32_t csrc[RTPPKT_MAX_CSRC];

	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		const int16_t *mix = play_over(m, pt, mix_for(m, pt));
		unsigned n = pt->ctl.deaf ? 0 : csrc_list(m, pt, csrc);
		stream_push(pt->stream, mix, csrc, n, now_ns);
	}
}

void tick_run(struct mixer *m, uint64_t now_ns)
{
	cmds_apply(m);
	pull_frames(m);
	detect_talkers(m);
	choose_contributors(m);
	sum_contributors(m);
	record_mix(m);
	play_room(m);
	send_mixes(m, now_ns);
	events_talking(m);
	events_digits(m, now_ns);
	play_events(m);
	events_hand_back(m);
	events_rec_stopped(m);
	events_notify(m);
}
