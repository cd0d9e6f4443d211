/* route_users.c: /api/v1/users/{user}, the SIP users the registrar lets
 * REGISTER (so that dial-out can reach sip:user@bridge). PUT sets the
 * password (creating the user), DELETE forgets the user. Passwords are
 * never logged nor shown. Connection threads. */
#include "api/api_priv.h"

#include <stdio.h>
#include <string.h>

enum MHD_Result route_users_set(struct api_call *c)
{
	struct conf_req req = {.op = CONF_USER_SET};
	const struct field f[] = {
	    {"password", FIELD_TEXT, true, 1, sizeof(req.password) - 1,
	     req.password, NULL},
	};
	enum MHD_Result ret;
	bool ok = body_fields(c, false, f, 1, &ret);
	if (ok) {
		snprintf(req.user, sizeof(req.user), "%s", c->user);
		ok = api_ask_no_content(c, &req, &ret);
	}
	explicit_bzero(req.password, sizeof(req.password));
	if (ok)
		log_info("api", "user=%s set", c->user);
	return ret;
}

enum MHD_Result route_users_delete(struct api_call *c)
{
	struct conf_req req = {.op = CONF_USER_DELETE};
	snprintf(req.user, sizeof(req.user), "%s", c->user);
	enum MHD_Result ret;
	if (api_ask_no_content(c, &req, &ret))
		log_info("api", "user=%s deleted", c->user);
	return ret;
}
