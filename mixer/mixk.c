/* mixk.c: picks the mix kernels (mixk_scalar.c, mixk_sse2.c, mixk_avx2.c)
 * that this CPU runs, once per process.
 *
 * mixk_best() asks cpuid through __builtin_cpu_supports() the first time it
 * is called and returns the same table ever after, from any thread (the
 * choice is made under pthread_once). TUTTI_MIXK=scalar|sse2|avx2 in the
 * environment forces a variant, for benchmarks and for chasing a bug; a
 * name this CPU cannot run, or does not know, is ignored and the best one
 * is used instead. The tables are static constants: nobody frees them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/mixer.h"

static bool cpu_has(const struct mixk *k)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	if (k == &mixk_avx2)
		return __builtin_cpu_supports("avx2");
	if (k == &mixk_sse2)
		return __builtin_cpu_supports("sse2");
#endif
	return k == &mixk_scalar;
}

/* Every variant, best last. */
static const struct mixk *const all[] = {&mixk_scalar, &mixk_sse2, &mixk_avx2};

#define N_ALL (sizeof(all) / sizeof(all[0]))

/* Writes up to cap variants this CPU runs, scalar first, and returns how
 * many it wrote; out may be NULL when cap is 0. */
size_t mixk_available(const struct mixk **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < N_ALL && n < cap; i++)
		if (cpu_has(all[i]))
			out[n++] = all[i];
	return n;
}

static const struct mixk *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
	const char *want = getenv("TUTTI_MIXK");
	size_t i;

	for (i = 0; want && i < N_ALL; i++) {
		if (strcmp(want, all[i]->name) == 0 && cpu_has(all[i])) {
			chosen = all[i];
			return;
		}
	}
	for (i = N_ALL; i-- > 0;) {
		if (cpu_has(all[i])) {
			chosen = all[i];
			return;
		}
	}
}

const struct mixk *mixk_best(void)
{
	pthread_once(&chosen_once, choose);
	return chosen;
}
