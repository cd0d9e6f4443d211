/* fuzz_in.c: the bytes of one fuzz input handed out as numbers and
 * strings (fuzz.h). Plain functions on the caller's struct fuzz_in. */
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = data ? size : 0;
}

bool fuzz_in_empty(const struct fuzz_in *in)
{
	return in->left == 0;
}

uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t hi = fuzz_u16(in);
	return hi << 16 | fuzz_u16(in);
}

unsigned fuzz_below(struct fuzz_in *in, unsigned n)
{
	if (n == 0)
		return 0;
	if (n <= 256)
		return fuzz_u8(in) % n;
	return fuzz_u32(in) % n;
}

const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*got = n;
	return p;
}

size_t fuzz_str(struct fuzz_in *in, char *dst, size_t cap)
{
	size_t want = fuzz_u8(in), got, n = 0;
	const uint8_t *p;

	if (cap == 0)
		return 0;
	if (want > cap - 1)
		want = cap - 1;
	p = fuzz_bytes(in, want, &got);
	while (n < got && p[n] != '\0')
		n++;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return n;
}

void fuzz_fail(const char *target, const char *what)
{
	fprintf(stderr, "fuzz_%s: broken promise: %s\n", target, what);
	abort();
}
