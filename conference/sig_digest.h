/* sig_digest.h: Digest authentication (RFC 2617 / RFC 7616, MD5,
 * qop=auth) of the requests the registrar takes (sig_reg.c): nonces that
 * cannot be forged, go stale and serve each nonce count once. Included
 * only by sig_*.c, beside sig.h. Signalling thread only. The registrar
 * owns its struct sig_digest and frees it with sig_digest_free(). */
#ifndef TUTTI_CONFERENCE_SIG_DIGEST_H
#define TUTTI_CONFERENCE_SIG_DIGEST_H

#include "conference/sig.h"
#include "conference/store.h"

/* Room for the value of a WWW-Authenticate header of ours. */
#define SIG_DIGEST_CHALLENGE_MAX 256

struct sig_digest;

enum sig_digest_result {
	SIG_DIGEST_OK,
	SIG_DIGEST_CHALLENGE, /* no or wrong credentials: 401, fresh nonce */
	SIG_DIGEST_STALE,     /* right credentials, old or reused nonce */
	SIG_DIGEST_BAD,	      /* malformed credentials: 400 */
};

/* A fresh key and nonce serial from getrandom(); -ENOMEM, -EIO. */
int sig_digest_new(struct sig_digest **out);
/* NULL-safe; the key is wiped before it is freed. */
void sig_digest_free(struct sig_digest *d);

/* The value of a 401's WWW-Authenticate for realm SIG_REG_REALM, with a
 * fresh nonce; stale=true when stale. */
void sig_digest_challenge(struct sig_digest *d, bool stale,
			  char out[SIG_DIGEST_CHALLENGE_MAX]);
/* Checks the request's Digest credentials for realm SIG_REG_REALM against
 * the HA1s in store (NULL: nobody is known). On SIG_DIGEST_OK, user is the
 * authenticated user. A wrong password is logged (user and Call-ID). */
enum sig_digest_result sig_digest_verify(struct sig_digest *d,
					 struct store *store, const sip_t *sip,
					 char user[STORE_NAME_MAX + 1]);

#endif
