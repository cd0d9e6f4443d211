/* core.h: the ground every folder stands on: logging, options and the INI
 * config, the monotonic clock and bounded single-producer/single-consumer
 * queues. Nothing here knows about SIP, RTP or rooms.
 *
 * Threads: logging and the clock may be called from any thread. Options are
 * parsed once by main() before any thread starts and are read-only after.
 * A queue has exactly one producer thread and one consumer thread. */
#ifndef TUTTI_CORE_H
#define TUTTI_CORE_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- logging (core/log.c, core/log_levels.c) ---------------------------- */

/* Not LOG_*: syslog.h owns those names. */
enum log_level { LL_ERROR = 0, LL_WARN, LL_INFO, LL_DEBUG };

/* The subsystems that log (log_levels.c has their names), each at its own
 * level: --log-level "info,sip=debug,rtp=warn". */
#define LOG_SUBSYS_N 15

struct log_levels {
	enum log_level base;	  /* subsystems not named, and unknown ones */
	int8_t sub[LOG_SUBSYS_N]; /* an enum log_level, or -1: as base */
};

/* Every subsystem at base. */
void log_levels_init(struct log_levels *l, enum log_level base);
/* Parses "LEVEL", "SUBSYS=LEVEL" or a comma-separated list of them (one
 * bare LEVEL at most, default info; a subsystem once). -EINVAL with the
 * reason in why otherwise; out is written only on success. */
int log_levels_parse(const char *spec, struct log_levels *out, char *why,
		     size_t len);
/* The canonical form: the base level, then each subsystem that has its
 * own, in table order ("info,sip=debug"). */
void log_levels_format(const struct log_levels *l, char *buf, size_t cap);
/* The level of subsystem i (0..LOG_SUBSYS_N-1) in l. */
enum log_level log_levels_of(const struct log_levels *l, size_t i);
/* Subsystem i's name, NULL past the end; a name's index or -ENOENT. */
const char *log_subsys_name(size_t i);
int log_subsys_index(const char *name);

/* Applies l to every thread's logging. log_set_level() sets every
 * subsystem to one level. */
void log_set_levels(const struct log_levels *l);
void log_set_level(enum log_level level);
/* The most verbose level any subsystem logs at. */
enum log_level log_get_level(void);
/* Whether a line of this level and subsystem would be written. */
bool log_enabled(enum log_level level, const char *subsys);
/* Parses "error", "warn", "info" or "debug"; -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Switches to the journal's form ("<6>" priority prefixes, no timestamps)
 * when JOURNAL_STREAM names our stderr; returns whether it did. Call once
 * at start-up. log_set_journal() forces either form (tests). */
bool log_detect_journal(void);
void log_set_journal(bool on);
/* Where lines go (stderr by default); returns the previous fd. Tests. */
int log_set_fd(int fd);

/* Writes one line to stderr with a single write(2), so that lines from
 * different threads never interleave. subsys is a short word ("sip",
 * "mixer") from the table in log_levels.c. The message says what happened
 * and carries its context as key=value pairs, room=, call= (the SIP
 * Call-ID) and part= first and in that order, where they apply. */
void log_emit(enum log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Each '\n'-separated line of text[len] as a line of its own with the
 * same prefix, written together (8 KiB at a time): a SIP message in the
 * trace. */
void log_emit_text(enum log_level level, const char *subsys, const char *text,
		   size_t len);

#define log_error(sub, ...) log_emit(LL_ERROR, sub, __VA_ARGS__)
#define log_warn(sub, ...)  log_emit(LL_WARN, sub, __VA_ARGS__)
#define log_info(sub, ...)                                                     \
	do {                                                                   \
		if (log_get_level() >= LL_INFO)                                \
			log_emit(LL_INFO, sub, __VA_ARGS__);                   \
	} while (0)
#define log_debug(sub, ...)                                                    \
	do {                                                                   \
		if (log_get_level() >= LL_DEBUG)                               \
			log_emit(LL_DEBUG, sub, __VA_ARGS__);                  \
	} while (0)

/* ---- clock (core/mono.c) ------------------------------------------------ */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mono_now_ns(void);

/* ---- addresses (core/netaddr.c) ----------------------------------------- */

/* "HOST:PORT", "[V6]:PORT" split into a numeric host and a port. host must be
 * an IPv4 or IPv6 literal; port 1..65535. -EINVAL with nothing written on
 * failure. hostlen should be at least 64. */
int netaddr_split(const char *s, char *host, size_t hostlen, uint16_t *port);
/* True for 127.0.0.0/8 and ::1. */
bool netaddr_is_loopback(const char *host);
/* Strictly decimal (no sign, spaces or base prefix), for ports and numeric
 * options: -EINVAL if s is not a number, -ERANGE above max; out is written
 * only on success. */
int netaddr_parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* ---- options (core/options.c) -------------------------------------------- */

#define OPT_ADDR_LEN 80

/* In-call keypad actions (conference/ivr_keys.c), each set by its own
 * option (keypad-mute...). The first seven are everyone's; the last three
 * are for moderators. */
enum opt_key {
	OPT_KEY_MUTE,
	OPT_KEY_LISTEN_DOWN,
	OPT_KEY_LISTEN_UP,
	OPT_KEY_TALK_DOWN,
	OPT_KEY_TALK_UP,
	OPT_KEY_LEAVE,
	OPT_KEY_HELP,
	OPT_KEY_LOCK,
	OPT_KEY_MUTE_ALL,
	OPT_KEY_KICK_LAST,
	OPT_KEY_N
};
#define OPT_KEY_MAX 8 /* keys in one sequence */

/* The dial-in dialogue (conference/ivr*.c). */
struct ivr_options {
	char prompt_dir[PATH_MAX]; /* empty: the installed or built prompts */
	char dialin_number[65];	   /* asks for the room; empty: none */
	unsigned digit_timeout_s;  /* between keys of a PIN */
	bool join_tones;	   /* tones to the room on join and leave */
	bool announce_count;	   /* tell a joiner how many others are in */
	bool wait_for_moderator;   /* hold until a moderator joins */
	bool end_with_last_moderator;
	char keypad[OPT_KEY_N][OPT_KEY_MAX + 1]; /* "" for none */
};

struct options {
	char config_path[PATH_MAX];
	bool check_config;

	char sip_listen[OPT_ADDR_LEN]; /* "ADDR:PORT" as given */
	char sip_host[64];	       /* parsed from sip_listen */
	uint16_t sip_port;
	char sip_tls_listen[OPT_ADDR_LEN]; /* empty: off */
	char sip_tls_host[64];		   /* parsed from sip_tls_listen */
	uint16_t sip_tls_port;
	char tls_cert[PATH_MAX];
	char tls_key[PATH_MAX];
	char public_addr[64];		   /* empty: derived */
	uint16_t rtp_port_lo, rtp_port_hi; /* inclusive, lo even */
	char http_listen[OPT_ADDR_LEN];
	char http_host[64];
	uint16_t http_port;
	char api_token[256]; /* never logged or printed */
	char api_token_file[PATH_MAX];
	char data_dir[PATH_MAX];
	struct log_levels log_levels;
	bool rooms_on_demand;	   /* create rooms on first INVITE */
	unsigned max_participants; /* per room; 0 = no limit */
	unsigned notify_interval_ms;
	unsigned rtp_timeout_s;
	/* limits against floods and exhaustion; 0 = no limit */
	unsigned max_calls, max_rooms, max_subscriptions;
	unsigned sip_rate;	    /* INVITEs + SUBSCRIBEs per s per source */
	unsigned sip_max_size;	    /* bytes of one SIP message */
	unsigned session_expires_s; /* RFC 4028; 0 = off */
	unsigned srtp; /* 0 off, 1 optional, 2 mandatory (enum oa_srtp) */
	unsigned max_speakers; /* mixed at once per room; 0 = every talker */
	unsigned mix_threads;  /* one room's tick at most; 0 = one per CPU */
	bool send_batch;       /* a tick's RTP in io_uring batches if it can */
	unsigned realtime;     /* media threads' SCHED_FIFO priority; 0 = off */
	struct ivr_options ivr;
	bool sip_trace; /* every SIP message in and out to the log */
};

enum options_result {
	OPTIONS_RUN = 0, /* start the bridge */
	OPTIONS_EXIT =
	    1, /* --help, --version or --check-config printed; exit 0 */
};

/* Fills o with defaults, reads the config file named by -c/--config (if
 * any), then applies the command line, which wins. On a bad option or config
 * line returns -EINVAL and writes a one-line reason to err (no newline).
 * Returns OPTIONS_EXIT after printing --help/--version/--check-config output
 * to out. */
int options_parse(struct options *o, int argc, char **argv, FILE *out,
		  char *err, size_t errlen);
void options_defaults(struct options *o);
/* Prints the effective settings as an INI file (the token masked). */
void options_print(const struct options *o, FILE *f);
/* Set by main() before options_parse(): --version calls it after the tutti
 * line to name the linked library versions, which core does not link. */
extern void (*options_version_hook)(FILE *f);

/* 0 when cert (a PEM chain) and key (an unencrypted PEM key) load and
 * match; else -1 with a one-line reason in err (core/tls_check.c). */
int tls_check_pair(const char *cert, const char *key, char *err, size_t errlen);

/* ---- systemd notifications (core/sdnotify.c) ---------------------------- */

/* Sends state ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...", several
 * separated by newlines) to $NOTIFY_SOCKET. 1 when sent, 0 when there is no
 * NOTIFY_SOCKET (not run by systemd), negative errno on failure. */
int sdnotify_send(const char *state);
/* $WATCHDOG_USEC when systemd expects WATCHDOG=1 from this process at
 * least that often (WATCHDOG_PID, if set, is ours); else 0. */
uint64_t sdnotify_watchdog_usec(void);

/* ---- bounded SPSC queue (core/spscq.c) ---------------------------------- */

/* A lock-free ring of fixed-size elements copied by value. One producer
 * thread, one consumer thread. capacity is rounded up to a power of two. */
struct spscq;

int spscq_new(struct spscq **out, size_t capacity, size_t elem_bytes);
void spscq_free(struct spscq *q); /* NULL-safe */
/* Copies elem in; -ENOSPC when full. Producer thread only. */
int spscq_push(struct spscq *q, const void *elem);
/* Copies the oldest element out; -EAGAIN when empty. Consumer thread only. */
int spscq_pop(struct spscq *q, void *elem);

#endif
