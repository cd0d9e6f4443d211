/* rtsched.c: real-time scheduling for the media threads (--realtime).
 *
 * The threads that keep the 20 ms clock and do the media work, each room's
 * mixer thread and the pool's workers, may run under SCHED_FIFO at one
 * priority, so that on a busy machine a tick is not kept waiting behind
 * other processes' time slices. Nothing else is: the signalling, API and
 * recording threads stay at normal priority. Each thread sets its own
 * policy as it starts (rtsched_enter); threads it creates would inherit
 * it, and it creates none.
 *
 * Whether the kernel lets the process have that policy (CAP_SYS_NICE, or
 * an RLIMIT_RTPRIO as high as the priority, and a cgroup with real-time
 * time to give) is a property of the host: rtsched_probe() asks once, at
 * start-up, by entering the policy on a thread of its own that ends at
 * once, so that the caller can say so in the log and hand the threads 0
 * (normal priority) instead of a priority each of them would be refused.
 * Any thread may call either function; nothing here logs. */
#include "mixer/mixer_priv.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>

int rtsched_enter(unsigned priority)
{
	if (!priority)
		return 0;
	struct sched_param sp = {.sched_priority = (int)priority};
	return -pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

struct probe {
	unsigned priority;
	int err;
};

static void *probe_main(void *arg)
{
	struct probe *pr = arg;
	pr->err = rtsched_enter(pr->priority);
	return NULL;
}

int rtsched_probe(unsigned priority)
{
	if (!priority)
		return 0;
	struct probe pr = {.priority = priority};
	pthread_t t;
	sigset_t all, old;

	/* Like the media threads, it takes no signal. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&t, NULL, probe_main, &pr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_join(t, NULL);
	return pr.err;
}
