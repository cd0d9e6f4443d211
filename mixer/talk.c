/* talk.c: talker detection, one small detector per participant.
 *
 * Each 20 ms frame gives a level: the RMS of its samples in dB relative to
 * full scale. Two thresholds make a hysteresis: a participant starts
 * talking once the level has been above on_db for attack_ms (so a single
 * click does not count), and stops once it has stayed below off_db for
 * hangover_ms (so the pauses between words do not count). A level between
 * the two keeps the current state and restarts the count towards a change.
 * A smoothed power (mean square, about 160 ms) says how loud a talker has
 * been lately, for speaker selection (mixer/select.c) to rank.
 *
 * A caller that sends RFC 6464 audio levels has its level taken from the
 * packet instead (talk_update_level): the frame need not even be decoded.
 *
 * Written by hand because no library we use does it: SpeexDSP's VAD is a
 * stub in 1.2.1 that always says "speech", and an energy detector with
 * hang-over is all a conference needs to show who is talking. The detector
 * is plain data with a pure update function, so that it can be tested
 * without a mixer; the mixer thread owns one per participant. */
#include "mixer/mixer.h"

#include <errno.h>
#include <math.h>

#define FULL_SCALE 32768.0

struct talk_params talk_params_default(void)
{
	return (struct talk_params){
	    .on_db = -40, .off_db = -50, .attack_ms = 40, .hangover_ms = 600};
}

int talk_params_resolve(struct talk_params *p)
{
	struct talk_params d = talk_params_default();

	if (!p->on_db)
		p->on_db = d.on_db;
	if (!p->off_db)
		p->off_db = d.off_db;
	if (!p->attack_ms)
		p->attack_ms = d.attack_ms;
	if (!p->hangover_ms)
		p->hangover_ms = d.hangover_ms;
	if (p->on_db > 0 || p->off_db > p->on_db || p->off_db < TALK_SILENCE_DB)
		return -EINVAL;
	return 0;
}

/* Whole frames covering ms, at least one. */
static unsigned frames(unsigned ms)
{
	unsigned n = (ms + MIXER_FRAME_MS - 1) / MIXER_FRAME_MS;
	return n ? n : 1;
}

void talk_init(struct talk *t, const struct talk_params *p)
{
	*t = (struct talk){
	    .attack_frames = frames(p->attack_ms),
	    .hangover_frames = frames(p->hangover_ms),
	    .on_db = p->on_db,
	    .off_db = p->off_db,
	    .level_db = TALK_SILENCE_DB,
	    .changed_db = TALK_SILENCE_DB,
	};
}

#define POWER_SMOOTH (1.0f / 8) /* of the way to a frame's power */

/* A frame's mean square relative to full scale, from its sum of squares. */
static double mean_square(uint64_t sumsq, size_t n)
{
	return n ? (double)sumsq / (double)n / (FULL_SCALE * FULL_SCALE) : 0;
}

/* A mean square as an RMS level in dBFS, no lower than TALK_SILENCE_DB. */
static double level_db(double ms)
{
	if (ms <= 0)
		return TALK_SILENCE_DB;
	double db = 10 * log10(ms);
	return db < TALK_SILENCE_DB ? TALK_SILENCE_DB : db;
}

/* One frame of level db (its mean square ms): the hysteresis. */
static bool update(struct talk *t, double ms, double db)
{
	t->power += ((float)ms - t->power) * POWER_SMOOTH;
	bool towards_change = t->talking ? db < t->off_db : db > t->on_db;

	t->level_db = (int)lrint(db);
	t->run = towards_change ? t->run + 1 : 0;
	if (t->run < (t->talking ? t->hangover_frames : t->attack_frames))
		return false;
	t->talking = !t->talking;
	t->changed_db = t->level_db;
	t->run = 0;
	return true;
}

bool talk_update_energy(struct talk *t, uint64_t sumsq, size_t n)
{
	double ms = mean_square(sumsq, n);
	return update(t, ms, level_db(ms));
}

bool talk_update(struct talk *t, const int16_t *pcm, size_t n)
{
	return talk_update_energy(t, mixk_scalar.sumsq(pcm, n), n);
}

/* RFC 6464's -dBov is the level relative to full scale, as our dBFS: a
 * sender's level of 127 is silence, and anything quieter than
 * TALK_SILENCE_DB counts as that. */
bool talk_update_level(struct talk *t, unsigned level_dbov)
{
	double db = -(double)(level_dbov > 127 ? 127 : level_dbov);
	if (db <= TALK_SILENCE_DB)
		return update(t, 0, TALK_SILENCE_DB);
	return update(t, pow(10, db / 10), db);
}
