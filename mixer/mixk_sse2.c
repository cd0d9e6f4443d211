/* mixk_sse2.c: the mix kernels with SSE2 intrinsics, eight samples a step
 * and a scalar tail for what is left; bit for bit the same as mixk_scalar.c.
 *
 * Built alone with -msse2 (mixer/meson.build), reached only through the
 * mixk_sse2 table that mixk.c hands out once cpuid says SSE2 is there.
 * Loads and stores are unaligned, so callers may pass any pointers.
 *
 * _mm_packs_epi32 saturates exactly as sat16() does. acc - own may wrap in
 * 32 bits when acc is within 32768 of INT32_MIN or INT32_MAX (the mixer's
 * sums never get there, the tests do): SSE2 has no min/max on int32 to clamp
 * acc beforehand, so a wrapped difference, which then has the wrong sign and
 * lies near the other end of the range, is flipped bit for bit (~d): that
 * gives a value of the right sign far beyond int16, which packs saturates as
 * the exact difference would be. The limiter's passes do as mixk_avx2.c's,
 * four lanes at a time, with |x| and the unsigned max made from shifts,
 * xors and a compare on flipped sign bits (SSE2 has neither pabsd nor
 * pmaxud). Pure functions, safe from any thread. */
#include <emmintrin.h>

#include "mixer/mixer.h"
#include "mixer/mixk_ref.h"

/* Sign-extends the low and high four int16 of v to int32. */
static inline __m128i widen_lo(__m128i v)
{
	return _mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16);
}

static inline __m128i widen_hi(__m128i v)
{
	return _mm_srai_epi32(_mm_unpackhi_epi16(v, v), 16);
}

/* a - b in int32, with a wrapped result replaced by one of the right sign
 * that is still far beyond int16 (see the top of the file). */
static inline __m128i sub_nowrap(__m128i a, __m128i b)
{
	__m128i d = _mm_sub_epi32(a, b);
	__m128i ovf = _mm_and_si128(_mm_xor_si128(a, b), _mm_xor_si128(a, d));

	return _mm_xor_si128(d, _mm_srai_epi32(ovf, 31));
}

static void add(int32_t *acc, const int16_t *in, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m128i v = _mm_loadu_si128((const __m128i *)(in + i));
		__m128i *a0 = (__m128i *)(acc + i);
		__m128i *a1 = (__m128i *)(acc + i + 4);

		_mm_storeu_si128(
		    a0, _mm_add_epi32(_mm_loadu_si128(a0), widen_lo(v)));
		_mm_storeu_si128(
		    a1, _mm_add_epi32(_mm_loadu_si128(a1), widen_hi(v)));
	}
	for (; i < n; i++)
		acc[i] = (int32_t)((uint32_t)acc[i] + (uint32_t)in[i]);
}

static void sub_sat(int16_t *out, const int32_t *acc, const int16_t *own,
		    size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m128i o = _mm_loadu_si128((const __m128i *)(own + i));
		__m128i a0 = _mm_loadu_si128((const __m128i *)(acc + i));
		__m128i a1 = _mm_loadu_si128((const __m128i *)(acc + i + 4));
		__m128i d0 = sub_nowrap(a0, widen_lo(o));
		__m128i d1 = sub_nowrap(a1, widen_hi(o));

		_mm_storeu_si128((__m128i *)(out + i), _mm_packs_epi32(d0, d1));
	}
	for (; i < n; i++)
		out[i] = sat16((int64_t)acc[i] - own[i]);
}

static void sat(int16_t *out, const int32_t *acc, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m128i a0 = _mm_loadu_si128((const __m128i *)(acc + i));
		__m128i a1 = _mm_loadu_si128((const __m128i *)(acc + i + 4));

		_mm_storeu_si128((__m128i *)(out + i), _mm_packs_epi32(a0, a1));
	}
	for (; i < n; i++)
		out[i] = sat16(acc[i]);
}

/* ---- the limiter's passes: as in mixk_scalar.c -------------------------- */

/* Four of acc - own from i (own NULL: acc); own is read four at a time. */
static inline __m128i diff4(const int32_t *acc, const int16_t *own, size_t i)
{
	__m128i a = _mm_loadu_si128((const __m128i *)(acc + i));
	if (!own)
		return a;
	__m128i o = _mm_loadl_epi64((const __m128i *)(own + i));
	return _mm_sub_epi32(a, widen_lo(o));
}

/* |v| per lane, as unsigned (INT32_MIN gives 2^31): no pabsd in SSE2. */
static inline __m128i abs4(__m128i v)
{
	__m128i s = _mm_srai_epi32(v, 31);
	return _mm_sub_epi32(_mm_xor_si128(v, s), s);
}

/* Unsigned max per lane: no pmaxud in SSE2, so compare with the sign bits
 * flipped and select. */
static inline __m128i max_u32(__m128i a, __m128i b)
{
	const __m128i flip = _mm_set1_epi32((int32_t)0x80000000u);
	__m128i gt =
	    _mm_cmpgt_epi32(_mm_xor_si128(a, flip), _mm_xor_si128(b, flip));
	return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}

static void peaks(uint32_t *pk, const int32_t *acc, const int16_t *own,
		  size_t n, size_t block)
{
	for (size_t b = 0; b < n / block; b++) {
		size_t j = b * block, end = j + block;
		__m128i m = _mm_setzero_si128();

		for (; j + 4 <= end; j += 4)
			m = max_u32(m, abs4(diff4(acc, own, j)));
		m = max_u32(m, _mm_shuffle_epi32(m, 0x4e));
		m = max_u32(m, _mm_shuffle_epi32(m, 0xb1));
		uint32_t top = (uint32_t)_mm_cvtsi128_si32(m);
		pk[b] = mixk_peak_tail(acc, own, j, end, top);
	}
}

/* Four samples scaled by gain, clamped, rounded, as int32. */
static inline __m128i scale4(__m128i x, __m128 gain)
{
	__m128 v = _mm_mul_ps(_mm_cvtepi32_ps(x), gain);
	v = _mm_min_ps(v, _mm_set1_ps(32767.0f));
	v = _mm_max_ps(v, _mm_set1_ps(-32768.0f));
	v = _mm_sub_ps(_mm_add_ps(v, _mm_set1_ps(12582912.0f)),
		       _mm_set1_ps(12582912.0f));
	return _mm_cvttps_epi32(v);
}

static void ramp(int16_t *out, const int32_t *acc, const int16_t *own, size_t n,
		 size_t block, const float *g)
{
	const float inv = 1.0f / (float)block;
	const __m128 one_to_4 = _mm_setr_ps(1, 2, 3, 4);
	const __m128 four = _mm_set1_ps(4);

	for (size_t b = 0; b < n / block; b++) {
		float step = (g[b + 1] - g[b]) * inv;
		__m128 vstep = _mm_set1_ps(step), g0 = _mm_set1_ps(g[b]);
		size_t j = 0;

		for (; j + 8 <= block; j += 8) {
			size_t i = b * block + j;
			__m128 idx =
			    _mm_add_ps(_mm_set1_ps((float)j), one_to_4);
			__m128 ga = _mm_add_ps(g0, _mm_mul_ps(vstep, idx));
			__m128 gb = _mm_add_ps(
			    g0, _mm_mul_ps(vstep, _mm_add_ps(idx, four)));
			__m128i lo = scale4(diff4(acc, own, i), ga);
			__m128i hi = scale4(diff4(acc, own, i + 4), gb);
			_mm_storeu_si128((__m128i *)(out + i),
					 _mm_packs_epi32(lo, hi));
		}
		mixk_ramp_tail(out, acc, own, b, block, j, g[b], step);
	}
}

/* pmaddwd makes x0^2 + x1^2 per lane: at most 2^31 (both -32768), which
 * fits an unsigned lane; the lanes go into 64-bit sums each step. */
static uint64_t sumsq(const int16_t *x, size_t n)
{
	const __m128i zero = _mm_setzero_si128();
	__m128i sum = zero;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m128i v = _mm_loadu_si128((const __m128i *)(x + i));
		__m128i p = _mm_madd_epi16(v, v);
		sum = _mm_add_epi64(sum, _mm_unpacklo_epi32(p, zero));
		sum = _mm_add_epi64(sum, _mm_unpackhi_epi32(p, zero));
	}
	uint64_t lanes[2];
	_mm_storeu_si128((__m128i *)lanes, sum);
	return mixk_sumsq_tail(x, i, n, lanes[0] + lanes[1]);
}

const struct mixk mixk_sse2 = {
    .name = "sse2",
    .add = add,
    .sub_sat = sub_sat,
    .sat = sat,
    .peaks = peaks,
    .ramp = ramp,
    .sumsq = sumsq,
};
