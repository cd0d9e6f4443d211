/* sdes.h: a=crypto lines (RFC 4568), see sdes.c. */
#ifndef TUTTI_CONFERENCE_SDES_H
#define TUTTI_CONFERENCE_SDES_H

#include <stddef.h>
#include <stdint.h>

#include "rtp/rtp.h"

struct sdes_crypto {
	unsigned tag;
	enum srtp_suite suite;
	uint8_t key[SRTP_KEY_SALT_LEN]; /* master key, then salt */
};

/* The value of one a=crypto attribute (after "crypto:"). -EINVAL when it
 * is not RFC 4568, -ENOTSUP for a suite, MKI or session parameter we do
 * not take (another line may be). */
int sdes_parse(const char *value, struct sdes_crypto *out);
/* "<tag> <suite> inline:<key>" into out; its length or -ENOSPC. */
int sdes_format(const struct sdes_crypto *c, char *out, size_t cap);
/* A fresh master key and salt from the kernel's random source. */
int sdes_new_key(uint8_t key[SRTP_KEY_SALT_LEN]);
/* The suite's SDP name; NULL for none. */
const char *sdes_suite_name(enum srtp_suite s);

#endif
