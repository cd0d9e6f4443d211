/* test_play.c: prompts and tones (mixer/play.c) on a mixer built by hand,
 * without its thread: a participant hears its own clips over its mix and
 * nobody else does; deaf, it still hears its own; the room's clips reach
 * everyone not deaf except the one they are about; queues, appends,
 * replacements, loops and stops; who hears something the shared encode
 * does not carry, and the room's tones over a copy of the shared mix for
 * those who share it; MIXER_EV_PLAYED once per queue played out,
 * kept when the event queue is full; bad clips ignored. */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

#define RATE_HZ 8000
#define FRAME_N 160

static struct mixer m;
static struct part *parts[3];
static int16_t own[FRAME_N], room_frame[FRAME_N], mix[FRAME_N];
static int16_t shared[FRAME_N], shared_tones[FRAME_N];

static void setup(void)
{
	memset(&m, 0, sizeof(m));
	m.p.rate_hz = RATE_HZ;
	m.frame_n = FRAME_N;
	m.own = own;
	m.room_frame = room_frame;
	m.shared = shared;
	m.shared_tones = shared_tones;
	m.parts = parts;
	m.n_parts = 3;
	CU_ASSERT_FATAL(spscq_new(&m.events, 4, sizeof(struct mixer_event)) ==
			0);
	for (int i = 0; i < 3; i++) {
		parts[i] = calloc(1, sizeof(struct part));
		CU_ASSERT_FATAL(parts[i] != NULL);
		parts[i]->id = (uint32_t)i + 1;
	}
	for (int i = 0; i < FRAME_N; i++)
		mix[i] = shared[i] = 100;
}

static void teardown(void)
{
	for (int i = 0; i < 3; i++)
		free(parts[i]);
	spscq_free(m.events);
}

static void play(uint32_t to, const struct mixer_clip *c, uint32_t tag,
		 bool append, bool loop, uint32_t except)
{
	struct mixer_cmd cmd = {.kind = MIXER_PLAY, .part_id = to};
	cmd.play = (struct mixer_play){.clip = c,
				       .tag = tag,
				       .append = append,
				       .loop = loop,
				       .except_id = except};
	play_cmd(&m, &cmd);
}

/* One tick's send step: what each participant hears, into heard[i]. */
static void tick(int16_t heard[3][FRAME_N])
{
	play_room(&m);
	for (int i = 0; i < 3; i++) {
		const int16_t *out = play_over(&m, parts[i], mix, m.own);
		memcpy(heard[i], out, sizeof(heard[i]));
	}
	play_events(&m);
}

static int played(uint32_t id, uint32_t *tag)
{
	struct mixer_event ev;
	int n = 0;
	while (spscq_pop(m.events, &ev) == 0) {
		if (ev.kind == MIXER_EV_PLAYED && ev.part_id == id) {
			n++;
			*tag = ev.tag;
		}
	}
	return n;
}

/* A clip of n samples of value v. */
static struct mixer_clip clip_of(int16_t *pcm, size_t n, int16_t v)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = v;
	return (struct mixer_clip){
	    .pcm = pcm, .n_samples = n, .rate_hz = RATE_HZ};
}

static void test_one_listener(void)
{
	static int16_t a[400];
	int16_t heard[3][FRAME_N];
	uint32_t tag = 0;
	setup();
	struct mixer_clip c = clip_of(a, 400, 1000);
	play(2, &c, 77, false, false, 0);
	tick(heard);
	CU_ASSERT_EQUAL(heard[0][0], 100);
	CU_ASSERT_EQUAL(heard[1][0], 1100); /* over its mix */
	CU_ASSERT_EQUAL(heard[2][FRAME_N - 1], 100);
	tick(heard);
	CU_ASSERT_EQUAL(played(2, &tag), 0);
	tick(heard); /* 80 samples left, then the mix alone */
	CU_ASSERT_EQUAL(heard[1][79], 1100);
	CU_ASSERT_EQUAL(heard[1][80], 100);
	CU_ASSERT_EQUAL(played(2, &tag), 1);
	CU_ASSERT_EQUAL(tag, 77);
	tick(heard);
	CU_ASSERT_EQUAL(heard[1][0], 100);
	CU_ASSERT_EQUAL(played(2, &tag), 0);
	teardown();
}

/* Clips saturate instead of wrapping, and a deaf listener hears its own
 * clips over its silence. */
static void test_saturate_and_deaf(void)
{
	static int16_t a[FRAME_N], silence[FRAME_N];
	int16_t heard[3][FRAME_N];
	setup();
	struct mixer_clip c = clip_of(a, FRAME_N, 32700);
	play(1, &c, 1, false, false, 0);
	tick(heard);
	CU_ASSERT_EQUAL(heard[0][5], 32767);
	parts[0]->ctl.deaf = true;
	play(1, &c, 1, false, false, 0);
	CU_ASSERT(play_over(&m, parts[0], silence, m.own) == own);
	CU_ASSERT_EQUAL(own[0], 32700);
	teardown();
}

/* Queued clips follow each other; a new one without append replaces
 * them; a loop goes on until stopped, and a stop sends no event. */
static void test_queue_loop_stop(void)
{
	static int16_t a[FRAME_N], b[FRAME_N], l[40];
	int16_t heard[3][FRAME_N];
	uint32_t tag = 0;
	setup();
	struct mixer_clip ca = clip_of(a, FRAME_N, 10);
	struct mixer_clip cb = clip_of(b, FRAME_N, 20);
	struct mixer_clip cl = clip_of(l, 40, 30);
	play(3, &ca, 1, false, false, 0);
	play(3, &cb, 2, true, false, 0);
	tick(heard);
	CU_ASSERT_EQUAL(heard[2][0], 110);
	tick(heard);
	CU_ASSERT_EQUAL(heard[2][0], 120);
	CU_ASSERT_EQUAL(played(3, &tag), 1);
	CU_ASSERT_EQUAL(tag, 2);

	play(3, &ca, 3, false, false, 0);
	play(3, &cl, 4, true, true, 0);
	play(3, &cb, 5, false, false, 0); /* replaces both */
	tick(heard);
	CU_ASSERT_EQUAL(heard[2][0], 120);
	CU_ASSERT_EQUAL(played(3, &tag), 1);
	CU_ASSERT_EQUAL(tag, 5);

	play(3, &cl, 6, false, true, 0);
	for (int i = 0; i < 10; i++) {
		tick(heard);
		CU_ASSERT_EQUAL(heard[2][0], 130);
		CU_ASSERT_EQUAL(heard[2][FRAME_N - 1], 130);
	}
	CU_ASSERT_EQUAL(played(3, &tag), 0);
	struct mixer_cmd stop = {.kind = MIXER_PLAY_STOP, .part_id = 3};
	play_cmd(&m, &stop);
	tick(heard);
	CU_ASSERT_EQUAL(heard[2][0], 100);
	CU_ASSERT_EQUAL(played(3, &tag), 0);
	/* A full queue of clips keeps the first PLAY_QUEUE. */
	for (int i = 0; i < PLAY_QUEUE + 3; i++)
		play(3, &ca, (uint32_t)i, true, false, 0);
	CU_ASSERT_EQUAL(parts[2]->play.count, PLAY_QUEUE);
	teardown();
}

/* The room's clip: everyone but except_id and the deaf. */
static void test_room(void)
{
	static int16_t a[FRAME_N * 2];
	int16_t heard[3][FRAME_N];
	setup();
	struct mixer_clip c = clip_of(a, FRAME_N * 2, 500);
	parts[2]->ctl.deaf = true;
	play(MIXER_ROOM, &c, 9, false, false, 1);
	tick(heard);
	CU_ASSERT_EQUAL(heard[0][0], 100);
	CU_ASSERT_EQUAL(heard[1][0], 600);
	CU_ASSERT_EQUAL(heard[2][0], 100);
	tick(heard);
	CU_ASSERT_EQUAL(heard[1][FRAME_N - 1], 600);
	tick(heard);
	CU_ASSERT_EQUAL(heard[1][0], 100);
	CU_ASSERT_FALSE(m.room_sounds);
	teardown();
}

/* play_own() is true for whoever hears something of play.c this tick
 * that the shared encode does not carry, which tick.c keeps off it: its
 * own clip, or the room's tones when they are about it. The room's tones
 * are in shared_out, over the shared mix, which itself stays as it was
 * (the recording's); false and the shared mix again once played out. */
static void test_own(void)
{
	static int16_t a[FRAME_N], b[FRAME_N];
	int16_t heard[3][FRAME_N];
	setup();
	play_room(&m);
	CU_ASSERT(m.shared_out == shared);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_FALSE(play_own(&m, parts[i]));
	struct mixer_clip c = clip_of(a, FRAME_N, 5);
	play(2, &c, 1, false, false, 0);
	play_room(&m);
	CU_ASSERT_FALSE(play_own(&m, parts[0]));
	CU_ASSERT(play_own(&m, parts[1]));
	tick(heard); /* played out */
	CU_ASSERT_FALSE(play_own(&m, parts[1]));

	struct mixer_clip r = clip_of(b, FRAME_N, 5);
	parts[2]->ctl.deaf = true;
	play(MIXER_ROOM, &r, 2, false, false, 1);
	play_room(&m);
	CU_ASSERT(play_own(&m, parts[0])); /* the one it is about */
	CU_ASSERT_FALSE(play_own(&m, parts[1]));
	CU_ASSERT_FALSE(play_own(&m, parts[2]));
	CU_ASSERT(m.shared_out == shared_tones);
	CU_ASSERT_EQUAL(shared_tones[0], 105);
	CU_ASSERT_EQUAL(shared_tones[FRAME_N - 1], 105);
	CU_ASSERT_EQUAL(shared[0], 100);
	play_room(&m); /* played out */
	CU_ASSERT(m.shared_out == shared);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_FALSE(play_own(&m, parts[i]));
	teardown();
}

/* A full event queue keeps MIXER_EV_PLAYED for a later tick. */
static void test_event_kept(void)
{
	static int16_t a[10];
	int16_t heard[3][FRAME_N];
	uint32_t tag = 0;
	setup();
	struct mixer_event filler = {.kind = MIXER_EV_TALKING};
	while (events_push(&m, &filler))
		;
	struct mixer_clip c = clip_of(a, 10, 1);
	play(1, &c, 42, false, false, 0);
	tick(heard);
	CU_ASSERT_EQUAL(played(1, &tag), 0); /* drained: only fillers */
	tick(heard);
	CU_ASSERT_EQUAL(played(1, &tag), 1);
	CU_ASSERT_EQUAL(tag, 42);
	teardown();
}

/* Clips with no version at the room rate (silent for their time), empty
 * clips and unknown participants change nothing; mixer_post() refuses a PLAY
 * without a clip. */
static void test_bad(void)
{
	static int16_t a[FRAME_N];
	int16_t heard[3][FRAME_N];
	setup();
	struct mixer_clip c = clip_of(a, FRAME_N, 7);
	struct mixer_clip c48 = c; /* no version at the room rate: silent */
	c48.rate_hz = 48000;
	play(1, &c48, 1, false, false, 0);
	struct mixer_clip empty = {
	    .pcm = a, .n_samples = 0, .rate_hz = RATE_HZ};
	play(1, &empty, 1, false, false, 0);
	struct mixer_clip none = {
	    .pcm = NULL, .n_samples = 5, .rate_hz = RATE_HZ};
	play(1, &none, 1, false, false, 0);
	c.rate_hz = RATE_HZ;
	play(99, &c, 1, false, false, 0);
	tick(heard);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(heard[i][0], 100);
	teardown();

	struct mixer *mx;
	struct mixer_params mp = {
	    .room = "p", .rate_hz = 8000, .notify_fd = -1};
	CU_ASSERT_FATAL(mixer_start(&mx, &mp) == 0);
	struct mixer_cmd cmd = {.kind = MIXER_PLAY, .part_id = 1};
	CU_ASSERT_EQUAL(mixer_post(mx, &cmd), -EINVAL);
	mixer_stop(mx);
	mixer_free(mx);
}

static const struct unit_test tests[] = {
    {"one listener hears its clip", test_one_listener},
    {"saturation, deaf listener", test_saturate_and_deaf},
    {"queue, replace, loop, stop", test_queue_loop_stop},
    {"room clips", test_room},
    {"who cannot share an encode; tones in it", test_own},
    {"played event kept when full", test_event_kept},
    {"bad clips ignored", test_bad},
    {NULL, NULL},
};

UNIT_MAIN("play", tests)
