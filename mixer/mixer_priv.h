/* mixer_priv.h: the mixer's insides, shared by mixer.c (lifecycle, queues,
 * the thread loop), tick.c (one 20 ms tick), cmds.c (the signalling
 * thread's commands), events.c (events back to it) and gain.c (controls).
 * Not for other folders.
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
#define MIXER_MAX_FRAME_N	(MIXER_MAX_RATE_HZ / 50)

struct part;

/* One shared encoder: a codec and packet time, and this tick's packets
 * (shared.c). */
#define MIXER_MAX_GROUPS 16

struct encgroup {
	enum codec_id codec;
	uint32_t ptime_ms;
	struct txenc *enc;
	uint64_t tick; /* the tick it last encoded */
	struct txenc_out out;
};

/* What one participant (or the room) is playing (play.c). */
#define PLAY_QUEUE 8

struct play_item {
	const struct mixer_clip *clip;
	uint32_t tag;
	bool loop;
};

struct play {
	unsigned head, count; /* count: read every tick */
	size_t pos;	      /* in the clip at head */
	bool done;	      /* played out: MIXER_EV_PLAYED to queue */
	uint32_t done_tag;
	uint32_t except_id; /* the room's: who does not hear it */
	struct play_item q[PLAY_QUEUE];
};

/* What an epoll event points at: one of a participant's two sockets. */
struct watch {
	struct part *part;
	bool rtcp;
};

#define GAIN_UNITY 4096 /* 0 dB in Q12 */

/* A speaker entering or leaving the mix mid-utterance, over one tick. */
enum fade { FADE_NONE = 0, FADE_IN, FADE_OUT };

/* The fields every tick reads for every participant come first, together
 * (a room of 2,000 evicts a participant's lines between the tick's passes
 * over them: each line read is a miss), then what only speakers, rate
 * changes and statistics use. */
struct part {
	uint32_t id;
	struct mixer_controls ctl; /* clamped */
	struct stream *stream;
	int32_t talk_q12, listen_q12; /* from ctl */
	struct talk talk;	      /* what the detector says */
	const int16_t *frame; /* this tick's, at the codec rate; NULL: none */
	size_t frame_n;
	struct encgroup *group; /* the shared encoder of its format */
	unsigned fec_loss_pct;	/* its stream's stream_fec_loss, as last seen */
	unsigned stats_in;	/* ticks until its statistics are sent */
	bool lim_own;	    /* it heard its own mix last tick, not the shared */
	bool reported;	    /* talking, as last queued in an event */
	bool received;	    /* this tick's frame carries its audio */
	bool selected;	    /* a speaker (select.c) */
	bool contributing;  /* in this tick's mix */
	bool digits;	    /* its stream held a key press at the pull */
	uint8_t level_dbov; /* its frame's level in the mix (levels.c) */
	enum fade fade;	    /* this tick's, on its frame */
	struct play play;   /* prompts for this participant (queue last) */

	struct watch w_rtp, w_rtcp;
	struct limit lim;      /* its own mix's, when lim_own */
	struct limit lim_next; /* rate.c: lim at the next rate */
	bool lim_next_set;     /* it was run this tick */
	int16_t *pcm_next;     /* rate.c: this tick's frame at the next rate */
	struct mixer_part_stats summed; /* what the room totals hold of it */
	struct part *next; /* in the list of removals not yet handed back */
	int16_t pcm[];	   /* this tick's frame, frame_n samples (room for
			      MIXER_MAX_FRAME_N, then pcm_next's as many) */
};

struct mixer {
	struct mixer_params p;
	size_t frame_n; /* samples per 20 ms at the room rate */
	const struct mixk *k;
	struct spscq *cmds, *events;
	int epfd, tfd;
	/* the RTP sockets are in epfd (MIXER_WATCH_PARTS); else they are
	 * read at the tick. RTCP sockets always are: RTCP comes seldom. */
	bool rtp_watched;
	pthread_t thread;
	bool started, stopped;
	atomic_bool stop;

	/* mixer thread */
	struct part **parts, **contribs;
	size_t n_parts, n_contribs, cap_parts;
	int32_t *acc;
	int16_t *shared;
	int16_t *own; /* a listener's own mix: frame_n per slot (pool.c) */
	/* the mixer thread's send batch (slot 0), made in cmds.c once the
	 * room is big enough (MIXER_BATCH_PARTS); tried once */
	struct sendq *sendq;
	bool sendq_tried;
	int16_t *shared_tones;	   /* shared, the room's tones over it */
	const int16_t *shared_out; /* the shared encode's: either (play.c) */
	struct limit shared_lim, shared_lim_was;  /* after, before this tick */
	struct encgroup groups[MIXER_MAX_GROUPS]; /* shared encoders */
	size_t n_groups;
	/* a listener's FEC loss or the members changed (shared.c) */
	bool fec_dirty;
	uint64_t tick_no;	       /* ticks sent, from 1 */
	struct part *gone, *gone_tail; /* removed, event not yet queued */
	uint32_t challenger;	       /* select.c: who would take a place */
	unsigned challenge_ticks;      /* and for how long it has been louder */
	struct mixer_cmd held;	       /* an ADD to retry (out of memory) */
	bool has_held;
	uint64_t deadline_ns;	/* of the next timer expiration */
	bool queued;		/* events queued since notify_fd was written */
	struct spscq *rec;	/* the recording tap, NULL when none */
	struct spscq *rec_gone; /* stopped, MIXER_EV_REC_STOPPED not queued */
	uint32_t rec_seq;	/* of the next frame */
	struct mixer_rec_frame rec_frame; /* built here, copied into rec */
	struct play room_play;		  /* tones for the room (play.c) */
	int16_t *room_frame;		  /* this tick's 20 ms of them */
	bool room_sounds; /* room_frame holds something this tick */
	bool fan_out;	  /* this tick's per-participant steps use the pool */
	uint64_t fanout_ns;
	/* send_mixes' for its items: every speaker as CSRCs, the time */
	uint32_t csrc_all[RTPPKT_MAX_CSRC];
	unsigned n_csrc_all;
	uint8_t level_all[RTPPKT_MAX_CSRC]; /* their levels (levels.c) */
	uint64_t send_ns;
	uint64_t tick_ns; /* this tick's time, for the pull's items */

	/* The room rate (rate.c): m->p.rate_hz and frame_n are the rate
	 * mixed at. A change is prepared at the end of cmds_apply(), the
	 * next rate's converters fed for one tick (rate_warm) and committed
	 * at the start of the next tick. */
	uint32_t plan_hz;    /* being prepared, a batch of streams a tick */
	size_t plan_at;	     /* the next participant to prepare */
	uint32_t next_hz;    /* prepared, warmed this tick; 0: none */
	bool rate_dirty;     /* members or codecs changed: recompute */
	bool rate_warmed;    /* rate_warm ran this change */
	int32_t *acc_next;   /* the sum at next_hz */
	int16_t *mix_next;   /* a listener's mix at next_hz */
	int16_t *tones_next; /* the shared mix at next_hz, tones over it */
	struct limit shared_lim_next;
	struct resamp *rec_rs, *rec_rs_next; /* room rate to the recording's */

	_Atomic uint64_t ticks, late_ticks, missed_ticks, tick_ns_max;
	_Atomic uint64_t tick_ns_sum;
	_Atomic uint64_t late_ns_max;
	_Atomic unsigned participants;
	_Atomic uint64_t tick_hist[MIXER_TICK_HIST_N];
	_Atomic uint64_t rec_frames, rec_dropped;
	_Atomic uint64_t packets_in, packets_out, packets_lost, concealed;
	_Atomic uint64_t fec_recovered, undecoded;
	_Atomic uint64_t dropped_foreign, dropped_srtp, dropped_malformed;
	_Atomic uint64_t encodes;
	_Atomic uint64_t fanned_ticks;
	_Atomic uint32_t rate_hz;
	_Atomic uint64_t rate_changes;
};

/* Item i of a job, on the thread of the given slot (0: the mixer thread,
 * 1..workers); pool.c. */
typedef void (*mixpool_fn)(void *ctx, size_t i, unsigned slot);
/* Runs fn for every item 0..n-1, on this thread and on any free worker,
 * and returns when all are done. With no pool, or few items, here. */
void mixpool_run(struct mixpool *p, mixpool_fn fn, void *ctx, size_t n);
/* The send batch of a worker's slot (1..workers), NULL when it has none. */
struct sendq *mixpool_sendq(const struct mixpool *p, unsigned slot);

/* Puts the calling thread under SCHED_FIFO at priority, or leaves it
 * alone for 0; the kernel's refusal as a negative errno (rtsched.c). Each
 * media thread calls it first thing, with what rtsched_probe() allowed. */
int rtsched_enter(unsigned priority);

/* Builds a mixer whose thread is not started (mixer.c): mixer_start()
 * starts it; tests run tick_run() themselves instead. */
int mixer_create(struct mixer **out, const struct mixer_params *p);

/* Runs one tick at now_ns (tick.c): commands, pull, detect, sum, record,
 * send, events. */
void tick_run(struct mixer *m, uint64_t now_ns);

/* Grows the per-participant arrays to hold at least n (cmds.c). */
int cmds_reserve(struct mixer *m, size_t n);
/* Applies the commands queued by the signalling thread (cmds.c). */
void cmds_apply(struct mixer *m);

/* Queues ev and remembers to write notify_fd; false when the queue is
 * full (events.c). */
bool events_push(struct mixer *m, const struct mixer_event *ev);
/* Queues a MIXER_EV_TALKING for every participant whose detector differs
 * from what was last reported; a full queue leaves the rest for the next
 * tick (events.c). */
void events_talking(struct mixer *m);
/* Queues MIXER_EV_REMOVED for removed participants, each after a
 * talking=false if it was reported talking; what the queue does not take
 * waits for the next tick (events.c). */
void events_hand_back(struct mixer *m);
/* Queues MIXER_EV_REC_STOPPED for a stopped recording; a full queue
 * leaves it for the next tick (events.c). */
void events_rec_stopped(struct mixer *m);
/* Queues MIXER_EV_DTMF for the key presses participants made; a full
 * queue leaves them in their streams for the next tick (events.c). */
void events_digits(struct mixer *m, uint64_t now_ns);
/* Writes notify_fd if anything was queued since the last call (events.c). */
void events_notify(struct mixer *m);
/* After the thread has ended: the next event about what it still held;
 * -EAGAIN when nothing is left (events.c). */
int events_leftover(struct mixer *m, struct mixer_event *ev);

/* Sends each participant's statistics about once a second, in turn, and
 * at the same moment lets its stale loss reports go (pstats.c). */
void pstats_tick(struct mixer *m, uint64_t now_ns);
/* Adds what pt's stream counted since the last call to the room totals;
 * on its removal, and from the signalling thread for what the stopped
 * thread still held (pstats.c). */
void pstats_sum(struct mixer *m, struct part *pt);
/* The first send of a new participant's statistics, and its stream's
 * figures so far as already summed (pstats.c). pt->stream must be set. */
void pstats_init(struct part *pt);

/* Chooses this tick's speakers and fills m->contribs with them; sets each
 * one's fade, for entering or leaving mid-utterance (select.c). */
void select_speakers(struct mixer *m);

/* Points pt->group at the shared encoder for its stream's format, made if
 * need be; NULL when none can be (shared.c). Call when the stream joins or
 * changes format. May allocate: from cmds.c only. */
void shared_prepare(struct mixer *m, struct part *pt);
/* Sends pt this tick's shared mix through the shared encoder of its
 * format (encoding it for the first listener); false when there is none
 * and pt must encode its own (shared.c). */
bool shared_send(struct mixer *m, struct part *pt, struct sendq *q,
		 const uint32_t *csrc, unsigned n_csrc, uint64_t now_ns);
/* Encodes this tick's shared mix for pt's format now, if it has one and
 * it is not encoded yet: before a fanned out send (pool.c), after which
 * shared_send() only reads the encoder's packets. */
void shared_encode(struct mixer *m, struct part *pt);
void shared_free(struct mixer *m);
/* After pt's stream read RTCP: notes whether its FEC loss changed. */
void shared_fec_heard(struct mixer *m, struct part *pt);
/* Sets each shared encoder's FEC loss to the worst of its listeners'
 * when anything changed (shared_fec_heard, members); from cmds.c. */
void shared_fec_apply(struct mixer *m);
/* The FEC loss of the encoder that served pt on the last tick. */
unsigned shared_fec_loss_of(const struct part *pt);

/* Measures this tick's speakers' levels in the mix, and lays them out
 * for csrc_all (levels.c): after csrc_all is made, before any send. */
void levels_measure(struct mixer *m);
/* Hands pt's stream the levels of csrc (n_csrc of them, the CSRC list of
 * its next push), when it negotiated RFC 6465 levels (levels.c). */
void levels_send(const struct mixer *m, struct part *pt, const uint32_t *csrc,
		 unsigned n_csrc);

/* Applies a MIXER_PLAY or MIXER_PLAY_STOP (play.c). */
void play_cmd(struct mixer *m, const struct mixer_cmd *c);
/* Renders this tick's 20 ms of the room's clips into room_frame and sets
 * shared_out: the shared mix, or shared_tones while they play (play.c).
 * After the recording has taken the shared mix. */
void play_room(struct mixer *m);
/* What pt hears this tick: mix, with its own clips and the room's over
 * it; the result may be in buf (frame_n samples; mix may be buf).
 * Advances pt's clips and nothing else: items of a fanned out step
 * (pool.c) call it at once (play.c). */
const int16_t *play_over(const struct mixer *m, struct part *pt,
			 const int16_t *mix, int16_t *buf);
/* True when what pt hears of play.c's this tick is not what the shared
 * encode carries: clips of its own, or, while the room's tones play (which
 * the shared encode carries), being the one they are about. Such a
 * listener cannot share the encode (play.c). */
bool play_own(const struct mixer *m, const struct part *pt);
/* Queues MIXER_EV_PLAYED for participants whose clips played out; a full
 * queue leaves them for the next tick (play.c). */
void play_events(struct mixer *m);

/* The room rate (rate.c). rate_commit, first in a tick, makes a prepared
 * change; rate_plan, after the commands, prepares one when the members'
 * codecs want another rate (at once when the room was empty before
 * them, was_empty); rate_warm, after the shared mix is made and before
 * play_room(), feeds the next rate's converters and limiters this tick's
 * audio at that rate. May allocate: rate_commit and rate_plan only. */
void rate_commit(struct mixer *m);
void rate_plan(struct mixer *m, bool was_empty);
void rate_warm(struct mixer *m);

/* Adds to out (n samples at hz) what pt (NULL: the room) will play this
 * tick, without moving on: for rate_warm, at the next rate (play.c). */
void play_peek(const struct mixer *m, const struct part *pt, int16_t *out,
	       size_t n, uint32_t hz);
/* Moves every clip's place from the old rate's samples to the new's. */
void play_rate(struct mixer *m, uint32_t old_hz, uint32_t new_hz);

/* Q12 factor of db, clamped to the gain range (gain.c). */
int32_t gain_q12(int db);
/* out[i] = sat16(in[i] * q12 / 4096), rounded; out may be in (gain.c). */
void gain_apply(int16_t *out, const int16_t *in, size_t n, int32_t q12);
/* Fades pcm linearly in (from 1/n up to 1) or out (down to 0) over its n
 * samples (gain.c). */
void gain_fade(int16_t *pcm, size_t n, bool in);
/* Clamps c into pt->ctl and derives its gains (gain.c). */
void gain_set_controls(struct part *pt, const struct mixer_controls *c);

#endif
