/* rtpext.c: RTP header extension elements (RFC 8285), and the one we read,
 * the client-to-mixer audio level (RFC 6464).
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
 * Plain functions without state: any thread may call them. */
#include "rtp/rtp.h"

#include <errno.h>

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
