/* test_srtpctx.c: rtp/srtpctx.c, SRTP and SRTCP through libsrtp2. */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

static const uint8_t KEY[SRTP_KEY_SALT_LEN] = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f,
    0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39, 0x0e, 0xc6, 0x75, 0xad,
    0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6};

/* An RTP packet: V=2, PT 0, seq, ts, SSRC, then 160 bytes of payload. */
static size_t rtp_packet(uint8_t *p, uint16_t seq)
{
	memset(p, 0, 12 + 160);
	p[0] = 0x80;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[7] = 160;
	p[8] = 0xde, p[9] = 0xad, p[10] = 0xbe, p[11] = 0xef;
	for (int i = 0; i < 160; i++)
		p[12 + i] = (uint8_t)(i * 7 + seq);
	return 12 + 160;
}

static void round_trip(enum srtp_suite suite, size_t tag)
{
	struct srtpctx *tx, *rx;
	CU_ASSERT_EQUAL_FATAL(srtpctx_new(&tx, suite, KEY, false), 0);
	CU_ASSERT_EQUAL_FATAL(srtpctx_new(&rx, suite, KEY, true), 0);
	uint8_t pkt[512], plain[512];
	for (uint16_t seq = 100; seq < 110; seq++) {
		size_t len = rtp_packet(pkt, seq);
		memcpy(plain, pkt, len);
		size_t n = len;
		CU_ASSERT_EQUAL(srtpctx_rtp(tx, pkt, &n, sizeof(pkt)), 0);
		CU_ASSERT_EQUAL(n, len + tag);
		/* the header stays clear, the payload does not */
		CU_ASSERT_EQUAL(memcmp(pkt, plain, 12), 0);
		CU_ASSERT_NOT_EQUAL(memcmp(pkt + 12, plain + 12, 160), 0);
		CU_ASSERT_EQUAL(srtpctx_rtp(rx, pkt, &n, sizeof(pkt)), 0);
		CU_ASSERT_EQUAL(n, len);
		CU_ASSERT_EQUAL(memcmp(pkt, plain, len), 0);
	}
	srtpctx_free(tx);
	srtpctx_free(rx);
}

static void test_round_trip_80(void)
{
	round_trip(SRTP_AES_CM_128_HMAC_SHA1_80, 10);
}

static void test_round_trip_32(void)
{
	round_trip(SRTP_AES_CM_128_HMAC_SHA1_32, 4);
}

static void test_tamper_replay_wrong_key(void)
{
	struct srtpctx *tx, *rx, *other;
	uint8_t key2[SRTP_KEY_SALT_LEN];
	memcpy(key2, KEY, sizeof(key2));
	key2[0] ^= 1;
	CU_ASSERT_EQUAL_FATAL(
	    srtpctx_new(&tx, SRTP_AES_CM_128_HMAC_SHA1_80, KEY, false), 0);
	CU_ASSERT_EQUAL_FATAL(
	    srtpctx_new(&rx, SRTP_AES_CM_128_HMAC_SHA1_80, KEY, true), 0);
	CU_ASSERT_EQUAL_FATAL(
	    srtpctx_new(&other, SRTP_AES_CM_128_HMAC_SHA1_80, key2, true), 0);
	uint8_t pkt[512], copy[512];
	size_t n = rtp_packet(pkt, 1);
	CU_ASSERT_EQUAL(srtpctx_rtp(tx, pkt, &n, sizeof(pkt)), 0);
	size_t m = n;
	memcpy(copy, pkt, n);
	/* a wrong key does not verify */
	CU_ASSERT_EQUAL(srtpctx_rtp(other, copy, &m, sizeof(copy)), -EBADMSG);
	/* one flipped payload bit does not verify */
	memcpy(copy, pkt, n);
	m = n;
	copy[40] ^= 0x10;
	CU_ASSERT_EQUAL(srtpctx_rtp(rx, copy, &m, sizeof(copy)), -EBADMSG);
	/* the packet itself does, once; its copy is a replay */
	memcpy(copy, pkt, n);
	m = n;
	CU_ASSERT_EQUAL(srtpctx_rtp(rx, pkt, &n, sizeof(pkt)), 0);
	CU_ASSERT_EQUAL(srtpctx_rtp(rx, copy, &m, sizeof(copy)), -EALREADY);
	/* plain RTP sent to an SRTP stream is refused */
	n = rtp_packet(pkt, 2);
	CU_ASSERT_EQUAL(srtpctx_rtp(rx, pkt, &n, sizeof(pkt)), -EBADMSG);
	srtpctx_free(tx);
	srtpctx_free(rx);
	srtpctx_free(other);
}

static void test_rtcp(void)
{
	struct srtpctx *tx, *rx;
	CU_ASSERT_EQUAL_FATAL(
	    srtpctx_new(&tx, SRTP_AES_CM_128_HMAC_SHA1_32, KEY, false), 0);
	CU_ASSERT_EQUAL_FATAL(
	    srtpctx_new(&rx, SRTP_AES_CM_128_HMAC_SHA1_32, KEY, true), 0);
	/* a receiver report with no blocks, then 20 bytes of padding data */
	uint8_t pkt[256] = {0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef};
	uint8_t plain[256];
	memcpy(plain, pkt, 28);
	size_t n = 28;
	CU_ASSERT_EQUAL(srtpctx_rtcp(tx, pkt, &n, sizeof(pkt)), 0);
	CU_ASSERT_EQUAL(n, 28 + 4 + 10); /* E+index, and an 80-bit tag */
	CU_ASSERT_EQUAL(srtpctx_rtcp(rx, pkt, &n, sizeof(pkt)), 0);
	CU_ASSERT_EQUAL(n, 28);
	CU_ASSERT_EQUAL(memcmp(pkt, plain, 28), 0);
	srtpctx_free(tx);
	srtpctx_free(rx);
}

static void test_bad_args(void)
{
	struct srtpctx *c = (void *)1;
	CU_ASSERT_EQUAL(srtpctx_new(&c, SRTP_NONE, KEY, true), -EINVAL);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(srtpctx_new(&c, (enum srtp_suite)77, KEY, true),
			-EINVAL);
	CU_ASSERT_EQUAL_FATAL(
	    srtpctx_new(&c, SRTP_AES_CM_128_HMAC_SHA1_80, KEY, false), 0);
	uint8_t pkt[200];
	size_t n = 5;
	CU_ASSERT_EQUAL(srtpctx_rtp(c, pkt, &n, sizeof(pkt)), -EINVAL);
	n = rtp_packet(pkt, 1);
	CU_ASSERT_EQUAL(srtpctx_rtp(c, pkt, &n, n + 2), -ENOSPC);
	srtpctx_free(c);
	srtpctx_free(NULL);
}

static const struct unit_test tests[] = {
    {"AES_CM_128_HMAC_SHA1_80 round trip", test_round_trip_80},
    {"AES_CM_128_HMAC_SHA1_32 round trip", test_round_trip_32},
    {"tampering, replay and a wrong key", test_tamper_replay_wrong_key},
    {"SRTCP", test_rtcp},
    {"bad arguments", test_bad_args},
    {NULL, NULL},
};

UNIT_MAIN("srtpctx", tests)
