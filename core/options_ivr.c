/* options_ivr.c: the options of the dial-in dialogue: where the prompts
 * are, the generic dial-in number, the PIN's digit timeout, join and leave
 * tones, the count announced to a joiner, waiting for a moderator, ending
 * with the last one, and the in-call keypad.
 *
 * A key sequence is one to OPT_KEY_MAX of 0-9 * # A-D (a-d are taken as
 * capitals), or empty to turn the action off. Since keys are matched as
 * they are pressed, no sequence may be the beginning of another (or equal
 * to it); options_ivr_check() refuses such a keypad once every source has
 * been applied. The defaults are close to what Asterisk ConfBridge and
 * FreeSWITCH users know: *6 mute, *4 and *5 listening volume, *7 and *9
 * talking volume, *8 leave, *0 help; moderators *1 lock, *2 mute all but
 * moderators, *3 remove the last caller who joined.
 *
 * Like the rest of the options: main()'s thread, before any other thread
 * starts; setters write into the struct they are given and say why not. */
#include "core/options_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const key_names[OPT_KEY_N] = {
    [OPT_KEY_MUTE] = "keypad-mute",
    [OPT_KEY_LISTEN_DOWN] = "keypad-listen-down",
    [OPT_KEY_LISTEN_UP] = "keypad-listen-up",
    [OPT_KEY_TALK_DOWN] = "keypad-talk-down",
    [OPT_KEY_TALK_UP] = "keypad-talk-up",
    [OPT_KEY_LEAVE] = "keypad-leave",
    [OPT_KEY_HELP] = "keypad-help",
    [OPT_KEY_LOCK] = "keypad-lock",
    [OPT_KEY_MUTE_ALL] = "keypad-mute-all",
    [OPT_KEY_KICK_LAST] = "keypad-kick-last",
};

static const char *const key_defaults[OPT_KEY_N] = {
    [OPT_KEY_MUTE] = "*6",	[OPT_KEY_LISTEN_DOWN] = "*4",
    [OPT_KEY_LISTEN_UP] = "*5", [OPT_KEY_TALK_DOWN] = "*7",
    [OPT_KEY_TALK_UP] = "*9",	[OPT_KEY_LEAVE] = "*8",
    [OPT_KEY_HELP] = "*0",	[OPT_KEY_LOCK] = "*1",
    [OPT_KEY_MUTE_ALL] = "*2",	[OPT_KEY_KICK_LAST] = "*3",
};

void options_ivr_defaults(struct ivr_options *o)
{
	memset(o, 0, sizeof(*o));
	o->digit_timeout_s = 5;
	o->join_tones = true;
	for (int k = 0; k < OPT_KEY_N; k++)
		strcpy(o->keypad[k], key_defaults[k]);
}

int options_ivr_set_prompt_dir(struct options *o, const char *v, char *why,
			       size_t len)
{
	struct stat st;
	if (*v && (stat(v, &st) != 0 || !S_ISDIR(st.st_mode) ||
		   access(v, R_OK | X_OK) != 0)) {
		snprintf(why, len, "'%s' is not a directory we may read", v);
		return -EINVAL;
	}
	return options_value_copy_str(o->ivr.prompt_dir,
				      sizeof(o->ivr.prompt_dir), v, why, len);
}

/* The user part of a request URI, as a room name may be, and '+'. */
int options_ivr_set_dialin_number(struct options *o, const char *v, char *why,
				  size_t len)
{
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
			     "VWXYZ0123456789._-+");
	if (v[n] != '\0') {
		snprintf(why, len, "'%s' is not the user part of a SIP URI", v);
		return -EINVAL;
	}
	return options_value_copy_str(
	    o->ivr.dialin_number, sizeof(o->ivr.dialin_number), v, why, len);
}

int options_ivr_set_digit_timeout(struct options *o, const char *v, char *why,
				  size_t len)
{
	unsigned long s;
	int rc = netaddr_parse_ulong(v, 60, &s);
	if (rc || s < 1) {
		snprintf(why, len, "'%s' is not in 1..60 (seconds)", v);
		return -EINVAL;
	}
	o->ivr.digit_timeout_s = (unsigned)s;
	return 0;
}

int options_ivr_set_join_tones(struct options *o, const char *v, char *why,
			       size_t len)
{
	return options_value_bool(&o->ivr.join_tones, v, why, len);
}

int options_ivr_set_announce_count(struct options *o, const char *v, char *why,
				   size_t len)
{
	return options_value_bool(&o->ivr.announce_count, v, why, len);
}

int options_ivr_set_wait_for_moderator(struct options *o, const char *v,
				       char *why, size_t len)
{
	return options_value_bool(&o->ivr.wait_for_moderator, v, why, len);
}

int options_ivr_set_end_with_last_moderator(struct options *o, const char *v,
					    char *why, size_t len)
{
	return options_value_bool(&o->ivr.end_with_last_moderator, v, why, len);
}

static int set_key(struct options *o, enum opt_key k, const char *v, char *why,
		   size_t len)
{
	char seq[OPT_KEY_MAX + 1];
	size_t n = strlen(v);
	if (n > OPT_KEY_MAX) {
		snprintf(why, len, "'%s': at most %d keys", v, OPT_KEY_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = v[i] >= 'a' && v[i] <= 'd' ? (char)(v[i] - 32) : v[i];
		if (!c || !strchr("0123456789*#ABCD", c)) {
			snprintf(why, len, "'%s' is not keys of 0-9, *, #, A-D",
				 v);
			return -EINVAL;
		}
		seq[i] = c;
	}
	seq[n] = '\0';
	strcpy(o->ivr.keypad[k], seq);
	return 0;
}

#define KEY_SETTER(name, k)                                                    \
	OPTIONS_IVR_KEY_SETTER(name)                                           \
	{                                                                      \
		return set_key(o, k, v, why, len);                             \
	}

KEY_SETTER(mute, OPT_KEY_MUTE)
KEY_SETTER(listen_down, OPT_KEY_LISTEN_DOWN)
KEY_SETTER(listen_up, OPT_KEY_LISTEN_UP)
KEY_SETTER(talk_down, OPT_KEY_TALK_DOWN)
KEY_SETTER(talk_up, OPT_KEY_TALK_UP)
KEY_SETTER(leave, OPT_KEY_LEAVE)
KEY_SETTER(help, OPT_KEY_HELP)
KEY_SETTER(lock, OPT_KEY_LOCK)
KEY_SETTER(mute_all, OPT_KEY_MUTE_ALL)
KEY_SETTER(kick_last, OPT_KEY_KICK_LAST)

int options_ivr_check(const struct ivr_options *o, char *why, size_t len)
{
	for (int a = 0; a < OPT_KEY_N; a++) {
		size_t na = strlen(o->keypad[a]);
		for (int b = 0; na && b < OPT_KEY_N; b++) {
			if (a == b || strncmp(o->keypad[a], o->keypad[b], na))
				continue;
			snprintf(why, len,
				 "--%s '%s' is the beginning of --%s '%s'",
				 key_names[a], o->keypad[a], key_names[b],
				 o->keypad[b]);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void options_ivr_print(const struct ivr_options *o, FILE *f)
{
	fprintf(f, "prompt-dir =%s%s\n", o->prompt_dir[0] ? " " : "",
		o->prompt_dir);
	fprintf(f, "dialin-number =%s%s\n", o->dialin_number[0] ? " " : "",
		o->dialin_number);
	fprintf(f, "digit-timeout = %u\n", o->digit_timeout_s);
	fprintf(f, "join-tones = %s\n", yes_no(o->join_tones));
	fprintf(f, "announce-count = %s\n", yes_no(o->announce_count));
	fprintf(f, "wait-for-moderator = %s\n", yes_no(o->wait_for_moderator));
	fprintf(f, "end-with-last-moderator = %s\n",
		yes_no(o->end_with_last_moderator));
	for (int k = 0; k < OPT_KEY_N; k++)
		fprintf(f, "%s =%s%s\n", key_names[k],
			o->keypad[k][0] ? " " : "", o->keypad[k]);
}
