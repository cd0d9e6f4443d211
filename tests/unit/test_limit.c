/* test_limit.c: the limiter (mixer/limit.c).
 *
 * Golden vectors: six fixed inputs, made here with integer arithmetic
 * only (triangle waves and a linear congruential noise, so they are the
 * same on every platform), run through limit_run() frame by frame with
 * every kernel variant; each output must equal, sample for sample, the one
 * committed in tests/unit/limit_golden.h. Those outputs were made by this
 * file and checked by its property tests; after a change that is meant to
 * alter them, regenerate with
 *   TUTTI_LIMIT_GOLDEN=print build/tests/unit/test_limit > \
 *       tests/unit/limit_golden.h && clang-format -i tests/unit/limit_golden.h
 * and say why in the commit.
 *
 * Properties: the knee's curve (untouched below the knee, slope 1 there,
 * rising, never reaching the ceiling); a quiet mix passes bit for bit, one
 * block late; a loud one never passes the ceiling, whatever its level; a
 * listen gain is applied before the knee; a copied state carries on
 * exactly as the original; the fast path for gain 1 is exact. */
#include "mixer/mixer.h"

#include "tests/unit/limit_golden.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VARIANTS 8
#define MAX_N	     (5 * 960)

/* A triangle wave of the given period (samples) and peak, at sample i. */
static int32_t tri(int64_t i, int64_t period, int32_t peak)
{
	int64_t p = i % period, half = period / 2;
	int64_t up = p < half ? p : period - p; /* 0..half */
	return (int32_t)((4 * up - period) * peak / period);
}

static uint32_t lcg = 12345;

/* Noise in -peak..peak. */
static int32_t noise(int32_t peak)
{
	lcg = lcg * 1664525u + 1013904223u;
	return (int32_t)((int64_t)(lcg >> 8) % (2 * (int64_t)peak + 1)) - peak;
}

struct vec {
	const char *name;
	uint32_t rate_hz;
	unsigned frames;
	float pre;
	bool with_own;
	const int16_t *golden;
	int32_t acc[MAX_N];
	int16_t own[MAX_N];
};

#define VEC(n, r, f, p, o)                                                     \
	{                                                                      \
		.name = #n, .rate_hz = r, .frames = f, .pre = p,               \
		.with_own = o, .golden = golden_##n                            \
	}

static struct vec vecs[] = {
    VEC(quiet, 8000, 4, 1.0f, false),
    VEC(burst, 8000, 5, 1.0f, false),
    VEC(contributor, 8000, 4, 1.0f, true),
    VEC(listen_gain, 8000, 4, 3.981f, false), /* +12 dB */
    VEC(extremes, 16000, 3, 1.0f, true),
    VEC(loud_48k, 48000, 2, 1.0f, false),
};

#define N_VECS (sizeof(vecs) / sizeof(vecs[0]))

static size_t vec_n(const struct vec *v)
{
	return v->rate_hz / 50 * v->frames;
}

/* The inputs, by name: the same integers on every platform. */
static void make(struct vec *v)
{
	size_t n = vec_n(v), frame = v->rate_hz / 50;

	lcg = 12345;
	memset(v->own, 0, sizeof(v->own));
	for (size_t i = 0; i < n; i++) {
		int64_t t = (int64_t)i;
		size_t f = i / frame;
		int32_t *a = &v->acc[i];
		if (!strcmp(v->name, "quiet")) {
			*a = tri(t, 18, 6000) + tri(t, 7, 2000);
		} else if (!strcmp(v->name, "burst")) {
			/* quiet, two frames of three loud talkers, quiet */
			*a = tri(t, 26, 8000);
			if (f == 1 || f == 2)
				*a = tri(t, 26, 30000) + tri(t, 11, 25000) +
				     tri(t, 7, 20000);
		} else if (!strcmp(v->name, "contributor")) {
			v->own[i] = (int16_t)tri(t, 18, 15000);
			*a = v->own[i] + tri(t, 8, 15000) + tri(t, 5, 15000);
		} else if (!strcmp(v->name, "listen_gain")) {
			*a = tri(t, 16, 12000) + noise(500);
		} else if (!strcmp(v->name, "extremes")) {
			v->own[i] = (int16_t)(i % 3 ? 32767 : -32768);
			*a = f == 1 ? (i % 2 ? INT32_MAX : INT32_MIN)
				    : noise(1 << 20);
		} else {
			*a = tri(t, 96, 32767) * (f == 0 ? 1 : 3) + noise(3000);
		}
	}
}

static void run(const struct vec *v, const struct mixk *k, int16_t *out)
{
	struct limit l;
	size_t frame = v->rate_hz / 50;

	limit_init(&l);
	for (unsigned f = 0; f < v->frames; f++)
		limit_run(&l, k, out + f * frame, v->acc + f * frame,
			  v->with_own ? v->own + f * frame : NULL, frame,
			  v->pre);
}

static void print_golden(void)
{
	static int16_t out[MAX_N];

	printf("/* limit_golden.h: the limiter's expected outputs for the "
	       "golden vectors\n * of test_limit.c, made by it with "
	       "TUTTI_LIMIT_GOLDEN=print. Do not edit. */\n");
	printf("#ifndef TUTTI_LIMIT_GOLDEN_H\n#define TUTTI_LIMIT_GOLDEN_H\n\n"
	       "#include <stdint.h>\n");
	for (size_t i = 0; i < N_VECS; i++) {
		make(&vecs[i]);
		run(&vecs[i], &mixk_scalar, out);
		printf("\nstatic const int16_t golden_%s[%zu] = {",
		       vecs[i].name, vec_n(&vecs[i]));
		for (size_t j = 0; j < vec_n(&vecs[i]); j++)
			printf("%s%d,", j % 12 ? " " : "\n    ", out[j]);
		printf("\n};\n");
	}
	printf("\n#endif\n");
}

static void test_golden(void)
{
	static int16_t out[MAX_N];
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = mixk_available(v, MAX_VARIANTS);

	for (size_t i = 0; i < N_VECS; i++) {
		make(&vecs[i]);
		for (size_t k = 0; k < nv; k++) {
			run(&vecs[i], v[k], out);
			size_t bad = 0, n = vec_n(&vecs[i]);
			for (size_t j = 0; j < n; j++)
				bad += out[j] != vecs[i].golden[j];
			if (bad)
				fprintf(stderr, "%s with %s: %zu differ\n",
					vecs[i].name, v[k]->name, bad);
			CU_ASSERT_EQUAL(bad, 0);
		}
	}
}

/* What the golden outputs must be, beyond equal to the file. */
static void test_golden_properties(void)
{
	for (size_t i = 0; i < N_VECS; i++)
		make(&vecs[i]);
	const struct vec *q = &vecs[0];
	size_t b = q->rate_hz / 1000;

	/* Quiet: the input, one block late, bit for bit. */
	for (size_t j = 0; j < vec_n(q); j++)
		CU_ASSERT_EQUAL(q->golden[j], j < b ? 0 : q->acc[j - b]);
	for (size_t i = 1; i < N_VECS; i++) {
		const struct vec *v = &vecs[i];
		int peak = 0;
		for (size_t j = 0; j < vec_n(v); j++)
			peak =
			    abs(v->golden[j]) > peak ? abs(v->golden[j]) : peak;
		CU_ASSERT(peak <= LIMIT_CEILING);
		CU_ASSERT(peak > LIMIT_KNEE); /* loud, but limited */
	}
	/* Burst: the quiet frame before it passes untouched until the
	 * block before the burst (the look-ahead), and after it the gain
	 * climbs back: the last quiet frame is louder than the first after. */
	const struct vec *v = &vecs[1];
	for (size_t j = b; j < 160 - b; j++)
		CU_ASSERT_EQUAL(v->golden[j], v->acc[j - b]);
	int after = 0, later = 0;
	for (size_t j = 3 * 160 + b; j < 4 * 160; j++)
		after = abs(v->golden[j]) > after ? abs(v->golden[j]) : after;
	for (size_t j = 4 * 160 + b; j < 5 * 160; j++)
		later = abs(v->golden[j]) > later ? abs(v->golden[j]) : later;
	CU_ASSERT(after < later && later <= 8000);
}

static void test_knee(void)
{
	CU_ASSERT_EQUAL(limit_gain(0, 1.0f), 1.0f);
	CU_ASSERT_EQUAL(limit_gain(LIMIT_KNEE, 1.0f), 1.0f);
	CU_ASSERT_EQUAL(limit_gain(100, 2.0f), 2.0f);
	float prev_out = LIMIT_KNEE;
	for (uint32_t p = LIMIT_KNEE + 1; p < 4000000u; p += p / 64) {
		float out = limit_gain(p, 1.0f) * (float)p;
		CU_ASSERT(out > prev_out);
		CU_ASSERT(out < LIMIT_CEILING);
		prev_out = out;
	}
	/* Slope 1 at the knee: one above it comes out (almost) one above. */
	float just = limit_gain(LIMIT_KNEE + 10, 1.0f) * (LIMIT_KNEE + 10);
	CU_ASSERT(just > LIMIT_KNEE + 9.9f && just <= LIMIT_KNEE + 10);
	/* The largest peak, 2^31, still has a positive gain. */
	CU_ASSERT(limit_gain(0x80000000u, 1.0f) > 0);
	/* A listen gain counts before the knee. */
	CU_ASSERT_EQUAL(limit_gain(LIMIT_KNEE, 2.0f),
			limit_gain(2 * LIMIT_KNEE, 1.0f) * 2.0f);
}

/* Random loud mixes at each rate, for many frames: never past the
 * ceiling; a copy of the state carries on exactly as the original. */
static void test_never_past_ceiling(void)
{
	static const uint32_t rates[] = {8000, 16000, 48000};
	static int32_t acc[960];
	static int16_t own[960], out[960], out2[960];
	const struct mixk *k = mixk_best();

	for (size_t r = 0; r < 3; r++) {
		size_t n = rates[r] / 50;
		struct limit l, copy;
		int peak = 0;
		limit_init(&l);
		for (int f = 0; f < 300; f++) {
			int32_t level = 1000 << (f % 12); /* up to 2^21 */
			for (size_t i = 0; i < n; i++) {
				acc[i] = noise(level);
				own[i] = (int16_t)noise(32767);
			}
			const int16_t *o = f % 2 ? own : NULL;
			float pre = f % 5 ? 1.0f : 15.85f; /* +24 dB */
			if (f == 150)
				copy = l;
			limit_run(&l, k, out, acc, o, n, pre);
			for (size_t i = 0; i < n; i++)
				peak = abs(out[i]) > peak ? abs(out[i]) : peak;
			if (f == 150) {
				limit_run(&copy, k, out2, acc, o, n, pre);
				CU_ASSERT_EQUAL(memcmp(out, out2, n * 2), 0);
			}
		}
		CU_ASSERT(peak <= LIMIT_CEILING && peak > LIMIT_KNEE);
	}
}

/* The limiter's fast path (sat and sub_sat while the gain is 1) gives
 * exactly what the ramp gives at gain 1, for any mix a room can make. */
static void test_fast_path_exact(void)
{
	enum { N = 960, B = 48 };
	static int32_t acc[N];
	static int16_t own[N], a[N], b[N];
	float ones[N / B + 1];
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = mixk_available(v, MAX_VARIANTS);

	for (size_t i = 0; i <= N / B; i++)
		ones[i] = 1.0f;
	for (size_t k = 0; k < nv; k++) {
		for (int round = 0; round < 20; round++) {
			for (size_t i = 0; i < N; i++) {
				acc[i] = noise(1 << (4 + round));
				own[i] = (int16_t)noise(32767);
			}
			v[k]->ramp(a, acc, own, N, B, ones);
			v[k]->sub_sat(b, acc, own, N);
			CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
			v[k]->ramp(a, acc, NULL, N, B, ones);
			v[k]->sat(b, acc, N);
			CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)), 0);
		}
	}
}

static const struct unit_test tests[] = {
    {"golden vectors, every variant", test_golden},
    {"golden vectors: quiet passes, loud is limited, release",
     test_golden_properties},
    {"the knee", test_knee},
    {"the fast path is the ramp at gain 1", test_fast_path_exact},
    {"never past the ceiling; a copied state carries on",
     test_never_past_ceiling},
    {NULL, NULL},
};

int main(void)
{
	const char *g = getenv("TUTTI_LIMIT_GOLDEN");
	if (g && !strcmp(g, "print")) {
		print_golden();
		return 0;
	}
	return unit_run("limit", tests);
}
