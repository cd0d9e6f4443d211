/* ctlq.h: the queue that carries control requests (conference.h's struct
 * conf_req) from any thread to the signalling thread and their replies
 * back, with a bounded wait. No Sofia-SIP here, so that it can be tested
 * alone.
 *
 * Callers (any thread) use ctlq_call(). The server (one thread, the
 * signalling thread) is woken by a write to wake_fd (an eventfd it polls),
 * then takes requests with ctlq_take(), fills the item's reply and hands
 * it back with ctlq_done(). Each request is reference-counted: a caller
 * that times out drops its reference and leaves, and the item (with
 * whatever the server allocated in its reply) is freed by whichever side
 * lets go last. */
#ifndef TUTTI_CONFERENCE_CTLQ_H
#define TUTTI_CONFERENCE_CTLQ_H

#include <stddef.h>

#include "conference/conference.h"

#define CTLQ_MAX_PENDING 128

struct ctlq;
struct ctlq_item;

/* wake_fd: an eventfd the server polls; the queue does not own it. */
int ctlq_new(struct ctlq **out, int wake_fd);
/* NULL-safe. No caller may be inside ctlq_call() any more. */
void ctlq_free(struct ctlq *q);
/* Any thread, idempotent: requests still queued are answered -ESHUTDOWN
 * and later calls fail -ESHUTDOWN at once. A request the server has
 * already taken is still answered by the server. */
void ctlq_close(struct ctlq *q);

/* Any thread. Copies req, waits at most timeout_ms for the reply and
 * moves it into *rep (the caller frees it with conference_reply_clear()).
 * Returns rep->err: the server's, or -ETIMEDOUT, -ESHUTDOWN, -EAGAIN
 * (too many requests pending), -ENOMEM. */
int ctlq_call(struct ctlq *q, const struct conf_req *req,
	      struct conf_reply *rep, unsigned timeout_ms);

/* Server side. The oldest queued request, or NULL when none. */
struct ctlq_item *ctlq_take(struct ctlq *q);
const struct conf_req *ctlq_item_req(const struct ctlq_item *it);
/* Zeroed before the server sees it; rep->err defaults to 0. */
struct conf_reply *ctlq_item_reply(struct ctlq_item *it);
/* The reply is complete: the caller (if still waiting) gets it. */
void ctlq_done(struct ctlq *q, struct ctlq_item *it);
/* How many requests are queued, not yet taken. */
size_t ctlq_pending(struct ctlq *q);

#endif
