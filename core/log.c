/* log.c: one line per event on stderr.
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2), so that lines from the signalling, HTTP and mixer threads never
 * interleave. A line reads "TIME LEVEL SUBSYS message", the message
 * carrying its context as key=value pairs, room= call= part= first and in
 * that order. Under systemd with stderr connected to the journal
 * (JOURNAL_STREAM names our stderr), the time is the journal's to keep and
 * each line starts with its syslog priority instead ("<6>"), which
 * journald strips and stores as the entry's PRIORITY.
 *
 * Levels are per subsystem (log_levels.c) and kept in relaxed atomics: set
 * once at start-up, read everywhere. max_level, the most verbose of them,
 * lets the log_info()/log_debug() macros skip the call altogether. Mixer
 * threads should not log on their per-tick path. */
#include "core/core.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A subsystem's level + 1; 0 follows base_level. */
static _Atomic int sub_level[LOG_SUBSYS_N];
static _Atomic int base_level = LL_INFO;
static _Atomic int max_level = LL_INFO;
static atomic_bool journal;
static _Atomic int out_fd = STDERR_FILENO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog(3)'s LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_prio[] = {3, 4, 6, 7};

#define LOAD(x)	    atomic_load_explicit(&(x), memory_order_relaxed)
#define STORE(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

void log_set_levels(const struct log_levels *l)
{
	int max = (int)l->base;

	STORE(base_level, (int)l->base);
	for (size_t i = 0; i < LOG_SUBSYS_N; i++) {
		STORE(sub_level[i], l->sub[i] < 0 ? 0 : l->sub[i] + 1);
		if (l->sub[i] > max)
			max = l->sub[i];
	}
	STORE(max_level, max);
}

void log_set_level(enum log_level level)
{
	struct log_levels l;

	log_levels_init(&l, level);
	log_set_levels(&l);
}

enum log_level log_get_level(void)
{
	return (enum log_level)LOAD(max_level);
}

bool log_enabled(enum log_level level, const char *subsys)
{
	int i = log_subsys_index(subsys);
	int v = i < 0 ? 0 : LOAD(sub_level[i]);

	return (int)level <= (v ? v - 1 : LOAD(base_level));
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (s && strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "?";
	return level_names[level];
}

void log_set_journal(bool on)
{
	atomic_store(&journal, on);
}

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected
 * stdout and stderr to; stderr may have been redirected since, so it
 * counts only when it is still that stream. */
bool log_detect_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;
	bool on = false;

	if (v && sscanf(v, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
	    fstat(LOAD(out_fd), &st) == 0)
		on = (unsigned long long)st.st_dev == dev &&
		     (unsigned long long)st.st_ino == ino;
	log_set_journal(on);
	return on;
}

int log_set_fd(int fd)
{
	return atomic_exchange(&out_fd, fd);
}

/* "TIME LEVEL SUBSYS " or, for the journal, "<PRIO>LEVEL SUBSYS ". */
static size_t format_prefix(char *buf, size_t cap, enum log_level level,
			    const char *subsys)
{
	const char *sub = subsys ? subsys : "-";
	int n;

	if (atomic_load(&journal)) {
		n = snprintf(buf, cap, "<%d>%-5s %-5s ", level_prio[level],
			     log_level_name(level), sub);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(buf, cap,
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-5s ",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000L, log_level_name(level), sub);
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Control characters from hostile input must not forge log lines. */
static void sanitize(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
}

static void write_all(const char *buf, size_t len)
{
	int fd = LOAD(out_fd);

	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		len -= (size_t)w;
	}
}

void log_emit(enum log_level level, const char *subsys, const char *fmt, ...)
{
	if ((unsigned)level > LL_DEBUG || !log_enabled(level, subsys))
		return;

	char line[2048];
	size_t n = format_prefix(line, sizeof(line), level, subsys);

	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;

	size_t len = n + (size_t)m;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2; /* truncated: still one line */
	sanitize(line + n, len - n);
	line[len++] = '\n';
	write_all(line, len);
}

void log_emit_text(enum log_level level, const char *subsys, const char *text,
		   size_t text_len)
{
	if ((unsigned)level > LL_DEBUG || !log_enabled(level, subsys) || !text)
		return;

	char buf[8192], prefix[96];
	size_t plen = format_prefix(prefix, sizeof(prefix), level, subsys);
	size_t used = 0;
	const char *p = text, *end = text + text_len;

	/* Whole lines into buf, written when the next would not fit. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		size_t room = sizeof(buf) - plen - 1; /* one line at most */

		if (n > room)
			n = room;
		if (used + plen + n + 1 > sizeof(buf)) {
			write_all(buf, used);
			used = 0;
		}
		memcpy(buf + used, prefix, plen);
		memcpy(buf + used + plen, p, n);
		sanitize(buf + used + plen, n);
		used += plen + n;
		buf[used++] = '\n';
		p = nl ? nl + 1 : end;
	}
	if (used)
		write_all(buf, used);
}
