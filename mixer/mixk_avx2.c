/* mixk_avx2.c: the mix kernels with AVX2 intrinsics, sixteen samples a step
 * and a scalar tail for what is left; bit for bit the same as mixk_scalar.c.
 *
 * Built alone with -mavx2 (mixer/meson.build), reached only through the
 * mixk_avx2 table that mixk.c hands out once cpuid says AVX2 is there, so
 * nothing else in the program is compiled for AVX2. Loads and stores are
 * unaligned, so callers may pass any pointers.
 *
 * _mm256_packs_epi32 saturates exactly as sat16() does, but packs within
 * each 128-bit lane; a 64-bit permute puts the samples back in order. Before
 * acc - own, acc is clamped to -65536..65535: since own is an int16 this
 * changes no saturated result, and the difference can no longer wrap for
 * any acc. Pure functions, safe from any thread. */
#include <immintrin.h>

#include "mixer/mixer.h"

/* For the tail: as in mixk_scalar.c. */
static inline int16_t sat16(int64_t v)
{
	v = v > INT16_MAX ? INT16_MAX : v;
	v = v < INT16_MIN ? INT16_MIN : v;
	return (int16_t)v;
}

/* Eight int16 from p, sign-extended to int32. */
static inline __m256i load_widen(const int16_t *p)
{
	return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)p));
}

/* Saturates sixteen int32 to int16, in order. */
static inline __m256i pack_sat(__m256i lo, __m256i hi)
{
	return _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8);
}

static void add(int32_t *acc, const int16_t *in, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m256i *a0 = (__m256i *)(acc + i);
		__m256i *a1 = (__m256i *)(acc + i + 8);

		_mm256_storeu_si256(a0, _mm256_add_epi32(_mm256_loadu_si256(a0),
							 load_widen(in + i)));
		_mm256_storeu_si256(a1,
				    _mm256_add_epi32(_mm256_loadu_si256(a1),
						     load_widen(in + i + 8)));
	}
	for (; i < n; i++)
		acc[i] = (int32_t)((uint32_t)acc[i] + (uint32_t)in[i]);
}

static void sub_sat(int16_t *out, const int32_t *acc, const int16_t *own,
		    size_t n)
{
	const __m256i lo = _mm256_set1_epi32(-65536);
	const __m256i hi = _mm256_set1_epi32(65535);
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m256i a0 = _mm256_loadu_si256((const __m256i *)(acc + i));
		__m256i a1 = _mm256_loadu_si256((const __m256i *)(acc + i + 8));

		a0 = _mm256_max_epi32(_mm256_min_epi32(a0, hi), lo);
		a1 = _mm256_max_epi32(_mm256_min_epi32(a1, hi), lo);
		a0 = _mm256_sub_epi32(a0, load_widen(own + i));
		a1 = _mm256_sub_epi32(a1, load_widen(own + i + 8));
		_mm256_storeu_si256((__m256i *)(out + i), pack_sat(a0, a1));
	}
	for (; i < n; i++)
		out[i] = sat16((int64_t)acc[i] - own[i]);
}

static void sat(int16_t *out, const int32_t *acc, size_t n)
{
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m256i a0 = _mm256_loadu_si256((const __m256i *)(acc + i));
		__m256i a1 = _mm256_loadu_si256((const __m256i *)(acc + i + 8));

		_mm256_storeu_si256((__m256i *)(out + i), pack_sat(a0, a1));
	}
	for (; i < n; i++)
		out[i] = sat16(acc[i]);
}

const struct mixk mixk_avx2 = {
    .name = "avx2",
    .add = add,
    .sub_sat = sub_sat,
    .sat = sat,
};
