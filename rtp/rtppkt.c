/* rtppkt.c: the RTP fixed header (RFC 3550 5.1), parsed and built.
 *
 * A parser that trusts nothing: every length the packet claims (CSRC count,
 * header extension, padding) is checked against the bytes actually present
 * before it is used, and anything that does not add up is -EBADMSG. The
 * parsed payload points into the caller's buffer; nothing is copied or
 * allocated. Written by hand because the header is twelve bytes and the
 * libraries we link (libsrtp2, Sofia-SIP) do not offer a standalone parser.
 *
 * Plain functions without state: any thread may call them. */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#define RTP_HDR_BYTES 12
#define RTP_VERSION   2

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rtppkt_parse(struct rtppkt *out, const uint8_t *buf, size_t len)
{
	struct rtppkt p;
	size_t off, end;

	if (!out || !buf)
		return -EINVAL;
	if (len < RTP_HDR_BYTES || buf[0] >> 6 != RTP_VERSION)
		return -EBADMSG;

	memset(&p, 0, sizeof(p));
	p.marker = buf[1] >> 7;
	p.pt = buf[1] & 0x7f;
	p.seq = rd16(buf + 2);
	p.ts = rd32(buf + 4);
	p.ssrc = rd32(buf + 8);
	p.n_csrc = buf[0] & 0x0f;

	off = RTP_HDR_BYTES + 4 * (size_t)p.n_csrc;
	if (off > len)
		return -EBADMSG;
	for (unsigned i = 0; i < p.n_csrc; i++)
		p.csrc[i] = rd32(buf + RTP_HDR_BYTES + 4 * i);

	if (buf[0] & 0x10) {
		/* Extension: 16-bit profile word, 16-bit length in words. */
		if (len - off < 4)
			return -EBADMSG;
		size_t ext_bytes = 4 * (size_t)rd16(buf + off + 2);
		p.ext_profile = rd16(buf + off);
		off += 4;
		if (len - off < ext_bytes)
			return -EBADMSG;
		p.ext = buf + off;
		p.ext_bytes = ext_bytes;
		off += ext_bytes;
	}

	end = len;
	if (buf[0] & 0x20) {
		/* The last octet counts the padding, itself included. */
		size_t pad = buf[len - 1];
		if (pad == 0 || pad > end - off)
			return -EBADMSG;
		end -= pad;
	}

	p.payload = buf + off;
	p.payload_bytes = end - off;
	*out = p;
	return 0;
}

int rtppkt_build(uint8_t *buf, size_t cap, const struct rtppkt *p)
{
	size_t hdr, total, csrc_end;

	if (!buf || !p || p->pt > 0x7f || p->n_csrc > RTPPKT_MAX_CSRC ||
	    (!p->payload && p->payload_bytes))
		return -EINVAL;
	/* RFC 3550 5.3.1: the length word counts 32-bit words. */
	if (p->ext && (p->ext_bytes % 4 || p->ext_bytes / 4 > 0xffff))
		return -EINVAL;
	csrc_end = RTP_HDR_BYTES + 4 * (size_t)p->n_csrc;
	hdr = csrc_end + (p->ext ? 4 + p->ext_bytes : 0);
	if (p->payload_bytes > RTPPKT_MAX_BYTES || cap < hdr ||
	    cap - hdr < p->payload_bytes)
		return -ENOSPC;
	total = hdr + p->payload_bytes;

	/* The payload may already sit in buf (encoded in place): move first. */
	if (p->payload_bytes)
		memmove(buf + hdr, p->payload, p->payload_bytes);
	buf[0] = (uint8_t)(RTP_VERSION << 6 | (p->ext ? 0x10 : 0) | p->n_csrc);
	buf[1] = (uint8_t)((p->marker ? 0x80 : 0) | p->pt);
	wr16(buf + 2, p->seq);
	wr32(buf + 4, p->ts);
	wr32(buf + 8, p->ssrc);
	for (unsigned i = 0; i < p->n_csrc; i++)
		wr32(buf + RTP_HDR_BYTES + 4 * i, p->csrc[i]);
	if (p->ext) {
		wr16(buf + csrc_end, p->ext_profile);
		wr16(buf + csrc_end + 2, (uint16_t)(p->ext_bytes / 4));
		if (p->ext_bytes)
			memcpy(buf + csrc_end + 4, p->ext, p->ext_bytes);
	}
	return (int)total;
}

bool rtppkt_is_rtcp(const uint8_t *buf, size_t len)
{
	/* RFC 5761 4: RTCP packet types 192..223 sit where RTP has M + PT. */
	return buf && len >= 4 && buf[0] >> 6 == RTP_VERSION && buf[1] >= 192 &&
	       buf[1] <= 223;
}
