/* levels.c: the speakers' audio levels that listeners who asked for them
 * get with every mixed packet (RFC 6465, the csrc-audio-level header
 * extension; rtp/stream_levels.c writes it).
 *
 * A level is that of a speaker's frame as it goes into the sum (after its
 * talk gain and any fade), in -dBov like RFC 6464's (rtp/cn.c's measure):
 * what the listener hears of that speaker. It is measured once per tick
 * per speaker, so the cost grows with the speakers (at most max_talkers,
 * a few hundred nanoseconds each), never with the listeners. The levels
 * for the shared mix's CSRC list (every speaker) are laid out once too;
 * every listener who hears it gets that same list, and a listener with
 * its own mix (a speaker, who does not hear itself) gets its own CSRCs'
 * levels looked up by SSRC among the few speakers, so that each level
 * sits beside its own CSRC whatever order tick.c lists them in. Only a
 * stream that negotiated the extension is handed anything.
 *
 * Mixer thread; the per-listener step may run on the pool's workers
 * (pool.c), where it only reads what levels_measure() wrote. */
#include "mixer/mixer_priv.h"

/* The level of the speaker with local SSRC ssrc; silence when none is. */
static uint8_t level_of(const struct mixer *m, uint32_t ssrc)
{
	for (size_t t = 0; t < m->n_contribs; t++)
		if (stream_local_ssrc(m->contribs[t]->stream) == ssrc)
			return m->contribs[t]->level_dbov;
	return CN_MAX_DBOV;
}

void levels_measure(struct mixer *m)
{
	for (size_t t = 0; t < m->n_contribs; t++) {
		struct part *pt = m->contribs[t];
		pt->level_dbov = cn_level_dbov(pt->pcm, m->frame_n);
	}
	for (unsigned i = 0; i < m->n_csrc_all; i++)
		m->level_all[i] = level_of(m, m->csrc_all[i]);
}

void levels_send(const struct mixer *m, struct part *pt, const uint32_t *csrc,
		 unsigned n_csrc)
{
	uint8_t lv[RTPPKT_MAX_CSRC];

	if (!stream_tx_wants_levels(pt->stream))
		return;
	if (csrc == m->csrc_all) {
		stream_tx_levels(pt->stream, m->level_all, m->n_csrc_all);
		return;
	}
	if (n_csrc > RTPPKT_MAX_CSRC)
		n_csrc = RTPPKT_MAX_CSRC;
	for (unsigned i = 0; i < n_csrc; i++)
		lv[i] = level_of(m, csrc[i]);
	stream_tx_levels(pt->stream, lv, n_csrc);
}
