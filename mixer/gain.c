/* gain.c: a participant's controls (mute, deaf, talk and listen gain), the
 * fixed-point gain that applies them and the fades of speakers entering or
 * leaving the mix, on the mixer thread.
 *
 * Gains are Q12 factors: the largest, +24 dB (15.85), times the most
 * negative sample still fits in an int32, so a sample is scaled with one
 * 32-bit multiply, rounded and saturated to 16 bits. 0 dB is GAIN_UNITY,
 * which callers skip: the audio passes through untouched, bit for bit. */
#include "mixer/mixer_priv.h"

#include <math.h>

static int clamp_db(int db)
{
	if (db < MIXER_GAIN_MIN_DB)
		return MIXER_GAIN_MIN_DB;
	return db > MIXER_GAIN_MAX_DB ? MIXER_GAIN_MAX_DB : db;
}

int32_t gain_q12(int db)
{
	db = clamp_db(db);
	if (db == 0)
		return GAIN_UNITY;
	return (int32_t)lrint(pow(10.0, db / 20.0) * GAIN_UNITY);
}

void gain_apply(int16_t *out, const int16_t *in, size_t n, int32_t q12)
{
	for (size_t i = 0; i < n; i++) {
		int32_t v = (in[i] * q12 + GAIN_UNITY / 2) >> 12;
		out[i] = (int16_t)(v > INT16_MAX   ? INT16_MAX
				   : v < INT16_MIN ? INT16_MIN
						   : v);
	}
}

void gain_fade(int16_t *pcm, size_t n, bool in)
{
	for (size_t i = 0; i < n; i++) {
		int64_t w = in ? (int64_t)(i + 1) : (int64_t)(n - 1 - i);
		pcm[i] = (int16_t)(pcm[i] * w / (int64_t)n);
	}
}

void gain_set_controls(struct part *pt, const struct mixer_controls *c)
{
	pt->ctl = *c;
	pt->ctl.talk_gain_db = (int8_t)clamp_db(c->talk_gain_db);
	pt->ctl.listen_gain_db = (int8_t)clamp_db(c->listen_gain_db);
	pt->talk_q12 = gain_q12(pt->ctl.talk_gain_db);
	pt->listen_q12 = gain_q12(pt->ctl.listen_gain_db);
}
