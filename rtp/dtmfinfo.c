/* dtmfinfo.c: the bodies of SIP INFO requests that carry a key press.
 *
 * Two media types are in use. application/dtmf-relay (Cisco's, widely
 * copied) is a few "Key=Value" lines, of which Signal names the key and
 * Duration its length in ms; keys are matched in any case, spaces around
 * '=' and unknown lines are tolerated, lines end in CRLF or LF.
 * application/dtmf holds the key alone. The key is one of 0-9 * # A-D (a
 * lower-case a-d too), or the RFC 4733 event number as a decimal, which
 * some phones send ("10" for *, "11" for #); "!" and 16 are a hook flash,
 * which is no digit. Anything else is malformed, and the caller answers
 * 400; another media type is for 415.
 *
 * Sofia-SIP has parsed the request and its Content-Type; this file sees
 * plain bytes and never trusts them: bounded, NUL bytes refused, no
 * allocation. Any thread. */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define BODY_MAX     1024
#define DURATION_MAX 60000u /* ms: a longer "press" is nonsense */
#define FLASH_EVENT  16

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One token of [start, end) without the blanks around it. */
static void trim(const char **start, const char **end)
{
	while (*start < *end && blank(**start))
		(*start)++;
	while (*end > *start && blank((*end)[-1]))
		(*end)--;
}

static bool all_digits(const char *s, const char *e)
{
	if (s == e)
		return false;
	for (; s < e; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* A decimal of at most 5 digits. */
static int small_number(const char *s, const char *e, unsigned *out)
{
	if (!all_digits(s, e) || e - s > 5)
		return -EBADMSG;
	unsigned v = 0;
	for (; s < e; s++)
		v = v * 10 + (unsigned)(*s - '0');
	*out = v;
	return 0;
}

/* The key named by [s, e): 0 with *key, -ENOENT for a flash. */
static int key_of(const char *s, const char *e, char *key)
{
	trim(&s, &e);
	if (e - s == 1 && *s && strchr("0123456789*#ABCDabcd", *s)) {
		*key = *s >= 'a' ? (char)(*s - 'a' + 'A') : *s;
		return 0;
	}
	if (e - s == 1 && *s == '!')
		return -ENOENT;
	unsigned code;
	if (e - s > 2 || small_number(s, e, &code))
		return -EBADMSG;
	if (code == FLASH_EVENT)
		return -ENOENT;
	*key = dtmfev_key(code);
	return *key ? 0 : -EBADMSG;
}

static bool key_is(const char *s, const char *e, const char *name)
{
	trim(&s, &e);
	return (size_t)(e - s) == strlen(name) &&
	       strncasecmp(s, name, (size_t)(e - s)) == 0;
}

static int relay(const char *body, size_t len, struct digit *out)
{
	const char *p = body, *end = body + len;
	bool have_key = false, flash = false;
	struct digit d = {.source = DIGIT_INFO};

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *eq = memchr(p, '=', (size_t)(eol - p));
		if (eq && key_is(p, eq, "Signal")) {
			int err = key_of(eq + 1, eol, &d.key);
			if (err && err != -ENOENT)
				return err;
			flash = err == -ENOENT;
			have_key = true;
		} else if (eq && key_is(p, eq, "Duration")) {
			const char *v = eq + 1, *ve = eol;
			trim(&v, &ve);
			unsigned ms;
			if (small_number(v, ve, &ms) || ms > DURATION_MAX)
				return -EBADMSG;
			d.duration_ms = ms;
		}
		p = eol + (nl != NULL);
	}
	if (!have_key)
		return -EBADMSG;
	if (flash)
		return -ENOENT;
	*out = d;
	return 0;
}

int dtmfinfo_parse(const char *ctype, const char *body, size_t len,
		   struct digit *out)
{
	bool is_relay =
	    ctype && strcasecmp(ctype, "application/dtmf-relay") == 0;
	bool is_dtmf = ctype && strcasecmp(ctype, "application/dtmf") == 0;
	if (!is_relay && !is_dtmf)
		return -EPROTO;
	if (!body || !out || len == 0 || len > BODY_MAX ||
	    memchr(body, '\0', len))
		return -EBADMSG;
	if (is_relay)
		return relay(body, len, out);
	struct digit d = {.source = DIGIT_INFO};
	int err = key_of(body, body + len, &d.key);
	if (!err)
		*out = d;
	return err;
}
