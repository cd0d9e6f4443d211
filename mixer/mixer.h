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
	/* The limiter's two passes over a mix x[i] = acc[i] - own[i] (in
	 * int32, wrapping; own NULL reads as zeros). peaks: pk[b] = |x| at
	 * its largest in block b, for each of the n / block whole blocks. */
	void (*peaks)(uint32_t *pk, const int32_t *acc, const int16_t *own,
		      size_t n, size_t block);
	/* ramp: out[i] = rnd(clamp(x[i] * gain_i)), the gain moving
	 * linearly in each block b from g[b] to g[b + 1]: for sample j of
	 * the block, g[b] + (g[b + 1] - g[b]) * (1.0f / block) * (j + 1), in
	 * float, each step rounded as written; clamp to -32768..32767, rnd
	 * to the nearest, ties to even. n a multiple of block. */
	void (*ramp)(int16_t *out, const int32_t *acc, const int16_t *own,
		     size_t n, size_t block, const float *g);
	/* The sum of x[i]^2: a frame's energy, for talker detection. */
	uint64_t (*sumsq)(const int16_t *x, size_t n);
};

extern const struct mixk mixk_scalar;
extern const struct mixk mixk_sse2;
extern const struct mixk mixk_avx2;

/* The best variant this CPU runs; TUTTI_MIXK=scalar|sse2|avx2 forces one. */
const struct mixk *mixk_best(void);
/* Every variant this CPU can run, scalar first; returns the count. */
size_t mixk_available(const struct mixk **out, size_t cap);

/* ---- the limiter (mixer/limit.c) ----------------------------------------- */

/* Levels as sample magnitudes: the soft knee starts at -3 dBFS and bends
 * the output towards -0.45 dBFS, which it never reaches. */
#define LIMIT_KNEE	23170
#define LIMIT_CEILING	31130
#define LIMIT_BLOCKS	20 /* per 20 ms frame: 1 ms each */
#define LIMIT_MAX_BLOCK 48 /* samples in 1 ms at 48 kHz */

/* One listener's limiter (or the shared mix's): plain data, copied as is
 * when a listener moves from the shared mix to its own. */
struct limit {
	float g;		       /* the gain the next frame starts from */
	uint32_t held_peak;	       /* of held */
	int32_t held[LIMIT_MAX_BLOCK]; /* the input's last 1 ms, played next */
};

/* Passes the mix through (gain 1), nothing held. */
void limit_init(struct limit *l);
/* out = the limited mix acc - own (own NULL: acc), one block late, with a
 * listen gain pre (1 for none) applied before the knee; n = 20 ms at a room
 * rate (8000, 16000 or 48000 Hz). Any thread, on a limiter it owns. */
void limit_run(struct limit *l, const struct mixk *k, int16_t *out,
	       const int32_t *acc, const int16_t *own, size_t n, float pre);
/* The gain the knee wants for a block that peaks at peak, pre included. */
float limit_gain(uint32_t peak, float pre);

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
	/* Mean square relative to full scale, smoothed over about 160 ms
	 * (1/8 of the way to each frame's): what speaker selection ranks. */
	float power;
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
/* As talk_update, for a frame of n samples whose squares sum to sumsq
 * (struct mixk's sumsq: the mixer measures with its SIMD kernel). */
bool talk_update_energy(struct talk *t, uint64_t sumsq, size_t n);
/* As talk_update, for a frame whose level the caller sent (RFC 6464
 * audio level, 0..127 in -dBov) instead of measuring it. */
bool talk_update_level(struct talk *t, unsigned level_dbov);

/* ---- the mixer ----------------------------------------------------------- */

/* The room rate: 8000, 16000 or 48000 Hz. The mixer mixes at the lowest
 * that serves every participant's codec (codec_by_id()->pcm_rate_hz) and
 * changes it, at a tick's boundary and without a click, when they join,
 * leave or change codec (mixer/rate.c); an empty room keeps its rate. */
#define MIXER_MAX_RATE_HZ 48000

struct mixer_params {
	char room[72];		 /* for logs */
	uint32_t rate_hz;	 /* the room rate to start with */
	int notify_fd;		 /* eventfd written when events are queued */
	struct talk_params talk; /* zero fields: defaults */
	unsigned max_speakers;	 /* the loudest talkers mixed; 0: all */
	/* Workers to share big ticks with (NULL: the mixer thread alone),
	 * from the tick that took more than fanout_us (0: MIXER_FANOUT_US)
	 * of work; see mixer/pool.c. */
	struct mixpool *pool;
	uint32_t fanout_us;
	bool pin_rate; /* stay at rate_hz whatever the codecs (to compare) */
	/* Send a tick's packets in one io_uring batch per thread
	 * (rtp/sendq.c) once the room has MIXER_BATCH_PARTS participants,
	 * where the kernel allows; else one sendto() each. */
	bool send_batch;
	/* The mixer thread's SCHED_FIFO priority, 1..99, as rtsched_probe()
	 * allowed; 0: normal priority. */
	unsigned rt_priority;
};

/* Participants from which a room's sends are batched: a smaller room
 * saves too few system calls to be worth its ring (80 KB, a descriptor). */
#define MIXER_BATCH_PARTS 8

/* Participants from which a room's thread waits on their RTP sockets
 * (epoll) and reads each packet as it comes. A smaller room reads them all
 * at its tick instead, just before the pull: one wake-up a tick rather
 * than two or more (docs/benchmarks.md, "Small rooms: read at the
 * tick"). A big room keeps the reads out of its tick, whose duration
 * they would lengthen, and does not ask sockets that are mostly silent
 * (DTX). */
#define MIXER_WATCH_PARTS 8

/* A quarter of the tick: the bound on a tick's duration. */
#define MIXER_FANOUT_US 5000

/* Worker threads shared by every room's mixer (mixer/pool.c): the steps
 * of a tick that are one piece of work per participant fan out to them
 * when the room's tick grows long. Made and freed by the signalling
 * thread, freed after every mixer that uses it has stopped. */
struct mixpool;
/* send_batch: each worker sends through a batch of its own (sendq), as
 * mixer_params.send_batch; a worker's batch leaves before it leaves a job.
 * rt_priority: the workers' SCHED_FIFO priority, as
 * mixer_params.rt_priority. */
int mixpool_new(struct mixpool **out, unsigned workers, bool send_batch,
		unsigned rt_priority);
void mixpool_free(struct mixpool *p); /* NULL-safe */
/* Threads that may run one room's items at once: workers + 1. */
unsigned mixpool_slots(const struct mixpool *p);

/* Whether this process may run the media threads (mixers, workers) under
 * SCHED_FIFO at priority (1..99), tried once on a short-lived thread of
 * its own (mixer/rtsched.c): 0, or the kernel's refusal (-EPERM without
 * CAP_SYS_NICE or a high enough RLIMIT_RTPRIO, -EINVAL out of range).
 * 0 for priority 0. Any thread; the caller's own policy is left alone. */
int rtsched_probe(unsigned priority);

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
 * who does not contribute hears, sat16 of the sum of all contributors),
 * always at MIXER_REC_RATE_HZ whatever the room rate (converted with a
 * delay that stays the same when the room changes rate, so a file spans
 * the changes at one rate, without a seam), as one element of a queue
 * made with
 *   spscq_new(&q, frames, sizeof(struct mixer_rec_frame)).
 * The mixer never blocks on it: when the queue is full the frame is
 * dropped and counted, and seq moves on all the same (also over ticks the
 * mixer missed), so a gap in seq is that many frames of lost time. */
#define MIXER_REC_RATE_HZ     48000
#define MIXER_REC_MAX_SAMPLES (MIXER_REC_RATE_HZ / 1000 * MIXER_FRAME_MS)

struct mixer_rec_frame {
	uint32_t seq;	    /* 0 for the first tick after MIXER_REC_START */
	uint32_t n_samples; /* MIXER_REC_MAX_SAMPLES */
	int16_t pcm[MIXER_REC_MAX_SAMPLES];
};

struct spscq; /* core/core.h */

/* A prompt or tone (mixer/play.c): mono PCM, with the same clip at the
 * other room rates chained through alt. The mixer plays the version at
 * the room's rate, and moves to another at the same point in time when
 * the room changes rate; a room rate with no version plays silence for as
 * long. The caller owns the clips and keeps them, unchanged, until the
 * mixer is freed (the focus keeps its clips for the life of the process);
 * the mixer only reads them. */
struct mixer_clip {
	const int16_t *pcm;
	size_t n_samples;
	uint32_t rate_hz;
	const struct mixer_clip *alt; /* the clip at another rate, or NULL */
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
	MIXER_EV_STATS,	  /* a participant's media figures, about each second */
	/* rec handed back: the mixer no longer touches it. Also after
	 * mixer_stop() for a queue still held or a MIXER_REC_START never
	 * applied, so every queue given comes back exactly once. */
	MIXER_EV_REC_STOPPED,
	MIXER_EV_DTMF, /* the participant pressed a key (digit) */
	/* What was queued for the participant has played out (not after a
	 * loop, a MIXER_PLAY_STOP or a replacement); tag: the last clip's. */
	MIXER_EV_PLAYED,
};

/* A participant's media figures since it joined, from its stream (see
 * struct stream_stats in rtp/rtp.h): discarded includes the malformed. */
struct mixer_part_stats {
	uint64_t packets_in, packets_out, lost, late, discarded, concealed;
	uint64_t fec_recovered; /* lost, decoded from the next one's FEC */
	uint32_t jitter_us;
	uint64_t foreign; /* from another address than the peer's: dropped */
	uint64_t srtp_failed; /* SRTP that did not authenticate: dropped */
	uint64_t malformed;   /* not RTP, or not of what was agreed: dropped */
	uint64_t latched;     /* times the peer's address was latched */
	uint64_t last_rx_ns;  /* a packet last taken from the peer; 0: never */
	uint64_t undecoded;   /* silence not decoded: DTX, CN, quiet levels */
	/* the loss (percent) the Opus encoder serving it codes FEC for
	 * (rtp/fecloss.c); 0: none */
	unsigned fec_loss_pct;
};

/* s's figures. Any thread, on a stream it holds (the signalling thread
 * reads a stream handed back for the last word on a call). */
void mixer_part_stats_of(struct mixer_part_stats *out, const struct stream *s);

/* A participant reported talking always gets a talking=false event before
 * its MIXER_EV_REMOVED. Detection runs on what the participant sends, muted
 * or not; a participant whose packets stop counts as silent. Each
 * participant's MIXER_EV_STATS comes about once a second (a full queue
 * delays it); the last word on a call is its stream's, once handed back. */
struct mixer_event {
	enum mixer_event_kind kind;
	uint32_t part_id;
	union {			       /* by kind */
		struct stream *stream; /* MIXER_EV_REMOVED */
		struct {	       /* MIXER_EV_TALKING */
			bool talking;
			int level_db; /* of the deciding frame */
		};
		struct spscq *rec;	       /* MIXER_EV_REC_STOPPED */
		struct mixer_part_stats stats; /* MIXER_EV_STATS */
		struct digit digit;	       /* MIXER_EV_DTMF */
		uint32_t tag;		       /* MIXER_EV_PLAYED */
	};
};

/* Tick durations: tick_hist[i] counts ticks that took at most
 * mixer_tick_hist_bounds_us[i] (and more than the bound before); the last
 * bucket counts the slower ones. Not cumulative. */
#define MIXER_TICK_HIST_N 8
extern const uint32_t mixer_tick_hist_bounds_us[MIXER_TICK_HIST_N - 1];

struct mixer_stats {
	/* late: started a tick or more after their deadline, caught up or
	 * not; missed: late and not caught up, a gap in what was sent. */
	uint64_t ticks, late_ticks, missed_ticks;
	uint64_t tick_ns_max, tick_ns_sum;
	uint64_t late_ns_max; /* worst start of a tick after its deadline */
	unsigned participants;
	uint64_t tick_hist[MIXER_TICK_HIST_N];
	uint64_t rec_frames, rec_dropped; /* recording frames queued, lost */
	/* The participants' packets, summed as their statistics are sent
	 * (about each second) and when they leave. */
	uint64_t packets_in, packets_out, packets_lost, concealed;
	uint64_t fec_recovered;
	uint64_t undecoded; /* silence not decoded: DTX, CN, quiet levels */
	/* Packets dropped unheard: from a stranger's address (RTP bleed),
	 * SRTP that did not authenticate, and malformed ones. */
	uint64_t dropped_foreign, dropped_srtp, dropped_malformed;
	uint64_t encodes;      /* packets encoded: own mixes and shared ones */
	uint64_t fanned_ticks; /* shared with the pool's workers */
	uint32_t rate_hz;      /* the room rate now */
	uint64_t rate_changes;
};

struct mixer;

/* -EINVAL for a rate other than 8000, 16000, 48000 or bad talk params. */
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
