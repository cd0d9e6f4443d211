/* rtcpkt.c: compound RTCP packets (RFC 3550 6), parsed and built.
 *
 * The parser walks a compound packet with the validity checks of RFC 3550
 * A.2: every packet is version 2, the first is an SR or RR, only the last
 * may carry padding, and the packet lengths add up exactly to the datagram.
 * It keeps what the stream needs (the sender's SSRC, the SR's clocks and
 * counts, up to four report blocks, whether a BYE came) and checks but
 * skips SDES; unknown packet types (APP, feedback, XR) are skipped whole.
 * The builder writes an SR (or an RR when we have sent nothing), an SDES
 * CNAME and, on request, a BYE. Written by hand because no library we link
 * offers RTCP outside a full RTP stack.
 *
 * Plain functions without state: any thread may call them. */
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#define RTCP_VERSION 2
#define RTCP_SR	     200
#define RTCP_RR	     201
#define RTCP_SDES    202
#define RTCP_BYE     203
#define SDES_END     0
#define SDES_CNAME   1
#define BLOCK_BYTES  24
#define MAX_BLOCKS   4 /* what struct rtcpkt_info holds */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void wr_hdr(uint8_t *p, unsigned count, uint8_t pt, size_t bytes)
{
	p[0] = (uint8_t)(RTCP_VERSION << 6 | count);
	p[1] = pt;
	p[2] = (uint8_t)((bytes / 4 - 1) >> 8);
	p[3] = (uint8_t)(bytes / 4 - 1);
}

static void parse_blocks(struct rtcpkt_info *in, const uint8_t *p,
			 unsigned count)
{
	for (unsigned i = 0; i < count && in->n_blocks < MAX_BLOCKS; i++) {
		struct rtcp_report_block *b = &in->block[in->n_blocks++];
		const uint8_t *q = p + i * BLOCK_BYTES;
		uint32_t lost = rd32(q + 4) & 0xffffff;

		b->ssrc = rd32(q);
		b->fraction_lost = q[4];
		/* Cumulative loss is a signed 24-bit number. */
		b->cum_lost =
		    lost & 0x800000 ? (int32_t)lost - 0x1000000 : (int32_t)lost;
		b->ext_highest_seq = rd32(q + 8);
		b->jitter = rd32(q + 12);
		b->lsr = rd32(q + 16);
		b->dlsr = rd32(q + 20);
	}
}

/* p and len cover one SR or RR, header included, padding excluded. */
static int parse_report(struct rtcpkt_info *in, const uint8_t *p, size_t len,
			bool first)
{
	unsigned count = p[0] & 0x1f;
	size_t fixed = p[1] == RTCP_SR ? 28 : 8;

	if (len < fixed || (len - fixed) / BLOCK_BYTES < count)
		return -EBADMSG;
	if (first) {
		in->ssrc = rd32(p + 4);
		if (p[1] == RTCP_SR) {
			in->has_sr = true;
			in->ntp = (uint64_t)rd32(p + 8) << 32 | rd32(p + 12);
			in->rtp_ts = rd32(p + 16);
			in->packets = rd32(p + 20);
			in->octets = rd32(p + 24);
		}
	}
	parse_blocks(in, p + fixed, count);
	return 0;
}

/* Checks that every SDES chunk and item lies inside the packet. */
static int check_sdes(const uint8_t *p, size_t len)
{
	unsigned count = p[0] & 0x1f;
	size_t off = 4;

	for (unsigned i = 0; i < count; i++) {
		if (len - off < 4)
			return -EBADMSG;
		off += 4; /* SSRC/CSRC */
		for (;;) {
			if (off >= len)
				return -EBADMSG;
			if (p[off] == SDES_END)
				break;
			if (len - off < 2 || len - off - 2 < p[off + 1])
				return -EBADMSG;
			off += 2 + (size_t)p[off + 1];
		}
		/* The end item and null padding to the next 32-bit word. */
		off = (off + 4) & ~(size_t)3;
		if (off > len)
			return -EBADMSG;
	}
	return 0;
}

static int check_bye(const uint8_t *p, size_t len)
{
	size_t off = 4 + 4 * (size_t)(p[0] & 0x1f);

	if (off > len)
		return -EBADMSG;
	if (off < len && len - off - 1 < p[off]) /* optional reason */
		return -EBADMSG;
	return 0;
}

int rtcpkt_parse(struct rtcpkt_info *out, const uint8_t *buf, size_t len)
{
	struct rtcpkt_info in;
	size_t off = 0;
	int err;

	if (!out || !buf)
		return -EINVAL;
	memset(&in, 0, sizeof(in));
	if (len < 4)
		return -EBADMSG;

	while (off < len) {
		const uint8_t *p = buf + off;
		size_t left = len - off, plen, body;

		if (left < 4 || p[0] >> 6 != RTCP_VERSION)
			return -EBADMSG;
		plen = 4 * ((size_t)rd16(p + 2) + 1);
		if (plen > left)
			return -EBADMSG;
		body = plen;
		if (p[0] & 0x20) {
			/* Padding only in the last packet (RFC 3550 A.2). */
			if (plen != left || p[plen - 1] == 0 ||
			    p[plen - 1] > plen - 4)
				return -EBADMSG;
			body -= p[plen - 1];
		}
		if (off == 0 && p[1] != RTCP_SR && p[1] != RTCP_RR)
			return -EBADMSG;

		switch (p[1]) {
		case RTCP_SR:
		case RTCP_RR:
			err = parse_report(&in, p, body, off == 0);
			break;
		case RTCP_SDES:
			err = check_sdes(p, body);
			break;
		case RTCP_BYE:
			err = check_bye(p, body);
			in.bye = true;
			break;
		default:
			err = 0; /* APP, feedback, XR...: not ours to read */
			break;
		}
		if (err)
			return err;
		off += plen;
	}
	*out = in;
	return 0;
}

static void build_block(uint8_t *q, const struct rtcp_report_block *b)
{
	int32_t lost = b->cum_lost;

	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	wr32(q, b->ssrc);
	wr32(q + 4,
	     (uint32_t)b->fraction_lost << 24 | ((uint32_t)lost & 0xffffff));
	wr32(q + 8, b->ext_highest_seq);
	wr32(q + 12, b->jitter);
	wr32(q + 16, b->lsr);
	wr32(q + 20, b->dlsr);
}

int rtcpkt_build(uint8_t *buf, size_t cap, const struct rtcpkt_info *in,
		 const char *cname)
{
	bool sr;
	size_t cname_len, rep, sdes, bye, off;

	if (!buf || !in || !cname || in->n_blocks > MAX_BLOCKS)
		return -EINVAL;
	cname_len = strlen(cname);
	if (cname_len > 255)
		return -EINVAL;

	sr = in->packets > 0;
	rep = (sr ? 28 : 8) + BLOCK_BYTES * (size_t)in->n_blocks;
	/* Header, SSRC, CNAME item, then at least one null octet. */
	sdes = (4 + 4 + 2 + cname_len + 1 + 3) & ~(size_t)3;
	bye = in->bye ? 8 : 0;
	if (cap < rep + sdes + bye)
		return -ENOSPC;

	wr_hdr(buf, in->n_blocks, sr ? RTCP_SR : RTCP_RR, rep);
	wr32(buf + 4, in->ssrc);
	off = 8;
	if (sr) {
		wr32(buf + 8, (uint32_t)(in->ntp >> 32));
		wr32(buf + 12, (uint32_t)in->ntp);
		wr32(buf + 16, in->rtp_ts);
		wr32(buf + 20, in->packets);
		wr32(buf + 24, in->octets);
		off = 28;
	}
	for (unsigned i = 0; i < in->n_blocks; i++, off += BLOCK_BYTES)
		build_block(buf + off, &in->block[i]);

	memset(buf + off, 0, sdes);
	wr_hdr(buf + off, 1, RTCP_SDES, sdes);
	wr32(buf + off + 4, in->ssrc);
	buf[off + 8] = SDES_CNAME;
	buf[off + 9] = (uint8_t)cname_len;
	memcpy(buf + off + 10, cname, cname_len);
	off += sdes;

	if (bye) {
		wr_hdr(buf + off, 1, RTCP_BYE, bye);
		wr32(buf + off + 4, in->ssrc);
		off += bye;
	}
	return (int)off;
}
