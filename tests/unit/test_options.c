/* test_options.c: options_parse() on the command line, the environment and
 * config files: every option good and bad, precedence, error messages with
 * file and line, and --check-config output that never shows the token.
 * Config files are written with mkstemp() under /tmp and removed. */
#include "core/core.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_ENV "TUTTI_API_TOKEN"

static char err[1024];
static char *out_buf;
static size_t out_len;

/* argv ends with NULL; argv[0] is added by the macros. */
static int parse_v(struct options *o, char **argv)
{
	FILE *f;
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	free(out_buf);
	out_buf = NULL;
	f = open_memstream(&out_buf, &out_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	err[0] = '\0';
	rc = options_parse(o, argc, argv, f, err, sizeof(err));
	fclose(f);
	return rc;
}

#define PARSE(o, ...) parse_v(o, (char *[]){"tutti", __VA_ARGS__})

/* Fails, names the problem in one line and leaves o untouched. */
static void expect_bad(char **argv, const char *needle)
{
	struct options o, before;

	memset(&o, 0x5a, sizeof(o));
	before = o;
	CU_ASSERT_EQUAL(parse_v(&o, argv), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	if (!strstr(err, needle))
		fprintf(stderr, "\n  want '%s'\n  got  '%s'\n", needle, err);
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	CU_ASSERT_EQUAL(memcmp(&o, &before, sizeof(o)), 0);
}

#define BAD(needle, ...) expect_bad((char *[]){"tutti", __VA_ARGS__}, needle)

static char *tmp_with(const char *content)
{
	char *path = strdup("/tmp/tutti-test-XXXXXX");
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, content, strlen(content)),
			(ssize_t)strlen(content));
	close(fd);
	return path;
}

static void tmp_remove(char *path)
{
	unlink(path);
	free(path);
}

/* Expects the config file holding text to fail with "PATH:line: what". */
static void bad_config(const char *text, unsigned line, const char *what)
{
	char *path = tmp_with(text);
	char want[256];

	snprintf(want, sizeof(want), "%s:%u: %s", path, line, what);
	BAD(want, "-c", path, NULL);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	tmp_remove(path);
}

static void test_setup(void)
{
	unsetenv(TOKEN_ENV);
}

static void check_defaults(const struct options *o)
{
	CU_ASSERT_STRING_EQUAL(o->config_path, "");
	CU_ASSERT_FALSE(o->check_config);
	CU_ASSERT_STRING_EQUAL(o->sip_listen, "0.0.0.0:5060");
	CU_ASSERT_STRING_EQUAL(o->sip_host, "0.0.0.0");
	CU_ASSERT_EQUAL(o->sip_port, 5060);
	CU_ASSERT_STRING_EQUAL(o->sip_tls_listen, "");
	CU_ASSERT_STRING_EQUAL(o->tls_cert, "");
	CU_ASSERT_STRING_EQUAL(o->tls_key, "");
	CU_ASSERT_STRING_EQUAL(o->public_addr, "");
	CU_ASSERT_EQUAL(o->rtp_port_lo, 20000);
	CU_ASSERT_EQUAL(o->rtp_port_hi, 29999);
	CU_ASSERT_STRING_EQUAL(o->http_listen, "127.0.0.1:8080");
	CU_ASSERT_STRING_EQUAL(o->http_host, "127.0.0.1");
	CU_ASSERT_EQUAL(o->http_port, 8080);
	CU_ASSERT_STRING_EQUAL(o->api_token, "");
	CU_ASSERT_STRING_EQUAL(o->api_token_file, "");
	CU_ASSERT_STRING_EQUAL(o->data_dir, "./tutti-data");
	CU_ASSERT_EQUAL(o->log_levels.base, LL_INFO);
	for (size_t i = 0; i < LOG_SUBSYS_N; i++)
		CU_ASSERT_EQUAL(o->log_levels.sub[i], -1);
	CU_ASSERT_TRUE(o->rooms_on_demand);
	CU_ASSERT_EQUAL(o->max_participants, 0);
	CU_ASSERT_EQUAL(o->notify_interval_ms, 1000);
	CU_ASSERT_EQUAL(o->rtp_timeout_s, 30);
	CU_ASSERT_EQUAL(o->max_speakers, 4);
	CU_ASSERT_EQUAL(o->realtime, 0);
	CU_ASSERT_FALSE(o->sip_trace);
}

static void test_defaults(void)
{
	struct options o;

	options_defaults(&o);
	check_defaults(&o);
	memset(&o, 0x5a, sizeof(o));
	CU_ASSERT_EQUAL(PARSE(&o, NULL), OPTIONS_RUN);
	check_defaults(&o);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(out_len, 0);
	/* Also with no argv at all, and again: getopt state is reset. */
	CU_ASSERT_EQUAL(options_parse(&o, 0, NULL, NULL, err, sizeof(err)),
			OPTIONS_RUN);
	check_defaults(&o);
	CU_ASSERT_EQUAL(PARSE(&o, "--data-dir", "/x", NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.data_dir, "/x");
	CU_ASSERT_EQUAL(PARSE(&o, "--data-dir", "/y", NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.data_dir, "/y");
}

static void test_listen(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, "--sip-listen", "127.0.0.1:5070",
			      "--http-listen=[::1]:8081", NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.sip_listen, "127.0.0.1:5070");
	CU_ASSERT_STRING_EQUAL(o.sip_host, "127.0.0.1");
	CU_ASSERT_EQUAL(o.sip_port, 5070);
	CU_ASSERT_STRING_EQUAL(o.http_listen, "[::1]:8081");
	CU_ASSERT_STRING_EQUAL(o.http_host, "::1");
	CU_ASSERT_EQUAL(o.http_port, 8081);

	BAD("--sip-listen: 'x' is not", "--sip-listen", "x", NULL);
	BAD("--sip-listen: '1.2.3.4' is not", "--sip-listen", "1.2.3.4", NULL);
	BAD("--sip-listen: 'localhost:5060' is not", "--sip-listen",
	    "localhost:5060", NULL);
	BAD("--sip-listen: '1.2.3.4:0' is not", "--sip-listen", "1.2.3.4:0",
	    NULL);
	BAD("--sip-listen: '' is not", "--sip-listen", "", NULL);
	BAD("--http-listen: '[::1]:70000' is not", "--http-listen",
	    "[::1]:70000", NULL);
	BAD("--http-listen: '::1:8080' is not", "--http-listen", "::1:8080",
	    NULL);
}

static void test_tls(void)
{
	struct options o;
	char cert[] = TUTTI_TEST_DATA "/tls/bridge.crt";
	char key[] = TUTTI_TEST_DATA "/tls/bridge.key";
	char other[] = TUTTI_TEST_DATA "/tls/other.key";
	char *junk = tmp_with("not a certificate");

	CU_ASSERT_EQUAL(PARSE(&o, "--sip-tls-listen", "0.0.0.0:5061",
			      "--tls-cert", cert, "--tls-key", key, NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.sip_tls_listen, "0.0.0.0:5061");
	CU_ASSERT_STRING_EQUAL(o.sip_tls_host, "0.0.0.0");
	CU_ASSERT_EQUAL(o.sip_tls_port, 5061);
	CU_ASSERT_STRING_EQUAL(o.tls_cert, cert);
	CU_ASSERT_STRING_EQUAL(o.tls_key, key);
	/* Certificate and key alone do not turn TLS on. */
	CU_ASSERT_EQUAL(PARSE(&o, "--tls-cert", cert, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.sip_tls_listen, "");

	BAD("--sip-tls-listen needs --tls-cert and --tls-key",
	    "--sip-tls-listen", "0.0.0.0:5061", NULL);
	BAD("--sip-tls-listen needs --tls-cert and --tls-key",
	    "--sip-tls-listen", "0.0.0.0:5061", "--tls-cert", cert, NULL);
	BAD("--sip-tls-listen needs --tls-cert and --tls-key",
	    "--sip-tls-listen", "0.0.0.0:5061", "--tls-key", key, NULL);
	BAD("--tls-cert: '/nonexistent/cert.pem': No such file",
	    "--sip-tls-listen", "0.0.0.0:5061", "--tls-cert",
	    "/nonexistent/cert.pem", "--tls-key", key, NULL);
	BAD("--tls-key: '/nonexistent/key.pem': No such file",
	    "--sip-tls-listen", "0.0.0.0:5061", "--tls-cert", cert, "--tls-key",
	    "/nonexistent/key.pem", NULL);
	BAD("--sip-tls-listen: 'nope' is not", "--sip-tls-listen", "nope",
	    "--tls-cert", cert, "--tls-key", key, NULL);
	/* The pair must load and match: Sofia-SIP would listen without TLS. */
	BAD("does not match --tls-cert", "--sip-tls-listen", "0.0.0.0:5061",
	    "--tls-cert", cert, "--tls-key", other, NULL);
	BAD("not a PEM certificate", "--sip-tls-listen", "0.0.0.0:5061",
	    "--tls-cert", junk, "--tls-key", key, NULL);
	BAD("not a PEM private key", "--sip-tls-listen", "0.0.0.0:5061",
	    "--tls-cert", cert, "--tls-key", junk, NULL);
	BAD("not a PEM private key", "--sip-tls-listen", "0.0.0.0:5061",
	    "--tls-cert", cert, "--tls-key", cert, NULL);
	tmp_remove(junk);
}

static void test_public_addr(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, "--public-addr", "203.0.113.7", NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.public_addr, "203.0.113.7");
	CU_ASSERT_EQUAL(PARSE(&o, "--public-addr", "2001:db8::7", NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.public_addr, "2001:db8::7");

	BAD("--public-addr: 'example.com' is not an IP address",
	    "--public-addr", "example.com", NULL);
	BAD("--public-addr: '1.2.3.4:5060' is not an IP address",
	    "--public-addr", "1.2.3.4:5060", NULL);
	BAD("--public-addr: '[::1]' is not an IP address", "--public-addr",
	    "[::1]", NULL);
}

static void test_rtp_ports(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, "--rtp-ports", "40000-40001", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.rtp_port_lo, 40000);
	CU_ASSERT_EQUAL(o.rtp_port_hi, 40001);
	CU_ASSERT_EQUAL(PARSE(&o, "--rtp-ports", "1024-65535", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.rtp_port_lo, 1024);
	CU_ASSERT_EQUAL(o.rtp_port_hi, 65535);

	BAD("--rtp-ports: 'abc' is not LO-HI", "--rtp-ports", "abc", NULL);
	BAD("--rtp-ports: '20000' is not LO-HI", "--rtp-ports", "20000", NULL);
	BAD("--rtp-ports: '20000-' is not LO-HI", "--rtp-ports", "20000-",
	    NULL);
	BAD("--rtp-ports: '-30000' is not LO-HI", "--rtp-ports", "-30000",
	    NULL);
	BAD("--rtp-ports: '20000-30000-1' is not LO-HI", "--rtp-ports",
	    "20000-30000-1", NULL);
	BAD("--rtp-ports: '20000 -30000' is not LO-HI", "--rtp-ports",
	    "20000 -30000", NULL);
	BAD("--rtp-ports: '+2000-3000' is not LO-HI", "--rtp-ports",
	    "+2000-3000", NULL);
	BAD("--rtp-ports: '20001-30000': LO must be even", "--rtp-ports",
	    "20001-30000", NULL);
	BAD("--rtp-ports: '30000-20000': LO must be below HI", "--rtp-ports",
	    "30000-20000", NULL);
	BAD("--rtp-ports: '30000-30000': LO must be below HI", "--rtp-ports",
	    "30000-30000", NULL);
	BAD("--rtp-ports: '1000-2000': ports must be in 1024..65535",
	    "--rtp-ports", "1000-2000", NULL);
	BAD("--rtp-ports: '2000-65536': ports must be in 1024..65535",
	    "--rtp-ports", "2000-65536", NULL);
	BAD("--rtp-ports: '0-0': ports must be in 1024..65535", "--rtp-ports",
	    "0-0", NULL);
}

static void test_api_token(void)
{
	struct options o;
	char longtok[300];

	CU_ASSERT_EQUAL(PARSE(&o, "--api-token", "s3cret-Token_1", NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "s3cret-Token_1");

	setenv(TOKEN_ENV, "from-env", 1);
	CU_ASSERT_EQUAL(PARSE(&o, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "from-env");
	CU_ASSERT_EQUAL(PARSE(&o, "--api-token", "from-argv", NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "from-argv");
	/* An empty token clears the one from the environment. */
	CU_ASSERT_EQUAL(PARSE(&o, "--api-token", "", NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "");
	setenv(TOKEN_ENV, "bad token", 1);
	BAD(TOKEN_ENV ": token must be printable", NULL);
	CU_ASSERT_PTR_NULL(strstr(err, "bad token"));
	setenv(TOKEN_ENV, "", 1);
	CU_ASSERT_EQUAL(PARSE(&o, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "");
	unsetenv(TOKEN_ENV);

	BAD("--api-token: token must be printable", "--api-token", "two words",
	    NULL);
	CU_ASSERT_PTR_NULL(strstr(err, "two words"));
	BAD("--api-token: token must be printable", "--api-token", "tab\there",
	    NULL);
	memset(longtok, 'a', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	BAD("--api-token: token too long", "--api-token", longtok, NULL);
	longtok[255] = '\0';
	CU_ASSERT_EQUAL(PARSE(&o, "--api-token", longtok, NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(strlen(o.api_token), 255);
}

static void test_api_token_file(void)
{
	struct options o;
	char *f1 = tmp_with("file-token\n");
	char *f2 = tmp_with("crlf-token\r\n");
	char *empty = tmp_with("");
	char *blank = tmp_with("\n\n");
	char *spaced = tmp_with("two words\n");
	char *lines = tmp_with("one\ntwo\n");
	char want[256];

	CU_ASSERT_EQUAL(PARSE(&o, "--api-token-file", f1, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "file-token");
	CU_ASSERT_STRING_EQUAL(o.api_token_file, f1);
	CU_ASSERT_EQUAL(PARSE(&o, "--api-token-file", f2, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "crlf-token");

	/* The file beats the environment. */
	setenv(TOKEN_ENV, "from-env", 1);
	CU_ASSERT_EQUAL(PARSE(&o, "--api-token-file", f1, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "file-token");
	unsetenv(TOKEN_ENV);

	snprintf(want, sizeof(want), "--api-token-file: '%s' is empty", empty);
	BAD(want, "--api-token-file", empty, NULL);
	snprintf(want, sizeof(want), "--api-token-file: '%s' is empty", blank);
	BAD(want, "--api-token-file", blank, NULL);
	BAD("--api-token-file: token must be printable", "--api-token-file",
	    spaced, NULL);
	CU_ASSERT_PTR_NULL(strstr(err, "two words"));
	BAD("--api-token-file: token must be printable", "--api-token-file",
	    lines, NULL);
	BAD("--api-token-file: '/nonexistent/token': No such file",
	    "--api-token-file", "/nonexistent/token", NULL);
	BAD("--api-token-file: '/tmp': Is a directory", "--api-token-file",
	    "/tmp", NULL);
	BAD("api-token and api-token-file are both given", "--api-token", "x",
	    "--api-token-file", f1, NULL);
	BAD("api-token and api-token-file are both given", "--api-token-file",
	    f1, "--api-token", "x", NULL);

	tmp_remove(f1);
	tmp_remove(f2);
	tmp_remove(empty);
	tmp_remove(blank);
	tmp_remove(spaced);
	tmp_remove(lines);
}

static void test_data_dir_log_level(void)
{
	struct options o;
	static const char *const levels[] = {"error", "warn", "info", "debug"};

	CU_ASSERT_EQUAL(PARSE(&o, "--data-dir", "/var/lib/tutti", NULL),
			OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.data_dir, "/var/lib/tutti");
	BAD("--data-dir: must not be empty", "--data-dir", "", NULL);

	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(
		    PARSE(&o, "--log-level", (char *)levels[i], NULL),
		    OPTIONS_RUN);
		CU_ASSERT_EQUAL(o.log_levels.base, (enum log_level)i);
	}
	BAD("--log-level: 'verbose' is not error, warn, info or debug",
	    "--log-level", "verbose", NULL);
}

/* Per-subsystem levels: the base anywhere in the list, blanks around the
 * items, every mistake named. */
static void test_log_subsystems(void)
{
	struct options o;
	int sip = log_subsys_index("sip"), rtp = log_subsys_index("rtp");

	CU_ASSERT_TRUE_FATAL(sip >= 0 && rtp >= 0);
	CU_ASSERT_EQUAL(
	    PARSE(&o, "--log-level", "info,sip=debug,rtp=warn", NULL),
	    OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.log_levels.base, LL_INFO);
	CU_ASSERT_EQUAL(log_levels_of(&o.log_levels, (size_t)sip), LL_DEBUG);
	CU_ASSERT_EQUAL(log_levels_of(&o.log_levels, (size_t)rtp), LL_WARN);
	CU_ASSERT_EQUAL(log_levels_of(&o.log_levels, 0), LL_INFO);

	CU_ASSERT_EQUAL(PARSE(&o, "--log-level", " sip = error , warn ", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.log_levels.base, LL_WARN);
	CU_ASSERT_EQUAL(log_levels_of(&o.log_levels, (size_t)sip), LL_ERROR);
	CU_ASSERT_EQUAL(PARSE(&o, "--log-level", "trace=debug", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.log_levels.base, LL_INFO);

	BAD("--log-level: 'nosuch' is not a subsystem", "--log-level",
	    "info,nosuch=debug", NULL);
	BAD("--log-level: 'loud' is not error, warn, info or debug",
	    "--log-level", "sip=loud", NULL);
	BAD("--log-level: 'sip' is given twice", "--log-level",
	    "sip=info,sip=debug", NULL);
	BAD("--log-level: 'debug': the level is given twice", "--log-level",
	    "info,debug", NULL);
	BAD("--log-level: empty item", "--log-level", "info,,sip=debug", NULL);
	BAD("--log-level: empty item", "--log-level", "", NULL);
	BAD("--log-level: empty item", "--log-level", "info,", NULL);
	BAD("--log-level: '' is not a subsystem", "--log-level", "=sip", NULL);
	BAD("--log-level: '' is not error", "--log-level", "sip=", NULL);

	/* --check-config prints the canonical form, which reads back. */
	CU_ASSERT_EQUAL(PARSE(&o, "--check-config", "--log-level",
			      "rtp=warn, debug,sip=error", NULL),
			OPTIONS_EXIT);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out_buf, "\nlog-level = debug,sip=error,rtp=warn\n"));
	CU_ASSERT_EQUAL(PARSE(&o, "--check-config", NULL), OPTIONS_EXIT);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "\nlog-level = info\n"));
}

/* --sip-trace alone means yes; =no and the config file's yes/no too. */
static void test_sip_trace(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, "--sip-trace", NULL), OPTIONS_RUN);
	CU_ASSERT_TRUE(o.sip_trace);
	CU_ASSERT_EQUAL(PARSE(&o, "--sip-trace=no", NULL), OPTIONS_RUN);
	CU_ASSERT_FALSE(o.sip_trace);
	CU_ASSERT_EQUAL(PARSE(&o, "--sip-trace=on", NULL), OPTIONS_RUN);
	CU_ASSERT_TRUE(o.sip_trace);
	BAD("--sip-trace: 'loud' is not yes or no", "--sip-trace=loud", NULL);
	/* An optional value is never the next word. */
	BAD("unexpected argument 'no'", "--sip-trace", "no", NULL);
	bad_config("sip-trace = sometimes\n", 1, "sip-trace: 'sometimes'");

	char *path = tmp_with("sip-trace = yes\n");
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, NULL), OPTIONS_RUN);
	CU_ASSERT_TRUE(o.sip_trace);
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, "--sip-trace=no", NULL),
			OPTIONS_RUN);
	CU_ASSERT_FALSE(o.sip_trace);
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, "--check-config", NULL),
			OPTIONS_EXIT);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "\nsip-trace = yes\n"));
	tmp_remove(path);
}

static void test_bool(void)
{
	struct options o;
	static const char *const yes[] = {"yes", "true", "1", "on", "YES"};
	static const char *const no[] = {"no", "false", "0", "off", "Off"};

	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(
		    PARSE(&o, "--rooms-on-demand", (char *)no[i], NULL),
		    OPTIONS_RUN);
		CU_ASSERT_FALSE(o.rooms_on_demand);
		CU_ASSERT_EQUAL(
		    PARSE(&o, "--rooms-on-demand", (char *)yes[i], NULL),
		    OPTIONS_RUN);
		CU_ASSERT_TRUE(o.rooms_on_demand);
	}
	BAD("--rooms-on-demand: 'maybe' is not yes or no", "--rooms-on-demand",
	    "maybe", NULL);
	BAD("--rooms-on-demand: '' is not yes or no", "--rooms-on-demand", "",
	    NULL);
}

static void test_numbers(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, "--max-participants", "10000",
			      "--notify-interval", "250", "--rtp-timeout", "5",
			      NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.max_participants, 10000);
	CU_ASSERT_EQUAL(o.notify_interval_ms, 250);
	CU_ASSERT_EQUAL(o.rtp_timeout_s, 5);
	CU_ASSERT_EQUAL(PARSE(&o, "--max-participants", "0", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.max_participants, 0);

	BAD("--max-participants: '10001' is not in 0..10000",
	    "--max-participants", "10001", NULL);
	BAD("--max-participants: '-1' is not a number", "--max-participants",
	    "-1", NULL);
	BAD("--max-participants: '99999999999999999999999' is not in",
	    "--max-participants", "99999999999999999999999", NULL);
	BAD("--max-participants: '5x' is not a number", "--max-participants",
	    "5x", NULL);
	BAD("--max-participants: '0x10' is not a number", "--max-participants",
	    "0x10", NULL);
	BAD("--notify-interval: '' is not a number", "--notify-interval", "",
	    NULL);
	BAD("--notify-interval: '3600001' is not in", "--notify-interval",
	    "3600001", NULL);
	BAD("--rtp-timeout: '0' is not in", "--rtp-timeout", "0", NULL);
	BAD("--rtp-timeout: ' 5' is not a number", "--rtp-timeout", " 5", NULL);

	CU_ASSERT_EQUAL(PARSE(&o, "--max-speakers", "0", NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.max_speakers, 0);
	CU_ASSERT_EQUAL(PARSE(&o, "--max-speakers", "1000", NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.max_speakers, 1000);
	BAD("--max-speakers: '1001' is not in 0..1000", "--max-speakers",
	    "1001", NULL);
	BAD("--max-speakers: 'four' is not a number", "--max-speakers", "four",
	    NULL);
}

/* --realtime: 0 (off) or a SCHED_FIFO priority, 1..99; on the command
 * line and as the config key realtime. */
static void test_realtime(void)
{
	struct options o;
	char *path;

	CU_ASSERT_EQUAL(PARSE(&o, "--realtime", "5", NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.realtime, 5);
	CU_ASSERT_EQUAL(PARSE(&o, "--realtime=99", NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.realtime, 99);
	CU_ASSERT_EQUAL(PARSE(&o, "--realtime", "0", NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.realtime, 0);

	BAD("--realtime: '100' is not in 0..99", "--realtime", "100", NULL);
	BAD("--realtime: '-1' is not a number", "--realtime", "-1", NULL);
	BAD("--realtime: 'high' is not a number", "--realtime", "high", NULL);
	BAD("--realtime: '' is not a number", "--realtime", "", NULL);
	BAD("--realtime: missing value", "--realtime", NULL);

	path = tmp_with("[tutti]\nrealtime = 10\n");
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.realtime, 10);
	/* The command line wins over the file. */
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, "--realtime", "0", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.realtime, 0);
	tmp_remove(path);
	bad_config("realtime = 1000\n", 1, "realtime: '1000' is not in 0..99");
}

static void test_limits(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, NULL), OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.max_calls, 4000);
	CU_ASSERT_EQUAL(o.max_rooms, 1000);
	CU_ASSERT_EQUAL(o.max_subscriptions, 10000);
	CU_ASSERT_EQUAL(o.sip_rate, 100);
	CU_ASSERT_EQUAL(o.sip_max_size, 65536);
	CU_ASSERT_EQUAL(o.session_expires_s, 1800);
	CU_ASSERT_EQUAL(PARSE(&o, "--max-calls", "0", "--max-rooms", "0",
			      "--max-subscriptions", "0", "--sip-rate", "0",
			      "--sip-max-size", "4096", "--session-expires",
			      "0", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.max_calls + o.max_rooms + o.max_subscriptions, 0);
	CU_ASSERT_EQUAL(o.sip_rate, 0);
	CU_ASSERT_EQUAL(o.sip_max_size, 4096);
	CU_ASSERT_EQUAL(o.session_expires_s, 0);
	CU_ASSERT_EQUAL(PARSE(&o, "--session-expires", "90", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.session_expires_s, 90);

	BAD("--max-calls: 'many' is not a number", "--max-calls", "many", NULL);
	BAD("--sip-max-size: '100' is not in 4096..", "--sip-max-size", "100",
	    NULL);
	BAD("--session-expires: '89' is below 90", "--session-expires", "89",
	    NULL);
	BAD("--sip-rate: '100001' is not in", "--sip-rate", "100001", NULL);
}

static void test_bad_command_line(void)
{
	BAD("unknown option '--bogus'", "--bogus", NULL);
	BAD("unknown option '--bogus'", "--bogus=1", NULL);
	BAD("unknown option '-x'", "-x", NULL);
	BAD("ambiguous option '--rtp'", "--rtp", "1", NULL);
	BAD("--sip-listen: missing value", "--sip-listen", NULL);
	BAD("--config: missing value", "-c", NULL);
	BAD("--help: takes no value", "--help=yes", NULL);
	BAD("--check-config: takes no value", "--check-config=1", NULL);
	BAD("unexpected argument 'stray'", "stray", NULL);
	BAD("unexpected argument 'stray'", "--data-dir", "/x", "stray",
	    "--log-level", "debug", NULL);
	BAD("unexpected argument 'x'", "--", "x", NULL);
	/* A value with a newline must not break the one-line message. */
	BAD("--log-level: 'a?b' is not", "--log-level", "a\nb", NULL);
}

static void version_hook(FILE *f)
{
	fputs("libfoo 1.2\n", f);
}

static void test_help_version(void)
{
	struct options o;

	CU_ASSERT_EQUAL(PARSE(&o, "--help", NULL), OPTIONS_EXIT);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "Usage: tutti"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "--rtp-ports"));
	/* Every subsystem --log-level takes is listed. */
	for (size_t i = 0; log_subsys_name(i); i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, log_subsys_name(i)));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "Log subsystems: main, sip,"));
	CU_ASSERT_EQUAL(PARSE(&o, "-h", NULL), OPTIONS_EXIT);
	/* --help does not need a readable config file. */
	CU_ASSERT_EQUAL(PARSE(&o, "-c", "/nonexistent.conf", "-h", NULL),
			OPTIONS_EXIT);

	CU_ASSERT_EQUAL(PARSE(&o, "--version", NULL), OPTIONS_EXIT);
	CU_ASSERT_STRING_EQUAL(out_buf, "tutti " TUTTI_VERSION "\n");
	options_version_hook = version_hook;
	CU_ASSERT_EQUAL(PARSE(&o, "-V", NULL), OPTIONS_EXIT);
	CU_ASSERT_STRING_EQUAL(out_buf,
			       "tutti " TUTTI_VERSION "\nlibfoo 1.2\n");
	options_version_hook = NULL;
}

static void test_config_file(void)
{
	struct options o;
	char *tok = tmp_with("tok-from-file\n");
	char text[1024];
	char *path;

	snprintf(text, sizeof(text),
		 "; a comment\n"
		 "# another\n"
		 "\n"
		 "[tutti]\n"
		 "sip-listen = 127.0.0.1:5070\n"
		 "  public-addr = 192.0.2.1\n"
		 "rtp-ports=30000-30099\n"
		 "http-listen = [::1]:9090 ; inline comment\n"
		 "api-token-file = %s\n"
		 "data-dir = /srv/tutti\n"
		 "log-level = debug\n"
		 "rooms-on-demand = off\n"
		 "max-participants = 12\n"
		 "notify-interval = 500\n"
		 "rtp-timeout = 60\n"
		 "max-speakers = 3\n",
		 tok);
	path = tmp_with(text);

	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.config_path, path);
	CU_ASSERT_STRING_EQUAL(o.sip_listen, "127.0.0.1:5070");
	CU_ASSERT_EQUAL(o.sip_port, 5070);
	CU_ASSERT_STRING_EQUAL(o.public_addr, "192.0.2.1");
	CU_ASSERT_EQUAL(o.rtp_port_lo, 30000);
	CU_ASSERT_EQUAL(o.rtp_port_hi, 30099);
	CU_ASSERT_STRING_EQUAL(o.http_host, "::1");
	CU_ASSERT_EQUAL(o.http_port, 9090);
	CU_ASSERT_STRING_EQUAL(o.api_token, "tok-from-file");
	CU_ASSERT_STRING_EQUAL(o.data_dir, "/srv/tutti");
	CU_ASSERT_EQUAL(o.log_levels.base, LL_DEBUG);
	CU_ASSERT_FALSE(o.rooms_on_demand);
	CU_ASSERT_EQUAL(o.max_participants, 12);
	CU_ASSERT_EQUAL(o.notify_interval_ms, 500);
	CU_ASSERT_EQUAL(o.rtp_timeout_s, 60);
	CU_ASSERT_EQUAL(o.max_speakers, 3);

	/* The command line wins, whether before or after -c. */
	CU_ASSERT_EQUAL(PARSE(&o, "--log-level", "warn", "--config", path,
			      "--rtp-ports", "40000-40999", "--api-token",
			      "argv-token", NULL),
			OPTIONS_RUN);
	CU_ASSERT_EQUAL(o.log_levels.base, LL_WARN);
	CU_ASSERT_EQUAL(o.rtp_port_lo, 40000);
	CU_ASSERT_STRING_EQUAL(o.api_token, "argv-token");
	CU_ASSERT_STRING_EQUAL(o.api_token_file, "");
	CU_ASSERT_STRING_EQUAL(o.data_dir, "/srv/tutti");
	tmp_remove(path);

	/* No section header at all, and the token from the file. */
	path = tmp_with("api-token = conf-token\r\nmax-participants = 3");
	setenv(TOKEN_ENV, "from-env", 1);
	BAD("--config: must not be empty", "--config=", NULL);
	CU_ASSERT_EQUAL(PARSE(&o, "--config", path, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(o.api_token, "conf-token");
	CU_ASSERT_EQUAL(o.max_participants, 3);
	unsetenv(TOKEN_ENV);
	tmp_remove(path);
	tmp_remove(tok);
}

static void test_config_errors(void)
{
	char longline[400];

	bad_config("[tutti]\nsip-listen = 1.2.3.4:5060\nfoo = 1\n", 3,
		   "unknown key 'foo'");
	bad_config("\n\nrtp-ports = abc\n", 3, "rtp-ports: 'abc' is not LO-HI");
	bad_config("log-level = info\nthis is not ini\n", 2, "syntax error");
	bad_config("[tutti\nlog-level = info\n", 1, "syntax error");
	bad_config("[other]\nlog-level = info\n", 2, "unknown section [other]");
	bad_config("config = /etc/tutti.conf\n", 1, "unknown key 'config'");
	bad_config("check-config = yes\n", 1, "unknown key 'check-config'");
	bad_config("max-participants = 5\nmax-participants = many\n", 2,
		   "max-participants: 'many' is not a number");
	bad_config("api-token = a\napi-token-file = /dev/null\n", 2,
		   "api-token-file: api-token and api-token-file are both");
	/* The first error wins, syntax or value. */
	bad_config("log-level = loud\nnonsense\n", 1, "log-level: 'loud'");
	bad_config("nonsense\nlog-level = loud\n", 1, "syntax error");

	/* A token in a bad line is never echoed. */
	bad_config("api-token = not secret\n", 1,
		   "api-token: token must be printable");
	CU_ASSERT_PTR_NULL(strstr(err, "not secret"));

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "data-dir=", 9);
	bad_config(longline, 1, "line longer than");

	BAD("/nonexistent/tutti.conf: No such file", "-c",
	    "/nonexistent/tutti.conf", NULL);
}

static void test_check_config(void)
{
	struct options o, again;
	static const char *const keys[] = {
	    "sip-listen = ",	   "sip-tls-listen =",	 "tls-cert =",
	    "tls-key =",	   "public-addr =",	 "rtp-ports = ",
	    "http-listen = ",	   "api-token = ",	 "api-token-file =",
	    "data-dir = ",	   "log-level = ",	 "rooms-on-demand = ",
	    "max-participants = ", "notify-interval = ", "rtp-timeout = ",
	    "max-calls = ",	   "max-rooms = ",	 "max-subscriptions = ",
	    "sip-rate = ",	   "sip-max-size = ",	 "session-expires = ",
	    "max-speakers = 4\n",  "sip-trace = no\n",	 "realtime = 0\n",
	};
	char *path;

	CU_ASSERT_EQUAL(PARSE(&o, "--check-config", NULL), OPTIONS_EXIT);
	CU_ASSERT_TRUE(o.check_config);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, keys[i]));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "api-token = (unset)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "rtp-ports = 20000-29999\n"));

	CU_ASSERT_EQUAL(PARSE(&o, "--check-config", "--api-token",
			      "very-secret-token", "--rooms-on-demand", "no",
			      "--public-addr", "192.0.2.9", NULL),
			OPTIONS_EXIT);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "api-token = (set)"));
	CU_ASSERT_PTR_NULL(strstr(out_buf, "very-secret-token"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "rooms-on-demand = no\n"));

	/* The output reads back as a config file with the same settings. */
	path = tmp_with(out_buf);
	CU_ASSERT_EQUAL(PARSE(&again, "-c", path, "--api-token",
			      "very-secret-token", "--check-config", NULL),
			OPTIONS_EXIT);
	memset(again.config_path, 0, sizeof(again.config_path));
	CU_ASSERT_EQUAL(memcmp(&o, &again, sizeof(o)), 0);
	tmp_remove(path);

	/* A value that starts like an inline comment reads back too. */
	path = tmp_with("data-dir =;odd = dir\n");
	CU_ASSERT_EQUAL(PARSE(&o, "-c", path, "--check-config", NULL),
			OPTIONS_EXIT);
	CU_ASSERT_STRING_EQUAL(o.data_dir, ";odd = dir");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_buf, "data-dir =;odd = dir\n"));
	tmp_remove(path);
	path = tmp_with(out_buf);
	CU_ASSERT_EQUAL(PARSE(&again, "-c", path, NULL), OPTIONS_RUN);
	CU_ASSERT_STRING_EQUAL(again.data_dir, ";odd = dir");
	tmp_remove(path);

	/* A bad setting fails the check too. */
	BAD("--rtp-ports: 'x' is not LO-HI", "--check-config", "--rtp-ports",
	    "x", NULL);
}

static void test_cleanup(void)
{
	free(out_buf);
	out_buf = NULL;
}

static const struct unit_test tests[] = {
    {"setup", test_setup},
    {"defaults", test_defaults},
    {"listen", test_listen},
    {"tls", test_tls},
    {"public_addr", test_public_addr},
    {"rtp_ports", test_rtp_ports},
    {"api_token", test_api_token},
    {"api_token_file", test_api_token_file},
    {"data_dir_log_level", test_data_dir_log_level},
    {"log_subsystems", test_log_subsystems},
    {"sip_trace", test_sip_trace},
    {"bool", test_bool},
    {"numbers", test_numbers},
    {"realtime", test_realtime},
    {"limits", test_limits},
    {"bad_command_line", test_bad_command_line},
    {"help_version", test_help_version},
    {"config_file", test_config_file},
    {"config_errors", test_config_errors},
    {"check_config", test_check_config},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

UNIT_MAIN("options", tests)
