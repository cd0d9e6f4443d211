/* mixk_scalar.c: the scalar mix kernels, the reference every SIMD variant
 * must match bit for bit (tests/unit/test_mixk.c checks it).
 *
 * The mixer sums its contributors once into an int32 accumulator (add), then
 * gives each contributor the sum minus its own voice (sub_sat) and everyone
 * else the sum itself (sat), both saturated to int16. Saturation clamps to
 * -32768..32767 and never wraps around.
 *
 * The limiter (mixer/limit.c) reads the mix acc - own twice: once for the
 * peak of each block, once to scale it by a gain that moves linearly
 * within each block. Its float steps are written out one by one (in
 * mixk_ref.h, whose scalar steps the SIMD variants use for their tails) so
 * that every variant computes the same roundings in the same order, bit
 * for bit; no fused multiply-add (none is enabled, and C11 mode does not
 * contract).
 *
 * Every result is defined for any int32 accumulator, not only for the sums
 * the mixer makes: add wraps modulo 2^32 as the SIMD adds do (a sum of up to
 * 65536 int16 never gets there), and sub_sat computes acc - own in 64 bits.
 * Pure functions of their arguments, safe from any thread. */
#include "mixer/mixer.h"
#include "mixer/mixk_ref.h"

static void add(int32_t *acc, const int16_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc[i] = (int32_t)((uint32_t)acc[i] + (uint32_t)in[i]);
}

static void sub_sat(int16_t *out, const int32_t *acc, const int16_t *own,
		    size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sat16((int64_t)acc[i] - own[i]);
}

static void sat(int16_t *out, const int32_t *acc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = sat16(acc[i]);
}

static void peaks(uint32_t *pk, const int32_t *acc, const int16_t *own,
		  size_t n, size_t block)
{
	for (size_t b = 0; b < n / block; b++)
		pk[b] = mixk_peak_tail(acc, own, b * block, (b + 1) * block, 0);
}

static void ramp(int16_t *out, const int32_t *acc, const int16_t *own, size_t n,
		 size_t block, const float *g)
{
	const float inv = 1.0f / (float)block;

	for (size_t b = 0; b < n / block; b++)
		mixk_ramp_tail(out, acc, own, b, block, 0, g[b],
			       (g[b + 1] - g[b]) * inv);
}

static uint64_t sumsq(const int16_t *x, size_t n)
{
	return mixk_sumsq_tail(x, 0, n, 0);
}

const struct mixk mixk_scalar = {
    .name = "scalar",
    .add = add,
    .sub_sat = sub_sat,
    .sat = sat,
    .peaks = peaks,
    .ramp = ramp,
    .sumsq = sumsq,
};
