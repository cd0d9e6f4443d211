/* unit.h: the CUnit boilerplate shared by every tests/unit/test_*.c.
 * A test file defines its tests and one table, then UNIT_MAIN(table), or
 * UNIT_MAIN_APART(table) when its cases are independent and spend their
 * time waiting on real mixer ticks: those run each in a child process,
 * several at once, so that seconds of waiting overlap, and one that
 * failed while the host starved this machine runs again. */
#ifndef TUTTI_UNIT_H
#define TUTTI_UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stdbool.h>
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

/* (stolen, total) jiffies of all CPUs so far, from /proc/stat's first
 * line; both 0 when it cannot be read. */
static inline void unit_cpu_times(unsigned long long *stolen,
				  unsigned long long *total)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");

	*stolen = *total = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		*stolen = v[7];
		for (int i = 0; i < 8; i++)
			*total += v[i];
	}
	fclose(f);
}

/* A case that failed on a starved machine runs again: the hypervisor took
 * at least UNIT_STARVED_PCT percent of the CPU time while it ran (a
 * shared host), and its real mixer ticks and its phones' 20 ms pace ran
 * late. At most UNIT_RUNS runs in all; a failure on a machine that was
 * not starved stands, and so does the last run's. */
#define UNIT_STARVED_PCT 10
#define UNIT_RUNS	 5

struct unit_case {
	FILE *out;
	pid_t pid;
	int status, runs;
	char done;
	unsigned long long stolen0, total0;
};

static inline int unit_start_case(const char *suite, const struct unit_test *t,
				  struct unit_case *c)
{
	c->out = tmpfile();
	unit_cpu_times(&c->stolen0, &c->total0);
	c->pid = c->out ? unit_fork_case(suite, t, c->out) : -1;
	c->runs++;
	if (c->pid < 0) {
		fprintf(stderr, "%s: cannot start\n", t->name);
		return -1;
	}
	return 0;
}

/* True when case c, just ended, failed on a starved machine and may run
 * again; its output so far is printed, with why. */
static inline bool unit_run_again(const struct unit_test *t,
				  struct unit_case *c)
{
	unsigned long long stolen, total;

	if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0)
		return false;
	unit_cpu_times(&stolen, &total);
	if (c->runs >= UNIT_RUNS || total <= c->total0 ||
	    (stolen - c->stolen0) * 100 <
		UNIT_STARVED_PCT * (total - c->total0))
		return false;
	(void)unit_report(t->name, c->out, c->status);
	printf("%s: the hypervisor took %llu %% of the CPU time meanwhile: "
	       "running it again\n",
	       t->name, (stolen - c->stolen0) * 100 / (total - c->total0));
	return true;
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
	if (n <= 1)
		return unit_run(suite, t);
	struct unit_case *c = calloc(n, sizeof(*c));
	if (!c)
		return 2;
	while (printed < n) {
		for (; started < n && running < jobs; started++, running++)
			if (unit_start_case(suite, &t[started], &c[started]) <
			    0)
				return 2;
		int st;
		pid_t p = wait(&st);
		if (p < 0)
			return 2;
		for (size_t i = 0; i < started; i++) {
			if (c[i].pid != p || c[i].done)
				continue;
			c[i].status = st;
			if (unit_run_again(&t[i], &c[i])) {
				if (unit_start_case(suite, &t[i], &c[i]) < 0)
					return 2;
				break;
			}
			c[i].done = 1;
			running--;
		}
		for (; printed < n && c[printed].done; printed++)
			failed += (unsigned)unit_report(
			    t[printed].name, c[printed].out, c[printed].status);
	}
	printf("\n%s: %zu cases in children, %u at a time: %u failed\n", suite,
	       n, (unsigned)jobs, failed);
	free(c);
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
