/* test_rtpext.c: RTP header extension elements (rtp/rtpext.c, RFC 8285)
 * and the RFC 6464 audio level: one-byte and two-byte forms, padding,
 * the reserved ID 15, and elements that lie about their length. */
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

static const struct unit_test tests[] = {
    {"one-byte elements and padding", test_one_byte},
    {"one-byte ID 15 stops the walk", test_one_byte_stop},
    {"two-byte elements", test_two_byte},
    {"other profiles and none", test_other_profile},
    {"lengths that lie", test_hostile},
    {"RTP padding after the extension", test_padding_after},
    {NULL, NULL},
};

UNIT_MAIN("rtpext", tests)
