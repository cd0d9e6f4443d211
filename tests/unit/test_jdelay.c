/* test_jdelay.c: the jitter buffer's delay estimate (rtp/jdelay.c): what
 * it advises for on-time, straddling, stalled and stepped arrivals, and
 * how a shift moves what it noted. */
#include "rtp/jdelay.h"
#include "tests/unit/unit.h"

static struct jdelay mk(void)
{
	struct jdelay d = {.late_pct = 4};
	return d;
}

/* Notes n arrivals of slack s and returns the advice after them. */
static int note_n(struct jdelay *d, int n, int s)
{
	for (int i = 0; i < n; i++)
		jdelay_note(d, s);
	return jdelay_advice(d);
}

static void test_on_time_stays(void)
{
	struct jdelay d = mk();

	CU_ASSERT_EQUAL(jdelay_advice(&d), 0); /* nothing noted */
	CU_ASSERT_EQUAL(note_n(&d, 1000, 0), 0);
	CU_ASSERT_EQUAL(jdelay_advice(&d), 0);
}

/* Half the packets a frame late: a frame deeper at once (the first two
 * lates outweigh a frame while few were noted), then never shorter: half
 * of them have no frame to spare. */
static void test_straddle_deepens_once(void)
{
	struct jdelay d = mk();
	int deeper = 0, shorter = 0;

	for (int i = 0; i < 2000; i++) {
		jdelay_note(&d, (i & 1) ? -1 + deeper : 0 + deeper);
		int a = jdelay_advice(&d);
		if (a > 0) {
			deeper += a;
			jdelay_shift(&d, a);
		} else if (a < 0) {
			shorter++;
			deeper--;
			jdelay_shift(&d, -1);
		}
	}
	CU_ASSERT_EQUAL(deeper, 1);
	CU_ASSERT_EQUAL(shorter, 0);
}

/* A stall early in a call, its packets then arriving at once (late by
 * three frames, two, one): each frame of delay would save one of them,
 * not worth it. Three late in a row with nothing on time between is a
 * step in the network's delay: deeper at once, by the least lateness. */
static void test_stall_not_step(void)
{
	struct jdelay d = mk();

	CU_ASSERT_EQUAL(note_n(&d, 20, 0), 0);
	jdelay_note(&d, -3);
	jdelay_note(&d, -2);
	jdelay_note(&d, -1);
	jdelay_note(&d, 0);
	CU_ASSERT_EQUAL(jdelay_advice(&d), 0);

	struct jdelay s = mk();
	CU_ASSERT_EQUAL(note_n(&s, 200, 0), 0);
	jdelay_note(&s, -3);
	jdelay_note(&s, -2);
	jdelay_note(&s, -2);
	CU_ASSERT_EQUAL(jdelay_advice(&s), 2);
}

/* Within the allowance (4 % of those noted) nothing changes; beyond it,
 * the delay that costs least. */
static void test_allowance(void)
{
	struct jdelay d = mk();

	for (int i = 0; i < 256; i++)
		jdelay_note(&d, i % 32 == 5 ? -1 : 0); /* 3 % late */
	CU_ASSERT_EQUAL(jdelay_advice(&d), 0);
	for (int i = 0; i < 256; i++)
		jdelay_note(&d, i % 8 == 5 ? -2 : 0); /* 12.5 % two late */
	CU_ASSERT_EQUAL(jdelay_advice(&d), 2);
}

/* A call whose first packets waited for its first pull: every packet
 * three frames early. Once JDELAY_SETTLE arrivals are noted, shorter by
 * all three at once, then stays. A shift moves
 * what was noted: after a deeper one the same arrivals are on time. */
static void test_shorter_and_shift(void)
{
	struct jdelay d = mk();

	CU_ASSERT_EQUAL(note_n(&d, 49, 3), 0); /* too few yet */
	CU_ASSERT_EQUAL(note_n(&d, 1, 3), -3);
	jdelay_shift(&d, -3);
	/* now just in time: stays, and half of them a frame early changes
	 * nothing */
	CU_ASSERT_EQUAL(note_n(&d, 500, 0), 0);
	for (int i = 0; i < 100; i++)
		jdelay_note(&d, i % 2);
	CU_ASSERT_EQUAL(jdelay_advice(&d), 0);
	/* a shift deeper makes late ones on time */
	jdelay_reset(&d);
	CU_ASSERT_EQUAL(d.late_pct, 4);
	for (int i = 0; i < 100; i++)
		jdelay_note(&d, i % 2 ? -1 : 0);
	jdelay_shift(&d, 1);
	jdelay_note(&d, 1);
	CU_ASSERT_EQUAL(jdelay_advice(&d), 0);
}

/* The window forgets: a late period long past no longer counts, once
 * every sub-window since is on time. */
static void test_window_forgets(void)
{
	struct jdelay d = mk();

	for (int i = 0; i < 64; i++)
		jdelay_note(&d, i % 2 ? 0 : -2);
	CU_ASSERT_EQUAL(jdelay_advice(&d), 2);
	for (int i = 0; i < JDELAY_SUBS * JDELAY_SUB_N; i++)
		jdelay_note(&d, 0);
	CU_ASSERT_EQUAL(d.n_tot, JDELAY_SUBS * JDELAY_SUB_N);
	CU_ASSERT_EQUAL(d.tot[-2 - JDELAY_LOW], 0);
	CU_ASSERT_EQUAL(jdelay_advice(&d), 0);
}

static const struct unit_test tests[] = {
    {"on time: stays", test_on_time_stays},
    {"straddling the pull: a frame deeper, once", test_straddle_deepens_once},
    {"a stall is not a step", test_stall_not_step},
    {"late within the allowance", test_allowance},
    {"shorter, and shifts", test_shorter_and_shift},
    {"the window forgets", test_window_forgets},
    {NULL, NULL},
};

UNIT_MAIN("jdelay", tests)
