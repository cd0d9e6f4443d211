/* mixbench.c: how fast the mix kernels (mixer/mixk*.c) run one room's tick,
 * and how that compares with this machine's memory bandwidth.
 *
 * One tick is what the mixer does every 20 ms at 48 kHz (960 samples): zero
 * the int32 accumulator, add all N inputs into it, then give each of the N
 * participants the sum minus its own voice (sub_sat). Every variant this CPU
 * runs is timed for N = 8 .. 1024. A run repeats the tick for some
 * milliseconds, timing all the add phases, then all the sub_sat phases; the
 * variants take turns run by run, and each figure is a median over the runs.
 * Inputs and outputs are one frame per participant, laid end to end; the
 * "hot" rows use one room, whose data stays in cache from tick to tick, and
 * the "cold" row goes through 256 MiB of rooms of 1024 in turn, so that each
 * tick finds its data in DRAM.
 *
 * Bandwidth is the median speed of one thread reading a 256 MiB buffer with
 * SSE2, in passes made between the rooms (the table comes at the end, once
 * it is known). A tick streams 6 bytes per participant and sample (each input
 * read by add and again by sub_sat, each output written); the accumulator, 3.75
 * KiB, stays in L1 and is not counted. A ratio to bandwidth above 1 means
 * the tick runs from cache.
 *
 * A second table puts the limiter (mixer/limit.c) beside the plain clip,
 * per listener and tick (see bench_limiter below).
 *
 * Single-threaded; time from CLOCK_MONOTONIC. Options: --quick for a short
 * run, --markdown for a table to paste into docs/benchmarks.md, --limiter
 * for the limiter's table alone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "mixer/mixer.h"

#define RATE_HZ	      48000
#define FRAME_SAMPLES (RATE_HZ / 1000 * MIXER_FRAME_MS)
#define MAX_VARIANTS  8
#define MAX_RUNS      31
#define BW_BYTES      ((size_t)256 << 20)
#define MAX_BW_PASSES 64
#define STREAM_BYTES  6 /* per participant and sample, see the top */
#define COLD_N	      1024
/* What the cold row goes through: eight times the 32 MiB L3 of these
 * machines (sysconf() is no help: in a VM it may report the whole socket's
 * cache rather than the slice this guest shares). */
#define COLD_BYTES ((size_t)256 << 20)

static const unsigned part_counts[] = {8, 16, 32, 64, 128, 256, 512, 1024};
#define N_COUNTS (sizeof(part_counts) / sizeof(part_counts[0]))

struct opts {
	int quick, markdown, limiter_only;
	unsigned runs;	      /* medians over this many runs */
	unsigned cold_copies; /* copies of the room in the cold row */
	double run_ns;	      /* how long one run should last */
};

struct result {
	double add_ns, sub_ns, tick_ns; /* medians, per tick */
};

/* One line of the table. */
struct row {
	const char *name;
	unsigned n;
	int cold;
	struct result r;
	double scalar_tick_ns;
};

static volatile uint64_t sink;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *xalloc(size_t bytes)
{
	void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);

	if (!p) {
		fprintf(stderr, "mixbench: out of memory (%zu bytes)\n", bytes);
		exit(1);
	}
	return p;
}

/* Reads the buffer once and returns a sum, so that nothing is skipped. */
static uint64_t read_all(const void *buf, size_t bytes)
{
#if defined(__SSE2__) && defined(__x86_64__)
	const __m128i *p = buf, *end = p + bytes / 16;
	__m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;

	for (; p + 4 <= end; p += 4) {
		s0 = _mm_add_epi64(s0, _mm_load_si128(p));
		s1 = _mm_add_epi64(s1, _mm_load_si128(p + 1));
		s2 = _mm_add_epi64(s2, _mm_load_si128(p + 2));
		s3 = _mm_add_epi64(s3, _mm_load_si128(p + 3));
	}
	s0 = _mm_add_epi64(_mm_add_epi64(s0, s1), _mm_add_epi64(s2, s3));
	s0 = _mm_add_epi64(s0, _mm_unpackhi_epi64(s0, s0));
	return (uint64_t)_mm_cvtsi128_si64(s0);
#else
	const uint64_t *p = buf;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

	for (size_t i = 0; i + 4 <= bytes / 8; i += 4) {
		s0 += p[i];
		s1 += p[i + 1];
		s2 += p[i + 2];
		s3 += p[i + 3];
	}
	return s0 + s1 + s2 + s3;
#endif
}

/* Read bandwidth: passes over one buffer, spread over the whole run so
 * that they meet the same neighbours as the kernels do. */
struct bw {
	void *buf;
	unsigned n;
	double t_ns[MAX_BW_PASSES];
};

static void bw_init(struct bw *bw)
{
	bw->buf = xalloc(BW_BYTES);
	bw->n = 0;
	memset(bw->buf, 1, BW_BYTES);
	sink += read_all(bw->buf, BW_BYTES);
}

static void bw_sample(struct bw *bw, unsigned passes)
{
	for (unsigned r = 0; r < passes && bw->n < MAX_BW_PASSES; r++) {
		double t0 = now_ns();

		sink += read_all(bw->buf, BW_BYTES);
		bw->t_ns[bw->n++] = now_ns() - t0;
	}
}

/* The median, in bytes per second. */
static double bw_median(struct bw *bw)
{
	return (double)BW_BYTES / (median(bw->t_ns, bw->n) * 1e-9);
}

/* One room: n participants, each with an input and an output frame. The
 * cold rows keep many copies of the room and move to the next copy at every
 * tick, so that the data of a tick has left the caches by its next turn. */
struct room {
	unsigned n, copies, next; /* next: the copy the next tick uses */
	size_t samples;		  /* n frames, per copy */
	int32_t *acc;		  /* one frame per copy */
	int16_t *in, *out;	  /* n frames per copy, laid end to end */
};

static void room_init(struct room *rm, unsigned n, unsigned copies)
{
	size_t all;
	uint32_t x = 2463534242u;

	rm->n = n;
	rm->copies = copies;
	rm->next = 0;
	rm->samples = (size_t)n * FRAME_SAMPLES;
	all = rm->samples * copies;
	rm->acc = xalloc(FRAME_SAMPLES * copies * sizeof(int32_t));
	rm->in = xalloc(all * sizeof(int16_t));
	rm->out = xalloc(all * sizeof(int16_t));
	for (size_t i = 0; i < all; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rm->in[i] = (int16_t)(x >> 16);
	}
	memset(rm->out, 0, all * sizeof(int16_t));
}

static void room_free(struct room *rm)
{
	free(rm->acc);
	free(rm->in);
	free(rm->out);
}

/* The add phase of one tick on copy c. */
static void tick_add(const struct mixk *k, struct room *rm, unsigned c)
{
	int32_t *acc = rm->acc + (size_t)c * FRAME_SAMPLES;
	const int16_t *in = rm->in + (size_t)c * rm->samples;

	memset(acc, 0, FRAME_SAMPLES * sizeof(int32_t));
	for (unsigned p = 0; p < rm->n; p++)
		k->add(acc, in + (size_t)p * FRAME_SAMPLES, FRAME_SAMPLES);
}

/* The N-1 phase of one tick on copy c. */
static void tick_sub(const struct mixk *k, struct room *rm, unsigned c)
{
	const int32_t *acc = rm->acc + (size_t)c * FRAME_SAMPLES;
	size_t base = (size_t)c * rm->samples;

	for (unsigned p = 0; p < rm->n; p++) {
		size_t at = base + (size_t)p * FRAME_SAMPLES;

		k->sub_sat(rm->out + at, acc, rm->in + at, FRAME_SAMPLES);
	}
}

/* Times reps ticks, the add phases and then the N-1 phases, and returns the
 * time of one of each in ns. */
static void run_ticks(const struct mixk *k, struct room *rm, unsigned reps,
		      double *add_ns, double *sub_ns)
{
	unsigned first = rm->next, r;
	double t0, t1, t2;

	t0 = now_ns();
	for (r = 0; r < reps; r++)
		tick_add(k, rm, (first + r) % rm->copies);
	t1 = now_ns();
	for (r = 0; r < reps; r++)
		tick_sub(k, rm, (first + r) % rm->copies);
	t2 = now_ns();
	rm->next = (first + reps) % rm->copies;
	*add_ns = (t1 - t0) / reps;
	*sub_ns = (t2 - t1) / reps;
}

/* Measures every variant on the room. The runs of the variants take turns,
 * so that a noisy neighbour slows them all alike and the ratios hold. */
static void measure(const struct mixk **v, size_t nv, struct room *rm,
		    const struct opts *o, struct result *res)
{
	static double add[MAX_VARIANTS][MAX_RUNS], sub[MAX_VARIANTS][MAX_RUNS];
	static double tick[MAX_VARIANTS][MAX_RUNS];
	unsigned reps[MAX_VARIANTS];
	size_t k;

	/* Two warm-up runs, which also size the others; a cold run goes
	 * through every copy at least once. */
	for (k = 0; k < nv; k++) {
		reps[k] = rm->copies;
		for (int w = 0; w < 2; w++) {
			run_ticks(v[k], rm, reps[k], &add[k][0], &sub[k][0]);
			reps[k] =
			    (unsigned)(o->run_ns / (add[k][0] + sub[k][0])) + 1;
			if (reps[k] < rm->copies)
				reps[k] = rm->copies;
		}
	}
	for (unsigned r = 0; r < o->runs; r++) {
		for (k = 0; k < nv; k++) {
			run_ticks(v[k], rm, reps[k], &add[k][r], &sub[k][r]);
			tick[k][r] = add[k][r] + sub[k][r];
		}
	}
	for (k = 0; k < nv; k++) {
		res[k].add_ns = median(add[k], o->runs);
		res[k].sub_ns = median(sub[k], o->runs);
		res[k].tick_ns = median(tick[k], o->runs);
	}
}

static void cpu_name(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

static void print_header(const struct opts *o, const struct bw *bw,
			 double bw_bps)
{
	char cpu[128];

	cpu_name(cpu, sizeof(cpu));
	printf("mixbench: %u Hz, %u ms frames (%u samples), one thread, "
	       "median of %u runs%s\n",
	       RATE_HZ, MIXER_FRAME_MS, FRAME_SAMPLES, o->runs,
	       o->quick ? " (--quick)" : "");
	printf("cpu: %s\n", cpu);
	printf("memory read bandwidth (one thread, %zu MiB, median of %u "
	       "passes): %.2f GB/s\n",
	       BW_BYTES >> 20, bw->n, bw_bps * 1e-9);
	printf(
	    "cold: %u rooms of %u in turn (%zu MiB), each tick from DRAM\n\n",
	    o->cold_copies, COLD_N, COLD_BYTES >> 20);
	if (o->markdown) {
		printf("| variant | N | data | set KiB | tick us | %% of 20 ms "
		       "| add ns/in | sub_sat ns/out | tick ns/out "
		       "| x scalar | GB/s | x bandwidth |\n");
		printf("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: "
		       "| ---: | ---: | ---: | ---: |\n");
	} else {
		printf("%-7s %5s %-4s %8s %9s %6s %9s %9s %9s %8s %6s %5s\n",
		       "variant", "N", "data", "set KiB", "tick us", "%20ms",
		       "add ns", "sub ns", "tick ns", "x scalar", "GB/s",
		       "x bw");
		printf("%-7s %5s %-4s %8s %9s %6s %9s %9s %9s\n", "", "", "",
		       "", "", "", "/in", "/out", "/out");
	}
}

static void print_row(const struct opts *o, const struct row *w, double bw_bps)
{
	double samples = (double)w->n * FRAME_SAMPLES;
	double set_kib =
	    (samples * 2 * sizeof(int16_t) + FRAME_SAMPLES * sizeof(int32_t)) /
	    1024;
	double gbs = samples * STREAM_BYTES / w->r.tick_ns;
	const char *fmt =
	    o->markdown ? "| %s | %u | %s | %.0f | %.1f | %.2f | %.3f | %.3f "
			  "| %.3f | %.1f | %.1f | %.2f |\n"
			: "%-7s %5u %-4s %8.0f %9.1f %6.2f %9.3f %9.3f %9.3f "
			  "%8.1f %6.1f %5.2f\n";

	printf(fmt, w->name, w->n, w->cold ? "cold" : "hot", set_kib,
	       w->r.tick_ns * 1e-3, w->r.tick_ns / (MIXER_FRAME_MS * 1e6) * 100,
	       w->r.add_ns / samples, w->r.sub_ns / samples,
	       w->r.tick_ns / samples, w->scalar_tick_ns / w->r.tick_ns, gbs,
	       gbs * 1e9 / bw_bps);
}

static int parse(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			o->quick = 1;
		} else if (strcmp(argv[i], "--markdown") == 0) {
			o->markdown = 1;
		} else if (strcmp(argv[i], "--limiter") == 0) {
			o->limiter_only = 1;
		} else {
			fprintf(
			    stderr,
			    "usage: %s [--quick] [--markdown] [--limiter]\n",
			    argv[0]);
			return strcmp(argv[i], "--help") == 0 ? 0 : 2;
		}
	}
	o->runs = o->quick ? 7 : MAX_RUNS;
	o->run_ns = o->quick ? 1e6 : 15e6;
	o->cold_copies =
	    (unsigned)(COLD_BYTES / ((size_t)COLD_N * FRAME_SAMPLES * 4)) + 1;
	return -1;
}

/* ---- the limiter against the plain clip ------------------------------------
 *
 * Per listener and tick: what a contributor's mix costs with the plain
 * saturating N-1 (sub_sat) and with the limiter (limit_run: peaks, the
 * knee for 20 blocks, ramp), for LIM_LISTENERS listeners with their own
 * frames and one accumulator, hot in cache. "quiet" mixes stay under the
 * knee (gain 1: the limiter's fast path), "loud" ones peak near 3x full
 * scale in every block (the knee and the ramp throughout). */
#define LIM_LISTENERS 64

static const uint32_t lim_rates[] = {8000, 48000};

struct lim_bench {
	size_t n;
	int32_t *acc;
	int16_t *own, *out;
	struct limit *lim;
};

static void lim_init(struct lim_bench *b, uint32_t rate, int32_t level)
{
	uint32_t x = 88172645u;

	b->n = rate / 50;
	b->acc = xalloc(b->n * sizeof(int32_t));
	b->own = xalloc(LIM_LISTENERS * b->n * sizeof(int16_t));
	b->out = xalloc(LIM_LISTENERS * b->n * sizeof(int16_t));
	b->lim = xalloc(LIM_LISTENERS * sizeof(struct limit));
	for (size_t i = 0; i < b->n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		b->acc[i] = (int32_t)(x % (2u * (uint32_t)level)) - level;
	}
	for (size_t i = 0; i < LIM_LISTENERS * b->n; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		b->own[i] = (int16_t)((int32_t)(x % 20000u) - 10000);
	}
	for (size_t p = 0; p < LIM_LISTENERS; p++)
		limit_init(&b->lim[p]);
}

static void lim_free(struct lim_bench *b)
{
	free(b->acc);
	free(b->own);
	free(b->out);
	free(b->lim);
}

/* ns per listener and tick over reps ticks, plain clip or limiter. */
static double lim_time(const struct mixk *k, struct lim_bench *b, unsigned reps,
		       int limiter)
{
	double t0 = now_ns();

	for (unsigned r = 0; r < reps; r++) {
		for (size_t p = 0; p < LIM_LISTENERS; p++) {
			int16_t *out = b->out + p * b->n;
			const int16_t *own = b->own + p * b->n;
			if (limiter)
				limit_run(&b->lim[p], k, out, b->acc, own, b->n,
					  1.0f);
			else
				k->sub_sat(out, b->acc, own, b->n);
		}
	}
	return (now_ns() - t0) / reps / LIM_LISTENERS;
}

static void bench_limiter(const struct mixk **v, size_t nv,
			  const struct opts *o)
{
	static double clip[MAX_VARIANTS][MAX_RUNS], lim[MAX_VARIANTS][MAX_RUNS];
	static const int32_t levels[] = {10000, 90000};

	printf("\nlimiter: per listener and tick, %u listeners, hot; median "
	       "of %u runs\n\n",
	       LIM_LISTENERS, o->runs);
	if (o->markdown)
		printf(
		    "| variant | rate Hz | mix | clip us | limiter us | x clip "
		    "|\n| --- | ---: | --- | ---: | ---: | ---: |\n");
	else
		printf("%-7s %7s %-5s %9s %11s %7s\n", "variant", "rate", "mix",
		       "clip us", "limiter us", "x clip");
	for (size_t r = 0; r < sizeof(lim_rates) / sizeof(lim_rates[0]); r++) {
		for (size_t l = 0; l < 2; l++) {
			struct lim_bench b;
			lim_init(&b, lim_rates[r], levels[l]);
			/* Warm-up, which also sizes the runs. */
			double tick_ns = 0;
			for (size_t k = 0; k < nv; k++)
				tick_ns =
				    lim_time(v[k], &b, 20, 1) * LIM_LISTENERS;
			unsigned reps = (unsigned)(o->run_ns / tick_ns) + 1;
			for (unsigned run = 0; run < o->runs; run++) {
				for (size_t k = 0; k < nv; k++) {
					clip[k][run] =
					    lim_time(v[k], &b, reps, 0);
					lim[k][run] =
					    lim_time(v[k], &b, reps, 1);
				}
			}
			for (size_t k = 0; k < nv; k++) {
				double c = median(clip[k], o->runs);
				double m = median(lim[k], o->runs);
				printf(
				    o->markdown
					? "| %s | %u | %s | %.2f | %.2f | %.1f "
					  "|\n"
					: "%-7s %7u %-5s %9.2f %11.2f %7.1f\n",
				    v[k]->name, lim_rates[r],
				    l ? "loud" : "quiet", c * 1e-3, m * 1e-3,
				    m / c);
			}
			lim_free(&b);
		}
	}
}

/* Measures every variant on one room; appends a row for each. */
static struct row *bench_room(const struct mixk **v, size_t nv, unsigned n,
			      unsigned copies, const struct opts *o,
			      struct row *w)
{
	struct result res[MAX_VARIANTS];
	struct room rm;

	room_init(&rm, n, copies);
	measure(v, nv, &rm, o, res);
	room_free(&rm);
	for (size_t k = 0; k < nv; k++, w++) {
		w->name = v[k]->name;
		w->n = n;
		w->cold = copies > 1;
		w->r = res[k];
		w->scalar_tick_ns = res[0].tick_ns;
	}
	return w;
}

int main(int argc, char **argv)
{
	static struct row rows[(N_COUNTS + 1) * MAX_VARIANTS];
	const struct mixk *v[MAX_VARIANTS];
	struct row *w = rows;
	struct opts o;
	struct bw bw;
	int rc = parse(&o, argc, argv);
	size_t nv = mixk_available(v, MAX_VARIANTS);
	unsigned passes = o.quick ? 1 : 3;
	double bw_bps;

	if (rc >= 0)
		return rc;
	if (o.limiter_only) {
		bench_limiter(v, nv, &o);
		return 0;
	}
	fprintf(stderr, "mixbench: measuring, about %s\n",
		o.quick ? "5 s" : "25 s");
	bw_init(&bw);
	bw_sample(&bw, passes + 1);
	for (size_t c = 0; c < N_COUNTS; c++) {
		w = bench_room(v, nv, part_counts[c], 1, &o, w);
		bw_sample(&bw, passes);
	}
	w = bench_room(v, nv, COLD_N, o.cold_copies, &o, w);
	bw_sample(&bw, passes);
	free(bw.buf);

	bw_bps = bw_median(&bw);
	print_header(&o, &bw, bw_bps);
	for (struct row *r = rows; r < w; r++)
		print_row(&o, r, bw_bps);
	bench_limiter(v, nv, &o);
	return 0;
}
