/* unit.h: the CUnit boilerplate shared by every tests/unit/test_*.c.
 * A test file defines its tests and one table, then UNIT_MAIN(table), or
 * UNIT_MAIN_APART(table) when its cases are independent and spend their
 * time waiting on real mixer ticks: those run each in a child process,
 * several at once, so that seconds of waiting overlap. */
#ifndef TUTTI_UNIT_H
#define TUTTI_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Cases at once in UNIT_MAIN_APART. One under a sanitizer, where the
 * cases' CPU is many times larger and their real-time checks would start
 * competing; UNIT_JOBS in the environment overrides either. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNIT_APART_JOBS 1
#else
#define UNIT_APART_JOBS 4
#endif

/* One case in a child: its output goes to out, its verdict to its exit
 * status (a crash or a sanitizer's report fails it too). */
static inline pid_t unit_fork_case(const char *suite, const struct unit_test *t,
				   FILE *out)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	dup2(fileno(out), STDOUT_FILENO);
	dup2(fileno(out), STDERR_FILENO);
	struct unit_test one[2] = {*t, {NULL, NULL}};
	exit(unit_run(suite, one));
}

/* Prints a finished case's output and says whether it passed. */
static inline int unit_report(const char *name, FILE *out, int status)
{
	char buf[4096];
	size_t n;

	rewind(out);
	while ((n = fread(buf, 1, sizeof(buf), out)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(out);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		printf("\nFAILED: %s: killed by signal %d\n", name,
		       WTERMSIG(status));
	else
		printf("\nFAILED: %s: exit %d\n", name, WEXITSTATUS(status));
	return 1;
}

/* The table's cases in children, at most jobs at a time; their outputs
 * in the table's order. A test timeout kills the whole process group. */
static inline int unit_run_apart(const char *suite, const struct unit_test *t)
{
	size_t n = 0, started = 0, printed = 0, running = 0;
	unsigned failed = 0;
	const char *env = getenv("UNIT_JOBS");
	size_t jobs =
	    env && atoi(env) > 0 ? (size_t)atoi(env) : UNIT_APART_JOBS;

	while (t[n].name)
		n++;
	if (jobs <= 1 || n <= 1)
		return unit_run(suite, t);
	FILE **out = calloc(n, sizeof(*out));
	pid_t *pid = calloc(n, sizeof(*pid));
	int *status = calloc(n, sizeof(*status));
	char *done = calloc(n, 1);
	if (!out || !pid || !status || !done)
		return 2;
	while (printed < n) {
		for (; started < n && running < jobs; started++) {
			out[started] = tmpfile();
			pid[started] = out[started]
					   ? unit_fork_case(suite, &t[started],
							    out[started])
					   : -1;
			if (pid[started] < 0) {
				fprintf(stderr, "%s: cannot start\n",
					t[started].name);
				return 2;
			}
			running++;
		}
		int st;
		pid_t p = wait(&st);
		if (p < 0)
			return 2;
		for (size_t i = 0; i < started; i++)
			if (pid[i] == p && !done[i]) {
				status[i] = st;
				done[i] = 1;
				running--;
			}
		for (; printed < n && done[printed]; printed++)
			failed += (unsigned)unit_report(
			    t[printed].name, out[printed], status[printed]);
	}
	printf("\n%s: %zu cases in children, %u at a time: %u failed\n", suite,
	       n, (unsigned)jobs, failed);
	free(out);
	free(pid);
	free(status);
	free(done);
	return failed ? 1 : 0;
}

#define UNIT_MAIN_APART(suite, table)                                          \
	int main(void)                                                         \
	{                                                                      \
		return unit_run_apart(suite, table);                           \
	}

#define UNIT_MAIN(suite, table)                                                \
	int main(void)                                                         \
	{                                                                      \
		return unit_run(suite, table);                                 \
	}

#endif
