/* test_ivr_clips.c: the prompts and tones of the dial-in dialogue
 * (conference/ivr_clips.c): every prompt the code names was made by the
 * build (when espeak-ng was there); without files each prompt is a tone
 * of its own; an operator's file at another rate is resampled, a broken
 * one is a tone; numbers are said in parts; the join tone is the two
 * notes it should be. */
#include "conference/ivr_priv.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RATE 48000

static double seconds(const struct mixer_clip *c)
{
	return (double)c->n_samples / c->rate_hz;
}

/* Every prompt from the build tree, at the rate asked for, and at the
 * other room rates behind it. */
static void test_built_prompts(void)
{
	struct ivr_clips *cl;
	CU_ASSERT_FATAL(ivr_clips_load(&cl, TUTTI_TEST_PROMPT_DIR, RATE) == 0);
	if (TUTTI_TEST_HAVE_PROMPTS) {
		CU_ASSERT_EQUAL(ivr_clips_spoken(cl), CLIP_PROMPTS_END);
		for (int id = 0; id < CLIP_PROMPTS_END; id++) {
			char path[512];
			snprintf(path, sizeof(path), "%s/%s-%d.wav",
				 TUTTI_TEST_PROMPT_DIR,
				 ivr_clips_name((enum ivr_clip_id)id), RATE);
			CU_ASSERT(access(path, R_OK) == 0);
		}
		/* Speech, not a beep: a second or more, and loud enough. */
		const struct mixer_clip *c = ivr_clips_get(cl, CLIP_ENTER_PIN);
		CU_ASSERT(seconds(c) > 1.5 && seconds(c) < 8);
		CU_ASSERT(unit_rms(c->pcm, c->n_samples) > 1000);
	}
	for (int id = 0; id < CLIP_N; id++) {
		const struct mixer_clip *c =
		    ivr_clips_get(cl, (enum ivr_clip_id)id);
		CU_ASSERT(c->pcm && c->n_samples > 0 && c->rate_hz == RATE);
		/* And at the other room rates, chained: the same length in
		 * time (prompts made apart may differ by a few ms). */
		unsigned rates = 0;
		for (const struct mixer_clip *a = c; a; a = a->alt) {
			rates |= a->rate_hz == 8000    ? 1
				 : a->rate_hz == 16000 ? 2
				 : a->rate_hz == 48000 ? 4
						       : 8;
			CU_ASSERT(a->pcm && a->n_samples > 0);
			CU_ASSERT(fabs(seconds(a) - seconds(c)) < 0.05);
		}
		CU_ASSERT_EQUAL(rates, 7);
	}
	ivr_clips_free(cl);
}

/* No prompt files: every prompt is a tone, each with a sound. */
static void test_tones_only(void)
{
	struct ivr_clips *cl;
	CU_ASSERT_FATAL(ivr_clips_load(&cl, "/nonexistent-prompts", 8000) == 0);
	CU_ASSERT_EQUAL(ivr_clips_spoken(cl), 0);
	for (int id = 0; id < CLIP_N; id++) {
		const struct mixer_clip *c =
		    ivr_clips_get(cl, (enum ivr_clip_id)id);
		CU_ASSERT_EQUAL(c->rate_hz, 8000);
		CU_ASSERT(seconds(c) >= 0.09 && seconds(c) < 5);
	}
	/* Two beeps at 600 Hz ask for the PIN. */
	const struct mixer_clip *c = ivr_clips_get(cl, CLIP_ENTER_PIN);
	CU_ASSERT(unit_tone_amp(c->pcm, 1200, 600, 8000) > 2000);
	ivr_clips_free(cl);
	ivr_clips_free(NULL);
}

/* The join tone rises: 523 Hz, then 784 Hz; the leave tone falls. */
static void test_join_leave(void)
{
	struct ivr_clips *cl;
	CU_ASSERT_FATAL(ivr_clips_load(&cl, "", RATE) == 0);
	const struct mixer_clip *j = ivr_clips_get(cl, CLIP_TONE_JOIN);
	const struct mixer_clip *l = ivr_clips_get(cl, CLIP_TONE_LEAVE);
	size_t n = RATE / 10; /* 100 ms */
	CU_ASSERT(unit_tone_amp(j->pcm, n, 523, RATE) > 2000);
	CU_ASSERT(unit_tone_amp(j->pcm, n, 784, RATE) < 300);
	CU_ASSERT(unit_tone_amp(j->pcm + j->n_samples - n, n, 784, RATE) >
		  2000);
	CU_ASSERT(unit_tone_amp(l->pcm, n, 784, RATE) > 2000);
	CU_ASSERT(seconds(ivr_clips_get(cl, CLIP_TONE_HOLD)) > 2);
	ivr_clips_free(cl);
}

static void write_wav(const char *path, int rate, int channels, size_t n)
{
	SF_INFO info = {.samplerate = rate,
			.channels = channels,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	CU_ASSERT_FATAL(f != NULL);
	int16_t *pcm = calloc(n * (size_t)channels, sizeof(*pcm));
	for (size_t i = 0; i < n; i++)
		pcm[i * (size_t)channels] = (int16_t)lrint(
		    8000 * sin(2 * M_PI * 440 * (double)i / rate));
	CU_ASSERT(sf_writef_short(f, pcm, (sf_count_t)n) == (sf_count_t)n);
	sf_close(f);
	free(pcm);
}

/* An operator's own prompts: any rate (resampled), stereo (the first
 * channel); a broken file or one far too long is a tone instead. */
static void test_own_files(void)
{
	char dir[] = "/tmp/tutti-prompts-XXXXXX", path[128];
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/goodbye.wav", dir);
	write_wav(path, 22050, 2, 22050);
	snprintf(path, sizeof(path), "%s/muted-48000.wav", dir);
	write_wav(path, 48000, 1, 4800);
	snprintf(path, sizeof(path), "%s/help.wav", dir);
	write_wav(path, 8000, 1, 8000 * 61);
	snprintf(path, sizeof(path), "%s/wrong-pin.wav", dir);
	FILE *f = fopen(path, "w");
	fputs("RIFF this is no wave file", f);
	fclose(f);

	struct ivr_clips *cl;
	CU_ASSERT_FATAL(ivr_clips_load(&cl, dir, RATE) == 0);
	CU_ASSERT_EQUAL(ivr_clips_spoken(cl), 2);
	const struct mixer_clip *g = ivr_clips_get(cl, CLIP_GOODBYE);
	CU_ASSERT_EQUAL(g->n_samples, RATE);
	CU_ASSERT(unit_tone_amp(g->pcm + 4800, 9600, 440, RATE) > 7000);
	CU_ASSERT_EQUAL(ivr_clips_get(cl, CLIP_MUTED)->n_samples, 4800);
	CU_ASSERT(seconds(ivr_clips_get(cl, CLIP_HELP)) < 5);
	CU_ASSERT(seconds(ivr_clips_get(cl, CLIP_WRONG_PIN)) < 2);
	ivr_clips_free(cl);

	const char *names[] = {"goodbye.wav", "muted-48000.wav", "help.wav",
			       "wrong-pin.wav"};
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void test_names_and_counts(void)
{
	CU_ASSERT_STRING_EQUAL(ivr_clips_name(CLIP_ENTER_PIN), "enter-pin");
	CU_ASSERT_STRING_EQUAL(ivr_clips_name(CLIP_NUM_0 + 13), "num-13");
	CU_ASSERT_STRING_EQUAL(ivr_clips_name(CLIP_NUM_20 + 7), "num-90");
	CU_ASSERT_PTR_NULL(ivr_clips_name(CLIP_TONE_JOIN));

	enum ivr_clip_id ids[4];
	CU_ASSERT_EQUAL(ivr_clips_count(0, ids, 4), 1);
	CU_ASSERT_EQUAL(ids[0], CLIP_ONLY_PERSON);
	CU_ASSERT_EQUAL(ivr_clips_count(1, ids, 4), 1);
	CU_ASSERT_EQUAL(ids[0], CLIP_ONE_OTHER);
	CU_ASSERT_EQUAL(ivr_clips_count(7, ids, 4), 3);
	CU_ASSERT(ids[0] == CLIP_THERE_ARE && ids[1] == CLIP_NUM_0 + 7 &&
		  ids[2] == CLIP_OTHER_PEOPLE);
	CU_ASSERT_EQUAL(ivr_clips_count(20, ids, 4), 3);
	CU_ASSERT_EQUAL(ids[1], CLIP_NUM_20);
	CU_ASSERT_EQUAL(ivr_clips_count(45, ids, 4), 4);
	CU_ASSERT(ids[1] == CLIP_NUM_20 + 2 && ids[2] == CLIP_NUM_0 + 5);
	CU_ASSERT_EQUAL(ivr_clips_count(99, ids, 4), 4);
	CU_ASSERT(ids[1] == CLIP_NUM_20 + 7 && ids[2] == CLIP_NUM_0 + 9);
	CU_ASSERT_EQUAL(ivr_clips_count(100, ids, 4), 3);
	CU_ASSERT_EQUAL(ids[1], CLIP_MANY);
	CU_ASSERT_EQUAL(ivr_clips_count(5, ids, 3), 0);
}

static const struct unit_test tests[] = {
    {"the build's prompts", test_built_prompts},
    {"tones when there are no files", test_tones_only},
    {"join and leave tones", test_join_leave},
    {"an operator's own files", test_own_files},
    {"names and counts", test_names_and_counts},
    {NULL, NULL},
};

UNIT_MAIN("ivr_clips", tests)
