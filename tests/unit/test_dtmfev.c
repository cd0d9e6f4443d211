/* test_dtmfev.c: RFC 4733 telephone-event packets into digits, as a
 * sender really sends them: an event repeated with a growing duration and
 * ended by three copies of the E packet; ends that are lost, events out of
 * order, long presses in segments, packed events, other clocks, and
 * payloads that are not events at all. */
#include "rtp/rtp.h"

#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

#define MS 1000000ull

static size_t event(uint8_t *buf, unsigned code, bool end, unsigned dur)
{
	buf[0] = (uint8_t)code;
	buf[1] = (uint8_t)((end ? 0x80 : 0) | 10); /* volume -10 dBm0 */
	buf[2] = (uint8_t)(dur >> 8);
	buf[3] = (uint8_t)dur;
	return 4;
}

/* One press of code at RTP time ts, as a sender at clock_hz sends it: a
 * packet every 50 ms up to dur_ms, then three end packets. Returns the
 * digits reported, appended to keys. */
static int press(struct dtmfev *t, unsigned code, uint32_t ts, unsigned dur_ms,
		 uint32_t clock_hz, uint64_t *now, char *keys,
		 uint32_t *dur_out)
{
	uint8_t p[4];
	struct digit d[4];
	int got = 0;
	unsigned step = clock_hz / 20;
	for (unsigned ms = 50; ms < dur_ms; ms += 50) {
		event(p, code, false, ms / 50 * step);
		*now += 50 * MS;
		int n = dtmfev_put(t, ts, p, 4, *now, d, 4);
		CU_ASSERT(n >= 0);
		for (int i = 0; i < n; i++)
			keys[strlen(keys)] = d[i].key;
		got += n;
	}
	for (int copy = 0; copy < 3; copy++) {
		event(p, code, true, dur_ms * (clock_hz / 1000));
		*now += 20 * MS;
		int n = dtmfev_put(t, ts, p, 4, *now, d, 4);
		CU_ASSERT(n >= 0);
		for (int i = 0; i < n; i++) {
			keys[strlen(keys)] = d[i].key;
			if (dur_out)
				*dur_out = d[i].duration_ms;
		}
		got += n;
	}
	return got;
}

static void test_keys(void)
{
	CU_ASSERT_EQUAL(dtmfev_key(0), '0');
	CU_ASSERT_EQUAL(dtmfev_key(9), '9');
	CU_ASSERT_EQUAL(dtmfev_key(10), '*');
	CU_ASSERT_EQUAL(dtmfev_key(11), '#');
	CU_ASSERT_EQUAL(dtmfev_key(12), 'A');
	CU_ASSERT_EQUAL(dtmfev_key(15), 'D');
	CU_ASSERT_EQUAL(dtmfev_key(16), 0); /* flash */
	CU_ASSERT_EQUAL(dtmfev_key(255), 0);
}

/* Each press counts once, however many end packets come. */
static void test_presses_once(void)
{
	struct dtmfev t;
	char keys[16] = "";
	uint64_t now = 1000 * MS;
	uint32_t dur = 0;
	dtmfev_init(&t, 8000);
	CU_ASSERT_EQUAL(press(&t, 1, 1000, 200, 8000, &now, keys, &dur), 1);
	CU_ASSERT_EQUAL(dur, 200);
	CU_ASSERT_EQUAL(press(&t, 2, 5000, 120, 8000, &now, keys, NULL), 1);
	CU_ASSERT_EQUAL(press(&t, 11, 9000, 80, 8000, &now, keys, NULL), 1);
	/* The same key twice in a row is two presses. */
	CU_ASSERT_EQUAL(press(&t, 11, 13000, 80, 8000, &now, keys, NULL), 1);
	CU_ASSERT_STRING_EQUAL(keys, "12##");
	struct digit d;
	now += 5000 * MS;
	CU_ASSERT_EQUAL(dtmfev_expire(&t, now, &d), 0);
}

/* The codec's clock (48 kHz with Opus) only changes the durations. */
static void test_clock(void)
{
	struct dtmfev t;
	char keys[8] = "";
	uint64_t now = 0;
	uint32_t dur = 0;
	dtmfev_init(&t, 48000);
	CU_ASSERT_EQUAL(press(&t, 5, 777, 300, 48000, &now, keys, &dur), 1);
	CU_ASSERT_EQUAL(dur, 300);
	dtmfev_init(&t, 0); /* 8 kHz fallback */
	CU_ASSERT_EQUAL(t.clock_hz, 8000);
}

/* Every end packet lost: the next event reports the first, and a lone
 * event is reported after DTMFEV_LOST_END_MS of quiet, once. */
static void test_lost_end(void)
{
	struct dtmfev t;
	uint8_t p[4];
	struct digit d[4];
	dtmfev_init(&t, 8000);
	event(p, 3, false, 400);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 4, 10 * MS, d, 4), 0);
	event(p, 4, false, 400);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 4100, p, 4, 500 * MS, d, 4), 1);
	CU_ASSERT_EQUAL(d[0].key, '3');
	CU_ASSERT_EQUAL(d[0].duration_ms, 50);
	CU_ASSERT_EQUAL(dtmfev_expire(&t, 600 * MS, d), 0);
	CU_ASSERT_EQUAL(dtmfev_expire(&t, 1600 * MS, d), 1);
	CU_ASSERT_EQUAL(d[0].key, '4');
	CU_ASSERT_EQUAL(dtmfev_expire(&t, 9000 * MS, d), 0);
	/* Its late end packet does not report it again. */
	event(p, 4, true, 800);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 4100, p, 4, 9100 * MS, d, 4), 0);
}

/* Only the end packets arrive: still one digit. */
static void test_only_end(void)
{
	struct dtmfev t;
	uint8_t p[4];
	struct digit d[4];
	int n = 0;
	dtmfev_init(&t, 8000);
	event(p, 10, true, 800);
	for (int i = 0; i < 3; i++)
		n += dtmfev_put(&t, 50, p, 4, (uint64_t)i * MS, d, 4);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(d[0].key, '*');
	CU_ASSERT_EQUAL(d[0].duration_ms, 100);
}

/* A packet of an earlier event that arrives late changes nothing. */
static void test_reordered(void)
{
	struct dtmfev t;
	uint8_t p[4];
	struct digit d[4];
	dtmfev_init(&t, 8000);
	event(p, 7, true, 800);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 8000, p, 4, 0, d, 4), 1);
	event(p, 8, false, 400);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 16000, p, 4, 0, d, 4), 0);
	event(p, 6, false, 400); /* from before the 7 */
	CU_ASSERT_EQUAL(dtmfev_put(&t, 4000, p, 4, 0, d, 4), 0);
	event(p, 8, false, 200); /* an older copy of the 8 */
	CU_ASSERT_EQUAL(dtmfev_put(&t, 16000, p, 4, 0, d, 4), 0);
	event(p, 8, true, 800);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 16000, p, 4, 0, d, 4), 1);
	CU_ASSERT_EQUAL(d[0].key, '8');
	/* A sender that restarts its clock far back is heard again. */
	event(p, 9, true, 800);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 16000 - 8000 * 20, p, 4, 0, d, 4), 1);
	CU_ASSERT_EQUAL(d[0].key, '9');
}

/* A press longer than 65535 ticks goes on in a new segment: one digit. */
static void test_long_press(void)
{
	struct dtmfev t;
	uint8_t p[4];
	struct digit d[4];
	dtmfev_init(&t, 8000);
	event(p, 0, false, 0xffff);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 1000, p, 4, 0, d, 4), 0);
	event(p, 0, false, 400);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 1000 + 0xffff, p, 4, MS, d, 4), 0);
	event(p, 0, true, 8000);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 1000 + 0xffff, p, 4, 2 * MS, d, 4), 1);
	CU_ASSERT_EQUAL(d[0].key, '0');
	CU_ASSERT_EQUAL(d[0].duration_ms, (0xffff + 8000) / 8);
}

/* Contiguous events packed into one packet (RFC 4733 2.5.1.5), and the
 * same packet again: each digit once. A flash in between is no key. */
static void test_packed(void)
{
	struct dtmfev t;
	uint8_t p[12];
	struct digit d[8];
	dtmfev_init(&t, 8000);
	event(p, 1, true, 800);
	event(p + 4, 16, true, 400);
	event(p + 8, 2, true, 800);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 12, 0, d, 8), 2);
	CU_ASSERT_EQUAL(d[0].key, '1');
	CU_ASSERT_EQUAL(d[1].key, '2');
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 12, 0, d, 8), 0);
	/* With no room for the digits, nothing is written. */
	dtmfev_init(&t, 8000);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 12, 0, d, 0), 0);
}

/* Events packed over 10 s or more cannot be told from a sender that
 * restarted its clock: malformed, so that a copy never presses again. */
static void test_packed_span(void)
{
	struct dtmfev t;
	uint8_t p[12];
	struct digit d[4];
	dtmfev_init(&t, 8000);
	event(p, 1, true, 0xffff);
	event(p + 4, 2, true, 0x3881); /* 65535 + 14465 = 80000 ticks */
	event(p + 8, 3, true, 800);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 12, 0, d, 4), -EBADMSG);
	CU_ASSERT_FALSE(t.active || t.have_end);
	event(p + 4, 2, true, 0x3880); /* one tick less */
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 12, 0, d, 4), 3);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 100, p, 12, 0, d, 4), 0);
}

static void test_hostile(void)
{
	struct dtmfev t;
	uint8_t p[8] = {0};
	struct digit d[2];
	dtmfev_init(&t, 8000);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 0, p, 0, 0, d, 2), -EBADMSG);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 0, p, 3, 0, d, 2), -EBADMSG);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 0, p, 5, 0, d, 2), -EBADMSG);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 0, NULL, 4, 0, d, 2), -EBADMSG);
	CU_ASSERT_FALSE(t.active);
	/* Unknown events and a zero duration end are taken as they come. */
	event(p, 200, true, 0);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 0, p, 4, 0, d, 2), 0);
	event(p, 4, true, 0);
	CU_ASSERT_EQUAL(dtmfev_put(&t, 0, p, 4, 0, d, 2), 1);
	CU_ASSERT_EQUAL(d[0].duration_ms, 0);
	/* Random bytes never report more than one digit per event. */
	uint8_t junk[64];
	uint32_t x = 12345;
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			x = x * 1103515245 + 12345;
			junk[i] = (uint8_t)(x >> 16);
		}
		struct digit many[16];
		int n = dtmfev_put(&t, x, junk, sizeof(junk), 0, many, 16);
		CU_ASSERT(n == -EBADMSG || (n >= 0 && n <= 16));
	}
}

static const struct unit_test tests[] = {
    {"event codes to keys", test_keys},
    {"each press once, three end packets", test_presses_once},
    {"codec clock and 8 kHz fallback", test_clock},
    {"end packets lost", test_lost_end},
    {"packed events spanning 10 s are malformed", test_packed_span},
    {"only end packets", test_only_end},
    {"reordered and restarted", test_reordered},
    {"long press in segments", test_long_press},
    {"packed events", test_packed},
    {"hostile payloads", test_hostile},
    {NULL, NULL},
};

UNIT_MAIN("dtmfev", tests)
