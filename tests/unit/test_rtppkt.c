/* test_rtppkt.c: RTP header parse and build (rtp/rtppkt.c), including every
 * way a packet can lie about its own lengths. */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

static const uint8_t payload[] = {0xde, 0xad, 0xbe, 0xef, 0x01};

static void test_round_trip(void)
{
	struct rtppkt p = {
	    .pt = 111,
	    .marker = true,
	    .seq = 0xfffe,
	    .ts = 0xfedcba98,
	    .ssrc = 0x12345678,
	    .payload = payload,
	    .payload_bytes = sizeof(payload),
	};
	struct rtppkt q;
	uint8_t buf[64];
	int n = rtppkt_build(buf, sizeof(buf), &p);

	CU_ASSERT_EQUAL(n, 12 + (int)sizeof(payload));
	CU_ASSERT_EQUAL(buf[0], 0x80);
	CU_ASSERT_EQUAL(buf[1], 0x80 | 111);
	CU_ASSERT_EQUAL(rtppkt_parse(&q, buf, (size_t)n), 0);
	CU_ASSERT_EQUAL(q.pt, 111);
	CU_ASSERT_TRUE(q.marker);
	CU_ASSERT_EQUAL(q.seq, 0xfffe);
	CU_ASSERT_EQUAL(q.ts, 0xfedcba98);
	CU_ASSERT_EQUAL(q.ssrc, 0x12345678);
	CU_ASSERT_EQUAL(q.n_csrc, 0);
	CU_ASSERT_EQUAL(q.payload, buf + 12);
	CU_ASSERT_EQUAL(q.payload_bytes, sizeof(payload));
	CU_ASSERT_EQUAL(memcmp(q.payload, payload, sizeof(payload)), 0);
}

static void test_csrc(void)
{
	struct rtppkt p = {.pt = 0, .seq = 1, .ts = 2, .ssrc = 3};
	struct rtppkt q;
	uint8_t buf[128];

	p.n_csrc = RTPPKT_MAX_CSRC;
	for (unsigned i = 0; i < RTPPKT_MAX_CSRC; i++)
		p.csrc[i] = 0x1000 + i;
	p.payload = payload;
	p.payload_bytes = sizeof(payload);
	int n = rtppkt_build(buf, sizeof(buf), &p);
	CU_ASSERT_EQUAL(n, 12 + 4 * RTPPKT_MAX_CSRC + (int)sizeof(payload));
	CU_ASSERT_EQUAL(rtppkt_parse(&q, buf, (size_t)n), 0);
	CU_ASSERT_EQUAL(q.n_csrc, RTPPKT_MAX_CSRC);
	for (unsigned i = 0; i < RTPPKT_MAX_CSRC; i++)
		CU_ASSERT_EQUAL(q.csrc[i], 0x1000 + i);
	CU_ASSERT_EQUAL(q.payload_bytes, sizeof(payload));
	CU_ASSERT_EQUAL(q.payload[0], 0xde);

	p.n_csrc = RTPPKT_MAX_CSRC + 1;
	CU_ASSERT_EQUAL(rtppkt_build(buf, sizeof(buf), &p), -EINVAL);
}

static void test_build_limits(void)
{
	struct rtppkt p = {.payload = payload, .payload_bytes = 5};
	uint8_t buf[64];

	CU_ASSERT_EQUAL(rtppkt_build(buf, 16, &p), -ENOSPC);
	CU_ASSERT_EQUAL(rtppkt_build(buf, 17, &p), 17);
	CU_ASSERT_EQUAL(rtppkt_build(buf, 11, &p), -ENOSPC);
	p.pt = 128;
	CU_ASSERT_EQUAL(rtppkt_build(buf, sizeof(buf), &p), -EINVAL);
}

static void test_build_in_place(void)
{
	uint8_t buf[64];
	struct rtppkt p = {.pt = 8, .payload = buf + 12, .payload_bytes = 4};
	struct rtppkt q;

	memcpy(buf + 12, "abcd", 4);
	CU_ASSERT_EQUAL(rtppkt_build(buf, sizeof(buf), &p), 16);
	CU_ASSERT_EQUAL(rtppkt_parse(&q, buf, 16), 0);
	CU_ASSERT_EQUAL(memcmp(q.payload, "abcd", 4), 0);
}

/* Version 2, X and P set, two CSRCs, a 2-word extension, payload "hi",
 * three octets of padding. */
static const uint8_t full[] = {
    0xb2, 0x00, 0x00, 0x07, 0, 0, 0, 9,	   0, 0, 0, 1, /* header */
    0,	  0,	0,    0xaa, 0, 0, 0, 0xbb,	       /* CSRCs */
    0xbe, 0xde, 0x00, 0x02, 1, 2, 3, 4,	   5, 6, 7, 8, /* extension */
    'h',  'i',					       /* payload */
    0,	  0,	3,				       /* padding */
};

static void test_extension_and_padding(void)
{
	struct rtppkt q;

	CU_ASSERT_EQUAL(rtppkt_parse(&q, full, sizeof(full)), 0);
	CU_ASSERT_EQUAL(q.n_csrc, 2);
	CU_ASSERT_EQUAL(q.csrc[0], 0xaa);
	CU_ASSERT_EQUAL(q.csrc[1], 0xbb);
	CU_ASSERT_EQUAL(q.seq, 7);
	CU_ASSERT_EQUAL(q.ts, 9);
	CU_ASSERT_EQUAL(q.payload, full + 32);
	CU_ASSERT_EQUAL(q.payload_bytes, 2);
}

static void test_padding_only(void)
{
	/* Padding may eat the whole payload (RFC 3550 allows it). */
	uint8_t b[16] = {0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4};
	struct rtppkt q;

	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(q.payload_bytes, 0);
	b[15] = 5; /* into the header */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
	b[15] = 0; /* a zero count is not valid padding */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
}

static void test_every_truncation(void)
{
	struct rtppkt q;

	/* Cut anywhere, the lengths no longer add up: the header, CSRC list
	 * or extension overruns, or the last octet read as the padding count
	 * ('h', 'i', 0 or an extension octet) is invalid. Nothing is
	 * written on failure. */
	for (size_t len = 0; len < sizeof(full); len++) {
		memset(&q, 0x5a, sizeof(q));
		CU_ASSERT_EQUAL(rtppkt_parse(&q, full, len), -EBADMSG);
		CU_ASSERT_EQUAL(q.ssrc, 0x5a5a5a5a);
	}
}

static void test_truncation_plain(void)
{
	uint8_t buf[64];
	struct rtppkt p = {.pt = 0, .payload = payload, .payload_bytes = 5};
	struct rtppkt q;
	int n;

	p.n_csrc = 3;
	n = rtppkt_build(buf, sizeof(buf), &p);
	CU_ASSERT_EQUAL(n, 12 + 12 + 5);
	/* Shorter than the CSRC list: bad; past it: a shorter payload. */
	for (int len = 0; len < n; len++) {
		int err = rtppkt_parse(&q, buf, (size_t)len);
		if (len < 24) {
			CU_ASSERT_EQUAL(err, -EBADMSG);
		} else {
			CU_ASSERT_EQUAL(err, 0);
			CU_ASSERT_EQUAL(q.payload_bytes, (size_t)len - 24);
		}
	}
}

static void test_bad_version(void)
{
	uint8_t b[sizeof(full)];
	struct rtppkt q;

	for (unsigned v = 0; v < 4; v++) {
		memcpy(b, full, sizeof(b));
		b[0] = (uint8_t)((b[0] & 0x3f) | v << 6);
		CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)),
				v == 2 ? 0 : -EBADMSG);
	}
}

static void test_csrc_overflow(void)
{
	uint8_t b[12 + 4 * 14] = {0x8f};
	struct rtppkt q;

	/* CC = 15 needs 72 octets; there are 68. */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
	b[0] = 0x8e;
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(q.payload_bytes, 0);
}

static void test_ext_overflow(void)
{
	uint8_t b[sizeof(full)];
	struct rtppkt q;

	memcpy(b, full, sizeof(b));
	b[22] = 0xff; /* extension length 0xff02 words */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
	memcpy(b, full, sizeof(b));
	b[23] = 4; /* 16 octets: runs into the padding */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
	b[23] = 3; /* 12 octets: ends 1 octet before the end, padding 3 */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
	/* X set but not even the 4-octet extension header. */
	uint8_t h[14] = {0x90};
	CU_ASSERT_EQUAL(rtppkt_parse(&q, h, sizeof(h)), -EBADMSG);
}

static void test_padding_overflow(void)
{
	uint8_t b[sizeof(full)];
	struct rtppkt q;

	memcpy(b, full, sizeof(b));
	b[sizeof(b) - 1] = 5; /* payload 2 + padding 3 = 5: allowed */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(q.payload_bytes, 0);
	b[sizeof(b) - 1] = 6; /* reaches into the extension */
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
	b[sizeof(b) - 1] = 255;
	CU_ASSERT_EQUAL(rtppkt_parse(&q, b, sizeof(b)), -EBADMSG);
}

static void test_is_rtcp(void)
{
	uint8_t b[8] = {0x80, 200, 0, 1};

	CU_ASSERT_TRUE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 192;
	CU_ASSERT_TRUE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 223;
	CU_ASSERT_TRUE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 224;
	CU_ASSERT_FALSE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 191;
	CU_ASSERT_FALSE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 0; /* PCMU */
	CU_ASSERT_FALSE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 0x80 | 111; /* Opus with marker */
	CU_ASSERT_FALSE(rtppkt_is_rtcp(b, sizeof(b)));
	b[1] = 201;
	CU_ASSERT_FALSE(rtppkt_is_rtcp(b, 3));
	b[0] = 0x00; /* STUN */
	CU_ASSERT_FALSE(rtppkt_is_rtcp(b, sizeof(b)));
	CU_ASSERT_FALSE(rtppkt_is_rtcp(NULL, 0));
}

static void test_args(void)
{
	struct rtppkt q;

	CU_ASSERT_EQUAL(rtppkt_parse(NULL, full, sizeof(full)), -EINVAL);
	CU_ASSERT_EQUAL(rtppkt_parse(&q, NULL, 12), -EINVAL);
	CU_ASSERT_EQUAL(rtppkt_build(NULL, 10, &q), -EINVAL);
}

static const struct unit_test tests[] = {
    {"round trip", test_round_trip},
    {"csrc", test_csrc},
    {"build limits", test_build_limits},
    {"build in place", test_build_in_place},
    {"extension and padding", test_extension_and_padding},
    {"padding only", test_padding_only},
    {"every truncation", test_every_truncation},
    {"truncation without padding", test_truncation_plain},
    {"bad version", test_bad_version},
    {"csrc count overflow", test_csrc_overflow},
    {"extension overflow", test_ext_overflow},
    {"padding overflow", test_padding_overflow},
    {"is rtcp", test_is_rtcp},
    {"bad arguments", test_args},
    {NULL, NULL},
};

UNIT_MAIN("rtppkt", tests)
