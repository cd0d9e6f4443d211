/* test_spscq.c: the bounded single-producer/single-consumer queue: sizes,
 * full and empty, order across wrap-around, and one producer and one
 * consumer thread passing numbered elements, whose contents the consumer
 * checks (the test that the TSan build of CI runs for the queue's memory
 * ordering). */
#include "core/core.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

struct item {
	uint64_t seq;
	uint32_t words[9]; /* filled from seq: a torn copy shows */
};

static void fill(struct item *it, uint64_t seq)
{
	memset(it, 0, sizeof(*it)); /* the padding too: intact() compares it */
	it->seq = seq;
	for (unsigned i = 0; i < 9; i++)
		it->words[i] = (uint32_t)(seq * 2654435761u + i);
}

static bool intact(const struct item *it)
{
	struct item want;
	fill(&want, it->seq);
	return memcmp(it, &want, sizeof(want)) == 0;
}

static void test_bad_arguments(void)
{
	struct spscq *q = NULL;
	CU_ASSERT_EQUAL(spscq_new(&q, 0, 8), -EINVAL);
	CU_ASSERT_EQUAL(spscq_new(&q, 8, 0), -EINVAL);
	CU_ASSERT_EQUAL(spscq_new(&q, ((size_t)1 << 24) + 1, 8), -EINVAL);
	CU_ASSERT_EQUAL(spscq_new(NULL, 8, 8), -EINVAL);
	CU_ASSERT_PTR_NULL(q);
	spscq_free(NULL);
}

/* A capacity is rounded up to a power of two; full and empty are said. */
static void test_full_empty_wrap(void)
{
	struct spscq *q;
	struct item it;
	CU_ASSERT_EQUAL_FATAL(spscq_new(&q, 5, sizeof(it)), 0);
	CU_ASSERT_EQUAL(spscq_pop(q, &it), -EAGAIN);
	uint64_t in = 0, out = 0;
	for (int round = 0; round < 10; round++) {
		while (true) {
			fill(&it, in);
			if (spscq_push(q, &it) != 0)
				break;
			in++;
		}
		CU_ASSERT_EQUAL(in - out, 8);
		/* Take some, so that the indices wrap at odd places. */
		for (int k = 0; k < 3 + round % 5; k++) {
			CU_ASSERT_EQUAL_FATAL(spscq_pop(q, &it), 0);
			CU_ASSERT_EQUAL(it.seq, out);
			CU_ASSERT_TRUE(intact(&it));
			out++;
		}
	}
	while (spscq_pop(q, &it) == 0) {
		CU_ASSERT_EQUAL(it.seq, out);
		out++;
	}
	CU_ASSERT_EQUAL(in, out);
	spscq_free(q);
}

#define N_ITEMS 200000

static void *producer(void *arg)
{
	struct spscq *q = arg;
	struct item it;
	for (uint64_t seq = 0; seq < N_ITEMS;) {
		fill(&it, seq);
		if (spscq_push(q, &it) == 0)
			seq++;
		else
			sched_yield();
	}
	return NULL;
}

/* Every element arrives once, in order and whole. */
static void test_two_threads(void)
{
	struct spscq *q;
	struct item it;
	pthread_t th;
	CU_ASSERT_EQUAL_FATAL(spscq_new(&q, 64, sizeof(it)), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, producer, q), 0);
	uint64_t next = 0, bad = 0;
	while (next < N_ITEMS) {
		if (spscq_pop(q, &it) != 0) {
			sched_yield();
			continue;
		}
		bad += it.seq != next || !intact(&it);
		next++;
	}
	pthread_join(th, NULL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(spscq_pop(q, &it), -EAGAIN);
	spscq_free(q);
}

static const struct unit_test tests[] = {
    {"bad arguments", test_bad_arguments},
    {"full, empty and wrap-around", test_full_empty_wrap},
    {"one producer, one consumer thread", test_two_threads},
    {NULL, NULL},
};

UNIT_MAIN("spscq", tests)
