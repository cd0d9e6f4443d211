/* ivr_keys.c: IN_CALL, the keypad of a participant in the conference.
 *
 * Keys are collected until they spell one of the configured sequences
 * (--keypad-*, e.g. *6) and the action runs; keys that cannot begin any
 * sequence are let go (someone typing into another system's menu), and a
 * sequence left half-typed is forgotten after the digit timeout. Every
 * action is acknowledged with a prompt to that participant alone.
 *
 * Everyone: mute/unmute self, listening volume down/up, talking volume
 * down/up (3 dB steps, within +-12 dB), leave, help. Moderators: lock or
 * unlock the room, mute or unmute everyone but moderators, remove the
 * caller who joined last (who hears that it was removed). Mute, talking
 * volume, lock and mute-all go through the same control handlers as the
 * API's requests, so subscribers, events, the store and the log see a
 * keypad action as they see the API's.
 *
 * Signalling thread only. */
#include "conference/ctl.h"
#include "conference/ivr_priv.h"

#include <string.h>

#define STEP_DB 3
#define MAX_DB	12

static const struct ivr_options *opts(const struct ivr *v)
{
	return ivr_opts(v);
}

/* The API's path for a participant's controls; false when it failed. */
static bool part_update(struct participant *p, const struct conf_part_spec *s)
{
	struct conf_req req = {.op = CONF_PART_UPDATE, .part_id = p->id};
	struct conf_reply rep = {0};
	snprintf(req.room, sizeof(req.room), "%s", p->room->name);
	req.part_spec = *s;
	ctl_parts_handle(p->room->conf, &req, &rep);
	bool ok = rep.err == 0;
	conference_reply_clear(&rep);
	return ok;
}

static void toggle_mute(struct ivr *v)
{
	struct participant *p = v->p;
	struct conf_part_spec s = {.set_muted = true, .muted = !p->muted};
	if (part_update(p, &s))
		ivr_say1(v, p->muted ? CLIP_MUTED : CLIP_UNMUTED);
}

static int step(int db, int dir)
{
	db += dir * STEP_DB;
	return db > MAX_DB ? MAX_DB : db < -MAX_DB ? -MAX_DB : db;
}

static void listen_gain(struct ivr *v, int dir)
{
	struct participant *p = v->p;
	int was = p->listen_gain_db;
	p->listen_gain_db = step(was, dir);
	if (room_set_controls(p)) {
		p->listen_gain_db = was;
		return;
	}
	ivr_say1(v, dir < 0 ? CLIP_LISTEN_DOWN : CLIP_LISTEN_UP);
}

static void talk_gain(struct ivr *v, int dir)
{
	struct participant *p = v->p;
	struct conf_part_spec s = {.set_gain_db = true,
				   .gain_db = step(p->gain_db, dir)};
	if (part_update(p, &s))
		ivr_say1(v, dir < 0 ? CLIP_TALK_DOWN : CLIP_TALK_UP);
}

static void help(struct ivr *v)
{
	enum ivr_clip_id ids[2] = {CLIP_HELP, CLIP_HELP_MODERATOR};
	ivr_say(v, ids, v->p->moderator ? 2 : 1, false, false);
}

static void leave(struct ivr *v)
{
	enum ivr_clip_id bye = CLIP_GOODBYE;
	ivr_bye(v, &bye, 1, CI_DEPARTED, NULL);
}

static void lock(struct ivr *v)
{
	struct room *r = v->p->room;
	struct conf_req req = {.op = CONF_ROOM_UPDATE};
	struct conf_reply rep = {0};
	snprintf(req.room, sizeof(req.room), "%s", r->name);
	req.room_spec.set_locked = true;
	req.room_spec.locked = !r->locked;
	ctl_rooms_handle(r->conf, &req, &rep);
	if (rep.err == 0)
		ivr_say1(v, r->locked ? CLIP_LOCKED : CLIP_UNLOCKED);
	conference_reply_clear(&rep);
}

/* Mutes everyone who is not a moderator, or unmutes them when they are
 * all muted already, through the API's "mute all" (POST .../mute). */
static void mute_all(struct ivr *v)
{
	struct room *r = v->p->room;
	bool any_unmuted = false;
	for (const struct participant *q = r->parts; q; q = q->next)
		any_unmuted |=
		    room_part_visible(q) && !q->moderator && !q->muted;
	struct conf_req req = {.op = CONF_PART_MUTE_ALL};
	struct conf_reply rep = {0};
	snprintf(req.room, sizeof(req.room), "%s", r->name);
	req.part_spec.muted = any_unmuted;
	ctl_parts_handle(r->conf, &req, &rep);
	if (rep.err == 0)
		ivr_say1(v, any_unmuted ? CLIP_ALL_MUTED : CLIP_ALL_UNMUTED);
	conference_reply_clear(&rep);
}

/* The caller who came in last and is no moderator hears that it was
 * removed, then BYE (booted by this moderator). */
static void kick_last(struct ivr *v)
{
	struct participant *p = v->p, *last = NULL;
	for (struct participant *q = p->room->parts; q; q = q->next) {
		bool may = q != p && q->admitted && !q->leaving &&
			   !q->moderator && q->ivr &&
			   q->ivr->state == IVR_IN_CALL;
		if (may && (!last || q->admitted_ns > last->admitted_ns))
			last = q;
	}
	if (!last) {
		ivr_say1(v, CLIP_NOBODY_TO_REMOVE);
		return;
	}
	log_info("ivr", "room=%s call=%s removes call=%s", p->room->name,
		 p->call_id, last->call_id);
	enum ivr_clip_id bye = CLIP_REMOVED;
	ivr_bye(last->ivr, &bye, 1, CI_BOOTED, p->uri);
	ivr_say1(v, CLIP_KICKED_LAST);
}

static void act(struct ivr *v, enum opt_key k)
{
	bool moderator_only = k == OPT_KEY_LOCK || k == OPT_KEY_MUTE_ALL ||
			      k == OPT_KEY_KICK_LAST;
	log_info("ivr", "room=%s call=%s keypad %s", v->p->room->name,
		 v->p->call_id, v->keys);
	if (moderator_only && !v->p->moderator) {
		ivr_say1(v, CLIP_MODERATORS_ONLY);
		return;
	}
	switch (k) {
	case OPT_KEY_MUTE:
		toggle_mute(v);
		break;
	case OPT_KEY_LISTEN_DOWN:
	case OPT_KEY_LISTEN_UP:
		listen_gain(v, k == OPT_KEY_LISTEN_DOWN ? -1 : 1);
		break;
	case OPT_KEY_TALK_DOWN:
	case OPT_KEY_TALK_UP:
		talk_gain(v, k == OPT_KEY_TALK_DOWN ? -1 : 1);
		break;
	case OPT_KEY_LEAVE:
		leave(v);
		break;
	case OPT_KEY_HELP:
		help(v);
		break;
	case OPT_KEY_LOCK:
		lock(v);
		break;
	case OPT_KEY_MUTE_ALL:
		mute_all(v);
		break;
	case OPT_KEY_KICK_LAST:
		kick_last(v);
		break;
	case OPT_KEY_N:
		break;
	}
}

/* 1: keys spell sequence *k; 0: they begin one; -1: they begin none. */
static int match(const struct ivr *v, enum opt_key *k)
{
	int found = -1;
	for (int i = 0; i < OPT_KEY_N; i++) {
		const char *seq = opts(v)->keypad[i];
		if (!seq[0] || strncmp(seq, v->keys, v->n_keys))
			continue;
		if (seq[v->n_keys] == '\0') {
			*k = (enum opt_key)i;
			return 1;
		}
		found = 0;
	}
	return found;
}

static void in_call_digit(struct ivr *v, char key)
{
	enum opt_key k = OPT_KEY_N;
	v->keys[v->n_keys++] = key;
	v->keys[v->n_keys] = '\0';
	int m = match(v, &k);
	if (m < 0 && v->n_keys > 1) {
		/* Perhaps this key begins a new sequence. */
		v->keys[0] = key;
		v->keys[1] = '\0';
		v->n_keys = 1;
		m = match(v, &k);
	}
	v->deadline_ns = 0;
	if (m == 0 && v->n_keys < OPT_KEY_MAX) {
		v->deadline_ns = ivr_digit_deadline(v);
		return;
	}
	if (m == 1)
		act(v, k);
	v->n_keys = 0;
	v->keys[0] = '\0';
}

static void forget_keys(struct ivr *v)
{
	v->n_keys = 0;
	v->keys[0] = '\0';
}

const struct ivr_state_ops ivr_in_call_ops = {.name = "in-call",
					      .enter = forget_keys,
					      .digit = in_call_digit,
					      .timeout = forget_keys};
