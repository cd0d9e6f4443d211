/* dtmfev.c: RFC 4733 telephone-event packets turned into digits.
 *
 * A sender repeats the packets of one event (one key press) every 50 ms
 * or so with the same RTP timestamp and a growing duration, and ends it
 * with the E bit, usually in three copies. A digit is reported once, when
 * its event ends: the E bit of any copy; a later event, which shows that
 * the end packets were lost; or DTMFEV_LOST_END_MS without a packet.
 * Copies of an ended event, and older events that arrive late, are
 * ignored. An event longer than the 16-bit duration field allows goes on
 * in segments whose timestamps move on by the previous segment's duration
 * (2.5.1.3); these continue the same press. A packet may pack several
 * contiguous events (2.5.1.5); each begins where the one before ended.
 *
 * Durations are in ticks of the telephone-event clock, which is the
 * codec's clock when the offer had one there and 8 kHz otherwise (the
 * negotiation decides; this file only divides by it). A sender that
 * restarts its timestamps is recognised when they jump back by more than
 * RESTART_S; a packet whose packed events span that much is malformed.
 * Plain data: no allocation, no logging. */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#define EVENT_BYTES 4
#define RESTART_S   10

char dtmfev_key(unsigned code)
{
	static const char keys[] = "0123456789*#ABCD";
	return code < 16 ? keys[code] : 0;
}

void dtmfev_init(struct dtmfev *t, uint32_t clock_hz)
{
	memset(t, 0, sizeof(*t));
	t->clock_hz = clock_hz ? clock_hz : 8000;
}

/* RTP time is modular: a is after b when less than half the range ahead. */
static bool ts_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static struct digit digit_of(const struct dtmfev *t)
{
	struct digit d = {.key = t->key, .source = DIGIT_RFC4733};
	d.duration_ms = (uint32_t)((uint64_t)t->dur_ts * 1000 / t->clock_hz);
	return d;
}

/* Ends the current event and hands its digit to out, if there is room. */
static int finish(struct dtmfev *t, struct digit *out, size_t cap, int n)
{
	t->active = false;
	t->have_end = true;
	t->end_ts = t->seg_ts;
	if ((size_t)n < cap)
		out[n++] = digit_of(t);
	return n;
}

/* True when ts belongs to an event that already ended, or is older. */
static bool stale(const struct dtmfev *t, uint32_t ts)
{
	if (!t->have_end || ts_after(ts, t->end_ts))
		return false;
	return t->end_ts - ts < (uint32_t)RESTART_S * t->clock_hz;
}

/* A new segment of a press that is longer than one duration field. */
static bool continues(const struct dtmfev *t, char key, uint32_t ts)
{
	uint32_t slack = t->clock_hz / 50;
	return key == t->key && t->seg_dur >= 0xffffu - slack &&
	       ts - t->seg_ts <= t->seg_dur + slack;
}

static int one_event(struct dtmfev *t, char key, bool end, uint32_t dur,
		     uint32_t ts, uint64_t now_ns, struct digit *out,
		     size_t cap, int n)
{
	if (stale(t, ts))
		return n;
	if (t->active && ts != t->seg_ts) {
		if (!ts_after(ts, t->seg_ts))
			return n; /* an older segment, reordered */
		if (continues(t, key, ts)) {
			t->seg_ts = ts;
			t->seg_dur = 0;
		} else {
			n = finish(t, out, cap, n); /* its end was lost */
		}
	}
	if (!t->active) {
		t->active = true;
		t->key = key;
		t->start_ts = t->seg_ts = ts;
		t->seg_dur = t->dur_ts = 0;
	}
	if (dur > t->seg_dur)
		t->seg_dur = dur;
	uint32_t total = (t->seg_ts - t->start_ts) + dur;
	if (total > t->dur_ts)
		t->dur_ts = total;
	t->last_ns = now_ns;
	if (end)
		n = finish(t, out, cap, n);
	return n;
}

int dtmfev_put(struct dtmfev *t, uint32_t ts, const uint8_t *payload,
	       size_t len, uint64_t now_ns, struct digit *out, size_t cap)
{
	if (!payload || len == 0 || len % EVENT_BYTES)
		return -EBADMSG;
	/* Packed events are the last few of a sender (2.5.1.5). A packet
	 * whose events span the restart window could not be told from a
	 * sender that restarted, and its copy would press its keys again. */
	uint64_t span = 0;
	for (size_t i = 0; i + EVENT_BYTES < len; i += EVENT_BYTES)
		span += (uint32_t)payload[i + 2] << 8 | payload[i + 3];
	if (span >= (uint64_t)RESTART_S * t->clock_hz)
		return -EBADMSG;
	int n = 0;
	uint32_t at = ts;
	for (size_t i = 0; i < len; i += EVENT_BYTES) {
		const uint8_t *e = payload + i;
		uint32_t dur = (uint32_t)e[2] << 8 | e[3];
		char key = dtmfev_key(e[0]);
		/* Other events (flash, tones) take their time but no key. */
		if (key)
			n = one_event(t, key, e[1] & 0x80, dur, at, now_ns, out,
				      cap, n);
		at += dur;
	}
	return n;
}

int dtmfev_expire(struct dtmfev *t, uint64_t now_ns, struct digit *out)
{
	if (!t->active ||
	    now_ns - t->last_ns < (uint64_t)DTMFEV_LOST_END_MS * 1000000ull)
		return 0;
	return finish(t, out, 1, 0);
}
