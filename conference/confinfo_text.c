/* confinfo_text.c: the strings of a snapshot made safe to write as XML.
 *
 * Every string in a snapshot came from a SIP peer one way or another, so it
 * is hostile until cleaned. Bytes that do not form a well-formed UTF-8
 * sequence are dropped (stray continuation bytes, overlong forms,
 * surrogates, code points past U+10FFFF, truncated sequences), and so are
 * the characters that XML 1.0 cannot carry or that have no business in a
 * name: C0 controls (tab and newline included), DEL, C1 controls, U+FFFE
 * and U+FFFF. What is left is cut on a character boundary. libxml2's
 * writer escapes markup but takes its input on trust, and its own UTF-8
 * checks (xmlCheckUTF8) reject a string rather than repair it, hence this
 * file.
 *
 * Values that the schema types xs:anyURI (a user's AOR, Referred-By, the
 * moderator who acted) get one more step: Sofia-SIP takes URIs that are
 * not URIs to RFC 3986 and XML Schema ("si~:x", "sip:a@[::1]", "a:#b#c")
 * and one such caller would make every document of the room invalid for
 * every subscriber. libxml2's own validator decides; a value it refuses
 * has the characters a URI cannot hold percent-encoded, and if that is
 * not enough, everything but the unreserved characters (which always
 * gives a valid relative reference). No state but libxml2's table of
 * schema types, built once; any thread. */
#include "conference/confinfo_int.h"

#include <libxml/xmlschemastypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at s (n bytes left), its
 * code point in *cp; 0 when there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, v = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

static bool printable(uint32_t cp)
{
	return cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f) && cp != 0xfffe &&
	       cp != 0xffff;
}

size_t confinfo_text_clean(char *dst, size_t max_bytes, const char *src,
			   size_t src_cap)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strnlen(src, src_cap), out = 0;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_seq(s + i, n - i, &cp);
		if (len == 0) {
			i++;
			continue;
		}
		if (printable(cp)) {
			if (out + len > max_bytes)
				break;
			memcpy(dst + out, s + i, len);
			out += len;
		}
		i += len;
	}
	dst[out] = '\0';
	return out;
}

/* libxml2 builds its table of schema types on first use, which is not
 * thread-safe: build it once. */
static pthread_once_t types_once = PTHREAD_ONCE_INIT;

static void types_init(void)
{
	xmlSchemaInitTypes();
}

static bool uri_valid(const char *s)
{
	pthread_once(&types_once, types_init);
	xmlSchemaTypePtr t = xmlSchemaGetBuiltInType(XML_SCHEMAS_ANYURI);
	return t && xmlSchemaValidatePredefinedType(t, BAD_CAST s, NULL) == 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* RFC 3986's unreserved characters; with uri_chars also the delimiters
 * and a '%' that starts an escape. */
static bool keep(const char *s, bool uri_chars)
{
	unsigned char c = (unsigned char)*s;
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || strchr("-._~", c))
		return c != '\0';
	if (!uri_chars)
		return false;
	if (c == '%')
		return is_hex(s[1]) && is_hex(s[2]);
	return c != '\0' && strchr("!$&'()*+,;=:/?@", c);
}

/* Percent-encodes src into dst (max_bytes + 1), never cutting an escape. */
static size_t encode(char *dst, size_t max_bytes, const char *src,
		     bool uri_chars)
{
	size_t out = 0;
	for (const char *s = src; *s; s++) {
		if (keep(s, uri_chars)) {
			if (out + 1 > max_bytes)
				break;
			dst[out++] = *s;
		} else {
			if (out + 3 > max_bytes)
				break;
			snprintf(dst + out, 4, "%%%02X", (unsigned char)*s);
			out += 3;
		}
	}
	dst[out] = '\0';
	return out;
}

size_t confinfo_text_uri(char *dst, size_t max_bytes, const char *src,
			 size_t src_cap)
{
	char raw[CI_URI_MAX];
	if (max_bytes >= sizeof(raw))
		max_bytes = sizeof(raw) - 1;
	size_t n = confinfo_text_clean(dst, max_bytes, src, src_cap);
	if (n == 0 || uri_valid(dst))
		return n;
	memcpy(raw, dst, n + 1);
	n = encode(dst, max_bytes, raw, true);
	if (uri_valid(dst))
		return n;
	return encode(dst, max_bytes, raw, false);
}
