/* test_ratelimit.c: conference/ratelimit.c, with a made-up clock. */
#include "conference/ratelimit.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define S 1000000000ull /* one second in ns */

static void test_bad_args(void)
{
	struct ratelimit *rl = (void *)1;
	CU_ASSERT_EQUAL(ratelimit_new(&rl, 0, 64), -EINVAL);
	CU_ASSERT_PTR_NULL(rl);
	CU_ASSERT_EQUAL(ratelimit_new(&rl, 5, 4), -EINVAL);
	ratelimit_free(NULL);
}

static void test_burst_then_rate(void)
{
	struct ratelimit *rl;
	CU_ASSERT_EQUAL_FATAL(ratelimit_new(&rl, 5, 64), 0);
	uint64_t t = 10 * S;
	/* a burst of twice the rate, then refusals */
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(ratelimit_take(rl, "192.0.2.1", t), 0);
	unsigned retry = ratelimit_take(rl, "192.0.2.1", t);
	CU_ASSERT_EQUAL(retry, 1); /* a token is back in 200 ms: 1 s */
	/* 200 ms later exactly one more */
	t += S / 5;
	CU_ASSERT_EQUAL(ratelimit_take(rl, "192.0.2.1", t), 0);
	CU_ASSERT_NOT_EQUAL(ratelimit_take(rl, "192.0.2.1", t), 0);
	/* over 10 s of steady asking, about 5 a second get through */
	int ok = 0;
	for (int ms = 0; ms < 10000; ms += 10)
		ok += ratelimit_take(rl, "192.0.2.1", t + ms * 1000000ull) == 0;
	CU_ASSERT(ok >= 49 && ok <= 51);
	/* a long quiet refills to the burst, not beyond */
	t += 3600 * S;
	ok = 0;
	for (int i = 0; i < 30; i++)
		ok += ratelimit_take(rl, "192.0.2.1", t) == 0;
	CU_ASSERT_EQUAL(ok, 10);
	ratelimit_free(rl);
}

static void test_sources_apart(void)
{
	struct ratelimit *rl;
	CU_ASSERT_EQUAL_FATAL(ratelimit_new(&rl, 1, 64), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "192.0.2.1", S), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "192.0.2.1", S), 0);
	CU_ASSERT_NOT_EQUAL(ratelimit_take(rl, "192.0.2.1", S), 0);
	/* another address has its own bucket */
	CU_ASSERT_EQUAL(ratelimit_take(rl, "2001:db8::1", S), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "192.0.2.2", S), 0);
	ratelimit_free(rl);
}

static void test_slow_rate_retry(void)
{
	struct ratelimit *rl;
	CU_ASSERT_EQUAL_FATAL(ratelimit_new(&rl, 1, 64), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "a", S), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "a", S), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "a", S), 1);
	/* half a token back: still a second to wait, rounded up */
	CU_ASSERT_EQUAL(ratelimit_take(rl, "a", S + S / 2), 1);
	CU_ASSERT_EQUAL(ratelimit_take(rl, "a", 2 * S + S / 2), 0);
	ratelimit_free(rl);
}

/* A flood from more addresses than the table holds stays within it and
 * still limits each address that keeps asking. */
static void test_table_full(void)
{
	struct ratelimit *rl;
	CU_ASSERT_EQUAL_FATAL(ratelimit_new(&rl, 1, 16), 0);
	char key[64];
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "198.51.100.%d:%d", i % 250, i);
		CU_ASSERT_EQUAL(ratelimit_take(rl, key, S + (uint64_t)i), 0);
	}
	/* a long key is cut, not overrun */
	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	CU_ASSERT_EQUAL(ratelimit_take(rl, key, 2 * S), 0);
	CU_ASSERT_EQUAL(ratelimit_take(rl, key, 2 * S), 0);
	CU_ASSERT_NOT_EQUAL(ratelimit_take(rl, key, 2 * S), 0);
	ratelimit_free(rl);
}

static const struct unit_test tests[] = {
    {"bad arguments", test_bad_args},
    {"a burst of twice the rate, then the rate", test_burst_then_rate},
    {"each source its own bucket", test_sources_apart},
    {"Retry-After in whole seconds", test_slow_rate_retry},
    {"a flood of addresses fills no more than the table", test_table_full},
    {NULL, NULL},
};

UNIT_MAIN("ratelimit", tests)
