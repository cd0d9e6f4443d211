/* select.c: speaker selection: which participants are in this tick's mix.
 *
 * A candidate is a participant whose frame carries received audio, who is
 * not muted, and who talks (talk.c: above on_db for 40 ms, until 600 ms
 * below off_db) or whose frame is above on_db now, so that the first frame
 * of an utterance is not lost to the detector's attack. At most max_speakers
 * candidates are selected (0: all of them); everyone else is heard as
 * silence, and a room's cost follows its speakers, not its size.
 *
 * A selected speaker keeps its place while it is a candidate: the
 * detector's hang-over carries it through the pauses between words. A free
 * place goes to the loudest waiting candidate (by the detector's smoothed
 * power). When all places are taken, the loudest waiting candidate takes
 * the place of the quietest speaker only after it has been at least
 * SWAP_RATIO louder for SWAP_FRAMES ticks in a row, so that two talkers of
 * about the same level do not take turns every frame. A speaker who loses
 * its place mid-word is faded out over one tick, and one who takes a place
 * mid-utterance faded in, so that neither clicks; one who starts from
 * silence starts at once, and a muted one or one whose audio stopped
 * leaves at once.
 *
 * Mixer thread; it decides, and writes the parts' selection state (with
 * the fade each speaker's frame needs) and the list of contributors;
 * tick.c then prepares their frames. */
#include "mixer/mixer_priv.h"

#define SWAP_RATIO  2.0f /* 3 dB louder */
#define SWAP_FRAMES 10	 /* 200 ms in a row */

static bool candidate(const struct part *pt)
{
	return pt->received && !pt->ctl.muted &&
	       (pt->talk.talking || pt->talk.level_db > pt->talk.on_db);
}

/* Drops the speakers who no longer qualify; returns how many stay. */
static unsigned keep(struct mixer *m)
{
	unsigned n = 0;

	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		pt->fade = FADE_NONE;
		if (!pt->selected)
			continue;
		if (candidate(pt)) {
			n++;
			continue;
		}
		pt->selected = false;
		if (pt->received && !pt->ctl.muted)
			pt->fade = FADE_OUT; /* its hang-over ended */
	}
	return n;
}

static void admit(struct part *pt, bool mid_utterance)
{
	pt->selected = true;
	pt->fade = mid_utterance ? FADE_IN : FADE_NONE;
}

static struct part *loudest_waiting(const struct mixer *m)
{
	struct part *best = NULL;

	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (!pt->selected && pt->fade != FADE_OUT && candidate(pt) &&
		    (!best || pt->talk.power > best->talk.power))
			best = pt;
	}
	return best;
}

static struct part *quietest_selected(const struct mixer *m)
{
	struct part *worst = NULL;

	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		if (pt->selected &&
		    (!worst || pt->talk.power < worst->talk.power))
			worst = pt;
	}
	return worst;
}

/* All places taken: the loudest waiting candidate, once it has been
 * clearly louder than the quietest speaker long enough, takes its place. */
static void challenge(struct mixer *m)
{
	struct part *c = loudest_waiting(m), *w = quietest_selected(m);

	if (!c || !w || !(c->talk.power > w->talk.power * SWAP_RATIO)) {
		m->challenge_ticks = 0;
		return;
	}
	if (c->id != m->challenger) {
		m->challenger = c->id;
		m->challenge_ticks = 0;
	}
	if (++m->challenge_ticks < SWAP_FRAMES)
		return;
	m->challenge_ticks = 0;
	w->selected = false;
	w->fade = FADE_OUT;
	admit(c, true);
}

static void choose(struct mixer *m)
{
	unsigned k = m->p.max_speakers, n = keep(m);
	struct part *c;

	if (k == 0) {
		for (size_t i = 0; i < m->n_parts; i++)
			if (!m->parts[i]->selected && candidate(m->parts[i]))
				admit(m->parts[i], false);
		return;
	}
	for (; n < k && (c = loudest_waiting(m)); n++)
		admit(c, c->talk.talking);
	if (n == k)
		challenge(m);
	else
		m->challenge_ticks = 0;
}

void select_speakers(struct mixer *m)
{
	choose(m);
	m->n_contribs = 0;
	for (size_t i = 0; i < m->n_parts; i++) {
		struct part *pt = m->parts[i];
		pt->contributing = pt->selected || pt->fade == FADE_OUT;
		if (pt->contributing)
			m->contribs[m->n_contribs++] = pt;
	}
}
