/* ctl.h: what the control handlers (ctl.c, ctl_rooms.c, ctl_parts.c)
 * share. Signalling thread only; each handler fills the reply it is given
 * (err and message on failure) and never waits for the caller. */
#ifndef TUTTI_CONFERENCE_CTL_H
#define TUTTI_CONFERENCE_CTL_H

#include "conference/focus.h"

void ctl_rooms_handle(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep);
void ctl_parts_handle(struct conference *c, const struct conf_req *req,
		      struct conf_reply *rep);

/* Sets err and a message (printf-style) in rep. */
void ctl_fail(struct conf_reply *rep, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The live room named name, or NULL with -ENOENT in rep. */
struct room *ctl_find_room(struct conference *c, const char *name,
			   struct conf_reply *rep);
/* rep->parts: the room's participants (not those leaving), by id. */
int ctl_list_parts(const struct room *r, struct conf_reply *rep);

#endif
