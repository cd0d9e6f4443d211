/* test_pool.c: the worker pool that rooms share big ticks with
 * (mixer/pool.c): every item of a job runs exactly once, on a slot in
 * range, and is done when mixpool_run() returns; rooms that post jobs at
 * the same time each get all of theirs; no pool, no workers and few items
 * run on the caller's thread alone. The TSan build of CI runs it for the
 * pool's memory ordering. */
#include "mixer/mixer_priv.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#define N_ITEMS 1000
#define ROUNDS	200

struct count_job {
	unsigned slots;
	_Atomic unsigned runs[N_ITEMS];
	unsigned plain[N_ITEMS]; /* written unsynchronised: TSan checks */
	_Atomic unsigned bad_slot, on_workers;
};

static void count(void *ctx, size_t i, unsigned slot)
{
	struct count_job *j = ctx;
	atomic_fetch_add(&j->runs[i], 1);
	j->plain[i] += (unsigned)i;
	if (slot >= j->slots)
		atomic_fetch_add(&j->bad_slot, 1);
	if (slot)
		atomic_fetch_add(&j->on_workers, 1);
}

/* ROUNDS jobs of N_ITEMS on p: each item once per round, and its
 * unsynchronised writes seen by the caller after each. */
static unsigned rounds(struct mixpool *p, struct count_job *j)
{
	unsigned wrong = 0;
	memset(j, 0, sizeof(*j));
	j->slots = mixpool_slots(p);
	for (unsigned r = 1; r <= ROUNDS; r++) {
		mixpool_run(p, count, j, N_ITEMS);
		for (size_t i = 0; i < N_ITEMS; i++)
			wrong += atomic_load(&j->runs[i]) != r ||
				 j->plain[i] != r * (unsigned)i;
	}
	return wrong;
}

static void test_every_item_once(void)
{
	static struct count_job j;
	struct mixpool *p;

	CU_ASSERT_FATAL(mixpool_new(&p, 2, false, 0) == 0);
	CU_ASSERT_EQUAL(mixpool_slots(p), 3);
	CU_ASSERT_EQUAL(rounds(p, &j), 0);
	CU_ASSERT_EQUAL(atomic_load(&j.bad_slot), 0);
	mixpool_free(p);
}

struct room {
	struct mixpool *p;
	struct count_job j;
	unsigned wrong;
};

static void *room_main(void *arg)
{
	struct room *r = arg;
	r->wrong = rounds(r->p, &r->j);
	return NULL;
}

/* Three rooms post their jobs at once to a pool of two workers. */
static void test_rooms_at_once(void)
{
	static struct room rooms[3];
	pthread_t th[3];
	struct mixpool *p;

	CU_ASSERT_FATAL(mixpool_new(&p, 2, false, 0) == 0);
	for (int i = 0; i < 3; i++) {
		rooms[i].p = p;
		CU_ASSERT_FATAL(
		    pthread_create(&th[i], NULL, room_main, &rooms[i]) == 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(rooms[i].wrong, 0);
		CU_ASSERT_EQUAL(atomic_load(&rooms[i].j.bad_slot), 0);
	}
	mixpool_free(p);
}

/* The first item waits, bounded, until a worker has run one: the job does
 * not end before the workers come, and they come. */
static void wait_for_worker(void *ctx, size_t i, unsigned slot)
{
	struct count_job *j = ctx;
	count(ctx, i, slot);
	for (int ms = 0; i == 0 && !atomic_load(&j->on_workers) && ms < 10000;
	     ms++)
		usleep(1000);
}

static void test_workers_come(void)
{
	static struct count_job j;
	struct mixpool *p;

	CU_ASSERT_FATAL(mixpool_new(&p, 1, false, 0) == 0);
	memset(&j, 0, sizeof(j));
	j.slots = mixpool_slots(p);
	mixpool_run(p, wait_for_worker, &j, 64);
	CU_ASSERT(atomic_load(&j.on_workers) > 0);
	for (size_t i = 0; i < 64; i++)
		CU_ASSERT_EQUAL(atomic_load(&j.runs[i]), 1);
	mixpool_free(p);
}

/* No pool, a pool of no workers, a job of a few items: the caller's
 * thread (slot 0) does it all. */
static void test_alone(void)
{
	static struct count_job j;
	struct mixpool *p;

	CU_ASSERT_EQUAL(mixpool_slots(NULL), 1);
	CU_ASSERT_EQUAL(rounds(NULL, &j), 0);
	CU_ASSERT_EQUAL(atomic_load(&j.on_workers), 0);
	CU_ASSERT_FATAL(mixpool_new(&p, 0, false, 0) == 0);
	CU_ASSERT_EQUAL(rounds(p, &j), 0);
	CU_ASSERT_EQUAL(atomic_load(&j.on_workers), 0);
	mixpool_free(p);

	CU_ASSERT_FATAL(mixpool_new(&p, 2, false, 0) == 0);
	memset(&j, 0, sizeof(j));
	j.slots = 3;
	mixpool_run(p, count, &j, 3);
	CU_ASSERT_EQUAL(atomic_load(&j.on_workers), 0);
	CU_ASSERT_EQUAL(atomic_load(&j.runs[2]), 1);
	mixpool_run(p, count, &j, 0);
	mixpool_free(p);
	mixpool_free(NULL);
}

static const struct unit_test tests[] = {
    {"every item once, done on return", test_every_item_once},
    {"rooms posting at once", test_rooms_at_once},
    {"the workers come", test_workers_come},
    {"no workers: the caller alone", test_alone},
    {NULL, NULL},
};

UNIT_MAIN("pool", tests)
