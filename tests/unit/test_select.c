/* test_select.c: speaker selection (mixer/select.c) with synthetic
 * participants: no sockets, no thread, no audio; each "tick" sets every
 * participant's received audio, talking state, level and smoothed power
 * by hand and runs select_speakers() on a bare struct mixer. Checked: the
 * K loudest are chosen, newcomers take a place only when clearly louder
 * for 200 ms, one swap at a time; a speaker keeps its place through its
 * hang-over; fades on entering and leaving mid-utterance, none from
 * silence; muted and silent participants leave at once; K = 0 mixes every
 * talker. (The fades themselves are gain.c's: test_gain.c.) */
#include "mixer/mixer_priv.h"

#include "tests/unit/unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 16

static struct mixer m;
static struct part *parts[MAX_PARTS], *contribs[MAX_PARTS];

static void room(unsigned n, unsigned k)
{
	memset(&m, 0, sizeof(m));
	m.parts = parts;
	m.contribs = contribs;
	m.n_parts = n;
	m.p.max_speakers = k;
	for (unsigned i = 0; i < n; i++) {
		free(parts[i]);
		parts[i] = calloc(1, sizeof(struct part));
		CU_ASSERT_FATAL(parts[i] != NULL);
		parts[i]->id = 100 + i;
		parts[i]->talk_q12 = parts[i]->listen_q12 = GAIN_UNITY;
		parts[i]->talk.on_db = -40;
	}
}

static void room_free(void)
{
	for (unsigned i = 0; i < MAX_PARTS; i++) {
		free(parts[i]);
		parts[i] = NULL;
	}
}

/* Participant i this tick: its frame at db dBFS and talking, or (db
 * below -100) silence and not talking. */
static void set(unsigned i, int db, bool talking)
{
	struct part *pt = parts[i];
	pt->received = true;
	pt->talk.talking = talking;
	pt->talk.level_db = db;
	pt->talk.power = db < -100 ? 0 : powf(10, (float)db / 10);
}

/* One tick; returns a bit mask of the contributors. */
static unsigned tick(void)
{
	unsigned mask = 0;
	select_speakers(&m);
	for (size_t c = 0; c < m.n_contribs; c++)
		mask |= 1u << (m.contribs[c]->id - 100);
	for (unsigned i = 0; i < m.n_parts; i++)
		CU_ASSERT_EQUAL(parts[i]->contributing, (mask >> i & 1) != 0);
	return mask;
}

static unsigned selected(void)
{
	unsigned mask = 0;
	for (unsigned i = 0; i < m.n_parts; i++)
		mask |= (unsigned)parts[i]->selected << i;
	return mask;
}

static bool fading_in(unsigned i)
{
	return parts[i]->fade == FADE_IN;
}

static bool fading_out(unsigned i)
{
	return parts[i]->fade == FADE_OUT;
}

static bool untouched(unsigned i)
{
	return parts[i]->fade == FADE_NONE;
}

/* Fewer talkers than places: every talker, nobody else; from silence a
 * talker starts at once, unfaded, on its first loud frame. */
static void test_few_talkers(void)
{
	room(6, 4);
	for (unsigned i = 0; i < 6; i++)
		set(i, -127, false);
	CU_ASSERT_EQUAL(tick(), 0);
	set(2, -20, false); /* first loud frame: not talking yet */
	set(4, -45, false); /* below on_db, not talking: noise */
	CU_ASSERT_EQUAL(tick(), 1u << 2);
	CU_ASSERT(untouched(2));
	set(2, -20, true);
	set(5, -30, false);
	CU_ASSERT_EQUAL(tick(), 1u << 2 | 1u << 5);
	CU_ASSERT(untouched(5));
	/* A talker kept waiting while the places were full starts mid-
	 * utterance when one frees: faded in. */
	room(2, 1);
	set(0, -20, true);
	set(1, -127, false);
	tick();
	set(1, -25, true);
	CU_ASSERT_EQUAL(tick(), 1u);
	set(0, -127, false);
	CU_ASSERT_EQUAL(tick(), 3u);
	CU_ASSERT(fading_out(0) && fading_in(1));
	room_free();
}

/* Six talkers, the quiet ones first: the four places fill with whoever
 * talks; louder ones take places one at a time, each after 200 ms of
 * being clearly louder; at the end the four loudest. */
static void test_four_loudest(void)
{
	static const int db[6] = {-40 + 1, -34, -28, -22, -16, -10};
	room(6, 4);
	for (unsigned i = 0; i < 6; i++)
		set(i, i < 4 ? db[i] : -127, i < 4);
	CU_ASSERT_EQUAL(tick(), 0xfu);
	for (unsigned i = 4; i < 6; i++)
		set(i, db[i], true);
	/* Nine ticks of challenge: nothing changes yet. */
	for (int t = 0; t < 9; t++)
		CU_ASSERT_EQUAL(tick(), 0xfu);
	/* The tenth: the loudest waiting (5) takes the quietest's (0)
	 * place; 0 fades out while 5 fades in. */
	CU_ASSERT_EQUAL(tick(), 0x2fu);
	CU_ASSERT_EQUAL(selected(), 0x2eu);
	CU_ASSERT(fading_out(0));
	CU_ASSERT(fading_in(5));
	CU_ASSERT(untouched(1));
	/* The next challenger (4) needs its own 200 ms. */
	CU_ASSERT_EQUAL(tick(), 0x2eu);
	CU_ASSERT(untouched(5));
	for (int t = 0; t < 8; t++)
		CU_ASSERT_EQUAL(tick(), 0x2eu);
	CU_ASSERT_EQUAL(tick(), 0x3eu); /* 1 fades out, 4 fades in */
	CU_ASSERT_EQUAL(selected(), 0x3cu);
	CU_ASSERT(fading_out(1) && fading_in(4));
	for (int t = 0; t < 50; t++)
		CU_ASSERT_EQUAL(tick(), 0x3cu);
	room_free();
}

/* Two talkers 2 dB apart with one place: the first keeps it. */
static void test_margin(void)
{
	room(2, 1);
	set(0, -22, true);
	set(1, -127, false);
	CU_ASSERT_EQUAL(tick(), 1u);
	set(1, -20, true);
	for (int t = 0; t < 100; t++)
		CU_ASSERT_EQUAL(tick(), 1u);
	/* 4 dB louder: it takes over after 200 ms. */
	set(1, -18, true);
	for (int t = 0; t < 9; t++)
		CU_ASSERT_EQUAL(tick(), 1u);
	CU_ASSERT_EQUAL(tick(), 3u);
	CU_ASSERT_EQUAL(tick(), 2u);
	room_free();
}

/* A challenger that falls back before 200 ms starts over. */
static void test_challenge_restarts(void)
{
	room(2, 1);
	set(0, -30, true);
	set(1, -127, false);
	tick();
	set(1, -20, true);
	for (int t = 0; t < 9; t++)
		CU_ASSERT_EQUAL(tick(), 1u);
	set(1, -29, true); /* not clearly louder for one tick */
	CU_ASSERT_EQUAL(tick(), 1u);
	set(1, -20, true);
	for (int t = 0; t < 9; t++)
		CU_ASSERT_EQUAL(tick(), 1u);
	CU_ASSERT_EQUAL(tick(), 3u);
	room_free();
}

/* A speaker keeps its place through a pause while the detector still
 * says talking (its hang-over), even when quiet, against a waiting talker
 * who is not clearly louder than its smoothed power; when the detector
 * stops it fades out, and the waiting talker takes the place, faded in. */
static void test_hangover(void)
{
	room(2, 1);
	set(0, -20, true);
	set(1, -127, false);
	CU_ASSERT_EQUAL(tick(), 1u);
	set(0, -60, true);			/* pause between words */
	parts[0]->talk.power = powf(10, -2.2f); /* smoothed: -22 dB */
	set(1, -24, true);
	for (int t = 0; t < 20; t++)
		CU_ASSERT_EQUAL(tick(), 1u);
	CU_ASSERT(untouched(0));
	set(0, -60, false); /* hang-over over */
	CU_ASSERT_EQUAL(tick(), 3u);
	CU_ASSERT(fading_out(0));
	CU_ASSERT(fading_in(1));
	CU_ASSERT_EQUAL(tick(), 2u);
	room_free();
}

/* Muted or with its audio gone: out at once, no fade. */
static void test_mute_and_gone(void)
{
	room(3, 4);
	for (unsigned i = 0; i < 3; i++)
		set(i, -20, true);
	CU_ASSERT_EQUAL(tick(), 7u);
	parts[0]->ctl.muted = true;
	parts[1]->received = false;
	CU_ASSERT_EQUAL(tick(), 4u);
	CU_ASSERT_EQUAL(selected(), 4u);
	room_free();
}

/* K = 0: every talker, however many. */
static void test_all(void)
{
	room(MAX_PARTS, 0);
	for (unsigned i = 0; i < MAX_PARTS; i++)
		set(i, i % 2 ? -20 : -127, i % 2);
	CU_ASSERT_EQUAL(tick(), 0xaaaau);
	room_free();
}

static const struct unit_test tests[] = {
    {"fewer talkers than places", test_few_talkers},
    {"the four loudest, one swap at a time", test_four_loudest},
    {"a margin before a swap", test_margin},
    {"a challenge restarts", test_challenge_restarts},
    {"hang-over keeps the place; fades", test_hangover},
    {"muted or gone: out at once", test_mute_and_gone},
    {"max speakers 0: every talker", test_all},
    {NULL, NULL},
};

UNIT_MAIN("select", tests)
