/* pullbench.c: what each step of pulling one participant's 20 ms costs,
 * to decide what a participant who is not a speaker may skip.
 *
 * Per 20 ms frame: a PCMU decode (160 samples), the conversion of that
 * frame from 8 to 48 kHz (SpeexDSP, quality 3, as rtp/resamp.c), the
 * talker detector on it at 8 kHz and at 48 kHz (mixer/talk.c), measuring
 * with the scalar reference and with the mix kernels' best (mixk_best(),
 * as the mixer does), and an Opus decode (48 kHz, 32 kb/s, complexity 5,
 * as rtp/codec.c). Each figure is
 * the median over 21 runs of 2000 frames, the steps taking turns run by
 * run. Single thread, CLOCK_MONOTONIC. */
#include "mixer/mixer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 21
#define REPS 2000

enum {
	PCMU_DECODE,
	RESAMPLE,
	TALK_8K,
	TALK_48K,
	TALK_8K_SIMD,
	TALK_48K_SIMD,
	OPUS_DECODE,
	N_STEPS
};

static const char *const names[N_STEPS] = {
    "PCMU decode (160 samples)",
    "resample 8 -> 48 kHz",
    "talker detector at 8 kHz (scalar)",
    "talker detector at 48 kHz (scalar)",
    "talker detector at 8 kHz (mix kernel)",
    "talker detector at 48 kHz (mix kernel)",
    "Opus decode (960 samples)"};

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(void)
{
	static int16_t pcm8[160], pcm48[960];
	static double t[N_STEPS][RUNS];
	uint8_t pkt8[160], pkt48[1500];
	struct codec *pcmu, *opus;
	struct resamp *up;
	struct talk talk;
	struct talk_params tp = {0};

	for (int i = 0; i < 960; i++)
		pcm48[i] = (int16_t)(8000 * sin(2 * M_PI * 700 * i / 48000.0));
	for (int i = 0; i < 160; i++)
		pcm8[i] = pcm48[i * 6];
	if (codec_new(&pcmu, CODEC_PCMU) || codec_new(&opus, CODEC_OPUS) ||
	    resamp_new(&up, 8000, 48000) || talk_params_resolve(&tp))
		return 1;
	talk_init(&talk, &tp);
	const struct mixk *mk = mixk_best();
	int n8 = codec_encode(pcmu, pcm8, 160, pkt8, sizeof(pkt8));
	int n48 = codec_encode(opus, pcm48, 960, pkt48, sizeof(pkt48));
	if (n8 < 0 || n48 < 0)
		return 1;
	for (int r = 0; r < RUNS; r++) {
		for (int s = 0; s < N_STEPS; s++) {
			double t0 = now_ns();
			for (int k = 0; k < REPS; k++) {
				if (s == PCMU_DECODE)
					codec_decode(pcmu, pkt8, (size_t)n8,
						     pcm8, 160);
				else if (s == RESAMPLE)
					resamp_run(up, pcm8, 160, pcm48, 960);
				else if (s == TALK_8K)
					talk_update(&talk, pcm8, 160);
				else if (s == TALK_48K)
					talk_update(&talk, pcm48, 960);
				else if (s == TALK_8K_SIMD)
					talk_update_energy(
					    &talk, mk->sumsq(pcm8, 160), 160);
				else if (s == TALK_48K_SIMD)
					talk_update_energy(
					    &talk, mk->sumsq(pcm48, 960), 960);
				else
					codec_decode(opus, pkt48, (size_t)n48,
						     pcm48, 960);
			}
			t[s][r] = (now_ns() - t0) / REPS;
		}
	}
	printf("mix kernel: %s\n"
	       "| step, per 20 ms frame | us (median of %d runs) |\n"
	       "| --- | ---: |\n",
	       mk->name, RUNS);
	for (int s = 0; s < N_STEPS; s++) {
		qsort(t[s], RUNS, sizeof(double), cmp);
		printf("| %s | %.2f |\n", names[s], t[s][RUNS / 2] / 1e3);
	}
	codec_free(pcmu);
	codec_free(opus);
	resamp_free(up);
	return 0;
}
