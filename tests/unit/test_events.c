/* test_events.c: the bounded event ring of conference/events.c: ids from
 * 1, wrap-around and the gap flag, waiting with a timeout, stopping, many
 * readers at once, and the UTF-8 cut used for chat texts. */
#include "conference/events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void push_n(struct evring *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct conf_event ev = {.kind = CONF_EV_PART_TALKING};
		snprintf(ev.room, sizeof(ev.room), "r%u", i);
		evring_push(r, &ev);
	}
}

static void test_ids_from_one(void)
{
	struct evring *r;
	CU_ASSERT_FATAL(evring_new(&r, EVENTS_RING_CAP) == 0);
	CU_ASSERT_EQUAL(evring_last_id(r), 0);
	struct conf_event ev = {.kind = CONF_EV_ROOM_CREATED};
	CU_ASSERT_EQUAL(evring_push(r, &ev), 1);
	CU_ASSERT_EQUAL(ev.id, 1);
	CU_ASSERT(ev.unix_ms > 0);
	CU_ASSERT_EQUAL(evring_push(r, &ev), 2);
	CU_ASSERT_EQUAL(evring_last_id(r), 2);

	struct conf_event out[4];
	bool gap = true;
	CU_ASSERT_EQUAL(evring_wait(r, 0, out, 4, 0, &gap), 2);
	CU_ASSERT_FALSE(gap);
	CU_ASSERT_EQUAL(out[0].id, 1);
	CU_ASSERT_EQUAL(out[1].id, 2);
	CU_ASSERT_EQUAL(evring_wait(r, 1, out, 4, 0, &gap), 1);
	CU_ASSERT_EQUAL(out[0].id, 2);
	CU_ASSERT_EQUAL(evring_wait(r, 0, out, 1, 0, NULL), 1);
	evring_free(r);
}

static void test_wrap_and_gap(void)
{
	struct evring *r;
	CU_ASSERT_FATAL(evring_new(&r, EVENTS_RING_CAP) == 0);
	push_n(r, 1500);
	static struct conf_event out[EVENTS_RING_CAP];
	bool gap = false;
	size_t n = evring_wait(r, 0, out, EVENTS_RING_CAP, 0, &gap);
	CU_ASSERT_EQUAL(n, EVENTS_RING_CAP);
	CU_ASSERT(gap);
	CU_ASSERT_EQUAL(out[0].id, 1500 - EVENTS_RING_CAP + 1);
	CU_ASSERT_EQUAL(out[n - 1].id, 1500);
	CU_ASSERT_STRING_EQUAL(out[n - 1].room, "r1499");

	/* Just inside the ring: no gap. */
	n = evring_wait(r, 1500 - EVENTS_RING_CAP, out, 8, 0, &gap);
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_FALSE(gap);
	CU_ASSERT_EQUAL(out[0].id, 1500 - EVENTS_RING_CAP + 1);
	/* One too far back: a gap. */
	n = evring_wait(r, 1500 - EVENTS_RING_CAP - 1, out, 8, 0, &gap);
	CU_ASSERT(gap);
	CU_ASSERT_EQUAL(out[0].id, 1500 - EVENTS_RING_CAP + 1);

	/* An id from an earlier process, beyond the newest. */
	n = evring_wait(r, 99999, out, 2, 0, &gap);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(gap);
	CU_ASSERT_EQUAL(out[0].id, 1500 - EVENTS_RING_CAP + 1);
	evring_free(r);
}

static void test_wait_timeout(void)
{
	struct evring *r;
	CU_ASSERT_FATAL(evring_new(&r, 16) == 0);
	struct conf_event out[2];
	bool gap = true;
	uint64_t t0 = now_ms();
	CU_ASSERT_EQUAL(evring_wait(r, 0, out, 2, 80, &gap), 0);
	uint64_t waited = now_ms() - t0;
	CU_ASSERT(waited >= 75 && waited < 1000);
	CU_ASSERT_FALSE(gap);
	/* An id from an earlier process waits too while there are none. */
	t0 = now_ms();
	CU_ASSERT_EQUAL(evring_wait(r, 7, out, 2, 50, &gap), 0);
	CU_ASSERT(now_ms() - t0 >= 45);
	push_n(r, 1);
	CU_ASSERT_EQUAL(evring_wait(r, 1, out, 2, 30, &gap), 0);
	evring_free(r);
}

struct waiter {
	struct evring *r;
	uint64_t after;
	size_t got;
	uint64_t waited_ms;
};

static void *wait_long(void *arg)
{
	struct waiter *w = arg;
	struct conf_event out[2];
	uint64_t t0 = now_ms();
	w->got = evring_wait(w->r, w->after, out, 2, 10000, NULL);
	w->waited_ms = now_ms() - t0;
	return NULL;
}

static void test_push_wakes_and_stop_wakes(void)
{
	struct evring *r;
	CU_ASSERT_FATAL(evring_new(&r, 16) == 0);
	struct waiter w = {.r = r};
	pthread_t t;
	pthread_create(&t, NULL, wait_long, &w);
	struct timespec d = {.tv_nsec = 30000000};
	nanosleep(&d, NULL);
	push_n(r, 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.got, 1);
	CU_ASSERT(w.waited_ms < 5000);

	w.after = 1;
	pthread_create(&t, NULL, wait_long, &w);
	nanosleep(&d, NULL);
	evring_stop(r);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(w.got, 0);
	CU_ASSERT(w.waited_ms < 5000);
	/* Once stopped, events or not, waits return 0 at once. */
	struct conf_event out[2];
	CU_ASSERT_EQUAL(evring_wait(r, 0, out, 2, 10000, NULL), 0);
	evring_free(r);
}

#define READERS	   8
#define PUSHED	   20000
#define SMALL_RING 64

struct reader {
	struct evring *r;
	unsigned gaps, bad;
	uint64_t last;
};

static void *read_all(void *arg)
{
	struct reader *rd = arg;
	struct conf_event out[16];
	while (rd->last < PUSHED) {
		bool gap = false;
		size_t n = evring_wait(rd->r, rd->last, out, 16, 2000, &gap);
		if (n == 0)
			break; /* the writer stalled: a failure */
		rd->gaps += gap;
		if (!gap && out[0].id != rd->last + 1)
			rd->bad++;
		for (size_t i = 1; i < n; i++)
			rd->bad += out[i].id != out[i - 1].id + 1;
		rd->last = out[n - 1].id;
	}
	return NULL;
}

static void test_many_readers(void)
{
	struct evring *r;
	CU_ASSERT_FATAL(evring_new(&r, SMALL_RING) == 0);
	struct reader rd[READERS];
	pthread_t t[READERS];
	for (int i = 0; i < READERS; i++) {
		rd[i] = (struct reader){.r = r};
		pthread_create(&t[i], NULL, read_all, &rd[i]);
	}
	push_n(r, PUSHED);
	for (int i = 0; i < READERS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(rd[i].last, PUSHED);
		CU_ASSERT_EQUAL(rd[i].bad, 0);
	}
	CU_ASSERT_EQUAL(evring_last_id(r), PUSHED);
	evring_free(r);
}

static void test_utf8_prefix(void)
{
	CU_ASSERT_EQUAL(events_utf8_prefix("hello", 5, 64), 5);
	CU_ASSERT_EQUAL(events_utf8_prefix("hello", 5, 4), 3); /* + NUL */
	/* "é" is 2 bytes, "€" 3, "😀" 4: cut on a boundary. */
	const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	CU_ASSERT_EQUAL(events_utf8_prefix(s, 10, 11), 10);
	CU_ASSERT_EQUAL(events_utf8_prefix(s, 10, 10), 6);
	CU_ASSERT_EQUAL(events_utf8_prefix(s, 10, 5), 3);
	CU_ASSERT_EQUAL(events_utf8_prefix(s, 10, 3), 1);
	CU_ASSERT_EQUAL(events_utf8_prefix(s, 10, 1), 0);
	/* Invalid: a lone continuation, an overlong "/", a surrogate, a
	 * truncated sequence at the end, and a NUL. */
	CU_ASSERT_EQUAL(events_utf8_prefix("ab\x80"
					   "cd",
					   5, 64),
			2);
	CU_ASSERT_EQUAL(events_utf8_prefix("a\xc0\xaf", 3, 64), 1);
	CU_ASSERT_EQUAL(events_utf8_prefix("a\xed\xa0\x80", 4, 64), 1);
	CU_ASSERT_EQUAL(events_utf8_prefix("ab\xe2\x82", 4, 64), 2);
	CU_ASSERT_EQUAL(events_utf8_prefix("ab\0cd", 5, 64), 2);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(conference_event_name(CONF_EV_ROOM_CREATED),
			       "room.created");
	CU_ASSERT_STRING_EQUAL(conference_event_name(CONF_EV_PART_LEFT),
			       "participant.left");
	CU_ASSERT_STRING_EQUAL(conference_event_name(CONF_EV_CHAT_MESSAGE),
			       "chat.message");
	for (int k = CONF_EV_ROOM_CREATED; k <= CONF_EV_CHAT_MESSAGE; k++)
		CU_ASSERT(strcmp(conference_event_name(k), "unknown") != 0);
	CU_ASSERT_STRING_EQUAL(conference_event_name(99), "unknown");
}

static const struct unit_test tests[] = {
    {"ids count from 1", test_ids_from_one},
    {"wrap-around and the gap flag", test_wrap_and_gap},
    {"a wait times out", test_wait_timeout},
    {"a push and a stop wake a waiter", test_push_wakes_and_stop_wakes},
    {"many readers, one writer", test_many_readers},
    {"UTF-8 cut", test_utf8_prefix},
    {"event names", test_names},
    {NULL, NULL},
};

UNIT_MAIN("events", tests)
