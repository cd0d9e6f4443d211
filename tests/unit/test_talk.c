/* test_talk.c: the talker detector alone, frame by frame, without a mixer:
 * its level in dBFS, the attack that ignores a click, the hang-over that
 * bridges pauses, and the hysteresis between off_db and on_db. Defaults
 * are on -40 dBFS, off -50 dBFS, attack 40 ms (2 frames), hang-over
 * 600 ms (30 frames). */
#include "mixer/mixer.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>

#define RATE_HZ 48000
#define FRAME_N (RATE_HZ / 50)

static int16_t frame[FRAME_N];
static uint64_t phase;

/* A 1 kHz sine at db dBFS (RMS relative to 32768), continuing its phase. */
static const int16_t *tone(double db)
{
	double amp = 32768.0 * sqrt(2.0) * pow(10, db / 20);
	unit_sine(frame, FRAME_N, 1000, RATE_HZ, amp, phase);
	phase += FRAME_N;
	return frame;
}

static const int16_t *silence(void)
{
	memset(frame, 0, sizeof(frame));
	return frame;
}

static void start(struct talk *t)
{
	struct talk_params p = {0};
	CU_ASSERT_FATAL(talk_params_resolve(&p) == 0);
	talk_init(t, &p);
}

/* Feeds n frames at db (or silence when db is NAN); returns how many of
 * them changed the state. */
static int feed(struct talk *t, double db, int n)
{
	int changes = 0;
	for (int i = 0; i < n; i++) {
		const int16_t *f = isnan(db) ? silence() : tone(db);
		changes += talk_update(t, f, FRAME_N);
	}
	return changes;
}

/* Makes t talk with a -20 dBFS tone. */
static void talking(struct talk *t)
{
	start(t);
	CU_ASSERT_EQUAL(feed(t, -20, 2), 1);
	CU_ASSERT_FATAL(t->talking);
}

static void test_params(void)
{
	struct talk_params p = {0}, d = talk_params_default();
	struct talk t;

	CU_ASSERT_EQUAL(d.on_db, -40);
	CU_ASSERT_EQUAL(d.off_db, -50);
	CU_ASSERT_EQUAL(d.attack_ms, 40);
	CU_ASSERT_EQUAL(d.hangover_ms, 600);
	CU_ASSERT_EQUAL(talk_params_resolve(&p), 0);
	CU_ASSERT(memcmp(&p, &d, sizeof(p)) == 0);

	p = (struct talk_params){.attack_ms = 50, .hangover_ms = 100};
	CU_ASSERT_EQUAL(talk_params_resolve(&p), 0);
	talk_init(&t, &p);
	CU_ASSERT_EQUAL(t.attack_frames, 3); /* rounded up */
	CU_ASSERT_EQUAL(t.hangover_frames, 5);

	p = (struct talk_params){.on_db = -50, .off_db = -40};
	CU_ASSERT_EQUAL(talk_params_resolve(&p), -EINVAL);
	p = (struct talk_params){.on_db = 3};
	CU_ASSERT_EQUAL(talk_params_resolve(&p), -EINVAL);
	p = (struct talk_params){.on_db = -30, .off_db = -200};
	CU_ASSERT_EQUAL(talk_params_resolve(&p), -EINVAL);
}

static void test_level(void)
{
	struct talk t;

	start(&t);
	talk_update(&t, tone(-20), FRAME_N);
	CU_ASSERT_EQUAL(t.level_db, -20);
	talk_update(&t, tone(-37.2), FRAME_N);
	CU_ASSERT_EQUAL(t.level_db, -37);
	talk_update(&t, silence(), FRAME_N);
	CU_ASSERT_EQUAL(t.level_db, TALK_SILENCE_DB);
	for (int i = 0; i < FRAME_N; i++)
		frame[i] = (int16_t)(i % 2 ? INT16_MIN : INT16_MAX);
	talk_update(&t, frame, FRAME_N);
	CU_ASSERT_EQUAL(t.level_db, 0); /* full-scale square wave */
	talk_update(&t, frame, 0);
	CU_ASSERT_EQUAL(t.level_db, TALK_SILENCE_DB);
}

static void test_silence(void)
{
	struct talk t;

	start(&t);
	CU_ASSERT_EQUAL(feed(&t, NAN, 500), 0);
	CU_ASSERT_EQUAL(feed(&t, -60, 500), 0); /* quiet, not silent */
	CU_ASSERT(!t.talking);
}

static void test_attack(void)
{
	struct talk t;

	start(&t);
	CU_ASSERT(!talk_update(&t, tone(-20), FRAME_N)); /* 20 ms */
	CU_ASSERT(!t.talking);
	CU_ASSERT(talk_update(&t, tone(-20), FRAME_N)); /* 40 ms */
	CU_ASSERT(t.talking);
	CU_ASSERT_EQUAL(t.changed_db, -20);
	CU_ASSERT_EQUAL(feed(&t, -20, 100), 0);
	CU_ASSERT(t.talking);
}

static void test_click(void)
{
	struct talk t;

	start(&t);
	for (int i = 0; i < 20; i++) {
		CU_ASSERT(!talk_update(&t, tone(-6), FRAME_N));
		CU_ASSERT_EQUAL(feed(&t, NAN, 1 + i % 3), 0);
	}
	CU_ASSERT(!t.talking);
	/* A click followed by a level between the thresholds: no start. */
	CU_ASSERT(!talk_update(&t, tone(-6), FRAME_N));
	CU_ASSERT(!talk_update(&t, tone(-45), FRAME_N));
	CU_ASSERT(!talk_update(&t, tone(-6), FRAME_N));
	CU_ASSERT(!t.talking);
}

static void test_pauses(void)
{
	struct talk t;

	talking(&t);
	for (int i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(feed(&t, NAN, 29), 0); /* 580 ms */
		CU_ASSERT_EQUAL(feed(&t, -30, 1), 0);
	}
	CU_ASSERT(t.talking);
}

static void test_hangover(void)
{
	struct talk t;

	talking(&t);
	CU_ASSERT_EQUAL(feed(&t, NAN, 29), 0);
	CU_ASSERT(t.talking);
	CU_ASSERT(talk_update(&t, silence(), FRAME_N)); /* 600 ms */
	CU_ASSERT(!t.talking);
	CU_ASSERT_EQUAL(t.changed_db, TALK_SILENCE_DB);
	CU_ASSERT_EQUAL(feed(&t, NAN, 100), 0);

	/* Below off_db but not silent stops it too. */
	talking(&t);
	CU_ASSERT_EQUAL(feed(&t, -55, 29), 0);
	CU_ASSERT(talk_update(&t, tone(-55), FRAME_N));
	CU_ASSERT_EQUAL(t.changed_db, -55);
}

static void test_hysteresis(void)
{
	struct talk t;

	/* Between -50 and -40 dBFS: not talking stays so... */
	start(&t);
	CU_ASSERT_EQUAL(feed(&t, -45, 200), 0);
	CU_ASSERT(!t.talking);
	/* ...and talking stays so, longer than the hang-over. */
	talking(&t);
	CU_ASSERT_EQUAL(feed(&t, -45, 200), 0);
	CU_ASSERT(t.talking);
	/* A frame between the thresholds restarts the hang-over. */
	CU_ASSERT_EQUAL(feed(&t, NAN, 25), 0);
	CU_ASSERT_EQUAL(feed(&t, -45, 1), 0);
	CU_ASSERT_EQUAL(feed(&t, NAN, 29), 0);
	CU_ASSERT(t.talking);
	CU_ASSERT_EQUAL(feed(&t, NAN, 1), 1);
}

static void test_other_params(void)
{
	struct talk_params p = {
	    .on_db = -30, .off_db = -35, .attack_ms = 100, .hangover_ms = 60};
	struct talk t;

	CU_ASSERT_FATAL(talk_params_resolve(&p) == 0);
	talk_init(&t, &p);
	CU_ASSERT_EQUAL(feed(&t, -33, 50), 0);
	CU_ASSERT_EQUAL(feed(&t, -20, 4), 0);
	CU_ASSERT_EQUAL(feed(&t, -20, 1), 1);
	CU_ASSERT_EQUAL(feed(&t, -40, 2), 0);
	CU_ASSERT_EQUAL(feed(&t, -40, 1), 1);
}

/* The smoothed power follows a steady tone to its mean square and ranks
 * a louder one higher; silence lets it fall. */
static void test_power(void)
{
	struct talk t, u;

	start(&t);
	start(&u);
	CU_ASSERT_EQUAL(t.power, 0);
	feed(&t, -20, 60);
	feed(&u, -26, 60);
	CU_ASSERT_DOUBLE_EQUAL(t.power, 0.01, 0.0005); /* -20 dB */
	CU_ASSERT(t.power > 3.5f * u.power && t.power < 4.5f * u.power);
	feed(&t, NAN, 20);
	CU_ASSERT(t.power < 0.01 * 0.1);
}

/* RFC 6464 levels (-dBov) drive the same hysteresis as measured frames,
 * and give the same smoothed power as a tone at that level. */
static void test_sent_level(void)
{
	struct talk t, m;

	start(&t);
	start(&m);
	CU_ASSERT(!talk_update_level(&t, 20));
	CU_ASSERT_EQUAL(t.level_db, -20);
	CU_ASSERT(talk_update_level(&t, 20)); /* 40 ms: talking */
	CU_ASSERT(t.talking);
	talk_update(&m, tone(-20), FRAME_N);
	talk_update(&m, tone(-20), FRAME_N);
	CU_ASSERT(m.power > 0.9f * t.power && m.power < 1.1f * t.power);
	for (int i = 0; i < 10; i++)
		CU_ASSERT(!talk_update_level(&t, 45)); /* between: holds */
	CU_ASSERT(t.talking);
	int changes = 0;
	for (int i = 0; i < 30; i++) /* 600 ms of silence */
		changes += talk_update_level(&t, 127);
	CU_ASSERT_EQUAL(changes, 1);
	CU_ASSERT(!t.talking);
	CU_ASSERT_EQUAL(t.level_db, TALK_SILENCE_DB);
	talk_update_level(&t, 200); /* out of range: silence */
	CU_ASSERT_EQUAL(t.level_db, TALK_SILENCE_DB);
	talk_update_level(&t, 0);
	CU_ASSERT_EQUAL(t.level_db, 0);
}

static const struct unit_test tests[] = {
    {"levels the caller sent", test_sent_level},
    {"smoothed power", test_power},
    {"params and defaults", test_params},
    {"level in dBFS", test_level},
    {"silence never talks", test_silence},
    {"attack: starts after 40 ms, not before", test_attack},
    {"a click does not start", test_click},
    {"pauses under the hang-over", test_pauses},
    {"stops after the hang-over, not before", test_hangover},
    {"hysteresis between off and on", test_hysteresis},
    {"other thresholds and times", test_other_params},
    {NULL, NULL},
};

UNIT_MAIN("talk", tests)
