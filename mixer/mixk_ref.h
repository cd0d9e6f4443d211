/* mixk_ref.h: the scalar steps of the mix kernels, shared by the scalar
 * reference (mixk_scalar.c) and the SIMD variants (mixk_sse2.c,
 * mixk_avx2.c), which use them for the samples left over after their
 * vector loops. One definition, so the tails cannot drift from the
 * reference. Private to the mixk*.c files; plain inline functions,
 * compiled with each file's own flags. */
#ifndef TUTTI_MIXK_REF_H
#define TUTTI_MIXK_REF_H

#include <stddef.h>
#include <stdint.h>

/* Written so that compilers make it branch-free (cmov): mixed speech
 * saturates at random, and a mispredicted branch costs more than the sum. */
static inline int16_t sat16(int64_t v)
{
	v = v > INT16_MAX ? INT16_MAX : v;
	v = v < INT16_MIN ? INT16_MIN : v;
	return (int16_t)v;
}

/* acc[i] - own[i] in int32, wrapping as the SIMD subtractions do; own
 * NULL reads as zeros. */
static inline int32_t mixk_diff(const int32_t *acc, const int16_t *own,
				size_t i)
{
	return (int32_t)((uint32_t)acc[i] - (uint32_t)(own ? own[i] : 0));
}

/* The sum of x[i]^2 from j on, added to sum. */
static inline uint64_t mixk_sumsq_tail(const int16_t *x, size_t j, size_t n,
				       uint64_t sum)
{
	for (; j < n; j++)
		sum += (uint64_t)((int32_t)x[j] * x[j]);
	return sum;
}

/* |v| as unsigned: 2^31 for INT32_MIN. */
static inline uint32_t mixk_abs32(int32_t v)
{
	uint32_t s = (uint32_t)(v >> 31);
	return ((uint32_t)v ^ s) - s;
}

/* The largest of top and |acc - own| over samples j..end-1. */
static inline uint32_t mixk_peak_tail(const int32_t *acc, const int16_t *own,
				      size_t j, size_t end, uint32_t top)
{
	for (; j < end; j++) {
		uint32_t a = mixk_abs32(mixk_diff(acc, own, j));
		top = a > top ? a : top;
	}
	return top;
}

/* v clamped to -32768..32767 and rounded to an integer: adding and taking
 * away 1.5 * 2^23 leaves no bits for a fraction, so the sum is rounded in
 * the FPU's mode (to nearest, ties to even, as a program starts), with
 * the same two float operations as the SIMD variants and no libm call. */
static inline int16_t mixk_round_clamp(float v)
{
	v = v > 32767.0f ? 32767.0f : v;
	v = v < -32768.0f ? -32768.0f : v;
	v = (v + 12582912.0f) - 12582912.0f;
	return (int16_t)(int32_t)v;
}

/* The ramp for samples j..block-1 of block b, whose gain starts at g0 and
 * moves by step a sample (see struct mixk in mixer.h). */
static inline void mixk_ramp_tail(int16_t *out, const int32_t *acc,
				  const int16_t *own, size_t b, size_t block,
				  size_t j, float g0, float step)
{
	for (; j < block; j++) {
		size_t i = b * block + j;
		float gain = g0 + step * (float)(j + 1);
		out[i] = mixk_round_clamp((float)mixk_diff(acc, own, i) * gain);
	}
}

#endif
