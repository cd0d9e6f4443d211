/* sdes.c: SRTP keys in SDP, the a=crypto attribute of RFC 4568 (SDES).
 *
 *   a=crypto:<tag> <suite> inline:<base64 of
 * key||salt>[|<lifetime>][|<MKI>:<len>]
 *
 * We take the two suites that SIP phones offer (AES_CM_128_HMAC_SHA1_80
 * and _32), one inline key each, a lifetime if any (the key is used for
 * the call; a lifetime only bounds how long) and no MKI and no session
 * parameters, which change how SRTP runs and which we do not implement:
 * such a line is -ENOTSUP, so that the next a=crypto line of the offer
 * can be taken instead. The text of an offer is hostile input; keys are
 * never logged. Signalling thread. */
#include "conference/sdes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/base64.h>

#define KEY_B64_LEN 40 /* base64 of 30 bytes */

static const struct {
	const char *name;
	enum srtp_suite suite;
} suites[] = {
    {"AES_CM_128_HMAC_SHA1_80", SRTP_AES_CM_128_HMAC_SHA1_80},
    {"AES_CM_128_HMAC_SHA1_32", SRTP_AES_CM_128_HMAC_SHA1_32},
};

const char *sdes_suite_name(enum srtp_suite s)
{
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].suite == s)
			return suites[i].name;
	return NULL;
}

/* A lifetime: decimal or 2^n, at most 2^48 (RFC 4568 6.1). */
static bool lifetime_ok(const char *s, size_t n)
{
	char buf[24];
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	if (buf[0] == '2' && buf[1] == '^') {
		if (buf[2] < '0' || buf[2] > '9')
			return false;
		unsigned long e = strtoul(buf + 2, &end, 10);
		return *end == '\0' && e <= 48;
	}
	if (buf[0] < '0' || buf[0] > '9')
		return false;
	unsigned long long v = strtoull(buf, &end, 10);
	return *end == '\0' && v > 0 && v <= (1ull << 48);
}

int sdes_parse(const char *value, struct sdes_crypto *out)
{
	memset(out, 0, sizeof(*out));
	if (!value)
		return -EINVAL;
	/* tag: 1 to 9 digits */
	const char *p = value;
	size_t n = strspn(p, "0123456789");
	if (n == 0 || n > 9 || p[n] != ' ')
		return -EINVAL;
	out->tag = (unsigned)strtoul(p, NULL, 10);
	p += n + strspn(p + n, " ");
	/* suite */
	n = strcspn(p, " ");
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (strlen(suites[i].name) == n &&
		    strncmp(p, suites[i].name, n) == 0)
			out->suite = suites[i].suite;
	if (!out->suite)
		return n && p[n] == ' ' ? -ENOTSUP : -EINVAL;
	p += n + strspn(p + n, " ");
	/* one key-param: inline:KEY[|lifetime][|MKI:len] */
	if (strncasecmp(p, "inline:", 7) != 0)
		return -EINVAL;
	p += 7;
	n = strcspn(p, "|; ");
	if (n != KEY_B64_LEN)
		return -EINVAL;
	char b64[KEY_B64_LEN + 1], raw[SRTP_KEY_SALT_LEN + 3];
	memcpy(b64, p, n);
	b64[n] = '\0';
	if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			"0123456789+/") != KEY_B64_LEN ||
	    base64_d(raw, sizeof(raw), b64) != SRTP_KEY_SALT_LEN)
		return -EINVAL;
	memcpy(out->key, raw, SRTP_KEY_SALT_LEN);
	memset(raw, 0, sizeof(raw));
	p += n;
	if (*p == '|') { /* a lifetime, or an MKI */
		p++;
		n = strcspn(p, "|; ");
		if (memchr(p, ':', n))
			return -ENOTSUP; /* MKI */
		if (!lifetime_ok(p, n))
			return -EINVAL;
		p += n;
		if (*p == '|')
			return -ENOTSUP; /* MKI after the lifetime */
	}
	if (*p == ';')
		return -ENOTSUP; /* a second key */
	p += strspn(p, " ");
	return *p ? -ENOTSUP : 0; /* session parameters */
}

int sdes_format(const struct sdes_crypto *c, char *out, size_t cap)
{
	const char *name = sdes_suite_name(c->suite);
	if (!name)
		return -EINVAL;
	char b64[KEY_B64_LEN + 4];
	base64_e(b64, sizeof(b64), (void *)c->key, SRTP_KEY_SALT_LEN);
	int n = snprintf(out, cap, "%u %s inline:%s", c->tag, name, b64);
	memset(b64, 0, sizeof(b64));
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int sdes_new_key(uint8_t key[SRTP_KEY_SALT_LEN])
{
	size_t got = 0;
	while (got < SRTP_KEY_SALT_LEN) {
		ssize_t r = getrandom(key + got, SRTP_KEY_SALT_LEN - got, 0);
		if (r < 0)
			return -errno;
		got += (size_t)r;
	}
	return 0;
}
