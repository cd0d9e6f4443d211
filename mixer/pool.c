/* pool.c: the worker threads that a room too big for one core shares its
 * tick with.
 *
 * A room's mixer thread keeps its clock and the order of its steps; only
 * the steps that are one independent piece of work per participant
 * (pulling and decoding a frame, then its talker detector; making,
 * encoding and sending its mix) are handed out, item by item, to whoever
 * is free: the mixer thread itself and the pool's workers. One pool serves
 * every room of the process. A room posts a job (its items, a function,
 * the mixer), works on it too, and returns only when every item is done,
 * so the step after it sees all of them; items are taken a few at a time
 * from an atomic counter, so a busy worker never holds a room up: if no
 * worker comes, the mixer thread does everything itself.
 *
 * Who touches what: an item's participant (its stream, codec, talker
 * state) belongs to the one thread running that item, and goes back to
 * the mixer thread when the job ends; the mutex orders the two (a worker
 * leaves a job under it after its last item, the mixer thread sees the
 * job empty under it). Each running thread has its own slot number (0 for
 * the mixer thread, 1..workers for the workers), which picks its scratch
 * buffers: a worker is inside one job at a time. A worker also has its own
 * send batch (rtp/sendq.c), which it flushes before it leaves a job, so
 * that the room's packets of the tick are out, and its streams' figures
 * counted, when the mixer thread goes on. */
#include "mixer/mixer_priv.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#define CHUNK 4 /* items taken at once */

struct job {
	mixpool_fn fn;
	void *ctx;
	size_t n;
	_Atomic size_t next; /* the first item not yet taken */
	unsigned helpers;    /* workers inside it (under the pool's mutex) */
	struct job *later;   /* the next open job */
};

struct worker {
	struct mixpool *pool;
	unsigned slot;
	pthread_t thread;
	struct sendq *sendq; /* its sends in a job, flushed as it leaves */
};

struct mixpool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was posted, or stop */
	pthread_cond_t left; /* a worker left a job */
	struct job *jobs;    /* open jobs, oldest first */
	bool stop;
	unsigned n_workers, started;
	unsigned rt_priority; /* the workers' SCHED_FIFO priority; 0: none */
	struct worker w[];
};

static void work_on(struct job *j, unsigned slot)
{
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&j->next, CHUNK,
						     memory_order_relaxed);
		if (i >= j->n)
			return;
		size_t end = j->n - i > CHUNK ? i + CHUNK : j->n;
		for (; i < end; i++)
			j->fn(j->ctx, i, slot);
	}
}

/* The oldest job with items left to take, under the mutex. */
static struct job *open_job(struct mixpool *p)
{
	for (struct job *j = p->jobs; j; j = j->later)
		if (atomic_load_explicit(&j->next, memory_order_relaxed) < j->n)
			return j;
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct mixpool *p = w->pool;

	(void)rtsched_enter(p->rt_priority); /* as the mixer threads */
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct job *j = open_job(p);
		if (!j) {
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		j->helpers++;
		pthread_mutex_unlock(&p->mu);
		work_on(j, w->slot);
		sendq_flush(w->sendq); /* what it sent leaves with the job */
		pthread_mutex_lock(&p->mu);
		if (--j->helpers == 0)
			pthread_cond_broadcast(&p->left);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int mixpool_new(struct mixpool **out, unsigned workers, bool send_batch,
		unsigned rt_priority)
{
	struct mixpool *p = calloc(1, sizeof(*p) + workers * sizeof(p->w[0]));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->left, NULL);
	p->n_workers = workers;
	p->rt_priority = rt_priority;

	/* Workers block every signal: they belong to the main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = 0;
	for (unsigned i = 0; i < workers && !err; i++) {
		p->w[i] = (struct worker){.pool = p, .slot = i + 1};
		if (send_batch && sendq_new(&p->w[i].sendq, stream_tx_sent) < 0)
			p->w[i].sendq = NULL; /* sendto(), as without */
		err = -pthread_create(&p->w[i].thread, NULL, worker_main,
				      &p->w[i]);
		if (!err) {
			pthread_setname_np(p->w[i].thread, "tutti-mixw");
			p->started++;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		mixpool_free(p);
		return err;
	}
	*out = p;
	return 0;
}

void mixpool_free(struct mixpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->started; i++)
		pthread_join(p->w[i].thread, NULL);
	for (unsigned i = 0; i < p->n_workers; i++)
		sendq_free(p->w[i].sendq);
	pthread_cond_destroy(&p->left);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

struct sendq *mixpool_sendq(const struct mixpool *p, unsigned slot)
{
	return p && slot >= 1 && slot <= p->n_workers ? p->w[slot - 1].sendq
						      : NULL;
}

unsigned mixpool_slots(const struct mixpool *p)
{
	return p ? p->n_workers + 1 : 1;
}

void mixpool_run(struct mixpool *p, mixpool_fn fn, void *ctx, size_t n)
{
	if (!p || !p->n_workers || n <= CHUNK) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	struct job j = {.fn = fn, .ctx = ctx, .n = n};
	struct job **tail;

	pthread_mutex_lock(&p->mu);
	for (tail = &p->jobs; *tail; tail = &(*tail)->later)
		;
	*tail = &j;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);

	work_on(&j, 0);

	/* Every item is taken; wait for the workers still on theirs. */
	pthread_mutex_lock(&p->mu);
	for (tail = &p->jobs; *tail != &j; tail = &(*tail)->later)
		;
	*tail = j.later;
	while (j.helpers)
		pthread_cond_wait(&p->left, &p->mu);
	pthread_mutex_unlock(&p->mu);
}
