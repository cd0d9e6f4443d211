/* stream_levels.c: the mixer-to-client audio levels (RFC 6465) a stream
 * sends, when its peer offered the csrc-audio-level extension.
 *
 * The mixer measures each speaker's level once per tick and, for each
 * listener that asked for levels, hands over one level per CSRC of that
 * listener's packets, in the CSRC list's order (mixer/levels.c); they are
 * kept here until the tick's packets are sent, and forgotten after it
 * (stream_levels_done), so that levels never outlive their frame. Each
 * packet then carries one extension element with them, written in the
 * stream's own small buffer: the only per-listener work is those few
 * bytes. A packet whose CSRC count does not match the levels handed over
 * (none, or a packet left over from another mix) goes without, as does
 * every packet of a peer that did not ask. SRTP (stream_srtp.c) then
 * protects the packet as a whole; without RFC 6904 the extension is
 * authenticated, not encrypted.
 *
 * Mixer thread, on a stream it holds; nothing is allocated. */
#include "rtp/stream_priv.h"

#include <string.h>

bool stream_tx_wants_levels(const struct stream *s)
{
	return s->p.csrc_level_id != 0 && s->p.send;
}

void stream_tx_levels(struct stream *s, const uint8_t *level_dbov, unsigned n)
{
	if (!s->p.csrc_level_id || n > RTPPKT_MAX_CSRC || (n && !level_dbov))
		return;
	if (n)
		memcpy(s->tx_levels, level_dbov, n);
	s->n_tx_levels = (uint8_t)n;
}

void stream_levels_ext(struct stream *s, struct rtppkt *pkt)
{
	if (!s->p.csrc_level_id || !pkt->n_csrc ||
	    pkt->n_csrc != s->n_tx_levels)
		return;
	int n =
	    rtpext_csrc_levels(s->tx_ext, sizeof(s->tx_ext), s->p.csrc_level_id,
			       s->tx_levels, s->n_tx_levels, &pkt->ext_profile);
	if (n < 0)
		return;
	pkt->ext = s->tx_ext;
	pkt->ext_bytes = (size_t)n;
}

void stream_levels_done(struct stream *s)
{
	s->n_tx_levels = 0;
}
