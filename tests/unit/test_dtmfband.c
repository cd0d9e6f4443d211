/* test_dtmfband.c: in-band key presses heard in 8 kHz audio: digits made
 * by spandsp's own generator, through G.711 and back; how long a press
 * lasted; when its tones are present (so that the stream can keep them
 * out of the mix); and sounds that are no digits at all. Then at 16 kHz
 * through a real G.722 encode and decode (spandsp's) and at 48 kHz through
 * Opus: the digits are heard, and speech-like and music-like sounds, and
 * tones above 4 kHz whose mirrors would be a key after a careless
 * decimation, are not. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <math.h>
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

/* Keys as dual tones at rate_hz, each on_ms then off_ms of silence, the
 * low tone at low_dbfs and the high one 2 dB above (a phone's twist). */
static int16_t *tones_at(const char *keys, int on_ms, int off_ms,
			 uint32_t rate_hz, double low_dbfs, size_t n)
{
	static const char pad[] = "123A456B789C*0#D";
	static const double row[] = {697, 770, 852, 941};
	static const double col[] = {1209, 1336, 1477, 1633};
	int16_t *pcm = calloc(n, sizeof(*pcm));
	int16_t *a = calloc(n, sizeof(*a)), *b = calloc(n, sizeof(*b));
	size_t on = rate_hz * (size_t)on_ms / 1000;
	size_t step = rate_hz * (size_t)(on_ms + off_ms) / 1000, at = 0;
	double amp = 32767 * pow(10, low_dbfs / 20);
	CU_ASSERT_FATAL(pcm && a && b);
	for (const char *k = keys; *k && at + on <= n; k++, at += step) {
		size_t i = (size_t)(strchr(pad, *k) - pad);
		unit_sine(a, on, row[i / 4], rate_hz, amp, 0);
		unit_sine(b, on, col[i % 4], rate_hz, amp * 1.26, 0);
		for (size_t j = 0; j < on; j++)
			pcm[at + j] = (int16_t)(a[j] + b[j]);
	}
	free(a);
	free(b);
	return pcm;
}

/* pcm (n samples at the codec's rate) encoded and decoded 20 ms at a
 * time, as a caller's audio reaches the stream. */
static int16_t *through(enum codec_id id, const int16_t *pcm, size_t n,
			size_t frame_n)
{
	struct codec *c;
	int16_t *back = calloc(n, sizeof(*back));
	uint8_t enc[1500];
	CU_ASSERT_FATAL(back && codec_new(&c, id) == 0);
	for (size_t f = 0; f + frame_n <= n; f += frame_n) {
		int len = codec_encode(c, pcm + f, frame_n, enc, sizeof(enc));
		CU_ASSERT_FATAL(len > 0);
		CU_ASSERT_EQUAL(
		    codec_decode(c, enc, (size_t)len, back + f, frame_n),
		    (int)frame_n);
	}
	codec_free(c);
	return back;
}

/* Feeds pcm at rate_hz in 20 ms frames into a new receiver; the keys heard
 * go to keys (cap 32), the last one's length to *last_ms. */
static void hear_at(uint32_t rate_hz, const int16_t *pcm, size_t n, char *keys,
		    uint32_t *last_ms)
{
	struct dtmfband *b;
	size_t fn = rate_hz / 50;
	CU_ASSERT_FATAL(dtmfband_new(&b, rate_hz) == 0);
	for (size_t f = 0; f + fn <= n; f += fn) {
		struct digit d[4];
		size_t got = dtmfband_feed(b, pcm + f, fn, d, 4);
		for (size_t i = 0; i < got && strlen(keys) < 31; i++) {
			keys[strlen(keys)] = d[i].key;
			if (last_ms)
				*last_ms = d[i].duration_ms;
		}
	}
	dtmfband_free(b);
}

static void test_digits(void)
{
	struct dtmfband *b;
	char keys[32] = "";
	size_t n = 8000 * 3;
	int16_t *pcm = make_digits("1234567890*#ABCD", 60, 60, n);
	CU_ASSERT_FATAL(dtmfband_new(&b, 8000) == 0);
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
	CU_ASSERT_FATAL(dtmfband_new(&b, 8000) == 0);
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
	CU_ASSERT_FATAL(dtmfband_new(&b, 8000) == 0);
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
	CU_ASSERT_FATAL(dtmfband_new(&b, 8000) == 0);
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
	CU_ASSERT_FATAL(dtmfband_new(&b, 8000) == 0);
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

/* A G.722 caller's keys, at a phone's level and 15 dB quieter. */
static void test_through_g722(void)
{
	size_t n = 16000 * 4;
	for (int quiet = 0; quiet < 2; quiet++) {
		char keys[32] = "";
		int16_t *pcm = tones_at("1234567890*#ABCD", 80, 80, 16000,
					quiet ? -25 : -10, n);
		int16_t *back = through(CODEC_G722, pcm, n, 320);
		hear_at(16000, back, n, keys, NULL);
		CU_ASSERT_STRING_EQUAL(keys, "1234567890*#ABCD");
		free(pcm);
		free(back);
	}
}

/* Its length is counted in time, not in samples fed: 200 ms at 16 kHz
 * is 200 ms. */
static void test_g722_duration(void)
{
	char keys[32] = "";
	uint32_t ms = 0;
	size_t n = 16000;
	int16_t *pcm = tones_at("5", 200, 100, 16000, -10, n);
	int16_t *back = through(CODEC_G722, pcm, n, 320);
	hear_at(16000, back, n, keys, &ms);
	CU_ASSERT_STRING_EQUAL(keys, "5");
	CU_ASSERT(ms >= 160 && ms <= 240);
	free(pcm);
	free(back);
}

/* An Opus caller without telephone-event (48 kHz). */
static void test_through_opus(void)
{
	char keys[32] = "";
	size_t n = 48000 * 3;
	int16_t *pcm = tones_at("147*2580369#", 100, 100, 48000, -10, n);
	int16_t *back = through(CODEC_OPUS, pcm, n, 960);
	hear_at(48000, back, n, keys, NULL);
	CU_ASSERT_STRING_EQUAL(keys, "147*2580369#");
	free(pcm);
	free(back);
}

/* Music-like: triads of notes with their harmonics, a new chord every
 * 250 ms, some of whose notes lie close to the DTMF frequencies. */
static void music_like(int16_t *pcm, size_t n, uint32_t rate_hz)
{
	static const double chords[][3] = {
	    {261.6, 329.6, 392.0},  {349.2, 440.0, 523.3},
	    {698.5, 880.0, 1174.7}, {392.0, 493.9, 587.3},
	    {659.3, 830.6, 987.8},  {440.0, 554.4, 659.3}};
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / rate_hz;
		size_t c = (size_t)(t / 0.25) % 6;
		double x = 0;
		for (int k = 0; k < 3; k++)
			for (int h = 1; h <= 6; h++)
				x += sin(2 * M_PI * chords[c][k] * h * t) /
				     (h * h);
		pcm[i] = (int16_t)lrint(5000 * x);
	}
}

/* Nothing in speech, music, or the mirrors of a key above 4 kHz (7303
 * and 6791 Hz would fold onto 697 and 1209 Hz, a "1", if the audio were
 * decimated without a low-pass), through G.722. */
static void test_g722_not_digits(void)
{
	size_t n = 16000 * 6;
	int16_t *pcm = calloc(n, sizeof(*pcm));
	int16_t *hi = calloc(n, sizeof(*hi));
	CU_ASSERT_FATAL(pcm && hi);
	for (int kind = 0; kind < 3; kind++) {
		char keys[32] = "";
		if (kind == 0)
			unit_speech_like(pcm, n, 16000);
		else if (kind == 1)
			music_like(pcm, n, 16000);
		if (kind == 2) {
			unit_sine(pcm, n, 7303, 16000, 9000, 0);
			unit_sine(hi, n, 6791, 16000, 11000, 0);
			for (size_t i = 0; i < n; i++)
				pcm[i] = (int16_t)(pcm[i] + hi[i]);
		}
		CU_ASSERT(unit_rms(pcm, n) > 1000); /* not silence */
		int16_t *back = through(CODEC_G722, pcm, n, 320);
		hear_at(16000, back, n, keys, NULL);
		CU_ASSERT_STRING_EQUAL(keys, "");
		free(back);
	}
	free(pcm);
	free(hi);
}

/* Rates below the receiver's are refused; lost audio at 16 kHz. */
static void test_rates(void)
{
	struct dtmfband *b = NULL;
	CU_ASSERT_EQUAL(dtmfband_new(&b, 4000), -EINVAL);
	CU_ASSERT_EQUAL(dtmfband_new(&b, 0), -EINVAL);
	CU_ASSERT_EQUAL(dtmfband_new(NULL, 16000), -EINVAL);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_FATAL(dtmfband_new(&b, 16000) == 0);
	int16_t *pcm = tones_at("9", 100, 100, 16000, -10, 3200);
	struct digit d[4];
	char keys[4] = "";
	CU_ASSERT_EQUAL(dtmfband_feed(b, pcm, 1280, d, 4), 0); /* 80 ms */
	dtmfband_lost(b, 1600);
	CU_ASSERT_EQUAL(dtmfband_feed(b, pcm + 2880, 33, d, 4), 0);
	for (size_t f = 1600; f + 320 <= 3200; f += 320) {
		size_t got = dtmfband_feed(b, pcm + f, 320, d, 4);
		if (got)
			keys[0] = d[0].key;
	}
	CU_ASSERT_STRING_EQUAL(keys, "9");
	dtmfband_free(b);
	free(pcm);
}

/* Silence is not listened to: quiet frames after a quiet one are only
 * counted in time (dtmfband_skipped), and that changes nothing heard. At
 * 8 and 48 kHz: a second of digital silence, a press near the weakest
 * level the receiver takes at all (a pair peaking at 466; it takes none
 * below 380; the skip's limit is 100), half a second of faint noise
 * (peak 60, skipped
 * too), the same key again (two presses, not one long one), a second of
 * hiss at peak 200 (listened to: above the limit). Both presses are heard
 * at their length, in the frames where they sound. */
static void test_silence_skipped(void)
{
	static const uint32_t rates[] = {8000, 48000};
	for (size_t r = 0; r < 2; r++) {
		uint32_t hz = rates[r];
		size_t fn = hz / 50, n = hz * 4;
		int16_t *pcm = calloc(n, sizeof(*pcm));
		int16_t *key = tones_at("5", 200, 0, hz, -44, hz / 5);
		struct dtmfband *b;
		CU_ASSERT_FATAL(pcm && key && dtmfband_new(&b, hz) == 0);
		memcpy(pcm + hz, key, hz / 5 * sizeof(*pcm)); /* 1.0 s */
		memcpy(pcm + hz * 17 / 10, key,
		       hz / 5 * sizeof(*pcm)); /* 1.7 */
		uint32_t seed = 7;
		for (size_t i = hz * 6 / 5; i < hz * 17 / 10; i++) {
			seed = seed * 1103515245u + 12345u;
			pcm[i] = (int16_t)((int)(seed >> 16) % 121 - 60);
		}
		for (size_t i = hz * 3; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			pcm[i] = (int16_t)((int)(seed >> 16) % 401 - 200);
		}
		char keys[8] = "";
		uint32_t ms[2] = {0, 0};
		int first[2] = {-1, -1}, last[2] = {-1, -1};
		uint64_t skipped_at[4] = {0};
		for (size_t f = 0; f * fn + fn <= n; f++) {
			struct digit d[4];
			size_t got = dtmfband_feed(b, pcm + f * fn, fn, d, 4);
			for (size_t i = 0; i < got && strlen(keys) < 2; i++) {
				ms[strlen(keys)] = d[i].duration_ms;
				keys[strlen(keys)] = d[i].key;
			}
			int k = f < 70 ? 0 : 1;
			if (dtmfband_heard(b)) {
				first[k] = first[k] < 0 ? (int)f : first[k];
				last[k] = (int)f;
			}
			if (f == 49 || f == 59 || f == 84 || f == 149)
				skipped_at[f == 49   ? 0
					   : f == 59 ? 1
					   : f == 84 ? 2
						     : 3] = dtmfband_skipped(b);
		}
		CU_ASSERT_STRING_EQUAL(keys, "55");
		for (int k = 0; k < 2; k++) {
			CU_ASSERT(ms[k] >= 160 && ms[k] <= 240);
			int on =
			    k ? 85 : 50; /* the frame the press starts in */
			CU_ASSERT(first[k] >= on && first[k] <= on + 2);
			CU_ASSERT(last[k] >= on + 9 && last[k] <= on + 11);
		}
		/* the first second: all but the first frame; the noise: all but
		 * a frame or two after the press; the hiss: none */
		CU_ASSERT_EQUAL(skipped_at[0], 49);
		CU_ASSERT(skipped_at[2] - skipped_at[1] >= 22);
		CU_ASSERT_EQUAL(dtmfband_skipped(b), skipped_at[3]);
		dtmfband_free(b);
		free(pcm);
		free(key);
	}
}

static const struct unit_test tests[] = {
    {"all sixteen keys", test_digits},
    {"duration and presence", test_duration_and_presence},
    {"through G.711", test_through_g711},
    {"sounds that are not digits", test_not_digits},
    {"lost audio, odd lengths", test_lost_and_odd},
    {"G.722: all keys, loud and quiet", test_through_g722},
    {"G.722: a press's length", test_g722_duration},
    {"Opus at 48 kHz", test_through_opus},
    {"G.722: speech, music and mirrors", test_g722_not_digits},
    {"rates; lost audio at 16 kHz", test_rates},
    {"silence is not listened to", test_silence_skipped},
    {NULL, NULL},
};

UNIT_MAIN("dtmfband", tests)
