/* jdelay.h: the jitter buffer's delay estimate (rtp/jdelay.c), private to
 * rtp/jbuf.c. */
#ifndef TUTTI_RTP_JDELAY_H
#define TUTTI_RTP_JDELAY_H

#include <stdbool.h>
#include <stdint.h>

#define JDELAY_SUBS	4  /* sub-windows kept */
#define JDELAY_SUB_N	64 /* arrivals per sub-window */
#define JDELAY_BINS	32 /* slack -8 .. 23 frames */
#define JDELAY_LOW	(-8)
#define JDELAY_MAX_STEP (-JDELAY_LOW) /* frames one advice may add or take */

struct jdelay {
	uint8_t sub[JDELAY_SUBS][JDELAY_BINS]; /* arrivals per slack */
	uint16_t tot[JDELAY_BINS];	       /* the sum of sub[] */
	uint16_t n_tot;			       /* arrivals in tot */
	uint8_t cur, n_cur;    /* sub-window filling, its fill */
	uint8_t late_run;      /* late arrivals in a row */
	int8_t late_run_max;   /* the least late of them */
	uint16_t since_change; /* arrivals since a shift */
	uint8_t late_pct;      /* late arrivals allowed */
	bool dirty;	       /* noted since the last advice */
};

/* Forgets every arrival; late_pct stays. */
void jdelay_reset(struct jdelay *d);
/* One arrival: slack is how many whole frames before its playout the
 * packet came (0: just in time; negative: that many frames too late). */
void jdelay_note(struct jdelay *d, int slack);
/* The playout moved by frames (positive: later, a deeper buffer): every
 * arrival noted would have had that much more slack. */
void jdelay_shift(struct jdelay *d, int frames);
/* What the playout should do now: n > 0 frames later (insert them), n < 0
 * -n frames earlier (skip them), 0 stay; never more than JDELAY_MAX_STEP
 * either way (the lowest bin is the latest arrival it can tell). */
int jdelay_advice(struct jdelay *d);

#endif
