/* ctlq.c: control requests from any thread to the signalling thread.
 *
 * A mutex-protected FIFO of items and one condition variable (on
 * CLOCK_MONOTONIC) that every waiting caller sleeps on; the server is woken
 * through an eventfd so that it can stay in its su_root loop. The queue is
 * short and rarely busy (moderators and programs, not media), so one lock
 * and a broadcast per reply cost nothing that matters.
 *
 * An item holds two references while queued (the caller's and the
 * queue's, which passes to the server on ctlq_take()). A caller that times
 * out takes an item that is still queued out of the queue, so that the
 * server never works for nobody; one already taken is left to the server,
 * which writes its reply into the item, not into the caller's memory. The
 * last reference frees the item and what its reply still holds. The
 * password a request may carry is wiped when the item is freed. */
#include "conference/ctlq.h"
#include "conference/monocv.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum item_state { ITEM_QUEUED, ITEM_TAKEN, ITEM_DONE, ITEM_DROPPED };

struct ctlq_item {
	struct ctlq_item *next;
	atomic_uint refs;
	enum item_state state; /* under the queue's lock */
	struct conf_req req;
	struct conf_reply rep;
};

struct ctlq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ctlq_item *head, *tail;
	size_t n;
	bool closed;
	int wake_fd;
};

static void item_unref(struct ctlq_item *it)
{
	if (!it || atomic_fetch_sub(&it->refs, 1) != 1)
		return;
	conference_reply_clear(&it->rep);
	/* A password must not linger in freed memory. */
	explicit_bzero(&it->req, sizeof(it->req));
	free(it);
}

int ctlq_new(struct ctlq **out, int wake_fd)
{
	struct ctlq *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	int err = monocv_init(&q->cv);
	if (err) {
		free(q);
		return err;
	}
	pthread_mutex_init(&q->mu, NULL);
	q->wake_fd = wake_fd;
	*out = q;
	return 0;
}

void ctlq_free(struct ctlq *q)
{
	if (!q)
		return;
	ctlq_close(q);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

static void set_error(struct conf_reply *rep, int err, const char *why)
{
	rep->err = err;
	snprintf(rep->message, sizeof(rep->message), "%s", why);
}

void ctlq_close(struct ctlq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	struct ctlq_item *it = q->head;
	q->head = q->tail = NULL;
	q->n = 0;
	while (it) {
		struct ctlq_item *next = it->next;
		set_error(&it->rep, -ESHUTDOWN, "shutting down");
		it->state = ITEM_DONE;
		item_unref(it); /* the queue's; the caller still holds one */
		it = next;
	}
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static void wake_server(struct ctlq *q)
{
	uint64_t one = 1;
	if (write(q->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so the server is awake. */
	}
}

static void unlink_item(struct ctlq *q, struct ctlq_item *it)
{
	struct ctlq_item **pp = &q->head, *prev = NULL;
	while (*pp && *pp != it) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = it->next;
	if (q->tail == it)
		q->tail = prev;
	q->n--;
}

/* Waits under q->mu for the item's reply; moves it to rep when it came. */
static int await_reply(struct ctlq *q, struct ctlq_item *it,
		       struct conf_reply *rep, unsigned timeout_ms)
{
	struct timespec dl = monocv_deadline(timeout_ms);
	while (it->state != ITEM_DONE && monocv_wait(&q->cv, &q->mu, &dl))
		;
	if (it->state == ITEM_DONE) {
		*rep = it->rep;
		memset(&it->rep, 0, sizeof(it->rep)); /* now the caller's */
		return rep->err;
	}
	if (it->state == ITEM_QUEUED) {
		unlink_item(q, it);
		it->state = ITEM_DROPPED;
		item_unref(it); /* the queue's */
	}
	set_error(rep, -ETIMEDOUT, "the conference did not answer in time");
	return rep->err;
}

int ctlq_call(struct ctlq *q, const struct conf_req *req,
	      struct conf_reply *rep, unsigned timeout_ms)
{
	memset(rep, 0, sizeof(*rep));
	struct ctlq_item *it = calloc(1, sizeof(*it));
	if (!it) {
		set_error(rep, -ENOMEM, "out of memory");
		return rep->err;
	}
	it->req = *req;
	atomic_init(&it->refs, 2);
	it->state = ITEM_QUEUED;

	pthread_mutex_lock(&q->mu);
	int err = 0;
	if (q->closed) {
		set_error(rep, -ESHUTDOWN, "shutting down");
		err = rep->err;
	} else if (q->n >= CTLQ_MAX_PENDING) {
		set_error(rep, -EAGAIN, "too many requests pending");
		err = rep->err;
	}
	if (err) {
		pthread_mutex_unlock(&q->mu);
		atomic_store(&it->refs, 1);
		item_unref(it);
		return err;
	}
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->n++;
	wake_server(q);
	err = await_reply(q, it, rep, timeout_ms);
	pthread_mutex_unlock(&q->mu);
	item_unref(it);
	return err;
}

struct ctlq_item *ctlq_take(struct ctlq *q)
{
	pthread_mutex_lock(&q->mu);
	struct ctlq_item *it = q->head;
	if (it) {
		q->head = it->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		it->next = NULL;
		it->state = ITEM_TAKEN;
	}
	pthread_mutex_unlock(&q->mu);
	return it;
}

const struct conf_req *ctlq_item_req(const struct ctlq_item *it)
{
	return &it->req;
}

struct conf_reply *ctlq_item_reply(struct ctlq_item *it)
{
	return &it->rep;
}

void ctlq_done(struct ctlq *q, struct ctlq_item *it)
{
	pthread_mutex_lock(&q->mu);
	it->state = ITEM_DONE;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	item_unref(it);
}

void conference_reply_clear(struct conf_reply *rep)
{
	if (!rep)
		return;
	free(rep->rooms);
	free(rep->parts);
	rep->rooms = NULL;
	rep->parts = NULL;
	rep->n_rooms = rep->n_parts = 0;
}

size_t ctlq_pending(struct ctlq *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->n;
	pthread_mutex_unlock(&q->mu);
	return n;
}
