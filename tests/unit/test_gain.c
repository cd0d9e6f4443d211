/* test_gain.c: a participant's gains and the fades of speakers entering
 * and leaving the mix (mixer/gain.c): Q12 factors, rounding and
 * saturation, controls clamped, fades that start (or end) at silence and
 * never click. */
#include "mixer/mixer_priv.h"

#include "tests/unit/unit.h"

#include <stdlib.h>

static void test_q12(void)
{
	CU_ASSERT_EQUAL(gain_q12(0), GAIN_UNITY);
	CU_ASSERT_EQUAL(gain_q12(-6), 2053); /* 0.501 */
	CU_ASSERT_EQUAL(gain_q12(6), 8173);  /* 1.995 */
	CU_ASSERT_EQUAL(gain_q12(100), gain_q12(MIXER_GAIN_MAX_DB));
	CU_ASSERT_EQUAL(gain_q12(-100), gain_q12(MIXER_GAIN_MIN_DB));
}

static void test_apply(void)
{
	int16_t x[4] = {1000, -1000, 30000, -30000};
	gain_apply(x, x, 4, gain_q12(6));
	CU_ASSERT_EQUAL(x[0], 1995);
	CU_ASSERT_EQUAL(x[1], -1995);
	CU_ASSERT_EQUAL(x[2], 32767); /* saturated, never wrapped */
	CU_ASSERT_EQUAL(x[3], -32768);
}

static void test_controls(void)
{
	struct part pt = {0};
	struct mixer_controls c = {
	    .muted = true, .talk_gain_db = 100, .listen_gain_db = -6};
	gain_set_controls(&pt, &c);
	CU_ASSERT(pt.ctl.muted);
	CU_ASSERT_EQUAL(pt.ctl.talk_gain_db, MIXER_GAIN_MAX_DB);
	CU_ASSERT_EQUAL(pt.talk_q12, gain_q12(MIXER_GAIN_MAX_DB));
	CU_ASSERT_EQUAL(pt.listen_q12, 2053);
}

/* In: from 1/n of the level up to all of it, rising; out: the reverse,
 * down to silence. Each step is at most 1/n of the level: no click. */
static void test_fade(void)
{
	enum { N = 960 };
	static int16_t x[N];

	for (int dir = 0; dir < 2; dir++) {
		for (size_t i = 0; i < N; i++)
			x[i] = i % 2 ? -30000 : 30000;
		gain_fade(x, N, dir == 0);
		if (dir == 0) {
			CU_ASSERT(abs(x[0]) <= 30000 / N + 1);
			CU_ASSERT_EQUAL(x[N - 1], -30000);
		} else {
			CU_ASSERT(abs(x[0]) >= 30000 - 30000 / N - 1);
			CU_ASSERT_EQUAL(x[N - 1], 0);
		}
		for (size_t i = 1; i < N; i++)
			CU_ASSERT(abs(abs(x[i]) - abs(x[i - 1])) <=
				  30000 / N + 1);
	}
}

static const struct unit_test tests[] = {
    {"q12 factors", test_q12},
    {"apply: rounded, saturated", test_apply},
    {"controls clamped", test_controls},
    {"fades", test_fade},
    {NULL, NULL},
};

UNIT_MAIN("gain", tests)
