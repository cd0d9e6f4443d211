/* part_index.h: participants by id, for the signalling thread.
 *
 * A big room's mixer sends a few participants' statistics every tick and
 * a talking event now and then, each naming a participant by id; finding
 * it by walking the room's list cost a room of 2,000 some 40,000 list
 * steps a tick. Ids are unique in the process (conference.next_part_id),
 * so one table serves every room. Open addressing with linear probing;
 * a removal shifts the run back, so there are no tombstones. Signalling
 * thread only. */
#ifndef TUTTI_CONFERENCE_PART_INDEX_H
#define TUTTI_CONFERENCE_PART_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct participant;

struct part_index {
	struct participant **slot; /* cap entries, NULL when free */
	size_t cap, n;		   /* cap: 0 or a power of two */
};

/* Adds p under p->id (nonzero, not present). -ENOMEM leaves the index as
 * it was. */
int part_index_put(struct part_index *ix, struct participant *p);
/* Removes the participant with this id, if present. */
void part_index_del(struct part_index *ix, uint32_t id);
struct participant *part_index_get(const struct part_index *ix, uint32_t id);
void part_index_free(struct part_index *ix);

#endif
