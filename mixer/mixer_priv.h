/* mixer_priv.h: the mixer's insides, shared by mixer.c (lifecycle, queues,
 * the thread loop) and tick.c (one 20 ms tick). Not for other folders.
 *
 * Who touches what: the fields under "mixer thread" belong to the mixer
 * thread while it runs, and to the signalling thread once mixer_stop() has
 * joined it. The statistics are atomics written by the mixer thread alone
 * and read from anywhere. */
#ifndef TUTTI_MIXER_PRIV_H
#define TUTTI_MIXER_PRIV_H

#include "mixer/mixer.h"

#include <pthread.h>
#include <stdatomic.h>

#define MIXER_CMD_CAP		256
#define MIXER_EVENT_CAP		4096
#define MIXER_MAX_CMDS_PER_TICK MIXER_CMD_CAP

struct part;

/* What an epoll event points at: one of a participant's two sockets. */
struct watch {
	struct part *part;
	bool rtcp;
};

struct part {
	uint32_t id;
	struct stream *stream;
	struct watch w_rtp, w_rtcp;
	bool talking;	   /* contributes to this tick's mix */
	struct part *next; /* in the list of removals not yet handed back */
	int16_t pcm[];	   /* this tick's frame, frame_n samples */
};

struct mixer {
	struct mixer_params p;
	size_t frame_n; /* samples per 20 ms at the room rate */
	const struct mixk *k;
	struct spscq *cmds, *events;
	int epfd, tfd;
	pthread_t thread;
	bool started, stopped;
	atomic_bool stop;

	/* mixer thread */
	struct part **parts, **talkers;
	size_t n_parts, n_talkers, cap_parts;
	int32_t *acc;
	int16_t *shared, *own;
	struct part *gone, *gone_tail; /* removed, event not yet queued */
	struct mixer_cmd held;	       /* an ADD to retry (out of memory) */
	bool has_held;
	uint64_t deadline_ns; /* of the next timer expiration */

	_Atomic uint64_t ticks, late_ticks, tick_ns_max, tick_ns_sum;
	_Atomic uint64_t late_ns_max;
	_Atomic unsigned participants;
};

/* Runs one tick at now_ns (tick.c): commands, pull, sum, send, events. */
void tick_run(struct mixer *m, uint64_t now_ns);
/* Grows the per-participant arrays to hold at least n (tick.c). */
int tick_reserve(struct mixer *m, size_t n);

#endif
