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
 * the exact difference would be. Pure functions, safe from any thread. */
#include <emmintrin.h>

#include "mixer/mixer.h"

/* For the tail: as in mixk_scalar.c. */
static inline int16_t sat16(int64_t v)
{
	v = v > INT16_MAX ? INT16_MAX : v;
	v = v < INT16_MIN ? INT16_MIN : v;
	return (int16_t)v;
}

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

const struct mixk mixk_sse2 = {
    .name = "sse2",
    .add = add,
    .sub_sat = sub_sat,
    .sat = sat,
};
