/* test_fecloss.c: the loss an Opus encoder codes FEC for, from receiver
 * reports (rtp/fecloss.c): the steps, the cap, the hysteresis that keeps a
 * path near a boundary from flapping, the smoothing of reports, and the
 * setting of a listener who has not reported. */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

/* A fraction lost of f/256 in the estimate's 1/4096ths. */
#define EST(f) ((unsigned)(f)*16u)

static void test_steps(void)
{
	/* from nothing: any loss turns FEC on at the least useful step */
	CU_ASSERT_EQUAL(fecloss_step(0, 0), 0);
	CU_ASSERT_EQUAL(fecloss_step(0, 11), 0);
	CU_ASSERT_EQUAL(fecloss_step(0, 12), 10);
	CU_ASSERT_EQUAL(fecloss_step(0, EST(25)), 10); /* 9.8% */
	CU_ASSERT_EQUAL(fecloss_step(0, EST(26)), 15); /* 10.2% */
	CU_ASSERT_EQUAL(fecloss_step(0, EST(39)), 20); /* 15.2% */
	CU_ASSERT_EQUAL(fecloss_step(0, EST(52)), 25); /* 20.3% */
	/* capped */
	CU_ASSERT_EQUAL(fecloss_step(0, EST(255)), FECLOSS_MAX);
	CU_ASSERT_EQUAL(fecloss_step(FECLOSS_MAX, EST(255)), FECLOSS_MAX);
	/* no loss at all: off, from any setting */
	CU_ASSERT_EQUAL(fecloss_step(FECLOSS_UNKNOWN, 0), 0);
	CU_ASSERT_EQUAL(fecloss_step(FECLOSS_MAX, 0), 0);
	/* a setting between steps counts as the step below it */
	CU_ASSERT_EQUAL(fecloss_step(12, EST(25)), 10);
}

static void test_hysteresis(void)
{
	/* up at a step's threshold, down only well below it */
	CU_ASSERT_EQUAL(fecloss_step(10, 6), 10);
	CU_ASSERT_EQUAL(fecloss_step(10, 5), 0);
	CU_ASSERT_EQUAL(fecloss_step(15, EST(19)), 15); /* 7.4% */
	CU_ASSERT_EQUAL(fecloss_step(10, EST(19)), 10);
	CU_ASSERT_EQUAL(fecloss_step(15, EST(17)), 10); /* 6.6% */
	CU_ASSERT_EQUAL(fecloss_step(20, EST(31)), 20); /* 12.1% */
	CU_ASSERT_EQUAL(fecloss_step(20, EST(30)), 15);
	CU_ASSERT_EQUAL(fecloss_step(25, EST(44)), 25); /* 17.2% */
	CU_ASSERT_EQUAL(fecloss_step(25, EST(43)), 20);
	/* a big drop goes all the way down at once */
	CU_ASSERT_EQUAL(fecloss_step(25, EST(5)), 10);
}

static void test_reports(void)
{
	struct fecloss f;

	fecloss_init(&f);
	CU_ASSERT_EQUAL(f.perc, FECLOSS_UNKNOWN);
	CU_ASSERT_FALSE(f.heard);
	/* the first report sets the estimate: a clean path, no FEC */
	CU_ASSERT_TRUE(fecloss_report(&f, 0, 0));
	CU_ASSERT_EQUAL(f.perc, 0);
	CU_ASSERT_FALSE(fecloss_report(&f, 0, 0));
	/* one packet in 256 lost: on; a clean report later, off */
	CU_ASSERT_TRUE(fecloss_report(&f, 1, 0));
	CU_ASSERT_EQUAL(f.perc, 10);
	CU_ASSERT_TRUE(fecloss_report(&f, 0, 0));
	CU_ASSERT_EQUAL(f.perc, 0);
	/* a steady one in 256 keeps it on */
	CU_ASSERT_TRUE(fecloss_report(&f, 1, 0));
	for (int i = 0; i < 10; i++)
		CU_ASSERT_FALSE(fecloss_report(&f, 1, 0));
	CU_ASSERT_EQUAL(f.perc, 10);
	CU_ASSERT_TRUE(fecloss_report(&f, 0, 0));

	/* a steady 10.2% climbs as the estimate does, and stays */
	unsigned changes = 0, n = 0;
	while (f.perc < 15 && n++ < 20)
		changes += fecloss_report(&f, 26, 0);
	CU_ASSERT_EQUAL(f.perc, 15);
	CU_ASSERT_EQUAL(changes, 2); /* 0 -> 10 -> 15 */
	CU_ASSERT(n >= 3);	     /* smoothed: not at the first report */
	/* a path hovering around the boundary (7.8% .. 10.2%) no longer
	 * moves it: no change, no encoder call */
	for (int i = 0; i < 20; i++)
		CU_ASSERT_FALSE(fecloss_report(&f, i & 1 ? 20 : 26, 0));
	CU_ASSERT_EQUAL(f.perc, 15);
	/* heavy loss: up at once, capped */
	CU_ASSERT_TRUE(fecloss_report(&f, 200, 0));
	CU_ASSERT_EQUAL(f.perc, FECLOSS_MAX);
	/* the loss ends: down within a few reports */
	n = 0;
	while (f.perc && n++ < 20)
		fecloss_report(&f, 0, 0);
	CU_ASSERT_EQUAL(f.perc, 0);
	CU_ASSERT(n <= 10);
	/* the first report may say loss too */
	fecloss_init(&f);
	CU_ASSERT_TRUE(fecloss_report(&f, 60, 0));
	CU_ASSERT_EQUAL(f.perc, 25);
	fecloss_init(&f);
	CU_ASSERT_FALSE(fecloss_report(&f, 5, 0)); /* 2%: the default's step */
	CU_ASSERT_EQUAL(f.perc, 10);
}

/* Reports that stop: back to FECLOSS_UNKNOWN once the last is
 * FECLOSS_STALE_NS old, and the next report counts as a first. */
static void test_stale(void)
{
	const uint64_t s = 1000000000ull, t0 = 7 * s;
	struct fecloss f;

	fecloss_init(&f);
	CU_ASSERT_FALSE(fecloss_expire(&f, t0 + 3600 * s)); /* never heard */
	CU_ASSERT_EQUAL(f.perc, FECLOSS_UNKNOWN);
	CU_ASSERT_TRUE(fecloss_report(&f, 0, t0)); /* clean: off */
	CU_ASSERT_FALSE(fecloss_report(&f, 0, t0 + 5 * s));
	CU_ASSERT_FALSE(fecloss_expire(&f, t0 + 5 * s + FECLOSS_STALE_NS));
	CU_ASSERT_FALSE(fecloss_expire(&f, t0)); /* before the report */
	CU_ASSERT_EQUAL(f.perc, 0);
	CU_ASSERT_TRUE(fecloss_expire(&f, t0 + 5 * s + FECLOSS_STALE_NS + 1));
	CU_ASSERT_EQUAL(f.perc, FECLOSS_UNKNOWN);
	CU_ASSERT_FALSE(f.heard);
	CU_ASSERT_FALSE(fecloss_expire(&f, t0 + 3600 * s)); /* once */
	/* the next report is a first: it sets the estimate, not smoothed */
	CU_ASSERT_TRUE(fecloss_report(&f, 60, t0 + 3600 * s));
	CU_ASSERT_EQUAL(f.perc, FECLOSS_MAX);
	/* stale at the default's own step: forgotten, nothing to change */
	fecloss_init(&f);
	CU_ASSERT_FALSE(fecloss_report(&f, 5, t0));
	CU_ASSERT_FALSE(fecloss_expire(&f, t0 + FECLOSS_STALE_NS + 1));
	CU_ASSERT_FALSE(f.heard);
}

static const struct unit_test tests[] = {
    {"steps and cap", test_steps},
    {"hysteresis", test_hysteresis},
    {"reports smoothed, settings changed", test_reports},
    {"reports that stop are forgotten", test_stale},
    {NULL, NULL},
};

UNIT_MAIN("fecloss", tests)
