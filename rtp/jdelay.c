/* jdelay.c: how deep one participant's jitter buffer should be, from how
 * early its packets came.
 *
 * Each arrival is noted as its slack: the whole frames between the pull
 * before which it came and the pull that plays it (0 just in time,
 * negative too late). The last JDELAY_SUBS x JDELAY_SUB_N arrivals are
 * kept as counts per slack, a sub-window at a time (the oldest sub-window
 * goes whole when a new one starts, as SpeexDSP does), so that noting an
 * arrival is one increment and the advice a walk over at most 32 counts.
 *
 * The advice weighs a frame more delay against the late arrivals it
 * would have saved, a frame being worth late_pct percent of the arrivals
 * noted (at least JDELAY_TOLERATE of them):
 *   - deeper by the number of frames that costs least, when that is not
 *     none; and at once, by the least of their lateness, when three
 *     arrivals in a row were late (the network's delay stepped up:
 *     weighing would conceal ten frames first). A burst after a stall
 *     early in a call (one packet a frame late, one two, one three) is
 *     not worth a deeper buffer for the rest of it;
 *   - shallower by the frames that all but late_pct percent came early
 *     by, once JDELAY_SETTLE arrivals were noted since the start and
 *     since the last change: a call whose first packets waited for its
 *     first pull (three or four frames of them) does not keep that
 *     delay, and a deeper buffer is kept at least a second.
 * Packets that straddle the pull (some just before it, some just after)
 * make the buffer a frame deeper once, and it stays so: a frame of slack
 * for half of them is not enough to shorten it.
 *
 * Belongs to its jitter buffer, thus to one mixer thread. */
#include "rtp/jdelay.h"

#include <string.h>

#define JDELAY_LATE_RUN 3  /* late arrivals in a row: the delay stepped */
#define JDELAY_SETTLE	50 /* arrivals before the delay may shorten */
#define JDELAY_TOLERATE                                                        \
	1 /* late arrivals a frame of delay is worth, at least */

static int bin_of(int slack)
{
	int b = slack - JDELAY_LOW;

	return b < 0 ? 0 : b >= JDELAY_BINS ? JDELAY_BINS - 1 : b;
}

void jdelay_reset(struct jdelay *d)
{
	uint8_t pct = d->late_pct;

	memset(d, 0, sizeof(*d));
	d->late_pct = pct;
}

void jdelay_note(struct jdelay *d, int slack)
{
	int b = bin_of(slack);

	if (d->n_cur == JDELAY_SUB_N) { /* a new sub-window: the oldest goes */
		unsigned gone = 0;
		d->cur = (uint8_t)((d->cur + 1) % JDELAY_SUBS);
		for (int i = 0; i < JDELAY_BINS; i++) {
			gone += d->sub[d->cur][i];
			d->tot[i] -= d->sub[d->cur][i];
		}
		d->n_tot -= (uint16_t)gone;
		memset(d->sub[d->cur], 0, JDELAY_BINS);
		d->n_cur = 0;
	}
	d->sub[d->cur][b]++;
	d->tot[b]++;
	d->n_tot++;
	d->n_cur++;
	if (d->since_change < UINT16_MAX)
		d->since_change++;
	if (slack < 0) {
		if (!d->late_run || slack > d->late_run_max)
			d->late_run_max =
			    (int8_t)(slack < JDELAY_LOW ? JDELAY_LOW : slack);
		d->late_run++;
	} else {
		d->late_run = 0;
	}
	d->dirty = true;
}

/* Moves one row of counts by frames bins, those that fall off an end
 * kept in the end bin (their slack is at least, or at most, that). */
static void shift_row(uint8_t *row, int frames)
{
	uint8_t out[JDELAY_BINS] = {0};

	for (int i = 0; i < JDELAY_BINS; i++)
		out[bin_of(i + JDELAY_LOW + frames)] += row[i];
	memcpy(row, out, sizeof(out));
}

void jdelay_shift(struct jdelay *d, int frames)
{
	memset(d->tot, 0, sizeof(d->tot));
	for (int s = 0; s < JDELAY_SUBS; s++) {
		shift_row(d->sub[s], frames);
		for (int i = 0; i < JDELAY_BINS; i++)
			d->tot[i] += d->sub[s][i];
	}
	d->late_run = 0;
	d->since_change = 0;
	d->dirty = true;
}

int jdelay_advice(struct jdelay *d)
{
	if (!d->dirty)
		return 0;
	d->dirty = false;
	if (d->late_run >= JDELAY_LATE_RUN)
		return -d->late_run_max;

	/* late[k]: the arrivals that would still have been late with k
	 * frames more delay. */
	unsigned late[JDELAY_MAX_STEP + 1] = {0}, cum = 0;
	for (int k = JDELAY_MAX_STEP; k >= 0; k--) {
		late[k] = cum;
		if (k > 0)
			cum += d->tot[bin_of(-k)];
	}
	/* A frame of delay is worth tol late arrivals: late_pct of those
	 * noted, and never fewer than JDELAY_TOLERATE, so that a stall
	 * early in a call (its packets late by a frame, two, three...)
	 * does not deepen the buffer for good. */
	unsigned allowed = (unsigned)d->n_tot * d->late_pct / 100;
	unsigned tol = allowed < JDELAY_TOLERATE ? JDELAY_TOLERATE : allowed;
	unsigned best = late[0];
	int step = 0;
	for (int k = 1; k <= JDELAY_MAX_STEP; k++)
		if ((unsigned)k * tol + late[k] < best) {
			best = (unsigned)k * tol + late[k];
			step = k;
		}
	if (step)
		return step;
	/* Shorter by the frames that all but late_pct came early by. */
	if (d->n_tot < JDELAY_SETTLE || d->since_change < JDELAY_SETTLE)
		return 0;
	cum = late[0];
	for (int k = 0; k < JDELAY_MAX_STEP; k++) {
		cum += d->tot[bin_of(k)];
		if (cum > allowed)
			return -k;
	}
	return -JDELAY_MAX_STEP;
}
