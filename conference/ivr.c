/* ivr.c: the dial-in dialogue's engine: a table of small states, each a
 * set of handlers (on entry, on a key, when its prompt has played, when
 * its deadline passes), in the spirit of Asterisk ConfBridge's
 * conf_state_*.c. This file runs the table, plays clips to one caller or
 * to a room through its mixer, keeps the deadlines and holds the last
 * state of all, IVR_BYE: a last prompt, then BYE.
 *
 *   ANSWER -> ASK_ROOM (the dial-in number) -> ASK_PIN -> (admit)
 *          -> WAIT (for a moderator) -> IN_CALL -> BYE -> GONE
 *
 * Who handles what: ivr_pin.c asks for the room and the PIN, ivr_admit.c
 * lets a caller in or waits for a moderator, ivr_keys.c is the keypad of
 * a caller in the call. Keys come from the mixer (RFC 4733, in-band) and
 * from SIP INFO; "played" comes from the mixer when a caller's queue of
 * clips has played out; deadlines are checked by ivr_tick(), a few times
 * a second, so a state never waits forever on an event that was lost.
 *
 * Signalling thread only. A participant owns its struct ivr (p->ivr),
 * made by ivr_start() and freed with the participant. */
#include "conference/ivr_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NS_PER_MS	1000000ull
#define BYE_SLACK_NS	(2000ull * NS_PER_MS) /* a goodbye that never ends */
#define KEYS_WINDOW_NS	(2000ull * NS_PER_MS)
#define KEYS_PER_WINDOW 30

#ifndef TUTTI_PROMPT_INSTALL_DIR
#define TUTTI_PROMPT_INSTALL_DIR ""
#endif
#ifndef TUTTI_PROMPT_BUILD_DIR
#define TUTTI_PROMPT_BUILD_DIR ""
#endif

static const struct ivr_state_ops *const states[IVR_N] = {
    [IVR_ANSWER] = &ivr_answer_ops,
    [IVR_ASK_ROOM] = &ivr_ask_room_ops,
    [IVR_ASK_PIN] = &ivr_ask_pin_ops,
    [IVR_WAIT] = &ivr_wait_ops,
    [IVR_IN_CALL] = &ivr_in_call_ops,
    [IVR_BYE] = &ivr_bye_ops,
    [IVR_GONE] = NULL, /* ignores everything */
};

/* ---- the engine --------------------------------------------------------- */

const struct ivr_options *ivr_opts(const struct ivr *v)
{
	return &v->p->room->conf->opts->ivr;
}

uint64_t ivr_digit_deadline(const struct ivr *v)
{
	return mono_now_ns() +
	       (uint64_t)ivr_opts(v)->digit_timeout_s * 1000 * NS_PER_MS;
}

void ivr_go(struct ivr *v, enum ivr_state s)
{
	struct participant *p = v->p;
	log_debug("ivr", "room=%s call=%s %s -> %s", p->room->name, p->call_id,
		  states[v->state] ? states[v->state]->name : "gone",
		  states[s] ? states[s]->name : "gone");
	v->state = s;
	v->deadline_ns = 0;
	v->wait_tag = 0;
	if (states[s] && states[s]->enter)
		states[s]->enter(v);
}

static struct ivr_clips *clips_of(const struct ivr *v)
{
	return v->p->room->conf->clips;
}

static void post_play(struct room *r, uint32_t to, const struct mixer_clip *c,
		      uint32_t tag, bool append, bool loop, uint32_t except)
{
	if (!r->mixer)
		return;
	struct mixer_cmd cmd = {.kind = MIXER_PLAY, .part_id = to};
	cmd.play = (struct mixer_play){.clip = c,
				       .tag = tag,
				       .append = append,
				       .loop = loop,
				       .except_id = except};
	if (mixer_post(r->mixer, &cmd))
		log_warn("ivr", "room=%s part=%u: mixer busy, clip dropped",
			 r->name, to);
}

uint64_t ivr_say(struct ivr *v, const enum ivr_clip_id *ids, size_t n,
		 bool append, bool loop_last)
{
	struct participant *p = v->p;
	uint64_t ns = 0;
	if (!p->in_mixer)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct mixer_clip *c = ivr_clips_get(clips_of(v), ids[i]);
		bool last = i + 1 == n;
		v->wait_tag = ++v->next_tag ? v->next_tag : ++v->next_tag;
		post_play(p->room, p->id, c, v->wait_tag, append || i > 0,
			  last && loop_last, 0);
		ns += (uint64_t)c->n_samples * 1000000000ull / c->rate_hz;
	}
	if (loop_last)
		v->wait_tag = 0; /* a loop never plays out */
	return ns;
}

uint64_t ivr_say1(struct ivr *v, enum ivr_clip_id id)
{
	return ivr_say(v, &id, 1, false, false);
}

void ivr_hush(struct ivr *v)
{
	struct participant *p = v->p;
	v->wait_tag = 0;
	if (!p->in_mixer || !p->room->mixer)
		return;
	struct mixer_cmd cmd = {.kind = MIXER_PLAY_STOP, .part_id = p->id};
	(void)mixer_post(p->room->mixer, &cmd);
}

void ivr_room_tone(struct room *r, enum ivr_clip_id id, uint32_t except_id)
{
	const struct mixer_clip *c = ivr_clips_get(r->conf->clips, id);
	post_play(r, MIXER_ROOM, c, 0, false, false, except_id);
}

void ivr_isolate(struct ivr *v, bool on)
{
	struct participant *p = v->p;
	if (p->isolated == on)
		return;
	p->isolated = on;
	if (room_set_controls(p))
		log_warn("ivr", "room=%s call=%s: mixer busy", p->room->name,
			 p->call_id);
}

void ivr_bye(struct ivr *v, const enum ivr_clip_id *ids, size_t n,
	     enum ci_disconnection how, const char *by)
{
	v->bye_how = how;
	snprintf(v->bye_by, sizeof(v->bye_by), "%s", by ? by : "");
	ivr_go(v, IVR_BYE);
	ivr_isolate(v, true);
	uint64_t ns = ivr_say(v, ids, n, false, false);
	v->deadline_ns = mono_now_ns() + ns + BYE_SLACK_NS;
}

/* ---- IVR_BYE: the last prompt has played (or never will): BYE ---------- */

static void bye_now(struct ivr *v)
{
	struct participant *p = v->p;
	ivr_go(v, IVR_GONE);
	log_info("ivr", "room=%s call=%s: hanging up", p->room->name,
		 p->call_id);
	sig_call_hangup(p, v->bye_how, v->bye_by[0] ? v->bye_by : NULL);
}

const struct ivr_state_ops ivr_bye_ops = {
    .name = "bye", .played = bye_now, .timeout = bye_now};

/* ---- the rest of the focus calls these ---------------------------------- */

static const char *prompt_dir(const struct options *o)
{
	struct stat st;
	if (o->ivr.prompt_dir[0])
		return o->ivr.prompt_dir;
	if (stat(TUTTI_PROMPT_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return TUTTI_PROMPT_INSTALL_DIR;
	return TUTTI_PROMPT_BUILD_DIR;
}

int ivr_init(struct conference *c)
{
	const char *dir = prompt_dir(c->opts);
	int err = ivr_clips_load(&c->clips, dir, MIXER_MAX_RATE_HZ);
	if (err)
		return err;
	unsigned spoken = ivr_clips_spoken(c->clips);
	if (spoken < CLIP_PROMPTS_END)
		log_warn("ivr", "prompts: %u of %u from %s, the rest as tones",
			 spoken, (unsigned)CLIP_PROMPTS_END,
			 dir[0] ? dir : "(none)");
	else
		log_info("ivr", "prompts: %u from %s", spoken, dir);
	return 0;
}

void ivr_shutdown(struct conference *c)
{
	ivr_clips_free(c->clips);
	c->clips = NULL;
}

void ivr_start(struct participant *p)
{
	if (p->ivr || p->leaving)
		return;
	struct ivr *v = calloc(1, sizeof(*v));
	if (!v) {
		log_error("ivr", "room=%s call=%s: out of memory",
			  p->room->name, p->call_id);
		sig_call_hangup(p, CI_FAILED, NULL);
		return;
	}
	v->p = p;
	v->state = IVR_GONE;
	p->ivr = v;
	if (p->admitted) {
		/* Dialled out by us: in the room at once. */
		ivr_admit(v, p->moderator);
		return;
	}
	ivr_go(v, IVR_ANSWER);
}

/* No person presses more than a few keys a second; a flood of events
 * (a broken or hostile sender) is cut to KEYS_PER_WINDOW per window, so
 * that it cannot turn into a flood of actions, events and NOTIFYs. */
static bool too_fast(struct ivr *v)
{
	uint64_t now = mono_now_ns();
	if (now - v->keys_window_ns > KEYS_WINDOW_NS) {
		v->keys_window_ns = now;
		v->keys_in_window = 0;
	}
	return ++v->keys_in_window > KEYS_PER_WINDOW;
}

void ivr_on_digit(struct participant *p, const struct digit *d)
{
	struct ivr *v = p->ivr;
	if (v && too_fast(v))
		return;
	/* A PIN never goes to the log, not even at debug level. */
	bool secret = !v || v->state != IVR_IN_CALL;
	log_debug("ivr", "room=%s call=%s key %c (%s, %u ms)", p->room->name,
		  p->call_id, secret ? '?' : d->key,
		  d->source == DIGIT_INFO     ? "info"
		  : d->source == DIGIT_INBAND ? "in-band"
					      : "rfc4733",
		  d->duration_ms);
	if (v && !p->leaving && states[v->state] && states[v->state]->digit)
		states[v->state]->digit(v, d->key);
}

void ivr_on_played(struct participant *p, uint32_t tag)
{
	struct ivr *v = p->ivr;
	if (!v || p->leaving || !tag || tag != v->wait_tag)
		return;
	v->wait_tag = 0;
	if (states[v->state] && states[v->state]->played)
		states[v->state]->played(v);
}

void ivr_free(struct participant *p)
{
	free(p->ivr);
	p->ivr = NULL;
}

/* The first participant whose deadline has passed and that this tick
 * has not handled yet, or NULL. */
static struct ivr *due(struct conference *c, uint64_t now_ns, uint64_t tick)
{
	for (struct room *r = c->rooms; r; r = r->next)
		for (struct participant *p = r->parts; p; p = p->next)
			if (p->ivr && !p->leaving && p->ivr->deadline_ns &&
			    p->ivr->deadline_ns <= now_ns &&
			    p->ivr->tick != tick)
				return p->ivr;
	return NULL;
}

void ivr_tick(struct conference *c, uint64_t now_ns)
{
	static uint64_t ticks;
	struct ivr *v;
	ticks++;
	/* A handler may move participants between rooms: look again each
	 * time; each one times out once per tick at most. */
	while ((v = due(c, now_ns, ticks))) {
		v->tick = ticks;
		v->deadline_ns = 0;
		if (states[v->state] && states[v->state]->timeout)
			states[v->state]->timeout(v);
	}
}
