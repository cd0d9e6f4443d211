/* route.c: the table of paths and methods (SPEC section 5, docs/api.md).
 *
 * A path is matched segment by segment; "{room}", "{id}" and "{user}"
 * capture one segment each. An unknown path gets 404, a known path with
 * another method 405 with Allow listing that path's methods (HEAD is
 * served wherever GET is). A {room} or {id} that cannot name anything
 * (bad characters, too long, not a number) is 404 like a missing one; a bad
 * {user} is 400, since PUT would create it. Any thread; the table is
 * constant. */
#include "api/api_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct route_method {
	const char *method;
	route_fn *fn;
};

struct route {
	const char *path;
	const char *allow;
	struct route_method m[3];
};

static const struct route routes[] = {
    {"/healthz", "GET, HEAD", {{"GET", health_get}}},
    {"/metrics", "GET, HEAD", {{"GET", metrics_get}}},
    {"/api/v1/events", "GET, HEAD", {{"GET", sse_get}}},
    {"/api/v1/rooms",
     "GET, HEAD, POST",
     {{"GET", route_rooms_list}, {"POST", route_rooms_create}}},
    {"/api/v1/rooms/{room}",
     "GET, HEAD, PATCH, DELETE",
     {{"GET", route_rooms_get},
      {"PATCH", route_rooms_update},
      {"DELETE", route_rooms_delete}}},
    {"/api/v1/rooms/{room}/participants",
     "GET, HEAD, POST",
     {{"GET", route_parts_list}, {"POST", route_parts_dial}}},
    {"/api/v1/rooms/{room}/participants/{id}",
     "GET, HEAD, PATCH, DELETE",
     {{"GET", route_parts_get},
      {"PATCH", route_parts_update},
      {"DELETE", route_parts_kick}}},
    {"/api/v1/rooms/{room}/mute", "POST", {{"POST", route_parts_mute_all}}},
    {"/api/v1/rooms/{room}/recording",
     "POST, DELETE",
     {{"POST", route_rooms_rec_start}, {"DELETE", route_rooms_rec_stop}}},
    {"/api/v1/users/{user}",
     "PUT, DELETE",
     {{"PUT", route_users_set}, {"DELETE", route_users_delete}}},
};

/* Copies the segment at *p (up to '/' or the end) and advances *p. */
static size_t segment(const char **p, char *out, size_t cap)
{
	const char *s = *p;
	size_t n = strcspn(s, "/");
	if (out && cap) {
		size_t k = n < cap - 1 ? n : cap - 1;
		memcpy(out, s, k);
		out[k] = '\0';
	}
	*p = s + n;
	return n;
}

/* True when url fits pattern; the captures land in c. bad names a capture
 * that cannot be valid. */
static bool path_fits(const char *pattern, const char *url, struct api_call *c,
		      const char **bad)
{
	*bad = NULL;
	while (*pattern && *url) {
		if (*pattern != '/' || *url != '/')
			return false;
		pattern++;
		url++;
		char want[32], got[CONF_NAME_MAX + 1];
		segment(&pattern, want, sizeof(want));
		size_t n = segment(&url, got, sizeof(got));
		if (n == 0)
			return false;
		if (want[0] != '{') {
			if (strlen(want) != n || strcmp(want, got) != 0)
				return false;
			continue;
		}
		bool ok = n <= CONF_NAME_MAX && fields_name_ok(got);
		if (strcmp(want, "{id}") == 0) {
			char *end;
			unsigned long v = strtoul(got, &end, 10);
			ok = got[0] >= '0' && got[0] <= '9' && !*end &&
			     n <= 10 && v <= UINT32_MAX;
			c->part_id = (uint32_t)v;
		} else if (strcmp(want, "{user}") == 0) {
			snprintf(c->user, sizeof(c->user), "%s", got);
		} else {
			snprintf(c->room, sizeof(c->room), "%s", got);
		}
		if (!ok && !*bad)
			*bad = strcmp(want, "{room}") == 0 ? "room"
			       : strcmp(want, "{id}") == 0 ? "participant"
							   : "user";
	}
	return !*pattern && !*url;
}

enum MHD_Result route_match(struct api_call *c, bool *done)
{
	*done = true;
	const struct route *r = NULL;
	const char *bad = NULL;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !r; i++)
		if (path_fits(routes[i].path, c->url, c, &bad))
			r = &routes[i];
	if (!r)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "not_found",
				   "no such path", NULL);
	const char *m = strcmp(c->method, "HEAD") == 0 ? "GET" : c->method;
	for (size_t i = 0; i < 3 && r->m[i].method; i++)
		if (strcmp(r->m[i].method, m) == 0)
			c->fn = r->m[i].fn;
	if (!c->fn)
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method_not_allowed",
				   "method not allowed on this path", r->allow);
	if (bad && strcmp(bad, "user") == 0)
		return reply_error(
		    c, MHD_HTTP_BAD_REQUEST, "bad_request",
		    "user names are 1 to 64 of A-Z a-z 0-9 . _ -", NULL);
	if (bad) {
		char msg[64];
		snprintf(msg, sizeof(msg), "no such %s", bad);
		return reply_error(c, MHD_HTTP_NOT_FOUND, "not_found", msg,
				   NULL);
	}
	*done = false;
	return MHD_YES;
}
