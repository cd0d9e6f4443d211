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
 * any acc. The limiter's ramp converts eight samples to float, multiplies
 * by eight gains made as the scalar code makes them (g0 + step * (j + 1),
 * lane by lane), clamps with min/max and rounds with the same 1.5 * 2^23
 * addition; its peaks use pabsd and pmaxud. Pure functions, safe from any
 * thread. */
#include <immintrin.h>

#include "mixer/mixer.h"
#include "mixer/mixk_ref.h"

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

/* ---- the limiter's passes: as in mixk_scalar.c -------------------------- */

/* Eight of acc - own from i (own NULL: acc). */
static inline __m256i diff8(const int32_t *acc, const int16_t *own, size_t i)
{
	__m256i a = _mm256_loadu_si256((const __m256i *)(acc + i));
	return own ? _mm256_sub_epi32(a, load_widen(own + i)) : a;
}

static void peaks(uint32_t *pk, const int32_t *acc, const int16_t *own,
		  size_t n, size_t block)
{
	for (size_t b = 0; b < n / block; b++) {
		size_t j = b * block, end = j + block;
		__m256i m = _mm256_setzero_si256();

		for (; j + 8 <= end; j += 8)
			m = _mm256_max_epu32(
			    m, _mm256_abs_epi32(diff8(acc, own, j)));
		__m128i h = _mm_max_epu32(_mm256_castsi256_si128(m),
					  _mm256_extracti128_si256(m, 1));
		h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4e));
		h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xb1));
		uint32_t top = (uint32_t)_mm_cvtsi128_si32(h);
		pk[b] = mixk_peak_tail(acc, own, j, end, top);
	}
}

/* Eight samples from i, scaled by gain, clamped, rounded, as int32. */
static inline __m256i scale8(__m256i x, __m256 gain)
{
	__m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(x), gain);
	v = _mm256_min_ps(v, _mm256_set1_ps(32767.0f));
	v = _mm256_max_ps(v, _mm256_set1_ps(-32768.0f));
	v = _mm256_sub_ps(_mm256_add_ps(v, _mm256_set1_ps(12582912.0f)),
			  _mm256_set1_ps(12582912.0f));
	return _mm256_cvttps_epi32(v);
}

static void ramp(int16_t *out, const int32_t *acc, const int16_t *own, size_t n,
		 size_t block, const float *g)
{
	const float inv = 1.0f / (float)block;
	const __m256 one_to_8 = _mm256_setr_ps(1, 2, 3, 4, 5, 6, 7, 8);

	for (size_t b = 0; b < n / block; b++) {
		float step = (g[b + 1] - g[b]) * inv;
		__m256 vstep = _mm256_set1_ps(step), g0 = _mm256_set1_ps(g[b]);
		size_t j = 0;

		for (; j + 8 <= block; j += 8) {
			size_t i = b * block + j;
			__m256 idx =
			    _mm256_add_ps(_mm256_set1_ps((float)j), one_to_8);
			__m256 gain =
			    _mm256_add_ps(g0, _mm256_mul_ps(vstep, idx));
			__m256i v = scale8(diff8(acc, own, i), gain);
			__m128i p =
			    _mm_packs_epi32(_mm256_castsi256_si128(v),
					    _mm256_extracti128_si256(v, 1));
			_mm_storeu_si128((__m128i *)(out + i), p);
		}
		mixk_ramp_tail(out, acc, own, b, block, j, g[b], step);
	}
}

/* As mixk_sse2.c's, sixteen samples a step. */
static uint64_t sumsq(const int16_t *x, size_t n)
{
	const __m256i zero = _mm256_setzero_si256();
	__m256i sum = zero;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(x + i));
		__m256i p = _mm256_madd_epi16(v, v);
		sum = _mm256_add_epi64(sum, _mm256_unpacklo_epi32(p, zero));
		sum = _mm256_add_epi64(sum, _mm256_unpackhi_epi32(p, zero));
	}
	uint64_t lanes[4];
	_mm256_storeu_si256((__m256i *)lanes, sum);
	return mixk_sumsq_tail(x, i, n,
			       lanes[0] + lanes[1] + lanes[2] + lanes[3]);
}

const struct mixk mixk_avx2 = {
    .name = "avx2",
    .add = add,
    .sub_sat = sub_sat,
    .sat = sat,
    .peaks = peaks,
    .ramp = ramp,
    .sumsq = sumsq,
};
