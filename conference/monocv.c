/* monocv.c: see monocv.h. pthread_cond_timedwait() takes an absolute time
 * on the condition variable's clock, which is CLOCK_REALTIME unless the
 * variable was made otherwise; both halves of that live here. */
#include "conference/monocv.h"

#include <errno.h>

#define NS_PER_S 1000000000L

int monocv_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	int err = pthread_condattr_init(&ca);
	if (err)
		return -err;
	err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!err)
		err = pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
	return -err;
}

struct timespec monocv_deadline(unsigned timeout_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= NS_PER_S) {
		ts.tv_sec++;
		ts.tv_nsec -= NS_PER_S;
	}
	return ts;
}

bool monocv_wait(pthread_cond_t *cv, pthread_mutex_t *mu,
		 const struct timespec *deadline)
{
	return pthread_cond_timedwait(cv, mu, deadline) != ETIMEDOUT;
}
