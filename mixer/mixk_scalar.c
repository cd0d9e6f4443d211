/* mixk_scalar.c: the scalar mix kernels, the reference every SIMD variant
 * must match bit for bit (tests/unit/test_mixk.c checks it).
 *
 * The mixer sums its contributors once into an int32 accumulator (add), then
 * gives each contributor the sum minus its own voice (sub_sat) and everyone
 * else the sum itself (sat), both saturated to int16. Saturation clamps to
 * -32768..32767 and never wraps around.
 *
 * Every result is defined for any int32 accumulator, not only for the sums
 * the mixer makes: add wraps modulo 2^32 as the SIMD adds do (a sum of up to
 * 65536 int16 never gets there), and sub_sat computes acc - own in 64 bits.
 * Pure functions of their arguments, safe from any thread. */
#include "mixer/mixer.h"

/* Written so that compilers make it branch-free (cmov): mixed speech
 * saturates at random, and a mispredicted branch costs more than the sum. */
static inline int16_t sat16(int64_t v)
{
	v = v > INT16_MAX ? INT16_MAX : v;
	v = v < INT16_MIN ? INT16_MIN : v;
	return (int16_t)v;
}

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

const struct mixk mixk_scalar = {
    .name = "scalar",
    .add = add,
    .sub_sat = sub_sat,
    .sat = sat,
};
