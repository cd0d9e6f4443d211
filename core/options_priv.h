/* options_priv.h: what core/options.c (defaults, config file, command line,
 * printing) and core/options_value.c (the table of options and the parser
 * of each value) share. Private to core/: everyone else includes core.h.
 *
 * Like the rest of the options, it is used only by main()'s thread before
 * any other thread starts. The table is constant and owned by
 * options_value.c; the setters write into the struct options they are
 * given and nowhere else. */
#ifndef TUTTI_CORE_OPTIONS_PRIV_H
#define TUTTI_CORE_OPTIONS_PRIV_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>

/* One option. set() checks the value and writes it to o; on failure it
 * writes the reason, without the option's name, to why[len] and returns
 * -EINVAL. Options that only steer options_parse() have no set(). */
struct opt_def {
	const char *name; /* long option and config key */
	int val;	  /* what getopt_long() returns for it */
	int arg;  /* takes a value: getopt's no_, required_ or optional_argument
		   */
	bool key; /* may appear in a config file */
	int (*set)(struct options *o, const char *v, char *why, size_t len);
};

/* getopt_long() values of the options that have no short form. */
enum { OPT_CHECK = 256, OPT_LONG_ONLY };

/* The number of entries in options_value_defs; options_value.c does not
 * compile if the two disagree. */
#define OPTIONS_VALUE_NDEFS 48

extern const struct opt_def options_value_defs[];

/* Copies v into dst[size], or says in why that it is too long. */
int options_value_copy_str(char *dst, size_t size, const char *v, char *why,
			   size_t len);

/* The setters of api-token and api-token-file: options.c refuses both in
 * one source and takes the token from the environment. */
int options_value_set_api_token(struct options *o, const char *v, char *why,
				size_t len);
int options_value_set_api_token_file(struct options *o, const char *v,
				     char *why, size_t len);

/* yes, true, 1, on or no, false, 0, off (any case) into *dst. */
int options_value_bool(bool *dst, const char *v, char *why, size_t len);

/* ---- the dial-in options (core/options_ivr.c) -------------------------- */

void options_ivr_defaults(struct ivr_options *o);
/* The cross checks: no key sequence may be the beginning of another. */
int options_ivr_check(const struct ivr_options *o, char *why, size_t len);
void options_ivr_print(const struct ivr_options *o, FILE *f);

int options_ivr_set_prompt_dir(struct options *o, const char *v, char *why,
			       size_t len);
int options_ivr_set_dialin_number(struct options *o, const char *v, char *why,
				  size_t len);
int options_ivr_set_digit_timeout(struct options *o, const char *v, char *why,
				  size_t len);
int options_ivr_set_join_tones(struct options *o, const char *v, char *why,
			       size_t len);
int options_ivr_set_announce_count(struct options *o, const char *v, char *why,
				   size_t len);
int options_ivr_set_wait_for_moderator(struct options *o, const char *v,
				       char *why, size_t len);
int options_ivr_set_end_with_last_moderator(struct options *o, const char *v,
					    char *why, size_t len);
/* One setter per keypad option (keypad-mute sets OPT_KEY_MUTE...). */
#define OPTIONS_IVR_KEY_SETTER(name)                                           \
	int options_ivr_set_key_##name(struct options *o, const char *v,       \
				       char *why, size_t len)
OPTIONS_IVR_KEY_SETTER(mute);
OPTIONS_IVR_KEY_SETTER(listen_down);
OPTIONS_IVR_KEY_SETTER(listen_up);
OPTIONS_IVR_KEY_SETTER(talk_down);
OPTIONS_IVR_KEY_SETTER(talk_up);
OPTIONS_IVR_KEY_SETTER(leave);
OPTIONS_IVR_KEY_SETTER(help);
OPTIONS_IVR_KEY_SETTER(lock);
OPTIONS_IVR_KEY_SETTER(mute_all);
OPTIONS_IVR_KEY_SETTER(kick_last);

#endif
