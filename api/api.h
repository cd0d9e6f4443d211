/* api.h: the HTTP control API (libmicrohttpd). Handlers never touch room
 * state: they read the conference's thread-safe figures or, for changes,
 * ask the signalling thread. main() starts and stops it. */
#ifndef TUTTI_API_H
#define TUTTI_API_H

#include "conference/conference.h"
#include "core/core.h"

struct api;

/* Listens on o->http_host:o->http_port. -EADDRINUSE/-EINVAL on failure.
 * conf must outlive the API. */
int api_start(struct api **out, const struct options *o,
	      struct conference *conf);
void api_stop(struct api *a); /* NULL-safe; frees */

#endif
