/* ivr_pin.c: the states that ask: ANSWER (what to ask, if anything),
 * ASK_ROOM (the generic dial-in number: which conference?) and ASK_PIN.
 *
 * Both questions take digits followed by '#'. Keys pressed while the
 * question is still being asked cut it short; '*' starts the entry over;
 * the digit timeout (--digit-timeout, 5 s) runs from the end of the
 * question and from each key, and when it passes the entry so far is
 * taken as the answer. A wrong answer is said so, and the question asked
 * again; after PIN_TRIES wrong answers the caller hears goodbye and the
 * call ends. A room with a PIN admits on the PIN; its moderator PIN
 * admits as a moderator; a room with only a moderator PIN lets anyone in
 * on '#' alone (the moderator PIN is how moderators say who they are).
 * PINs are compared in time that does not depend on where they differ.
 *
 * Signalling thread only. */
#include "conference/ivr_priv.h"

#include <string.h>

#define PIN_TRIES 3

/* ---- ANSWER ------------------------------------------------------------- */

static void answer_enter(struct ivr *v)
{
	struct room *r = v->p->room;
	if (r->lobby)
		ivr_go(v, IVR_ASK_ROOM);
	else if (r->pin[0] || r->moderator_pin[0])
		ivr_go(v, IVR_ASK_PIN);
	else
		ivr_admit(v, false);
}

const struct ivr_state_ops ivr_answer_ops = {.name = "answer",
					     .enter = answer_enter};

/* ---- an entry of digits ending in '#' ----------------------------------- */

static void entry_clear(struct ivr *v)
{
	v->n_entry = 0;
	v->entry[0] = '\0';
	v->overflow = false;
}

/* Takes one key; true when the entry is complete ('#'). */
static bool entry_key(struct ivr *v, char key)
{
	if (v->wait_tag)
		ivr_hush(v); /* the caller knows what to do: stop asking */
	v->deadline_ns = ivr_digit_deadline(v);
	if (key == '#')
		return true;
	if (key == '*') {
		entry_clear(v);
	} else if (v->n_entry + 1 < sizeof(v->entry)) {
		v->entry[v->n_entry++] = key;
		v->entry[v->n_entry] = '\0';
	} else {
		v->overflow = true;
	}
	return false;
}

/* Asks, after "wrong" when it is not the first time. */
static void ask(struct ivr *v, enum ivr_clip_id wrong, enum ivr_clip_id q)
{
	enum ivr_clip_id ids[2] = {wrong, q};
	entry_clear(v);
	bool again = v->tries > 0;
	uint64_t ns = ivr_say(v, ids + !again, 1 + again, false, false);
	v->deadline_ns = ivr_digit_deadline(v) + ns;
}

static void start_timeout(struct ivr *v)
{
	v->deadline_ns = ivr_digit_deadline(v);
}

/* One more wrong answer: ask again, or goodbye. */
static void wrong(struct ivr *v, enum ivr_clip_id why, enum ivr_state again)
{
	struct participant *p = v->p;
	v->tries++;
	log_info("ivr", "room=%s call=%s wrong %s (%u of %d)", p->room->name,
		 p->call_id, again == IVR_ASK_PIN ? "PIN" : "room", v->tries,
		 PIN_TRIES);
	if (v->tries < PIN_TRIES) {
		ivr_go(v, again);
		return;
	}
	enum ivr_clip_id ids[2] = {why, CLIP_GOODBYE};
	ivr_bye(v, ids, 2, CI_FAILED, NULL);
}

/* ---- ASK_PIN ------------------------------------------------------------ */

/* Equal strings, in time that depends on the lengths only. */
static bool same_pin(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned diff = na != nb;
	for (size_t i = 0; i < na && i < nb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static void check_pin(struct ivr *v)
{
	struct room *r = v->p->room;
	bool ok = !v->overflow;
	bool mod =
	    ok && r->moderator_pin[0] && same_pin(v->entry, r->moderator_pin);
	bool user = ok && !mod && same_pin(v->entry, r->pin);
	if (mod || user) {
		log_info("ivr", "room=%s call=%s PIN accepted%s", r->name,
			 v->p->call_id, mod ? " (moderator)" : "");
		ivr_admit(v, mod);
		return;
	}
	wrong(v, CLIP_WRONG_PIN, IVR_ASK_PIN);
}

static void pin_enter(struct ivr *v)
{
	ask(v, CLIP_WRONG_PIN, CLIP_ENTER_PIN);
}

static void pin_digit(struct ivr *v, char key)
{
	if (entry_key(v, key))
		check_pin(v);
}

const struct ivr_state_ops ivr_ask_pin_ops = {.name = "ask-pin",
					      .enter = pin_enter,
					      .digit = pin_digit,
					      .played = start_timeout,
					      .timeout = check_pin};

/* ---- ASK_ROOM ----------------------------------------------------------- */

/* The room the caller named: there (or made on demand), open and not
 * full; then the caller moves there and the dialogue starts again. */
static void check_room(struct ivr *v)
{
	struct participant *p = v->p;
	struct conference *c = p->room->conf;
	/* The dial-in number itself is no conference. */
	bool bad =
	    v->overflow || strcmp(v->entry, c->opts->ivr.dialin_number) == 0;
	struct room *to = bad ? NULL : room_find(c, v->entry);
	bool may_make =
	    !bad && c->opts->rooms_on_demand && room_name_valid(v->entry);
	if (!to && !may_make) {
		wrong(v, CLIP_NO_ROOM, IVR_ASK_ROOM);
		return;
	}
	if (to && room_may_join(to)) {
		enum ivr_clip_id ids[2] = {
		    to->locked ? CLIP_LOCKED : CLIP_GOODBYE, CLIP_GOODBYE};
		ivr_bye(v, ids, to->locked ? 2 : 1, CI_FAILED, NULL);
		return;
	}
	log_info("ivr", "room=%s call=%s moving to room %s", p->room->name,
		 p->call_id, v->entry);
	ivr_hush(v);
	v->state = IVR_GONE; /* until it has arrived */
	if (room_move(p, v->entry))
		wrong(v, CLIP_NO_ROOM, IVR_ASK_ROOM);
}

static void room_enter(struct ivr *v)
{
	ask(v, CLIP_NO_ROOM, CLIP_ENTER_ROOM);
}

static void room_digit(struct ivr *v, char key)
{
	if (entry_key(v, key))
		check_room(v);
}

const struct ivr_state_ops ivr_ask_room_ops = {.name = "ask-room",
					       .enter = room_enter,
					       .digit = room_digit,
					       .played = start_timeout,
					       .timeout = check_room};

void ivr_moved(struct participant *p, bool arrived)
{
	struct ivr *v = p->ivr;
	if (!v)
		return;
	if (!arrived) {
		wrong(v, CLIP_NO_ROOM, IVR_ASK_ROOM);
		return;
	}
	v->tries = 0;
	ivr_go(v, IVR_ANSWER);
}
