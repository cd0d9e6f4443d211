/* cmds.c: the signalling thread's commands, applied by the mixer thread at
 * the start of a tick (after a change of room rate made ready on the tick
 * before, rate.c, and before the next one is planned): add a participant (with
 * its initial controls, so that one who joins muted is never heard, not even
 * for one tick), remove it, update its stream, set its controls, start and stop
 * the recording tap.
 *
 * A removed participant waits in the mixer's "gone" list until events.c
 * has queued its MIXER_EV_REMOVED. Nothing here blocks or logs; adding a
 * participant may allocate. */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

int cmds_reserve(struct mixer *m, size_t n)
{
	if (n <= m->cap_parts)
		return 0;
	size_t cap = m->cap_parts ? m->cap_parts : 16;
	while (cap < n)
		cap *= 2;
	struct part **parts = realloc(m->parts, cap * sizeof(*parts));
	if (!parts)
		return -ENOMEM;
	m->parts = parts;
	struct part **contribs = realloc(m->contribs, cap * sizeof(*contribs));
	if (!contribs)
		return -ENOMEM;
	m->contribs = contribs;
	m->cap_parts = cap;
	return 0;
}

static struct part *find(const struct mixer *m, uint32_t id, size_t *idx)
{
	for (size_t i = 0; i < m->n_parts; i++) {
		if (m->parts[i]->id == id) {
			if (idx)
				*idx = i;
			return m->parts[i];
		}
	}
	return NULL;
}

static int watch_add(struct mixer *m, struct part *pt)
{
	int fd = stream_rtp_fd(pt->stream), rfd = stream_rtcp_fd(pt->stream);
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &pt->w_rtp};

	if (m->rtp_watched && epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	if (rfd < 0 || rfd == fd)
		return 0;
	ev.data.ptr = &pt->w_rtcp;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, rfd, &ev) < 0) {
		int err = -errno;
		if (m->rtp_watched)
			epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
		return err;
	}
	return 0;
}

static void watch_del(struct mixer *m, struct part *pt)
{
	int fd = stream_rtp_fd(pt->stream), rfd = stream_rtcp_fd(pt->stream);

	if (m->rtp_watched)
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (rfd >= 0 && rfd != fd)
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, rfd, NULL);
}

/* Puts the RTP sockets in epoll once the room has MIXER_WATCH_PARTS
 * participants, and takes them out below that (mixer.c then reads them at
 * the tick). Should epoll refuse one, the room goes on reading at the
 * tick, which always works. */
static void watch_mode(struct mixer *m)
{
	bool want = m->n_parts >= MIXER_WATCH_PARTS;
	if (want == m->rtp_watched)
		return;
	int op = want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL;
	for (size_t i = 0; i < m->n_parts; i++) {
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.ptr = &m->parts[i]->w_rtp};
		int fd = stream_rtp_fd(m->parts[i]->stream);
		if (epoll_ctl(m->epfd, op, fd, &ev) < 0 && want) {
			while (i-- > 0)
				epoll_ctl(m->epfd, EPOLL_CTL_DEL,
					  stream_rtp_fd(m->parts[i]->stream),
					  NULL);
			return;
		}
	}
	m->rtp_watched = want;
}

/* Queues pt's stream to be handed back in a MIXER_EV_REMOVED event. */
static void hand_back(struct mixer *m, struct part *pt)
{
	pt->next = NULL;
	if (m->gone_tail)
		m->gone_tail->next = pt;
	else
		m->gone = pt;
	m->gone_tail = pt;
}

/* The mixer thread's send batch, once the room is big enough for one to
 * pay (MIXER_BATCH_PARTS); a room whose kernel refuses it keeps sendto(). */
static void batch_prepare(struct mixer *m)
{
	if (!m->p.send_batch || m->sendq_tried ||
	    m->n_parts < MIXER_BATCH_PARTS)
		return;
	m->sendq_tried = true;
	if (sendq_new(&m->sendq, stream_tx_sent) < 0)
		m->sendq = NULL;
}

/* False when out of memory: the command is kept and retried next tick. An
 * ADD that cannot be honoured otherwise (part_id already in the room, a
 * stream built for another room rate, a socket epoll refuses) hands its
 * stream straight back. */
static bool cmd_add(struct mixer *m, const struct mixer_cmd *c)
{
	if (cmds_reserve(m, m->n_parts + 1) < 0)
		return false;
	struct part *pt =
	    calloc(1, sizeof(*pt) + 2 * MIXER_MAX_FRAME_N * sizeof(int16_t));
	if (!pt)
		return false;
	pt->pcm_next = pt->pcm + MIXER_MAX_FRAME_N;
	/* A stream is made at any room rate; it joins at the room's. */
	if (stream_set_room_rate(c->stream, m->p.rate_hz) == -ENOMEM) {
		free(pt);
		return false;
	}
	pt->id = c->part_id;
	pt->stream = c->stream;
	pt->w_rtp = (struct watch){.part = pt, .rtcp = false};
	pt->w_rtcp = (struct watch){.part = pt, .rtcp = true};
	gain_set_controls(pt, &c->controls);
	talk_init(&pt->talk, &m->p.talk);
	pstats_init(pt);
	limit_init(&pt->lim);
	if (find(m, c->part_id, NULL) ||
	    stream_room_rate_hz(c->stream) != m->p.rate_hz ||
	    watch_add(m, pt) < 0) {
		hand_back(m, pt);
		return true;
	}
	m->parts[m->n_parts++] = pt;
	shared_prepare(m, pt);
	batch_prepare(m);
	m->rate_dirty = true;
	return true;
}

static void cmd_remove(struct mixer *m, uint32_t id)
{
	size_t i;
	struct part *pt = find(m, id, &i);
	if (!pt)
		return;
	watch_del(m, pt);
	memmove(&m->parts[i], &m->parts[i + 1],
		(m->n_parts - i - 1) * sizeof(*m->parts));
	m->n_parts--;
	pstats_sum(m, pt);
	hand_back(m, pt);
	m->rate_dirty = true;
	m->fec_dirty = true; /* its shared encoder may code for less */
}

static void cmd_update(struct mixer *m, const struct mixer_cmd *c)
{
	struct part *pt = find(m, c->part_id, NULL);
	/* On failure (out of memory, unknown codec) the old parameters stay. */
	if (!pt)
		return;
	stream_apply(pt->stream, &c->params);
	shared_prepare(m, pt);
	m->rate_dirty = true;
}

static void cmd_control(struct mixer *m, const struct mixer_cmd *c)
{
	struct part *pt = find(m, c->part_id, NULL);
	if (pt)
		gain_set_controls(pt, &c->controls);
}

/* A start while a queue is still held breaks the contract (mixer.h) and
 * is ignored. */
static void cmd_rec_start(struct mixer *m, struct spscq *q)
{
	if (m->rec || m->rec_gone)
		return;
	m->rec = q;
	m->rec_seq = 0;
	resamp_reset(m->rec_rs); /* nothing recorded before */
}

static void cmd_rec_stop(struct mixer *m)
{
	if (!m->rec)
		return;
	m->rec_gone = m->rec;
	m->rec = NULL;
}

void cmds_apply(struct mixer *m)
{
	struct mixer_cmd c;

	if (m->has_held && !cmd_add(m, &m->held))
		return;
	m->has_held = false;
	for (int i = 0; i < MIXER_MAX_CMDS_PER_TICK; i++) {
		if (spscq_pop(m->cmds, &c) < 0)
			break;
		if (c.kind == MIXER_ADD && !cmd_add(m, &c)) {
			m->held = c;
			m->has_held = true;
			break;
		}
		if (c.kind == MIXER_REMOVE)
			cmd_remove(m, c.part_id);
		else if (c.kind == MIXER_UPDATE)
			cmd_update(m, &c);
		else if (c.kind == MIXER_CONTROL)
			cmd_control(m, &c);
		else if (c.kind == MIXER_REC_START)
			cmd_rec_start(m, c.rec);
		else if (c.kind == MIXER_REC_STOP)
			cmd_rec_stop(m);
		else if (c.kind == MIXER_PLAY || c.kind == MIXER_PLAY_STOP)
			play_cmd(m, &c);
	}
	shared_fec_apply(m);
	watch_mode(m);
	atomic_store_explicit(&m->participants, (unsigned)m->n_parts,
			      memory_order_relaxed);
}
