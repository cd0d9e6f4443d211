/* ratelimit.c: a token bucket per source address, for new INVITEs and
 * SUBSCRIBEs (--sip-rate).
 *
 * Each address may start `rate` requests a second on average and twice
 * that in a burst. The buckets live in a fixed open-addressed table, so a
 * flood from many addresses costs no memory beyond it: a full probe run
 * takes over its stalest bucket, which only forgets a quiet address's
 * history (it then starts with a full bucket, as a new one would).
 * Signalling thread only. */
#include "conference/ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8 /* buckets looked at per address */

struct bucket {
	char key[RATELIMIT_KEY_MAX];
	uint64_t milli_tokens; /* tokens x 1000 */
	uint64_t last_ns;      /* 0: unused */
};

struct ratelimit {
	unsigned rate, slots;
	uint64_t cap_milli; /* the burst, x 1000 */
	struct bucket *b;
};

int ratelimit_new(struct ratelimit **out, unsigned rate, unsigned slots)
{
	*out = NULL;
	if (!rate || slots < PROBE)
		return -EINVAL;
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	rl->b = calloc(slots, sizeof(*rl->b));
	if (!rl->b) {
		free(rl);
		return -ENOMEM;
	}
	rl->rate = rate;
	rl->slots = slots;
	rl->cap_milli = 2000ull * rate;
	*out = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->b);
	free(rl);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct bucket *find(struct ratelimit *rl, const char *key)
{
	uint32_t h = hash(key);
	struct bucket *stalest = NULL;
	for (unsigned i = 0; i < PROBE; i++) {
		struct bucket *b = &rl->b[(h + i) % rl->slots];
		if (b->last_ns && strcmp(b->key, key) == 0)
			return b;
		if (!stalest || b->last_ns < stalest->last_ns)
			stalest = b;
	}
	memset(stalest, 0, sizeof(*stalest));
	snprintf(stalest->key, sizeof(stalest->key), "%s", key);
	return stalest;
}

unsigned ratelimit_take(struct ratelimit *rl, const char *key, uint64_t now_ns)
{
	char cut[RATELIMIT_KEY_MAX];
	snprintf(cut, sizeof(cut), "%s", key);
	struct bucket *b = find(rl, cut);
	if (!b->last_ns) {
		b->milli_tokens = rl->cap_milli;
	} else if (now_ns > b->last_ns) {
		uint64_t add = (now_ns - b->last_ns) / 1000000ull * rl->rate;
		b->milli_tokens = b->milli_tokens + add > rl->cap_milli
				      ? rl->cap_milli
				      : b->milli_tokens + add;
	}
	b->last_ns = now_ns ? now_ns : 1;
	if (b->milli_tokens >= 1000) {
		b->milli_tokens -= 1000;
		return 0;
	}
	/* whole seconds until one token is back, at least one */
	uint64_t missing = 1000 - b->milli_tokens;
	uint64_t ms = (missing + rl->rate - 1) / rl->rate;
	return (unsigned)((ms + 999) / 1000);
}
