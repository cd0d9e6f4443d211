/* test_dtmfband.c: in-band key presses heard in 8 kHz audio: digits made
 * by spandsp's own generator, through G.711 and back; how long a press
 * lasted; when its tones are present (so that the stream can keep them
 * out of the mix); and sounds that are no digits at all. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <spandsp.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_N 160 /* 20 ms at 8 kHz */

/* n samples of keys from spandsp's generator (on/off times in ms), then
 * silence. */
static int16_t *make_digits(const char *keys, int on_ms, int off_ms, size_t n)
{
	int16_t *pcm = calloc(n, sizeof(*pcm));
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	CU_ASSERT_FATAL(pcm && tx);
	dtmf_tx_set_timing(tx, on_ms, off_ms);
	dtmf_tx_put(tx, keys, -1);
	dtmf_tx(tx, pcm, (int)n);
	dtmf_tx_free(tx);
	return pcm;
}

/* Feeds pcm in 20 ms frames; the keys heard go to keys, the frames in
 * which tones were heard to heard[] (when not NULL). */
static void hear(struct dtmfband *b, const int16_t *pcm, size_t n, char *keys,
		 bool *heard, uint32_t *last_ms)
{
	for (size_t f = 0; f + FRAME_N <= n; f += FRAME_N) {
		struct digit d[4];
		size_t got = dtmfband_feed(b, pcm + f, FRAME_N, d, 4);
		for (size_t i = 0; i < got; i++) {
			CU_ASSERT_EQUAL(d[i].source, DIGIT_INBAND);
			keys[strlen(keys)] = d[i].key;
			if (last_ms)
				*last_ms = d[i].duration_ms;
		}
		if (heard)
			heard[f / FRAME_N] = dtmfband_heard(b);
	}
}

static void test_digits(void)
{
	struct dtmfband *b;
	char keys[32] = "";
	size_t n = 8000 * 3;
	int16_t *pcm = make_digits("1234567890*#ABCD", 60, 60, n);
	CU_ASSERT_FATAL(dtmfband_new(&b) == 0);
	hear(b, pcm, n, keys, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(keys, "1234567890*#ABCD");
	dtmfband_free(b);
	free(pcm);
}

/* A 200 ms press is measured at 200 ms, to a frame or so; its tones are
 * flagged in the frames where they sound, never long before or after. */
static void test_duration_and_presence(void)
{
	struct dtmfband *b;
	char keys[8] = "";
	size_t n = 8000;
	bool heard[50] = {0};
	uint32_t ms = 0;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	int16_t *tone = make_digits("5", 200, 100, 1600);
	memcpy(pcm + 1600, tone, 1600 * sizeof(*pcm)); /* 200..400 ms */
	CU_ASSERT_FATAL(dtmfband_new(&b) == 0);
	hear(b, pcm, n, keys, heard, &ms);
	CU_ASSERT_STRING_EQUAL(keys, "5");
	CU_ASSERT(ms >= 160 && ms <= 240);
	int first = -1, last = -1;
	for (int i = 0; i < 50; i++) {
		if (heard[i] && first < 0)
			first = i;
		if (heard[i])
			last = i;
	}
	/* Tones sound in frames 10..19; detection takes a frame or two. */
	CU_ASSERT(first >= 10 && first <= 12);
	CU_ASSERT(last >= 19 && last <= 21);
	dtmfband_free(b);
	free(pcm);
	free(tone);
}

/* Through G.711 and back, as a desk phone's tones reach us. */
static void test_through_g711(void)
{
	struct dtmfband *b;
	struct codec *c;
	char keys[16] = "";
	size_t n = 8000 * 2;
	int16_t *pcm = make_digits("90#", 80, 80, n);
	int16_t *back = calloc(n, sizeof(*back));
	uint8_t enc[FRAME_N];
	CU_ASSERT_FATAL(codec_new(&c, CODEC_PCMA) == 0);
	for (size_t f = 0; f < n; f += FRAME_N) {
		int len = codec_encode(c, pcm + f, FRAME_N, enc, sizeof(enc));
		CU_ASSERT_EQUAL(
		    codec_decode(c, enc, (size_t)len, back + f, FRAME_N),
		    FRAME_N);
	}
	CU_ASSERT_FATAL(dtmfband_new(&b) == 0);
	hear(b, back, n, keys, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(keys, "90#");
	dtmfband_free(b);
	codec_free(c);
	free(pcm);
	free(back);
}

/* A single tone, a chord that is not DTMF, noise and silence: nothing. */
static void test_not_digits(void)
{
	struct dtmfband *b;
	char keys[16] = "";
	size_t n = 8000 * 2;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	CU_ASSERT_FATAL(dtmfband_new(&b) == 0);
	hear(b, pcm, n, keys, NULL, NULL);
	unit_sine(pcm, n, 1000, 8000, 12000, 0);
	hear(b, pcm, n, keys, NULL, NULL);
	int16_t *other = calloc(n, sizeof(*other));
	unit_sine(pcm, n, 440, 8000, 6000, 0);
	unit_sine(other, n, 660, 8000, 6000, 0);
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(pcm[i] + other[i]);
	hear(b, pcm, n, keys, NULL, NULL);
	uint32_t x = 7;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		pcm[i] = (int16_t)(x >> 16);
	}
	hear(b, pcm, n, keys, NULL, NULL);
	CU_ASSERT_STRING_EQUAL(keys, "");
	CU_ASSERT_FALSE(dtmfband_heard(b));
	dtmfband_free(b);
	free(pcm);
	free(other);
}

/* Lost audio keeps the timing (spandsp never ends a digit during a
 * fill-in); the silence after it ends the digit, reported once. Odd
 * lengths and nothing at all are fine. */
static void test_lost_and_odd(void)
{
	struct dtmfband *b;
	char keys[8] = "";
	struct digit d[4];
	int16_t *pcm = make_digits("7", 100, 100, 1600);
	CU_ASSERT_FATAL(dtmfband_new(&b) == 0);
	CU_ASSERT_EQUAL(dtmfband_feed(b, pcm, 0, d, 4), 0);
	hear(b, pcm, 640, keys, NULL, NULL); /* 80 ms of the tone */
	dtmfband_lost(b, 800);
	CU_ASSERT_EQUAL(dtmfband_feed(b, pcm + 1440, 37, d, 4), 0);
	hear(b, pcm + 800, 800, keys, NULL, NULL); /* silence */
	CU_ASSERT_STRING_EQUAL(keys, "7");
	CU_ASSERT_EQUAL(dtmfband_feed(b, pcm, 160, d, 0), 0);
	dtmfband_free(b);
	dtmfband_free(NULL);
	free(pcm);
}

static const struct unit_test tests[] = {
    {"all sixteen keys", test_digits},
    {"duration and presence", test_duration_and_presence},
    {"through G.711", test_through_g711},
    {"sounds that are not digits", test_not_digits},
    {"lost audio, odd lengths", test_lost_and_odd},
    {NULL, NULL},
};

UNIT_MAIN("dtmfband", tests)
