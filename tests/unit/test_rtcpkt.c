/* test_rtcpkt.c: compound RTCP parse and build (rtp/rtcpkt.c). */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

static struct rtcpkt_info sample(bool sr, unsigned n_blocks)
{
	struct rtcpkt_info in = {
	    .ssrc = 0x11223344,
	    .ntp = 0xe1234567890abcdeull,
	    .rtp_ts = 160000,
	    .packets = sr ? 250 : 0,
	    .octets = sr ? 40000 : 0,
	    .n_blocks = n_blocks,
	};

	for (unsigned i = 0; i < n_blocks; i++) {
		in.block[i] = (struct rtcp_report_block){
		    .ssrc = 0xa0000000 + i,
		    .fraction_lost = (uint8_t)(10 + i),
		    .cum_lost = i == 1 ? -3 : (int32_t)(100 * i),
		    .ext_highest_seq = 0x10000 + i,
		    .jitter = 80 + i,
		    .lsr = 0x12345678,
		    .dlsr = 65536,
		};
	}
	return in;
}

static void check_blocks(const struct rtcpkt_info *a,
			 const struct rtcpkt_info *b)
{
	CU_ASSERT_EQUAL(a->n_blocks, b->n_blocks);
	for (unsigned i = 0; i < a->n_blocks && i < b->n_blocks; i++) {
		CU_ASSERT_EQUAL(a->block[i].ssrc, b->block[i].ssrc);
		CU_ASSERT_EQUAL(a->block[i].fraction_lost,
				b->block[i].fraction_lost);
		CU_ASSERT_EQUAL(a->block[i].cum_lost, b->block[i].cum_lost);
		CU_ASSERT_EQUAL(a->block[i].ext_highest_seq,
				b->block[i].ext_highest_seq);
		CU_ASSERT_EQUAL(a->block[i].jitter, b->block[i].jitter);
		CU_ASSERT_EQUAL(a->block[i].lsr, b->block[i].lsr);
		CU_ASSERT_EQUAL(a->block[i].dlsr, b->block[i].dlsr);
	}
}

static void test_sr_round_trip(void)
{
	struct rtcpkt_info in = sample(true, 2), out;
	uint8_t buf[256];
	int n = rtcpkt_build(buf, sizeof(buf), &in, "tutti@example.org");

	/* SR 28 + 2 * 24, SDES 4 + 4 + 2 + 17 + 1 -> 28. */
	CU_ASSERT_EQUAL(n, 76 + 28);
	CU_ASSERT_EQUAL(buf[0], 0x82);
	CU_ASSERT_EQUAL(buf[1], 200);
	CU_ASSERT_EQUAL(buf[76 + 1], 202);
	CU_ASSERT_EQUAL(memcmp(buf + 76 + 10, "tutti@example.org", 17), 0);
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, buf, (size_t)n), 0);
	CU_ASSERT_TRUE(out.has_sr);
	CU_ASSERT_FALSE(out.bye);
	CU_ASSERT_EQUAL(out.ssrc, in.ssrc);
	CU_ASSERT_EQUAL(out.ntp, in.ntp);
	CU_ASSERT_EQUAL(out.rtp_ts, in.rtp_ts);
	CU_ASSERT_EQUAL(out.packets, 250);
	CU_ASSERT_EQUAL(out.octets, 40000);
	check_blocks(&in, &out);
}

static void test_rr_round_trip(void)
{
	struct rtcpkt_info in = sample(false, 4), out;
	uint8_t buf[256];
	/* Empty CNAME: the SDES chunk is SSRC, type, 0, null, padding. */
	int n = rtcpkt_build(buf, sizeof(buf), &in, "");

	CU_ASSERT_EQUAL(n, 8 + 4 * 24 + 12);
	CU_ASSERT_EQUAL(buf[1], 201);
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, buf, (size_t)n), 0);
	CU_ASSERT_FALSE(out.has_sr);
	CU_ASSERT_EQUAL(out.ssrc, in.ssrc);
	check_blocks(&in, &out);
}

static void test_bye_and_cname_lengths(void)
{
	struct rtcpkt_info in = sample(false, 0), out;
	uint8_t buf[512];
	char cname[256];

	in.bye = true;
	for (size_t len = 0; len < sizeof(cname); len++) {
		memset(cname, 'x', len);
		cname[len] = 0;
		int n = rtcpkt_build(buf, sizeof(buf), &in, cname);
		CU_ASSERT_TRUE(n > 0 && n % 4 == 0);
		CU_ASSERT_EQUAL(rtcpkt_parse(&out, buf, (size_t)n), 0);
		CU_ASSERT_TRUE(out.bye);
		CU_ASSERT_EQUAL(out.n_blocks, 0);
	}
	char big[300];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CU_ASSERT_EQUAL(rtcpkt_build(buf, sizeof(buf), &in, big), -EINVAL);
}

static void test_build_space(void)
{
	struct rtcpkt_info in = sample(true, 1);
	uint8_t buf[128];
	int n = rtcpkt_build(buf, sizeof(buf), &in, "a");

	CU_ASSERT_TRUE(n > 0);
	for (int cap = 0; cap < n; cap++)
		CU_ASSERT_EQUAL(rtcpkt_build(buf, (size_t)cap, &in, "a"),
				-ENOSPC);
	CU_ASSERT_EQUAL(rtcpkt_build(buf, (size_t)n, &in, "a"), n);
	in.n_blocks = 5;
	CU_ASSERT_EQUAL(rtcpkt_build(buf, sizeof(buf), &in, "a"), -EINVAL);
	in.n_blocks = 1;
	CU_ASSERT_EQUAL(rtcpkt_build(buf, sizeof(buf), &in, NULL), -EINVAL);
}

static void test_cum_lost_clamp(void)
{
	struct rtcpkt_info in = sample(false, 2), out;
	uint8_t buf[128];

	in.block[0].cum_lost = 0x7fffffff;
	in.block[1].cum_lost = -0x7fffffff;
	int n = rtcpkt_build(buf, sizeof(buf), &in, "c");
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, buf, (size_t)n), 0);
	CU_ASSERT_EQUAL(out.block[0].cum_lost, 0x7fffff);
	CU_ASSERT_EQUAL(out.block[1].cum_lost, -0x800000);
}

static void test_every_truncation(void)
{
	struct rtcpkt_info in = sample(true, 3), out;
	uint8_t buf[256];
	int n = rtcpkt_build(buf, sizeof(buf), &in, "cut@here");

	CU_ASSERT_TRUE(n > 0);
	for (int len = 0; len < n; len++) {
		memset(&out, 0x5a, sizeof(out));
		if (len == 28 + 3 * 24) {
			/* Cut at the packet boundary: a lone SR is valid. */
			CU_ASSERT_EQUAL(rtcpkt_parse(&out, buf, (size_t)len),
					0);
			continue;
		}
		CU_ASSERT_EQUAL(rtcpkt_parse(&out, buf, (size_t)len), -EBADMSG);
		CU_ASSERT_EQUAL(out.ssrc, 0x5a5a5a5a);
	}
}

static void test_first_must_be_report(void)
{
	/* An SDES alone, then a BYE alone. */
	uint8_t sdes[] = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 1, 'a', 0};
	uint8_t bye[] = {0x81, 203, 0, 1, 0, 0, 0, 1};
	struct rtcpkt_info out;

	CU_ASSERT_EQUAL(rtcpkt_parse(&out, sdes, sizeof(sdes)), -EBADMSG);
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, bye, sizeof(bye)), -EBADMSG);
}

static void test_skip_unknown(void)
{
	/* RR (no blocks), APP (12 octets), PSFB, then BYE with a reason. */
	uint8_t b[] = {
	    0x80, 201, 0, 1, 0, 0, 0, 7,		     /* RR */
	    0x80, 204, 0, 2, 0, 0, 0, 7, 'n', 'a', 'm', 'e', /* APP */
	    0x81, 206, 0, 2, 0, 0, 0, 7, 0,   0,   0,	9,   /* PLI */
	    0x81, 203, 0, 3, 0, 0, 0, 7, 5,   'b', 'y', 'e', '!', 0, 0, 0,
	};
	struct rtcpkt_info out;

	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(out.ssrc, 7);
	CU_ASSERT_TRUE(out.bye);
	CU_ASSERT_FALSE(out.has_sr);

	b[40] = 8; /* BYE reason longer than the packet */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
	b[40] = 5;
	b[10] = 0; /* APP length 0 words: the next header lands mid-APP */
	b[11] = 0;
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
}

static void test_bad_headers(void)
{
	struct rtcpkt_info in = sample(true, 1), out;
	uint8_t buf[128], b[128] = {0};
	int n = rtcpkt_build(buf, sizeof(buf), &in, "v");

	/* Version 1 in the first, then in the second packet. */
	memcpy(b, buf, (size_t)n);
	b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, (size_t)n), -EBADMSG);
	memcpy(b, buf, (size_t)n);
	b[52] = (uint8_t)((b[52] & 0x3f) | 0xc0);
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, (size_t)n), -EBADMSG);
	/* Report count larger than the SR holds. */
	memcpy(b, buf, (size_t)n);
	b[0] = 0x82;
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, (size_t)n), -EBADMSG);
	/* Length past the end. */
	memcpy(b, buf, (size_t)n);
	b[3] = 40;
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, (size_t)n), -EBADMSG);
	/* Trailing octets that are not a packet. */
	memcpy(b, buf, (size_t)n);
	b[n] = 0x80;
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, (size_t)n + 2), -EBADMSG);
	/* Padding in the first of two packets. */
	memcpy(b, buf, (size_t)n);
	b[0] |= 0x20;
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, (size_t)n), -EBADMSG);
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, 0), -EBADMSG);
	CU_ASSERT_EQUAL(rtcpkt_parse(NULL, buf, (size_t)n), -EINVAL);
}

static void test_padding_last(void)
{
	/* RR with no blocks, then SDES with a CNAME and 4 octets of
	 * padding. */
	uint8_t b[] = {
	    0x80, 201, 0, 1, 0, 0, 0,	7, 0xa1, 202, 0, 3,
	    0,	  0,   0, 7, 1, 1, 'a', 0, 0,	 0,   0, 4,
	};
	struct rtcpkt_info out;

	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), 0);
	b[sizeof(b) - 1] = 0; /* zero padding count */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
	b[sizeof(b) - 1] = 13; /* more than the packet body */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
	b[sizeof(b) - 1] = 8; /* eats the item's terminator */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
}

static void test_sdes_items(void)
{
	uint8_t b[] = {
	    0x80, 201, 0, 1, 0, 0, 0, 7, /* RR */
	    0x81, 202, 0, 3, 0, 0, 0, 7, 1, 3, 'a', 'b', 'c', 0, 0, 0,
	};
	struct rtcpkt_info out;

	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), 0);
	b[17] = 7; /* item overruns the packet */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
	b[17] = 6; /* item fits, but leaves no end item */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
	b[17] = 3;
	b[8] = 0x82; /* two chunks claimed, one present */
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), -EBADMSG);
}

static void test_many_blocks(void)
{
	/* An RR with 6 blocks: the first four are kept. */
	uint8_t b[8 + 6 * 24] = {0x86, 201, 0, 6 * 6 + 1, 0, 0, 0, 9};
	struct rtcpkt_info out;

	for (unsigned i = 0; i < 6; i++)
		b[8 + 24 * i + 3] = (uint8_t)i;
	CU_ASSERT_EQUAL(rtcpkt_parse(&out, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(out.n_blocks, 4);
	CU_ASSERT_EQUAL(out.block[3].ssrc, 3);
}

static const struct unit_test tests[] = {
    {"sr round trip", test_sr_round_trip},
    {"rr round trip", test_rr_round_trip},
    {"bye and cname lengths", test_bye_and_cname_lengths},
    {"build space", test_build_space},
    {"cumulative loss clamp", test_cum_lost_clamp},
    {"every truncation", test_every_truncation},
    {"first must be sr or rr", test_first_must_be_report},
    {"skip unknown types", test_skip_unknown},
    {"bad headers", test_bad_headers},
    {"padding in the last packet", test_padding_last},
    {"sdes items", test_sdes_items},
    {"more than four blocks", test_many_blocks},
    {NULL, NULL},
};

UNIT_MAIN("rtcpkt", tests)
