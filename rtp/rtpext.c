/* rtpext.c: RTP header extension elements (RFC 8285): the one we read,
 * the client-to-mixer audio level (RFC 6464), and the one we write, the
 * mixer-to-client levels of the contributors (RFC 6465).
 *
 * rtppkt_parse() has already checked that the extension block lies inside
 * the packet; this walks the elements of its one-byte (profile 0xBEDE) or
 * two-byte (0x100x) form and checks each element's length against the
 * block before reading it. Padding bytes (ID 0) are skipped; a one-byte
 * element with ID 15 ends the walk, as RFC 8285 4.2 asks. An element that
 * claims more bytes than the block holds makes the whole block malformed.
 * Written by hand: the header is a few bytes, and the libraries we link
 * do not expose a parser for it.
 *
 * Writing: rtpext_build() lays elements out in the one-byte form when
 * they fit it (ids 1-14, 1-16 bytes: what every endpoint reads, and one
 * header byte per element), else in the two-byte form, and pads the block
 * with zero bytes (padding, RFC 8285 4.2) to the 32-bit words that RFC
 * 3550 5.3.1's length counts. RFC 6465 3's element is one byte per CSRC,
 * each a zero bit and the level in -dBov; since there are at most 15
 * CSRCs, it always fits a one-byte element of an id up to 14.
 *
 * Plain functions without state: any thread may call them. */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#define PROFILE_ONE_BYTE      0xbede
#define PROFILE_TWO_BYTE      0x1000
#define PROFILE_TWO_BYTE_MASK 0xfff0
#define ONE_BYTE_STOP	      15

/* Walks the elements; the first one with id goes to *data, *len. */
static int walk(const uint8_t *p, size_t n, bool two_byte, unsigned id,
		const uint8_t **data, size_t *len)
{
	size_t off = 0;

	while (off < n) {
		unsigned eid, elen;
		if (p[off] == 0) { /* padding */
			off++;
			continue;
		}
		if (two_byte) {
			if (n - off < 2)
				return -EBADMSG;
			eid = p[off];
			elen = p[off + 1];
			off += 2;
		} else {
			eid = p[off] >> 4;
			elen = (p[off] & 0x0f) + 1u;
			if (eid == ONE_BYTE_STOP)
				return -ENOENT;
			off++;
		}
		if (n - off < elen)
			return -EBADMSG;
		if (eid == id) {
			*data = p + off;
			*len = elen;
			return 0;
		}
		off += elen;
	}
	return -ENOENT;
}

int rtpext_find(const struct rtppkt *p, unsigned id, const uint8_t **data,
		size_t *len)
{
	const uint8_t *d;
	size_t l;
	int err;

	if (!p || !data || !len || id == 0 || id > 255)
		return -EINVAL;
	if (!p->ext || !p->ext_bytes)
		return -ENOENT;
	if (p->ext_profile == PROFILE_ONE_BYTE) {
		if (id >= ONE_BYTE_STOP)
			return -ENOENT;
		err = walk(p->ext, p->ext_bytes, false, id, &d, &l);
	} else if ((p->ext_profile & PROFILE_TWO_BYTE_MASK) ==
		   PROFILE_TWO_BYTE) {
		err = walk(p->ext, p->ext_bytes, true, id, &d, &l);
	} else {
		return -ENOENT; /* another profile's extension: not ours */
	}
	if (err)
		return err;
	*data = d;
	*len = l;
	return 0;
}

int rtpext_audio_level(const struct rtppkt *p, unsigned id, uint8_t *level_dbov,
		       bool *vad)
{
	const uint8_t *d;
	size_t len;
	int err = rtpext_find(p, id, &d, &len);

	if (err)
		return err;
	/* RFC 6464 3: one byte, V then the level in -dBov. A two-byte form
	 * may pad it; an empty element says nothing. */
	if (len < 1)
		return -EBADMSG;
	if (level_dbov)
		*level_dbov = d[0] & 0x7f;
	if (vad)
		*vad = d[0] >> 7;
	return 0;
}

/* The form the elements fit: one-byte unless an id or a length says. */
static bool fits_one_byte(const struct rtpext_elem *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].id >= ONE_BYTE_STOP || e[i].len < 1 || e[i].len > 16)
			return false;
	return true;
}

int rtpext_build(uint8_t *buf, size_t cap, const struct rtpext_elem *e,
		 size_t n, uint16_t *profile)
{
	if (!buf || !e || !n || !profile)
		return -EINVAL;
	bool one = fits_one_byte(e, n);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t head = one ? 1 : 2;
		if (e[i].id == 0 || (e[i].len && !e[i].data))
			return -EINVAL;
		if (cap - off < head + e[i].len)
			return -ENOSPC;
		if (one) {
			buf[off] = (uint8_t)(e[i].id << 4 | (e[i].len - 1));
		} else {
			buf[off] = e[i].id;
			buf[off + 1] = e[i].len;
		}
		off += head;
		if (e[i].len)
			memcpy(buf + off, e[i].data, e[i].len);
		off += e[i].len;
	}
	size_t padded = (off + 3) & ~(size_t)3;
	if (padded > cap)
		return -ENOSPC;
	memset(buf + off, 0, padded - off);
	*profile = one ? PROFILE_ONE_BYTE : PROFILE_TWO_BYTE;
	return (int)padded;
}

int rtpext_csrc_levels(uint8_t *buf, size_t cap, unsigned id,
		       const uint8_t *level_dbov, size_t n, uint16_t *profile)
{
	uint8_t v[RTPPKT_MAX_CSRC];

	if (!level_dbov || n == 0 || n > RTPPKT_MAX_CSRC || id == 0 || id > 255)
		return -EINVAL;
	/* RFC 6465 3: the first bit of each level is 0 (no voice activity
	 * flag here, unlike RFC 6464). */
	for (size_t i = 0; i < n; i++)
		v[i] = level_dbov[i] > 127 ? 127 : level_dbov[i];
	struct rtpext_elem e = {
	    .id = (uint8_t)id, .len = (uint8_t)n, .data = v};
	return rtpext_build(buf, cap, &e, 1, profile);
}
