/* mixer.c: a room's mixer thread: its start and stop, the queues to and
 * from the signalling thread, and the loop that waits for packets and for
 * the 20 ms clock (the tick itself is in tick.c).
 *
 * The thread sleeps in epoll_wait on a timerfd (CLOCK_MONOTONIC, absolute
 * deadlines 20 ms apart) and on the participants' RTCP sockets; in a room
 * of MIXER_WATCH_PARTS or more, on their RTP sockets too, each drained as
 * soon as it is readable. A smaller room reads its RTP sockets at the
 * tick, before the pull: the jitter buffers see the same packets before
 * the same pull either way, and the statistics take each packet's arrival
 * from the kernel (rtp/stream_rx.c), so all reading late costs is up to
 * 20 ms more before a key press or an RTCP report on a muxed socket is
 * seen, for half the thread's wake-ups. A timer expiry runs one tick.
 * Socket events of a wake-up are handled before its tick, because the
 * tick may remove (and free) a participant that a later event in the same
 * batch points at. More than one expiry per read means ticks came late: a
 * stall of the whole thread (a host that took the CPU, a scheduler) is
 * caught up at once, up to MIXER_CATCH_UP ticks and only as many as end
 * within half a tick of the next deadline (which then runs a little late,
 * not missed), so that the jitter buffers' frames, queued in
 * the meantime, are mixed rather than dropped and listeners get a burst
 * their own buffers absorb instead of a gap to conceal. Ticks beyond that
 * are missed: counted, not replayed; a room whose own ticks are too slow
 * never catches up, so it cannot fall further behind.
 *
 * The signalling thread owns the mixer object; the thread owns the
 * participants while it runs. After mixer_stop() has joined it, the
 * signalling thread takes everything over and mixer_poll() hands back the
 * streams the thread still held (events.c). */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define FRAME_NS   (MIXER_FRAME_MS * 1000000ull)
#define MAX_EVENTS 64
/* Ticks a stall can be caught up by, 100 ms: longer than a host's usual
 * hiccup, within what a listener's jitter buffer takes as one burst. */
#define MIXER_CATCH_UP 5

static void max_store(_Atomic uint64_t *a, uint64_t v)
{
	/* Single writer: a plain compare is enough. */
	if (v > atomic_load_explicit(a, memory_order_relaxed))
		atomic_store_explicit(a, v, memory_order_relaxed);
}

const uint32_t mixer_tick_hist_bounds_us[MIXER_TICK_HIST_N - 1] = {
    500, 1000, 2000, 5000, 10000, 20000, 50000};

static void hist_add(struct mixer *m, uint64_t took_ns)
{
	size_t i = 0;
	while (i < MIXER_TICK_HIST_N - 1 &&
	       took_ns > mixer_tick_hist_bounds_us[i] * 1000ull)
		i++;
	atomic_fetch_add_explicit(&m->tick_hist[i], 1, memory_order_relaxed);
}

/* Whether the next tick shares its per-participant steps with the pool:
 * from a tick that took more than fanout_ns, until the work of one would
 * take less than half that on the mixer thread alone (a tick that fanned
 * out over S threads stands for at most S times its time). */
static void fan_out_next(struct mixer *m, uint64_t took_ns)
{
	if (!m->p.pool)
		return;
	if (!m->fan_out)
		m->fan_out = took_ns > m->fanout_ns;
	else
		m->fan_out =
		    took_ns * mixpool_slots(m->p.pool) >= m->fanout_ns / 2;
}

/* One tick at start, after reading every RTP socket when read_all, and
 * its figures; returns how long it took. */
static uint64_t run_tick(struct mixer *m, uint64_t start, bool read_all)
{
	if (read_all)
		for (size_t i = 0; i < m->n_parts; i++) {
			stream_read_rtp(m->parts[i]->stream, start);
			shared_fec_heard(m, m->parts[i]);
		}
	if (m->fan_out)
		atomic_fetch_add_explicit(&m->fanned_ticks, 1,
					  memory_order_relaxed);
	tick_run(m, start);

	uint64_t took = mono_now_ns() - start;
	fan_out_next(m, took);
	atomic_fetch_add_explicit(&m->ticks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->tick_ns_sum, took, memory_order_relaxed);
	max_store(&m->tick_ns_max, took);
	hist_add(m, took);
	return took;
}

static void on_timer(struct mixer *m)
{
	uint64_t exp;
	if (read(m->tfd, &exp, sizeof(exp)) != sizeof(exp) || exp == 0)
		return;
	uint64_t start = mono_now_ns();
	uint64_t due = m->deadline_ns + (exp - 1) * FRAME_NS;
	m->deadline_ns = due + FRAME_NS;
	max_store(&m->late_ns_max, start > due ? start - due : 0);
	/* A room that does not watch its RTP sockets reads them at the tick;
	 * one that stood still reads them all first too, since what queued
	 * meanwhile is due now, for this tick and the ones caught up. */
	uint64_t took = run_tick(m, start, !m->rtp_watched || exp > 1);

	uint64_t missed = exp - 1;
	for (unsigned n = 0; missed > 0 && n < MIXER_CATCH_UP; n++, missed--) {
		uint64_t now = mono_now_ns();
		if (now + took >= m->deadline_ns + FRAME_NS / 2)
			break;
		took = run_tick(m, now, false);
	}
	atomic_fetch_add_explicit(&m->late_ticks, exp - 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->missed_ticks, missed,
				  memory_order_relaxed);
	/* A recording keeps real time: a gap where ticks were missed. */
	if (m->rec)
		m->rec_seq += (uint32_t)missed;
}

static void *mixer_thread(void *arg)
{
	struct mixer *m = arg;
	struct epoll_event ev[MAX_EVENTS];

	/* rtsched_probe() found the priority allowed at start-up; refused
	 * now all the same, the thread keeps its normal priority. */
	(void)rtsched_enter(m->p.rt_priority);
	while (!atomic_load_explicit(&m->stop, memory_order_acquire)) {
		int n = epoll_wait(m->epfd, ev, MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		bool timer = false;
		for (int i = 0; i < n; i++) {
			struct watch *w = ev[i].data.ptr;
			if (!w) {
				timer = true;
			} else if (w->rtcp) {
				stream_read_rtcp(w->part->stream,
						 mono_now_ns());
				shared_fec_heard(m, w->part);
			} else { /* RTCP may come muxed */
				stream_read_rtp(w->part->stream, mono_now_ns());
				shared_fec_heard(m, w->part);
			}
		}
		if (timer)
			on_timer(m);
	}
	return NULL;
}

static int clock_start(struct mixer *m)
{
	m->epfd = epoll_create1(EPOLL_CLOEXEC);
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->epfd < 0 || m->tfd < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->tfd, &ev) < 0)
		return -errno;

	m->deadline_ns = mono_now_ns() + FRAME_NS;
	struct itimerspec its = {
	    .it_interval = {.tv_sec = 0, .tv_nsec = FRAME_NS},
	    .it_value = {.tv_sec = m->deadline_ns / 1000000000ull,
			 .tv_nsec = m->deadline_ns % 1000000000ull},
	};
	if (timerfd_settime(m->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

/* The thread blocks every signal: they belong to the main thread. */
static int thread_start(struct mixer *m)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&m->thread, NULL, mixer_thread, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(m->thread, "tutti-mix"); /* for top -H, /proc */
	m->started = true;
	return 0;
}

/* Every buffer holds 20 ms at the highest room rate, so that a change of
 * rate never allocates them again. */
static int buffers_new(struct mixer *m)
{
	const size_t n = MIXER_MAX_FRAME_N;
	m->acc = calloc(n, sizeof(*m->acc));
	m->acc_next = calloc(n, sizeof(*m->acc_next));
	m->shared = calloc(n, sizeof(*m->shared));
	/* a listener's own mix: one per thread that may make them at once */
	m->own = calloc(n * mixpool_slots(m->p.pool), sizeof(*m->own));
	m->room_frame = calloc(n, sizeof(*m->room_frame));
	m->shared_tones = calloc(n, sizeof(*m->shared_tones));
	m->mix_next = calloc(n, sizeof(*m->mix_next));
	m->tones_next = calloc(n, sizeof(*m->tones_next));
	m->shared_out = m->shared;
	if (!m->acc || !m->acc_next || !m->shared || !m->own ||
	    !m->room_frame || !m->shared_tones || !m->mix_next ||
	    !m->tones_next)
		return -ENOMEM;
	return resamp_new_room(&m->rec_rs, MIXER_REC_RATE_HZ, m->p.rate_hz,
			       false, 8000);
}

int mixer_create(struct mixer **out, const struct mixer_params *p)
{
	if (!out || !p ||
	    (p->rate_hz != 8000 && p->rate_hz != 16000 && p->rate_hz != 48000))
		return -EINVAL;
	struct talk_params talk = p->talk;
	if (talk_params_resolve(&talk) < 0)
		return -EINVAL;
	struct mixer *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->p = *p;
	m->p.talk = talk;
	m->epfd = m->tfd = -1;
	m->frame_n = p->rate_hz / 50;
	m->k = mixk_best();
	limit_init(&m->shared_lim);
	atomic_init(&m->stop, false);
	atomic_init(&m->rate_hz, p->rate_hz);

	int err = spscq_new(&m->cmds, MIXER_CMD_CAP, sizeof(struct mixer_cmd));
	if (!err)
		err = spscq_new(&m->events, MIXER_EVENT_CAP,
				sizeof(struct mixer_event));
	if (!err)
		err = cmds_reserve(m, 16);
	m->fanout_ns =
	    (uint64_t)(p->fanout_us ? p->fanout_us : MIXER_FANOUT_US) * 1000;
	if (!err)
		err = buffers_new(m);
	if (!err)
		err = clock_start(m);
	if (err)
		goto fail;
	*out = m;
	return 0;
fail:
	mixer_free(m);
	return err;
}

int mixer_start(struct mixer **out, const struct mixer_params *p)
{
	struct mixer *m;
	int err = mixer_create(&m, p);
	if (err)
		return err;
	err = thread_start(m);
	if (err) {
		mixer_free(m);
		return err;
	}
	*out = m;
	return 0;
}

void mixer_stop(struct mixer *m)
{
	if (!m || m->stopped)
		return;
	atomic_store_explicit(&m->stop, true, memory_order_release);
	if (m->started)
		pthread_join(m->thread, NULL);
	m->stopped = true;
}

static void free_parts(struct mixer *m)
{
	while (m->gone) {
		struct part *pt = m->gone;
		m->gone = pt->next;
		free(pt);
	}
	for (size_t i = 0; i < m->n_parts; i++)
		free(m->parts[i]);
	m->n_parts = 0;
}

void mixer_free(struct mixer *m)
{
	if (!m)
		return;
	mixer_stop(m);
	free_parts(m);
	if (m->tfd >= 0)
		close(m->tfd);
	if (m->epfd >= 0)
		close(m->epfd);
	spscq_free(m->cmds);
	spscq_free(m->events);
	shared_free(m);
	free(m->parts);
	free(m->contribs);
	free(m->acc);
	free(m->acc_next);
	free(m->mix_next);
	free(m->tones_next);
	resamp_free(m->rec_rs);
	resamp_free(m->rec_rs_next);
	free(m->shared);
	free(m->own);
	sendq_free(m->sendq);
	free(m->room_frame);
	free(m->shared_tones);
	free(m);
}

int mixer_post(struct mixer *m, const struct mixer_cmd *cmd)
{
	if (!m || !cmd || (cmd->kind == MIXER_ADD && !cmd->stream) ||
	    (cmd->kind == MIXER_REC_START && !cmd->rec) ||
	    (cmd->kind == MIXER_PLAY && !cmd->play.clip))
		return -EINVAL;
	if (m->stopped)
		return -EPIPE;
	return spscq_push(m->cmds, cmd);
}

int mixer_poll(struct mixer *m, struct mixer_event *ev)
{
	if (!m || !ev)
		return -EINVAL;
	if (spscq_pop(m->events, ev) == 0)
		return 0;
	if (!m->stopped)
		return -EAGAIN;
	return events_leftover(m, ev);
}

/* One relaxed load: the figures need not be a consistent set. */
static uint64_t ld(const _Atomic uint64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

void mixer_get_stats(const struct mixer *m, struct mixer_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->ticks = ld(&m->ticks);
	out->late_ticks = ld(&m->late_ticks);
	out->missed_ticks = ld(&m->missed_ticks);
	out->tick_ns_max = ld(&m->tick_ns_max);
	out->tick_ns_sum = ld(&m->tick_ns_sum);
	out->late_ns_max = ld(&m->late_ns_max);
	out->participants =
	    atomic_load_explicit(&m->participants, memory_order_relaxed);
	for (size_t i = 0; i < MIXER_TICK_HIST_N; i++)
		out->tick_hist[i] = ld(&m->tick_hist[i]);
	out->rec_frames = ld(&m->rec_frames);
	out->rec_dropped = ld(&m->rec_dropped);
	out->packets_in = ld(&m->packets_in);
	out->packets_out = ld(&m->packets_out);
	out->packets_lost = ld(&m->packets_lost);
	out->concealed = ld(&m->concealed);
	out->fec_recovered = ld(&m->fec_recovered);
	out->undecoded = ld(&m->undecoded);
	out->dropped_foreign = ld(&m->dropped_foreign);
	out->dropped_srtp = ld(&m->dropped_srtp);
	out->dropped_malformed = ld(&m->dropped_malformed);
	out->encodes = ld(&m->encodes);
	out->fanned_ticks = ld(&m->fanned_ticks);
	out->rate_hz = atomic_load_explicit(&m->rate_hz, memory_order_relaxed);
	out->rate_changes = ld(&m->rate_changes);
}
