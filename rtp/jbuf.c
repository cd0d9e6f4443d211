/* jbuf.c: one participant's adaptive jitter buffer.
 *
 * Why our own and not SpeexDSP's (which tutti used until it measured it):
 * SpeexDSP's buffer walks its 200 packet slots on every put (twice) and
 * every get, and allocates and frees each packet's copy. In a room of
 * 1,000 G.711 callers that was 18 % of the bridge's CPU, about 2 µs per
 * caller and tick with the slots out of cache, more than decoding and
 * talker detection together. Here a packet goes to the slot its
 * timestamp names (a ring of a power of two slots, more than the frames
 * max_ms holds), a get looks at one slot, and the delay estimate
 * (rtp/jdelay.c) notes an arrival with one increment. The estimate keeps
 * what SpeexDSP's did: delay counted in pulls, a few percent of late
 * packets allowed rather than a deeper buffer, sub-windows of arrivals.
 *
 * Around the ring, the buffer:
 *   - bounds memory and delay: a packet whose timestamp lies more than
 *     max_ms ahead of the playout point is dropped, and a run of such
 *     packets means the sender's timeline moved, so we resynchronise;
 *   - resynchronises on a new SSRC, a sequence jump (RFC 3550 A.1's
 *     MAX_DROPOUT) or a timestamp jump of seconds either way;
 *   - refuses duplicates (by sequence number) and packets whose time has
 *     already been played out, counting both. A late packet still counts
 *     in the delay estimate, so that the buffer deepens, but is never
 *     played;
 *   - says EMPTY rather than MISSING when nothing has arrived yet, or when
 *     the sender has been silent for longer than concealment is worth;
 *   - counts the frames it jumps over when it shortens its delay
 *     (st.skipped): received, never played.
 * A sender in DTX or CN sends a packet now and then (Opus: every 400 ms)
 * and nothing between. jbuf_pause() stops the buffer's clock there: the
 * next packet is rebased by the frames that went by (or to the playout
 * point, never before it), so the buffer sees a stream without the gap
 * and keeps what it learnt of the network.
 * Timestamps are rebased so that the first packet after a (re)start sits
 * at JBUF_TS0: RTP timestamp wrap-around is then invisible here.
 *
 * A late packet is never played, but one that follows the last frame
 * played with only losses between can still be taken in by a decoder
 * that keeps state (G.722's ADPCM), before the next packet:
 * jbuf_late_follows() says which, each late one in its turn.
 *
 * Opus' in-band FEC needs the packet after a missing frame before its
 * turn: jbuf_peek_next() shows it from its slot, when it is here (not
 * after a frame inserted to deepen the buffer: that frame is only late,
 * and still comes).
 *
 * Each packet is taken to cover frame_ts ticks; jbuf_get returns one
 * packet per call and must be called once per frame_ts of playout. A sender
 * whose ptime differs from ours needs frame_ts set to its ptime and a PCM
 * FIFO in the caller. A packet whose timestamp is not a whole number of
 * frames from the playout point is played in the frame it falls in, and
 * the playout follows it.
 *
 * A struct jbuf belongs to its stream, thus to the mixer thread that pulls
 * it; it is not thread-safe. */
#include "rtp/jdelay.h"
#include "rtp/rtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JBUF_TS0	   (1u << 20) /* local timestamp of the first packet */
#define JBUF_MAX_DROPOUT   3000	      /* sequence jump that means a restart */
#define JBUF_SEQ_WINDOW	   64	      /* sequence numbers remembered for dups */
#define JBUF_RUNAWAY_MS	   3000	      /* timestamp jump that means a restart */
#define JBUF_AHEAD_RESYNC  8	      /* consecutive too-early packets */
#define JBUF_CONCEAL_MS	   100	      /* then EMPTY rather than MISSING */
#define JBUF_LOST_RESET	   20	      /* misses after which a put restarts */
#define JBUF_MAX_LATE_RATE 4	      /* percent of late packets allowed */
#define JBUF_MAX_FRAMES	   150	      /* frames max_ms may hold */
#define JBUF_SLOT_MIN	   192	      /* bytes a slot's copy starts with */

struct jbuf_slot {
	uint32_t ts; /* local */
	uint32_t tag;
	uint16_t len, cap;
	bool used;
	uint8_t *data; /* cap bytes, grown to the largest payload seen */
};

struct jbuf {
	uint32_t frame_ts, max_ts, runaway_ts;
	unsigned conceal_frames;
	bool synced;  /* a packet has set the timeline since the reset */
	bool playing; /* jbuf_get has run since the timeline was set */
	bool idle;    /* nothing came for long: left alone */
	bool pause_asked, paused; /* jbuf_pause: asked, clock stopped */
	bool keep_next;		  /* jbuf_keep_next: FEC peeks wanted */
	uint32_t paused_frames;	  /* gets while paused */
	uint32_t skipped_new;	  /* frames skipped since jbuf_take_skipped */
	uint32_t base;		  /* RTP timestamp - base = local timestamp */
	uint32_t ptr;		  /* local: first packet, then next to play */
	uint32_t ssrc;
	uint16_t max_seq;	     /* highest sequence number seen */
	uint64_t seen;		     /* bit i: max_seq - i was taken */
	unsigned n_missing, n_ahead; /* consecutive */
	unsigned n_held;	     /* slots in use */
	unsigned insert;	     /* frames still to insert */
	unsigned margin; /* frames taken off every arrival's slack */
	uint32_t tag;	 /* of the packet last got */
	struct jbuf_stats st;
	bool hold_armed, held; /* jbuf_hold_for_fec: asked, done */
	bool lost_valid;       /* the last get was a frame lost ... */
	uint32_t lost_ts;      /* ... at this local time */
	bool follow_valid;     /* only losses since the last frame played: */
	uint32_t follow_ts;    /* the local time just after it */
	struct jdelay delay;
	uint32_t mask; /* slots - 1 */
	struct jbuf_slot *slot;
};

static int32_t ts_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

int jbuf_new(struct jbuf **out, uint32_t clock_hz, uint32_t frame_ts,
	     uint32_t max_ms)
{
	uint64_t max_ts = (uint64_t)max_ms * clock_hz / 1000;
	uint64_t runaway_ms =
	    max_ms * 2ull > JBUF_RUNAWAY_MS ? max_ms * 2ull : JBUF_RUNAWAY_MS;
	uint64_t runaway_ts = runaway_ms * clock_hz / 1000;
	uint64_t conceal_ts = (uint64_t)JBUF_CONCEAL_MS * clock_hz / 1000;
	struct jbuf *jb;
	uint32_t slots = 1;

	if (!out || !clock_hz || !frame_ts || max_ts < frame_ts ||
	    max_ts / frame_ts > JBUF_MAX_FRAMES || runaway_ts >= JBUF_TS0 ||
	    runaway_ts >= INT32_MAX / 4)
		return -EINVAL;
	/* Every frame from the playout point to max_ts ahead has a slot of
	 * its own, and one more for a packet off the frame grid. */
	while (slots < max_ts / frame_ts + 2)
		slots <<= 1;
	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return -ENOMEM;
	jb->slot = calloc(slots, sizeof(*jb->slot));
	if (!jb->slot) {
		free(jb);
		return -ENOMEM;
	}
	jb->mask = slots - 1;
	jb->frame_ts = frame_ts;
	jb->max_ts = (uint32_t)max_ts;
	jb->runaway_ts = (uint32_t)runaway_ts;
	jb->conceal_frames = (unsigned)((conceal_ts + frame_ts - 1) / frame_ts);
	jb->delay.late_pct = JBUF_MAX_LATE_RATE;
	*out = jb;
	return 0;
}

void jbuf_free(struct jbuf *jb)
{
	if (!jb)
		return;
	for (uint32_t i = 0; i <= jb->mask; i++)
		free(jb->slot[i].data);
	free(jb->slot);
	free(jb);
}

static struct jbuf_slot *slot_of(const struct jbuf *jb, uint32_t ts)
{
	return &jb->slot[(ts / jb->frame_ts) & jb->mask];
}

static void slot_clear(struct jbuf *jb, struct jbuf_slot *s)
{
	if (s->used)
		jb->n_held--;
	s->used = false;
}

/* The margin of jbuf_hold_for_fec stays, as the frame it added does. */
void jbuf_reset(struct jbuf *jb)
{
	if (!jb)
		return;
	for (uint32_t i = 0; i <= jb->mask; i++)
		jb->slot[i].used = false;
	jb->n_held = 0;
	jb->insert = 0;
	jdelay_reset(&jb->delay);
	jb->synced = false;
	jb->playing = false;
	jb->idle = false;
	jb->pause_asked = false;
	jb->paused = false;
	jb->n_missing = 0;
	jb->n_ahead = 0;
	jb->lost_valid = false;
	jb->follow_valid = false;
}

int jbuf_keep_next(struct jbuf *jb)
{
	if (!jb)
		return -EINVAL;
	jb->keep_next = true;
	return 0;
}

void jbuf_hold_for_fec(struct jbuf *jb)
{
	if (jb && jb->keep_next && !jb->held)
		jb->hold_armed = true;
}

static bool kept(const struct jbuf *jb, uint32_t ts)
{
	const struct jbuf_slot *s = slot_of(jb, ts);
	return s->used && s->ts == ts;
}

int jbuf_peek_next(struct jbuf *jb, uint8_t *buf, size_t cap, size_t *len)
{
	if (!jb || !buf || !len || !jb->keep_next || !jb->lost_valid)
		return -ENOENT;
	uint32_t ts = jb->lost_ts + jb->frame_ts;
	const struct jbuf_slot *s = slot_of(jb, ts);
	if (!kept(jb, ts) || s->len > cap || s->len > JBUF_PEEK_BYTES)
		return -ENOENT;
	memcpy(buf, s->data, s->len);
	*len = s->len;
	return 0;
}

uint32_t jbuf_tag(const struct jbuf *jb)
{
	return jb ? jb->tag : 0;
}

void jbuf_stats(const struct jbuf *jb, struct jbuf_stats *out)
{
	if (jb && out)
		*out = jb->st;
}

/* Sets the timeline from p: its timestamp becomes JBUF_TS0. */
static void start(struct jbuf *jb, const struct rtppkt *p)
{
	jbuf_reset(jb);
	jb->synced = true;
	jb->base = p->ts - JBUF_TS0;
	jb->ptr = JBUF_TS0;
	jb->ssrc = p->ssrc;
	jb->max_seq = p->seq;
	jb->seen = 0;
}

static bool seq_seen(const struct jbuf *jb, uint16_t seq)
{
	int16_t d = (int16_t)(uint16_t)(jb->max_seq - seq);

	return d >= 0 && d < JBUF_SEQ_WINDOW && (jb->seen >> d & 1);
}

static void seq_mark(struct jbuf *jb, uint16_t seq)
{
	int16_t d = (int16_t)(uint16_t)(seq - jb->max_seq);

	if (d > 0) {
		jb->seen = d >= JBUF_SEQ_WINDOW ? 0 : jb->seen << d;
		jb->max_seq = seq;
		d = 0;
	}
	if (-d < JBUF_SEQ_WINDOW)
		jb->seen |= 1ull << -d;
}

static bool seq_jumped(const struct jbuf *jb, uint16_t seq)
{
	uint16_t fwd = (uint16_t)(seq - jb->max_seq);

	return fwd > JBUF_MAX_DROPOUT && fwd < 65536 - JBUF_MAX_DROPOUT;
}

/* An arrival d timestamp units before the playout point (negative: after
 * it), as whole frames of slack, less the margin. Only once playing: the
 * first get starts the clock at the earliest packet. */
static void note_arrival(struct jbuf *jb, int32_t d)
{
	int32_t f = (int32_t)jb->frame_ts;
	int32_t slack = d >= 0 ? d / f : -((-d + f - 1) / f);

	if (jb->playing)
		jdelay_note(&jb->delay, slack - (int32_t)jb->margin);
}

static int store(struct jbuf *jb, const struct rtppkt *p)
{
	uint32_t ts = p->ts - jb->base;
	struct jbuf_slot *s = slot_of(jb, ts);

	if (s->cap < p->payload_bytes) {
		size_t cap = p->payload_bytes > JBUF_SLOT_MIN ? p->payload_bytes
							      : JBUF_SLOT_MIN;
		uint8_t *d = realloc(s->data, cap);
		if (!d) {
			jb->st.dropped++;
			return -ENOMEM;
		}
		s->data = d;
		s->cap = (uint16_t)cap;
	}
	if (s->used) /* off the frame grid, on a held one: the newer wins */
		jb->st.dropped++;
	else
		jb->n_held++;
	s->used = true;
	s->ts = ts;
	s->len = (uint16_t)p->payload_bytes;
	s->tag = p->tag;
	if (p->payload_bytes)
		memcpy(s->data, p->payload, p->payload_bytes);
	note_arrival(jb, ts_diff(ts, jb->ptr));
	seq_mark(jb, p->seq);
	jb->n_ahead = 0;
	jb->st.put++;
	return 0;
}

static int resync(struct jbuf *jb, const struct rtppkt *p)
{
	start(jb, p);
	jb->st.resets++;
	return store(jb, p);
}

static int late(struct jbuf *jb, const struct rtppkt *p, int32_t d)
{
	/* New in sequence but old in time after a long silence: the
	 * sender's clock stood still or stepped back. Follow it. */
	if (jb->n_missing > JBUF_LOST_RESET &&
	    (int16_t)(uint16_t)(p->seq - jb->max_seq) > 0)
		return resync(jb, p);
	note_arrival(jb, d);
	seq_mark(jb, p->seq);
	jb->st.late++;
	return -EBADMSG;
}

void jbuf_pause(struct jbuf *jb)
{
	if (jb && jb->synced)
		jb->pause_asked = true;
}

/* The time that went by while the clock stood still, in timestamp
 * units: what the next packet's lead over the playout point owes to the
 * pause, not to its sender running ahead. */
static uint64_t paused_ts(const struct jbuf *jb)
{
	return (uint64_t)jb->paused_frames * jb->frame_ts;
}

/* The first packet after a pause: its timestamp moves back by the frames
 * that went by, so that it comes next, at the playout point or after it
 * by what the sender's clock says beyond our count, never before it. A
 * packet older than the playout point is late, as ever, and the pause
 * goes on. Nothing is held during a pause (it begins only on an empty
 * buffer), so no slot's time moves. */
static void unpause(struct jbuf *jb, const struct rtppkt *p)
{
	int32_t d = ts_diff(p->ts - jb->base, jb->ptr);
	uint64_t shift = paused_ts(jb);

	if (d < 0)
		return;
	jb->base += (uint64_t)d < shift ? (uint32_t)d : (uint32_t)shift;
	jb->paused = false;
	jb->follow_valid = false; /* local times moved */
}

bool jbuf_late_follows(struct jbuf *jb, const struct rtppkt *p)
{
	if (!jb || !p || !jb->follow_valid || !jb->synced ||
	    p->ssrc != jb->ssrc || p->ts - jb->base != jb->follow_ts ||
	    ts_diff(jb->follow_ts, jb->ptr) >= 0) /* not late at all */
		return false;
	jb->follow_ts += jb->frame_ts; /* the next late one may follow it */
	return true;
}

int jbuf_absorb(struct jbuf *jb, const struct rtppkt *p)
{
	if (!jb || !p || !jb->paused || jb->idle || p->ssrc != jb->ssrc ||
	    seq_jumped(jb, p->seq) || seq_seen(jb, p->seq))
		return -EAGAIN;
	/* How far ahead of the clock that stopped, less the frames that
	 * went by since (as unpause() takes them off): a DTX run goes on
	 * for as long as the caller says nothing, far past the runaway
	 * distance, and each of its packets must still be absorbed. */
	int32_t d = ts_diff(p->ts - jb->base, jb->ptr);
	int64_t ahead = d - (int64_t)paused_ts(jb);
	if (d < 0 || ahead > (int64_t)jb->runaway_ts)
		return -EAGAIN;
	seq_mark(jb, p->seq);
	jb->st.absorbed++;
	return 0;
}

int jbuf_put(struct jbuf *jb, const struct rtppkt *p)
{
	int32_t d;

	if (!jb || !p || (!p->payload && p->payload_bytes))
		return -EINVAL;
	if (p->payload_bytes > RTPPKT_MAX_BYTES) {
		jb->st.dropped++;
		return -EMSGSIZE;
	}
	if (!jb->synced) {
		start(jb, p);
		return store(jb, p);
	}
	/* After a long silence the timeline starts again from this packet. */
	if (jb->idle)
		return resync(jb, p);
	if (p->ssrc != jb->ssrc || seq_jumped(jb, p->seq))
		return resync(jb, p);
	if (seq_seen(jb, p->seq)) {
		jb->st.dropped++;
		return -EALREADY;
	}
	if (jb->paused)
		unpause(jb, p);

	d = ts_diff(p->ts - jb->base, jb->ptr);
	if (d > (int32_t)jb->runaway_ts || d < -(int32_t)jb->runaway_ts)
		return resync(jb, p);
	if (jb->playing && d < 0)
		return late(jb, p, d);
	if (d > (int32_t)(jb->max_ts - jb->frame_ts)) {
		if (++jb->n_ahead >= JBUF_AHEAD_RESYNC)
			return resync(jb, p);
		jb->st.dropped++;
		return -ENOSPC;
	}
	return store(jb, p);
}

/* jbuf_hold_for_fec's one frame: when the frame due and the one after it
 * are both missing, the playout stands still for one get (so every packet
 * from then on comes a frame earlier to it), and the margin takes that
 * frame off the arrivals' slack, so that the delay estimate neither sees
 * the packets early nor gives the frame back. */
static bool hold(struct jbuf *jb)
{
	if (!jb->hold_armed || !jb->playing)
		return false;
	if (kept(jb, jb->ptr) || kept(jb, jb->ptr + jb->frame_ts))
		return false;
	jb->margin = 1;
	jb->hold_armed = false;
	jb->held = true;
	jb->lost_valid = false;
	jb->st.missing++;
	return true;
}

void jbuf_prefetch(const struct jbuf *jb)
{
	if (jb)
		__builtin_prefetch(jb); /* its flags and counters: one line */
}

uint32_t jbuf_take_skipped(struct jbuf *jb)
{
	uint32_t n = jb ? jb->skipped_new : 0;

	if (jb)
		jb->skipped_new = 0;
	return n;
}

/* The first get after a (re)start plays from the earliest packet held: one
 * that came before the first, reordered, is not lost. */
static void start_clock(struct jbuf *jb)
{
	int32_t first = 0;

	for (uint32_t i = 0; i <= jb->mask; i++) {
		const struct jbuf_slot *s = &jb->slot[i];
		int32_t d = ts_diff(s->ts, jb->ptr);
		if (s->used && d < first)
			first = d;
	}
	jb->ptr += (uint32_t)first;
}

/* A frame received and never played: skipped, or left behind the
 * playout point by a packet off the frame grid. */
static void pass_over(struct jbuf *jb, struct jbuf_slot *s)
{
	if (!s->used)
		return;
	slot_clear(jb, s);
	jb->st.skipped++;
	jb->skipped_new++;
}

/* The packet that plays at the playout point: the frame due, or one off
 * the frame grid within it, in either of the two slots that frame's
 * timestamps fall in; NULL when it is missing. */
static struct jbuf_slot *due(struct jbuf *jb)
{
	struct jbuf_slot *s = slot_of(jb, jb->ptr);

	if (s->used && ts_diff(s->ts, jb->ptr) < 0)
		pass_over(jb, s); /* behind the playout point */
	if (s->used)
		return s;
	s = slot_of(jb, jb->ptr + jb->frame_ts - 1);
	if (s->used && (uint32_t)ts_diff(s->ts, jb->ptr) < jb->frame_ts)
		return s;
	return NULL;
}

/* Follows the delay estimate: frames to insert, or frames skipped. */
static void adapt(struct jbuf *jb)
{
	int a = jdelay_advice(&jb->delay);

	if (a > 0) {
		jb->insert = (unsigned)a;
		jdelay_shift(&jb->delay, a);
	}
	for (int k = a; k < 0; k++) {
		struct jbuf_slot *s = due(jb);
		if (s)
			pass_over(jb, s);
		jb->ptr += jb->frame_ts;
	}
	if (a < 0)
		jdelay_shift(&jb->delay, a);
}

/* MISSING, or a frame inserted to deepen the buffer: concealed both. */
static enum jbuf_status conceal(struct jbuf *jb)
{
	jb->n_missing++;
	if (jb->n_missing > jb->conceal_frames && !jb->n_held) {
		/* Empty after more misses than the timeline is kept for:
		 * the next packet restarts it (jbuf_put). A silent caller in
		 * a big room is most callers. */
		jb->idle = jb->n_missing > JBUF_LOST_RESET;
		return JBUF_EMPTY;
	}
	jb->st.missing++;
	return JBUF_MISSING;
}

/* The frame at the playout point, or its loss. */
static enum jbuf_status play(struct jbuf *jb, uint8_t *buf, size_t cap,
			     size_t *len)
{
	struct jbuf_slot *s = due(jb);

	if (!s) {
		jb->lost_valid = true;
		jb->lost_ts = jb->ptr;
		jb->ptr += jb->frame_ts;
		return conceal(jb);
	}
	/* The playout follows a packet off the frame grid. */
	jb->ptr = s->ts + jb->frame_ts;
	slot_clear(jb, s);
	jb->n_missing = 0;
	jb->follow_valid = false;
	if (buf && len && s->len <= cap) {
		jb->follow_valid = true;
		jb->follow_ts = jb->ptr;
		jb->tag = s->tag;
		memcpy(buf, s->data, s->len);
		*len = s->len;
		return JBUF_FRAME;
	}
	jb->st.dropped++; /* the caller's buffer is too small */
	jb->st.missing++;
	return JBUF_MISSING;
}

/* A delay change takes effect from the next get, as in SpeexDSP: the
 * frame here now plays now. */
enum jbuf_status jbuf_get(struct jbuf *jb, uint8_t *buf, size_t cap,
			  size_t *len)
{
	enum jbuf_status r;

	if (!jb || !jb->synced)
		return JBUF_EMPTY;
	if (jb->pause_asked) {
		jb->pause_asked = false;
		jb->paused = jb->playing && !jb->n_held;
		jb->paused_frames = 0;
	}
	if (jb->paused) {
		jb->paused_frames++;
		return JBUF_EMPTY;
	}
	if (jb->idle)
		return JBUF_EMPTY;
	if (hold(jb))
		return JBUF_MISSING;
	if (!jb->playing)
		start_clock(jb);
	jb->playing = true;
	jb->lost_valid = false;
	if (jb->insert) {
		jb->insert--;
		r = conceal(jb);
	} else {
		r = play(jb, buf, cap, len);
	}
	if (!jb->insert)
		adapt(jb);
	return r;
}
