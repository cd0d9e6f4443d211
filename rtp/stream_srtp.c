/* stream_srtp.c: a stream's SRTP (RFC 3711) keys, as the offer/answer
 * agreed them (SDES, RFC 4568). The receive side unprotects every RTP and
 * RTCP packet from the peer before anything reads it, and drops what does
 * not verify (counted, never logged: anyone can send us bytes); the send
 * side protects each packet as the last step before sendto(), so a packet
 * made once for many listeners (shared encodes) is still encrypted per
 * listener, with its own key and sequence. A re-INVITE with new keys
 * replaces the contexts at once (rekey). */
#include "rtp/stream_priv.h"

#include <string.h>

static bool same_keys(const struct stream_params *a,
		      const struct stream_params *b)
{
	return a->srtp_rx_suite == b->srtp_rx_suite &&
	       a->srtp_tx_suite == b->srtp_tx_suite &&
	       memcmp(a->srtp_rx_key, b->srtp_rx_key, SRTP_KEY_SALT_LEN) == 0 &&
	       memcmp(a->srtp_tx_key, b->srtp_tx_key, SRTP_KEY_SALT_LEN) == 0;
}

int stream_srtp_apply(struct stream *s, const struct stream_params *p)
{
	bool on = p->srtp_rx_suite != SRTP_NONE;
	if (on && (s->srtp_rx || s->srtp_tx) && same_keys(p, &s->p))
		return 0;
	struct srtpctx *rx = NULL, *tx = NULL;
	if (on) {
		int err =
		    srtpctx_new(&rx, p->srtp_rx_suite, p->srtp_rx_key, true);
		if (!err)
			err = srtpctx_new(&tx, p->srtp_tx_suite, p->srtp_tx_key,
					  false);
		if (err) {
			srtpctx_free(rx);
			return err;
		}
	}
	stream_srtp_free(s);
	s->srtp_rx = rx;
	s->srtp_tx = tx;
	return 0;
}

void stream_srtp_free(struct stream *s)
{
	srtpctx_free(s->srtp_rx);
	srtpctx_free(s->srtp_tx);
	s->srtp_rx = s->srtp_tx = NULL;
}
