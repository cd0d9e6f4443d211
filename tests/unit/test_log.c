/* test_log.c: core/log.c and core/log_levels.c. Lines go to a pipe
 * (log_set_fd) and are read back: the plain and the journal form, levels
 * per subsystem, control characters from hostile input, multi-line text
 * (the SIP trace), and JOURNAL_STREAM detection against the real stderr's
 * device and inode. */
#include "core/core.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int pipe_fd[2] = {-1, -1};
static char got[16384];

/* Everything written since the last call, NUL-terminated. */
static const char *drain(void)
{
	ssize_t n = read(pipe_fd[0], got, sizeof(got) - 1);

	got[n > 0 ? n : 0] = '\0';
	return got;
}

static void test_setup(void)
{
	CU_ASSERT_EQUAL_FATAL(pipe2(pipe_fd, O_NONBLOCK), 0);
	log_set_fd(pipe_fd[1]);
	log_set_journal(false);
	log_set_level(LL_INFO);
}

static void test_plain_line(void)
{
	const char *s;

	log_emit(LL_INFO, "sip", "room=%s call=%s joined", "r1", "c1");
	s = drain();
	/* 2026-11-21T10:00:02.114Z info  sip   room=r1 call=c1 joined */
	CU_ASSERT_EQUAL(strlen(s), 24 + 1 + 5 + 1 + 5 + 1 + 22 + 1);
	CU_ASSERT_EQUAL(s[4], '-');
	CU_ASSERT_EQUAL(s[10], 'T');
	CU_ASSERT_EQUAL(s[23], 'Z');
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "Z info  sip   room=r1 call=c1 "
					 "joined\n"));
	log_emit(LL_WARN, NULL, "no subsystem");
	CU_ASSERT_PTR_NOT_NULL(strstr(drain(), "Z warn  -     no subsystem\n"));
}

static void test_journal_line(void)
{
	log_set_journal(true);
	log_emit(LL_ERROR, "store", "x=%d", 1);
	CU_ASSERT_STRING_EQUAL(drain(), "<3>error store x=1\n");
	log_emit(LL_WARN, "api", "w");
	CU_ASSERT_STRING_EQUAL(drain(), "<4>warn  api   w\n");
	log_emit(LL_INFO, "main", "i");
	CU_ASSERT_STRING_EQUAL(drain(), "<6>info  main  i\n");
	log_set_level(LL_DEBUG);
	log_emit(LL_DEBUG, "sofia", "d");
	CU_ASSERT_STRING_EQUAL(drain(), "<7>debug sofia d\n");
	log_set_level(LL_INFO);
	log_set_journal(false);
}

/* A newline, CR or escape in a caller's name cannot start a forged line. */
static void test_control_chars(void)
{
	log_set_journal(true);
	log_emit(LL_INFO, "sip", "uri=%s", "a\nb\r<3>error forged\x1b[1m\x7f");
	CU_ASSERT_STRING_EQUAL(drain(),
			       "<6>info  sip   uri=a b <3>error forged [1m \n");
	log_set_journal(false);
}

static void test_long_line(void)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	log_set_journal(true);
	log_emit(LL_INFO, "api", "%s", big);
	const char *s = drain();
	CU_ASSERT_EQUAL(strlen(s), 2047);
	CU_ASSERT_EQUAL(s[2046], '\n');
	CU_ASSERT_PTR_EQUAL(strchr(s, '\n'), s + 2046); /* one line */
	log_set_journal(false);
}

static void test_levels_per_subsystem(void)
{
	struct log_levels l;
	char why[128];

	CU_ASSERT_EQUAL_FATAL(
	    log_levels_parse("warn,sip=debug,api=error", &l, why, sizeof(why)),
	    0);
	log_set_levels(&l);
	log_set_journal(true);
	CU_ASSERT_EQUAL(log_get_level(), LL_DEBUG); /* the most verbose */
	CU_ASSERT_TRUE(log_enabled(LL_DEBUG, "sip"));
	CU_ASSERT_FALSE(log_enabled(LL_INFO, "room"));
	CU_ASSERT_TRUE(log_enabled(LL_WARN, "room"));
	CU_ASSERT_FALSE(log_enabled(LL_WARN, "api"));
	CU_ASSERT_TRUE(log_enabled(LL_ERROR, "api"));
	/* Names not in the table follow the base level. */
	CU_ASSERT_FALSE(log_enabled(LL_INFO, "nosuch"));
	CU_ASSERT_TRUE(log_enabled(LL_WARN, NULL));

	log_debug("sip", "one");
	log_info("room", "hidden");
	log_warn("api", "hidden");
	log_error("api", "two");
	log_warn("store", "three");
	CU_ASSERT_STRING_EQUAL(drain(), "<7>debug sip   one\n"
					"<3>error api   two\n"
					"<4>warn  store three\n");
	/* Out-of-range levels are dropped, never indexed. */
	log_emit((enum log_level)9, "sip", "bogus");
	log_emit((enum log_level) - 1, "sip", "bogus");
	CU_ASSERT_STRING_EQUAL(drain(), "");

	log_set_level(LL_ERROR);
	CU_ASSERT_EQUAL(log_get_level(), LL_ERROR);
	CU_ASSERT_FALSE(log_enabled(LL_DEBUG, "sip"));
	log_set_level(LL_INFO);
	log_set_journal(false);
}

static void test_levels_format(void)
{
	struct log_levels l;
	char why[128], buf[256];

	log_levels_init(&l, LL_WARN);
	log_levels_format(&l, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "warn");
	CU_ASSERT_EQUAL(
	    log_levels_parse("mixer=debug,main=error", &l, why, sizeof(why)),
	    0);
	log_levels_format(&l, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "info,main=error,mixer=debug");
	/* Small buffers are cut, never overrun. */
	memset(buf, 'z', sizeof(buf));
	log_levels_format(&l, buf, 8);
	CU_ASSERT_STRING_EQUAL(buf, "info,ma");
	CU_ASSERT_EQUAL(buf[8], 'z');

	/* Failure leaves out alone. */
	struct log_levels before = l;
	CU_ASSERT_EQUAL(log_levels_parse("info,x=debug", &l, why, sizeof(why)),
			-EINVAL);
	CU_ASSERT_EQUAL(memcmp(&l, &before, sizeof(l)), 0);
	CU_ASSERT_EQUAL(log_levels_parse(NULL, &l, why, sizeof(why)), -EINVAL);
	char longer[200];
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	CU_ASSERT_EQUAL(log_levels_parse(longer, &l, why, sizeof(why)),
			-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "too long"));

	CU_ASSERT_EQUAL(log_subsys_index("trace"), 2);
	CU_ASSERT_EQUAL(log_subsys_index("nosuch"), -ENOENT);
	CU_ASSERT_EQUAL(log_subsys_index(NULL), -ENOENT);
	CU_ASSERT_PTR_NULL(log_subsys_name(LOG_SUBSYS_N));
	CU_ASSERT_EQUAL(log_levels_of(&l, LOG_SUBSYS_N), l.base);
}

/* log_emit_text: each line with its own prefix, a trailing newline adds
 * no empty line, blank lines inside are kept. */
static void test_text(void)
{
	static const char msg[] = "recv 20 bytes\n  OPTIONS sip:a SIP/2.0\r\n"
				  "\n  tail";

	log_set_journal(true);
	log_emit_text(LL_INFO, "trace", msg, sizeof(msg) - 1);
	CU_ASSERT_STRING_EQUAL(drain(), "<6>info  trace recv 20 bytes\n"
					"<6>info  trace   OPTIONS sip:a "
					"SIP/2.0 \n"
					"<6>info  trace \n"
					"<6>info  trace   tail\n");
	log_emit_text(LL_INFO, "trace", "one\n", 4);
	CU_ASSERT_STRING_EQUAL(drain(), "<6>info  trace one\n");
	log_emit_text(LL_DEBUG, "trace", "hidden\n", 7);
	log_emit_text(LL_INFO, "trace", NULL, 3);
	log_emit_text(LL_INFO, "trace", "", 0);
	CU_ASSERT_STRING_EQUAL(drain(), "");
	log_set_journal(false);
}

/* Text longer than the 8 KiB buffer goes out in pieces, every line whole
 * and prefixed. */
static void test_text_long(void)
{
	static char text[12000];
	size_t n = 0, lines = 0;

	while (n + 101 < sizeof(text)) {
		memset(text + n, 'a' + (char)(lines % 26), 100);
		text[n + 100] = '\n';
		n += 101;
		lines++;
	}
	log_set_journal(true);
	log_emit_text(LL_INFO, "trace", text, n);
	const char *s = drain();
	size_t seen = 0;
	for (const char *p = s; *p; seen++) {
		const char *nl = strchr(p, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
		CU_ASSERT_EQUAL(nl - p, 15 + 100);
		CU_ASSERT_EQUAL(strncmp(p, "<6>info  trace ", 15), 0);
		p = nl + 1;
	}
	CU_ASSERT_EQUAL(seen, lines);
	log_set_journal(false);
}

/* JOURNAL_STREAM counts only when it names the stream we write to. */
static void test_detect_journal(void)
{
	struct stat st;
	char v[64];

	CU_ASSERT_EQUAL_FATAL(fstat(pipe_fd[1], &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	CU_ASSERT_TRUE(log_detect_journal());
	log_emit(LL_INFO, "main", "j");
	CU_ASSERT_STRING_EQUAL(drain(), "<6>info  main  j\n");

	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	CU_ASSERT_FALSE(log_detect_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	CU_ASSERT_FALSE(log_detect_journal());
	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	CU_ASSERT_FALSE(log_detect_journal());
	unsetenv("JOURNAL_STREAM");
	CU_ASSERT_FALSE(log_detect_journal());
	log_emit(LL_INFO, "main", "p");
	CU_ASSERT_PTR_NOT_NULL(strstr(drain(), "Z info  main  p\n"));
}

static void test_cleanup(void)
{
	log_set_fd(STDERR_FILENO);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
}

static const struct unit_test tests[] = {
    {"setup", test_setup},
    {"plain_line", test_plain_line},
    {"journal_line", test_journal_line},
    {"control_chars", test_control_chars},
    {"long_line", test_long_line},
    {"levels_per_subsystem", test_levels_per_subsystem},
    {"levels_format", test_levels_format},
    {"text", test_text},
    {"text_long", test_text_long},
    {"detect_journal", test_detect_journal},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

UNIT_MAIN("log", tests)
