/* unit.h: the CUnit boilerplate shared by every tests/unit/test_*.c.
 * A test file defines its tests and one table, then UNIT_MAIN(table). */
#ifndef TUTTI_UNIT_H
#define TUTTI_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdlib.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static inline int unit_run(const char *suite, const struct unit_test *t)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite(suite, NULL, NULL);
	for (; s && t->name; t++)
		CU_add_test(s, t->name, t->fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed =
	    CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

#define UNIT_MAIN(suite, table)                                                \
	int main(void)                                                         \
	{                                                                      \
		return unit_run(suite, table);                                 \
	}

#endif
