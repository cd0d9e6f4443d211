/* jbuf.c: one participant's jitter buffer: SpeexDSP's adaptive buffer
 * behind guards that keep it bounded and honest about what it drops.
 *
 * SpeexDSP reorders packets, conceals what is missing and adapts its delay
 * to the arrival statistics (it deepens the buffer when packets come late
 * and trims it when they come early). What it does not do, and this
 * wrapper does:
 *   - bound memory and delay: a packet whose timestamp lies more than
 *     max_ms ahead of the playout point is dropped, and a run of such
 *     packets means the sender's timeline moved, so we resynchronise;
 *   - resynchronise on a new SSRC, a sequence jump (RFC 3550 A.1's
 *     MAX_DROPOUT) or a timestamp jump of seconds either way;
 *   - refuse duplicates (by sequence number) and packets whose time has
 *     already been played out, counting both. Late packets are still shown
 *     to SpeexDSP with no span and no payload, so that it learns of the
 *     lateness and deepens the buffer, but can never play them;
 *   - say EMPTY rather than MISSING when nothing has arrived yet, or when
 *     the sender has been silent for longer than concealment is worth;
 *   - count the frames SpeexDSP jumps over when it shortens its delay
 *     (st.skipped): received, never played, and otherwise unreported.
 * A sender in DTX or CN sends a packet now and then (Opus: every 400 ms)
 * and nothing between. Asking SpeexDSP for each missing frame there costs
 * four scans of its 200 slots, for most callers of a big room, and
 * counts towards the 20 misses after which it forgets its delay
 * estimate. jbuf_pause() stops the buffer's clock instead: the next packet
 * is rebased by the frames that went by (or to the playout point, never
 * before it), so SpeexDSP sees a stream without the gap and keeps what it
 * learnt of the network.
 * Timestamps are rebased so that the first packet after a (re)start sits
 * at JBUF_TS0: RTP timestamp wrap-around is then invisible to SpeexDSP.
 * We never feed SpeexDSP a packet that starts before its playout point nor
 * a payload larger than our scratch frame, so its stderr warnings stay
 * quiet (for senders whose timestamps step in whole frames).
 *
 * A late packet is never played, but one that follows the last frame
 * played with only losses between can still be taken in by a decoder
 * that keeps state (G.722's ADPCM), before the next packet:
 * jbuf_late_follows() says which, each late one in its turn.
 *
 * SpeexDSP cannot show a packet before its turn, which Opus' in-band FEC
 * needs: when a frame is missing, the next packet may already be here and
 * carry a copy of it. With jbuf_keep_next() the wrapper keeps its own copy
 * of the last JBUF_PEEK_SLOTS packets (those of at most JBUF_PEEK_BYTES),
 * by timestamp, and jbuf_peek_next() finds the one after a frame that
 * SpeexDSP reported missing (not one it inserted to deepen the buffer:
 * that frame is only late, and still comes).
 *
 * Each packet is taken to cover frame_ts ticks; jbuf_get returns one
 * packet per call and must be called once per frame_ts of playout. A sender
 * whose ptime differs from ours needs frame_ts set to its ptime and a PCM
 * FIFO in the caller.
 *
 * A struct jbuf belongs to its stream, thus to the mixer thread that pulls
 * it; it is not thread-safe. */
#include "rtp/rtp.h"

#include <errno.h>
#include <speex/speex_jitter.h>
#include <stdlib.h>
#include <string.h>

#define JBUF_TS0	    (1u << 20) /* local timestamp of the first packet */
#define JBUF_MAX_DROPOUT    3000       /* sequence jump that means a restart */
#define JBUF_SEQ_WINDOW	    64	 /* sequence numbers remembered for dups */
#define JBUF_RUNAWAY_MS	    3000 /* timestamp jump that means a restart */
#define JBUF_AHEAD_RESYNC   8	 /* consecutive too-early packets */
#define JBUF_CONCEAL_MS	    100	 /* then EMPTY rather than MISSING */
#define JBUF_SPX_LOST_RESET 20	 /* SpeexDSP resets after this many misses */
#define JBUF_MAX_LATE_RATE  4	 /* percent of late packets SpeexDSP allows */
#define JBUF_MAX_FRAMES	    150	 /* of SpeexDSP's 200 slots */
#define JBUF_PEEK_SLOTS	    16	 /* packets kept for jbuf_peek_next */

struct jbuf_peek {
	uint32_t ts; /* local */
	uint16_t len;
	bool used;
	uint8_t data[JBUF_PEEK_BYTES];
};

struct jbuf {
	JitterBuffer *spx;
	uint32_t frame_ts, max_ts, runaway_ts;
	unsigned conceal_frames;
	bool synced;  /* a packet has set the timeline since the reset */
	bool playing; /* jbuf_get has run since the timeline was set */
	bool idle;    /* nothing came for long: SpeexDSP left alone */
	bool pause_asked, paused; /* jbuf_pause: asked, clock stopped */
	uint32_t paused_frames;	  /* gets while paused */
	uint32_t skipped_new;	  /* frames skipped since jbuf_take_skipped */
	uint32_t base;		  /* RTP timestamp - base = local timestamp */
	uint32_t ref_ts;	  /* local: first packet, then next to play */
	uint32_t ssrc;
	uint16_t max_seq;	     /* highest sequence number seen */
	uint64_t seen;		     /* bit i: max_seq - i was taken */
	unsigned n_missing, n_ahead; /* consecutive */
	uint32_t tag;		     /* of the packet last got */
	struct jbuf_stats st;
	struct jbuf_peek *peek; /* JBUF_PEEK_SLOTS; NULL unless kept */
	bool hold_armed, held;	/* jbuf_hold_for_fec: asked, done */
	bool lost_valid;	/* the last get was a frame lost ... */
	uint32_t lost_ts;	/* ... at this local time */
	bool follow_valid;	/* only losses since the last frame played: */
	uint32_t follow_ts;	/* the local time just after it */
	bool play_valid;	/* play_next holds: */
	uint32_t play_next;	/* the local time SpeexDSP plays next */
	uint8_t scratch[RTPPKT_MAX_BYTES];
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
	spx_int32_t rate = JBUF_MAX_LATE_RATE;
	struct jbuf *jb;

	if (!out || !clock_hz || !frame_ts || max_ts < frame_ts ||
	    max_ts / frame_ts > JBUF_MAX_FRAMES || runaway_ts >= JBUF_TS0 ||
	    runaway_ts >= INT32_MAX / 4)
		return -EINVAL;
	jb = calloc(1, sizeof(*jb));
	if (!jb)
		return -ENOMEM;
	jb->spx = jitter_buffer_init((int)frame_ts);
	if (!jb->spx)
		goto fail;
	jitter_buffer_ctl(jb->spx, JITTER_BUFFER_SET_MAX_LATE_RATE, &rate);
	jb->frame_ts = frame_ts;
	jb->max_ts = (uint32_t)max_ts;
	jb->runaway_ts = (uint32_t)runaway_ts;
	jb->conceal_frames = (unsigned)((conceal_ts + frame_ts - 1) / frame_ts);
	*out = jb;
	return 0;
fail:
	jbuf_free(jb);
	return -ENOMEM;
}

void jbuf_free(struct jbuf *jb)
{
	if (!jb)
		return;
	if (jb->spx)
		jitter_buffer_destroy(jb->spx);
	free(jb->peek);
	free(jb);
}

void jbuf_reset(struct jbuf *jb)
{
	if (!jb)
		return;
	jitter_buffer_reset(jb->spx);
	jb->synced = false;
	jb->playing = false;
	jb->idle = false;
	jb->pause_asked = false;
	jb->paused = false;
	jb->n_missing = 0;
	jb->n_ahead = 0;
	jb->lost_valid = false;
	jb->follow_valid = false;
	jb->play_valid = false;
	if (jb->peek)
		memset(jb->peek, 0, JBUF_PEEK_SLOTS * sizeof(*jb->peek));
}

int jbuf_keep_next(struct jbuf *jb)
{
	if (!jb)
		return -EINVAL;
	if (!jb->peek)
		jb->peek = calloc(JBUF_PEEK_SLOTS, sizeof(*jb->peek));
	return jb->peek ? 0 : -ENOMEM;
}

void jbuf_hold_for_fec(struct jbuf *jb)
{
	if (jb && jb->peek && !jb->held)
		jb->hold_armed = true;
}

static struct jbuf_peek *peek_slot(struct jbuf *jb, uint32_t ts)
{
	return &jb->peek[(ts / jb->frame_ts) % JBUF_PEEK_SLOTS];
}

int jbuf_peek_next(struct jbuf *jb, uint8_t *buf, size_t cap, size_t *len)
{
	if (!jb || !buf || !len || !jb->peek || !jb->lost_valid)
		return -ENOENT;
	uint32_t ts = jb->lost_ts + jb->frame_ts;
	const struct jbuf_peek *p = peek_slot(jb, ts);
	if (!p->used || p->ts != ts || p->len > cap)
		return -ENOENT;
	memcpy(buf, p->data, p->len);
	*len = p->len;
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
	jb->ref_ts = JBUF_TS0;
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

static int store(struct jbuf *jb, const struct rtppkt *p)
{
	JitterBufferPacket sp = {
	    .data = (char *)p->payload, /* SpeexDSP copies it */
	    .len = (spx_uint32_t)p->payload_bytes,
	    .timestamp = p->ts - jb->base,
	    .span = jb->frame_ts,
	    .sequence = p->seq,
	    .user_data = p->tag,
	};

	jitter_buffer_put(jb->spx, &sp);
	if (jb->peek && p->payload_bytes <= JBUF_PEEK_BYTES) {
		struct jbuf_peek *k = peek_slot(jb, sp.timestamp);
		k->ts = sp.timestamp;
		k->len = (uint16_t)p->payload_bytes;
		k->used = true;
		memcpy(k->data, p->payload, p->payload_bytes);
	}
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

static int late(struct jbuf *jb, const struct rtppkt *p)
{
	JitterBufferPacket sp = {
	    .timestamp = p->ts - jb->base,
	    .sequence = p->seq,
	};

	/* New in sequence but old in time after a long silence: the
	 * sender's clock stood still or stepped back. Follow it. */
	if (jb->n_missing > JBUF_SPX_LOST_RESET &&
	    (int16_t)(uint16_t)(p->seq - jb->max_seq) > 0)
		return resync(jb, p);
	/* With no span SpeexDSP cannot play it, but counts it as late. Safe
	 * only while SpeexDSP will not reset on this put (it would then
	 * resynchronise on this packet). */
	if (jb->n_missing <= JBUF_SPX_LOST_RESET)
		jitter_buffer_put(jb->spx, &sp);
	seq_mark(jb, p->seq);
	jb->st.late++;
	return -EBADMSG;
}

void jbuf_pause(struct jbuf *jb)
{
	if (jb && jb->synced)
		jb->pause_asked = true;
}

/* The first packet after a pause: its timestamp moves back by the frames
 * that went by, so that it comes next, at the playout point or after it
 * by what the sender's clock says beyond our count, never before it. A
 * packet older than the playout point is late, as ever, and the pause
 * goes on. */
/* The time that went by while the clock stood still, in timestamp
 * units: what the next packet's lead over the playout point owes to the
 * pause, not to its sender running ahead. */
static uint64_t paused_ts(const struct jbuf *jb)
{
	return (uint64_t)jb->paused_frames * jb->frame_ts;
}

static void unpause(struct jbuf *jb, const struct rtppkt *p)
{
	int32_t d = ts_diff(p->ts - jb->base, jb->ref_ts);
	uint64_t shift = paused_ts(jb);

	if (d < 0)
		return;
	jb->base += (uint64_t)d < shift ? (uint32_t)d : (uint32_t)shift;
	jb->paused = false;
	jb->follow_valid = false; /* local times moved */
	jb->play_valid = false;
}

bool jbuf_late_follows(struct jbuf *jb, const struct rtppkt *p)
{
	if (!jb || !p || !jb->follow_valid || !jb->synced ||
	    p->ssrc != jb->ssrc || p->ts - jb->base != jb->follow_ts ||
	    ts_diff(jb->follow_ts, jb->ref_ts) >= 0) /* not late at all */
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
	int32_t d = ts_diff(p->ts - jb->base, jb->ref_ts);
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
	/* After a long silence the timeline starts again from this packet,
	 * as SpeexDSP would (it resets on a put after 20 misses). */
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

	d = ts_diff(p->ts - jb->base, jb->ref_ts);
	if (d > (int32_t)jb->runaway_ts || d < -(int32_t)jb->runaway_ts)
		return resync(jb, p);
	if (jb->playing && d < 0)
		return late(jb, p);
	if (d > (int32_t)(jb->max_ts - jb->frame_ts)) {
		if (++jb->n_ahead >= JBUF_AHEAD_RESYNC)
			return resync(jb, p);
		jb->st.dropped++;
		return -ENOSPC;
	}
	return store(jb, p);
}

static bool kept(struct jbuf *jb, uint32_t ts)
{
	const struct jbuf_peek *p = peek_slot(jb, ts);
	return p->used && p->ts == ts;
}

/* jbuf_hold_for_fec's one frame: when the frame due and the one after it
 * are both missing, SpeexDSP is left alone for one get (its clock stands
 * still a frame, so packets arrive a frame earlier to it), and its margin
 * takes that frame off the arrival timings, so that its delay estimate
 * neither sees the packets early nor gives the frame back. */
static bool hold(struct jbuf *jb)
{
	if (!jb->hold_armed || !jb->playing)
		return false;
	uint32_t due = (uint32_t)jitter_buffer_get_pointer_timestamp(jb->spx);
	if (kept(jb, due) || kept(jb, due + jb->frame_ts))
		return false;
	spx_int32_t margin = (spx_int32_t)jb->frame_ts;
	jitter_buffer_ctl(jb->spx, JITTER_BUFFER_SET_MARGIN, &margin);
	jb->hold_armed = false;
	jb->held = true;
	jb->lost_valid = false;
	jb->st.missing++;
	return true;
}

static unsigned available(struct jbuf *jb)
{
	spx_int32_t n = 0;

	jitter_buffer_ctl(jb->spx, JITTER_BUFFER_GET_AVAILABLE_COUNT, &n);
	return n > 0 ? (unsigned)n : 0;
}

/* SpeexDSP shortens its delay by moving its pointer ahead: the frames it
 * jumps over are never played, and it does not say so. They are counted
 * here from the times of the frames it plays (st.skipped): a lost frame
 * moves the pointer one frame, an inserted one (a deeper buffer) not. */
static void note_played(struct jbuf *jb, uint32_t ts)
{
	int32_t d = jb->play_valid ? ts_diff(ts, jb->play_next) : 0;

	if (d >= (int32_t)jb->frame_ts) {
		uint32_t n = (uint32_t)d / jb->frame_ts;
		jb->st.skipped += n;
		jb->skipped_new += n;
	}
	jb->play_valid = true;
	jb->play_next = ts + jb->frame_ts;
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

enum jbuf_status jbuf_get(struct jbuf *jb, uint8_t *buf, size_t cap,
			  size_t *len)
{
	JitterBufferPacket sp = {.len = RTPPKT_MAX_BYTES};
	spx_int32_t offset;
	uint32_t at_get, at_tick;
	int ret;

	if (!jb || !jb->synced)
		return JBUF_EMPTY;
	if (jb->pause_asked) {
		jb->pause_asked = false;
		jb->paused = jb->playing && !available(jb);
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
	sp.data = (char *)jb->scratch;
	ret =
	    jitter_buffer_get(jb->spx, &sp, (spx_int32_t)jb->frame_ts, &offset);
	at_get = (uint32_t)jitter_buffer_get_pointer_timestamp(jb->spx);
	jitter_buffer_tick(jb->spx);
	/* A delay increase moves SpeexDSP's pointer back until the next get;
	 * what was played stays played. */
	at_tick = (uint32_t)jitter_buffer_get_pointer_timestamp(jb->spx);
	jb->ref_ts = ts_diff(at_tick, at_get) > 0 ? at_tick : at_get;
	jb->playing = true;
	jb->lost_valid = ret == JITTER_BUFFER_MISSING;
	jb->lost_ts = sp.timestamp;

	if (ret == JITTER_BUFFER_OK)
		note_played(jb, sp.timestamp);
	else if (ret == JITTER_BUFFER_MISSING && jb->play_valid)
		jb->play_next += jb->frame_ts;
	if (ret == JITTER_BUFFER_OK) {
		jb->n_missing = 0;
		jb->follow_valid = false;
		if (buf && len && sp.len <= cap) {
			jb->follow_valid = true;
			jb->follow_ts = sp.timestamp + jb->frame_ts;
			jb->tag = sp.user_data;
			memcpy(buf, jb->scratch, sp.len);
			*len = sp.len;
			return JBUF_FRAME;
		}
		jb->st.dropped++; /* the caller's buffer is too small */
		jb->st.missing++;
		return JBUF_MISSING;
	}
	/* MISSING, or INSERTION (SpeexDSP deepens the buffer by a frame). */
	jb->n_missing++;
	if (jb->n_missing > jb->conceal_frames && !available(jb)) {
		/* Empty after more misses than SpeexDSP keeps its timeline
		 * for: asking it every 20 ms (four scans of its 200 slots
		 * each time) only costs, and the next packet restarts the
		 * timeline either way (jbuf_put). A silent caller in a big
		 * room is most callers. */
		jb->idle = jb->n_missing > JBUF_SPX_LOST_RESET;
		return JBUF_EMPTY;
	}
	jb->st.missing++;
	return JBUF_MISSING;
}
