/* fuzz_jbuf.c: a jitter buffer (rtp/jbuf.c) fed by a
 * hostile sender: any sequence numbers, timestamps and SSRCs, duplicates,
 * reordering, bursts, jumps back and forth, oversized payloads, and pulled
 * at the mixer's pace with buffers of any size.
 *
 * Each packet's payload carries its own number, so that what comes out
 * can be traced to what went in. Promises checked: a frame returned is a
 * packet that was put and accepted, byte for byte, and never returned
 * twice; within one timeline (until the buffer resynchronises, which it
 * counts in its stats) frames come out in increasing timestamp order,
 * since what was played stays played; a frame never exceeds the caller's
 * buffer; the statistics only grow; and nothing is read or written out of
 * bounds (ASan). With an odd maximum delay (in 20 ms steps) the buffer
 * also keeps packets for Opus FEC and holds a frame for it: after a
 * missing frame, the packet it shows as the next is one that was put and
 * accepted, byte for byte, within the caller's buffer. A get may also
 * say the frame it returned was DTX (jbuf_pause), and the promises hold
 * across the pauses; a packet may be offered to jbuf_absorb first (as
 * the next DTX packet of a run is), and one it takes is never played.
 * A late packet that jbuf_late_follows says a decoder may still take in
 * is newer than the last frame played.
 *
 * Input: three bytes of parameters (clock, frame length, maximum delay),
 * then one opcode byte per step: put (with its deltas) or get. */
#include "fuzz/fuzz.h"
#include "rtp/rtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define T	  "jbuf"
#define MAX_PUTS  4096
#define TAG_BYTES 4

struct sent {
	uint32_t ts;
	uint16_t len;
	bool accepted, played;
};

static struct sent sent[MAX_PUTS];
static uint8_t payload[RTPPKT_MAX_BYTES + 64];

struct run {
	struct jbuf *jb;
	unsigned n_sent;
	uint32_t ssrc, ts;
	uint16_t seq;
	bool have_last;
	bool keep; /* jbuf_keep_next and jbuf_hold_for_fec */
	uint32_t last_ts;
	struct jbuf_stats st;
};

static void fill(uint8_t *p, size_t len, unsigned id)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i < TAG_BYTES ? id >> (8 * i) : id * 31 + i);
}

static void stats_grew(struct run *r)
{
	struct jbuf_stats s;

	jbuf_stats(r->jb, &s);
	FUZZ_CHECK(
	    T, s.put >= r->st.put && s.late >= r->st.late &&
		   s.dropped >= r->st.dropped && s.missing >= r->st.missing &&
		   s.resets >= r->st.resets && s.absorbed >= r->st.absorbed);
	if (s.resets != r->st.resets)
		r->have_last = false; /* a new timeline */
	r->st = s;
}

static void put(struct run *r, struct fuzz_in *in, uint8_t op)
{
	struct rtppkt p = {.pt = 0};
	unsigned id = r->n_sent;
	int err;

	if (id == MAX_PUTS)
		return;
	r->seq = (uint16_t)(r->seq + (int8_t)fuzz_u8(in));
	if (op & 0x08)
		r->ts += (uint32_t)(int32_t)(int16_t)fuzz_u16(in);
	else
		r->ts += (uint32_t)fuzz_u8(in) * 40;
	if (op & 0x10)
		r->ts += fuzz_u32(in); /* a jump anywhere */
	if (op & 0x20)
		r->ssrc ^= 1u << fuzz_below(in, 32);
	p.seq = r->seq;
	p.ts = r->ts;
	p.ssrc = r->ssrc;
	p.payload_bytes = TAG_BYTES + fuzz_below(in, 200);
	if (op & 0x40)
		p.payload_bytes = RTPPKT_MAX_BYTES - 8 + fuzz_below(in, 16);
	fill(payload, p.payload_bytes, id);
	p.payload = payload;
	if (op & 0x04) {
		err = jbuf_absorb(r->jb, &p);
		FUZZ_CHECK(T, err == 0 || err == -EAGAIN);
		if (err == 0) {
			sent[id] = (struct sent){.ts = p.ts};
			r->n_sent++;
			stats_grew(r);
			return;
		}
	}
	err = jbuf_put(r->jb, &p);
	/* -EALREADY: a duplicate of a packet the buffer holds */
	FUZZ_CHECK(T, err == 0 || err == -EBADMSG || err == -ENOSPC ||
			  err == -EMSGSIZE || err == -EALREADY);
	FUZZ_CHECK(T, err != -EMSGSIZE || p.payload_bytes > RTPPKT_MAX_BYTES);
	/* a late packet a decoder may catch up on comes after what was
	 * played (and, refused, is never played itself) */
	if (err == -EBADMSG && jbuf_late_follows(r->jb, &p) && r->have_last)
		FUZZ_CHECK(T, (int32_t)(p.ts - r->last_ts) > 0);
	sent[id] = (struct sent){
	    .ts = p.ts, .len = (uint16_t)p.payload_bytes, .accepted = err == 0};
	r->n_sent++;
	stats_grew(r);
}

static void get(struct run *r, struct fuzz_in *in, uint8_t op)
{
	static uint8_t buf[RTPPKT_MAX_BYTES];
	size_t cap = op & 0x08 ? fuzz_below(in, 256) : sizeof(buf), len = 0;
	enum jbuf_status st = jbuf_get(r->jb, buf, cap, &len);
	unsigned id;

	FUZZ_CHECK(T,
		   st == JBUF_FRAME || st == JBUF_MISSING || st == JBUF_EMPTY);
	stats_grew(r);
	if (st == JBUF_MISSING && r->keep &&
	    jbuf_peek_next(r->jb, buf, cap, &len) == 0) {
		FUZZ_CHECK(T, len >= TAG_BYTES && len <= cap);
		id = buf[0] | buf[1] << 8 | buf[2] << 16 |
		     (unsigned)buf[3] << 24;
		FUZZ_CHECK(T, id < r->n_sent && sent[id].accepted);
		FUZZ_CHECK(T, sent[id].len == len);
		fill(payload, len, id);
		FUZZ_CHECK(T, !memcmp(buf, payload, len));
	}
	if (st != JBUF_FRAME)
		return;
	FUZZ_CHECK(T, len >= TAG_BYTES && len <= cap);
	id = buf[0] | buf[1] << 8 | buf[2] << 16 | (unsigned)buf[3] << 24;
	FUZZ_CHECK(T, id < r->n_sent && sent[id].accepted);
	FUZZ_CHECK(T, !sent[id].played);
	FUZZ_CHECK(T, sent[id].len == len);
	fill(payload, len, id);
	FUZZ_CHECK(T, !memcmp(buf, payload, len));
	if (r->have_last)
		FUZZ_CHECK(T, (int32_t)(sent[id].ts - r->last_ts) > 0);
	sent[id].played = true;
	r->have_last = true;
	r->last_ts = sent[id].ts;
	if (op & 0x10)
		jbuf_pause(r->jb); /* as if it were Opus DTX or CN */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t clocks[] = {8000, 16000, 48000};
	struct fuzz_in in;
	struct run r;
	uint32_t clock_hz, frame_ts, max_ms;

	fuzz_in_init(&in, data, size);
	memset(&r, 0, sizeof(r));
	clock_hz = clocks[fuzz_below(&in, 3)];
	frame_ts = clock_hz / 100 * (1 + fuzz_below(&in, 6));
	max_ms = 20 + 20 * fuzz_below(&in, 60);
	if (jbuf_new(&r.jb, clock_hz, frame_ts, max_ms) != 0)
		return 0;
	r.ssrc = 0x1234;
	r.keep = (max_ms / 20) % 2;
	if (r.keep && jbuf_keep_next(r.jb) == 0)
		jbuf_hold_for_fec(r.jb);
	while (!fuzz_in_empty(&in)) {
		uint8_t op = fuzz_u8(&in);
		if (op & 0x80)
			get(&r, &in, op);
		else
			put(&r, &in, op);
		if ((op & 0x87) == 0x87) {
			jbuf_reset(r.jb); /* as a stream does on a new peer */
			r.have_last = false;
		}
	}
	jbuf_free(r.jb);
	return 0;
}
