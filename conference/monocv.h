/* monocv.h: condition variables whose timed waits run on CLOCK_MONOTONIC,
 * so that a step of the wall clock (NTP, an operator) neither cuts a wait
 * short nor stretches it. For the queues of conference/ that threads wait
 * on with a bound: control requests (ctlq.c), the event ring (events.c)
 * and the recording writer (rec.c). Any thread. */
#ifndef TUTTI_CONFERENCE_MONOCV_H
#define TUTTI_CONFERENCE_MONOCV_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/* Initialises cv on CLOCK_MONOTONIC: 0, or a pthread error as -errno. */
int monocv_init(pthread_cond_t *cv);

/* The CLOCK_MONOTONIC time timeout_ms from now, for monocv_wait(). */
struct timespec monocv_deadline(unsigned timeout_ms);

/* Waits on cv with mu held until it is signalled (or wakes spuriously) or
 * the deadline passes; false once the deadline has passed, so that a
 * caller loops "while (!condition && monocv_wait(...))". */
bool monocv_wait(pthread_cond_t *cv, pthread_mutex_t *mu,
		 const struct timespec *deadline);

#endif
