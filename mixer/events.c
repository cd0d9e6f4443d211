/* events.c: what the mixer tells the signalling thread, through the bounded
 * event queue and notify_fd: talking started or stopped, key presses,
 * streams handed back, and a recording queue handed back (pstats.c adds
 * each participant's statistics, play.c prompts played out).
 *
 * Nothing is lost when the queue is full. A participant's talking state is
 * compared with what was last reported, every tick, so a change that did
 * not fit is queued on a later tick, with the latest state (a start and
 * stop that both missed the queue cancel out). A removed participant waits
 * in the "gone" list, in order, until both its talking=false (when it was
 * reported talking) and its MIXER_EV_REMOVED are queued. After the thread
 * has ended, events_leftover() gives the signalling thread the same
 * guarantee for what the thread still held. A stopped recording queue
 * waits in rec_gone until its MIXER_EV_REC_STOPPED is queued. Key presses
 * wait in their stream until the queue takes them; those of a removed
 * participant go with it.
 *
 * Mixer thread, except events_leftover(): signalling thread, after
 * mixer_stop() has joined the mixer thread. */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static struct mixer_event talking(const struct part *pt, bool on, int db)
{
	return (struct mixer_event){.kind = MIXER_EV_TALKING,
				    .part_id = pt->id,
				    .talking = on,
				    .level_db = db};
}

static struct mixer_event removed(uint32_t id, struct stream *s)
{
	return (struct mixer_event){
	    .kind = MIXER_EV_REMOVED, .part_id = id, .stream = s};
}

static struct mixer_event rec_stopped(struct spscq *q)
{
	return (struct mixer_event){.kind = MIXER_EV_REC_STOPPED, .rec = q};
}

bool events_push(struct mixer *m, const struct mixer_event *ev)
{
	if (spscq_push(m->events, ev) < 0)
		return false;
	m->queued = true;
	return true;
}

void events_talking(struct mixer *m)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (pt->talk.talking == pt->reported)
			continue;
		struct mixer_event ev =
		    talking(pt, pt->talk.talking, pt->talk.changed_db);
		if (!events_push(m, &ev))
			return;
		pt->reported = pt->talk.talking;
	}
}

/* A participant reported talking is first reported silent; the level is
 * that of its last frame. */
static bool queue_stopped(struct mixer *m, struct part *pt)
{
	if (!pt->reported)
		return true;
	struct mixer_event ev = talking(pt, false, pt->talk.level_db);
	if (!events_push(m, &ev))
		return false;
	pt->reported = false;
	return true;
}

void events_hand_back(struct mixer *m)
{
	while (m->gone) {
		struct part *pt = m->gone;
		struct mixer_event ev = removed(pt->id, pt->stream);
		if (!queue_stopped(m, pt) || !events_push(m, &ev))
			return;
		m->gone = pt->next;
		if (!m->gone)
			m->gone_tail = NULL;
		free(pt);
	}
}

void events_digits(struct mixer *m, uint64_t now_ns)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (!pt->digits)
			continue; /* none at the pull (tick.c) */
		struct mixer_event ev = {.kind = MIXER_EV_DTMF,
					 .part_id = pt->id};
		while (stream_digit_peek(pt->stream, now_ns, &ev.digit) == 0) {
			if (!events_push(m, &ev))
				return;
			stream_digit_pop(pt->stream);
		}
	}
}

void events_rec_stopped(struct mixer *m)
{
	if (!m->rec_gone)
		return;
	struct mixer_event ev = rec_stopped(m->rec_gone);
	if (events_push(m, &ev))
		m->rec_gone = NULL;
}

void events_notify(struct mixer *m)
{
	if (!m->queued || m->p.notify_fd < 0)
		return;
	uint64_t one = 1;
	ssize_t r = write(m->p.notify_fd, &one, sizeof(one));
	(void)r; /* a full eventfd already wakes the reader */
	m->queued = false;
}

/* The next participant the thread still held: removals not yet queued,
 * then participants. */
static struct part *next_part(const struct mixer *m)
{
	if (m->gone)
		return m->gone;
	return m->n_parts ? m->parts[m->n_parts - 1] : NULL;
}

static void drop_part(struct mixer *m, struct part *pt)
{
	if (pt == m->gone) {
		m->gone = pt->next;
		if (!m->gone)
			m->gone_tail = NULL;
	} else {
		pstats_sum(m, pt); /* a removed one was summed then */
		m->n_parts--;
		atomic_store_explicit(&m->participants, (unsigned)m->n_parts,
				      memory_order_relaxed);
	}
	free(pt);
}

int events_leftover(struct mixer *m, struct mixer_event *ev)
{
	struct part *pt = next_part(m);
	if (pt && pt->reported) {
		*ev = talking(pt, false, pt->talk.level_db);
		pt->reported = false;
		return 0;
	}
	if (pt) {
		*ev = removed(pt->id, pt->stream);
		drop_part(m, pt);
		return 0;
	}
	if (m->has_held) {
		m->has_held = false;
		*ev = removed(m->held.part_id, m->held.stream);
		return 0;
	}
	struct spscq **held_q = m->rec_gone ? &m->rec_gone : &m->rec;
	if (*held_q) {
		*ev = rec_stopped(*held_q);
		*held_q = NULL;
		return 0;
	}
	struct mixer_cmd c;
	while (spscq_pop(m->cmds, &c) == 0) {
		if (c.kind == MIXER_ADD) {
			*ev = removed(c.part_id, c.stream);
			return 0;
		}
		if (c.kind == MIXER_REC_START) {
			*ev = rec_stopped(c.rec);
			return 0;
		}
	}
	return -EAGAIN;
}
