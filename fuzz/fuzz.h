/* fuzz.h: what every fuzz target in fuzz/ shares.
 *
 * A target is one file, fuzz_<name>.c, that defines LLVMFuzzerTestOneInput
 * (and, when it needs set-up once per process, LLVMFuzzerInitialize). It is
 * linked two ways: with libFuzzer (-Dfuzz=true, clang) to search for inputs
 * that crash, and with replay.c, a plain main() that runs it over the
 * committed corpus and regression inputs, so that every build (gcc too) and
 * every test run replays them. A target checks what the code under test
 * promises (round trips, bounds, well-formed output) and calls
 * fuzz_fail() when a promise is broken: an abort, which both drivers
 * report as a failure with the input that caused it.
 *
 * struct fuzz_in hands out the bytes of one input as the small numbers
 * and strings that a structured target needs; once the bytes run out it
 * hands out zeros and empty strings, so that every input means something.
 * One process runs one input at a time: nothing here is thread-safe. */
#ifndef TUTTI_FUZZ_H
#define TUTTI_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

void fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size);
bool fuzz_in_empty(const struct fuzz_in *in);
uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in); /* big-endian */
uint32_t fuzz_u32(struct fuzz_in *in); /* big-endian */
/* A number in 0..n-1 (0 when n is 0), from one byte when n <= 256. */
unsigned fuzz_below(struct fuzz_in *in, unsigned n);
/* Copies a string of a length given by the next byte (at most cap - 1
 * bytes, any values but NUL cut it short) into dst and terminates it.
 * Returns its length. */
size_t fuzz_str(struct fuzz_in *in, char *dst, size_t cap);
/* The next n bytes (fewer when fewer are left), not copied. */
const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got);

/* Reports a broken promise on stderr and aborts. */
void fuzz_fail(const char *target, const char *what) __attribute__((noreturn));

#define FUZZ_CHECK(target, cond)                                               \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(target, #cond);                              \
	} while (0)

#endif
