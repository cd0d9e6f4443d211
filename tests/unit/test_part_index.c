/* test_part_index.c: participants by id (conference/part_index.c): found
 * after adds, gone after removals, and every other one still found after
 * removals in the middle of probe runs, checked against a plain list over
 * thousands of random operations. */
#include "conference/focus.h"

#include "tests/unit/unit.h"

#include <stdlib.h>

#define N 3000

static struct participant parts[N];

static void test_basic(void)
{
	struct part_index ix = {0};

	CU_ASSERT_PTR_NULL(part_index_get(&ix, 1));
	part_index_del(&ix, 1); /* empty: nothing to do */
	for (uint32_t i = 0; i < 100; i++) {
		parts[i].id = i + 1;
		CU_ASSERT_EQUAL(part_index_put(&ix, &parts[i]), 0);
	}
	CU_ASSERT_EQUAL(ix.n, 100);
	CU_ASSERT(ix.cap >= 200); /* at most half full */
	for (uint32_t i = 0; i < 100; i++)
		CU_ASSERT_PTR_EQUAL(part_index_get(&ix, i + 1), &parts[i]);
	CU_ASSERT_PTR_NULL(part_index_get(&ix, 101));
	part_index_del(&ix, 50);
	part_index_del(&ix, 50); /* twice: no change */
	CU_ASSERT_EQUAL(ix.n, 99);
	CU_ASSERT_PTR_NULL(part_index_get(&ix, 50));
	CU_ASSERT_PTR_EQUAL(part_index_get(&ix, 51), &parts[50]);
	part_index_free(&ix);
	CU_ASSERT_EQUAL(ix.cap, 0);
	CU_ASSERT_PTR_NULL(part_index_get(&ix, 1));
}

/* Colliding ids (the table's size apart) and random churn: after every
 * operation, what the index finds is what a plain array says. */
static void test_churn(void)
{
	static bool in[N];
	struct part_index ix = {0};
	unsigned seed = 7;

	for (uint32_t i = 0; i < N; i++) {
		/* odd ids, and multiples of 2^16, which all share one home */
		parts[i].id = (i % 2) ? (i + 1) << 16 : i + 1;
		in[i] = false;
	}
	for (int op = 0; op < 60000; op++) {
		uint32_t i = (uint32_t)rand_r(&seed) % N;
		if (in[i]) {
			part_index_del(&ix, parts[i].id);
			in[i] = false;
		} else {
			CU_ASSERT_EQUAL_FATAL(part_index_put(&ix, &parts[i]),
					      0);
			in[i] = true;
		}
		if (op % 997)
			continue;
		size_t n = 0;
		for (uint32_t k = 0; k < N; k++) {
			n += in[k];
			CU_ASSERT_PTR_EQUAL_FATAL(
			    part_index_get(&ix, parts[k].id),
			    in[k] ? &parts[k] : NULL);
		}
		CU_ASSERT_EQUAL_FATAL(ix.n, n);
	}
	part_index_free(&ix);
}

static const struct unit_test tests[] = {
    {"add, find, remove", test_basic},
    {"churn against a plain list", test_churn},
    {NULL, NULL},
};

UNIT_MAIN("part_index", tests)
