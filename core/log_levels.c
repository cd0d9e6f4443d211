/* log_levels.c: the subsystems that log and the level each logs at, as
 * --log-level gives them ("info,sip=debug,rtp=warn").
 *
 * The subsystems are a fixed table, so that a misspelt name in a config
 * file is an error rather than a setting that silently does nothing. The
 * tests check that every subsystem the sources log under is in it.
 * Parsing and formatting are pure; log.c applies the result. Any thread. */
#include "core/core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* In the order --help lists them; log_emit() finds a name by strcmp, so a
 * short table keeps that cheap. */
static const char *const subsys_names[] = {
    "main",  /* start, stop, the watchdog */
    "sip",   /* signalling: calls, refusals, the SIP stack */
    "trace", /* --sip-trace: every SIP message in and out */
    "sofia", /* Sofia-SIP's own messages */
    "sub",   /* conference-state subscriptions */
    "reg",   /* the registrar */
    "chat",  /* MESSAGE relayed to rooms */
    "ivr",   /* the dial-in dialogue: PINs, prompts, the keypad */
    "room",  /* rooms and participants, the per-call summary */
    "ctl",   /* control requests from the API */
    "store", /* the SQLite room store */
    "rec",   /* recordings */
    "api",   /* the HTTP API */
    "rtp",   /* media streams */
    "mixer", /* the per-room mixers */
};

_Static_assert(sizeof(subsys_names) / sizeof(subsys_names[0]) == LOG_SUBSYS_N,
	       "LOG_SUBSYS_N must count subsys_names");

const char *log_subsys_name(size_t i)
{
	return i < LOG_SUBSYS_N ? subsys_names[i] : NULL;
}

int log_subsys_index(const char *name)
{
	for (size_t i = 0; name && i < LOG_SUBSYS_N; i++)
		if (strcmp(name, subsys_names[i]) == 0)
			return (int)i;
	return -ENOENT;
}

void log_levels_init(struct log_levels *l, enum log_level base)
{
	l->base = base;
	for (size_t i = 0; i < LOG_SUBSYS_N; i++)
		l->sub[i] = -1;
}

enum log_level log_levels_of(const struct log_levels *l, size_t i)
{
	if (i >= LOG_SUBSYS_N || l->sub[i] < 0)
		return l->base;
	return (enum log_level)l->sub[i];
}

/* s without the blanks around it, in place. */
static char *trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static int bad_level(const char *v, char *why, size_t len)
{
	snprintf(why, len, "'%s' is not error, warn, info or debug", v);
	return -EINVAL;
}

/* One comma-separated item: "debug" or "sip=debug", blanks allowed
 * around the words. */
static int parse_item(const char *s, size_t n, struct log_levels *l,
		      bool *have_base, char *why, size_t len)
{
	char buf[64], *item, *eq, *name;
	enum log_level lv;
	int i;

	if (n >= sizeof(buf)) {
		snprintf(why, len, "'%.20s...' is too long", s);
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	item = trim(buf);
	if (!*item) {
		snprintf(why, len, "empty item");
		return -EINVAL;
	}
	eq = strchr(item, '=');
	if (!eq) {
		if (*have_base) {
			snprintf(why, len, "'%s': the level is given twice",
				 item);
			return -EINVAL;
		}
		if (log_level_parse(item, &lv) != 0)
			return bad_level(item, why, len);
		*have_base = true;
		l->base = lv;
		return 0;
	}
	*eq = '\0';
	name = trim(item);
	i = log_subsys_index(name);
	if (i < 0) {
		snprintf(why, len, "'%s' is not a subsystem (see --help)",
			 name);
		return -EINVAL;
	}
	if (l->sub[i] >= 0) {
		snprintf(why, len, "'%s' is given twice", name);
		return -EINVAL;
	}
	if (log_level_parse(trim(eq + 1), &lv) != 0)
		return bad_level(trim(eq + 1), why, len);
	l->sub[i] = (int8_t)lv;
	return 0;
}

int log_levels_parse(const char *spec, struct log_levels *out, char *why,
		     size_t len)
{
	struct log_levels l;
	bool have_base = false;

	log_levels_init(&l, LL_INFO);
	if (!spec) {
		snprintf(why, len, "empty");
		return -EINVAL;
	}
	for (const char *p = spec;; p++) {
		size_t n = strcspn(p, ",");

		if (parse_item(p, n, &l, &have_base, why, len))
			return -EINVAL;
		p += n;
		if (!*p)
			break;
	}
	*out = l;
	return 0;
}

void log_levels_format(const struct log_levels *l, char *buf, size_t cap)
{
	size_t n;

	if (!cap)
		return;
	n = (size_t)snprintf(buf, cap, "%s", log_level_name(l->base));
	for (size_t i = 0; i < LOG_SUBSYS_N && n < cap; i++)
		if (l->sub[i] >= 0)
			n += (size_t)snprintf(
			    buf + n, cap - n, ",%s=%s", subsys_names[i],
			    log_level_name((enum log_level)l->sub[i]));
}
