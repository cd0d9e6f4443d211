/* play.c: prompts and tones, played to one participant or to the room.
 *
 * The focus hands the mixer clips (struct mixer_clip: PCM at each room
 * rate, which the focus owns and keeps) and says whom to play them to.
 * A clip's place is kept in samples at the room rate, moved to the new
 * rate's samples when the room changes rate (play_rate), so that the clip
 * goes on from the same moment in its version at the new rate.
 * Each participant has a short queue of clips; each tick, 20 ms of the
 * clip at its head is added (saturated) over what that participant hears
 * and nobody else hears it: it is added after the mix was summed and
 * limited, in the listener's own copy. A deaf participant still hears its
 * own clips (the dial-in dialogue relies on that: a caller who has not
 * given the PIN is deaf and muted, and hears only prompts). The room has
 * one queue too, for join and leave tones: every participant who is not
 * deaf hears it, except the one it is about. A clip marked loop repeats
 * until replaced or stopped (hold music); when a participant's queue plays
 * out on its own, MIXER_EV_PLAYED says so with the last clip's tag.
 *
 * The only hook in the tick is in tick.c's send step: play_over() between
 * "what the listener hears" and "encode and send". A listener with
 * nothing to play costs one test. The listeners who share an encode
 * (shared.c) all hear the room's tones, so while they play the shared
 * encode carries them: play_room() puts them over a copy of the shared
 * mix (shared_tones; the shared mix itself, which the recording has
 * taken, never holds them), and a join tone costs a room no encode more.
 * A listener with something else (play_own(): its own clips, or the room's
 * tones being about it) has its own mix made and encoded for it while
 * that lasts.
 *
 * Mixer thread only; nothing here allocates (room_frame and shared_tones
 * are allocated with the mixer), blocks or logs. */
#include "mixer/mixer_priv.h"

#include <string.h>

static int16_t sat16(int32_t v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

static struct part *find(const struct mixer *m, uint32_t id)
{
	for (size_t i = 0; i < m->n_parts; i++)
		if (m->parts[i]->id == id)
			return m->parts[i];
	return NULL;
}

static void enqueue(struct play *pl, const struct mixer_play *p)
{
	if (!p->append) {
		pl->count = 0;
		pl->pos = 0;
	}
	if (pl->count == PLAY_QUEUE)
		return; /* a caller who queues this much loses the rest */
	pl->q[(pl->head + pl->count) % PLAY_QUEUE] =
	    (struct play_item){.clip = p->clip, .tag = p->tag, .loop = p->loop};
	if (pl->count++ == 0)
		pl->pos = 0;
	pl->done = false;
}

void play_cmd(struct mixer *m, const struct mixer_cmd *c)
{
	struct play *pl = c->part_id == MIXER_ROOM ? &m->room_play : NULL;
	if (!pl) {
		struct part *pt = find(m, c->part_id);
		pl = pt ? &pt->play : NULL;
	}
	if (!pl)
		return;
	if (c->kind == MIXER_PLAY_STOP) {
		pl->count = 0;
		pl->done = false;
		return;
	}
	const struct mixer_clip *clip = c->play.clip;
	if (!clip || !clip->pcm || !clip->n_samples || !clip->rate_hz)
		return;
	enqueue(pl, &c->play);
	if (c->part_id == MIXER_ROOM)
		pl->except_id = c->play.except_id;
}

/* The clip's version at hz, or NULL. */
static const struct mixer_clip *at_rate(const struct mixer_clip *c, uint32_t hz)
{
	for (int i = 0; c && i < 8; c = c->alt, i++)
		if (c->rate_hz == hz && c->pcm)
			return c;
	return NULL;
}

/* Its length at hz: that version's, else the first's, in time. */
static size_t len_at(const struct mixer_clip *c, uint32_t hz)
{
	const struct mixer_clip *v = at_rate(c, hz);
	if (v)
		return v->n_samples;
	return (size_t)((uint64_t)c->n_samples * hz / c->rate_hz);
}

/* Adds the next n samples (at hz) of pl's clips into out; false when it
 * has nothing to play. */
static bool render(struct play *pl, int16_t *out, size_t n, uint32_t hz)
{
	size_t at = 0;
	if (!pl->count)
		return false;
	while (at < n && pl->count) {
		const struct play_item *it = &pl->q[pl->head];
		const struct mixer_clip *v = at_rate(it->clip, hz);
		size_t len = len_at(it->clip, hz);
		size_t left = pl->pos < len ? len - pl->pos : 0;
		size_t take = n - at < left ? n - at : left;
		for (size_t i = 0; v && i < take; i++)
			out[at + i] =
			    sat16((int32_t)out[at + i] + v->pcm[pl->pos + i]);
		at += take;
		pl->pos += take;
		if (pl->pos < len)
			break;
		pl->pos = 0;
		if (it->loop && len)
			continue;
		pl->done_tag = it->tag;
		pl->head = (pl->head + 1) % PLAY_QUEUE;
		if (--pl->count == 0)
			pl->done = true;
	}
	return true;
}

void play_room(struct mixer *m)
{
	m->room_sounds = false;
	m->shared_out = m->shared;
	if (!m->room_play.count)
		return;
	memset(m->room_frame, 0, m->frame_n * sizeof(*m->room_frame));
	m->room_sounds =
	    render(&m->room_play, m->room_frame, m->frame_n, m->p.rate_hz);
	for (size_t i = 0; i < m->frame_n; i++)
		m->shared_tones[i] =
		    sat16((int32_t)m->shared[i] + m->room_frame[i]);
	m->shared_out = m->shared_tones;
}

/* The room's tones reach everyone who is not deaf, but the one they are
 * about. */
static bool hears_room(const struct mixer *m, const struct part *pt)
{
	return m->room_sounds && !pt->ctl.deaf &&
	       pt->id != m->room_play.except_id;
}

bool play_own(const struct mixer *m, const struct part *pt)
{
	return pt->play.count ||
	       (m->room_sounds && pt->id == m->room_play.except_id);
}

const int16_t *play_over(const struct mixer *m, struct part *pt,
			 const int16_t *mix, int16_t *buf)
{
	bool room = hears_room(m, pt);
	if (!pt->play.count && !room)
		return mix;
	if (mix != buf)
		memcpy(buf, mix, m->frame_n * sizeof(*buf));
	render(&pt->play, buf, m->frame_n, m->p.rate_hz);
	for (size_t i = 0; room && i < m->frame_n; i++)
		buf[i] = sat16((int32_t)buf[i] + m->room_frame[i]);
	return buf;
}

void play_peek(const struct mixer *m, const struct part *pt, int16_t *out,
	       size_t n, uint32_t hz)
{
	uint32_t cur = m->p.rate_hz;
	if (pt) {
		struct play mine = pt->play;
		mine.pos = (size_t)((uint64_t)mine.pos * hz / cur);
		render(&mine, out, n, hz);
	}
	if (pt && (pt->ctl.deaf || pt->id == m->room_play.except_id))
		return;
	struct play room = m->room_play;
	room.pos = (size_t)((uint64_t)room.pos * hz / cur);
	render(&room, out, n, hz);
}

void play_rate(struct mixer *m, uint32_t old_hz, uint32_t new_hz)
{
	m->room_play.pos =
	    (size_t)((uint64_t)m->room_play.pos * new_hz / old_hz);
	for (size_t i = 0; i < m->n_parts; i++) {
		struct play *pl = &m->parts[i]->play;
		pl->pos = (size_t)((uint64_t)pl->pos * new_hz / old_hz);
	}
}

void play_events(struct mixer *m)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (!pt->play.done)
			continue;
		struct mixer_event ev = {.kind = MIXER_EV_PLAYED,
					 .part_id = pt->id,
					 .tag = pt->play.done_tag};
		if (!events_push(m, &ev))
			return;
		pt->play.done = false;
	}
}
