/* fuzz_dtmfev.c: RFC 4733 telephone-event packets from a hostile sender
 * through the receive state (rtp/dtmfev.c): any event codes, E bits,
 * durations, packed events, timestamps that jump, repeat, go back and
 * wrap, and clocks that run on with or without packets.
 *
 * Promises checked: a payload that is not whole 4-byte events, or whose
 * packed events span 10 s, is refused with -EBADMSG and changes nothing;
 * otherwise put() reports at most cap digits and writes no further into its
 * output; every digit is a DTMF key (0-9 * # A-D) from RFC 4733 whose duration
 * is its clock ticks in ms; a digit is reported once per event, so that the
 * digits never outnumber the key events put, and a packet duplicated at once
 * adds none; expire() reports at most one digit, only for an event under way
 * and only DTMFEV_LOST_END_MS after its last packet, and never twice for one
 * event; and nothing is read or written out of bounds (ASan).
 *
 * Input: one byte choosing the clock, then one opcode byte per step: put
 * (timestamp step, time step, events, cap) or expire (time step). */
#include "fuzz/fuzz.h"
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#define T	   "dtmfev"
#define MAX_EVENTS 8
#define OUT_CAP	   4
#define GUARD_KEY  'Z'
#define MS	   1000000ull

static bool is_key(char c)
{
	return c && strchr("0123456789*#ABCD", c);
}

static void check_digit(const struct digit *d, uint32_t clock_hz)
{
	FUZZ_CHECK(T, is_key(d->key) && d->source == DIGIT_RFC4733);
	/* No event lasts longer than the timestamps that can span it. */
	FUZZ_CHECK(T, (uint64_t)d->duration_ms <=
			  (uint64_t)UINT32_MAX * 1000 / clock_hz);
}

static bool same_state(const struct dtmfev *a, const struct dtmfev *b)
{
	return a->clock_hz == b->clock_hz && a->active == b->active &&
	       a->key == b->key && a->start_ts == b->start_ts &&
	       a->seg_ts == b->seg_ts && a->seg_dur == b->seg_dur &&
	       a->dur_ts == b->dur_ts && a->last_ns == b->last_ns &&
	       a->have_end == b->have_end && a->end_ts == b->end_ts;
}

struct run {
	struct dtmfev t;
	uint32_t ts;
	uint64_t now_ns;
	unsigned key_events, digits;
};

static void step_put(struct run *r, struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in), payload[MAX_EVENTS * 4];
	size_t len, got;
	const uint8_t *bytes;
	struct digit out[OUT_CAP + 1];
	size_t cap = fuzz_below(in, OUT_CAP + 1);
	struct dtmfev before = r->t;

	/* The timestamp: the same (a repeat), a small step, or any. */
	if (how & 0x01)
		r->ts += fuzz_u16(in);
	else if (how & 0x02)
		r->ts = fuzz_u32(in);
	r->now_ns += (uint64_t)fuzz_u16(in) * MS / 16;
	/* 1..MAX_EVENTS events, or (bit 0x80) a length that is not. */
	len = 4 * (1 + fuzz_below(in, MAX_EVENTS));
	if (how & 0x80)
		len = fuzz_below(in, sizeof(payload) + 1);
	bytes = fuzz_bytes(in, len, &got);
	memset(payload, 0, sizeof(payload));
	memcpy(payload, bytes, got);
	for (size_t i = 0; i + 4 <= len; i += 4)
		r->key_events += dtmfev_key(payload[i]) != 0;

	for (size_t i = 0; i <= OUT_CAP; i++)
		out[i].key = GUARD_KEY;
	int n = dtmfev_put(&r->t, r->ts, len ? payload : NULL, len, r->now_ns,
			   out, cap);
	if (n == -EBADMSG) {
		uint64_t span = 0;
		for (size_t i = 0; i + 4 < len; i += 4)
			span += (uint32_t)payload[i + 2] << 8 | payload[i + 3];
		FUZZ_CHECK(T, len == 0 || len % 4 ||
				  span >= (uint64_t)10 * r->t.clock_hz);
		FUZZ_CHECK(T, same_state(&before, &r->t));
		return;
	}
	FUZZ_CHECK(T, len && len % 4 == 0);
	FUZZ_CHECK(T, n >= 0 && (size_t)n <= cap);
	for (size_t i = 0; i < (size_t)n; i++)
		check_digit(&out[i], r->t.clock_hz);
	for (size_t i = (size_t)n; i <= OUT_CAP; i++)
		FUZZ_CHECK(T, out[i].key == GUARD_KEY);
	r->digits += (unsigned)n;
	/* The network duplicated it (bit 0x40): the copy adds no digit. */
	if (how & 0x40) {
		n = dtmfev_put(&r->t, r->ts, payload, len, r->now_ns, out,
			       OUT_CAP);
		FUZZ_CHECK(T, n == 0);
	}
}

static void step_expire(struct run *r, struct fuzz_in *in)
{
	struct digit d = {.key = GUARD_KEY};
	bool was_active = r->t.active;
	uint64_t last_ns = r->t.last_ns; /* the event's last packet */

	r->now_ns += (uint64_t)fuzz_u16(in) * MS / 8;
	int n = dtmfev_expire(&r->t, r->now_ns, &d);
	FUZZ_CHECK(T, n == 0 || n == 1);
	if (n == 0) {
		FUZZ_CHECK(T, d.key == GUARD_KEY);
		return;
	}
	FUZZ_CHECK(T, was_active && !r->t.active);
	FUZZ_CHECK(T, r->now_ns - last_ns >= (uint64_t)DTMFEV_LOST_END_MS * MS);
	check_digit(&d, r->t.clock_hz);
	r->digits++;
	/* Reported once: at once again, nothing. */
	FUZZ_CHECK(T, dtmfev_expire(&r->t, r->now_ns, &d) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t clocks[] = {0, 8000, 16000, 48000};
	struct fuzz_in in;
	struct run r;

	fuzz_in_init(&in, data, size);
	memset(&r, 0, sizeof(r));
	dtmfev_init(&r.t, clocks[fuzz_below(&in, 4)]);
	FUZZ_CHECK(T, r.t.clock_hz != 0);
	r.ts = fuzz_u32(&in);
	r.now_ns = (uint64_t)fuzz_u32(&in) * MS;
	for (unsigned steps = 0; !fuzz_in_empty(&in) && steps < 4096; steps++) {
		if (fuzz_u8(&in) & 0x80)
			step_expire(&r, &in);
		else
			step_put(&r, &in);
		FUZZ_CHECK(T, r.digits <= r.key_events);
	}
	return 0;
}
