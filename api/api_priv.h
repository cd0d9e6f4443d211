/* api_priv.h: what the files of api/ share, and nothing else includes.
 *
 * libmicrohttpd runs one thread per connection. A request is read into a
 * struct api_call (one per request, freed when microhttpd reports it
 * complete), routed once its headers are in (route.c), and answered by a
 * route_fn once its body is in. Handlers never touch rooms: they ask the
 * signalling thread with conference_request() and turn the plain C reply
 * into JSON (shape.c). Every answer goes through reply.c, which counts it
 * per status code for /metrics. */
#ifndef TUTTI_API_PRIV_H
#define TUTTI_API_PRIV_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

#define API_BODY_MAX_BYTES	(64 * 1024)
#define API_BODY_DISCARD_BYTES	(1024 * 1024) /* read and dropped: 413 */
#define API_CONF_TIMEOUT_MS	5000u /* wait for the signalling thread */
#define API_STATUS_MAX		600
#define API_HEALTH_MISSED_TICKS 5 /* more since the last /healthz: failing */

struct api {
	struct MHD_Daemon *daemon;
	struct conference *conf;
	char token[256]; /* never logged */
	atomic_bool stopping;
	atomic_uint_fast64_t status_count[API_STATUS_MAX];
	atomic_uint_fast64_t health_missed_ticks; /* UINT64_MAX: no baseline */
};

struct api_call;
typedef enum MHD_Result route_fn(struct api_call *c);

/* One request: its route, path parameters and body. */
struct api_call {
	struct api *a;
	struct MHD_Connection *conn;
	const char *method; /* owned by microhttpd, valid for the request */
	const char *url;
	route_fn *fn; /* chosen once the headers are in */
	char room[CONF_NAME_MAX + 1];
	char user[CONF_NAME_MAX + 1];
	uint32_t part_id;
	char *body; /* malloc'd, NUL-terminated, at most API_BODY_MAX_BYTES */
	size_t body_len;
	size_t body_seen; /* bytes received, kept or not */
	bool too_big;
};

/* ---- route.c: the table of paths and methods ---------------------------- */

/* Fills c->fn and the path parameters, or queues 404/405 and sets *done. */
enum MHD_Result route_match(struct api_call *c, bool *done);

/* ---- reply.c: every answer, counted per status code --------------------- */

/* Queues r (which it destroys) with status. */
enum MHD_Result reply_queue(struct api_call *c, unsigned status,
			    struct MHD_Response *r);
/* Steals body. hname/hval: one extra header, or NULL. */
enum MHD_Result reply_json(struct api_call *c, unsigned status, json_t *body,
			   const char *hname, const char *hval);
enum MHD_Result reply_empty(struct api_call *c, unsigned status);
/* {"error":{"code","message"}}; allow: the Allow header for 405, or NULL. */
enum MHD_Result reply_error(struct api_call *c, unsigned status,
			    const char *code, const char *message,
			    const char *allow);
/* Maps conf_reply.err (a negative errno) to a status and an error code. */
enum MHD_Result reply_conf_err(struct api_call *c, int err,
			       const char *message);
/* Steals text (malloc'd). */
enum MHD_Result reply_text(struct api_call *c, unsigned status,
			   const char *ctype, char *text, size_t len);

/* ---- fields.c: strict validation of JSON objects ------------------------ */

enum field_type {
	FIELD_BOOL,   /* bool *out */
	FIELD_INT,    /* long long *out, min..max */
	FIELD_NAME,   /* char out[CONF_NAME_MAX + 1], [A-Za-z0-9._-]{1,64} */
	FIELD_PIN,    /* char out[CONF_PIN_MAX + 1], 0..32 digits */
	FIELD_SIPURI, /* char out[CONF_URI_MAX], sip: or sips: */
	FIELD_TEXT,   /* char out[max + 1], 1..max bytes */
	FIELD_CHOICE, /* struct field_choice *out: one of its names */
};

/* What a FIELD_CHOICE field points out to: the names it accepts
 * (NULL-terminated) and, once parsed, the index of the one given. */
struct field_choice {
	const char *const *names;
	int index;
};

struct field {
	const char *key;
	enum field_type type;
	bool required;
	long long min, max;
	void *out;
	bool *present; /* may be NULL */
};

/* 0, or -EINVAL with why filled: not an object, unknown key, wrong type,
 * out of range, missing. */
int fields_parse(json_t *obj, const struct field *f, size_t n, char *why,
		 size_t whylen);
bool fields_name_ok(const char *s);
/* The length of the longest prefix of s, at most max bytes, that is valid
 * UTF-8, for quoting client text in a message: a 400 whose message is not
 * UTF-8 cannot be built (jansson refuses it) and the client would get no
 * answer at all (found by fuzz/fuzz_api_body.c). */
int fields_quote_len(const char *s, size_t max);

/* ---- body.c: reading and checking request bodies ------------------------ */

void body_append(struct api_call *c, const char *data, size_t n);
/* The body as a JSON object, or NULL with 400/415 queued in *ret. An empty
 * body counts as {} when empty_ok. The caller decrefs. */
json_t *body_json(struct api_call *c, bool empty_ok, enum MHD_Result *ret);
/* The JSON object in text[len], or NULL with the reason in why (which a
 * 400's JSON message can carry). The caller decrefs. Any thread. */
json_t *body_parse(const char *text, size_t len, char *why, size_t whylen);
/* The body read into the n fields of f (fields_parse): true, or false with
 * 400/415 queued in *ret. An empty body counts as {} when empty_ok. */
bool body_fields(struct api_call *c, bool empty_ok, const struct field *f,
		 size_t n, enum MHD_Result *ret);

/* ---- shape.c: conference structs as JSON -------------------------------- */

json_t *shape_time(int64_t unix_ms); /* ISO 8601 UTC, null for 0 */
json_t *shape_room(const struct conf_room_info *r);
json_t *shape_part(const struct conf_part_info *p);
json_t *shape_event(const struct conf_event *e);

/* ---- routes ------------------------------------------------------------- */

/* Asks the conference; on failure queues the mapped error into *ret and
 * returns false (rep is then cleared). */
bool api_ask(struct api_call *c, struct conf_req *req, struct conf_reply *rep,
	     enum MHD_Result *ret);
/* Asks the conference for what answers nothing but success: true with 204
 * queued in *ret, or false with the mapped error queued. */
bool api_ask_no_content(struct api_call *c, struct conf_req *req,
			enum MHD_Result *ret);

enum MHD_Result route_rooms_list(struct api_call *c);
enum MHD_Result route_rooms_create(struct api_call *c);
enum MHD_Result route_rooms_get(struct api_call *c);
enum MHD_Result route_rooms_update(struct api_call *c);
enum MHD_Result route_rooms_delete(struct api_call *c);
enum MHD_Result route_rooms_rec_start(struct api_call *c);
enum MHD_Result route_rooms_rec_stop(struct api_call *c);

enum MHD_Result route_parts_list(struct api_call *c);
enum MHD_Result route_parts_get(struct api_call *c);
enum MHD_Result route_parts_dial(struct api_call *c);
enum MHD_Result route_parts_update(struct api_call *c);
enum MHD_Result route_parts_kick(struct api_call *c);
enum MHD_Result route_parts_mute_all(struct api_call *c);

enum MHD_Result route_users_set(struct api_call *c);

/* The field table of each route's body, as the routes use it and
 * fuzz/fuzz_api_body.c tries it: 0, or -EINVAL with why filled
 * (fields_parse). Pure functions, any thread. */
int route_rooms_spec(json_t *j, struct conf_room_spec *s, bool with_name,
		     char *why, size_t whylen);
int route_parts_dial_body(json_t *j, char *uri /* [CONF_URI_MAX] */, char *why,
			  size_t whylen);
int route_parts_update_body(json_t *j, struct conf_part_spec *s, char *why,
			    size_t whylen);
/* muted defaults to true. */
int route_parts_mute_body(json_t *j, struct conf_part_spec *s, char *why,
			  size_t whylen);
int route_users_body(json_t *j, char *password, size_t cap, char *why,
		     size_t whylen);
enum MHD_Result route_users_delete(struct api_call *c);

enum MHD_Result health_get(struct api_call *c);	 /* health.c */
enum MHD_Result metrics_get(struct api_call *c); /* metrics.c */
enum MHD_Result sse_get(struct api_call *c);	 /* sse.c */

#endif
