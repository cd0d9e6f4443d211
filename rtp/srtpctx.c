/* srtpctx.c: one direction of SRTP and SRTCP (RFC 3711) through libsrtp2.
 *
 * A call has two: the inbound one with the key the caller sent in its
 * a=crypto, the outbound one with ours. The suites are those of RFC 4568
 * that every SIP phone offers, AES_CM_128_HMAC_SHA1_80 and _32; SRTCP
 * uses an 80-bit tag with both (RFC 4568 6.2.1). Keys live here and in
 * libsrtp2's session only, and are wiped on free; they are never logged.
 * A context is used by one thread at a time (the room's mixer thread,
 * once the stream is in the mix). */
#include "rtp/rtp.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

/* Packets the replay window remembers: a phone's jitter and reordering
 * are far below it. */
#define REPLAY_WINDOW 1024

struct srtpctx {
	srtp_t session;
	bool inbound;
	uint8_t key[SRTP_KEY_SALT_LEN];
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static srtp_err_status_t init_status = srtp_err_status_fail;

static void init_lib(void)
{
	init_status = srtp_init();
}

int srtpctx_new(struct srtpctx **out, enum srtp_suite suite,
		const uint8_t key[SRTP_KEY_SALT_LEN], bool inbound)
{
	*out = NULL;
	if (suite != SRTP_AES_CM_128_HMAC_SHA1_80 &&
	    suite != SRTP_AES_CM_128_HMAC_SHA1_32)
		return -EINVAL;
	pthread_once(&once, init_lib);
	if (init_status != srtp_err_status_ok)
		return -EIO;
	struct srtpctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c->key, key, SRTP_KEY_SALT_LEN);
	c->inbound = inbound;

	srtp_policy_t p;
	memset(&p, 0, sizeof(p));
	if (suite == SRTP_AES_CM_128_HMAC_SHA1_80)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = c->key;
	p.window_size = REPLAY_WINDOW;
	p.allow_repeat_tx = 0;
	p.next = NULL;
	if (srtp_create(&c->session, &p) != srtp_err_status_ok) {
		srtpctx_free(c);
		return -EINVAL;
	}
	*out = c;
	return 0;
}

void srtpctx_free(struct srtpctx *c)
{
	if (!c)
		return;
	if (c->session)
		srtp_dealloc(c->session);
	/* a wipe the compiler may not drop */
	volatile uint8_t *k = c->key;
	for (size_t i = 0; i < sizeof(c->key); i++)
		k[i] = 0;
	free(c);
}

/* libsrtp2 wants an int length and room for the tag after the packet. */
static int run(struct srtpctx *c, bool rtcp, uint8_t *pkt, size_t *len,
	       size_t cap)
{
	if (*len > (size_t)INT32_MAX || *len < (rtcp ? 8u : 12u))
		return -EINVAL;
	if (!c->inbound && cap < *len + SRTP_MAX_OVERHEAD)
		return -ENOSPC;
	int n = (int)*len;
	srtp_err_status_t st;
	if (c->inbound)
		st = rtcp ? srtp_unprotect_rtcp(c->session, pkt, &n)
			  : srtp_unprotect(c->session, pkt, &n);
	else
		st = rtcp ? srtp_protect_rtcp(c->session, pkt, &n)
			  : srtp_protect(c->session, pkt, &n);
	if (st == srtp_err_status_replay_fail ||
	    st == srtp_err_status_replay_old)
		return -EALREADY;
	if (st == srtp_err_status_auth_fail)
		return -EBADMSG;
	if (st != srtp_err_status_ok)
		return -EINVAL;
	*len = (size_t)n;
	return 0;
}

int srtpctx_rtp(struct srtpctx *c, uint8_t *pkt, size_t *len, size_t cap)
{
	return run(c, false, pkt, len, cap);
}

int srtpctx_rtcp(struct srtpctx *c, uint8_t *pkt, size_t *len, size_t cap)
{
	return run(c, true, pkt, len, cap);
}
