/* ivrbench.c: what the dial-in features cost the media path and the start.
 *
 *   in-band listening   spandsp's DTMF receiver on one caller's 20 ms, plus
 *                       the 40 ms hold copy: what every tick pays per
 *                       caller that came without telephone-event
 *                       (rtp/stream_dtmf.c); at 8 kHz (G.711), 16 kHz
 *                       (G.722) and 48 kHz (Opus), where the audio is
 *                       first brought down to 8 kHz (rtp/dtmfband.c);
 *                       and on a silent caller's line (not listened to)
 *   RFC 4733 event      one telephone-event packet through the tracker
 *   prompt over a mix   one listener's 20 ms at 48 kHz with a prompt added
 *                       (mixer/play.c), and without one (the test alone)
 *   loading prompts     every prompt file at 48, 8 and 16 kHz (the room
 *                       rates), once at start
 *
 * Each figure is the median of RUNS runs; a run times a batch of calls and
 * divides. Audio is speech-like noise (no digit), so the receiver does its
 * full work. Single-threaded; CLOCK_MONOTONIC. --markdown prints the table
 * for docs/benchmarks.md. The prompt directory is the build's (or argv). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conference/ivr_priv.h"
#include "mixer/mixer_priv.h" /* play_over(): the mixer's own step */

#define RUNS	  31
#define BATCH	  2000
#define FRAME_48K 960
#define LOAD_RUNS 5

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

static int16_t noise[FRAME_48K * 64];

static int16_t silence[FRAME_48K * 64];

/* On noise that holds no digit (the receiver's full work), or on a
 * silent caller's faint line noise (peak 40: not listened to). */
static double inband_ns(uint32_t hz, const int16_t *audio)
{
	struct dtmfband *b;
	static int16_t held[FRAME_48K * 3], pcm[FRAME_48K];
	size_t fn = hz / 50, bytes = fn * sizeof(*pcm);
	double runs[RUNS];
	if (dtmfband_new(&b, hz))
		return -1;
	for (unsigned r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned i = 0; i < BATCH; i++) {
			struct digit d[4];
			const int16_t *in = audio + (i % 64) * fn;
			dtmfband_feed(b, in, fn, d, 4);
			memcpy(pcm, in, bytes); /* the hold, as the */
			memcpy(held + fn * 2, held, bytes);
			memcpy(held, pcm, bytes); /* stream does it */
		}
		runs[r] = (now_ns() - t0) / BATCH;
	}
	dtmfband_free(b);
	return median(runs, RUNS);
}

static double rfc4733_ns(void)
{
	struct dtmfev t;
	double runs[RUNS];
	dtmfev_init(&t, 8000);
	for (unsigned r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned i = 0; i < BATCH; i++) {
			uint8_t e[4] = {(uint8_t)(i % 12),
					(i % 8 == 7) ? 0x8a : 0x0a, 0,
					(uint8_t)(i % 8 * 20)};
			struct digit d[2];
			dtmfev_put(&t, (uint32_t)(i / 8) * 1600, e, 4, 0, d, 2);
		}
		runs[r] = (now_ns() - t0) / BATCH;
	}
	return median(runs, RUNS);
}

/* One listener with (or without) a prompt, as tick.c's send step. */
static double play_ns(bool with_prompt)
{
	static int16_t mix[FRAME_48K], own[FRAME_48K], room[FRAME_48K];
	static int16_t clip_pcm[FRAME_48K * 50];
	struct mixer m = {0};
	struct part *pt = calloc(1, sizeof(*pt));
	struct part *parts[1] = {pt};
	struct mixer_clip clip = {
	    .pcm = clip_pcm, .n_samples = FRAME_48K * 50, .rate_hz = 48000};
	double runs[RUNS];
	m.p.rate_hz = 48000;
	m.frame_n = FRAME_48K;
	m.own = own;
	m.room_frame = room;
	m.parts = parts;
	m.n_parts = 1;
	pt->id = 1;
	for (unsigned i = 0; i < FRAME_48K * 50; i++)
		clip_pcm[i] = noise[i % (FRAME_48K * 64)];
	for (unsigned r = 0; r < RUNS; r++) {
		double t0 = now_ns();
		for (unsigned i = 0; i < BATCH; i++) {
			if (with_prompt && !pt->play.count) {
				struct mixer_cmd c = {.kind = MIXER_PLAY,
						      .part_id = 1};
				c.play = (struct mixer_play){.clip = &clip,
							     .loop = true};
				play_cmd(&m, &c);
			}
			play_room(&m);
			const int16_t *out = play_over(&m, pt, mix, m.own);
			__asm__ volatile("" : : "r"(out) : "memory");
		}
		runs[r] = (now_ns() - t0) / BATCH;
	}
	free(pt);
	return median(runs, RUNS);
}

static double load_ms(const char *dir, unsigned *spoken)
{
	double runs[LOAD_RUNS];
	for (unsigned r = 0; r < LOAD_RUNS; r++) {
		struct ivr_clips *cl;
		double t0 = now_ns();
		if (ivr_clips_load(&cl, dir, 48000))
			return -1;
		runs[r] = (now_ns() - t0) / 1e6;
		*spoken = ivr_clips_spoken(cl);
		ivr_clips_free(cl);
	}
	return median(runs, LOAD_RUNS);
}

int main(int argc, char **argv)
{
	bool md = argc > 1 && strcmp(argv[1], "--markdown") == 0;
	const char *dir = argc > 1 + md ? argv[1 + md] : TUTTI_PROMPT_BUILD_DIR;
	uint32_t x = 1;
	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++) {
		x = x * 1103515245 + 12345;
		noise[i] = (int16_t)((int32_t)(x >> 16) % 8000 - 4000);
		silence[i] = (int16_t)(noise[i] / 100);
	}
	unsigned spoken = 0;
	double band = inband_ns(8000, noise), band16 = inband_ns(16000, noise);
	double band48 = inband_ns(48000, noise), ev = rfc4733_ns();
	double quiet8 = inband_ns(8000, silence);
	double quiet48 = inband_ns(48000, silence);
	double with = play_ns(true), without = play_ns(false);
	double load = load_ms(dir, &spoken);
	const char *fmt = md ? "| %s | %.0f ns |\n" : "%-36s %10.0f ns\n";
	if (md)
		printf("| step | median |\n| --- | --- |\n");
	printf(fmt, "in-band listening, per caller and tick", band);
	printf(fmt, "in-band listening, G.722 (16 kHz)", band16);
	printf(fmt, "in-band listening, Opus (48 kHz)", band48);
	printf(fmt, "in-band, a silent G.711 caller", quiet8);
	printf(fmt, "in-band, a silent Opus caller", quiet48);
	printf(fmt, "RFC 4733 event, per packet", ev);
	printf(fmt, "prompt over a mix, per listener", with);
	printf(fmt, "no prompt, per listener", without);
	printf(md ? "| loading %u prompts at 48, 8, 16 kHz | %.1f ms |\n"
		  : "loading %u prompts at 48, 8, 16 kHz %9.1f ms\n",
	       spoken, load);
	return 0;
}
