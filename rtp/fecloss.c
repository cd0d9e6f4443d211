/* fecloss.c: how much loss an Opus encoder codes in-band FEC for, from
 * what the listener it serves says in its RTCP receiver reports.
 *
 * FEC is not free: libopus encodes each frame a second time at a lower
 * rate (SILK's LBRR) and takes the bits from the primary coding. At 48 kHz,
 * 32 kb/s and complexity 5 an encode coding for 10% loss costs about a
 * quarter more CPU than one coding for none (docs/benchmarks.md), so a
 * listener on a clean path should not pay for it. The "fraction lost" of
 * a report block about our stream (RFC 3550 6.4.1, in 1/256ths, over the
 * interval since the listener's last report, about 5 s, so already an
 * average over some 250 packets) is smoothed a little (each report moves
 * the estimate three quarters of the way to it; the first sets it), so
 * that one odd report does not decide alone while a path that has become
 * clean turns FEC off within a few reports, and mapped to a
 * few settings: 0 (no FEC), then 10, 15, 20 and 25%. 10% is the least
 * that makes libopus 1.3 code FEC at our rate at all (5% leaves too little
 * rate for it; rtp/codec.c); above 25% the primary coding loses more than
 * one redundant copy of the previous frame can win back. Any reported loss
 * turns FEC on; the estimate must fall well below a step before the
 * setting comes down (hysteresis), so that a path hovering at a boundary
 * does not make the encoder change at every report.
 *
 * A listener who has not reported (yet, or never: RTCP is optional to
 * many SIP phones) gets FECLOSS_UNKNOWN, the fixed 10% every encoder had
 * before: without a report nothing says the path is clean, and the first
 * report, a few seconds into the call, settles it. A listener whose
 * reports stop (FECLOSS_STALE_NS, six of the usual 5 s intervals) is back
 * to not having reported: its last report may say a path was clean that
 * has since become bad enough to lose the reports themselves.
 *
 * Pure state, no allocation; the owner's thread. */
#include "rtp/rtp.h"

/* The estimate is in 1/4096ths (RFC 3550's 1/256ths with 4 more bits, so
 * that halving keeps some precision). */
#define Q(tenths_pct) ((unsigned)(tenths_pct)*4096u / 1000u)

/* Each setting, and the estimates that take the setting up to it (enter)
 * and keep it there (stay). */
static const struct {
	uint8_t perc;
	uint16_t enter, stay;
} steps[] = {
    {0, 0, 0},
    /* any loss: one report of 1/256 takes a clean estimate to 3/4 of
     * that; off again after one clean report */
    {10, 12, 6},
    {15, Q(100) + 1, Q(70) + 1},
    {20, Q(150) + 1, Q(120) + 1},
    {FECLOSS_MAX, Q(200) + 1, Q(170) + 1},
};

#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

void fecloss_init(struct fecloss *f)
{
	*f = (struct fecloss){.perc = FECLOSS_UNKNOWN};
}

/* The highest step whose threshold (enter or stay) est reaches. */
static unsigned reached(unsigned est, bool enter)
{
	unsigned k = 0;
	for (unsigned i = 1; i < N_STEPS; i++)
		if (est >= (enter ? steps[i].enter : steps[i].stay))
			k = i;
	return k;
}

unsigned fecloss_step(unsigned cur_perc, unsigned est)
{
	unsigned cur = 0;
	for (unsigned i = 0; i < N_STEPS; i++)
		if (cur_perc >= steps[i].perc)
			cur = i;
	unsigned up = reached(est, true), stay = reached(est, false);
	if (cur < up)
		cur = up;
	if (cur > stay)
		cur = stay;
	return steps[cur].perc;
}

bool fecloss_report(struct fecloss *f, uint8_t fraction_lost, uint64_t now_ns)
{
	unsigned x = (unsigned)fraction_lost << 4;
	f->est = f->heard ? (uint16_t)((f->est + 3 * x) / 4) : (uint16_t)x;
	f->heard = true;
	f->last_ns = now_ns;
	unsigned perc = fecloss_step(f->perc, f->est);
	if (perc == f->perc)
		return false;
	f->perc = (uint8_t)perc;
	return true;
}

bool fecloss_expire(struct fecloss *f, uint64_t now_ns)
{
	if (!f->heard || now_ns <= f->last_ns ||
	    now_ns - f->last_ns <= FECLOSS_STALE_NS)
		return false;
	unsigned was = f->perc;
	fecloss_init(f);
	return f->perc != was;
}
