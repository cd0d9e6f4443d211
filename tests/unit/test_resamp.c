/* test_resamp.c: sample-rate conversion (rtp/resamp.c) keeps a tone's
 * frequency and level, frame after frame, and over a whole clip. */
#include "rtp/rtp.h"
#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_up_and_down(void)
{
	struct resamp *up, *down;
	int16_t in[160], mid[960], out[160];

	CU_ASSERT_EQUAL_FATAL(resamp_new(&up, 8000, 48000), 0);
	CU_ASSERT_EQUAL_FATAL(resamp_new(&down, 48000, 8000), 0);
	for (size_t f = 0; f < 50; f++) {
		unit_sine(in, 160, 1000, 8000, 10000, f * 160);
		/* Whole ratios give whole frames, every time. */
		CU_ASSERT_EQUAL(resamp_run(up, in, 160, mid, 960), 960);
		CU_ASSERT_EQUAL(resamp_run(down, mid, 960, out, 160), 160);
		if (f < 5)
			continue;
		double a48 = unit_tone_amp(mid, 960, 1000, 48000);
		double a8 = unit_tone_amp(out, 160, 1000, 8000);
		/* Level within 1 dB, and the tone is nearly all there is. */
		CU_ASSERT_DOUBLE_EQUAL(a48, 10000, 1100);
		CU_ASSERT_DOUBLE_EQUAL(a8, 10000, 1100);
		CU_ASSERT_TRUE(a48 * a48 / 2 >
			       0.98 * pow(unit_rms(mid, 960), 2));
		CU_ASSERT_TRUE(a8 * a8 / 2 > 0.98 * pow(unit_rms(out, 160), 2));
		CU_ASSERT_TRUE(unit_tone_amp(out, 160, 2000, 8000) < 200);
	}
	resamp_free(up);
	resamp_free(down);
}

static void test_copy_and_limits(void)
{
	struct resamp *r;
	int16_t in[320], out[1920];

	for (size_t i = 0; i < 320; i++)
		in[i] = (int16_t)(i * 7 - 1000);
	CU_ASSERT_EQUAL_FATAL(resamp_new(&r, 16000, 16000), 0);
	CU_ASSERT_EQUAL(resamp_run(r, in, 320, out, 320), 320);
	CU_ASSERT_EQUAL(memcmp(in, out, sizeof(in)), 0);
	CU_ASSERT_EQUAL(resamp_run(r, in, 320, out, 319), -ENOSPC);
	CU_ASSERT_EQUAL(resamp_run(r, NULL, 0, out, 0), 0);
	resamp_free(r);

	CU_ASSERT_EQUAL_FATAL(resamp_new(&r, 16000, 48000), 0);
	CU_ASSERT_EQUAL(resamp_run(r, in, 320, out, 959), -ENOSPC);
	CU_ASSERT_EQUAL(resamp_run(r, in, 320, out, 1920), 960);
	resamp_free(r);

	CU_ASSERT_EQUAL(resamp_new(&r, 0, 8000), -EINVAL);
	CU_ASSERT_EQUAL(resamp_new(&r, 8000, 0), -EINVAL);
	resamp_free(NULL);
}

/* After a reset the converter gives what a new one gives, sample for
 * sample, whatever it had seen before. */
static void test_reset(void)
{
	struct resamp *used, *fresh;
	int16_t in[160], a[960], b[960];

	CU_ASSERT_EQUAL_FATAL(resamp_new(&used, 8000, 48000), 0);
	CU_ASSERT_EQUAL_FATAL(resamp_new(&fresh, 8000, 48000), 0);
	for (size_t f = 0; f < 7; f++) {
		unit_sine(in, 160, 700, 8000, 20000, f * 160);
		resamp_run(used, in, 160, a, 960);
	}
	resamp_reset(used);
	for (size_t f = 0; f < 3; f++) {
		unit_sine(in, 160, 1000, 8000, 10000, f * 160);
		CU_ASSERT_EQUAL(resamp_run(used, in, 160, a, 960), 960);
		CU_ASSERT_EQUAL(resamp_run(fresh, in, 160, b, 960), 960);
		CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
	}
	resamp_reset(NULL);
	resamp_free(used);
	resamp_free(fresh);
}

/* A whole clip at an odd rate (a speech synthesizer's 22050 Hz) comes
 * out at the exact length, with its tone, to its very end. */
static void test_clip(void)
{
	static int16_t in[22050];
	int16_t *out = NULL;
	size_t n = 0;

	unit_sine(in, 22050, 440, 22050, 8000, 0);
	CU_ASSERT_EQUAL_FATAL(resamp_clip(in, 22050, 22050, 48000, &out, &n),
			      0);
	CU_ASSERT_EQUAL(n, 48000);
	CU_ASSERT_DOUBLE_EQUAL(unit_tone_amp(out + 1000, 4800, 440, 48000),
			       8000, 900);
	CU_ASSERT_DOUBLE_EQUAL(unit_tone_amp(out + n - 4800, 4800, 440, 48000),
			       8000, 900);
	free(out);
	CU_ASSERT_EQUAL_FATAL(resamp_clip(in, 100, 8000, 8000, &out, &n), 0);
	CU_ASSERT_EQUAL(n, 100);
	CU_ASSERT_EQUAL(memcmp(in, out, 100 * sizeof(*in)), 0);
	free(out);
	CU_ASSERT_EQUAL(resamp_clip(in, 0, 8000, 48000, &out, &n), -EINVAL);
	CU_ASSERT_EQUAL(resamp_clip(NULL, 5, 8000, 48000, &out, &n), -EINVAL);
	CU_ASSERT_EQUAL(resamp_clip(in, 5, 0, 48000, &out, &n), -EINVAL);
	CU_ASSERT_EQUAL(resamp_clip(in, 5, 8000, 0, &out, &n), -EINVAL);
}

/* Room converters (resamp_new_room): a G.711 tone through the room and
 * back takes the same time at 8, 16 and 48 kHz (the copy at 8 kHz is
 * delayed by as much as 8 -> 48 -> 8 kHz converters delay), so what comes
 * out of either path is the same, sample for sample, to within the
 * filters' ripple. */
static void test_room_aligned(void)
{
	static const uint32_t rooms[] = {8000, 16000, 48000};
	struct resamp *in[3], *out[3];
	int16_t tone[160], mid[960], got[3][160];
	double worst = 0;

	for (size_t k = 0; k < 3; k++) {
		CU_ASSERT_EQUAL_FATAL(
		    resamp_new_room(&in[k], 8000, rooms[k], true, 8000), 0);
		CU_ASSERT_EQUAL_FATAL(
		    resamp_new_room(&out[k], 8000, rooms[k], false, 8000), 0);
		CU_ASSERT_PTR_NOT_NULL(in[k]);
		CU_ASSERT_EQUAL(resamp_latency_ns(in[k]) +
				    resamp_latency_ns(out[k]),
				6000000);
	}
	for (size_t f = 0; f < 20; f++) {
		unit_sine(tone, 160, 440, 8000, 10000, f * 160);
		for (size_t k = 0; k < 3; k++) {
			size_t n = rooms[k] / 50;
			resamp_exact(in[k], tone, 160, mid, n);
			resamp_exact(out[k], mid, n, got[k], 160);
		}
		for (size_t i = 0; f > 2 && i < 160; i++) {
			double d1 = fabs((double)got[1][i] - got[0][i]);
			double d2 = fabs((double)got[2][i] - got[0][i]);
			worst = fmax(worst, fmax(d1, d2));
		}
	}
	CU_ASSERT(worst < 300); /* 3 % of the tone */
	for (size_t k = 0; k < 3; k++) {
		resamp_free(in[k]);
		resamp_free(out[k]);
	}
	/* No conversion and no delay needed: a plain copy. */
	struct resamp *r = (struct resamp *)1;
	CU_ASSERT_EQUAL(resamp_new_room(&r, 48000, 48000, true, 48000), 0);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(resamp_new_room(&r, 0, 48000, true, 8000), -EINVAL);
}

/* A detector's converter (quality 1, rtp/dtmfband.c): 16 kHz down to
 * 8 kHz keeps a 1 kHz tone and takes more than 50 dB off one at 7 kHz,
 * which would otherwise fold onto 1 kHz. Qualities outside 0-10 are
 * refused. */
static void test_quality(void)
{
	struct resamp *r = NULL;
	static int16_t in[16000], out[8000];
	CU_ASSERT_EQUAL(resamp_new_quality(&r, 16000, 8000, -1), -EINVAL);
	CU_ASSERT_EQUAL(resamp_new_quality(&r, 16000, 8000, 11), -EINVAL);
	CU_ASSERT_PTR_NULL(r);
	for (int k = 0; k < 2; k++) {
		double f = k ? 7000 : 1000;
		CU_ASSERT_FATAL(resamp_new_quality(&r, 16000, 8000, 1) == 0);
		unit_sine(in, 16000, f, 16000, 10000, 0);
		for (size_t i = 0; i < 50; i++)
			resamp_exact(r, in + i * 320, 320, out + i * 160, 160);
		double a = unit_tone_amp(out + 800, 7200, 1000, 8000);
		CU_ASSERT(k ? a < 10000 / 316.0 : a > 9000);
		resamp_free(r);
	}
}

static const struct unit_test tests[] = {
    {"room converters: the same delay at every room rate", test_room_aligned},
    {"8k to 48k to 8k keeps a tone", test_up_and_down},
    {"copy and limits", test_copy_and_limits},
    {"reset: as new", test_reset},
    {"a whole clip", test_clip},
    {"a detector's quality", test_quality},
    {NULL, NULL},
};

UNIT_MAIN("resamp", tests)
