/* conference.c: starts and stops the signalling thread.
 *
 * main() calls conference_start(), which spawns the thread and waits until
 * Sofia-SIP is listening, so that a bad --sip-listen fails the start with
 * a clear message. conference_stop() writes ctl_fd; the thread hangs up
 * every call, shuts Sofia-SIP down, stops every mixer and exits. Control
 * requests (ctlq.c) are refused and event readers (events.c) woken as
 * soon as stopping begins. */
#include "conference/ctlq.h"
#include "conference/events.h"
#include "conference/focus.h"
#include "conference/ivr.h"
#include "conference/store.h"

#include <errno.h>
#include <opus/opus.h>
#include <opusenc.h>
#include <sndfile.h>
#include <speex/speexdsp_types.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/sofia_features.h>

/* The threads a room may use besides its own mixer thread. */
static unsigned pool_workers(const struct options *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = o->mix_threads;
	if (!threads)
		threads = cpus > 0 ? (unsigned)cpus : 1;
	return threads - 1;
}

/* Whether the mixers send in io_uring batches (rtp/sendq.c): asked for,
 * and a batch can be made here. Said once in the log, as it is a
 * property of the host (a kernel or a container that refuses io_uring). */
static bool send_batch(const struct options *o)
{
	if (!o->send_batch) {
		log_info("rtp", "RTP sent with sendto (--send-batch no)");
		return false;
	}
	int err = sendq_probe();
	if (err < 0) {
		log_info("rtp",
			 "RTP sent with sendto: no io_uring batches (%s)",
			 strerror(-err));
		return false;
	}
	log_info("rtp", "RTP of big rooms sent in io_uring batches");
	return true;
}

/* The media threads' SCHED_FIFO priority (--realtime) as the kernel
 * allows it, tried once on a probe thread and said once in the log; 0
 * when off or refused, so that no mixer thread tries in vain. */
static unsigned rt_priority(const struct options *o)
{
	if (!o->realtime)
		return 0;
	int err = rtsched_probe(o->realtime);
	if (err < 0) {
		struct rlimit rl = {.rlim_cur = RLIM_INFINITY};
		char lim[24] = "unlimited";
		getrlimit(RLIMIT_RTPRIO, &rl);
		if (rl.rlim_cur != RLIM_INFINITY)
			snprintf(lim, sizeof(lim), "%llu",
				 (unsigned long long)rl.rlim_cur);
		log_warn("mixer",
			 "--realtime %u refused by the kernel (%s; "
			 "RLIMIT_RTPRIO %s): media threads run at normal "
			 "priority",
			 o->realtime, strerror(-err), lim);
		return 0;
	}
	log_info("mixer", "media threads run SCHED_FIFO priority %u",
		 o->realtime);
	return o->realtime;
}

static void *signalling_main(void *arg)
{
	struct conference *c = arg;
	int err =
	    portpool_new(&c->ports, c->opts->rtp_port_lo, c->opts->rtp_port_hi);
	room_state_init(c);
	c->send_batch = send_batch(c->opts);
	c->rt_priority = rt_priority(c->opts);
	if (!err)
		err = mixpool_new(&c->pool, pool_workers(c->opts),
				  c->send_batch, c->rt_priority);
	if (!err) {
		err = store_open(&c->store, c->opts->data_dir);
		if (err)
			log_error("store", "cannot open the store in %s: %s",
				  c->opts->data_dir, strerror(-err));
		else
			log_info("store", "store %s/tutti.db, schema %d",
				 c->opts->data_dir,
				 store_schema_version(c->store));
	}
	if (!err)
		err = ctl_rooms_load(c);
	if (!err)
		err = ivr_init(c);
	if (!err)
		err = sig_start(c);
	c->start_err = err;
	if (!err)
		atomic_store(&c->alive, true);
	sem_post(&c->ready);
	if (!err)
		sig_run(c);

	c->stopping = true;
	atomic_store(&c->alive, false);
	ctlq_close(c->ctlq); /* nobody will serve requests any more */
	rec_shutdown(c);     /* files closed before the mixers stop */
	room_destroy_all(c);
	ivr_shutdown(c);       /* the clips, once no mixer can play them */
	mixpool_free(c->pool); /* once no mixer runs */
	c->pool = NULL;
	room_departed_free_all(c);
	sig_free(c);
	store_close(c->store);
	c->store = NULL;
	portpool_free(c->ports);
	c->ports = NULL;
	return NULL;
}

int conference_start(struct conference **out, const struct options *o)
{
	struct conference *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->opts = o;
	c->ctl_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->media_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->req_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->ctl_fd < 0 || c->media_fd < 0 || c->req_fd < 0 ||
	    sem_init(&c->ready, 0, 0)) {
		int err = -errno;
		if (c->ctl_fd >= 0)
			close(c->ctl_fd);
		if (c->media_fd >= 0)
			close(c->media_fd);
		if (c->req_fd >= 0)
			close(c->req_fd);
		free(c);
		return err;
	}
	su_init();
	int err = ctlq_new(&c->ctlq, c->req_fd);
	if (!err)
		err = evring_new(&c->events, EVENTS_RING_CAP);
	if (err) {
		conference_free(c);
		return err;
	}
	err = pthread_create(&c->thread, NULL, signalling_main, c);
	if (err) {
		conference_free(c);
		return -err;
	}
	pthread_setname_np(c->thread, "tutti-sig"); /* for top -H, /proc */
	while (sem_wait(&c->ready) < 0 && errno == EINTR)
		;
	if (c->start_err) {
		err = c->start_err;
		pthread_join(c->thread, NULL);
		c->thread = 0;
		conference_free(c);
		return err;
	}
	*out = c;
	return 0;
}

void conference_stop(struct conference *c)
{
	if (!c || !c->thread)
		return;
	/* Callers waiting on requests or events return at once. */
	ctlq_close(c->ctlq);
	evring_stop(c->events);
	uint64_t one = 1;
	if (write(c->ctl_fd, &one, sizeof(one)) < 0)
		log_error("sip", "cannot signal the signalling thread");
	pthread_join(c->thread, NULL);
	c->thread = 0;
}

void conference_free(struct conference *c)
{
	if (!c)
		return;
	if (c->ctl_fd >= 0)
		close(c->ctl_fd);
	if (c->media_fd >= 0)
		close(c->media_fd);
	ctlq_free(c->ctlq);
	evring_free(c->events);
	if (c->req_fd >= 0)
		close(c->req_fd);
	sem_destroy(&c->ready);
	free(c);
	su_deinit();
}

void conference_get_stats(const struct conference *c,
			  struct conference_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->rooms = atomic_load(&c->n_rooms);
	out->participants = atomic_load(&c->n_parts);
	out->calls_total = atomic_load(&c->calls_total);
}

bool conference_alive(const struct conference *c)
{
	return c && atomic_load(&c->alive);
}

void conference_print_versions(FILE *f)
{
	fprintf(f, "sofia-sip %s\n", SOFIA_SIP_VERSION);
	fprintf(f, "opus %s\n", opus_get_version_string());
	fprintf(f, "%s\n", sf_version_string());      /* "libsndfile-1.2.0" */
	fprintf(f, "%s\n", ope_get_version_string()); /* "libopusenc 0.2.1" */
}
