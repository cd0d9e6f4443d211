/* events.h: the bounded ring of conference events (conference.h's struct
 * conf_event) that the API streams as Server-Sent Events.
 *
 * One writer, the signalling thread, pushes events as things happen; any
 * number of readers (the API's threads) wait for events newer than the
 * last one they saw. The ring keeps the newest `cap` events; a reader that
 * falls further behind is told so (gap) and resumes with the oldest event
 * still kept. Ids count from 1 for the life of the ring. The ring owns its
 * copies; readers get copies of their own. */
#ifndef TUTTI_CONFERENCE_EVENTS_H
#define TUTTI_CONFERENCE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conference/conference.h"

#define EVENTS_RING_CAP 1024

struct evring;

int evring_new(struct evring **out, size_t cap);
/* NULL-safe. No reader may be inside evring_wait() any more. */
void evring_free(struct evring *r);
/* Any thread (in tutti: the signalling thread). Gives ev its id (and its
 * time, when unix_ms is 0) and keeps a copy; returns the id. */
uint64_t evring_push(struct evring *r, struct conf_event *ev);
/* Any thread. As conference_events_wait(): up to cap events with id >
 * after_id, oldest first, waiting up to timeout_ms for one. An after_id
 * beyond the newest id (a client of an earlier process) counts as a gap
 * once events exist: it gets the oldest kept. 0 on timeout or once
 * stopped. */
size_t evring_wait(struct evring *r, uint64_t after_id, struct conf_event *out,
		   size_t cap, unsigned timeout_ms, bool *gap);
uint64_t evring_last_id(struct evring *r);
/* Any thread: wakes every reader, and later waits return 0 at once. */
void evring_stop(struct evring *r);

/* How many bytes of s (len bytes) to keep so that they fit in cap bytes
 * (with room for a NUL) and are valid UTF-8: the longest prefix that is
 * both, cut on a character boundary and before any invalid sequence. */
size_t events_utf8_prefix(const char *s, size_t len, size_t cap);

#endif
