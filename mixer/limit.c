/* limit.c: the limiter that keeps a listener's mix within int16 without
 * wrapping or clipping, however many loud talkers add up.
 *
 * The mix arrives as int32 (the sum of the contributors, less the
 * listener's own voice) 20 ms at a time, cut into twenty 1 ms blocks. The
 * gain wanted for a block comes from its peak through a soft knee: up to
 * LIMIT_KNEE the mix passes untouched; above it, the output level bends
 * smoothly (slope 1 at the knee) towards LIMIT_CEILING, which no level
 * reaches. The gain actually used moves linearly, sample by sample, between
 * values set at the block boundaries; a boundary's value is no higher than
 * what either block beside it wants, so every sample is scaled by at most
 * its own block's gain, and the output never passes the ceiling. To see
 * the block after the last one, the output runs one block (1 ms) behind
 * the input: the last block of a frame is held for the next, so the gain
 * starts falling a block before a loud onset (look-ahead) instead of
 * clipping it. After a loud passage the gain climbs back by 1 % of the
 * distance to 1 each block (a release of about 100 ms) and snaps to 1 at
 * 0.999, so that quiet rooms pass bit for bit (a block late); while
 * nothing comes near the knee, the plain saturating kernels do that work,
 * which gives the same samples as the ramp at gain 1, faster.
 *
 * A listen gain (pre) is part of the gain, applied before the knee, so a
 * listener who turns the room up is limited too rather than clipped.
 *
 * Only + - * / in float, no libm: every platform computes the same gains,
 * and the golden vectors of tests/unit/test_limit.c hold everywhere. The
 * per-sample passes are the kernels' (mixk*.c). Plain data owned by whoever
 * runs it (the mixer thread, for its listeners and its shared mix). */
#include "mixer/mixer.h"

#include <stdbool.h>
#include <string.h>

#define RELEASE 0.01f /* of the way to 1, per block */
#define SNAP	0.999f

void limit_init(struct limit *l)
{
	memset(l, 0, sizeof(*l));
	l->g = 1.0f;
}

float limit_gain(uint32_t peak, float pre)
{
	float level = (float)peak * pre;
	if (level <= (float)LIMIT_KNEE)
		return pre;
	/* out = knee + over / (1 + over / room), with one division. */
	float over = level - (float)LIMIT_KNEE;
	float room = (float)(LIMIT_CEILING - LIMIT_KNEE);
	float den = room + over;
	return pre * (((float)LIMIT_KNEE * den + over * room) / (level * den));
}

static float release(float g, float pre)
{
	g += (pre - g) * RELEASE;
	return g > pre * SNAP ? pre : g;
}

static float min3(float a, float b, float c)
{
	float m = a < b ? a : b;
	return m < c ? m : c;
}

/* The largest of n peaks. */
static uint32_t top(const uint32_t *pk, size_t n)
{
	uint32_t m = 0;
	for (size_t b = 0; b < n; b++)
		m = pk[b] > m ? pk[b] : m;
	return m;
}

/* Gain 1 throughout, nothing near the knee: the ramp would give exactly
 * sat16 of the mix, which the plain kernels give faster. */
static bool untouched(const struct limit *l, const uint32_t *pk, float pre)
{
	return pre == 1.0f && l->g == 1.0f && l->held_peak <= LIMIT_KNEE &&
	       top(pk, LIMIT_BLOCKS) <= LIMIT_KNEE;
}

static void scale(struct limit *l, const struct mixk *k, int16_t *out,
		  const int32_t *acc, const int16_t *own, size_t n,
		  const uint32_t *pk, float pre)
{
	size_t block = n / LIMIT_BLOCKS;
	float want[LIMIT_BLOCKS + 1], g[LIMIT_BLOCKS + 1];

	/* Output block b is input block b - 1; block 0 is the held one. */
	want[0] = limit_gain(l->held_peak, pre);
	for (size_t b = 0; b < LIMIT_BLOCKS; b++)
		want[b + 1] = limit_gain(pk[b], pre);
	g[0] = l->g < want[0] ? l->g : want[0];
	for (size_t b = 0; b < LIMIT_BLOCKS; b++)
		g[b + 1] = min3(want[b], want[b + 1], release(g[b], pre));
	k->ramp(out, l->held, NULL, block, block, g);
	k->ramp(out + block, acc, own, n - block, block, g + 1);
	l->g = g[LIMIT_BLOCKS];
}

void limit_run(struct limit *l, const struct mixk *k, int16_t *out,
	       const int32_t *acc, const int16_t *own, size_t n, float pre)
{
	size_t block = n / LIMIT_BLOCKS;
	uint32_t pk[LIMIT_BLOCKS];

	k->peaks(pk, acc, own, n, block);
	if (untouched(l, pk, pre)) {
		k->sat(out, l->held, block);
		if (own)
			k->sub_sat(out + block, acc, own, n - block);
		else
			k->sat(out + block, acc, n - block);
	} else {
		scale(l, k, out, acc, own, n, pk, pre);
	}

	/* Hold the last input block for the next frame. */
	const size_t last = n - block;
	for (size_t j = 0; j < block; j++)
		l->held[j] = (int32_t)((uint32_t)acc[last + j] -
				       (uint32_t)(own ? own[last + j] : 0));
	l->held_peak = pk[LIMIT_BLOCKS - 1];
}
