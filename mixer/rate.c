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
 *   before     rate_plan: make every converter for the next rate, for
 *              PREPARE_BATCH participants a tick (a room of 1000 takes
 *              16 ticks), still mixing at the old rate;
 *   tick n     rate_warm: mix this tick's speakers at the next rate too,
 *              limit it with copies of the limiters, and feed it to the
 *              new converters of the shared encoders, of the encoders of
 *              those who hear a mix of their own, and of the recording
 *              (their output is thrown away): they now hold the last
 *              20 ms at the next rate. Listeners hear the old.
 *   tick n+1   rate_commit: the new converters and limiters take over; the
 *              clips' places are moved to the new rate's samples.
 *
 * What a listener hears then goes on as if the room had always been at
 * the new rate: no step, no change of level (tests/unit/test_rate.c). A
 * stream or encoder made during tick n (a new member or format, a codec
 * change) had nothing to carry over and is simply set to the new rate.
 * The own encoder of a listener of the shared mix is not fed: it stands
 * idle, and when it is used again it starts from what it last held, as
 * it would at any rate.
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

/* Converters are made for at most this many participants a tick: each
 * takes some 30-60 us (two SpeexDSP converters and their filters), and a
 * room of 1000 must not spend a whole tick on them at once. */
#define PREPARE_BATCH 64

/* The shared encoders' and the recording's converters for hz, and any
 * participant's the batches missed (one that moved in the array while
 * they ran): 0 when all are ready. */
static int prepare_rest(struct mixer *m, uint32_t hz)
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

/* Works out the rate wanted when the members changed; a new target starts
 * its preparation over. */
static void retarget(struct mixer *m)
{
	uint32_t want = wanted(m);
	m->rate_dirty = false;
	if (!want || want == m->p.rate_hz)
		want = 0; /* stay: what was prepared is dropped when replaced */
	if (want != m->plan_hz) {
		m->plan_hz = want;
		m->plan_at = 0;
	}
}

void rate_plan(struct mixer *m, bool was_empty)
{
	if (m->p.pin_rate)
		return;
	if (m->rate_dirty)
		retarget(m);
	uint32_t hz = m->plan_hz;
	if (!hz)
		return;
	size_t end = m->plan_at + PREPARE_BATCH;
	if (was_empty || end > m->n_parts)
		end = m->n_parts;
	for (; m->plan_at < end; m->plan_at++)
		if (stream_rate_prepare(m->parts[m->plan_at]->stream, hz) < 0)
			return; /* out of memory: tried again next tick */
	if (m->plan_at < m->n_parts || prepare_rest(m, hz) < 0)
		return;
	m->plan_hz = 0;
	m->plan_at = 0;
	m->next_hz = hz;
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

/* What pt hears through its own encoder at the next rate, into mix_next:
 * its own mix, through a copy of the limiter it will use, as tick.c's
 * own_mix() does. False for a listener of the shared mix, whose own
 * encoder stands idle (a room of 1000 would convert 1000 mixes more), and
 * for a deaf one, who is sent silence. */
static bool own_next(struct mixer *m, struct part *pt, size_t n)
{
	bool plain = !pt->contributing && pt->listen_q12 == GAIN_UNITY &&
		     !pt->play.count;
	if (plain || pt->ctl.deaf)
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
	for (size_t i = 0; i < m->n_parts; i++)
		if (own_next(m, m->parts[i], n))
			stream_rate_warm(m->parts[i]->stream, m->mix_next);
	m->rate_warmed = true;
}
