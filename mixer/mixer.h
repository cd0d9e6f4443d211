/* mixer.h: the per-room mixer, one thread and one 20 ms clock per room.
 *
 * Call from the signalling thread unless a function says otherwise. The
 * signalling thread posts commands (add, remove, update a participant); the
 * mixer answers with events, and writes to notify_fd (an eventfd shared by
 * all mixers) so that the signalling loop wakes up and calls mixer_poll().
 *
 * Ownership: a stream handed over by MIXER_ADD belongs to the mixer until it
 * comes back in a MIXER_EV_REMOVED event; then the signalling thread frees
 * it and releases its ports. */
#ifndef TUTTI_MIXER_H
#define TUTTI_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"

/* ---- mix kernels (mixer/mixk*.c) ---------------------------------------- */

/* One table of kernels, chosen once from cpuid. All variants give the same
 * result as the scalar reference, bit for bit. */
struct mixk {
	const char *name;
	/* acc[i] += in[i] */
	void (*add)(int32_t *acc, const int16_t *in, size_t n);
	/* out[i] = sat16(acc[i] - own[i]): what a contributor hears */
	void (*sub_sat)(int16_t *out, const int32_t *acc, const int16_t *own,
			size_t n);
	/* out[i] = sat16(acc[i]): what everyone else hears */
	void (*sat)(int16_t *out, const int32_t *acc, size_t n);
};

extern const struct mixk mixk_scalar;
extern const struct mixk mixk_sse2;
extern const struct mixk mixk_avx2;

/* The best variant this CPU runs; TUTTI_MIXK=scalar|sse2|avx2 forces one. */
const struct mixk *mixk_best(void);
/* Every variant this CPU can run, scalar first; returns the count. */
size_t mixk_available(const struct mixk **out, size_t cap);

/* ---- the mixer ----------------------------------------------------------- */

#define MIXER_FRAME_MS 20

struct mixer_params {
	char room[72];	  /* for logs */
	uint32_t rate_hz; /* room rate: 8000, 16000 or 48000 */
	int notify_fd;	  /* eventfd written when events are queued */
};

enum mixer_cmd_kind {
	MIXER_ADD,    /* stream and params; part_id chosen by the caller */
	MIXER_REMOVE, /* stream comes back in MIXER_EV_REMOVED */
	MIXER_UPDATE, /* new stream params (hold, resume, codec or address) */
};

struct mixer_cmd {
	enum mixer_cmd_kind kind;
	uint32_t part_id;
	struct stream *stream;	     /* MIXER_ADD */
	struct stream_params params; /* MIXER_UPDATE */
};

enum mixer_event_kind {
	MIXER_EV_REMOVED, /* stream handed back */
};

struct mixer_event {
	enum mixer_event_kind kind;
	uint32_t part_id;
	struct stream *stream;
};

struct mixer_stats {
	uint64_t ticks, late_ticks;
	uint64_t tick_ns_max, tick_ns_sum;
	uint64_t late_ns_max; /* worst start of a tick after its deadline */
	unsigned participants;
};

struct mixer;

int mixer_start(struct mixer **out, const struct mixer_params *p);
/* Stops the thread and hands every stream still inside back as
 * MIXER_EV_REMOVED events through mixer_poll(), then frees the mixer when
 * they have been polled: call mixer_poll() until it returns -EAGAIN, then
 * mixer_free(). */
void mixer_stop(struct mixer *m);
void mixer_free(struct mixer *m); /* NULL-safe; after mixer_stop */
/* -ENOSPC when the command queue is full. */
int mixer_post(struct mixer *m, const struct mixer_cmd *cmd);
/* Takes one event; -EAGAIN when none. */
int mixer_poll(struct mixer *m, struct mixer_event *ev);
/* Figures updated by the mixer thread; read with relaxed atomics. */
void mixer_get_stats(const struct mixer *m, struct mixer_stats *out);

#endif
