/* ivr_admit.c: a caller comes in, waits, or the conference ends.
 *
 * Admitting a caller: it becomes a moderator if it gave the moderator
 * PIN; it is refused after all if the room was locked while it was typing
 * (moderators come in regardless); it waits, hearing a hold tune, when
 * --wait-for-moderator is on, the room has a moderator PIN and no
 * moderator is in yet (WAIT); else it is let in: heard and hearing,
 * visible to subscribers and the API (participant.joined), the room hears
 * the join tone (--join-tones) and the caller hears how many others are
 * there (--announce-count). A moderator who comes in lets every waiting
 * caller in first, so that the count it hears includes them; so does a
 * participant the API makes a moderator.
 *
 * Leaving: the room hears the leave tone; when the last moderator leaves
 * and --end-with-last-moderator is on, everyone else hears that the
 * conference has ended, and goodbye.
 *
 * Signalling thread only. */
#include "conference/ivr_priv.h"

unsigned ivr_others(const struct room *r, const struct participant *p,
		    unsigned cap)
{
	unsigned n = 0;
	for (const struct participant *q = r->parts; q && n < cap; q = q->next)
		n += q != p && q->admitted && !q->leaving;
	return n;
}

static bool has_moderator(const struct room *r)
{
	for (const struct participant *q = r->parts; q; q = q->next)
		if (q->admitted && q->moderator && !q->leaving)
			return true;
	return false;
}

/* In: visible, heard and hearing; the room hears the join tone. */
static void let_in(struct ivr *v)
{
	struct participant *p = v->p;
	struct room *r = p->room;
	const struct ivr_options *o = ivr_opts(v);
	ivr_hush(v);
	ivr_go(v, IVR_IN_CALL);
	ivr_isolate(v, false);
	if (!p->admitted)
		room_participant_admitted(p);
	log_info("ivr", "room=%s call=%s in the conference%s", r->name,
		 p->call_id, p->moderator ? " as moderator" : "");
	if (o->join_tones)
		ivr_room_tone(r, CLIP_TONE_JOIN, p->id);
	if (o->announce_count) {
		enum ivr_clip_id ids[4];
		size_t n =
		    ivr_clips_count(ivr_others(r, p, IVR_COUNT_CAP), ids, 4);
		ivr_say(v, ids, n, false, false);
	}
}

/* Everyone in r waiting for a moderator comes in: mod is one. */
static void let_waiting_in(struct room *r, const struct participant *mod)
{
	for (struct participant *q = r->parts; q; q = q->next)
		if (q != mod && q->ivr && q->ivr->state == IVR_WAIT &&
		    !q->leaving)
			let_in(q->ivr);
}

void ivr_admit(struct ivr *v, bool moderator)
{
	struct participant *p = v->p;
	struct room *r = p->room;
	const struct ivr_options *o = ivr_opts(v);
	p->moderator = moderator;
	if ((r->locked || r->deleted) && !moderator && !p->admitted) {
		enum ivr_clip_id ids[2] = {CLIP_LOCKED, CLIP_GOODBYE};
		ivr_bye(v, ids, 2, CI_FAILED, NULL);
		return;
	}
	if (o->wait_for_moderator && r->moderator_pin[0] && !moderator &&
	    !p->admitted && !has_moderator(r)) {
		ivr_go(v, IVR_WAIT);
		return;
	}
	if (moderator)
		let_waiting_in(r, p); /* first: the count includes them */
	let_in(v);
}

void ivr_on_promoted(struct participant *p)
{
	if (p->moderator && room_part_visible(p))
		let_waiting_in(p->room, p);
}

/* ---- WAIT: for a moderator, with a hold tune ---------------------------- */

static void wait_enter(struct ivr *v)
{
	enum ivr_clip_id ids[2] = {CLIP_WAIT_MODERATOR, CLIP_TONE_HOLD};
	log_info("ivr", "room=%s call=%s waits for a moderator",
		 v->p->room->name, v->p->call_id);
	ivr_say(v, ids, 2, false, true);
}

const struct ivr_state_ops ivr_wait_ops = {.name = "wait", .enter = wait_enter};

/* ---- leaving ------------------------------------------------------------ */

/* Everyone still in the room, and those waiting, hear that it ended. */
static void end_conference(struct room *r, const struct participant *last)
{
	log_info("ivr", "room=%s the last moderator left: ending", r->name);
	for (struct participant *q = r->parts; q; q = q->next) {
		struct ivr *v = q->ivr;
		if (q == last || q->leaving || !v || v->state == IVR_BYE ||
		    v->state == IVR_GONE)
			continue;
		enum ivr_clip_id ids[2] = {CLIP_CONFERENCE_ENDED, CLIP_GOODBYE};
		ivr_bye(v, ids, 2, CI_BOOTED, NULL);
	}
}

void ivr_on_leave(struct participant *p)
{
	struct room *r = p->room;
	struct conference *c = r->conf;
	const struct ivr_options *o = &c->opts->ivr;
	if (!p->admitted || p->leaving || c->stopping || r->deleted)
		return;
	if (o->join_tones && ivr_others(r, p, 1))
		ivr_room_tone(r, CLIP_TONE_LEAVE, p->id);
	if (!p->moderator || !o->end_with_last_moderator)
		return;
	for (const struct participant *q = r->parts; q; q = q->next)
		if (q != p && q->admitted && q->moderator && !q->leaving)
			return;
	end_conference(r, p);
}
