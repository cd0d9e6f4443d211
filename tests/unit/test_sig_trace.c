/* test_sig_trace.c: conference/sig_trace.c fed as Sofia-SIP's transport
 * log feeds it (stamp, separator, indented lines in fragments, separator),
 * read back from our log through a pipe: each traced message whole under
 * "trace" with its Call-ID, everything else under "sofia" at debug, and
 * hostile or oversized input cut, never overrun. */
#include "conference/sig.h"
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SEP "   ---------------------------------------------------------\n"

static int pipe_fd[2] = {-1, -1};
static char got[256 * 1024];

static const char *drain(void)
{
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(got) - 1 &&
	       (r = read(pipe_fd[0], got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)r;
	got[n] = '\0';
	return got;
}

static void test_setup(void)
{
	CU_ASSERT_EQUAL_FATAL(pipe2(pipe_fd, O_NONBLOCK), 0);
	CU_ASSERT_TRUE_FATAL(fcntl(pipe_fd[1], F_SETPIPE_SZ, 1 << 20) > 0);
	log_set_fd(pipe_fd[1]);
	log_set_journal(true);
	log_set_level(LL_INFO);
}

/* As tport_log_msg() calls su_log(): the stamp and separator in one
 * call, then each line's text and its newline apart. */
static void feed_message(const char *what, const char *const *lines)
{
	char stamp[160];

	snprintf(stamp, sizeof(stamp), "%s at 10:00:02.114000:\n" SEP, what);
	sig_trace_feed(stamp);
	for (; *lines; lines++) {
		sig_trace_feed("   ");
		sig_trace_feed(*lines);
		sig_trace_feed("\n");
	}
	sig_trace_feed(SEP);
}

static void test_message(void)
{
	static const char *const invite[] = {
	    "INVITE sip:standup@127.0.0.1 SIP/2.0",
	    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1",
	    "Call-ID: a84b4c76e66710",
	    "CSeq: 1 INVITE",
	    "",
	    "v=0",
	    NULL,
	};

	feed_message("recv 431 bytes from udp/[127.0.0.1]:5070", invite);
	CU_ASSERT_STRING_EQUAL(
	    drain(),
	    "<6>info  trace recv 431 bytes from udp/[127.0.0.1]:5070 "
	    "call=a84b4c76e66710\n"
	    "<6>info  trace   INVITE sip:standup@127.0.0.1 SIP/2.0\n"
	    "<6>info  trace   Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\n"
	    "<6>info  trace   Call-ID: a84b4c76e66710\n"
	    "<6>info  trace   CSeq: 1 INVITE\n"
	    "<6>info  trace   \n"
	    "<6>info  trace   v=0\n");
}

/* The compact form, a Call-ID in the body only, none at all. */
static void test_call_id_forms(void)
{
	static const char *const compact[] = {"SIP/2.0 200 OK", "i: xyz@h",
					      NULL};
	static const char *const in_body[] = {"MESSAGE sip:r@h SIP/2.0", "",
					      "Call-ID: not-a-header", NULL};
	static const char *const none[] = {"OPTIONS sip:h SIP/2.0", NULL};

	feed_message("send 20 bytes to tcp/[::1]:5060", compact);
	CU_ASSERT_PTR_NOT_NULL(strstr(drain(),
				      "trace send 20 bytes to tcp/[::1]:5060 "
				      "call=xyz@h\n"));
	feed_message("recv 30 bytes from udp/[127.0.0.1]:9", in_body);
	CU_ASSERT_PTR_NULL(strstr(drain(), "call="));
	feed_message("recv 10 bytes from udp/[127.0.0.1]:9", none);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(drain(), "trace recv 10 bytes from udp/[127.0.0.1]:9\n"));
}

/* Everything outside a traced message is Sofia-SIP's own chatter: at
 * debug, whole lines however it was cut, and not at all at info. */
static void test_sofia_lines(void)
{
	sig_trace_feed("nta: timer ");
	sig_trace_feed("set\nsecond line\r\n\n");
	CU_ASSERT_STRING_EQUAL(drain(), "");
	log_set_level(LL_DEBUG);
	sig_trace_feed("nta: timer ");
	sig_trace_feed("set\nsecond line\r\n\n");
	CU_ASSERT_STRING_EQUAL(drain(), "<7>debug sofia nta: timer set\n"
					"<7>debug sofia second line\n");
	log_set_level(LL_INFO);
	/* A stamp-like line that is not one. */
	log_set_level(LL_DEBUG);
	sig_trace_feed("recv error on socket\n");
	CU_ASSERT_STRING_EQUAL(drain(),
			       "<7>debug sofia recv error on socket\n");
	log_set_level(LL_INFO);
}

/* The trace follows the level of its subsystem like any other line. */
static void test_trace_level(void)
{
	static const char *const m[] = {"OPTIONS sip:h SIP/2.0", NULL};
	struct log_levels l;
	char why[64];

	CU_ASSERT_EQUAL_FATAL(
	    log_levels_parse("info,trace=warn", &l, why, sizeof(why)), 0);
	log_set_levels(&l);
	feed_message("recv 10 bytes from udp/[127.0.0.1]:9", m);
	CU_ASSERT_STRING_EQUAL(drain(), "");
	log_set_level(LL_INFO);
}

/* A message larger than the trace buffer is cut with a mark; lines
 * longer than a line buffer are cut; control characters are blanked. */
static void test_hostile(void)
{
	static char line[1000];
	static char huge[8000];

	memset(line, 'x', sizeof(line) - 1);
	sig_trace_feed("recv 99999 bytes from udp/[127.0.0.1]:9 at 1:\n" SEP);
	for (int i = 0; i < 100; i++) {
		sig_trace_feed("   ");
		sig_trace_feed(line);
		sig_trace_feed("\n");
	}
	sig_trace_feed("   evil\x1b[2J\x07 header\n");
	sig_trace_feed(SEP);
	const char *s = drain();
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "trace recv 99999 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<6>info  trace   [... cut]\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "evil"));
	CU_ASSERT_TRUE(strlen(s) < 64 * 1024 + 16 * 1024);

	memset(huge, 'y', sizeof(huge) - 1);
	sig_trace_feed("recv 10 bytes from udp/[127.0.0.1]:9 at 1:\n" SEP);
	sig_trace_feed("   ");
	sig_trace_feed(huge);
	sig_trace_feed("\n   after\x1b\x07 header\n");
	sig_trace_feed(SEP);
	s = drain();
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "<6>info  trace   after   header\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "\x1b"));
	/* The long line was cut at the line buffer, not spilled. */
	const char *y = strstr(s, "yyyy");
	CU_ASSERT_PTR_NOT_NULL_FATAL(y);
	CU_ASSERT_TRUE(strcspn(y, "\n") < 4096);
}

/* A message whose closing separator never came ends at the next stamp;
 * both are logged. */
static void test_resync(void)
{
	static const char *const m[] = {"BYE sip:h SIP/2.0", NULL};

	sig_trace_feed("send 5 bytes to udp/[127.0.0.1]:9 at 1:\n" SEP);
	sig_trace_feed("   half\n");
	feed_message("recv 10 bytes from udp/[127.0.0.1]:9", m);
	CU_ASSERT_STRING_EQUAL(
	    drain(), "<6>info  trace send 5 bytes to udp/[127.0.0.1]:9\n"
		     "<6>info  trace   half\n"
		     "<6>info  trace recv 10 bytes from udp/[127.0.0.1]:9\n"
		     "<6>info  trace   BYE sip:h SIP/2.0\n");
	sig_trace_feed(NULL);
	sig_trace_feed("");
	CU_ASSERT_STRING_EQUAL(drain(), "");
}

static void test_cleanup(void)
{
	log_set_fd(STDERR_FILENO);
	log_set_journal(false);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
}

static const struct unit_test tests[] = {
    {"setup", test_setup},
    {"message", test_message},
    {"call_id_forms", test_call_id_forms},
    {"sofia_lines", test_sofia_lines},
    {"trace_level", test_trace_level},
    {"hostile", test_hostile},
    {"resync", test_resync},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

UNIT_MAIN("sig_trace", tests)
