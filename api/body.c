/* body.c: request bodies. They are read into memory up to 64 KiB (more is
 * dropped and answered 413), must say Content-Type: application/json (else
 * 415) and must hold one JSON object (else 400) whose fields the route
 * knows (fields.c, else 400). Called from connection threads; the body
 * belongs to its struct api_call. */
#include "api/api_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void body_append(struct api_call *c, const char *data, size_t n)
{
	if (c->too_big)
		return;
	if (c->body_len + n > API_BODY_MAX_BYTES) {
		c->too_big = true;
		free(c->body);
		c->body = NULL;
		c->body_len = 0;
		return;
	}
	char *p = realloc(c->body, c->body_len + n + 1);
	if (!p) {
		c->too_big = true; /* answered 413 rather than half-read */
		return;
	}
	memcpy(p + c->body_len, data, n);
	c->body = p;
	c->body_len += n;
	c->body[c->body_len] = '\0';
}

/* "application/json", optionally followed by parameters (charset=utf-8). */
static bool is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;
	if (!ct || strncasecmp(ct, want, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

json_t *body_parse(const char *text, size_t len, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j && json_is_object(j))
		return j;
	if (j)
		snprintf(why, whylen, "the body must be a JSON object");
	else
		snprintf(why, whylen, "bad JSON at line %d: %.*s", jerr.line,
			 fields_quote_len(jerr.text, sizeof(jerr.text)),
			 jerr.text);
	json_decref(j);
	return NULL;
}

json_t *body_json(struct api_call *c, bool empty_ok, enum MHD_Result *ret)
{
	if (c->body_len == 0) {
		if (empty_ok)
			return json_object();
		*ret = reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request",
				   "a JSON object body is required", NULL);
		return NULL;
	}
	const char *ct = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
						     "Content-Type");
	if (!is_json_type(ct)) {
		*ret = reply_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
				   "unsupported_media_type",
				   "bodies must be application/json", NULL);
		return NULL;
	}
	char msg[256];
	json_t *j = body_parse(c->body, c->body_len, msg, sizeof(msg));
	if (!j)
		*ret = reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", msg,
				   NULL);
	return j;
}

bool body_fields(struct api_call *c, bool empty_ok, const struct field *f,
		 size_t n, enum MHD_Result *ret)
{
	json_t *j = body_json(c, empty_ok, ret);
	if (!j)
		return false;
	char why[160];
	int err = fields_parse(j, f, n, why, sizeof(why));
	json_decref(j);
	if (err)
		*ret = reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	return !err;
}
