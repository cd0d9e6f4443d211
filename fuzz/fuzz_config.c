/* fuzz_config.c: hostile INI files through the config reader
 * (core/options.c: inih with our line reader, then every option's
 * setter in core/options_value.c), as `tutti -c FILE` reads them.
 *
 * The input is the file's bytes, handed over through a memfd so that the
 * path is read exactly as a real file. Promises checked: a refused file
 * gets a one-line reason and leaves the caller's options untouched; an
 * accepted one gives settings within their documented ranges, and what
 * --check-config prints for them (options_print: "can be fed back as a
 * config file") reads back to the same settings, unless a printed line is
 * longer than inih's line limit, which the reader refuses with a reason. */
#include "core/core.h"
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define T	     "config"
#define INI_LINE_MAX 197 /* what core/options.c's reader lets through */

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The token would otherwise come from the environment. */
	unsetenv("TUTTI_API_TOKEN");
	/* api-token-file may name stdin: it must not wait for a terminal. */
	if (!freopen("/dev/null", "r", stdin))
		fuzz_fail(T, "cannot reopen stdin");
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		fuzz_fail(T, "cannot open /dev/null");
	return 0;
}

/* A memfd holding data; its path in path. -1 on failure. */
static int file_of(const void *data, size_t size, char *path, size_t cap)
{
	int fd = memfd_create("tutti-fuzz.ini", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

static int parse(struct options *o, const char *path, char *err, size_t errlen)
{
	char *argv[] = {"tutti", "-c", (char *)path, NULL};

	return options_parse(o, 3, argv, devnull, err, errlen);
}

/* Level by level: the struct has a padding byte memcmp would read. */
static bool same_levels(const struct log_levels *a, const struct log_levels *b)
{
	if (a->base != b->base)
		return false;
	for (size_t i = 0; i < LOG_SUBSYS_N; i++)
		if (log_levels_of(a, i) != log_levels_of(b, i))
			return false;
	return true;
}

static bool same_ivr(const struct ivr_options *a, const struct ivr_options *b)
{
	for (size_t i = 0; i < OPT_KEY_N; i++)
		if (strcmp(a->keypad[i], b->keypad[i]))
			return false;
	return !strcmp(a->prompt_dir, b->prompt_dir) &&
	       !strcmp(a->dialin_number, b->dialin_number) &&
	       a->digit_timeout_s == b->digit_timeout_s &&
	       a->join_tones == b->join_tones &&
	       a->announce_count == b->announce_count &&
	       a->wait_for_moderator == b->wait_for_moderator &&
	       a->end_with_last_moderator == b->end_with_last_moderator;
}

static bool same(const struct options *a, const struct options *b)
{
	return !strcmp(a->sip_listen, b->sip_listen) &&
	       !strcmp(a->sip_host, b->sip_host) &&
	       a->sip_port == b->sip_port &&
	       !strcmp(a->sip_tls_listen, b->sip_tls_listen) &&
	       !strcmp(a->tls_cert, b->tls_cert) &&
	       !strcmp(a->tls_key, b->tls_key) &&
	       !strcmp(a->public_addr, b->public_addr) &&
	       a->rtp_port_lo == b->rtp_port_lo &&
	       a->rtp_port_hi == b->rtp_port_hi &&
	       !strcmp(a->http_listen, b->http_listen) &&
	       !strcmp(a->http_host, b->http_host) &&
	       a->http_port == b->http_port &&
	       !strcmp(a->api_token_file, b->api_token_file) &&
	       !strcmp(a->data_dir, b->data_dir) &&
	       same_levels(&a->log_levels, &b->log_levels) &&
	       same_ivr(&a->ivr, &b->ivr) &&
	       a->rooms_on_demand == b->rooms_on_demand &&
	       a->max_participants == b->max_participants &&
	       a->notify_interval_ms == b->notify_interval_ms &&
	       a->rtp_timeout_s == b->rtp_timeout_s &&
	       a->max_calls == b->max_calls && a->max_rooms == b->max_rooms &&
	       a->max_subscriptions == b->max_subscriptions &&
	       a->sip_rate == b->sip_rate &&
	       a->sip_max_size == b->sip_max_size &&
	       a->session_expires_s == b->session_expires_s &&
	       a->srtp == b->srtp && a->max_speakers == b->max_speakers &&
	       a->mix_threads == b->mix_threads && a->sip_trace == b->sip_trace;
}

static bool lines_fit(const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		if (n > INI_LINE_MAX)
			return false;
		p += n + (p[n] != '\0');
	}
	return true;
}

static void check_ranges(const struct options *o)
{
	FUZZ_CHECK(T, o->sip_port >= 1 && o->http_port >= 1);
	FUZZ_CHECK(T,
		   o->rtp_port_lo % 2 == 0 && o->rtp_port_lo <= o->rtp_port_hi);
	FUZZ_CHECK(T, o->log_levels.base <= LL_DEBUG);
	FUZZ_CHECK(T, o->srtp <= 2);
	FUZZ_CHECK(T, strlen(o->sip_listen) < OPT_ADDR_LEN &&
			  strlen(o->http_listen) < OPT_ADDR_LEN);
}

/* What --check-config prints reads back to the same settings. */
static void round_trip(const struct options *o)
{
	char *text = NULL, path[64], err[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct options again;
	int fd, rc;

	FUZZ_CHECK(T, f != NULL);
	options_print(o, f);
	fclose(f);
	fd = file_of(text, len, path, sizeof(path));
	FUZZ_CHECK(T, fd >= 0);
	rc = parse(&again, path, err, sizeof(err));
	if (lines_fit(text)) {
		if (rc != OPTIONS_RUN || !same(o, &again))
			fprintf(stderr, "printed:\n%s\nread back: %d %s\n",
				text, rc, err);
		FUZZ_CHECK(T, rc == OPTIONS_RUN && same(o, &again));
	} else {
		if (rc >= 0 || !strstr(err, "line longer than"))
			fprintf(stderr, "printed:\n%s\nread back: %d %s\n",
				text, rc, err);
		FUZZ_CHECK(T, rc < 0 && strstr(err, "line longer than"));
	}
	close(fd);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[256];
	struct options o, before;
	int fd, rc;

	fd = file_of(data, size, path, sizeof(path));
	if (fd < 0)
		return 0;
	memset(&o, 0x5a, sizeof(o));
	before = o;
	rc = parse(&o, path, err, sizeof(err));
	if (rc < 0) {
		FUZZ_CHECK(T, err[0] != '\0' && !strchr(err, '\n'));
		FUZZ_CHECK(T, !memcmp(&o, &before, sizeof(o)));
	} else if (rc == OPTIONS_RUN) {
		check_ranges(&o);
		/* The file stays open: api-token-file may name it. */
		round_trip(&o);
	}
	close(fd);
	return 0;
}
