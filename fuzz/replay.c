/* replay.c: runs a fuzz target over files, without libFuzzer.
 *
 * Usage: fuzz_replay_<target> PATH...   where each PATH is an input file or
 * a directory of them (not descended into further). Directories are read
 * in name order, so that runs are repeatable; a PATH that does not exist
 * is reported and skipped (a target may have no regression inputs yet).
 * Each input is run once through LLVMFuzzerTestOneInput, as libFuzzer
 * would; a target that finds a broken promise aborts, which fails the
 * run with the input's name as the last line printed. Exits 0 when at
 * least one input ran and none failed, 1 otherwise.
 *
 * This is what lets a gcc build, and every `meson test`, replay the
 * committed corpus and every crasher ever found (fuzz/regress/). */
#include "fuzz/fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INPUT_BYTES (1 << 20)

/* Targets without set-up leave this undefined. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path, unsigned *n_run)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(MAX_INPUT_BYTES);
	if (!buf) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, MAX_INPUT_BYTES, f);
	fclose(f);
	fprintf(stderr, "running %s (%zu bytes)\n", path, n);
	/* An exact-size copy, so that ASan sees a read past the end. */
	uint8_t *in = malloc(n ? n : 1);
	if (!in) {
		free(buf);
		return -1;
	}
	memcpy(in, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(in, n);
	free(in);
	(*n_run)++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, unsigned *n_run)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **p = realloc(names, cap * sizeof(*names));
			if (!p) {
				rc = -1;
				break;
			}
			names = p;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		names[n] = malloc(len);
		if (!names[n]) {
			rc = -1;
			break;
		}
		snprintf(names[n++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = run_file(names[i], n_run);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned n_run = 0;
	int rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc && rc == 0; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "%s: absent, skipped\n", argv[i]);
			continue;
		}
		rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &n_run)
					 : run_file(argv[i], &n_run);
	}
	fprintf(stderr, "%u inputs replayed%s\n", n_run,
		rc ? ", stopped by an error" : "");
	return rc == 0 && n_run > 0 ? 0 : 1;
}
