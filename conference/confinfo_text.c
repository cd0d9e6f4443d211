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
 * file. No state; any thread. */
#include "conference/confinfo_int.h"

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
