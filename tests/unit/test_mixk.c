/* test_mixk.c: the mix kernels (mixer/mixk*.c).
 *
 * The scalar reference is checked against the definitions written out here
 * in 64-bit arithmetic; then every variant this CPU runs is checked against
 * the scalar one, bit for bit: on random input from a fixed seed, at every
 * length up to 64 and many up to 2000, from unaligned pointers, and on the
 * edges (full scale, silence, sums past int16 either way, acc near the int32
 * limits). Every case gets buffers of its exact size so that ASan sees any
 * read or write past either end. Last come the N-1 properties the mixer
 * relies on: a contributor alone hears silence, and each contributor hears
 * exactly the others. The limiter's two passes (peaks, ramp) get the same
 * treatment, the ramp against its float definition step by step. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/mixer.h"
#include "tests/unit/unit.h"

#define MAX_VARIANTS 8

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static int16_t rnd16(void)
{
	return (int16_t)(rnd() & 0xffff);
}

static int16_t sat16_ref(int64_t v)
{
	return v > INT16_MAX   ? INT16_MAX
	       : v < INT16_MIN ? INT16_MIN
			       : (int16_t)v;
}

/* An int32 that is a sum of k random int16, or now and then any int32. */
static int32_t rnd_acc(void)
{
	int64_t v = 0;

	if (rnd() % 8 == 0)
		return (int32_t)rnd();
	for (unsigned k = 1 + rnd() % 32; k > 0; k--)
		v += rnd16();
	return (int32_t)v;
}

static size_t variants(const struct mixk **v)
{
	size_t n = mixk_available(v, MAX_VARIANTS);

	CU_ASSERT_FATAL(n >= 1);
	CU_ASSERT_PTR_EQUAL_FATAL(v[0], &mixk_scalar);
	return n;
}

/* Buffers of exactly off + n elements; the kernels see base + off. */
struct bufs {
	int16_t *in, *out_ref, *out;
	int32_t *acc, *acc_ref, *acc_in;
	size_t off16, off32;
};

static void bufs_alloc(struct bufs *b, size_t n, size_t off16, size_t off32)
{
	size_t n16 = n + off16, n32 = n + off32;

	b->off16 = off16;
	b->off32 = off32;
	b->in = malloc(n16 * sizeof(int16_t) + 1);
	b->out_ref = malloc(n16 * sizeof(int16_t) + 1);
	b->out = malloc(n16 * sizeof(int16_t) + 1);
	b->acc = malloc(n32 * sizeof(int32_t) + 1);
	b->acc_ref = malloc(n32 * sizeof(int32_t) + 1);
	b->acc_in = malloc(n32 * sizeof(int32_t) + 1);
	CU_ASSERT_FATAL(b->in && b->out_ref && b->out && b->acc && b->acc_ref &&
			b->acc_in);
}

static void bufs_free(struct bufs *b)
{
	free(b->in);
	free(b->out_ref);
	free(b->out);
	free(b->acc);
	free(b->acc_ref);
	free(b->acc_in);
}

/* Runs the mix kernels and the sum of squares of k and of the scalar
 * reference on the same input and compares; returns the number of
 * differing results. */
static size_t compare(const struct mixk *k, struct bufs *b, size_t n)
{
	int16_t *in = b->in + b->off16;
	int16_t *ref = b->out_ref + b->off16, *out = b->out + b->off16;
	int32_t *acc = b->acc + b->off32, *acc_ref = b->acc_ref + b->off32;
	const int32_t *acc_in = b->acc_in + b->off32;
	size_t bad = 0, i;

	memcpy(acc_ref, acc_in, n * sizeof(*acc));
	memcpy(acc, acc_in, n * sizeof(*acc));
	mixk_scalar.add(acc_ref, in, n);
	k->add(acc, in, n);
	bad += n && memcmp(acc, acc_ref, n * sizeof(*acc)) != 0;

	mixk_scalar.sub_sat(ref, acc_in, in, n);
	k->sub_sat(out, acc_in, in, n);
	for (i = 0; i < n; i++)
		bad += out[i] != ref[i];

	mixk_scalar.sat(ref, acc_in, n);
	k->sat(out, acc_in, n);
	for (i = 0; i < n; i++)
		bad += out[i] != ref[i];

	bad += k->sumsq(in, n) != mixk_scalar.sumsq(in, n);
	return bad;
}

static void fill_random(struct bufs *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		b->in[b->off16 + i] = rnd16();
		b->acc_in[b->off32 + i] = rnd_acc();
	}
}

/* Compares k with scalar at length n from every pair of misalignments. */
static void check_random(const struct mixk *k, size_t n)
{
	for (size_t off16 = 0; off16 < 4; off16++) {
		for (size_t off32 = 0; off32 < 3; off32++) {
			struct bufs b;
			size_t bad;

			bufs_alloc(&b, n, off16, off32);
			fill_random(&b, n);
			bad = compare(k, &b, n);
			if (bad)
				fprintf(stderr, "%s: n %zu off %zu/%zu: %zu\n",
					k->name, n, off16, off32, bad);
			CU_ASSERT_EQUAL(bad, 0);
			bufs_free(&b);
		}
	}
}

/* Runs first: mixk_best() chooses once, so the override must be set before
 * anything else calls it. */
static void test_best(void)
{
	const struct mixk *v[MAX_VARIANTS];
	size_t n = variants(v), i;

	setenv("TUTTI_MIXK", "scalar", 1);
	CU_ASSERT_PTR_EQUAL(mixk_best(), &mixk_scalar);
	setenv("TUTTI_MIXK", v[n - 1]->name, 1);
	CU_ASSERT_PTR_EQUAL(mixk_best(), &mixk_scalar);
	unsetenv("TUTTI_MIXK");

	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL(v[i]->name);
		CU_ASSERT_PTR_NOT_NULL(v[i]->add);
		CU_ASSERT_PTR_NOT_NULL(v[i]->sub_sat);
		CU_ASSERT_PTR_NOT_NULL(v[i]->sat);
		for (size_t j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(strcmp(v[i]->name, v[j]->name), 0);
	}
	CU_ASSERT_EQUAL(mixk_available(v, 1), 1);
	CU_ASSERT_EQUAL(mixk_available(NULL, 0), 0);
#if defined(__x86_64__) || defined(__i386__)
	CU_ASSERT_EQUAL(n, __builtin_cpu_supports("avx2")   ? 3
			   : __builtin_cpu_supports("sse2") ? 2
							    : 1);
#endif
	printf("\n  variants:");
	for (i = 0; i < n; i++)
		printf(" %s", v[i]->name);
	printf("\n");
}

/* The scalar reference against the definitions, on random input. */
static void test_scalar_definition(void)
{
	enum { N = 4096 };
	static int16_t in[N], out[N];
	static int32_t acc[N], acc0[N];
	size_t i;

	for (i = 0; i < N; i++) {
		in[i] = rnd16();
		acc[i] = acc0[i] = rnd_acc();
	}
	mixk_scalar.add(acc, in, N);
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(acc[i],
				(int32_t)(uint32_t)((int64_t)acc0[i] + in[i]));
	mixk_scalar.sub_sat(out, acc0, in, N);
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(out[i], sat16_ref((int64_t)acc0[i] - in[i]));
	mixk_scalar.sat(out, acc0, N);
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL(out[i], sat16_ref(acc0[i]));
	uint64_t sq = 0;
	for (i = 0; i < N; i++)
		sq += (uint64_t)((int64_t)in[i] * in[i]);
	CU_ASSERT_EQUAL(mixk_scalar.sumsq(in, N), sq);
	/* the largest: every sample -32768, 2^30 each */
	for (i = 0; i < N; i++)
		in[i] = INT16_MIN;
	CU_ASSERT_EQUAL(mixk_scalar.sumsq(in, N), (uint64_t)N << 30);
}

static void test_random_lengths(void)
{
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = variants(v);

	for (size_t k = 1; k < nv; k++) {
		size_t n;

		for (n = 0; n <= 64; n++)
			check_random(v[k], n);
		for (n = 65; n <= 2000; n += 1 + rnd() % 37)
			check_random(v[k], n);
		check_random(v[k], 960);
		check_random(v[k], 1999);
		check_random(v[k], 2000);
	}
}

/* Fills one case with constant input and accumulator; n odd on purpose. */
static void check_const(const struct mixk *k, int16_t in, int32_t acc)
{
	const size_t n = 1001;
	struct bufs b;

	bufs_alloc(&b, n, 1, 1);
	for (size_t i = 0; i < n; i++) {
		b.in[1 + i] = in;
		b.acc_in[1 + i] = acc;
	}
	CU_ASSERT_EQUAL(compare(k, &b, n), 0);
	bufs_free(&b);
}

static void test_edges(void)
{
	static const int16_t ins[] = {0,     1,	     -1,    32767, -32768,
				      32766, -32767, 16384, -16384};
	static const int32_t accs[] = {0,
				       1,
				       -1,
				       32767,
				       32768,
				       -32768,
				       -32769,
				       65535,
				       65536,
				       -65535,
				       -65536,
				       -65537,
				       98302,
				       -98304,
				       1 << 30,
				       -(1 << 30),
				       INT32_MAX,
				       INT32_MIN,
				       INT32_MAX - 1,
				       INT32_MIN + 1,
				       INT32_MAX - 32767,
				       INT32_MAX - 32768,
				       INT32_MIN + 32767,
				       INT32_MIN + 32768,
				       32767 * 1024,
				       -32768 * 1024};
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = variants(v);

	for (size_t k = 0; k < nv; k++)
		for (size_t i = 0; i < sizeof(ins) / sizeof(ins[0]); i++)
			for (size_t j = 0; j < sizeof(accs) / sizeof(accs[0]);
			     j++)
				check_const(v[k], ins[i], accs[j]);

	/* The scalar results themselves, where wrapping would show. */
	int16_t out;
	int32_t acc = INT32_MAX;
	int16_t own = -32768;

	for (size_t k = 0; k < nv; k++) {
		v[k]->sub_sat(&out, &acc, &own, 1);
		CU_ASSERT_EQUAL(out, 32767);
		v[k]->sat(&out, &acc, 1);
		CU_ASSERT_EQUAL(out, 32767);
	}
	acc = INT32_MIN;
	own = 32767;
	for (size_t k = 0; k < nv; k++) {
		v[k]->sub_sat(&out, &acc, &own, 1);
		CU_ASSERT_EQUAL(out, -32768);
		v[k]->sat(&out, &acc, 1);
		CU_ASSERT_EQUAL(out, -32768);
	}
}

/* Sums n_in frames of constant value x with k and checks what the
 * contributors and the other listeners hear. */
static void check_full_scale(const struct mixk *k, int16_t x, size_t n_in,
			     int16_t want_all, int16_t want_own)
{
	enum { N = 963 };
	static int16_t in[N], out[N];
	static int32_t acc[N];
	size_t i, bad_all = 0, bad_own = 0;

	for (i = 0; i < N; i++)
		in[i] = x;
	memset(acc, 0, sizeof(acc));
	for (i = 0; i < n_in; i++)
		k->add(acc, in, N);
	for (i = 0; i < N; i++)
		CU_ASSERT_EQUAL_FATAL(acc[i], (int32_t)x * (int32_t)n_in);
	k->sat(out, acc, N);
	for (i = 0; i < N; i++)
		bad_all += out[i] != want_all;
	k->sub_sat(out, acc, in, N);
	for (i = 0; i < N; i++)
		bad_own += out[i] != want_own;
	CU_ASSERT_EQUAL(bad_all, 0);
	CU_ASSERT_EQUAL(bad_own, 0);
}

static void test_saturation(void)
{
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = variants(v);

	for (size_t k = 0; k < nv; k++) {
		check_full_scale(v[k], 32767, 1024, 32767, 32767);
		check_full_scale(v[k], -32768, 1024, -32768, -32768);
		check_full_scale(v[k], 0, 1024, 0, 0);
		/* Two talkers: the sum overflows int16, each alone does not. */
		check_full_scale(v[k], 20000, 2, 32767, 20000);
		check_full_scale(v[k], -20000, 2, -32768, -20000);
		check_full_scale(v[k], 32767, 2, 32767, 32767);
		check_full_scale(v[k], -32768, 2, -32768, -32768);
		check_full_scale(v[k], 12345, 1, 12345, 0);
		check_full_scale(v[k], -32768, 1, -32768, 0);
	}
}

/* N-1: contributors with random speech; each hears exactly the others
 * (saturated), and a contributor alone hears silence. */
static void test_n_minus_one(void)
{
	enum { N = 960, PARTS = 7 };
	static int16_t in[PARTS][N], out[N];
	static int32_t acc[N];
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = variants(v), bad;

	for (size_t k = 0; k < nv; k++) {
		for (size_t p = 0; p < PARTS; p++)
			for (size_t i = 0; i < N; i++)
				in[p][i] = (int16_t)(rnd16() / 4);

		memset(acc, 0, sizeof(acc));
		v[k]->add(acc, in[0], N);
		v[k]->sub_sat(out, acc, in[0], N);
		bad = 0;
		for (size_t i = 0; i < N; i++)
			bad += out[i] != 0;
		CU_ASSERT_EQUAL(bad, 0);

		for (size_t p = 1; p < PARTS; p++)
			v[k]->add(acc, in[p], N);
		bad = 0;
		for (size_t p = 0; p < PARTS; p++) {
			v[k]->sub_sat(out, acc, in[p], N);
			for (size_t i = 0; i < N; i++) {
				int64_t others = 0;

				for (size_t q = 0; q < PARTS; q++)
					others += q == p ? 0 : in[q][i];
				bad += out[i] != sat16_ref(others);
			}
		}
		CU_ASSERT_EQUAL(bad, 0);
	}
}

/* ---- the limiter's passes: peaks and ramp -------------------------------- */

/* acc - own as the kernels define it: int32, wrapping. */
static int32_t diff_ref(const int32_t *acc, const int16_t *own, size_t i)
{
	return (int32_t)((int64_t)acc[i] - (own ? own[i] : 0));
}

static uint32_t abs_ref(int32_t v)
{
	return v < 0 ? (uint32_t)(-(int64_t)v) : (uint32_t)v;
}

/* The ramp's definition, one float step at a time. */
static int16_t ramp_ref(int32_t x, const float *g, size_t block, size_t j)
{
	float inv = 1.0f / (float)block;
	float step = (g[1] - g[0]) * inv;
	float gain = g[0] + step * (float)(j + 1);
	float v = (float)x * gain;
	if (v > 32767.0f)
		return 32767;
	if (v < -32768.0f)
		return -32768;
	return (int16_t)lrintf(v); /* the default mode: nearest, ties even */
}

/* A gain: mostly 0..2 as the limiter makes them, now and then anything. */
static float rnd_gain(void)
{
	switch (rnd() % 8) {
	case 0:
		return (float)(int32_t)rnd() / 1e5f;
	case 1:
		return 0.0f;
	case 2:
		return 1.0f;
	default:
		return (float)(rnd() % 20001) / 10000.0f;
	}
}

/* One case: n = block * nb samples from misaligned buffers of exactly
 * their size; every variant against scalar, scalar against ramp_ref. */
static void check_limiter(const struct mixk **v, size_t nv, size_t block,
			  size_t nb, bool with_own, size_t off)
{
	size_t n = block * nb;
	int32_t *acc = malloc((n + off) * sizeof(int32_t) + 1);
	int16_t *own = malloc((n + off) * sizeof(int16_t) + 1);
	int16_t *ref = malloc(n * sizeof(int16_t) + 1);
	int16_t *out = malloc((n + off) * sizeof(int16_t) + 1);
	uint32_t pk_ref[64], pk[64];
	float g[65];
	size_t bad = 0;

	CU_ASSERT_FATAL(acc && own && ref && out && nb <= 64);
	for (size_t i = 0; i < n; i++) {
		acc[off + i] = rnd_acc();
		own[off + i] = rnd16();
	}
	for (size_t b = 0; b <= nb; b++)
		g[b] = rnd_gain();
	const int16_t *o = with_own ? own + off : NULL;
	mixk_scalar.peaks(pk_ref, acc + off, o, n, block);
	mixk_scalar.ramp(ref, acc + off, o, n, block, g);
	for (size_t b = 0; b < nb; b++) {
		uint32_t m = 0;
		for (size_t j = 0; j < block; j++) {
			uint32_t a =
			    abs_ref(diff_ref(acc + off, o, b * block + j));
			m = a > m ? a : m;
			bad += ref[b * block + j] !=
			       ramp_ref(diff_ref(acc + off, o, b * block + j),
					g + b, block, j);
		}
		bad += pk_ref[b] != m;
	}
	for (size_t k = 1; k < nv; k++) {
		v[k]->peaks(pk, acc + off, o, n, block);
		v[k]->ramp(out + off, acc + off, o, n, block, g);
		bad += nb && memcmp(pk, pk_ref, nb * sizeof(*pk)) != 0;
		bad += n && memcmp(out + off, ref, n * sizeof(*ref)) != 0;
	}
	if (bad)
		fprintf(stderr,
			"limiter: block %zu x %zu own %d off %zu: %zu\n", block,
			nb, with_own, off, bad);
	CU_ASSERT_EQUAL(bad, 0);
	free(acc);
	free(own);
	free(ref);
	free(out);
}

static void test_limiter_kernels(void)
{
	static const size_t blocks[] = {1, 3, 4, 5, 7, 8, 9, 13, 16, 17, 48};
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = variants(v);

	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		for (size_t nb = 0; nb <= 21; nb += 1 + rnd() % 4)
			for (size_t off = 0; off < 3; off++) {
				check_limiter(v, nv, blocks[i], nb, true, off);
				check_limiter(v, nv, blocks[i], nb, false, off);
			}
}

/* Peaks at the int32 edges, and a ramp whose products leave int16 (and
 * int32) far behind: clamped, never wrapped. */
static void test_limiter_edges(void)
{
	enum { B = 16 };
	int32_t acc[B];
	int16_t own[B], out[B];
	uint32_t pk;
	const float g[2] = {1e30f, -1e30f};
	const struct mixk *v[MAX_VARIANTS];
	size_t nv = variants(v);

	for (size_t k = 0; k < nv; k++) {
		for (size_t i = 0; i < B; i++) {
			acc[i] = i % 2 ? INT32_MIN : INT32_MAX;
			own[i] = i % 3 ? 32767 : -32768;
		}
		v[k]->peaks(&pk, acc, NULL, B, B);
		CU_ASSERT_EQUAL(pk, 0x80000000u);
		acc[1] = -5; /* the only odd one left at INT32_MIN: i = 3 */
		for (size_t i = 3; i < B; i += 2)
			acc[i] = -7;
		v[k]->peaks(&pk, acc, own, B, B);
		/* INT32_MAX - (-32768) wraps to INT32_MIN + 32767. */
		CU_ASSERT_EQUAL(pk, 0x80000000u - 32767u);
		v[k]->ramp(out, acc, own, B, B, g);
		for (size_t i = 0; i < B; i++) {
			int32_t x = diff_ref(acc, own, i);
			float gain = 1e30f + (-2e30f / B) * (float)(i + 1);
			float y = (float)x * gain;
			int16_t want = y > 0 ? 32767 : y < 0 ? -32768 : 0;
			CU_ASSERT_EQUAL(out[i], want);
		}
	}
}

static const struct unit_test tests[] = {
    {"best and available", test_best},
    {"scalar matches the definitions", test_scalar_definition},
    {"variants match scalar on random input", test_random_lengths},
    {"variants match scalar on edges", test_edges},
    {"saturation never wraps", test_saturation},
    {"N-1: each contributor hears the others", test_n_minus_one},
    {"limiter passes: variants match scalar and definition",
     test_limiter_kernels},
    {"limiter passes at the edges", test_limiter_edges},
    {NULL, NULL},
};

UNIT_MAIN("mixk", tests)
