/* test_sdes.c: conference/sdes.c, a=crypto lines (RFC 4568). */
#include "conference/sdes.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

/* RFC 4568 section 4's example key. */
#define KEY_B64 "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"

static void test_parse(void)
{
	struct sdes_crypto c;
	CU_ASSERT_EQUAL(
	    sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64, &c), 0);
	CU_ASSERT_EQUAL(c.tag, 1);
	CU_ASSERT_EQUAL(c.suite, SRTP_AES_CM_128_HMAC_SHA1_80);
	CU_ASSERT_EQUAL(c.key[0],
			0x3d); /* '=' of "=-n@%^x!Bjufr9)?,#5h\`=&]{qiPQ" */
	CU_ASSERT_EQUAL(
	    sdes_parse("2 AES_CM_128_HMAC_SHA1_32 inline:" KEY_B64 "|2^20", &c),
	    0);
	CU_ASSERT_EQUAL(c.tag, 2);
	CU_ASSERT_EQUAL(c.suite, SRTP_AES_CM_128_HMAC_SHA1_32);
	CU_ASSERT_EQUAL(sdes_parse("7 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64
				   "|1048576",
				   &c),
			0);
}

static void test_refused(void)
{
	struct sdes_crypto c;
	/* not ours to take: another line may be */
	CU_ASSERT_EQUAL(sdes_parse("1 AEAD_AES_256_GCM inline:" KEY_B64, &c),
			-ENOTSUP);
	CU_ASSERT_EQUAL(sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64
				   "|2^20|1:4",
				   &c),
			-ENOTSUP);
	CU_ASSERT_EQUAL(
	    sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|1:4", &c),
	    -ENOTSUP);
	CU_ASSERT_EQUAL(sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64
				   " UNENCRYPTED_SRTP",
				   &c),
			-ENOTSUP);
	CU_ASSERT_EQUAL(sdes_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64
				   ";inline:" KEY_B64,
				   &c),
			-ENOTSUP);
	/* not RFC 4568 */
	static const char *const bad[] = {
	    "",
	    "x AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64,
	    "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64,
	    "1 AES_CM_128_HMAC_SHA1_80",
	    "1 AES_CM_128_HMAC_SHA1_80 outline:" KEY_B64,
	    "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "AAAA",
	    "1 AES_CM_128_HMAC_SHA1_80 "
	    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx",
	    "1 AES_CM_128_HMAC_SHA1_80 "
	    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXt*",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|2^49",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|0",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|99999999999999999999",
	    "1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_B64 "|2^",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = sdes_parse(bad[i], &c);
		CU_ASSERT_EQUAL(err, -EINVAL);
		if (err != -EINVAL)
			fprintf(stderr, "accepted or %d: '%s'\n", err, bad[i]);
	}
	CU_ASSERT_EQUAL(sdes_parse(NULL, &c), -EINVAL);
}

static void test_format_round_trip(void)
{
	struct sdes_crypto c = {.tag = 3,
				.suite = SRTP_AES_CM_128_HMAC_SHA1_32};
	CU_ASSERT_EQUAL(sdes_new_key(c.key), 0);
	char line[128];
	int n = sdes_format(&c, line, sizeof(line));
	CU_ASSERT(n > 0 && (size_t)n == strlen(line));
	CU_ASSERT_EQUAL(strncmp(line, "3 AES_CM_128_HMAC_SHA1_32 inline:", 33),
			0);
	struct sdes_crypto back;
	CU_ASSERT_EQUAL(sdes_parse(line, &back), 0);
	CU_ASSERT_EQUAL(back.tag, 3);
	CU_ASSERT_EQUAL(back.suite, c.suite);
	CU_ASSERT_EQUAL(memcmp(back.key, c.key, sizeof(c.key)), 0);
	CU_ASSERT_EQUAL(sdes_format(&c, line, 20), -ENOSPC);
	c.suite = SRTP_NONE;
	CU_ASSERT_EQUAL(sdes_format(&c, line, sizeof(line)), -EINVAL);
}

static void test_keys_differ(void)
{
	uint8_t a[SRTP_KEY_SALT_LEN], b[SRTP_KEY_SALT_LEN];
	CU_ASSERT_EQUAL(sdes_new_key(a), 0);
	CU_ASSERT_EQUAL(sdes_new_key(b), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof(a)), 0);
}

static const struct unit_test tests[] = {
    {"RFC 4568 lines taken", test_parse},
    {"lines refused", test_refused},
    {"our line, and back", test_format_round_trip},
    {"fresh keys", test_keys_differ},
    {NULL, NULL},
};

UNIT_MAIN("sdes", tests)
