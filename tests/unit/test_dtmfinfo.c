/* test_dtmfinfo.c: SIP INFO bodies that carry a key press, as phones
 * write them (application/dtmf-relay and application/dtmf), and bodies
 * that are not what they claim to be. */
#include "rtp/rtp.h"

#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

#define RELAY "application/dtmf-relay"
#define DTMF  "application/dtmf"

static int parse(const char *type, const char *body, struct digit *d)
{
	memset(d, 0, sizeof(*d));
	return dtmfinfo_parse(type, body, strlen(body), d);
}

static void test_relay(void)
{
	struct digit d;
	CU_ASSERT_EQUAL(parse(RELAY, "Signal=5\r\nDuration=160\r\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, '5');
	CU_ASSERT_EQUAL(d.duration_ms, 160);
	CU_ASSERT_EQUAL(d.source, DIGIT_INFO);
	CU_ASSERT_EQUAL(parse(RELAY, "signal= #\nduration = 250\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, '#');
	CU_ASSERT_EQUAL(d.duration_ms, 250);
	CU_ASSERT_EQUAL(parse("Application/DTMF-Relay", "Signal=*", &d), 0);
	CU_ASSERT_EQUAL(d.key, '*');
	CU_ASSERT_EQUAL(d.duration_ms, 0);
	CU_ASSERT_EQUAL(parse(RELAY, "Foo=bar\r\nSignal=d\r\n\r\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, 'D');
	/* Event numbers, as some phones send them. */
	CU_ASSERT_EQUAL(parse(RELAY, "Signal=10\r\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, '*');
	CU_ASSERT_EQUAL(parse(RELAY, "Signal=11\r\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, '#');
	CU_ASSERT_EQUAL(parse(RELAY, "Signal=07\r\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, '7');
	/* A hook flash is well formed but no digit. */
	CU_ASSERT_EQUAL(parse(RELAY, "Signal=!\r\n", &d), -ENOENT);
	CU_ASSERT_EQUAL(parse(RELAY, "Signal=16\r\nDuration=100", &d), -ENOENT);
}

static void test_dtmf(void)
{
	struct digit d;
	CU_ASSERT_EQUAL(parse(DTMF, "9", &d), 0);
	CU_ASSERT_EQUAL(d.key, '9');
	CU_ASSERT_EQUAL(parse(DTMF, " #\r\n", &d), 0);
	CU_ASSERT_EQUAL(d.key, '#');
	CU_ASSERT_EQUAL(parse(DTMF, "11", &d), 0);
	CU_ASSERT_EQUAL(d.key, '#');
	CU_ASSERT_EQUAL(parse(DTMF, "!", &d), -ENOENT);
}

static void test_types(void)
{
	struct digit d;
	CU_ASSERT_EQUAL(parse("text/plain", "Signal=5", &d), -EPROTO);
	CU_ASSERT_EQUAL(parse("application/sdp", "5", &d), -EPROTO);
	CU_ASSERT_EQUAL(parse("application/dtmf-relayx", "5", &d), -EPROTO);
	CU_ASSERT_EQUAL(dtmfinfo_parse(NULL, "5", 1, &d), -EPROTO);
}

static void test_malformed(void)
{
	struct digit d = {.key = 'x'};
	static const char *const relay[] = {
	    "",
	    "\r\n",
	    "Duration=100",
	    "Signal=",
	    "Signal=55",
	    "Signal=17",
	    "Signal=E",
	    "Signal=5\r\nDuration=-1",
	    "Signal=5\r\nDuration=1e3",
	    "Signal=5\r\nDuration=99999999",
	    "Signal=5\r\nDuration=60001",
	    "Signal=12345",
	    "Signal=\xff",
	    "Signal=5 5",
	};
	for (size_t i = 0; i < sizeof(relay) / sizeof(relay[0]); i++) {
		d.key = 'x';
		int err = dtmfinfo_parse(RELAY, relay[i], strlen(relay[i]), &d);
		CU_ASSERT_EQUAL(err, -EBADMSG);
		if (err != -EBADMSG)
			printf("\n  accepted relay body %zu\n", i);
	}
	static const char *const dtmf[] = {"", "  ", "55", "x", "*#", "-1"};
	for (size_t i = 0; i < sizeof(dtmf) / sizeof(dtmf[0]); i++)
		CU_ASSERT_EQUAL(
		    dtmfinfo_parse(DTMF, dtmf[i], strlen(dtmf[i]), &d),
		    -EBADMSG);
	/* A NUL byte inside, a huge body, no body at all. */
	CU_ASSERT_EQUAL(dtmfinfo_parse(RELAY, "Signal=5\0x", 10, &d), -EBADMSG);
	CU_ASSERT_EQUAL(dtmfinfo_parse(DTMF, "5\0", 2, &d), -EBADMSG);
	char big[4096];
	memset(big, ' ', sizeof(big));
	memcpy(big, "Signal=5\n", 9);
	CU_ASSERT_EQUAL(dtmfinfo_parse(RELAY, big, sizeof(big), &d), -EBADMSG);
	CU_ASSERT_EQUAL(dtmfinfo_parse(RELAY, NULL, 3, &d), -EBADMSG);
	CU_ASSERT_EQUAL(d.key, 'x'); /* never written on failure */
	/* Random bytes: never a crash, and a digit only when valid. */
	uint32_t x = 99;
	for (int round = 0; round < 5000; round++) {
		char body[32];
		size_t n = 1 + round % sizeof(body);
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			body[i] = (char)(x >> 16);
		}
		if (round % 2)
			memcpy(body, "Signal=", n < 7 ? n : 7);
		int err = dtmfinfo_parse(round % 3 ? RELAY : DTMF, body, n, &d);
		CU_ASSERT(err == 0 || err == -EBADMSG || err == -ENOENT);
		if (err == 0)
			CU_ASSERT(strchr("0123456789*#ABCD", d.key) != NULL);
	}
}

static const struct unit_test tests[] = {
    {"application/dtmf-relay", test_relay},
    {"application/dtmf", test_dtmf},
    {"other media types", test_types},
    {"malformed bodies", test_malformed},
    {NULL, NULL},
};

UNIT_MAIN("dtmfinfo", tests)
