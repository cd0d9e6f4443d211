/* options_value.c: the table of options and the parser of each value: what
 * a value may be, and the message when it is not.
 *
 * Each option has one setter, which checks its text strictly (decimal
 * numbers without sign or spaces, ranges, addresses, yes or no) and writes
 * the result into the struct options it is given, or says why not without
 * naming the option: core/options.c adds the option's name, or the file,
 * line and key, and decides what to do. The table here drives getopt_long()
 * and the config file keys there, so that an option cannot exist in one and
 * be missing from the other. The API token may be given or read from a
 * file; it must survive an Authorization header and is never echoed.
 *
 * Called only from options_parse(), on main()'s thread before any other
 * thread starts. The table is constant; nothing here allocates. */
#include "core/options_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MAX (sizeof(((struct options *)0)->api_token) - 1)

/* ---- values ------------------------------------------------------------ */

int options_value_copy_str(char *dst, size_t size, const char *v, char *why,
			   size_t len)
{
	size_t n = strlen(v);

	if (n >= size) {
		snprintf(why, len, "too long (at most %zu characters)",
			 size - 1);
		return -EINVAL;
	}
	memcpy(dst, v, n + 1);
	return 0;
}

static int set_uint(unsigned *dst, const char *v, unsigned lo, unsigned hi,
		    char *why, size_t len)
{
	unsigned long x = 0;
	int rc = netaddr_parse_ulong(v, hi, &x);

	if (rc == -EINVAL) {
		snprintf(why, len, "'%s' is not a number", v);
		return -EINVAL;
	}
	if (rc || x < lo) {
		snprintf(why, len, "'%s' is not in %u..%u", v, lo, hi);
		return -EINVAL;
	}
	*dst = (unsigned)x;
	return 0;
}

static int set_listen(char *dst, char *host, uint16_t *port, const char *v,
		      char *why, size_t len)
{
	char h[64];
	uint16_t p;

	if (strlen(v) >= OPT_ADDR_LEN ||
	    netaddr_split(v, h, sizeof(h), &p) != 0) {
		snprintf(why, len, "'%s' is not IPV4:PORT or [IPV6]:PORT", v);
		return -EINVAL;
	}
	strcpy(dst, v);
	if (host)
		strcpy(host, h);
	if (port)
		*port = p;
	return 0;
}

/* A bearer token: printable ASCII without spaces, so that it survives an
 * Authorization header. Never echoed. */
static int check_token(const char *v, char *why, size_t len)
{
	size_t n = strlen(v);

	if (n > TOKEN_MAX) {
		snprintf(why, len, "token too long (at most %zu characters)",
			 TOKEN_MAX);
		return -EINVAL;
	}
	for (; *v; v++) {
		if (*v <= ' ' || *v > '~') {
			snprintf(
			    why, len,
			    "token must be printable ASCII without spaces");
			return -EINVAL;
		}
	}
	return 0;
}

static int read_token_file(const char *path, char *tok, char *why, size_t len)
{
	char buf[1024];
	size_t n;
	bool more;
	int rc = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(why, len, "'%s': %s", path, strerror(errno));
		return -EINVAL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	more = n == sizeof(buf) - 1 && fgetc(f) != EOF;
	if (ferror(f)) {
		snprintf(why, len, "'%s': %s", path, strerror(errno));
		rc = -EINVAL;
	}
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
			 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';

	if (rc == 0 && n == 0) {
		snprintf(why, len, "'%s' is empty", path);
		rc = -EINVAL;
	} else if (rc == 0 && (more || strlen(buf) != n)) {
		snprintf(why, len, "'%s' does not hold a token", path);
		rc = -EINVAL;
	} else if (rc == 0) {
		rc = check_token(buf, why, len);
		if (rc == 0)
			memcpy(tok, buf, n + 1);
	}
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

/* ---- setters, one per option ------------------------------------------ */

static int set_sip_listen(struct options *o, const char *v, char *why,
			  size_t len)
{
	return set_listen(o->sip_listen, o->sip_host, &o->sip_port, v, why,
			  len);
}

static int set_sip_tls_listen(struct options *o, const char *v, char *why,
			      size_t len)
{
	if (!*v) {
		o->sip_tls_listen[0] = '\0';
		o->sip_tls_host[0] = '\0';
		o->sip_tls_port = 0;
		return 0;
	}
	return set_listen(o->sip_tls_listen, o->sip_tls_host, &o->sip_tls_port,
			  v, why, len);
}

static int set_tls_cert(struct options *o, const char *v, char *why, size_t len)
{
	return options_value_copy_str(o->tls_cert, sizeof(o->tls_cert), v, why,
				      len);
}

static int set_tls_key(struct options *o, const char *v, char *why, size_t len)
{
	return options_value_copy_str(o->tls_key, sizeof(o->tls_key), v, why,
				      len);
}

static int set_public_addr(struct options *o, const char *v, char *why,
			   size_t len)
{
	unsigned char a[16];

	if (*v && inet_pton(AF_INET, v, a) != 1 &&
	    inet_pton(AF_INET6, v, a) != 1) {
		snprintf(why, len, "'%s' is not an IP address", v);
		return -EINVAL;
	}
	return options_value_copy_str(o->public_addr, sizeof(o->public_addr), v,
				      why, len);
}

static int set_rtp_ports(struct options *o, const char *v, char *why,
			 size_t len)
{
	const char *dash = strchr(v, '-');
	unsigned long lo = 0, hi = 0;
	char los[8];
	int r1, r2;

	if (!dash || (size_t)(dash - v) >= sizeof(los))
		goto syntax;
	memcpy(los, v, (size_t)(dash - v));
	los[dash - v] = '\0';
	r1 = netaddr_parse_ulong(los, 65535, &lo);
	r2 = netaddr_parse_ulong(dash + 1, 65535, &hi);
	if (r1 == -EINVAL || r2 == -EINVAL)
		goto syntax;
	if (r1 || r2 || lo < 1024 || hi < 1024) {
		snprintf(why, len, "'%s': ports must be in 1024..65535", v);
		return -EINVAL;
	}
	if (lo % 2) {
		snprintf(why, len, "'%s': LO must be even (RTP on even ports)",
			 v);
		return -EINVAL;
	}
	if (lo >= hi) {
		snprintf(why, len, "'%s': LO must be below HI", v);
		return -EINVAL;
	}
	o->rtp_port_lo = (uint16_t)lo;
	o->rtp_port_hi = (uint16_t)hi;
	return 0;
syntax:
	snprintf(why, len, "'%s' is not LO-HI", v);
	return -EINVAL;
}

static int set_http_listen(struct options *o, const char *v, char *why,
			   size_t len)
{
	return set_listen(o->http_listen, o->http_host, &o->http_port, v, why,
			  len);
}

/* An empty token means none, which also drops one read from a file. */
int options_value_set_api_token(struct options *o, const char *v, char *why,
				size_t len)
{
	if (check_token(v, why, len) != 0)
		return -EINVAL;
	strcpy(o->api_token, v);
	o->api_token_file[0] = '\0';
	return 0;
}

int options_value_set_api_token_file(struct options *o, const char *v,
				     char *why, size_t len)
{
	char tok[sizeof(o->api_token)];

	if (!*v) {
		if (o->api_token_file[0])
			o->api_token[0] = '\0';
		o->api_token_file[0] = '\0';
		return 0;
	}
	if (strlen(v) >= sizeof(o->api_token_file)) {
		snprintf(why, len, "path too long");
		return -EINVAL;
	}
	if (read_token_file(v, tok, why, len) != 0)
		return -EINVAL;
	strcpy(o->api_token, tok);
	strcpy(o->api_token_file, v);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}

static int set_data_dir(struct options *o, const char *v, char *why, size_t len)
{
	if (!*v) {
		snprintf(why, len, "must not be empty");
		return -EINVAL;
	}
	return options_value_copy_str(o->data_dir, sizeof(o->data_dir), v, why,
				      len);
}

static int set_log_level(struct options *o, const char *v, char *why,
			 size_t len)
{
	return log_levels_parse(v, &o->log_levels, why, len);
}

int options_value_bool(bool *dst, const char *v, char *why, size_t len)
{
	static const char *const yes[] = {"yes", "true", "1", "on"};
	static const char *const no[] = {"no", "false", "0", "off"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
			*dst = strcasecmp(v, yes[i]) == 0;
			return 0;
		}
	}
	snprintf(why, len, "'%s' is not yes or no", v);
	return -EINVAL;
}

static int set_rooms_on_demand(struct options *o, const char *v, char *why,
			       size_t len)
{
	return options_value_bool(&o->rooms_on_demand, v, why, len);
}

static int set_max_participants(struct options *o, const char *v, char *why,
				size_t len)
{
	return set_uint(&o->max_participants, v, 0, 10000, why, len);
}

static int set_notify_interval(struct options *o, const char *v, char *why,
			       size_t len)
{
	return set_uint(&o->notify_interval_ms, v, 0, 3600000, why, len);
}

static int set_rtp_timeout(struct options *o, const char *v, char *why,
			   size_t len)
{
	return set_uint(&o->rtp_timeout_s, v, 1, 86400, why, len);
}

/* ---- limits against floods and exhaustion (0: no limit) ------------------ */

static int set_max_calls(struct options *o, const char *v, char *why,
			 size_t len)
{
	return set_uint(&o->max_calls, v, 0, 1000000, why, len);
}

static int set_max_rooms(struct options *o, const char *v, char *why,
			 size_t len)
{
	return set_uint(&o->max_rooms, v, 0, 1000000, why, len);
}

static int set_max_subscriptions(struct options *o, const char *v, char *why,
				 size_t len)
{
	return set_uint(&o->max_subscriptions, v, 0, 1000000, why, len);
}

static int set_sip_rate(struct options *o, const char *v, char *why, size_t len)
{
	return set_uint(&o->sip_rate, v, 0, 100000, why, len);
}

static int set_sip_max_size(struct options *o, const char *v, char *why,
			    size_t len)
{
	/* below 4 KiB an ordinary INVITE with its SDP would not fit */
	return set_uint(&o->sip_max_size, v, 4096, 16u << 20, why, len);
}

static int set_session_expires(struct options *o, const char *v, char *why,
			       size_t len)
{
	int err = set_uint(&o->session_expires_s, v, 0, 86400, why, len);
	if (!err && o->session_expires_s && o->session_expires_s < 90) {
		snprintf(why, len,
			 "'%s' is below 90, RFC 4028's least Min-SE (0 turns "
			 "session timers off)",
			 v);
		return -EINVAL;
	}
	return err;
}

/* 0 mixes every talker; more than 15 are mixed but not all named in the
 * CSRC list, which holds 15 (RFC 3550). */
static int set_max_speakers(struct options *o, const char *v, char *why,
			    size_t len)
{
	return set_uint(&o->max_speakers, v, 0, 1000, why, len);
}

/* Threads a room's tick may use at once, its own included: 1 never fans
 * out; 0 takes one per CPU online. */
static int set_mix_threads(struct options *o, const char *v, char *why,
			   size_t len)
{
	return set_uint(&o->mix_threads, v, 0, 64, why, len);
}

/* A room's packets of a tick leave in io_uring batches (rtp/sendq.c)
 * where the kernel allows; no sends each with sendto(). */
static int set_send_batch(struct options *o, const char *v, char *why,
			  size_t len)
{
	return options_value_bool(&o->send_batch, v, why, len);
}

/* The SCHED_FIFO priority of the media threads (mixers and their
 * workers); 0 leaves them at normal priority. */
static int set_realtime(struct options *o, const char *v, char *why, size_t len)
{
	return set_uint(&o->realtime, v, 0, 99, why, len);
}

/* SRTP (SDES): off refuses RTP/SAVP offers, optional takes what the
 * caller offers, mandatory refuses plain RTP/AVP and offers only SRTP. */
static int set_srtp(struct options *o, const char *v, char *why, size_t len)
{
	static const char *const names[] = {"off", "optional", "mandatory"};
	for (unsigned i = 0; i < 3; i++) {
		if (strcasecmp(v, names[i]) == 0) {
			o->srtp = i;
			return 0;
		}
	}
	snprintf(why, len, "'%s' is not off, optional or mandatory", v);
	return -EINVAL;
}

/* --sip-trace alone on the command line means yes. */
static int set_sip_trace(struct options *o, const char *v, char *why,
			 size_t len)
{
	return options_value_bool(&o->sip_trace, v ? v : "yes", why, len);
}

/* ---- the table --------------------------------------------------------- */

const struct opt_def options_value_defs[] = {
    {"config", 'c', true, false, NULL},
    {"check-config", OPT_CHECK, false, false, NULL},
    {"help", 'h', false, false, NULL},
    {"version", 'V', false, false, NULL},
    {"sip-listen", OPT_LONG_ONLY + 0, true, true, set_sip_listen},
    {"sip-tls-listen", OPT_LONG_ONLY + 1, true, true, set_sip_tls_listen},
    {"tls-cert", OPT_LONG_ONLY + 2, true, true, set_tls_cert},
    {"tls-key", OPT_LONG_ONLY + 3, true, true, set_tls_key},
    {"public-addr", OPT_LONG_ONLY + 4, true, true, set_public_addr},
    {"rtp-ports", OPT_LONG_ONLY + 5, true, true, set_rtp_ports},
    {"http-listen", OPT_LONG_ONLY + 6, true, true, set_http_listen},
    {"api-token", OPT_LONG_ONLY + 7, true, true, options_value_set_api_token},
    {"api-token-file", OPT_LONG_ONLY + 8, true, true,
     options_value_set_api_token_file},
    {"data-dir", OPT_LONG_ONLY + 9, true, true, set_data_dir},
    {"log-level", OPT_LONG_ONLY + 10, true, true, set_log_level},
    {"rooms-on-demand", OPT_LONG_ONLY + 11, true, true, set_rooms_on_demand},
    {"max-participants", OPT_LONG_ONLY + 12, true, true, set_max_participants},
    {"notify-interval", OPT_LONG_ONLY + 13, true, true, set_notify_interval},
    {"rtp-timeout", OPT_LONG_ONLY + 14, true, true, set_rtp_timeout},
    {"max-calls", OPT_LONG_ONLY + 15, true, true, set_max_calls},
    {"max-rooms", OPT_LONG_ONLY + 16, true, true, set_max_rooms},
    {"max-subscriptions", OPT_LONG_ONLY + 17, true, true,
     set_max_subscriptions},
    {"sip-rate", OPT_LONG_ONLY + 18, true, true, set_sip_rate},
    {"sip-max-size", OPT_LONG_ONLY + 19, true, true, set_sip_max_size},
    {"session-expires", OPT_LONG_ONLY + 20, true, true, set_session_expires},
    {"max-speakers", OPT_LONG_ONLY + 21, true, true, set_max_speakers},
    /* The dial-in dialogue: core/options_ivr.c. */
    {"prompt-dir", OPT_LONG_ONLY + 22, true, true, options_ivr_set_prompt_dir},
    {"dialin-number", OPT_LONG_ONLY + 23, true, true,
     options_ivr_set_dialin_number},
    {"digit-timeout", OPT_LONG_ONLY + 24, true, true,
     options_ivr_set_digit_timeout},
    {"join-tones", OPT_LONG_ONLY + 25, true, true, options_ivr_set_join_tones},
    {"announce-count", OPT_LONG_ONLY + 26, true, true,
     options_ivr_set_announce_count},
    {"wait-for-moderator", OPT_LONG_ONLY + 27, true, true,
     options_ivr_set_wait_for_moderator},
    {"end-with-last-moderator", OPT_LONG_ONLY + 28, true, true,
     options_ivr_set_end_with_last_moderator},
    {"keypad-mute", OPT_LONG_ONLY + 29, true, true, options_ivr_set_key_mute},
    {"keypad-listen-down", OPT_LONG_ONLY + 30, true, true,
     options_ivr_set_key_listen_down},
    {"keypad-listen-up", OPT_LONG_ONLY + 31, true, true,
     options_ivr_set_key_listen_up},
    {"keypad-talk-down", OPT_LONG_ONLY + 32, true, true,
     options_ivr_set_key_talk_down},
    {"keypad-talk-up", OPT_LONG_ONLY + 33, true, true,
     options_ivr_set_key_talk_up},
    {"keypad-leave", OPT_LONG_ONLY + 34, true, true, options_ivr_set_key_leave},
    {"keypad-help", OPT_LONG_ONLY + 35, true, true, options_ivr_set_key_help},
    {"keypad-lock", OPT_LONG_ONLY + 36, true, true, options_ivr_set_key_lock},
    {"keypad-mute-all", OPT_LONG_ONLY + 37, true, true,
     options_ivr_set_key_mute_all},
    {"keypad-kick-last", OPT_LONG_ONLY + 38, true, true,
     options_ivr_set_key_kick_last},
    {"srtp", OPT_LONG_ONLY + 39, true, true, set_srtp},
    {"sip-trace", OPT_LONG_ONLY + 40, optional_argument, true, set_sip_trace},
    {"mix-threads", OPT_LONG_ONLY + 41, true, true, set_mix_threads},
    {"send-batch", OPT_LONG_ONLY + 42, true, true, set_send_batch},
    {"realtime", OPT_LONG_ONLY + 43, true, true, set_realtime},
};

_Static_assert(sizeof(options_value_defs) / sizeof(options_value_defs[0]) ==
		   OPTIONS_VALUE_NDEFS,
	       "OPTIONS_VALUE_NDEFS must count options_value_defs");
