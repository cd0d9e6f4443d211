/* test_netaddr.c: netaddr_split(), netaddr_is_loopback() and
 * netaddr_parse_ulong() on good and bad input, including that nothing is
 * written on failure. */
#include "core/core.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

static void split_ok(const char *s, const char *host, uint16_t port)
{
	char h[64];
	uint16_t p = 0;

	CU_ASSERT_EQUAL_FATAL(netaddr_split(s, h, sizeof(h), &p), 0);
	CU_ASSERT_STRING_EQUAL(h, host);
	CU_ASSERT_EQUAL(p, port);
}

static void split_bad(const char *s)
{
	char h[64] = "untouched";
	uint16_t p = 7;

	CU_ASSERT_EQUAL(netaddr_split(s, h, sizeof(h), &p), -EINVAL);
	CU_ASSERT_STRING_EQUAL(h, "untouched");
	CU_ASSERT_EQUAL(p, 7);
}

static void test_split_ipv4(void)
{
	split_ok("1.2.3.4:5060", "1.2.3.4", 5060);
	split_ok("0.0.0.0:1", "0.0.0.0", 1);
	split_ok("255.255.255.255:65535", "255.255.255.255", 65535);
	split_ok("127.0.0.1:08080", "127.0.0.1", 8080);
}

static void test_split_ipv6(void)
{
	split_ok("[::1]:5060", "::1", 5060);
	split_ok("[::]:5061", "::", 5061);
	split_ok("[2001:db8::42]:80", "2001:db8::42", 80);
	split_ok("[::ffff:10.0.0.1]:5060", "::ffff:10.0.0.1", 5060);
}

static void test_split_bad(void)
{
	static const char *const bad[] = {
	    "",
	    ":",
	    ":5060",
	    "1.2.3.4",
	    "1.2.3.4:",
	    "1.2.3.4:0",
	    "1.2.3.4:65536",
	    "1.2.3.4:99999999999999999999",
	    "1.2.3.4:-1",
	    "1.2.3.4:+5060",
	    "1.2.3.4: 5060",
	    "1.2.3.4:5060 ",
	    "1.2.3.4:50a0",
	    "1.2.3:5060",
	    "1.2.3.4.5:5060",
	    "256.1.1.1:5060",
	    " 1.2.3.4:5060",
	    "localhost:5060",
	    "example.com:5060",
	    "::1:5060",
	    "::1",
	    "[::1]",
	    "[::1]:",
	    "[::1]5060",
	    "[::1:5060",
	    "[]:5060",
	    "[1.2.3.4]:5060",
	    "[fe80::1%eth0]:5060",
	    "[::1]:0",
	    "[::1]:65536",
	    "[:::1]:5060",
	    "1.2.3.4:5060:5060",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		split_bad(bad[i]);
}

static void test_split_args(void)
{
	char h[64];
	uint16_t p;

	CU_ASSERT_EQUAL(netaddr_split(NULL, h, sizeof(h), &p), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_split("1.2.3.4:5", NULL, 64, &p), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_split("1.2.3.4:5", h, sizeof(h), NULL),
			-EINVAL);
}

static void test_split_hostlen(void)
{
	char h[8];
	uint16_t p;

	/* "1.2.3.4" needs 8 bytes with its terminator. */
	CU_ASSERT_EQUAL(netaddr_split("1.2.3.4:5", h, 8, &p), 0);
	CU_ASSERT_STRING_EQUAL(h, "1.2.3.4");
	CU_ASSERT_EQUAL(netaddr_split("1.2.3.4:5", h, 7, &p), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_split("1.2.3.4:5", h, 0, &p), -EINVAL);
}

static void test_loopback(void)
{
	CU_ASSERT_TRUE(netaddr_is_loopback("127.0.0.1"));
	CU_ASSERT_TRUE(netaddr_is_loopback("127.255.1.2"));
	CU_ASSERT_TRUE(netaddr_is_loopback("::1"));
	CU_ASSERT_TRUE(netaddr_is_loopback("0:0:0:0:0:0:0:1"));
	CU_ASSERT_TRUE(netaddr_is_loopback("::ffff:127.0.0.1"));

	CU_ASSERT_FALSE(netaddr_is_loopback(NULL));
	CU_ASSERT_FALSE(netaddr_is_loopback(""));
	CU_ASSERT_FALSE(netaddr_is_loopback("localhost"));
	CU_ASSERT_FALSE(netaddr_is_loopback("128.0.0.1"));
	CU_ASSERT_FALSE(netaddr_is_loopback("126.255.255.255"));
	CU_ASSERT_FALSE(netaddr_is_loopback("0.0.0.0"));
	CU_ASSERT_FALSE(netaddr_is_loopback("10.0.0.1"));
	CU_ASSERT_FALSE(netaddr_is_loopback("::"));
	CU_ASSERT_FALSE(netaddr_is_loopback("::2"));
	CU_ASSERT_FALSE(netaddr_is_loopback("::ffff:10.0.0.1"));
	CU_ASSERT_FALSE(netaddr_is_loopback("[::1]"));
	CU_ASSERT_FALSE(netaddr_is_loopback("127.0.0.1:80"));
}

static void test_parse_ulong(void)
{
	unsigned long v = 7;

	CU_ASSERT_EQUAL(netaddr_parse_ulong("0", 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("00065535", 65535, &v), 0);
	CU_ASSERT_EQUAL(v, 65535);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("3600000", 3600000, &v), 0);
	CU_ASSERT_EQUAL(v, 3600000);

	v = 7;
	CU_ASSERT_EQUAL(netaddr_parse_ulong("65536", 65535, &v), -ERANGE);
	CU_ASSERT_EQUAL(
	    netaddr_parse_ulong("99999999999999999999999", 65535, &v), -ERANGE);
	/* Too big before the junk: the range is what is reported. */
	CU_ASSERT_EQUAL(netaddr_parse_ulong("70000x", 65535, &v), -ERANGE);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("", 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("-1", 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("+1", 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong(" 1", 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("1 ", 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("0x1", 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong(NULL, 10, &v), -EINVAL);
	CU_ASSERT_EQUAL(netaddr_parse_ulong("1", 10, NULL), -EINVAL);
	CU_ASSERT_EQUAL(v, 7);
}

static const struct unit_test tests[] = {
    {"split_ipv4", test_split_ipv4},	   {"split_ipv6", test_split_ipv6},
    {"split_bad", test_split_bad},	   {"split_args", test_split_args},
    {"split_hostlen", test_split_hostlen}, {"loopback", test_loopback},
    {"parse_ulong", test_parse_ulong},	   {NULL, NULL},
};

UNIT_MAIN("netaddr", tests)
