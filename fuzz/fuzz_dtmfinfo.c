/* fuzz_dtmfinfo.c: hostile SIP INFO bodies through the key press parser
 * (rtp/dtmfinfo.c), under the media types phones send and others.
 *
 * Promises checked: the result is one of 0, -ENOENT (a hook flash),
 * -EPROTO (another media type, whatever the body) or -EBADMSG; only 0
 * writes the digit, which is a DTMF key (0-9 * # A-D) from INFO with a
 * duration of at most a minute; a body with a NUL byte or over 1 KiB is
 * malformed; the same input gives the same answer; and what was parsed,
 * written back in the canonical form of its media type, parses to the
 * same digit. The body is a copy of exactly its length, so that reading
 * past it is caught (ASan).
 *
 * Input: one byte choosing the media type (the last choice takes a
 * fuzzed type string), then the body. */
#include "fuzz/fuzz.h"
#include "rtp/rtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T "dtmfinfo"

static const char *const types[] = {
    "application/dtmf-relay",
    "Application/DTMF-Relay",
    "application/dtmf",
    "APPLICATION/DTMF",
    "text/plain",
    NULL,
};
#define N_TYPES (sizeof(types) / sizeof(types[0]))

static bool same_digit(const struct digit *a, const struct digit *b)
{
	return a->key == b->key && a->source == b->source &&
	       a->duration_ms == b->duration_ms;
}

static bool is_key(char c)
{
	return c && strchr("0123456789*#ABCD", c);
}

static bool relay_type(const char *ctype)
{
	return !strcasecmp(ctype, "application/dtmf-relay");
}

static bool known_type(const char *ctype)
{
	return ctype &&
	       (relay_type(ctype) || !strcasecmp(ctype, "application/dtmf"));
}

/* The body a sender would write for d, parsed again. */
static void round_trip(const char *ctype, const struct digit *d)
{
	char body[64];
	struct digit again;
	int len;

	if (relay_type(ctype))
		len =
		    snprintf(body, sizeof(body), "Signal=%c\r\nDuration=%u\r\n",
			     d->key, d->duration_ms);
	else
		len = snprintf(body, sizeof(body), "%c", d->key);
	FUZZ_CHECK(T, len > 0 && (size_t)len < sizeof(body));
	FUZZ_CHECK(T, dtmfinfo_parse(ctype, body, (size_t)len, &again) == 0);
	FUZZ_CHECK(T, again.key == d->key && again.source == DIGIT_INFO);
	if (relay_type(ctype))
		FUZZ_CHECK(T, again.duration_ms == d->duration_ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in;
	char fuzzed_type[64];
	const char *ctype;
	size_t len;
	const uint8_t *bytes;
	struct digit d, d2;
	const struct digit untouched = {.key = 'Z', .duration_ms = 77};

	fuzz_in_init(&in, data, size);
	unsigned pick = fuzz_below(&in, N_TYPES + 1);
	if (pick < N_TYPES) {
		ctype = types[pick];
	} else {
		fuzz_str(&in, fuzzed_type, sizeof(fuzzed_type));
		ctype = fuzzed_type;
	}
	bytes = fuzz_bytes(&in, size, &len);
	/* An exact copy: a read past the body is out of bounds. */
	char *body = malloc(len ? len : 1);
	if (!body)
		return 0;
	memcpy(body, bytes, len);

	d = untouched;
	int rc = dtmfinfo_parse(ctype, len ? body : NULL, len, &d);
	FUZZ_CHECK(T,
		   rc == 0 || rc == -ENOENT || rc == -EPROTO || rc == -EBADMSG);
	FUZZ_CHECK(T, (rc == -EPROTO) == !known_type(ctype));
	if (known_type(ctype) &&
	    (len == 0 || len > 1024 || memchr(body, 0, len)))
		FUZZ_CHECK(T, rc == -EBADMSG);
	if (rc != 0) {
		FUZZ_CHECK(T, same_digit(&d, &untouched));
	} else {
		FUZZ_CHECK(T, is_key(d.key) && d.source == DIGIT_INFO);
		FUZZ_CHECK(T, d.duration_ms <= 60000);
		round_trip(ctype, &d);
	}
	d2 = untouched;
	FUZZ_CHECK(T, dtmfinfo_parse(ctype, len ? body : NULL, len, &d2) == rc);
	FUZZ_CHECK(T, same_digit(&d, &d2));
	free(body);
	return 0;
}
