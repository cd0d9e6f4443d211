/* ivr_clips.c: the prompts and tones of the dial-in dialogue, loaded once
 * at start and kept, at every room rate (8, 16 and 48 kHz, chained through
 * struct mixer_clip's alt, since a room changes rate with its members),
 * for the life of the process (the mixers read them; they never change).
 *
 * Prompts are WAV files made at build time by a speech synthesizer
 * (prompts/meson.build): NAME-RATE.wav at the room rate is used as it is;
 * else NAME.wav at any rate (an operator's own recording) is resampled
 * (SpeexDSP); else the prompt is played as a tone pattern of its own, so
 * that a bridge without its prompts still answers with something a caller
 * can learn (two beeps: enter the PIN; three low ones: wrong...). Join,
 * leave and hold tones are always generated. Tones come from spandsp's
 * tone generator, which works at 8 kHz, and are resampled like the rest.
 *
 * Loading reads the disk, so it happens once, on the signalling thread,
 * before any call. Files are read with libsndfile; anything longer than
 * MAX_CLIP_S or unreadable is treated as missing. */
#include "conference/ivr_priv.h"

#include <errno.h>
#include <limits.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#define MAX_CLIP_S 60
#define TONE_HZ	   8000 /* spandsp's generator */
#define TONE_DBM0  (-13)
#define MAX_SEGS   8

#define N_RATES 3 /* the room rates; [0] is the one asked for */

struct ivr_clips {
	struct mixer_clip clip[N_RATES][CLIP_N];
	int16_t *pcm[N_RATES][CLIP_N];
	unsigned spoken;
};

/* One step of a tone pattern: two frequencies (0: none) for ms. */
struct seg {
	uint16_t f1, f2, ms;
};

struct clip_def {
	const char *name; /* file name; NULL for the numbers and tones */
	struct seg segs[MAX_SEGS];
};

#define BEEP(f)                                                                \
	{f, 0, 150},                                                           \
	{                                                                      \
		0, 0, 100                                                      \
	}
#define LONG(f)                                                                \
	{f, 0, 400},                                                           \
	{                                                                      \
		0, 0, 100                                                      \
	}

static const struct clip_def defs[CLIP_PROMPTS_END] = {
    [CLIP_ENTER_PIN] = {"enter-pin", {BEEP(600), BEEP(600)}},
    [CLIP_WRONG_PIN] = {"wrong-pin", {BEEP(350), BEEP(350), BEEP(350)}},
    [CLIP_ENTER_ROOM] = {"enter-room", {BEEP(600), BEEP(800)}},
    [CLIP_NO_ROOM] = {"no-room", {BEEP(350), BEEP(300)}},
    [CLIP_ONLY_PERSON] = {"only-person", {LONG(500)}},
    [CLIP_ONE_OTHER] = {"one-other", {BEEP(500)}},
    [CLIP_THERE_ARE] = {"there-are", {{0, 0, 100}}},
    [CLIP_OTHER_PEOPLE] = {"other-people", {{0, 0, 100}}},
    [CLIP_MANY] = {"many", {LONG(500), LONG(500)}},
    [CLIP_LOCKED] = {"locked", {BEEP(500), BEEP(400), BEEP(300)}},
    [CLIP_UNLOCKED] = {"unlocked", {BEEP(300), BEEP(400), BEEP(500)}},
    [CLIP_MUTED] = {"muted", {BEEP(400), BEEP(300)}},
    [CLIP_UNMUTED] = {"unmuted", {BEEP(300), BEEP(400)}},
    [CLIP_REMOVED] = {"removed", {LONG(300), LONG(300)}},
    [CLIP_GOODBYE] = {"goodbye", {BEEP(600), BEEP(450), BEEP(300)}},
    [CLIP_HELP] = {"help", {BEEP(700)}},
    [CLIP_HELP_MODERATOR] = {"help-moderator", {BEEP(700), BEEP(700)}},
    [CLIP_WAIT_MODERATOR] = {"wait-moderator", {LONG(450)}},
    [CLIP_ALL_MUTED] = {"all-muted", {BEEP(400), BEEP(300), BEEP(300)}},
    [CLIP_ALL_UNMUTED] = {"all-unmuted", {BEEP(300), BEEP(400), BEEP(400)}},
    [CLIP_KICKED_LAST] = {"kicked-last", {BEEP(500), BEEP(300)}},
    [CLIP_NOBODY_TO_REMOVE] = {"nobody-to-remove", {BEEP(300)}},
    [CLIP_MODERATORS_ONLY] = {"moderators-only", {LONG(300)}},
    [CLIP_LISTEN_DOWN] = {"listen-down", {BEEP(500), BEEP(400)}},
    [CLIP_LISTEN_UP] = {"listen-up", {BEEP(400), BEEP(500)}},
    [CLIP_TALK_DOWN] = {"talk-down", {BEEP(700), BEEP(600)}},
    [CLIP_TALK_UP] = {"talk-up", {BEEP(600), BEEP(700)}},
    [CLIP_CONFERENCE_ENDED] = {"conference-ended", {LONG(400), LONG(300)}},
};

/* Join rises, leave falls; the hold tune is a slow arpeggio with a rest,
 * played in a loop. */
static const struct seg tones[CLIP_N - CLIP_PROMPTS_END][MAX_SEGS] = {
    [CLIP_TONE_JOIN -
     CLIP_PROMPTS_END] = {{523, 0, 110}, {0, 0, 30}, {784, 0, 160}},
    [CLIP_TONE_LEAVE -
	CLIP_PROMPTS_END] = {{784, 0, 110}, {0, 0, 30}, {523, 0, 160}},
    [CLIP_TONE_HOLD - CLIP_PROMPTS_END] = {{392, 0, 300},
					   {494, 0, 300},
					   {587, 0, 300},
					   {784, 0, 500},
					   {587, 0, 300},
					   {494, 0, 300},
					   {0, 0, 900}},
};

static char number_name[28][8];

const char *ivr_clips_name(enum ivr_clip_id id)
{
	if (id < CLIP_NUM_0)
		return defs[id].name;
	if (id >= CLIP_PROMPTS_END)
		return NULL;
	unsigned k = id - CLIP_NUM_0;
	unsigned n = k < 20 ? k : 20 + 10 * (k - 20);
	if (!number_name[k][0])
		snprintf(number_name[k], sizeof(number_name[k]), "num-%u", n);
	return number_name[k];
}

/* Numbers have no tone of their own that a caller could count: a tone
 * bridge says "N others" as one short beep. */
static const struct seg number_tone[MAX_SEGS] = {{500, 0, 120}, {0, 0, 80}};

static int16_t *make_tone(const struct seg *segs, size_t *n_out)
{
	size_t n = 0;
	for (int i = 0; i < MAX_SEGS; i++)
		n += (size_t)segs[i].ms * TONE_HZ / 1000;
	int16_t *pcm = calloc(n ? n : 1, sizeof(*pcm));
	if (!pcm)
		return NULL;
	size_t at = 0;
	for (int i = 0; i < MAX_SEGS && at < n; i++) {
		size_t len = (size_t)segs[i].ms * TONE_HZ / 1000;
		if (segs[i].f1) {
			tone_gen_descriptor_t *d = tone_gen_descriptor_init(
			    NULL, segs[i].f1, TONE_DBM0, segs[i].f2,
			    segs[i].f2 ? TONE_DBM0 : 0, segs[i].ms, 0, 0, 0, 0);
			tone_gen_state_t *g = d ? tone_gen_init(NULL, d) : NULL;
			if (g)
				tone_gen(g, pcm + at, (int)len);
			tone_gen_free(g);
			tone_gen_descriptor_free(d);
		}
		at += len;
	}
	*n_out = n;
	return pcm;
}

/* Reads a mono (or first channel) file; NULL when missing or unusable. */
static int16_t *read_wav(const char *path, size_t *n_out, uint32_t *rate_out)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f)
		return NULL;
	int16_t *all = NULL, *mono = NULL;
	bool ok = info.channels >= 1 && info.channels <= 8 &&
		  info.samplerate >= 8000 && info.samplerate <= 192000 &&
		  info.frames > 0 &&
		  info.frames <= (sf_count_t)info.samplerate * MAX_CLIP_S;
	size_t frames = ok ? (size_t)info.frames : 0;
	if (ok) {
		all = malloc(frames * (size_t)info.channels * sizeof(*all));
		mono = malloc(frames * sizeof(*mono));
		ok = all && mono;
	}
	sf_count_t got = ok ? sf_readf_short(f, all, info.frames) : 0;
	sf_close(f);
	if (got <= 0) {
		free(all);
		free(mono);
		return NULL;
	}
	for (size_t i = 0; i < (size_t)got; i++)
		mono[i] = all[i * (size_t)info.channels];
	free(all);
	*n_out = (size_t)got;
	*rate_out = (uint32_t)info.samplerate;
	return mono;
}

/* The prompt from dir: at the room rate, else at any rate. */
static int16_t *load_prompt(const char *dir, const char *name, uint32_t rate,
			    size_t *n_out, uint32_t *rate_out)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s-%u.wav", dir, name, rate);
	int16_t *pcm = read_wav(path, n_out, rate_out);
	if (!pcm) {
		snprintf(path, sizeof(path), "%s/%s.wav", dir, name);
		pcm = read_wav(path, n_out, rate_out);
	}
	return pcm;
}

static int make_one(struct ivr_clips *cl, enum ivr_clip_id id, const char *dir,
		    uint32_t rate, size_t k)
{
	size_t n = 0;
	uint32_t at_hz = TONE_HZ;
	const char *name = ivr_clips_name(id);
	int16_t *pcm =
	    name && dir[0] ? load_prompt(dir, name, rate, &n, &at_hz) : NULL;
	if (pcm) {
		cl->spoken += k == 0;
	} else {
		struct seg segs[MAX_SEGS] = {{0}};
		if (id >= CLIP_PROMPTS_END)
			memcpy(segs, tones[id - CLIP_PROMPTS_END],
			       sizeof(segs));
		else if (id >= CLIP_NUM_0)
			memcpy(segs, number_tone, sizeof(segs));
		else
			memcpy(segs, defs[id].segs, sizeof(segs));
		at_hz = TONE_HZ;
		pcm = make_tone(segs, &n);
		if (!pcm)
			return -ENOMEM;
	}
	if (at_hz != rate) {
		int16_t *out;
		int err = resamp_clip(pcm, n, at_hz, rate, &out, &n);
		free(pcm);
		if (err)
			return err;
		pcm = out;
	}
	cl->pcm[k][id] = pcm;
	cl->clip[k][id] = (struct mixer_clip){
	    .pcm = pcm,
	    .n_samples = n,
	    .rate_hz = rate,
	    .alt = k + 1 < N_RATES ? &cl->clip[k + 1][id] : NULL};
	return 0;
}

int ivr_clips_load(struct ivr_clips **out, const char *dir, uint32_t rate_hz)
{
	struct ivr_clips *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	static const uint32_t rooms[N_RATES] = {8000, 16000, 48000};
	uint32_t rates[N_RATES] = {rate_hz};
	for (size_t i = 0, k = 1; i < N_RATES && k < N_RATES; i++)
		if (rooms[i] != rate_hz)
			rates[k++] = rooms[i];
	int err = 0;
	for (size_t k = 0; k < N_RATES; k++)
		for (int id = 0; id < CLIP_N && !err; id++)
			err = make_one(cl, (enum ivr_clip_id)id, dir ? dir : "",
				       rates[k], k);
	if (err) {
		ivr_clips_free(cl);
		return err;
	}
	*out = cl;
	return 0;
}

void ivr_clips_free(struct ivr_clips *cl)
{
	if (!cl)
		return;
	for (size_t k = 0; k < N_RATES; k++)
		for (int id = 0; id < CLIP_N; id++)
			free(cl->pcm[k][id]);
	free(cl);
}

const struct mixer_clip *ivr_clips_get(const struct ivr_clips *cl,
				       enum ivr_clip_id id)
{
	return id < CLIP_N ? &cl->clip[0][id] : NULL;
}

unsigned ivr_clips_spoken(const struct ivr_clips *cl)
{
	return cl->spoken;
}

size_t ivr_clips_count(unsigned others, enum ivr_clip_id *out, size_t cap)
{
	size_t n = 0;
	if (cap < 4)
		return 0;
	if (others == 0) {
		out[n++] = CLIP_ONLY_PERSON;
		return n;
	}
	if (others == 1) {
		out[n++] = CLIP_ONE_OTHER;
		return n;
	}
	out[n++] = CLIP_THERE_ARE;
	if (others < 20) {
		out[n++] = (enum ivr_clip_id)(CLIP_NUM_0 + others);
	} else if (others < 100) {
		out[n++] = (enum ivr_clip_id)(CLIP_NUM_20 + others / 10 - 2);
		if (others % 10)
			out[n++] = (enum ivr_clip_id)(CLIP_NUM_0 + others % 10);
	} else {
		out[n++] = CLIP_MANY;
	}
	out[n++] = CLIP_OTHER_PEOPLE;
	return n;
}
