/* test_rtsched.c: the media threads' real-time scheduling
 * (mixer/rtsched.c): priority 0 changes nothing; the probe answers as a
 * thread entering the policy would, and leaves its caller's policy alone;
 * a thread that enters runs SCHED_FIFO at the priority asked for. Where
 * the kernel refuses (no CAP_SYS_NICE, RLIMIT_RTPRIO 0), the refusal is
 * -EPERM both ways. The end-to-end test (tests/e2e/test_realtime.py) looks
 * at tutti's own threads. */
#include "mixer/mixer_priv.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "unit.h"

#define PRIORITY 3

struct seen {
	unsigned priority;
	int err, policy, sched_priority;
};

static void *enter_main(void *arg)
{
	struct seen *s = arg;
	struct sched_param sp;

	s->err = rtsched_enter(s->priority);
	pthread_getschedparam(pthread_self(), &s->policy, &sp);
	s->sched_priority = sp.sched_priority;
	return NULL;
}

/* What a new thread that enters priority finds itself running as. */
static struct seen enter_on_thread(unsigned priority)
{
	struct seen s = {.priority = priority};
	pthread_t t;

	CU_ASSERT_FATAL(pthread_create(&t, NULL, enter_main, &s) == 0);
	pthread_join(t, NULL);
	return s;
}

static int own_policy(void)
{
	struct sched_param sp;
	int policy = -1;

	pthread_getschedparam(pthread_self(), &policy, &sp);
	return policy;
}

static void test_off(void)
{
	struct seen s = enter_on_thread(0);

	CU_ASSERT_EQUAL(rtsched_probe(0), 0);
	CU_ASSERT_EQUAL(s.err, 0);
	CU_ASSERT_EQUAL(s.policy, SCHED_OTHER);
	CU_ASSERT_EQUAL(s.sched_priority, 0);
}

static void test_out_of_range(void)
{
	CU_ASSERT_EQUAL(rtsched_probe(100), -EINVAL);
	CU_ASSERT_EQUAL(own_policy(), SCHED_OTHER);
}

static void test_enter(void)
{
	int probed = rtsched_probe(PRIORITY);
	struct seen s = enter_on_thread(PRIORITY);

	CU_ASSERT(probed == 0 || probed == -EPERM);
	CU_ASSERT_EQUAL(own_policy(), SCHED_OTHER); /* the probe's own */
	CU_ASSERT_EQUAL(s.err, probed);
	if (probed == 0) {
		CU_ASSERT_EQUAL(s.policy, SCHED_FIFO);
		CU_ASSERT_EQUAL(s.sched_priority, PRIORITY);
	} else {
		fprintf(stderr, " (SCHED_FIFO refused here) ");
		CU_ASSERT_EQUAL(s.policy, SCHED_OTHER);
	}
}

static const struct unit_test tests[] = {
    {"off", test_off},
    {"out_of_range", test_out_of_range},
    {"enter", test_enter},
    {NULL, NULL},
};

UNIT_MAIN("rtsched", tests)
