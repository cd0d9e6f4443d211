/* test_options_ivr.c: the dial-in options (core/options_ivr.c) through
 * options_parse(): defaults, each option good and bad, keypad sequences
 * from the command line and from an INI file (where '#' and '*' are
 * ordinary characters of a value), sequences that collide, and
 * --check-config output that reads back as the same settings. */
#include "core/core.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[512];
static char *printed;
static size_t printed_len;

static int parse_argv(struct options *o, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	free(printed);
	printed = NULL;
	FILE *f = open_memstream(&printed, &printed_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	err[0] = '\0';
	int rc = options_parse(o, argc, argv, f, err, sizeof(err));
	fclose(f);
	return rc;
}

#define PARSE(o, ...) parse_argv(o, (char *[]){"tutti", __VA_ARGS__, NULL})

/* The command line fails with a message that holds want. */
#define BAD(want, ...)                                                         \
	do {                                                                   \
		struct options bad;                                            \
		CU_ASSERT_EQUAL(PARSE(&bad, __VA_ARGS__), -EINVAL);            \
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want));                     \
		if (!strstr(err, want))                                        \
			printf("\n  want '%s'\n  got  '%s'\n", want, err);     \
	} while (0)

static char *file_with(const char *text)
{
	char *path = strdup("/tmp/tutti-ivr-opts-XXXXXX");
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void)
{
	struct options o;
	CU_ASSERT_EQUAL(PARSE(&o, "--log-level", "info"), OPTIONS_RUN);
	const struct ivr_options *v = &o.ivr;
	CU_ASSERT_STRING_EQUAL(v->prompt_dir, "");
	CU_ASSERT_STRING_EQUAL(v->dialin_number, "");
	CU_ASSERT_EQUAL(v->digit_timeout_s, 5);
	CU_ASSERT_TRUE(v->join_tones);
	CU_ASSERT_FALSE(v->announce_count);
	CU_ASSERT_FALSE(v->wait_for_moderator);
	CU_ASSERT_FALSE(v->end_with_last_moderator);
	static const char *const keys[OPT_KEY_N] = {
	    "*6", "*4", "*5", "*7", "*9", "*8", "*0", "*1", "*2", "*3"};
	for (int k = 0; k < OPT_KEY_N; k++)
		CU_ASSERT_STRING_EQUAL(v->keypad[k], keys[k]);
}

static void test_values(void)
{
	struct options o;
	CU_ASSERT_EQUAL(PARSE(&o, "--prompt-dir", "/tmp", "--dialin-number",
			      "+4930555", "--digit-timeout", "2",
			      "--join-tones", "no", "--announce-count", "yes",
			      "--wait-for-moderator", "on",
			      "--end-with-last-moderator", "true"),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.ivr.prompt_dir, "/tmp");
	CU_ASSERT_STRING_EQUAL(o.ivr.dialin_number, "+4930555");
	CU_ASSERT_EQUAL(o.ivr.digit_timeout_s, 2);
	CU_ASSERT_FALSE(o.ivr.join_tones);
	CU_ASSERT_TRUE(o.ivr.announce_count);
	CU_ASSERT_TRUE(o.ivr.wait_for_moderator);
	CU_ASSERT_TRUE(o.ivr.end_with_last_moderator);

	BAD("--prompt-dir: '/nonexistent-tutti' is not a directory",
	    "--prompt-dir", "/nonexistent-tutti");
	BAD("--prompt-dir: '/etc/hostname' is not a directory", "--prompt-dir",
	    "/etc/hostname");
	BAD("--dialin-number: 'a b' is not the user part", "--dialin-number",
	    "a b");
	BAD("--dialin-number: 'x@y' is not", "--dialin-number", "x@y");
	BAD("--digit-timeout: '0' is not in 1..60", "--digit-timeout", "0");
	BAD("--digit-timeout: '61' is not in 1..60", "--digit-timeout", "61");
	BAD("--digit-timeout: 'five'", "--digit-timeout", "five");
	BAD("--join-tones: 'loud' is not yes or no", "--join-tones", "loud");
	BAD("--wait-for-moderator: '' is not yes or no", "--wait-for-moderator",
	    "");
}

static void test_keys(void)
{
	struct options o;
	CU_ASSERT_EQUAL(PARSE(&o, "--keypad-mute", "#6", "--keypad-lock", "*1a",
			      "--keypad-help", ""),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.ivr.keypad[OPT_KEY_MUTE], "#6");
	CU_ASSERT_STRING_EQUAL(o.ivr.keypad[OPT_KEY_LOCK], "*1A");
	CU_ASSERT_STRING_EQUAL(o.ivr.keypad[OPT_KEY_HELP], "");

	BAD("--keypad-mute: '*x' is not keys of 0-9, *, #, A-D",
	    "--keypad-mute", "*x");
	BAD("--keypad-leave: '*123456789': at most 8 keys", "--keypad-leave",
	    "*123456789");
	BAD("--keypad-talk-up: '* 9' is not keys", "--keypad-talk-up", "* 9");
	/* A sequence that begins another could never be told from it. */
	BAD("--keypad-mute '*1' is the beginning of --keypad-lock '*1'",
	    "--keypad-mute", "*1");
	BAD("--keypad-lock '*1' is the beginning of --keypad-kick-last '*12'",
	    "--keypad-kick-last", "*12");
	/* Turning both off is fine. */
	CU_ASSERT_EQUAL(PARSE(&o, "--keypad-lock", "", "--keypad-mute", ""),
			OPTIONS_RUN);
}

/* In the config file, with '#' and '*' in values and keys in any order;
 * --check-config prints settings that parse back the same. */
static void test_config_round_trip(void)
{
	struct options o, again;
	char *path = file_with("[tutti]\n"
			       "keypad-mute = #6\n"
			       "keypad-leave = ##\n"
			       "keypad-help = *0 ; inline comment\n"
			       "announce-count = yes\n"
			       "dialin-number = 5000\n"
			       "digit-timeout = 3\n");
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.ivr.keypad[OPT_KEY_MUTE], "#6");
	CU_ASSERT_STRING_EQUAL(o.ivr.keypad[OPT_KEY_LEAVE], "##");
	CU_ASSERT_STRING_EQUAL(o.ivr.keypad[OPT_KEY_HELP], "*0");
	CU_ASSERT_TRUE(o.ivr.announce_count);
	CU_ASSERT_STRING_EQUAL(o.ivr.dialin_number, "5000");
	CU_ASSERT_EQUAL(o.ivr.digit_timeout_s, 3);

	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, "--check-config"), OPTIONS_EXIT);
	CU_ASSERT_PTR_NOT_NULL(strstr(printed, "keypad-mute = #6\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(printed, "prompt-dir =\n"));
	char *back = file_with(printed);
	CU_ASSERT_EQUAL(PARSE(&again, "-c", back), OPTIONS_RUN);
	CU_ASSERT_EQUAL(memcmp(&again.ivr, &o.ivr, sizeof(o.ivr)), 0);
	unlink(back);
	free(back);
	unlink(path);
	free(path);

	path = file_with("keypad-lock = *1\nkeypad-mute = *1\n");
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "is the beginning of"));
	unlink(path);
	free(path);
	path = file_with("keypad-mute = *6x\n");
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1: keypad-mute: '*6x' is not"));
	unlink(path);
	free(path);
}

static void test_cleanup(void)
{
	free(printed);
	printed = NULL;
}

static const struct unit_test tests[] = {
    {"defaults", test_defaults},
    {"values good and bad", test_values},
    {"keypad sequences", test_keys},
    {"config file and --check-config", test_config_round_trip},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

UNIT_MAIN("options_ivr", tests)
