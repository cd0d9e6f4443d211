/* reply.c: every HTTP answer the API gives, and the count of them.
 *
 * Errors follow SPEC section 5: {"error":{"code","message"}}. One function,
 * reply_conf_err(), translates the conference's negative errno codes into
 * HTTP statuses (the table is in docs/api.md). Each queued answer adds one
 * to its status code's counter, which /metrics reports as
 * tutti_api_requests_total{code="..."}. Called from connection threads. */
#include "api/api_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum MHD_Result reply_queue(struct api_call *c, unsigned status,
			    struct MHD_Response *r)
{
	if (!r)
		return MHD_NO;
	enum MHD_Result ret = MHD_queue_response(c->conn, status, r);
	MHD_destroy_response(r);
	if (status < API_STATUS_MAX)
		atomic_fetch_add(&c->a->status_count[status], 1);
	log_debug("api", "%s %s -> %u", c->method, c->url, status);
	return ret;
}

enum MHD_Result reply_text(struct api_call *c, unsigned status,
			   const char *ctype, char *text, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	return reply_queue(c, status, r);
}

enum MHD_Result reply_json(struct api_call *c, unsigned status, json_t *body,
			   const char *hname, const char *hval)
{
	char *text =
	    body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	json_decref(body);
	if (!text)
		return MHD_NO;
	size_t len = strlen(text);
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (hname)
		MHD_add_response_header(r, hname, hval);
	return reply_queue(c, status, r);
}

enum MHD_Result reply_empty(struct api_call *c, unsigned status)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	return reply_queue(c, status, r);
}

enum MHD_Result reply_error(struct api_call *c, unsigned status,
			    const char *code, const char *message,
			    const char *allow)
{
	json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", code,
				 "message", message);
	return reply_json(c, status, body, allow ? "Allow" : NULL, allow);
}

struct err_map {
	int err;
	unsigned status;
	const char *code, *message;
};

static const struct err_map err_map[] = {
    {-ENOENT, MHD_HTTP_NOT_FOUND, "not_found", "no such resource"},
    {-EEXIST, MHD_HTTP_CONFLICT, "conflict", "already exists"},
    {-EINVAL, MHD_HTTP_BAD_REQUEST, "bad_request", "invalid request"},
    {-EPERM, MHD_HTTP_CONFLICT, "locked", "the room is locked"},
    {-EBUSY, MHD_HTTP_CONFLICT, "full", "the room is full"},
    {-ENOSPC, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
     "no resources left (media ports)"},
    {-ESHUTDOWN, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
     "the bridge is stopping"},
    {-ETIMEDOUT, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
     "the signalling thread did not answer in time"},
    {-EIO, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "the room store failed"},
    {-ENOTSUP, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented",
     "not available in this version"},
    {-ENOSYS, MHD_HTTP_NOT_IMPLEMENTED, "not_implemented",
     "not available in this version"},
};

enum MHD_Result reply_conf_err(struct api_call *c, int err, const char *message)
{
	const struct err_map *m = NULL;
	for (size_t i = 0; i < sizeof(err_map) / sizeof(err_map[0]); i++)
		if (err_map[i].err == err)
			m = &err_map[i];
	if (!m) {
		log_warn("api", "%s %s: unexpected conference error %d",
			 c->method, c->url, err);
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "internal", "internal error", NULL);
	}
	const char *text = message && message[0] ? message : m->message;
	return reply_error(c, m->status, m->code, text, NULL);
}

bool api_ask(struct api_call *c, struct conf_req *req, struct conf_reply *rep,
	     enum MHD_Result *ret)
{
	memset(rep, 0, sizeof(*rep));
	int err = conference_request(c->a->conf, req, rep, API_CONF_TIMEOUT_MS);
	if (err == 0)
		return true;
	*ret = reply_conf_err(c, err, rep->message);
	conference_reply_clear(rep);
	return false;
}

bool api_ask_no_content(struct api_call *c, struct conf_req *req,
			enum MHD_Result *ret)
{
	struct conf_reply rep;
	if (!api_ask(c, req, &rep, ret))
		return false;
	conference_reply_clear(&rep);
	*ret = reply_empty(c, MHD_HTTP_NO_CONTENT);
	return true;
}
