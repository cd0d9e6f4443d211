/* ivr_priv.h: what the files of the dial-in dialogue share: ivr.c (the
 * table of states and the engine that runs it), ivr_pin.c (asking for
 * the room and the PIN), ivr_admit.c (letting a caller in, waiting for a
 * moderator, the tones of joins and leaves, the end of a conference),
 * ivr_keys.c (the in-call keypad) and ivr_clips.c (prompts and tones).
 * Signalling thread only. */
#ifndef TUTTI_CONFERENCE_IVR_PRIV_H
#define TUTTI_CONFERENCE_IVR_PRIV_H

#include "conference/ivr.h"

/* ---- clips (ivr_clips.c) ------------------------------------------------ */

/* Every prompt and tone, by the name of its file (prompts/meson.build).
 * The numbers: CLIP_NUM_0 + n for n < 20, CLIP_NUM_20 + k for 20 + 10 k. */
enum ivr_clip_id {
	CLIP_ENTER_PIN,
	CLIP_WRONG_PIN,
	CLIP_ENTER_ROOM,
	CLIP_NO_ROOM,
	CLIP_ONLY_PERSON,
	CLIP_ONE_OTHER,
	CLIP_THERE_ARE,
	CLIP_OTHER_PEOPLE,
	CLIP_MANY,
	CLIP_LOCKED,
	CLIP_UNLOCKED,
	CLIP_MUTED,
	CLIP_UNMUTED,
	CLIP_REMOVED,
	CLIP_GOODBYE,
	CLIP_HELP,
	CLIP_HELP_MODERATOR,
	CLIP_WAIT_MODERATOR,
	CLIP_ALL_MUTED,
	CLIP_ALL_UNMUTED,
	CLIP_KICKED_LAST,
	CLIP_NOBODY_TO_REMOVE,
	CLIP_MODERATORS_ONLY,
	CLIP_LISTEN_DOWN,
	CLIP_LISTEN_UP,
	CLIP_TALK_DOWN,
	CLIP_TALK_UP,
	CLIP_CONFERENCE_ENDED,
	CLIP_NUM_0,
	CLIP_NUM_20 = CLIP_NUM_0 + 20,
	CLIP_PROMPTS_END = CLIP_NUM_20 + 8, /* twenty .. ninety */
	/* Tones, always generated. */
	CLIP_TONE_JOIN = CLIP_PROMPTS_END,
	CLIP_TONE_LEAVE,
	CLIP_TONE_HOLD,
	CLIP_N
};

struct ivr_clips;
/* Loads every prompt from dir (NAME-RATE.wav, else NAME.wav at any rate,
 * else a tone) and makes the tones, at rate_hz and, chained behind each
 * clip through its alt, at the other room rates (8000, 16000, 48000), so
 * that a room plays them at whatever rate it mixes. ivr_clips_get gives
 * the clip at rate_hz. */
int ivr_clips_load(struct ivr_clips **out, const char *dir, uint32_t rate_hz);
void ivr_clips_free(struct ivr_clips *cl); /* NULL-safe */
const struct mixer_clip *ivr_clips_get(const struct ivr_clips *cl,
				       enum ivr_clip_id id);
/* The file name of a prompt ("enter-pin"); NULL for tones. */
const char *ivr_clips_name(enum ivr_clip_id id);
/* How many prompts came from files (the rest are tones). */
unsigned ivr_clips_spoken(const struct ivr_clips *cl);
/* "there are N other people": the clips that say it, into out (cap >= 4);
 * returns their number. */
size_t ivr_clips_count(unsigned others, enum ivr_clip_id *out, size_t cap);

/* ---- the dialogue (ivr.c) ----------------------------------------------- */

enum ivr_state {
	IVR_ANSWER,   /* decides what to ask */
	IVR_ASK_ROOM, /* the dial-in number: which conference? */
	IVR_ASK_PIN,  /* the PIN (or the moderator PIN), then # */
	IVR_WAIT,     /* admitted, holding until a moderator comes */
	IVR_IN_CALL,  /* in the room; the keypad works */
	IVR_BYE,      /* a last prompt, then BYE */
	IVR_GONE,     /* BYE sent */
	IVR_N
};

struct ivr {
	struct participant *p;
	enum ivr_state state;
	char entry[CONF_PIN_MAX + 2]; /* digits typed so far */
	size_t n_entry;
	bool overflow; /* more digits than any PIN has */
	unsigned tries;
	uint64_t deadline_ns; /* of the state's timeout; 0: none */
	uint64_t tick;	      /* the last ivr_tick() that timed it out */
	uint32_t next_tag;
	uint32_t wait_tag; /* the MIXER_EV_PLAYED the state waits for */
	char keys[OPT_KEY_MAX + 1]; /* in-call sequence so far */
	size_t n_keys;
	uint64_t keys_window_ns; /* keys counted since (flood limit) */
	unsigned keys_in_window;
	enum ci_disconnection bye_how;
	char bye_by[CI_URI_MAX];
};

/* One state: what it does on entry, on a key, when its prompt has played
 * and when its deadline passes. NULL: nothing. */
struct ivr_state_ops {
	const char *name;
	void (*enter)(struct ivr *v);
	void (*digit)(struct ivr *v, char key);
	void (*played)(struct ivr *v);
	void (*timeout)(struct ivr *v);
};

extern const struct ivr_state_ops ivr_answer_ops, ivr_ask_room_ops,
    ivr_ask_pin_ops, ivr_wait_ops, ivr_in_call_ops, ivr_bye_ops;

void ivr_go(struct ivr *v, enum ivr_state s);
/* Plays clips to the caller, instead of what it was playing (or after it,
 * with append); the state waits for the last one (wait_tag). Returns the
 * clips' length in ns. loop_last: the last clip repeats (hold music). */
uint64_t ivr_say(struct ivr *v, const enum ivr_clip_id *ids, size_t n,
		 bool append, bool loop_last);
uint64_t ivr_say1(struct ivr *v, enum ivr_clip_id id);
void ivr_hush(struct ivr *v); /* stops what the caller is hearing */
/* A tone the whole room hears but except_id. */
void ivr_room_tone(struct room *r, enum ivr_clip_id id, uint32_t except_id);
/* The caller neither hears the room nor is heard (the dialogue), or back. */
void ivr_isolate(struct ivr *v, bool on);
/* Says the clips, then hangs up (how, by). */
void ivr_bye(struct ivr *v, const enum ivr_clip_id *ids, size_t n,
	     enum ci_disconnection how, const char *by);
/* Now + the digit timeout option. */
uint64_t ivr_digit_deadline(const struct ivr *v);
const struct ivr_options *ivr_opts(const struct ivr *v);

/* ---- ivr_admit.c ----------------------------------------------------------
 */

/* Lets the caller in (as moderator or not): or waits for a moderator, or
 * refuses it when the room was locked meanwhile. */
void ivr_admit(struct ivr *v, bool moderator);
/* Admitted participants of r other than p, not leaving, counted up to
 * cap (a room of thousands is not walked at every join and leave). */
unsigned ivr_others(const struct room *r, const struct participant *p,
		    unsigned cap);
/* Where the count a caller hears stops mattering ("many other people"). */
#define IVR_COUNT_CAP 100

#endif
