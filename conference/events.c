/* events.c: the bounded ring of conference events, and the signalling
 * thread's helpers that fill events from rooms and participants.
 *
 * The ring is an array of EVENTS_RING_CAP slots, event id i in slot
 * i % cap, under one mutex, with one condition variable (on
 * CLOCK_MONOTONIC) that readers wait on and every push broadcasts. An
 * event is about 2.5 KB, so the ring takes a few megabytes and a push
 * is one copy: the signalling thread never waits for a reader. Readers
 * copy out under the lock; a reader that asks for ids that have left the
 * ring gets the oldest kept and a gap flag, so that the API can tell its
 * client to fetch full state again. */
#include "conference/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conference/focus.h"
#include "conference/monocv.h"

struct evring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct conf_event *slots;
	size_t cap;
	uint64_t last_id; /* 0: none yet */
	bool stopped;
};

int evring_new(struct evring **out, size_t cap)
{
	if (cap == 0)
		return -EINVAL;
	struct evring *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->slots = calloc(cap, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	r->cap = cap;
	int err = monocv_init(&r->cv);
	if (err) {
		free(r->slots);
		free(r);
		return err;
	}
	pthread_mutex_init(&r->mu, NULL);
	*out = r;
	return 0;
}

void evring_free(struct evring *r)
{
	if (!r)
		return;
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->slots);
	free(r);
}

uint64_t evring_push(struct evring *r, struct conf_event *ev)
{
	if (!ev->unix_ms)
		ev->unix_ms = room_wall_ms();
	pthread_mutex_lock(&r->mu);
	ev->id = ++r->last_id;
	r->slots[ev->id % r->cap] = *ev;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return ev->id;
}

uint64_t evring_last_id(struct evring *r)
{
	pthread_mutex_lock(&r->mu);
	uint64_t id = r->last_id;
	pthread_mutex_unlock(&r->mu);
	return id;
}

void evring_stop(struct evring *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopped = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* Under r->mu, with at least one event newer than after_id (or after_id
 * beyond the newest): copies what fits. */
static size_t copy_out(struct evring *r, uint64_t after_id,
		       struct conf_event *out, size_t cap, bool *gap)
{
	uint64_t oldest = r->last_id > r->cap ? r->last_id - r->cap + 1 : 1;
	uint64_t first = after_id + 1;
	if (first < oldest || after_id > r->last_id) {
		first = oldest;
		if (gap)
			*gap = true;
	}
	size_t n = 0;
	for (uint64_t id = first; id <= r->last_id && n < cap; id++)
		out[n++] = r->slots[id % r->cap];
	return n;
}

size_t evring_wait(struct evring *r, uint64_t after_id, struct conf_event *out,
		   size_t cap, unsigned timeout_ms, bool *gap)
{
	if (gap)
		*gap = false;
	if (!r || !out || cap == 0)
		return 0;
	struct timespec dl = monocv_deadline(timeout_ms);
	pthread_mutex_lock(&r->mu);
	while (!r->stopped && (r->last_id == 0 || r->last_id == after_id) &&
	       monocv_wait(&r->cv, &r->mu, &dl))
		;
	size_t n = 0;
	/* After a restart of the ids, after_id may be beyond the newest. */
	if (!r->stopped && r->last_id && r->last_id != after_id)
		n = copy_out(r, after_id, out, cap, gap);
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* A code point's encoded length at s (at most n bytes), 0 if invalid. */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	size_t len;
	uint32_t cp;
	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2, cp = b & 0x1f;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3, cp = b & 0x0f;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4, cp = b & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

size_t events_utf8_prefix(const char *s, size_t len, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t keep = 0;
	while (keep < len) {
		size_t n = utf8_char_len(u + keep, len - keep);
		if (n == 0 || u[keep] == 0 || keep + n + 1 > cap)
			break;
		keep += n;
	}
	return keep;
}

/* ---- the conference's events (signalling thread) ----------------------- */

size_t conference_events_wait(struct conference *c, uint64_t after_id,
			      struct conf_event *out, size_t cap,
			      unsigned timeout_ms, bool *gap)
{
	if (gap)
		*gap = false;
	return c ? evring_wait(c->events, after_id, out, cap, timeout_ms, gap)
		 : 0;
}

uint64_t conference_events_last_id(struct conference *c)
{
	return c && c->events ? evring_last_id(c->events) : 0;
}

const char *conference_event_name(enum conf_event_kind k)
{
	static const char *const names[] = {
	    [CONF_EV_ROOM_CREATED] = "room.created",
	    [CONF_EV_ROOM_DELETED] = "room.deleted",
	    [CONF_EV_PART_JOINED] = "participant.joined",
	    [CONF_EV_PART_LEFT] = "participant.left",
	    [CONF_EV_PART_MUTED] = "participant.muted",
	    [CONF_EV_PART_UNMUTED] = "participant.unmuted",
	    [CONF_EV_PART_TALKING] = "participant.talking",
	    [CONF_EV_PART_STOPPED_TALKING] = "participant.stopped_talking",
	    [CONF_EV_PART_UPDATED] = "participant.updated",
	    [CONF_EV_REC_STARTED] = "recording.started",
	    [CONF_EV_REC_STOPPED] = "recording.stopped",
	    [CONF_EV_CHAT_MESSAGE] = "chat.message",
	};
	if ((unsigned)k >= sizeof(names) / sizeof(names[0]) || !names[k])
		return "unknown";
	return names[k];
}

/* Builds on the heap: an event is too big for a deep stack to copy twice. */
static struct conf_event *event_new(enum conf_event_kind k, const char *room)
{
	struct conf_event *ev = calloc(1, sizeof(*ev));
	if (ev) {
		ev->kind = k;
		snprintf(ev->room, sizeof(ev->room), "%s", room);
	}
	return ev;
}

static void push_free(struct conference *c, struct conf_event *ev)
{
	if (ev && c->events)
		evring_push(c->events, ev);
	free(ev);
}

void events_room(struct conference *c, enum conf_event_kind k, const char *room)
{
	push_free(c, event_new(k, room));
}

void events_rec(struct conference *c, enum conf_event_kind k, const char *room,
		const char *file)
{
	struct conf_event *ev = event_new(k, room);
	if (ev)
		snprintf(ev->file, sizeof(ev->file), "%s", file);
	push_free(c, ev);
}

void events_part(struct conference *c, enum conf_event_kind k,
		 const struct participant *p)
{
	struct conf_event *ev = event_new(k, p->room->name);
	if (ev)
		room_part_info(p, &ev->part);
	push_free(c, ev);
}

void events_left(const struct participant *p, enum ci_disconnection how,
		 const char *by)
{
	static const char *const reasons[] = {[CI_DISC_NONE] = "",
					      [CI_DEPARTED] = "departed",
					      [CI_BOOTED] = "booted",
					      [CI_FAILED] = "failed",
					      [CI_BUSY] = "busy"};
	struct conf_event *ev = event_new(CONF_EV_PART_LEFT, p->room->name);
	if (ev) {
		room_part_info(p, &ev->part);
		snprintf(ev->part.status, sizeof(ev->part.status), "%s",
			 confinfo_status_name(CI_DISCONNECTED));
		ev->part.talking = false;
		if ((unsigned)how <= CI_BUSY)
			snprintf(ev->reason, sizeof(ev->reason), "%s",
				 reasons[how]);
		snprintf(ev->by, sizeof(ev->by), "%s", by ? by : "");
	}
	push_free(p->room->conf, ev);
}

void events_chat(struct conference *c, const struct participant *from,
		 const char *text, size_t len)
{
	struct conf_event *ev =
	    event_new(CONF_EV_CHAT_MESSAGE, from->room->name);
	if (ev) {
		room_part_info(from, &ev->part);
		size_t n = events_utf8_prefix(text, len, sizeof(ev->text));
		memcpy(ev->text, text, n);
		ev->text[n] = '\0';
	}
	push_free(c, ev);
}
