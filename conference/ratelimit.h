/* ratelimit.h: token buckets keyed by source address (ratelimit.c). */
#ifndef TUTTI_CONFERENCE_RATELIMIT_H
#define TUTTI_CONFERENCE_RATELIMIT_H

#include <stdint.h>

#define RATELIMIT_KEY_MAX 48 /* an IPv6 address in text, and room to spare */

struct ratelimit;

/* rate: requests per second per key (burst: twice that); slots: buckets
 * in the table (at least 8). -EINVAL for rate 0. */
int ratelimit_new(struct ratelimit **out, unsigned rate, unsigned slots);
void ratelimit_free(struct ratelimit *rl); /* NULL-safe */
/* Takes a token for key at now_ns (monotonic): 0 when there was one, else
 * the whole seconds (>= 1) after which one will be, for Retry-After. Keys
 * longer than RATELIMIT_KEY_MAX - 1 are cut. */
unsigned ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ns);

#endif
