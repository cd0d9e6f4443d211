/* test_ctl.c: the control request queue of conference/ctlq.c alone: many
 * callers and one server thread, replies that come too late for their
 * caller (freed all the same: run under ASan), a full queue, and closing
 * with callers waiting. The server here stands in for the signalling
 * thread: it polls the eventfd as su_root would. */
#include "conference/ctlq.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#define CALLERS	 8
#define REQUESTS 300
#define SLOW_MS	 20 /* the server's time for a "slow" request */

struct server {
	struct ctlq *q;
	int fd;
	atomic_bool stop;
	atomic_uint served;
};

static void sleep_ms(unsigned ms)
{
	struct timespec d = {.tv_sec = ms / 1000,
			     .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&d, NULL);
}

/* Every request gets part_id * 2 and one participant (to be freed by
 * whoever lets go last); part_id % 20 == 0 is slow. */
static void serve_one(struct ctlq_item *it)
{
	const struct conf_req *req = ctlq_item_req(it);
	struct conf_reply *rep = ctlq_item_reply(it);
	if (req->part_id % 20 == 0)
		sleep_ms(SLOW_MS);
	rep->part_id = req->part_id * 2;
	rep->parts = calloc(1, sizeof(*rep->parts));
	rep->n_parts = 1;
	rep->parts[0].id = req->part_id;
	snprintf(rep->message, sizeof(rep->message), "%s", req->room);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		uint64_t v;
		if (read(s->fd, &v, sizeof(v)) < 0)
			continue;
		struct ctlq_item *it;
		while ((it = ctlq_take(s->q))) {
			serve_one(it);
			ctlq_done(s->q, it);
			atomic_fetch_add(&s->served, 1);
		}
	}
	return NULL;
}

struct caller {
	struct ctlq *q;
	unsigned base;
	unsigned ok, timed_out, wrong;
};

static void *caller_main(void *arg)
{
	struct caller *cl = arg;
	for (unsigned i = 1; i <= REQUESTS; i++) {
		struct conf_req req = {.op = CONF_PART_LIST,
				       .part_id = cl->base + i};
		snprintf(req.room, sizeof(req.room), "room-%u", cl->base + i);
		snprintf(req.password, sizeof(req.password), "secret");
		struct conf_reply rep;
		/* Slow requests get too short a wait now and then. */
		unsigned timeout = i % 20 == 0 ? 5 : 5000;
		int err = ctlq_call(cl->q, &req, &rep, timeout);
		if (err == -ETIMEDOUT) {
			cl->timed_out++;
		} else if (err == 0 && rep.part_id == req.part_id * 2 &&
			   rep.n_parts == 1 && rep.parts[0].id == req.part_id &&
			   strcmp(rep.message, req.room) == 0) {
			cl->ok++;
		} else {
			cl->wrong++;
		}
		conference_reply_clear(&rep);
		CU_ASSERT_PTR_NULL(rep.parts);
	}
	return NULL;
}

static void test_many_callers(void)
{
	struct server s = {.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)};
	CU_ASSERT_FATAL(s.fd >= 0);
	CU_ASSERT_FATAL(ctlq_new(&s.q, s.fd) == 0);
	pthread_t st, ct[CALLERS];
	pthread_create(&st, NULL, server_main, &s);
	struct caller cl[CALLERS];
	for (int i = 0; i < CALLERS; i++) {
		cl[i] = (struct caller){.q = s.q, .base = 100000u * (i + 1)};
		pthread_create(&ct[i], NULL, caller_main, &cl[i]);
	}
	unsigned ok = 0, timed_out = 0;
	for (int i = 0; i < CALLERS; i++) {
		pthread_join(ct[i], NULL);
		CU_ASSERT_EQUAL(cl[i].wrong, 0);
		ok += cl[i].ok;
		timed_out += cl[i].timed_out;
	}
	CU_ASSERT_EQUAL(ok + timed_out, CALLERS * REQUESTS);
	/* Every 20th request is slow and its caller waits 5 ms: it times
	 * out, unless the caller was not scheduled for longer than that. */
	CU_ASSERT(timed_out > 0);
	CU_ASSERT(timed_out <= CALLERS * REQUESTS / 20);
	atomic_store(&s.stop, true);
	pthread_join(st, NULL);
	ctlq_free(s.q);
	close(s.fd);
}

struct blocked {
	struct ctlq *q;
	int err;
};

static void *call_blocked(void *arg)
{
	struct blocked *b = arg;
	struct conf_req req = {.op = CONF_METRICS};
	struct conf_reply rep;
	b->err = ctlq_call(b->q, &req, &rep, 20000);
	conference_reply_clear(&rep);
	return NULL;
}

/* No server: callers pile up until the queue is full, then closing it
 * answers them all at once. */
static void test_full_then_close(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct ctlq *q;
	CU_ASSERT_FATAL(ctlq_new(&q, fd) == 0);
	static struct blocked b[CTLQ_MAX_PENDING];
	static pthread_t t[CTLQ_MAX_PENDING];
	for (int i = 0; i < CTLQ_MAX_PENDING; i++) {
		b[i] = (struct blocked){.q = q, .err = 1};
		pthread_create(&t[i], NULL, call_blocked, &b[i]);
	}
	for (int i = 0; i < 500 && ctlq_pending(q) < CTLQ_MAX_PENDING; i++)
		sleep_ms(10);
	CU_ASSERT_EQUAL(ctlq_pending(q), CTLQ_MAX_PENDING);

	struct conf_req req = {.op = CONF_METRICS};
	struct conf_reply rep;
	CU_ASSERT_EQUAL(ctlq_call(q, &req, &rep, 1000), -EAGAIN);
	CU_ASSERT_EQUAL(rep.err, -EAGAIN);
	CU_ASSERT(rep.message[0] != '\0');

	ctlq_close(q);
	for (int i = 0; i < CTLQ_MAX_PENDING; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(b[i].err, -ESHUTDOWN);
	}
	CU_ASSERT_EQUAL(ctlq_call(q, &req, &rep, 1000), -ESHUTDOWN);
	CU_ASSERT_EQUAL(ctlq_pending(q), 0);
	ctlq_close(q); /* twice is fine */
	ctlq_free(q);
	close(fd);
}

/* A caller that gives up on a request still queued takes it out: the
 * server never sees it. */
static void test_timeout_unqueues(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct ctlq *q;
	CU_ASSERT_FATAL(ctlq_new(&q, fd) == 0);
	struct conf_req req = {.op = CONF_ROOM_LIST};
	struct conf_reply rep;
	CU_ASSERT_EQUAL(ctlq_call(q, &req, &rep, 20), -ETIMEDOUT);
	CU_ASSERT_EQUAL(ctlq_pending(q), 0);
	CU_ASSERT_PTR_NULL(ctlq_take(q));
	uint64_t v = 0;
	CU_ASSERT_EQUAL(read(fd, &v, sizeof(v)), sizeof(v));
	CU_ASSERT_EQUAL(v, 1); /* the server was woken, all the same */
	ctlq_free(q);
	close(fd);
}

/* A request the server has taken is answered even when its caller has
 * gone: the reply's allocations are freed with the item. */
static void test_late_reply_freed(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct ctlq *q;
	CU_ASSERT_FATAL(ctlq_new(&q, fd) == 0);
	struct server s = {.q = q, .fd = fd};
	pthread_t st;
	pthread_create(&st, NULL, server_main, &s);
	struct conf_req req = {.op = CONF_PART_LIST, .part_id = 20};
	struct conf_reply rep;
	CU_ASSERT_EQUAL(ctlq_call(q, &req, &rep, 5), -ETIMEDOUT);
	for (int i = 0; i < 300 && atomic_load(&s.served) == 0; i++)
		sleep_ms(5);
	CU_ASSERT_EQUAL(atomic_load(&s.served), 1);
	req.part_id = 11;
	CU_ASSERT_EQUAL(ctlq_call(q, &req, &rep, 5000), 0);
	CU_ASSERT_EQUAL(rep.part_id, 22);
	conference_reply_clear(&rep);
	conference_reply_clear(&rep); /* twice is fine */
	atomic_store(&s.stop, true);
	pthread_join(st, NULL);
	ctlq_free(q);
	close(fd);
}

static const struct unit_test tests[] = {
    {"8 callers, one server, some timeouts", test_many_callers},
    {"a full queue, then close", test_full_then_close},
    {"a timeout takes a queued request out", test_timeout_unqueues},
    {"a late reply is freed", test_late_reply_freed},
    {NULL, NULL},
};

UNIT_MAIN("ctl", tests)
