/* part_index.c: participants by id (see part_index.h). */
#include "conference/part_index.h"

#include "conference/focus.h"

#include <errno.h>
#include <stdlib.h>

#define MIN_CAP 64

/* Fibonacci hashing: consecutive ids land far apart. */
static size_t home(const struct part_index *ix, uint32_t id)
{
	return (size_t)(id * 2654435769u) & (ix->cap - 1);
}

static void place(struct part_index *ix, struct participant *p)
{
	size_t i = home(ix, p->id);
	while (ix->slot[i])
		i = (i + 1) & (ix->cap - 1);
	ix->slot[i] = p;
}

static int grow(struct part_index *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : MIN_CAP;
	struct participant **slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	struct participant **old = ix->slot;
	size_t old_cap = ix->cap;
	ix->slot = slot;
	ix->cap = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			place(ix, old[i]);
	free(old);
	return 0;
}

int part_index_put(struct part_index *ix, struct participant *p)
{
	/* At most half full, so that runs stay short. */
	if ((ix->n + 1) * 2 > ix->cap) {
		int err = grow(ix);
		if (err)
			return err;
	}
	place(ix, p);
	ix->n++;
	return 0;
}

static size_t find(const struct part_index *ix, uint32_t id)
{
	if (!ix->cap)
		return SIZE_MAX;
	for (size_t i = home(ix, id); ix->slot[i]; i = (i + 1) & (ix->cap - 1))
		if (ix->slot[i]->id == id)
			return i;
	return SIZE_MAX;
}

struct participant *part_index_get(const struct part_index *ix, uint32_t id)
{
	size_t i = find(ix, id);
	return i == SIZE_MAX ? NULL : ix->slot[i];
}

/* Whether slot j's entry, whose home is h, may move back to the hole at
 * i: its probe from h reaches i before j (cyclically). */
static bool may_fill(size_t h, size_t i, size_t j)
{
	return i <= j ? (h <= i || h > j) : (h <= i && h > j);
}

void part_index_del(struct part_index *ix, uint32_t id)
{
	size_t i = find(ix, id);
	if (i == SIZE_MAX)
		return;
	ix->slot[i] = NULL;
	ix->n--;
	/* Shift the rest of the run back over the hole. */
	for (size_t j = (i + 1) & (ix->cap - 1); ix->slot[j];
	     j = (j + 1) & (ix->cap - 1)) {
		if (!may_fill(home(ix, ix->slot[j]->id), i, j))
			continue;
		ix->slot[i] = ix->slot[j];
		ix->slot[j] = NULL;
		i = j;
	}
}

void part_index_free(struct part_index *ix)
{
	free(ix->slot);
	*ix = (struct part_index){0};
}
