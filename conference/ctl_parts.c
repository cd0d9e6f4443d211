/* ctl_parts.c: the control API's participant operations (list, dial out,
 * mute, deafen and gain, promote, kick, mute all but moderators) and
 * recording.
 *
 * Dialling and kicking go through sig_dial.c, as a REFER would, with the
 * API as the actor (no Referred-By; a kick shows as booted by nobody in
 * particular). Controls change the participant here and in its mixer with
 * one MIXER_CONTROL command; a participant without media yet gets them
 * with MIXER_ADD. Signalling thread only. */
#include "conference/ctl.h"
#include "conference/ivr.h"
#include "conference/sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_id(const void *a, const void *b)
{
	uint32_t x = ((const struct conf_part_info *)a)->id;
	uint32_t y = ((const struct conf_part_info *)b)->id;
	return (x > y) - (x < y);
}

int ctl_list_parts(const struct room *r, struct conf_reply *rep)
{
	size_t n = 0;
	for (const struct participant *p = r->parts; p; p = p->next)
		n += room_part_visible(p);
	free(rep->parts);
	rep->parts = n ? calloc(n, sizeof(*rep->parts)) : NULL;
	rep->n_parts = 0;
	if (n && !rep->parts)
		return -ENOMEM;
	for (const struct participant *p = r->parts; p; p = p->next)
		if (room_part_visible(p) && rep->n_parts < n)
			room_part_info(p, &rep->parts[rep->n_parts++]);
	if (rep->n_parts > 1)
		qsort(rep->parts, rep->n_parts, sizeof(*rep->parts), by_id);
	return 0;
}

static struct participant *find_part(struct room *r, uint32_t id,
				     struct conf_reply *rep)
{
	struct participant *p = room_find_part(r, id);
	if (p && room_part_visible(p))
		return p;
	ctl_fail(rep, -ENOENT, "no such participant");
	return NULL;
}

static void part_list(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	if (r && ctl_list_parts(r, rep))
		ctl_fail(rep, -ENOMEM, "out of memory");
}

static void part_dial(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	if (!r)
		return;
	size_t n = strnlen(req->uri, sizeof(req->uri));
	if (n == 0 || n == sizeof(req->uri)) {
		ctl_fail(rep, -EINVAL, "uri: a sip: or sips: URI");
		return;
	}
	struct sig_dial_req d = {.room = r->name, .target = req->uri};
	int err = sig_dial(c, &d, &rep->part_id);
	switch (err) {
	case 0:
		break;
	case -EINVAL:
		ctl_fail(rep, err, "uri: a sip: or sips: URI");
		break;
	case -ENOENT:
		ctl_fail(rep, err, "uri: a user of ours who is not registered");
		break;
	case -EPERM:
		ctl_fail(rep, err, "room locked");
		break;
	case -EBUSY:
		ctl_fail(rep, err, "room full");
		break;
	case -ENOSPC:
		ctl_fail(rep, err, "no media port free");
		break;
	case -EMFILE:
		ctl_fail(rep, -ENOSPC,
			 "too many calls or rooms (--max-calls, "
			 "--max-rooms)");
		break;
	default:
		ctl_fail(rep, err, "cannot dial: %s", strerror(-err));
		break;
	}
}

static bool part_spec_valid(const struct conf_part_spec *s,
			    struct conf_reply *rep)
{
	if (s->set_gain_db && (s->gain_db < MIXER_GAIN_MIN_DB ||
			       s->gain_db > MIXER_GAIN_MAX_DB)) {
		ctl_fail(rep, -EINVAL, "gain_db: %d to %d", MIXER_GAIN_MIN_DB,
			 MIXER_GAIN_MAX_DB);
		return false;
	}
	return true;
}

/* What changed is told: subscribers (mute shows in RFC 4575 as
 * muted-via-focus and recvonly media; deafness as sendonly) and events. */
static void announce(struct conference *c, struct participant *p,
		     bool was_muted, bool was_deaf, int was_gain,
		     bool was_moderator)
{
	bool muted = p->muted != was_muted, deaf = p->deaf != was_deaf;
	bool role = p->moderator != was_moderator;
	if (muted || deaf || role)
		room_changed(c, p->room->name);
	if (muted)
		events_part(
		    c, p->muted ? CONF_EV_PART_MUTED : CONF_EV_PART_UNMUTED, p);
	if (deaf || role || p->gain_db != was_gain)
		events_part(c, CONF_EV_PART_UPDATED, p);
}

static void part_update(struct conference *c, const struct conf_req *req,
			struct conf_reply *rep)
{
	const struct conf_part_spec *s = &req->part_spec;
	struct room *r = ctl_find_room(c, req->room, rep);
	struct participant *p = r ? find_part(r, req->part_id, rep) : NULL;
	if (!p || !part_spec_valid(s, rep))
		return;
	bool was_muted = p->muted, was_deaf = p->deaf;
	bool was_moderator = p->moderator;
	int was_gain = p->gain_db;
	if (s->set_muted)
		p->muted = s->muted;
	if (s->set_deaf)
		p->deaf = s->deaf;
	if (s->set_gain_db)
		p->gain_db = s->gain_db;
	int err = room_set_controls(p);
	if (err) {
		p->muted = was_muted;
		p->deaf = was_deaf;
		p->gain_db = was_gain;
		ctl_fail(rep, -EAGAIN, "the room's mixer is busy: try again");
		return;
	}
	/* The role is the focus's alone: the mixer never needs it. */
	if (s->set_moderator)
		p->moderator = s->moderator;
	if (p->moderator && !was_moderator)
		ivr_on_promoted(p);
	log_info("ctl",
		 "room=%s part=%u muted=%d deaf=%d gain=%d dB moderator=%d",
		 r->name, p->id, p->muted, p->deaf, p->gain_db, p->moderator);
	announce(c, p, was_muted, was_deaf, was_gain, was_moderator);
	rep->parts = calloc(1, sizeof(*rep->parts));
	if (!rep->parts) {
		ctl_fail(rep, -ENOMEM, "out of memory");
		return;
	}
	room_part_info(p, &rep->parts[0]);
	rep->n_parts = 1;
}

/* Mutes (or unmutes) everyone in the room who is not a moderator, as a
 * moderator's "mute all" does on other bridges; those who join later are
 * not affected, nor are callers still in the dial-in dialogue (not yet
 * let in: they join later, and may yet turn out moderators). A
 * participant whose mixer queue is full keeps its state and the request
 * fails, so that the moderator can simply send it again. */
static void part_mute_all(struct conference *c, const struct conf_req *req,
			  struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	if (!r)
		return;
	bool muted = req->part_spec.muted;
	unsigned changed = 0, busy = 0;
	for (struct participant *p = r->parts; p; p = p->next) {
		if (!room_part_visible(p) || p->moderator || p->muted == muted)
			continue;
		p->muted = muted;
		if (room_set_controls(p)) {
			p->muted = !muted;
			busy++;
			continue;
		}
		announce(c, p, !muted, p->deaf, p->gain_db, p->moderator);
		changed++;
	}
	log_info("ctl", "room=%s %s all but moderators: %u changed, %u busy",
		 r->name, muted ? "muted" : "unmuted", changed, busy);
	if (busy)
		ctl_fail(rep, -EAGAIN, "the room's mixer is busy: try again");
	else if (ctl_list_parts(r, rep))
		ctl_fail(rep, -ENOMEM, "out of memory");
}

static void part_kick(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	struct participant *p = r ? find_part(r, req->part_id, rep) : NULL;
	if (p && sig_dial_kick(c, p, NULL))
		ctl_fail(rep, -ENOENT, "no such participant");
}

/* Recording of the room's mix (rec.c writes it, never the mixer). */
static void rec(struct conference *c, const struct conf_req *req,
		struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	if (!r)
		return;
	if (req->op == CONF_REC_STOP) {
		char file[CONF_URI_MAX];
		rec_file(r, file, sizeof(file));
		int err = rec_stop(c, r);
		if (err == -ENOENT)
			ctl_fail(rep, err, "room %s is not being recorded",
				 r->name);
		else if (err)
			ctl_fail(rep, -EAGAIN, "cannot stop now: try again");
		else
			events_rec(c, CONF_EV_REC_STOPPED, r->name, file);
		return;
	}
	int err =
	    rec_start(c, r, req->rec_format, rep->file, sizeof(rep->file));
	/* A stopped recording is closed by the mixer and the writer a few
	 * ticks later; until then the room cannot start another (found by
	 * e2e_churn: stop answered 204, start at once 409). */
	if (err == -EALREADY && !rec_active(r))
		ctl_fail(rep, -EEXIST,
			 "room %s: the last recording is still being closed, "
			 "try again",
			 r->name);
	else if (err == -EALREADY)
		ctl_fail(rep, -EEXIST, "room %s is already being recorded",
			 r->name);
	else if (err == -ENOTCONN)
		ctl_fail(rep, -EEXIST, "room %s has nobody in it to record",
			 r->name);
	else if (err == -ENOSPC)
		ctl_fail(rep, -ENOSPC, "not enough disk space to record");
	else if (err == -EINVAL)
		ctl_fail(rep, -EINVAL, "unknown recording format");
	else if (err)
		ctl_fail(rep, -EIO, "cannot write the recording");
	else
		events_rec(c, CONF_EV_REC_STARTED, r->name, rep->file);
}

void ctl_parts_handle(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep)
{
	switch (req->op) {
	case CONF_PART_LIST:
		part_list(c, req, rep);
		break;
	case CONF_PART_DIAL:
		part_dial(c, req, rep);
		break;
	case CONF_PART_UPDATE:
		part_update(c, req, rep);
		break;
	case CONF_PART_KICK:
		part_kick(c, req, rep);
		break;
	case CONF_PART_MUTE_ALL:
		part_mute_all(c, req, rep);
		break;
	case CONF_REC_START:
	case CONF_REC_STOP:
		rec(c, req, rep);
		break;
	default:
		ctl_fail(rep, -EINVAL, "not a participant operation");
		break;
	}
}
