/* oa_ext.c: the parts of an SDP description that say how a caller treats
 * silence and levels: the RFC 6464 audio level header extension it sends
 * and the RFC 6465 levels of the contributors it wants from us (a=extmap,
 * RFC 8285 5), comfort noise (CN/8000, RFC 3389) and Opus's usedtx (RFC
 * 7587 6.1). sig_sdp.c hands a=extmap values here; oa.c asks the rest.
 *
 * Plain functions on text already split into lines: the signalling
 * thread calls them; nothing is allocated. */
#include "conference/oa.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#define LEVEL_URI      "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define CSRC_LEVEL_URI "urn:ietf:params:rtp-hdrext:csrc-audio-level"

/* The next token of s (spaces skipped), its length in *n. */
static const char *token(const char *s, size_t *n)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t i = 0;
	while (s[i] && s[i] != ' ' && s[i] != '\t')
		i++;
	*n = i;
	return s;
}

/* The direction after an extmap id's '/', n bytes of it. */
static int direction(const char *s, size_t n, enum oa_dir *dir)
{
	static const struct {
		const char *name;
		enum oa_dir dir;
	} dirs[] = {{"sendrecv", OA_SENDRECV},
		    {"sendonly", OA_SENDONLY},
		    {"recvonly", OA_RECVONLY},
		    {"inactive", OA_INACTIVE}};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (n == strlen(dirs[i].name) &&
		    strncasecmp(s, dirs[i].name, n) == 0) {
			*dir = dirs[i].dir;
			return 0;
		}
	return -EBADMSG;
}

/* "<id>[/<direction>] <uri> [<attributes>]": 0 with the id, the
 * direction (sendrecv when none is given) and the extension attributes
 * (*attr, *attr_n) when the URI is uri; -ENOENT for another URI. */
static int extmap(const char *value, const char *uri, uint8_t *id,
		  enum oa_dir *dir, const char **attr, size_t *attr_n)
{
	unsigned long v = 0;
	size_t n, digits = 0;
	const char *s = value;

	if (!value || !id)
		return -EINVAL;
	while (isdigit((unsigned char)s[digits]) && digits < 4)
		v = v * 10 + (unsigned long)(s[digits++] - '0');
	/* RFC 8285 5: 1-14 for one-byte, 1-255 with two-byte headers; 15
	 * is reserved, and 4096-4351 are for negotiation (not sent). */
	if (!digits || v == 0 || v == 15 || v > 255)
		return -EBADMSG;
	s += digits;
	enum oa_dir got = OA_SENDRECV;
	if (*s == '/') {
		const char *d = ++s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (direction(d, (size_t)(s - d), &got) < 0)
			return -EBADMSG;
	}
	if (*s != ' ' && *s != '\t')
		return -EBADMSG;
	const char *u = token(s, &n);
	if (n != strlen(uri) || strncasecmp(u, uri, n) != 0)
		return -ENOENT;
	*attr = token(u + n, attr_n);
	*id = (uint8_t)v;
	*dir = got;
	return 0;
}

int oa_extmap_level(const char *value, uint8_t *id, bool *vad)
{
	enum oa_dir dir; /* we only receive levels anyway */
	const char *attr;
	size_t n;
	int err = extmap(value, LEVEL_URI, id, &dir, &attr, &n);

	if (!err && vad)
		*vad = n == 6 && strncasecmp(attr, "vad=on", 6) == 0;
	return err;
}

int oa_extmap_csrc_level(const char *value, uint8_t *id, enum oa_dir *dir)
{
	const char *attr;
	size_t n;

	if (!dir)
		return -EINVAL;
	return extmap(value, CSRC_LEVEL_URI, id, dir, &attr, &n);
}

bool oa_fmtp_flag(const char *fmtp, const char *key)
{
	size_t klen = key ? strlen(key) : 0;
	const char *s = fmtp;

	if (!s || !klen)
		return false;
	/* "a=b; c=d": parameters split by ';', spaces around them. */
	while (*s) {
		while (*s == ' ' || *s == ';')
			s++;
		if (strncasecmp(s, key, klen) == 0) {
			const char *v = s + klen;
			while (*v == ' ')
				v++;
			if (*v == '=') {
				v++;
				while (*v == ' ')
					v++;
				if (v[0] == '1' && (v[1] == '\0' ||
						    v[1] == ';' || v[1] == ' '))
					return true;
			}
		}
		while (*s && *s != ';')
			s++;
	}
	return false;
}

const struct oa_format *oa_find_cn(const struct oa_desc *d)
{
	for (unsigned i = 0; d && i < d->n_formats; i++) {
		const struct oa_format *f = &d->fmt[i];
		if (f->name[0] == '\0'
			? f->pt == CN_PT
			: strcasecmp(f->name, "CN") == 0 && f->clock_hz == 8000)
			return f;
	}
	return NULL;
}
