/* ctl_rooms.c: the control API's room operations (list, get, create,
 * update, delete) and the loading of stored rooms at start.
 *
 * A room created here is written to the store first and then made live
 * (room_add_stored), so that it exists from then on, empty or not, and
 * again after a restart. Rooms made on demand by a call are listed while
 * they live (persistent = false); their lock and size limit may be changed
 * in memory, and they may be deleted. The store is the truth for a
 * stored room's settings: an update is written there before the room
 * takes it. Signalling thread only. */
#include "conference/ctl.h"
#include "conference/sig.h"
#include "conference/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_MAX_PARTICIPANTS 10000

void ctl_fail(struct conf_reply *rep, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rep->message, sizeof(rep->message), fmt, ap);
	va_end(ap);
	rep->err = err;
}

struct room *ctl_find_room(struct conference *c, const char *name,
			   struct conf_reply *rep)
{
	struct room *r = strnlen(name, CONF_NAME_MAX + 1) <= CONF_NAME_MAX
			     ? room_find(c, name)
			     : NULL;
	if (!r)
		ctl_fail(rep, -ENOENT, "no such room");
	return r;
}

static bool pin_valid(const char *pin)
{
	size_t n = strnlen(pin, CONF_PIN_MAX + 1);
	if (n > CONF_PIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return false;
	return true;
}

/* Checks the fields that are set (all of them when creating). */
static bool spec_valid(const struct conf_room_spec *s, bool all,
		       struct conf_reply *rep)
{
	if (all && (strnlen(s->name, sizeof(s->name)) == sizeof(s->name) ||
		    !room_name_valid(s->name))) {
		ctl_fail(rep, -EINVAL, "name: 1 to 64 of A-Z a-z 0-9 . _ -");
		return false;
	}
	if ((all || s->set_pin) && !pin_valid(s->pin)) {
		ctl_fail(rep, -EINVAL, "pin: up to 32 digits");
		return false;
	}
	if ((all || s->set_moderator_pin) && !pin_valid(s->moderator_pin)) {
		ctl_fail(rep, -EINVAL, "moderator_pin: up to 32 digits");
		return false;
	}
	if ((all || s->set_max_participants) &&
	    s->max_participants > CTL_MAX_PARTICIPANTS) {
		ctl_fail(rep, -EINVAL, "max_participants: 0 to %d",
			 CTL_MAX_PARTICIPANTS);
		return false;
	}
	return true;
}

static void store_fail(struct conf_reply *rep, const char *what, int err)
{
	ctl_fail(rep, -EIO, "store: cannot %s the room: %s", what,
		 strerror(-err));
}

static void room_info(const struct room *r, struct conf_room_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", r->name);
	for (const struct participant *p = r->parts; p; p = p->next)
		out->participants += room_part_visible(p);
	out->max_participants = r->max_participants;
	out->locked = r->locked;
	out->recording = rec_active(r);
	out->persistent = !r->on_demand;
	out->has_pin = r->pin[0] != '\0';
	out->has_moderator_pin = r->moderator_pin[0] != '\0';
	out->created_unix_ms = r->created_unix_ms;
	if (r->mixer) {
		struct mixer_stats st;
		mixer_get_stats(r->mixer, &st);
		out->rate_hz = st.rate_hz;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct conf_room_info *)a)->name,
		      ((const struct conf_room_info *)b)->name);
}

static void room_list(struct conference *c, struct conf_reply *rep)
{
	size_t n = 0;
	for (const struct room *r = c->rooms; r; r = r->next)
		n += !r->deleted && !r->lobby;
	rep->rooms = n ? calloc(n, sizeof(*rep->rooms)) : NULL;
	if (n && !rep->rooms) {
		ctl_fail(rep, -ENOMEM, "out of memory");
		return;
	}
	size_t i = 0;
	for (const struct room *r = c->rooms; r && i < n; r = r->next)
		if (!r->deleted && !r->lobby)
			room_info(r, &rep->rooms[i++]);
	rep->n_rooms = i;
	if (i > 1)
		qsort(rep->rooms, i, sizeof(*rep->rooms), by_name);
}

static void room_get_one(struct conference *c, const struct conf_req *req,
			 struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	if (!r)
		return;
	room_info(r, &rep->room_info);
	if (ctl_list_parts(r, rep))
		ctl_fail(rep, -ENOMEM, "out of memory");
}

static void to_store(const struct conf_room_spec *s, struct store_room *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	snprintf(out->pin, sizeof(out->pin), "%s", s->pin);
	snprintf(out->moderator_pin, sizeof(out->moderator_pin), "%s",
		 s->moderator_pin);
	out->max_participants = s->max_participants;
	out->locked = s->locked;
}

static void room_create(struct conference *c, const struct conf_req *req,
			struct conf_reply *rep)
{
	const struct conf_room_spec *s = &req->room_spec;
	if (!spec_valid(s, true, rep))
		return;
	if (room_find(c, s->name)) {
		ctl_fail(rep, -EEXIST, "room %s exists", s->name);
		return;
	}
	if (room_limit_reached(c)) {
		ctl_fail(rep, -ENOSPC, "too many rooms (--max-rooms %u)",
			 c->opts->max_rooms);
		return;
	}
	struct store_room sr;
	to_store(s, &sr);
	sr.created_unix_ms = room_wall_ms();
	int err = store_room_create(c->store, &sr);
	if (err == -EEXIST) {
		ctl_fail(rep, -EEXIST, "room %s exists", s->name);
		return;
	}
	if (err) {
		store_fail(rep, "create", err);
		return;
	}
	struct room *r = NULL;
	err = room_add_stored(c, s, sr.created_unix_ms, &r);
	if (err) {
		store_room_delete(c->store, s->name);
		ctl_fail(rep, err, "out of memory");
		return;
	}
	log_info("ctl", "room=%s created%s", r->name,
		 r->locked ? " locked" : "");
	events_room(c, CONF_EV_ROOM_CREATED, r->name);
	room_changed(c, r->name);
	room_info(r, &rep->room_info);
}

static void apply(struct room *r, const struct conf_room_spec *s,
		  unsigned bridge_max)
{
	if (s->set_pin)
		snprintf(r->pin, sizeof(r->pin), "%s", s->pin);
	if (s->set_moderator_pin)
		snprintf(r->moderator_pin, sizeof(r->moderator_pin), "%s",
			 s->moderator_pin);
	if (s->set_max_participants)
		r->max_participants =
		    s->max_participants ? s->max_participants : bridge_max;
	if (s->set_locked)
		r->locked = s->locked;
}

static int store_update(struct conference *c, const struct room *r,
			const struct conf_room_spec *s)
{
	struct store_room sr;
	int err = store_room_get(c->store, r->name, &sr);
	if (err)
		return err;
	if (s->set_pin)
		snprintf(sr.pin, sizeof(sr.pin), "%s", s->pin);
	if (s->set_moderator_pin)
		snprintf(sr.moderator_pin, sizeof(sr.moderator_pin), "%s",
			 s->moderator_pin);
	if (s->set_max_participants)
		sr.max_participants = s->max_participants;
	if (s->set_locked)
		sr.locked = s->locked;
	return store_room_update(c->store, &sr);
}

static void room_update_one(struct conference *c, const struct conf_req *req,
			    struct conf_reply *rep)
{
	const struct conf_room_spec *s = &req->room_spec;
	struct room *r = ctl_find_room(c, req->room, rep);
	if (!r || !spec_valid(s, false, rep))
		return;
	if (!r->on_demand) {
		int err = store_update(c, r, s);
		if (err) {
			store_fail(rep, "update", err);
			return;
		}
	}
	bool was_locked = r->locked;
	unsigned was_max = r->max_participants;
	apply(r, s, c->opts->max_participants);
	log_info("ctl", "room=%s updated%s", r->name,
		 r->locked != was_locked
		     ? (r->locked ? ": locked" : ": unlocked")
		     : "");
	if (r->locked != was_locked || r->max_participants != was_max)
		room_changed(c, r->name);
	room_info(r, &rep->room_info);
}

static void room_delete_one(struct conference *c, const struct conf_req *req,
			    struct conf_reply *rep)
{
	struct room *r = ctl_find_room(c, req->room, rep);
	int err = 0;
	if (!r || !r->on_demand)
		err = room_name_valid(req->room)
			  ? store_room_delete(c->store, req->room)
			  : -ENOENT;
	if (err && err != -ENOENT) {
		store_fail(rep, "delete", err);
		return;
	}
	if (!r) {
		/* Kept in the store but never made live: gone all the same. */
		if (!err) {
			rep->err = 0;
			rep->message[0] = '\0';
			events_room(c, CONF_EV_ROOM_DELETED, req->room);
		}
		return;
	}
	for (struct participant *p = r->parts; p; p = p->next)
		if (!p->leaving && p->call)
			sig_dial_kick(c, p, NULL);
	room_delete(r); /* may free r */
}

void ctl_rooms_handle(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep)
{
	switch (req->op) {
	case CONF_ROOM_LIST:
		room_list(c, rep);
		break;
	case CONF_ROOM_GET:
		room_get_one(c, req, rep);
		break;
	case CONF_ROOM_CREATE:
		room_create(c, req, rep);
		break;
	case CONF_ROOM_UPDATE:
		room_update_one(c, req, rep);
		break;
	case CONF_ROOM_DELETE:
		room_delete_one(c, req, rep);
		break;
	default:
		ctl_fail(rep, -EINVAL, "not a room operation");
		break;
	}
}

static int load_one(void *arg, const struct store_room *sr)
{
	struct conference *c = arg;
	struct conf_room_spec s = {.max_participants = sr->max_participants,
				   .locked = sr->locked};
	snprintf(s.name, sizeof(s.name), "%s", sr->name);
	snprintf(s.pin, sizeof(s.pin), "%s", sr->pin);
	snprintf(s.moderator_pin, sizeof(s.moderator_pin), "%s",
		 sr->moderator_pin);
	struct room *r;
	return room_add_stored(c, &s, sr->created_unix_ms, &r);
}

int ctl_rooms_load(struct conference *c)
{
	int err = store_room_each(c->store, load_one, c);
	if (err) {
		log_error("store", "cannot load the stored rooms: %s",
			  strerror(-err));
		return err;
	}
	log_info("store", "%u stored rooms", atomic_load(&c->n_rooms));
	return 0;
}
