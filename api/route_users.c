/* route_users.c: /api/v1/users/{user}, the SIP users the registrar lets
 * REGISTER (so that dial-out can reach sip:user@bridge). PUT sets the
 * password (creating the user), DELETE forgets the user. Passwords are
 * never logged nor shown. Connection threads. */
#include "api/api_priv.h"

#include <stdio.h>
#include <string.h>

int route_users_body(json_t *j, char *password, size_t cap, char *why,
		     size_t whylen)
{
	struct field f[] = {
	    {"password", FIELD_TEXT, true, 1, (long long)cap - 1, password,
	     NULL},
	};
	return fields_parse(j, f, 1, why, whylen);
}

enum MHD_Result route_users_set(struct api_call *c)
{
	enum MHD_Result ret;
	json_t *j = body_json(c, false, &ret);
	if (!j)
		return ret;
	struct conf_req req = {.op = CONF_USER_SET};
	char why[160];
	int err = route_users_body(j, req.password, sizeof(req.password), why,
				   sizeof(why));
	json_decref(j);
	if (err)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	snprintf(req.user, sizeof(req.user), "%s", c->user);
	struct conf_reply rep;
	bool ok = api_ask(c, &req, &rep, &ret);
	memset(req.password, 0, sizeof(req.password));
	if (!ok)
		return ret;
	conference_reply_clear(&rep);
	log_info("api", "user %s set", c->user);
	return reply_empty(c, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result route_users_delete(struct api_call *c)
{
	struct conf_req req = {.op = CONF_USER_DELETE};
	snprintf(req.user, sizeof(req.user), "%s", c->user);
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	conference_reply_clear(&rep);
	log_info("api", "user %s deleted", c->user);
	return reply_empty(c, MHD_HTTP_NO_CONTENT);
}
