/* tick.c: one 20 ms tick of a room's mixer, on the mixer thread.
 *
 * A tick is a list of steps: apply the signalling thread's commands, pull
 * one frame from every participant, sum the contributors once into an int32
 * accumulator, send every participant its mix, and hand removed streams
 * back. A contributor (a participant whose frame carries audio and whose
 * audio is mixed) hears sat16(sum - own); everyone else shares sat16(sum),
 * computed once. The CSRC list of a participant's packets names the other
 * contributors' local SSRCs.
 *
 * Nothing here allocates, blocks or logs, except that adding a participant
 * may grow the participant arrays. */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

int tick_reserve(struct mixer *m, size_t n)
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
	struct part **talkers = realloc(m->talkers, cap * sizeof(*talkers));
	if (!talkers)
		return -ENOMEM;
	m->talkers = talkers;
	m->cap_parts = cap;
	return 0;
}

/* ---- commands ------------------------------------------------------------ */

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

	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	if (rfd < 0 || rfd == fd)
		return 0;
	ev.data.ptr = &pt->w_rtcp;
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, rfd, &ev) < 0) {
		int err = -errno;
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
		return err;
	}
	return 0;
}

static void watch_del(struct mixer *m, struct part *pt)
{
	int fd = stream_rtp_fd(pt->stream), rfd = stream_rtcp_fd(pt->stream);

	epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (rfd >= 0 && rfd != fd)
		epoll_ctl(m->epfd, EPOLL_CTL_DEL, rfd, NULL);
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

/* False when out of memory: the command is kept and retried next tick. An
 * ADD that cannot be honoured otherwise (part_id already in the room, a
 * stream built for another room rate, a socket epoll refuses) hands its
 * stream straight back. */
static bool cmd_add(struct mixer *m, const struct mixer_cmd *c)
{
	if (tick_reserve(m, m->n_parts + 1) < 0)
		return false;
	struct part *pt = calloc(1, sizeof(*pt) + m->frame_n * sizeof(int16_t));
	if (!pt)
		return false;
	pt->id = c->part_id;
	pt->stream = c->stream;
	pt->w_rtp = (struct watch){.part = pt, .rtcp = false};
	pt->w_rtcp = (struct watch){.part = pt, .rtcp = true};
	if (find(m, c->part_id, NULL) ||
	    stream_room_rate_hz(c->stream) != m->p.rate_hz ||
	    watch_add(m, pt) < 0)
		hand_back(m, pt);
	else
		m->parts[m->n_parts++] = pt;
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
	hand_back(m, pt);
}

static void cmd_update(struct mixer *m, const struct mixer_cmd *c)
{
	struct part *pt = find(m, c->part_id, NULL);
	/* On failure (out of memory, unknown codec) the old parameters stay. */
	if (pt)
		stream_apply(pt->stream, &c->params);
}

static void apply_commands(struct mixer *m)
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
	}
	atomic_store_explicit(&m->participants, (unsigned)m->n_parts,
			      memory_order_relaxed);
}

/* ---- the mix ------------------------------------------------------------- */

static void pull_frames(struct mixer *m)
{
	m->n_talkers = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		pt->talking = stream_pull(pt->stream, pt->pcm) == 1 &&
			      stream_recv_enabled(pt->stream);
		if (pt->talking)
			m->talkers[m->n_talkers++] = pt;
	}
}

static void sum_talkers(struct mixer *m)
{
	memset(m->acc, 0, m->frame_n * sizeof(*m->acc));
	for (size_t t = 0; t < m->n_talkers; t++)
		m->k->add(m->acc, m->talkers[t]->pcm, m->frame_n);
	m->k->sat(m->shared, m->acc, m->frame_n);
}

/* Every talker but pt, at most RTPPKT_MAX_CSRC of them. */
static unsigned csrc_list(const struct mixer *m, const struct part *pt,
			  uint32_t *csrc)
{
	unsigned n = 0;
	for (size_t t = 0; t < m->n_talkers && n < RTPPKT_MAX_CSRC; t++)
		if (m->talkers[t] != pt)
			csrc[n++] = stream_local_ssrc(m->talkers[t]->stream);
	return n;
}

static void send_mixes(struct mixer *m, uint64_t now_ns)
{
	uint32_t csrc[RTPPKT_MAX_CSRC];

	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		const int16_t *mix = m->shared;
		if (pt->talking) {
			m->k->sub_sat(m->own, m->acc, pt->pcm, m->frame_n);
			mix = m->own;
		}
		unsigned n = csrc_list(m, pt, csrc);
		stream_push(pt->stream, mix, csrc, n, now_ns);
	}
}

/* ---- events -------------------------------------------------------------- */

/* Queues what the event queue takes; the rest waits for the next tick. */
static void hand_back_streams(struct mixer *m)
{
	bool queued = false;

	while (m->gone) {
		struct part *pt = m->gone;
		struct mixer_event ev = {
		    .kind = MIXER_EV_REMOVED,
		    .part_id = pt->id,
		    .stream = pt->stream,
		};
		if (spscq_push(m->events, &ev) < 0)
			break;
		m->gone = pt->next;
		if (!m->gone)
			m->gone_tail = NULL;
		free(pt);
		queued = true;
	}
	if (queued && m->p.notify_fd >= 0) {
		uint64_t one = 1;
		ssize_t r = write(m->p.notify_fd, &one, sizeof(one));
		(void)r; /* a full eventfd already wakes the reader */
	}
}

void tick_run(struct mixer *m, uint64_t now_ns)
{
	apply_commands(m);
	pull_frames(m);
	sum_talkers(m);
	send_mixes(m, now_ns);
	hand_back_streams(m);
}
