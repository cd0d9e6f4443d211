/* fecbench.c: what Opus in-band FEC costs an encode, to decide when an
 * encoder should code it (rtp/fecloss.c).
 *
 * tutti's encoder (rtp/codec.c: 48 kHz mono, VOIP, 32 kb/s, complexity 5,
 * in-band FEC on) encodes the loadgen speech fixture (espeak-ng, levelled,
 * 48 kHz; its pauses included) whole, once told to expect 0% loss (no FEC
 * is coded), once 10% and once 20%, a fresh encoder each time; the three
 * take turns, the first rotating, run by run. Per setting: the median over
 * the runs of the thread CPU time per 20 ms frame, the share of packets
 * that carry FEC (the SILK LBRR flag) and their mean size; and the median
 * of each run's ratio to the 0% encode of the same run, which a machine
 * shared with other work disturbs less than the times themselves.
 *
 * usage: fecbench [speech-48000.wav] [runs]   (default: the fixture built
 * next to this program, 15 runs) */
#include "rtp/rtp.h"

#include "bench/bench_util.h"

#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FRAME	 960 /* 20 ms at 48 kHz */
#define MAX_RUNS 101

static const unsigned settings[] = {0, 10, 20};
#define N_SET (sizeof(settings) / sizeof(settings[0]))

static int16_t *load(const char *path, size_t *frames)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f || info.channels != 1 || info.samplerate != 48000) {
		fprintf(stderr, "fecbench: %s: not 48 kHz mono audio\n", path);
		exit(1);
	}
	*frames = (size_t)info.frames / FRAME;
	int16_t *pcm = calloc(*frames * FRAME, sizeof(*pcm));
	if (!pcm || *frames == 0 ||
	    sf_readf_short(f, pcm, (sf_count_t)(*frames * FRAME)) !=
		(sf_count_t)(*frames * FRAME))
		bench_die("reading the fixture");
	sf_close(f);
	return pcm;
}

static double cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

struct one {
	double us; /* per frame */
	unsigned fec, packets;
	size_t bytes;
};

/* Encodes the whole fixture with a fresh encoder expecting perc loss. */
static struct one encode_all(const int16_t *pcm, size_t frames, unsigned perc)
{
	struct codec *c;
	uint8_t out[1500];
	struct one r = {0};

	if (codec_new_for(&c, CODEC_OPUS, CODEC_ENCODE) < 0 ||
	    codec_set_fec_loss(c, perc) < 0)
		bench_die("making the encoder");
	double t0 = cpu_ns();
	for (size_t f = 0; f < frames; f++) {
		int len =
		    codec_encode(c, pcm + f * FRAME, FRAME, out, sizeof(out));
		if (len <= 0)
			bench_die("encoding");
		r.fec += codec_opus_has_fec(out, (size_t)len);
		r.packets++;
		r.bytes += (size_t)len;
	}
	r.us = (cpu_ns() - t0) / 1000.0 / (double)frames;
	codec_free(c);
	return r;
}

int main(int argc, char **argv)
{
	const char *path =
	    argc > 1 ? argv[1] : FECBENCH_FIXTURE_DIR "/speech-48000.wav";
	int runs = argc > 2 ? atoi(argv[2]) : 15;
	if (runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "fecbench: runs: 1..%d\n", MAX_RUNS);
		return 1;
	}
	size_t frames;
	int16_t *pcm = load(path, &frames);
	static double us[N_SET][MAX_RUNS], ratio[N_SET][MAX_RUNS];
	struct one last[N_SET];

	encode_all(pcm, frames, 10); /* warm the caches */
	for (int r = 0; r < runs; r++) {
		for (size_t k = 0; k < N_SET; k++) {
			size_t i = (k + (size_t)r) % N_SET;
			last[i] = encode_all(pcm, frames, settings[i]);
			us[i][r] = last[i].us;
		}
		for (size_t i = 0; i < N_SET; i++)
			ratio[i][r] = us[i][r] / us[0][r];
	}
	printf("fecbench: %zu frames (%.1f s) of speech, %d runs; thread CPU "
	       "per 20 ms encode, medians\n",
	       frames, (double)frames / 50, runs);
	printf("%-10s %10s %12s %12s %12s\n", "expected", "us/frame", "vs 0%",
	       "FEC packets", "mean bytes");
	for (size_t i = 0; i < N_SET; i++)
		printf("%8u%% %10.1f %11.3fx %11.1f%% %12.1f\n", settings[i],
		       bench_median(us[i], (size_t)runs),
		       bench_median(ratio[i], (size_t)runs),
		       100.0 * last[i].fec / last[i].packets,
		       (double)last[i].bytes / last[i].packets);
	free(pcm);
	return 0;
}
