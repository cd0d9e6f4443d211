/* recbench.c: what one recording costs the recording writer thread, per
 * file format (conference/rec_sink.h: rec_wav.c, rec_ogg.c), and so how
 * many rooms one writer can record at once before it falls behind the
 * mixers (which then drop frames, and the files get silence in their place).
 *
 * A run writes RUN_S seconds of a 48 kHz mono mix into a fresh file in a
 * temporary directory the way the writer does: 20 ms frames, a flush after
 * every five (the writer's 100 ms batch), the sink closed at the end. The
 * audio stands in for a busy room: two voices' worth of harmonics with a
 * syllable-rate envelope, plus noise at -40 dBFS, so that Opus never sees
 * the silence it encodes almost for free. The time is the thread's CPU
 * time (CLOCK_THREAD_CPUTIME_ID), which a noisy neighbour disturbs less
 * than the wall clock, though caches and frequency still move it; disk
 * time is not in it (the page cache takes the writes; the writer's fsync
 * once a second is not done here). Formats take turns run by run; each
 * figure is the median of RUNS runs.
 *
 * Single-threaded. Options: --quick for fewer, shorter runs. */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conference/rec_sink.h"

#define RATE_HZ	      48000
#define FRAME_SAMPLES (RATE_HZ / 50)
#define BATCH_FRAMES  5
#define MAX_RUNS      15

static const struct {
	const char *name;
	const struct rec_sink_ops *ops;
} formats[] = {{"wav", &rec_wav_ops}, {"ogg", &rec_ogg_ops}};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A busy room's mix: voiced harmonics of two speakers, each swelling and
 * fading at syllable rate, and a little noise. */
static void make_audio(int16_t *pcm, size_t n)
{
	uint32_t rng = 12345;
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / RATE_HZ, v = 0;
		double env1 = 0.5 + 0.5 * sin(2 * M_PI * 4.0 * t);
		double env2 = 0.5 + 0.5 * sin(2 * M_PI * 3.1 * t + 1.0);
		for (int h = 1; h <= 8; h++) {
			v += env1 * sin(2 * M_PI * 120.0 * h * t) / h;
			v += env2 * sin(2 * M_PI * 210.0 * h * t) / h;
		}
		rng = rng * 1664525u + 1013904223u;
		double noise = ((double)(rng >> 16) / 65536.0 - 0.5) * 0.02;
		pcm[i] = (int16_t)lrint(3000.0 * v + 32767.0 * noise);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One run: CPU seconds to write n samples in format f; the file's size in
 * *bytes. Negative on failure. */
static double run(const char *dir, size_t f, const int16_t *pcm, size_t n,
		  off_t *bytes)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/run%s", dir, formats[f].ops->ext);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct rec_sink *s;
	double t0 = thread_cpu_s();
	int err = formats[f].ops->open(&s, fd, RATE_HZ);
	for (size_t i = 0; !err && i + FRAME_SAMPLES <= n; i += FRAME_SAMPLES) {
		err = formats[f].ops->write(s, pcm + i, FRAME_SAMPLES);
		if (!err &&
		    (i / FRAME_SAMPLES) % BATCH_FRAMES == BATCH_FRAMES - 1)
			err = formats[f].ops->flush(s);
	}
	if (!err)
		err = formats[f].ops->close(s);
	double cpu = thread_cpu_s() - t0;
	struct stat st;
	*bytes = fstat(fd, &st) == 0 ? st.st_size : 0;
	close(fd);
	unlink(path);
	return err ? -1 : cpu;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	unsigned runs = quick ? 5 : MAX_RUNS, secs = quick ? 5 : 20;
	size_t n = (size_t)secs * RATE_HZ;
	int16_t *pcm = malloc(n * sizeof(*pcm));
	char dir[] = "/tmp/recbench-XXXXXX";
	if (!pcm || !mkdtemp(dir)) {
		fprintf(stderr, "recbench: out of memory or no /tmp\n");
		return 1;
	}
	make_audio(pcm, n);
	double cpu[N_FORMATS][MAX_RUNS];
	off_t bytes[N_FORMATS] = {0};
	for (unsigned r = 0; r < runs; r++)
		for (size_t f = 0; f < N_FORMATS; f++)
			if ((cpu[f][r] = run(dir, f, pcm, n, &bytes[f])) < 0) {
				fprintf(stderr, "recbench: %s failed\n",
					formats[f].name);
				return 1;
			}
	rmdir(dir);
	printf("recbench: %u s of 48 kHz mono per run, 20 ms frames, a flush "
	       "every 100 ms, median of %u runs (thread CPU time)\n\n",
	       secs, runs);
	printf("| format | CPU ms per s of audio | %% of one core per "
	       "recording | recordings one writer keeps up with | file "
	       "kB/s |\n| --- | ---: | ---: | ---: | ---: |\n");
	for (size_t f = 0; f < N_FORMATS; f++) {
		qsort(cpu[f], runs, sizeof(double), cmp_double);
		double per_s = cpu[f][runs / 2] / secs;
		printf("| %s | %.3f | %.2f | %.0f | %.1f |\n", formats[f].name,
		       per_s * 1e3, per_s * 100, 1.0 / per_s,
		       (double)bytes[f] / secs / 1000.0);
	}
	free(pcm);
	return 0;
}
