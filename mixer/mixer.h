/* mixer.h: the per-room mixer, one thread and one 20 ms clock per room.
 *
 * Call from the signalling thread unless a function says otherwise. The
 * signalling thread posts commands (add, remove, update a participant, set
 * its controls); the mixer answers with events (talking on and off, a
 * stream handed back), and writes to notify_fd (an eventfd shared by all
 * mixers) so that the signalling loop wakes up and calls mixer_poll().
 *
 * Ownership: a stream handed over by MIXER_ADD belongs to the mixer until it
 * comes back in a MIXER_EV_REMOVED event; then the signalling thread frees
 * it and releases its ports. A recording queue handed over by
 * MIXER_REC_START is pushed to by the mixer until MIXER_EV_REC_STOPPED
 * hands it back; its consumer (a writer thread) and its owner are the
 * caller's. */
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

/* ---- talker detection (mixer/talk.c) ------------------------------------ */

#define MIXER_FRAME_MS 20

/* Levels are the RMS of a frame relative to full scale (32768): a
 * full-scale square wave is 0 dBFS, a full-scale sine -3 dBFS, digital
 * silence TALK_SILENCE_DB. A zero field means its default. */
struct talk_params {
	int on_db;	      /* start above this level; default -40 */
	int off_db;	      /* stop below this level; default -50 */
	unsigned attack_ms;   /* above on_db this long to start; default 40 */
	unsigned hangover_ms; /* below off_db this long to stop; default 600 */
};

#define TALK_SILENCE_DB (-127)

/* One participant's detector: plain data, one update per 20 ms frame. */
struct talk {
	unsigned attack_frames, hangover_frames;
	int on_db, off_db;
	unsigned run; /* frames in a row towards a change */
	bool talking;
	int level_db;	/* of the last frame */
	int changed_db; /* of the frame that made the last change */
};

struct talk_params talk_params_default(void);
/* Gives zero fields their default; -EINVAL unless
 * TALK_SILENCE_DB <= off_db <= on_db <= 0. */
int talk_params_resolve(struct talk_params *p);
/* p as resolved by talk_params_resolve(); starts not talking. */
void talk_init(struct talk *t, const struct talk_params *p);
/* Measures one MIXER_FRAME_MS frame of n samples; true when t->talking
 * changed. Any thread, on a detector it owns. */
bool talk_update(struct talk *t, const int16_t *pcm, size_t n);

/* ---- the mixer ----------------------------------------------------------- */

struct mixer_params {
	char room[72];		 /* for logs */
	uint32_t rate_hz;	 /* room rate: 8000, 16000 or 48000 */
	int notify_fd;		 /* eventfd written when events are queued */
	struct talk_params talk; /* zero fields: defaults */
};

#define MIXER_GAIN_MIN_DB (-24)
#define MIXER_GAIN_MAX_DB 24

/* A participant's controls; all zero: heard and hearing, at 0 dB. */
struct mixer_controls {
	bool muted;	       /* not mixed: nobody hears it; it hears all */
	bool deaf;	       /* sent silence, with no CSRC */
	int8_t talk_gain_db;   /* on what it says, clamped to -24..+24 */
	int8_t listen_gain_db; /* on what it hears, clamped to -24..+24 */
};

/* The recording tap: every tick, the room's full mix (what a participant
 * who does not contribute hears, sat16 of the sum of all contributors) as
 * one element of a queue made with
 *   spscq_new(&q, frames, sizeof(struct mixer_rec_frame)).
 * The mixer never blocks on it: when the queue is full the frame is
 * dropped and counted, and seq moves on all the same (also over ticks the
 * mixer missed), so a gap in seq is that many frames of lost time. */
#define MIXER_REC_MAX_SAMPLES (48000 / 1000 * MIXER_FRAME_MS)

struct mixer_rec_frame {
	uint32_t seq;	    /* 0 for the first tick after MIXER_REC_START */
	uint32_t n_samples; /* rate_hz / 1000 * MIXER_FRAME_MS */
	int16_t pcm[MIXER_REC_MAX_SAMPLES];
};

struct spscq; /* core/core.h */

/* A prompt or tone (mixer/play.c): mono PCM at the room rate. The caller
 * owns it and keeps it, unchanged, until the mixer is freed (the focus
 * keeps its clips for the life of the process); the mixer only reads it. */
struct mixer_clip {
	const int16_t *pcm;
	size_t n_samples;
	uint32_t
	    rate_hz; /* a clip at another rate than the room's is ignored */
};

/* MIXER_PLAY's part_id for a clip the whole room hears. Participant ids
 * start at 1. */
#define MIXER_ROOM 0

/* One clip to play: to one participant, over whatever it hears (also when
 * deaf), or to the room (part_id MIXER_ROOM): to every participant who is
 * not deaf, except except_id. */
struct mixer_play {
	const struct mixer_clip *clip;
	uint32_t tag;	    /* comes back in MIXER_EV_PLAYED */
	bool append;	    /* after the clips queued, else instead of them */
	bool loop;	    /* over and over, until stopped or replaced */
	uint32_t except_id; /* to the room: not to this participant */
};

enum mixer_cmd_kind {
	MIXER_ADD,     /* stream, controls; part_id chosen by the caller */
	MIXER_REMOVE,  /* stream comes back in MIXER_EV_REMOVED */
	MIXER_UPDATE,  /* new stream params (hold, resume, codec or address) */
	MIXER_CONTROL, /* new controls */
	/* rec: start filling it. One recording at a time: post another
	 * MIXER_REC_START only after MIXER_EV_REC_STOPPED (a second one while
	 * a queue is held is ignored). */
	MIXER_REC_START,
	MIXER_REC_STOP,	 /* the queue comes back in MIXER_EV_REC_STOPPED */
	MIXER_PLAY,	 /* play: a clip to part_id (or MIXER_ROOM) */
	MIXER_PLAY_STOP, /* whatever part_id (or MIXER_ROOM) is playing */
};

struct mixer_cmd {
	enum mixer_cmd_kind kind;
	uint32_t part_id;
	struct stream *stream;		/* MIXER_ADD */
	struct stream_params params;	/* MIXER_UPDATE */
	struct mixer_controls controls; /* MIXER_ADD, MIXER_CONTROL */
	struct spscq *rec;		/* MIXER_REC_START */
	struct mixer_play play;		/* MIXER_PLAY */
};

enum mixer_event_kind {
	MIXER_EV_REMOVED, /* stream handed back */
	MIXER_EV_TALKING, /* talking started or stopped */
	/* rec handed back: the mixer no longer touches it. Also after
	 * mixer_stop() for a queue still held or a MIXER_REC_START never
	 * applied, so every queue given comes back exactly once. */
	MIXER_EV_REC_STOPPED,
	MIXER_EV_DTMF, /* the participant pressed a key (digit) */
	/* What was queued for the participant has played out (not after a
	 * loop, a MIXER_PLAY_STOP or a replacement); tag: the last clip's. */
	MIXER_EV_PLAYED,
};

/* A participant reported talking always gets a talking=false event before
 * its MIXER_EV_REMOVED. Detection runs on what the participant sends, muted
 * or not; a participant whose packets stop counts as silent. */
struct mixer_event {
	enum mixer_event_kind kind;
	uint32_t part_id;
	struct stream *stream; /* MIXER_EV_REMOVED */
	bool talking;	       /* MIXER_EV_TALKING */
	int level_db;	       /* MIXER_EV_TALKING: of the deciding frame */
	struct spscq *rec;     /* MIXER_EV_REC_STOPPED */
	struct digit digit;    /* MIXER_EV_DTMF */
	uint32_t tag;	       /* MIXER_EV_PLAYED */
};

/* Tick durations: tick_hist[i] counts ticks that took at most
 * mixer_tick_hist_bounds_us[i] (and more than the bound before); the last
 * bucket counts the slower ones. Not cumulative. */
#define MIXER_TICK_HIST_N 8
extern const uint32_t mixer_tick_hist_bounds_us[MIXER_TICK_HIST_N - 1];

struct mixer_stats {
	uint64_t ticks, late_ticks;
	uint64_t tick_ns_max, tick_ns_sum;
	uint64_t late_ns_max; /* worst start of a tick after its deadline */
	unsigned participants;
	uint64_t tick_hist[MIXER_TICK_HIST_N];
	uint64_t rec_frames, rec_dropped; /* recording frames queued, lost */
};

struct mixer;

/* -EINVAL for a rate other than those above or bad talk params. */
int mixer_start(struct mixer **out, const struct mixer_params *p);
/* Stops the thread and hands every stream still inside back as
 * MIXER_EV_REMOVED events through mixer_poll() (after a talking=false for
 * a participant reported talking): call mixer_poll() until it returns
 * -EAGAIN, then mixer_free(). */
void mixer_stop(struct mixer *m);
void mixer_free(struct mixer *m); /* NULL-safe; after mixer_stop */
/* -ENOSPC when the command queue is full; -EINVAL for an ADD without a
 * stream, a REC_START without a queue or a PLAY without a clip. */
int mixer_post(struct mixer *m, const struct mixer_cmd *cmd);
/* Takes one event; -EAGAIN when none. */
int mixer_poll(struct mixer *m, struct mixer_event *ev);
/* Figures updated by the mixer thread; read with relaxed atomics. */
void mixer_get_stats(const struct mixer *m, struct mixer_stats *out);

#endif
