/* test_monocv.c: condition variables timed on CLOCK_MONOTONIC
 * (conference/monocv.c). The deadline is where it should be, a wait with
 * nobody to signal returns false once that deadline has passed (and not
 * before), a signal wakes a waiter long before its deadline. The waits are
 * bounded by their own deadlines; no test measures speed. */
#include "conference/monocv.h"

#include "tests/unit/unit.h"

#include <stdint.h>

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void test_deadline(void)
{
	const unsigned ms[] = {0, 1, 999, 1000, 1500, 60000};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		int64_t before = mono_ns();
		struct timespec dl = monocv_deadline(ms[i]);
		int64_t after = mono_ns();
		CU_ASSERT(dl.tv_nsec >= 0 && dl.tv_nsec < 1000000000);
		CU_ASSERT(ts_ns(&dl) >= before + (int64_t)ms[i] * 1000000);
		CU_ASSERT(ts_ns(&dl) <= after + (int64_t)ms[i] * 1000000);
	}
}

static void test_times_out(void)
{
	pthread_cond_t cv;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	CU_ASSERT_FATAL(monocv_init(&cv) == 0);
	struct timespec dl = monocv_deadline(50);
	int waits = 0;
	pthread_mutex_lock(&mu);
	while (monocv_wait(&cv, &mu, &dl))
		waits++; /* spurious wake-ups only */
	pthread_mutex_unlock(&mu);
	CU_ASSERT(mono_ns() >= ts_ns(&dl));
	CU_ASSERT(waits < 1000);
	pthread_cond_destroy(&cv);
}

struct shared {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool ready;
};

static void *signaller(void *arg)
{
	struct shared *s = arg;
	pthread_mutex_lock(&s->mu);
	s->ready = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void test_signalled(void)
{
	struct shared s = {.mu = PTHREAD_MUTEX_INITIALIZER};
	CU_ASSERT_FATAL(monocv_init(&s.cv) == 0);
	pthread_t t;
	/* A deadline far away: the signal, not the clock, ends the wait. */
	struct timespec dl = monocv_deadline(60000);
	pthread_mutex_lock(&s.mu);
	CU_ASSERT_FATAL(pthread_create(&t, NULL, signaller, &s) == 0);
	bool in_time = true;
	while (!s.ready && in_time)
		in_time = monocv_wait(&s.cv, &s.mu, &dl);
	pthread_mutex_unlock(&s.mu);
	pthread_join(t, NULL);
	CU_ASSERT(s.ready);
	CU_ASSERT(in_time);
	CU_ASSERT(mono_ns() < ts_ns(&dl));
	pthread_cond_destroy(&s.cv);
}

static const struct unit_test tests[] = {
    {"deadline: now + timeout, normalised", test_deadline},
    {"wait: false once the deadline has passed", test_times_out},
    {"wait: a signal ends it before the deadline", test_signalled},
    {NULL, NULL},
};

UNIT_MAIN("monocv", tests)
