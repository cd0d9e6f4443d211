/* options.c: the command line and the INI config file, read once by main()
 * before any thread starts.
 *
 * One table names every option. It drives getopt_long(), the config file
 * keys and the error messages, so an option cannot exist in one place and
 * be missing from the other. Precedence, lowest first: built-in defaults,
 * TUTTI_API_TOKEN from the environment, the config file (-c), the command
 * line. The command line is therefore read twice: first for -c, --help,
 * --version and --check-config and to reject unknown options before the
 * file is touched, then, after the file, to apply its values.
 *
 * Every value is checked where it is set, so an error names the option, or
 * the file, line and key it came from; the cross checks (TLS needs a
 * certificate and a key) run once at the end. Messages never echo the API
 * token. inih reads the file through a line reader of ours that counts
 * lines for the messages and strips indentation, which turns off inih's
 * multi-line values and the baffling errors they cause. The result is built
 * in a local copy and written to the caller's struct only on success.
 *
 * The table of options and the parser of each value are in
 * core/options_value.c; this file applies them and names the source. */
#include "core/options_priv.h"

#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifndef TUTTI_VERSION
#define TUTTI_VERSION "unknown"
#endif

#define TOKEN_ENV "TUTTI_API_TOKEN"

void (*options_version_hook)(FILE *f);

/* Where the values being applied come from. */
struct source {
	const char *file; /* NULL: the command line */
	unsigned line;
	bool token, token_file; /* seen in this source */
};

/* ---- help and look-ups ------------------------------------------------- */

static const char usage[] =
    "Usage: tutti [OPTION]...\n"
    "A SIP audio conferencing bridge.\n"
    "\n"
    "  -c, --config FILE          INI file of these long options "
    "(the command\n"
    "                             line wins)\n"
    "      --check-config         check the settings, print them and exit\n"
    "      --sip-listen ADDR:PORT SIP over UDP and TCP (0.0.0.0:5060)\n"
    "      --sip-tls-listen ADDR:PORT  SIP over TLS (off)\n"
    "      --tls-cert FILE        TLS certificate chain (PEM)\n"
    "      --tls-key FILE         TLS private key (PEM)\n"
    "      --public-addr ADDR     address for SDP and Contact (derived)\n"
    "      --rtp-ports LO-HI      UDP ports for media (20000-29999)\n"
    "      --http-listen ADDR:PORT  JSON control API (127.0.0.1:8080)\n"
    "      --api-token TOKEN      API bearer token (env " TOKEN_ENV ")\n"
    "      --api-token-file FILE  read the API token from FILE\n"
    "      --data-dir DIR         room store and recordings "
    "(./tutti-data)\n"
    "      --log-level LEVEL[,SUBSYS=LEVEL]...  error, warn, info or debug "
    "(info),\n"
    "                             for every subsystem or the one named\n"
    "      --rooms-on-demand yes|no  create rooms on first call (yes)\n"
    "      --max-participants N   per room, 0 for no limit (0)\n"
    "      --notify-interval MS   least time between NOTIFYs (1000)\n"
    "      --rtp-timeout S        hang up after S seconds without RTP "
    "(30)\n"
    "      --max-calls N          calls at once, 0 for no limit (4000)\n"
    "      --max-rooms N          rooms at once, 0 for no limit (1000)\n"
    "      --max-subscriptions N  conference subscriptions (10000)\n"
    "      --sip-rate N           new INVITEs and SUBSCRIBEs per second "
    "from one\n"
    "                             address, twice that in a burst (100)\n"
    "      --sip-max-size BYTES   largest SIP message taken (65536)\n"
    "      --session-expires S    session timer (RFC 4028), 0 for off "
    "(1800)\n"
    "      --srtp off|optional|mandatory  SRTP with SDES keys (optional)\n"
    "      --max-speakers N       loudest talkers mixed at once, 0 for "
    "all (4)\n"
    "      --mix-threads N        threads one room's tick may use, 0 for "
    "one per CPU (0)\n"
    "      --send-batch yes|no    send each tick's RTP in io_uring batches "
    "where\n"
    "                             the kernel allows (yes)\n"
    "      --realtime N           media threads SCHED_FIFO at priority "
    "1-99,\n"
    "                             0 for off (0)\n"
    "      --prompt-dir DIR       spoken prompts NAME-RATE.wav (installed)\n"
    "      --dialin-number NUM    a number that asks callers for the room\n"
    "      --digit-timeout S      seconds between the keys of a PIN (5)\n"
    "      --join-tones yes|no    tones to the room on join and leave "
    "(yes)\n"
    "      --announce-count yes|no  tell joiners how many are in (no)\n"
    "      --wait-for-moderator yes|no  hold callers until a moderator "
    "(no)\n"
    "      --end-with-last-moderator yes|no  end when moderators leave "
    "(no)\n"
    "      --keypad-mute KEYS     in-call keys, empty for none: own mute "
    "(*6)\n"
    "      --keypad-listen-down KEYS  listening volume down (*4)\n"
    "      --keypad-listen-up KEYS    listening volume up (*5)\n"
    "      --keypad-talk-down KEYS    talking volume down (*7)\n"
    "      --keypad-talk-up KEYS      talking volume up (*9)\n"
    "      --keypad-leave KEYS        leave the conference (*8)\n"
    "      --keypad-help KEYS         spoken help (*0)\n"
    "      --keypad-lock KEYS         moderators: lock or unlock (*1)\n"
    "      --keypad-mute-all KEYS     moderators: mute all but "
    "moderators (*2)\n"
    "      --keypad-kick-last KEYS    moderators: remove the last caller "
    "(*3)\n"
    "      --sip-trace[=yes|no]   log every SIP message in and out (no)\n"
    "  -h, --help                 print this help and exit\n"
    "  -V, --version              print the versions and exit\n"
    "\n";

static const char usage_end[] = "\nBad options or config exit with status 2.\n";

/* The subsystems come from the table that --log-level checks names
 * against, so that the two cannot disagree. */
static void print_help(FILE *out)
{
	size_t col = 0;

	fputs(usage, out);
	for (size_t i = 0; log_subsys_name(i); i++) {
		const char *name = log_subsys_name(i);

		if (i == 0 || col + strlen(name) + 2 > 78) {
			col = (size_t)fprintf(
			    out, "%s%s",
			    i ? ",\n  " : "Log subsystems: ", name);
			continue;
		}
		col += (size_t)fprintf(out, ", %s", name);
	}
	fputs("\n", out);
	fputs(usage_end, out);
}

static const struct opt_def *def_by_val(int val)
{
	for (size_t i = 0; i < OPTIONS_VALUE_NDEFS; i++)
		if (options_value_defs[i].val == val)
			return &options_value_defs[i];
	return NULL;
}

static const struct opt_def *def_by_key(const char *name)
{
	for (size_t i = 0; i < OPTIONS_VALUE_NDEFS; i++) {
		const struct opt_def *d = &options_value_defs[i];

		if (d->key && strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

static void msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void msg(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Applies one value, naming its source in the message on failure. */
static int apply(struct options *o, const struct opt_def *d, const char *v,
		 struct source *src, char *err, size_t errlen)
{
	bool tok = d->set == options_value_set_api_token;
	bool file = d->set == options_value_set_api_token_file;
	char why[PATH_MAX + 128];
	int rc;

	why[0] = '\0';
	if ((tok && src->token_file) || (file && src->token)) {
		snprintf(why, sizeof(why),
			 "api-token and api-token-file are both given");
		rc = -EINVAL;
	} else {
		rc = d->set(o, v, why, sizeof(why));
	}
	src->token |= tok;
	src->token_file |= file;
	if (rc == 0)
		return 0;
	if (src->file)
		msg(err, errlen, "%s:%u: %s: %s", src->file, src->line, d->name,
		    why);
	else
		msg(err, errlen, "--%s: %s", d->name, why);
	return -EINVAL;
}

/* ---- the config file --------------------------------------------------- */

struct ini_ctx {
	struct options *o;
	FILE *f;
	char *buf;
	size_t cap;
	struct source src;
	unsigned err_line; /* of the first error we found, 0: none */
	char *err;
	size_t errlen;
};

static void ini_fail(struct ini_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ini_fail(struct ini_ctx *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (c->err_line)
		return;
	c->err_line = c->src.line;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	msg(c->err, c->errlen, "%s:%u: %s", c->src.file, c->src.line, why);
}

/* inih's fgets-like reader: one whole line per call, so that the count is
 * the line number; a line that does not fit inih's buffer is an error. */
static char *ini_read(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;
	ssize_t n = getline(&c->buf, &c->cap, c->f);
	const char *p;

	if (n < 0)
		return NULL;
	c->src.line++;
	p = c->buf + strspn(c->buf, " \t");
	/* A spare byte, so that inih never sees a full buffer. */
	if (strlen(p) + 2 > (size_t)num) {
		ini_fail(c, "line longer than %d characters", num - 3);
		p = "\n";
	}
	strcpy(str, p);
	return str;
}

static int ini_on_value(void *user, const char *section, const char *name,
			const char *value)
{
	struct ini_ctx *c = user;
	const struct opt_def *d;

	if (c->err_line)
		return 1; /* report the first error only */
	if (*section && strcasecmp(section, "tutti") != 0) {
		ini_fail(c, "unknown section [%s]", section);
		return 0;
	}
	if (!name)
		return 1;
	d = def_by_key(name);
	if (!d) {
		ini_fail(c, "unknown key '%s'", name);
		return 0;
	}
	if (apply(c->o, d, value ? value : "", &c->src, c->err, c->errlen)) {
		c->err_line = c->src.line;
		return 0;
	}
	return 1;
}

static int load_file(struct options *o, char *err, size_t errlen)
{
	struct ini_ctx c = {.o = o, .err = err, .errlen = errlen};
	int r, rc = 0;

	c.src.file = o->config_path;
	c.f = fopen(o->config_path, "re");
	if (!c.f) {
		msg(err, errlen, "%s: %s", o->config_path, strerror(errno));
		return -EINVAL;
	}
	r = ini_parse_stream(ini_read, &c, ini_on_value, &c);
	if (ferror(c.f)) {
		msg(err, errlen, "%s: %s", o->config_path, strerror(EIO));
		rc = -EINVAL;
	} else if (r > 0 && (!c.err_line || (unsigned)r < c.err_line)) {
		msg(err, errlen,
		    "%s:%d: syntax error (expected 'key = value' or "
		    "'[tutti]')",
		    o->config_path, r);
		rc = -EINVAL;
	} else if (c.err_line || r != 0) {
		if (!c.err_line)
			msg(err, errlen, "%s: cannot parse", o->config_path);
		rc = -EINVAL;
	}
	fclose(c.f);
	if (c.buf)
		explicit_bzero(c.buf, c.cap);
	free(c.buf);
	return rc;
}

/* ---- the command line -------------------------------------------------- */

struct cmdline {
	bool help, version;
};

static void bad_option(int c, int argc, char **argv, char *err, size_t errlen)
{
	const struct opt_def *d = def_by_val(optopt);
	const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	size_t n, hits = 0;

	if (c == ':' && d) {
		msg(err, errlen, "--%s: missing value", d->name);
		return;
	}
	if (d) {
		msg(err, errlen, "--%s: takes no value", d->name);
		return;
	}
	if (optopt) {
		msg(err, errlen, "unknown option '-%c'", optopt);
		return;
	}
	n = strcspn(arg, "=");
	for (size_t i = 0; n > 2 && i < OPTIONS_VALUE_NDEFS; i++)
		hits +=
		    strncmp(options_value_defs[i].name, arg + 2, n - 2) == 0;
	msg(err, errlen, "%s option '%.*s'", hits > 1 ? "ambiguous" : "unknown",
	    (int)n, arg);
}

static int first_pass(struct options *o, const struct opt_def *d,
		      struct cmdline *cl, char *err, size_t errlen)
{
	char why[64];

	switch (d->val) {
	case 'c':
		if (!*optarg) {
			msg(err, errlen, "--config: must not be empty");
			return -EINVAL;
		}
		if (options_value_copy_str(o->config_path,
					   sizeof(o->config_path), optarg, why,
					   sizeof(why)) != 0) {
			msg(err, errlen, "--config: %s", why);
			return -EINVAL;
		}
		break;
	case OPT_CHECK:
		o->check_config = true;
		break;
	case 'h':
		cl->help = true;
		break;
	case 'V':
		cl->version = true;
		break;
	}
	return 0;
}

/* Pass 1 takes -c, --check-config, --help and --version and rejects what
 * getopt_long() does not know; pass 2 applies the values. getopt's global
 * state is reset each time (optind 0 on glibc), so that options_parse() may
 * be called again, as the unit tests do. */
static int scan_argv(struct options *o, int argc, char **argv, int pass,
		     struct cmdline *cl, char *err, size_t errlen)
{
	struct option lo[OPTIONS_VALUE_NDEFS + 1];
	struct source src = {0};
	int saved = opterr, c, rc = 0;

	if (argc < 1 || !argv)
		return 0;
	for (size_t i = 0; i < OPTIONS_VALUE_NDEFS; i++) {
		const struct opt_def *d = &options_value_defs[i];

		lo[i] = (struct option){d->name, d->arg, NULL, d->val};
	}
	lo[OPTIONS_VALUE_NDEFS] = (struct option){0};

	opterr = 0;
	optind = 0;
	while (!rc && (c = getopt_long(argc, argv, "+:c:hV", lo, NULL)) != -1) {
		const struct opt_def *d = def_by_val(c);

		if (c == '?' || c == ':' || !d) {
			bad_option(c, argc, argv, err, errlen);
			rc = -EINVAL;
		} else if (pass == 1) {
			rc = first_pass(o, d, cl, err, errlen);
		} else if (d->set) {
			rc = apply(o, d, optarg, &src, err, errlen);
		}
	}
	if (!rc && optind < argc) {
		msg(err, errlen, "unexpected argument '%s'", argv[optind]);
		rc = -EINVAL;
	}
	opterr = saved;
	optind = 0;
	return rc;
}

/* ---- the whole --------------------------------------------------------- */

static int apply_env(struct options *o, char *err, size_t errlen)
{
	const char *v = getenv(TOKEN_ENV);
	char why[128];

	if (!v || !*v)
		return 0;
	if (options_value_set_api_token(o, v, why, sizeof(why)) != 0) {
		msg(err, errlen, TOKEN_ENV ": %s", why);
		return -EINVAL;
	}
	return 0;
}

static int check_readable(const char *name, const char *path, char *err,
			  size_t errlen)
{
	if (access(path, R_OK) != 0) {
		msg(err, errlen, "--%s: '%s': %s", name, path, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static int cross_check(const struct options *o, char *err, size_t errlen)
{
	if (options_ivr_check(&o->ivr, err, errlen))
		return -EINVAL;
	if (!o->sip_tls_listen[0])
		return 0;
	if (!o->tls_cert[0] || !o->tls_key[0]) {
		msg(err, errlen,
		    "--sip-tls-listen needs --tls-cert and --tls-key");
		return -EINVAL;
	}
	if (check_readable("tls-cert", o->tls_cert, err, errlen) ||
	    check_readable("tls-key", o->tls_key, err, errlen))
		return -EINVAL;
	if (tls_check_pair(o->tls_cert, o->tls_key, err, errlen))
		return -EINVAL;
	return 0;
}

/* Keeps the message on one line whatever the input held. */
static void one_line(char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = '?';
}

void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->sip_listen, "0.0.0.0:5060");
	strcpy(o->sip_host, "0.0.0.0");
	o->sip_port = 5060;
	o->rtp_port_lo = 20000;
	o->rtp_port_hi = 29999;
	strcpy(o->http_listen, "127.0.0.1:8080");
	strcpy(o->http_host, "127.0.0.1");
	o->http_port = 8080;
	strcpy(o->data_dir, "./tutti-data");
	log_levels_init(&o->log_levels, LL_INFO);
	o->rooms_on_demand = true;
	o->max_participants = 0;
	o->notify_interval_ms = 1000;
	o->rtp_timeout_s = 30;
	o->max_calls = 4000;
	o->max_rooms = 1000;
	o->max_subscriptions = 10000;
	o->sip_rate = 100;
	o->sip_max_size = 65536;
	o->session_expires_s = 1800;
	o->srtp = 1;
	o->max_speakers = 4;
	o->send_batch = true;
	o->realtime = 0;
	options_ivr_defaults(&o->ivr);
}

int options_parse(struct options *o, int argc, char **argv, FILE *out,
		  char *err, size_t errlen)
{
	struct options t;
	struct cmdline cl = {0};
	int rc;

	if (!out)
		out = stdout;
	msg(err, errlen, "%s", "");
	options_defaults(&t);
	rc = scan_argv(&t, argc, argv, 1, &cl, err, errlen);
	if (rc == 0 && cl.help) {
		print_help(out);
		rc = OPTIONS_EXIT;
	} else if (rc == 0 && cl.version) {
		fprintf(out, "tutti %s\n", TUTTI_VERSION);
		if (options_version_hook)
			options_version_hook(out);
		rc = OPTIONS_EXIT;
	}
	if (rc == 0)
		rc = apply_env(&t, err, errlen);
	if (rc == 0 && t.config_path[0])
		rc = load_file(&t, err, errlen);
	if (rc == 0)
		rc = scan_argv(&t, argc, argv, 2, &cl, err, errlen);
	if (rc == 0)
		rc = cross_check(&t, err, errlen);
	if (rc == 0 && t.check_config) {
		options_print(&t, out);
		rc = OPTIONS_EXIT;
	}
	if (rc >= 0)
		*o = t;
	else if (errlen)
		one_line(err);
	explicit_bzero(t.api_token, sizeof(t.api_token));
	return rc;
}

/* inih reads a ';' after a blank as the start of a comment, so a value
 * that begins with one follows the '=' directly (found by
 * fuzz/fuzz_config.c: "data-dir = ;x" read back as an empty value). */
static void print_kv(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s =%s%s\n", key, *v && *v != ';' ? " " : "", v);
}

/* The token line is a comment, so that the output can be fed back as a
 * config file without setting the token to "(set)". */
void options_print(const struct options *o, FILE *f)
{
	fprintf(f, "; tutti %s effective settings\n[tutti]\n", TUTTI_VERSION);
	print_kv(f, "sip-listen", o->sip_listen);
	print_kv(f, "sip-tls-listen", o->sip_tls_listen);
	print_kv(f, "tls-cert", o->tls_cert);
	print_kv(f, "tls-key", o->tls_key);
	print_kv(f, "public-addr", o->public_addr);
	fprintf(f, "rtp-ports = %u-%u\n", o->rtp_port_lo, o->rtp_port_hi);
	print_kv(f, "http-listen", o->http_listen);
	fprintf(f, "; api-token = %s\n", o->api_token[0] ? "(set)" : "(unset)");
	print_kv(f, "api-token-file", o->api_token_file);
	print_kv(f, "data-dir", o->data_dir);
	char levels[256];
	log_levels_format(&o->log_levels, levels, sizeof(levels));
	print_kv(f, "log-level", levels);
	print_kv(f, "rooms-on-demand", o->rooms_on_demand ? "yes" : "no");
	fprintf(f, "max-participants = %u\n", o->max_participants);
	fprintf(f, "notify-interval = %u\n", o->notify_interval_ms);
	fprintf(f, "rtp-timeout = %u\n", o->rtp_timeout_s);
	fprintf(f, "max-calls = %u\n", o->max_calls);
	fprintf(f, "max-rooms = %u\n", o->max_rooms);
	fprintf(f, "max-subscriptions = %u\n", o->max_subscriptions);
	fprintf(f, "sip-rate = %u\n", o->sip_rate);
	fprintf(f, "sip-max-size = %u\n", o->sip_max_size);
	fprintf(f, "session-expires = %u\n", o->session_expires_s);
	print_kv(f, "srtp",
		 o->srtp == 2	? "mandatory"
		 : o->srtp == 1 ? "optional"
				: "off");
	fprintf(f, "max-speakers = %u\n", o->max_speakers);
	fprintf(f, "mix-threads = %u\n", o->mix_threads);
	print_kv(f, "send-batch", o->send_batch ? "yes" : "no");
	fprintf(f, "realtime = %u\n", o->realtime);
	options_ivr_print(&o->ivr, f);
	print_kv(f, "sip-trace", o->sip_trace ? "yes" : "no");
}
