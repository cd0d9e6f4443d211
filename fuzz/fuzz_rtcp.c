/* fuzz_rtcp.c: hostile datagrams through the compound RTCP parser
 * (rtp/rtcpkt.c).
 *
 * Promises checked: the parser never reads outside the datagram (ASan),
 * keeps at most four report blocks with cumulative losses in the 24-bit
 * signed range, and what it parses builds back (rtcpkt_build) into a
 * packet that parses to the same sender, blocks and BYE. An SR that
 * reports no packets is rebuilt as an RR, as the builder promises. */
#include "fuzz/fuzz.h"
#include "rtp/rtp.h"

#include <string.h>

#define T "rtcp"

static bool same_block(const struct rtcp_report_block *a,
		       const struct rtcp_report_block *b)
{
	return a->ssrc == b->ssrc && a->fraction_lost == b->fraction_lost &&
	       a->cum_lost == b->cum_lost &&
	       a->ext_highest_seq == b->ext_highest_seq &&
	       a->jitter == b->jitter && a->lsr == b->lsr && a->dlsr == b->dlsr;
}

static void round_trip(const struct rtcpkt_info *in)
{
	uint8_t buf[512];
	struct rtcpkt_info out;
	int n = rtcpkt_build(buf, sizeof(buf), in, "fuzz@127.0.0.1");

	FUZZ_CHECK(T, n > 0 && n % 4 == 0);
	FUZZ_CHECK(T, rtcpkt_parse(&out, buf, (size_t)n) == 0);
	FUZZ_CHECK(T, out.ssrc == in->ssrc && out.bye == in->bye);
	FUZZ_CHECK(T, out.n_blocks == in->n_blocks);
	for (unsigned i = 0; i < in->n_blocks; i++)
		FUZZ_CHECK(T, same_block(&out.block[i], &in->block[i]));
	FUZZ_CHECK(T, out.has_sr == (in->packets > 0));
	if (out.has_sr)
		FUZZ_CHECK(T, out.ntp == in->ntp && out.rtp_ts == in->rtp_ts &&
				  out.packets == in->packets &&
				  out.octets == in->octets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtcpkt_info in;

	if (rtcpkt_parse(&in, data, size) != 0)
		return 0;
	FUZZ_CHECK(T, size >= 8 && size % 4 == 0);
	FUZZ_CHECK(T, in.n_blocks <= 4);
	for (unsigned i = 0; i < in.n_blocks; i++)
		FUZZ_CHECK(T, in.block[i].cum_lost >= -0x800000 &&
				  in.block[i].cum_lost <= 0x7fffff);
	if (!in.has_sr)
		FUZZ_CHECK(T, in.packets == 0 && in.ntp == 0);
	round_trip(&in);
	return 0;
}
