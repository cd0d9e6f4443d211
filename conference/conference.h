/* conference.h: the focus (RFC 4579's word for the bridge's SIP side):
 * the signalling thread with its Sofia-SIP user agent, the rooms and their
 * participants.
 *
 * main() calls these from its own thread. conference_start() returns once
 * SIP is listening (or failed to), conference_stop() hangs up every call
 * with BYE and returns within a few seconds. Statistics may be read from any
 * thread. The conference owns every room, call and mixer. */
#ifndef TUTTI_CONFERENCE_H
#define TUTTI_CONFERENCE_H

#include <stdint.h>

#include "core/core.h"

struct conference;

struct conference_stats {
	unsigned rooms;
	unsigned participants;
	uint64_t calls_total;
};

/* o must outlive the conference. -EADDRINUSE or -EINVAL (with a log line)
 * when SIP cannot listen. */
int conference_start(struct conference **out, const struct options *o);
/* BYE to every call, then stops the signalling thread and every mixer. */
void conference_stop(struct conference *c);
void conference_free(struct conference *c); /* NULL-safe, after stop */

void conference_get_stats(const struct conference *c,
			  struct conference_stats *out);
/* False once the signalling thread has stopped answering. */
bool conference_alive(const struct conference *c);

/* The versions of the libraries the focus links, for --version. */
void conference_print_versions(FILE *f);

#endif
