/* test_rtpext.c: RTP header extension elements (rtp/rtpext.c, RFC 8285)
 * and the RFC 6464 audio level: one-byte and two-byte forms, padding,
 * the reserved ID 15, and elements that lie about their length. Written:
 * the block's byte layout and padding to 32 bits, alone or beside other
 * elements, in either form; RFC 6465's levels; and a whole packet with
 * CSRCs and levels built and parsed back. */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

/* A packet with extension profile and ext (a multiple of 4 bytes). */
static size_t make(uint8_t *buf, uint16_t profile, const uint8_t *ext,
		   size_t ext_bytes)
{
	static const uint8_t hdr[12] = {0x90, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3};
	memcpy(buf, hdr, 12);
	buf[12] = (uint8_t)(profile >> 8);
	buf[13] = (uint8_t)profile;
	buf[14] = (uint8_t)(ext_bytes / 4 >> 8);
	buf[15] = (uint8_t)(ext_bytes / 4);
	memcpy(buf + 16, ext, ext_bytes);
	buf[16 + ext_bytes] = 0xaa; /* one byte of payload */
	return 17 + ext_bytes;
}

static int level_of(uint16_t profile, const uint8_t *ext, size_t n, unsigned id,
		    uint8_t *level, bool *vad)
{
	uint8_t buf[128];
	struct rtppkt p;
	size_t len = make(buf, profile, ext, n);
	CU_ASSERT_FATAL(rtppkt_parse(&p, buf, len) == 0);
	CU_ASSERT_EQUAL(p.payload_bytes, 1);
	CU_ASSERT_EQUAL(p.payload[0], 0xaa);
	CU_ASSERT_EQUAL(p.ext_bytes, n);
	return rtpext_audio_level(&p, id, level, vad);
}

static void test_one_byte(void)
{
	/* padding, id 2 (2 bytes), id 1 level V=1 42, padding */
	static const uint8_t ext[8] = {0x00, 0x21,	0x11, 0x22,
				       0x10, 0x80 | 42, 0x00, 0x00};
	uint8_t level = 0;
	bool vad = false;

	CU_ASSERT_EQUAL(level_of(0xbede, ext, 8, 1, &level, &vad), 0);
	CU_ASSERT_EQUAL(level, 42);
	CU_ASSERT_TRUE(vad);
	CU_ASSERT_EQUAL(level_of(0xbede, ext, 8, 3, &level, &vad), -ENOENT);
	CU_ASSERT_EQUAL(level_of(0xbede, ext, 8, 0, &level, &vad), -EINVAL);
	CU_ASSERT_EQUAL(level_of(0xbede, ext, 8, 256, &level, &vad), -EINVAL);
	/* id 15 is not an identifier in the one-byte form */
	CU_ASSERT_EQUAL(level_of(0xbede, ext, 8, 15, &level, &vad), -ENOENT);
}

static void test_one_byte_stop(void)
{
	/* ID 15 ends the walk: the level after it is not read. */
	static const uint8_t ext[4] = {0xf0, 0x10, 0x7f, 0x00};
	uint8_t level;

	CU_ASSERT_EQUAL(level_of(0xbede, ext, 4, 1, &level, NULL), -ENOENT);
}

static void test_two_byte(void)
{
	/* id 200 (0 bytes), padding, id 1 (1 byte: V=0 level 127), pad */
	static const uint8_t ext[8] = {200, 0, 0x00, 1, 1, 127, 0, 0};
	uint8_t level = 0;
	bool vad = true;

	CU_ASSERT_EQUAL(level_of(0x1000, ext, 8, 1, &level, &vad), 0);
	CU_ASSERT_EQUAL(level, 127);
	CU_ASSERT_FALSE(vad);
	/* the app bits of 0x100x do not matter */
	CU_ASSERT_EQUAL(level_of(0x100f, ext, 8, 1, &level, &vad), 0);
	/* an empty element is no level */
	CU_ASSERT_EQUAL(level_of(0x1000, ext, 8, 200, &level, &vad), -EBADMSG);
}

static void test_other_profile(void)
{
	static const uint8_t ext[4] = {0x10, 0x05, 0, 0};
	uint8_t level;

	CU_ASSERT_EQUAL(level_of(0x1234, ext, 4, 1, &level, NULL), -ENOENT);
	/* no extension at all */
	static const uint8_t plain[13] = {0x80, 0, 0, 1, 0, 0, 0,
					  2,	0, 0, 0, 3, 9};
	struct rtppkt p;
	CU_ASSERT_FATAL(rtppkt_parse(&p, plain, sizeof(plain)) == 0);
	CU_ASSERT_PTR_NULL(p.ext);
	CU_ASSERT_EQUAL(rtpext_audio_level(&p, 1, &level, NULL), -ENOENT);
	CU_ASSERT_EQUAL(rtpext_audio_level(NULL, 1, &level, NULL), -EINVAL);
}

static void test_hostile(void)
{
	/* one-byte: id 1 claims 16 bytes in a 4-byte block */
	static const uint8_t a[4] = {0x1f, 0, 0, 0};
	/* one-byte: id 2 claims 4 bytes, 3 left, before id 1 */
	static const uint8_t b[4] = {0x23, 0, 0, 0x10};
	/* two-byte: id 1 claims 255 bytes */
	static const uint8_t c[4] = {1, 255, 0, 0};
	/* two-byte: an id with no length byte at the end */
	static const uint8_t d[4] = {0, 0, 0, 7};
	uint8_t level;

	CU_ASSERT_EQUAL(level_of(0xbede, a, 4, 1, &level, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(level_of(0xbede, b, 4, 1, &level, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(level_of(0x1000, c, 4, 1, &level, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(level_of(0x1000, d, 4, 1, &level, NULL), -EBADMSG);

	/* a block longer than the packet is caught by the parser */
	uint8_t buf[64];
	struct rtppkt p;
	size_t len = make(buf, 0xbede, a, 4);
	buf[15] = 9;
	CU_ASSERT_EQUAL(rtppkt_parse(&p, buf, len), -EBADMSG);
}

static void test_padding_after(void)
{
	/* RTP padding after the extension leaves the extension whole. */
	static const uint8_t ext[4] = {0x10, 30, 0, 0};
	uint8_t buf[64];
	struct rtppkt p;
	uint8_t level;
	size_t len = make(buf, 0xbede, ext, 4);
	buf[0] |= 0x20;
	buf[len++] = 0;
	buf[len++] = 0;
	buf[len++] = 3;
	CU_ASSERT_FATAL(rtppkt_parse(&p, buf, len) == 0);
	CU_ASSERT_EQUAL(p.payload_bytes, 1);
	CU_ASSERT_EQUAL(rtpext_audio_level(&p, 1, &level, NULL), 0);
	CU_ASSERT_EQUAL(level, 30);
}

/* RFC 6465's element: id 3, three levels: one header byte (len - 1 = 2),
 * the levels, no padding needed (4 bytes); one level: 2 bytes padded to
 * 4; fifteen: 16 bytes padded to 16... plus the header byte, 20. */
static void test_write_levels(void)
{
	uint8_t buf[32];
	uint16_t profile = 0;
	const uint8_t lv[15] = {10, 0,	127, 200, 5,  6,  7, 8,
				9,  10, 11,  12,  13, 14, 15};
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 3, lv, 3, &profile), 4);
	CU_ASSERT_EQUAL(profile, 0xbede);
	const uint8_t three[4] = {0x32, 10, 0, 127};
	CU_ASSERT(memcmp(buf, three, 4) == 0);
	memset(buf, 0xff, sizeof(buf));
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 14, lv, 1, &profile), 4);
	const uint8_t one[4] = {0xe0, 10, 0, 0};
	CU_ASSERT(memcmp(buf, one, 4) == 0);
	/* 200 is no level: 127 (silence), so the first bit stays 0. */
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 1, lv, 15, &profile), 16);
	CU_ASSERT_EQUAL(buf[0], 0x1e);
	CU_ASSERT_EQUAL(buf[4], 127);
	CU_ASSERT_EQUAL(buf[15], 15);
	/* An id above 14: the two-byte form, 2 header bytes. */
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 20, lv, 2, &profile), 4);
	CU_ASSERT_EQUAL(profile, 0x1000);
	const uint8_t two[4] = {20, 2, 10, 0};
	CU_ASSERT(memcmp(buf, two, 4) == 0);
	/* Limits. */
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 1, lv, 0, &profile), -EINVAL);
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 1, lv, 16, &profile), -EINVAL);
	CU_ASSERT_EQUAL(
	    rtpext_csrc_levels(buf, sizeof(buf), 0, lv, 1, &profile), -EINVAL);
	CU_ASSERT_EQUAL(rtpext_csrc_levels(buf, 3, 1, lv, 3, &profile),
			-ENOSPC);
	CU_ASSERT_EQUAL(rtpext_csrc_levels(buf, 4, 1, lv, 4, &profile),
			-ENOSPC);
}

/* Beside other elements: one-byte when all fit it (each its header byte,
 * in order, then zero padding), two-byte as soon as one does not (an id
 * above 14, or an empty element). The block parses back element by
 * element. */
static void test_write_with_others(void)
{
	uint8_t buf[64], pkt[128];
	uint16_t profile = 0;
	const uint8_t lv[2] = {30, 60}, abs_time[3] = {1, 2, 3};
	struct rtpext_elem e[3] = {{.id = 1, .len = 1, .data = lv},
				   {.id = 5, .len = 3, .data = abs_time},
				   {.id = 7, .len = 2, .data = lv}};
	int n = rtpext_build(buf, sizeof(buf), e, 3, &profile);
	CU_ASSERT_EQUAL(n, 12); /* 2 + 4 + 3 = 9 bytes, padded to 12 */
	CU_ASSERT_EQUAL(profile, 0xbede);
	const uint8_t want[12] = {0x10, 30, 0x52, 1, 2, 3,
				  0x71, 30, 60,	  0, 0, 0};
	CU_ASSERT(memcmp(buf, want, 12) == 0);
	struct rtppkt p;
	size_t len = make(pkt, profile, buf, (size_t)n);
	CU_ASSERT_FATAL(rtppkt_parse(&p, pkt, len) == 0);
	const uint8_t *d;
	size_t dl;
	CU_ASSERT(rtpext_find(&p, 7, &d, &dl) == 0 && dl == 2 && d[1] == 60);
	CU_ASSERT(rtpext_find(&p, 5, &d, &dl) == 0 && dl == 3 && d[2] == 3);
	uint8_t level;
	CU_ASSERT(rtpext_audio_level(&p, 1, &level, NULL) == 0 && level == 30);

	e[1].id = 100;
	n = rtpext_build(buf, sizeof(buf), e, 3, &profile);
	CU_ASSERT_EQUAL(n, 12); /* 3 + 5 + 4 = 12 */
	CU_ASSERT_EQUAL(profile, 0x1000);
	const uint8_t want2[12] = {1, 1, 30, 100, 3, 1, 2, 3, 7, 2, 30, 60};
	CU_ASSERT(memcmp(buf, want2, 12) == 0);
	len = make(pkt, profile, buf, (size_t)n);
	CU_ASSERT_FATAL(rtppkt_parse(&p, pkt, len) == 0);
	CU_ASSERT(rtpext_find(&p, 100, &d, &dl) == 0 && dl == 3 && d[0] == 1);
	CU_ASSERT(rtpext_find(&p, 7, &d, &dl) == 0 && dl == 2 && d[0] == 30);

	struct rtpext_elem empty = {.id = 2, .len = 0, .data = NULL};
	CU_ASSERT_EQUAL(rtpext_build(buf, sizeof(buf), &empty, 1, &profile), 4);
	CU_ASSERT_EQUAL(profile, 0x1000);
	struct rtpext_elem bad = {.id = 0, .len = 1, .data = lv};
	CU_ASSERT_EQUAL(rtpext_build(buf, sizeof(buf), &bad, 1, &profile),
			-EINVAL);
	CU_ASSERT_EQUAL(rtpext_build(buf, sizeof(buf), e, 0, &profile),
			-EINVAL);
	CU_ASSERT_EQUAL(rtpext_build(buf, 8, e, 3, &profile), -ENOSPC);
}

/* A mixed packet as a listener gets it: two CSRCs, their levels in an
 * extension, the payload after; rtppkt_build then rtppkt_parse. */
static void test_packet_with_levels(void)
{
	uint8_t ext[8], out[256];
	const uint8_t lv[2] = {12, 33}, payload[5] = {9, 8, 7, 6, 5};
	struct rtppkt p = {.pt = 0,
			   .seq = 77,
			   .ts = 1234,
			   .ssrc = 0xabcdef01,
			   .n_csrc = 2,
			   .csrc = {0x11111111, 0x22222222},
			   .payload = payload,
			   .payload_bytes = sizeof(payload)};
	int n = rtpext_csrc_levels(ext, sizeof(ext), 4, lv, 2, &p.ext_profile);
	CU_ASSERT_FATAL(n == 4);
	p.ext = ext;
	p.ext_bytes = (size_t)n;
	int len = rtppkt_build(out, sizeof(out), &p);
	CU_ASSERT_EQUAL(len, 12 + 8 + 4 + 4 + 5);
	CU_ASSERT_EQUAL(out[0], 0x92); /* V=2, X=1, CC=2 */
	const uint8_t block[8] = {0xbe, 0xde, 0, 1, 0x41, 12, 33, 0};
	CU_ASSERT(memcmp(out + 20, block, 8) == 0);
	struct rtppkt q;
	CU_ASSERT_FATAL(rtppkt_parse(&q, out, (size_t)len) == 0);
	CU_ASSERT_EQUAL(q.n_csrc, 2);
	CU_ASSERT_EQUAL(q.csrc[1], 0x22222222);
	CU_ASSERT_EQUAL(q.payload_bytes, 5);
	CU_ASSERT_EQUAL(q.payload[4], 5);
	const uint8_t *d;
	size_t dl;
	CU_ASSERT(rtpext_find(&q, 4, &d, &dl) == 0 && dl == 2 && d[0] == 12 &&
		  d[1] == 33);
	/* No extension: X clear, as before. */
	p.ext = NULL;
	len = rtppkt_build(out, sizeof(out), &p);
	CU_ASSERT_EQUAL(len, 12 + 8 + 5);
	CU_ASSERT_EQUAL(out[0], 0x82);
	/* A block that is not whole words. */
	p.ext = ext;
	p.ext_bytes = 3;
	CU_ASSERT_EQUAL(rtppkt_build(out, sizeof(out), &p), -EINVAL);
	p.ext_bytes = 4;
	CU_ASSERT_EQUAL(rtppkt_build(out, 30, &p), -ENOSPC);
}

static const struct unit_test tests[] = {
    {"one-byte elements and padding", test_one_byte},
    {"one-byte ID 15 stops the walk", test_one_byte_stop},
    {"two-byte elements", test_two_byte},
    {"other profiles and none", test_other_profile},
    {"lengths that lie", test_hostile},
    {"RTP padding after the extension", test_padding_after},
    {"write: RFC 6465 levels", test_write_levels},
    {"write: beside other elements", test_write_with_others},
    {"write: a mixed packet with levels", test_packet_with_levels},
    {NULL, NULL},
};

UNIT_MAIN("rtpext", tests)
