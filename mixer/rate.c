/* rate.c: the room rate, and changing it without a click.
 *
 * A room mixes at the lowest of 8, 16 and 48 kHz that serves every
 * participant's codec (the rate it decodes at, codec_by_id()->pcm_rate_hz):
 * a G.711 room at 8 kHz needs no conversion at all, where at 48 kHz every
 * speaker's frame would be converted up and every encode's input down.
 * The rate is worked out again when someone joins, leaves or changes codec
 * (cmds.c marks it dirty); an empty room keeps its rate until someone
 * joins, and then takes the rate they need at once, since nobody has heard
 * anything yet.
 *
 * Everything that holds audio at the room rate must go on without a seam:
 * each speaker's converter from its codec to the room, each encoder's from
 * the room to its codec (a listener's own, and the shared ones), the
 * recording's, the limiters (their look-ahead millisecond), and the place
 * in the prompts being played. A converter cannot simply be swapped: a new
 * one starts from silence, and one for another rate delays the audio by
 * another time. So the converters all have the same delay at every room
 * rate (resamp_new_room pads the quicker ones), and a change takes two
 * ticks:
 *
 *   tick n     rate_plan: make every converter for the next rate;
 *              rate_warm: mix this tick's speakers at the next rate too,
 *              limit it with copies of the limiters, and feed it to the
 *              new converters (their output is thrown away): they now hold
 *              the last 20 ms at the next rate. Listeners hear the old.
 *   tick n+1   rate_commit: the new converters and limiters take over; the
 *              clips' places are moved to the new rate's samples.
 *
 * What a listener hears then goes on as if the room had always been at
 * the new rate: no step, no change of level (tests/unit/test_rate.c). A
 * stream or encoder made during tick n (a new member or format, a codec
 * change) had nothing to carry over and is simply set to the new rate.
 *
 * Mixer thread; rate_commit and rate_plan may allocate (they run where
 * cmds.c does), rate_warm does not. */
#include "mixer/mixer_priv.h"

#include <errno.h>
#include <string.h>

static uint32_t room_rate_for(uint32_t hz)
{
	return hz <= 8000 ? 8000 : hz <= 16000 ? 16000 : 48000;
}

/* The lowest room rate that serves every participant; 0 when none. */
static uint32_t wanted(const struct mixer *m)
{
	uint32_t hz = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		enum codec_id codec;
		uint32_t ptime_ms;
		stream_tx_format(m->parts[i]->stream, &codec, &ptime_ms);
		const struct codec_desc *d = codec_by_id(codec);
		if (d && d->pcm_rate_hz > hz)
			hz = d->pcm_rate_hz;
	}
	return hz ? room_rate_for(hz) : 0;
}

/* Every converter for hz; all or nothing is ready. */
static int prepare(struct mixer *m, uint32_t hz)
{
	int err = 0;
	for (size_t i = 0; i < m->n_parts && !err; i++)
		err = stream_rate_prepare(m->parts[i]->stream, hz);
	for (size_t g = 0; g < m->n_groups && !err; g++)
		if (m->groups[g].enc)
			err = txenc_rate_prepare(m->groups[g].enc, hz);
	resamp_free(m->rec_rs_next);
	m->rec_rs_next = NULL;
	if (!err)
		err = resamp_new_room(&m->rec_rs_next, MIXER_REC_RATE_HZ, hz,
				      false, 8000);
	return err;
}

void rate_plan(struct mixer *m, bool was_empty)
{
	if (!m->rate_dirty || m->p.pin_rate)
		return;
	uint32_t want = wanted(m);
	if (!want || want == m->p.rate_hz) {
		m->rate_dirty = false;
		return;
	}
	if (prepare(m, want) < 0)
		return; /* out of memory: tried again next tick */
	m->rate_dirty = false;
	m->next_hz = want;
	m->rate_warmed = false;
	for (size_t i = 0; i < m->n_parts; i++)
		m->parts[i]->lim_next_set = false;
	if (was_empty)
		rate_commit(m); /* nobody has heard anything: at once */
}

/* A stream not prepared (it came or changed codec after rate_plan) is set
 * to hz afresh; one that cannot be (out of memory) is tried again when
 * the rate is planned next tick. */
static void commit_streams(struct mixer *m, uint32_t hz)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (stream_rate_commit(pt->stream) < 0 &&
		    stream_set_room_rate(pt->stream, hz) < 0)
			m->rate_dirty = true;
		if (pt->lim_next_set && m->rate_warmed)
			pt->lim = pt->lim_next;
		pt->lim_next_set = false;
	}
}

/* A shared encoder that cannot follow is given up: its listeners encode
 * their own (shared.c). */
static void commit_groups(struct mixer *m, uint32_t hz)
{
	for (size_t g = 0; g < m->n_groups; g++) {
		struct txenc *e = m->groups[g].enc;
		if (!e || txenc_rate_commit(e) == 0)
			continue;
		if (txenc_rate_prepare(e, hz) == 0 && txenc_rate_commit(e) == 0)
			continue;
		txenc_free(e);
		m->groups[g].enc = NULL;
	}
}

void rate_commit(struct mixer *m)
{
	uint32_t hz = m->next_hz, old = m->p.rate_hz;
	if (!hz)
		return;
	commit_streams(m, hz);
	commit_groups(m, hz);
	resamp_take(&m->rec_rs, &m->rec_rs_next);
	if (m->rate_warmed)
		m->shared_lim = m->shared_lim_next;
	play_rate(m, old, hz);
	m->p.rate_hz = hz;
	m->frame_n = hz / 50;
	m->next_hz = 0;
	m->rate_dirty = m->rate_dirty || wanted(m) != hz;
	atomic_store_explicit(&m->rate_hz, hz, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->rate_changes, 1, memory_order_relaxed);
}

/* The speakers at the next rate, as ready_speakers() makes them at the
 * room's, summed into acc_next. */
static void sum_next(struct mixer *m, size_t n)
{
	memset(m->acc_next, 0, n * sizeof(*m->acc_next));
	for (size_t t = 0; t < m->n_contribs; t++) {
		struct part *pt = m->contribs[t];
		stream_pull_room_next(pt->stream, pt->pcm_next);
		if (pt->talk_q12 != GAIN_UNITY)
			gain_apply(pt->pcm_next, pt->pcm_next, n, pt->talk_q12);
		if (pt->fade != FADE_NONE)
			gain_fade(pt->pcm_next, n, pt->fade == FADE_IN);
		m->k->add(m->acc_next, pt->pcm_next, n);
	}
}

/* What pt would hear at the next rate, into mix_next; false when it is
 * the shared mix (tones_next). Its own mix goes through a copy of the
 * limiter it will use, as tick.c's own_mix() does. */
static bool own_next(struct mixer *m, struct part *pt, size_t n)
{
	bool plain = !pt->contributing && pt->listen_q12 == GAIN_UNITY &&
		     !pt->play.count;
	if (pt->ctl.deaf) {
		memset(m->mix_next, 0, n * sizeof(*m->mix_next));
		play_peek(m, pt, m->mix_next, n, m->next_hz);
		return true;
	}
	if (plain)
		return false;
	pt->lim_next = pt->lim_own ? pt->lim : m->shared_lim_was;
	pt->lim_next_set = true;
	limit_run(&pt->lim_next, m->k, m->mix_next, m->acc_next,
		  pt->contributing ? pt->pcm_next : NULL, n,
		  (float)pt->listen_q12 / GAIN_UNITY);
	play_peek(m, pt, m->mix_next, n, m->next_hz);
	return true;
}

void rate_warm(struct mixer *m)
{
	const size_t n = m->next_hz / 50;
	if (!m->next_hz)
		return;
	sum_next(m, n);
	m->shared_lim_next = m->shared_lim_was;
	limit_run(&m->shared_lim_next, m->k, m->tones_next, m->acc_next, NULL,
		  n, 1.0f);
	if (m->rec) {
		int16_t rec[MIXER_REC_MAX_SAMPLES];
		resamp_exact(m->rec_rs_next, m->tones_next, n, rec,
			     MIXER_REC_MAX_SAMPLES);
	}
	play_peek(m, NULL, m->tones_next, n, m->next_hz);
	for (size_t g = 0; g < m->n_groups; g++)
		if (m->groups[g].enc)
			txenc_rate_warm(m->groups[g].enc, m->tones_next);
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		bool own = own_next(m, pt, n);
		stream_rate_warm(pt->stream, own ? m->mix_next : m->tones_next);
	}
	m->rate_warmed = true;
}
