/* api.c: the HTTP server and its routes.
 *
 * libmicrohttpd runs its own thread (MHD_USE_INTERNAL_POLLING_THREAD);
 * handlers answer from the conference's atomic figures and never touch
 * rooms. Errors follow SPEC section 5: {"error":{"code","message"}}. */
#include "api/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct api {
	struct MHD_Daemon *daemon;
	struct conference *conf;
	char token[256];
};

/* Constant time, so that the token cannot be guessed byte by byte. */
static bool token_ok(const struct api *a, struct MHD_Connection *conn)
{
	if (!a->token[0])
		return true;
	const char *h =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
	if (!h || strncmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	size_t n = strlen(a->token), m = strlen(h);
	unsigned char diff = (unsigned char)(n != m);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(a->token[i] ^ (i < m ? h[i] : 0));
	return diff == 0;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status,
				 json_t *body, const char *allow)
{
	char *text = json_dumps(body, JSON_COMPACT);
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
	if (allow)
		MHD_add_response_header(r, "Allow", allow);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
				  const char *code, const char *message,
				  const char *allow)
{
	return send_json(conn, status,
			 json_pack("{s:{s:s,s:s}}", "error", "code", code,
				   "message", message),
			 allow);
}

static enum MHD_Result healthz(struct api *a, struct MHD_Connection *conn)
{
	bool ok = conference_alive(a->conf);
	return send_json(conn, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			 json_pack("{s:s}", "status", ok ? "ok" : "down"),
			 NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	(void)version;
	(void)upload_data;
	struct api *a = cls;
	if (*req_cls == NULL) {
		*req_cls = a; /* first call: headers only */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* no route here takes a body yet */
		return MHD_YES;
	}
	if (strcmp(url, "/healthz") != 0 && !token_ok(a, conn)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
		    0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
		enum MHD_Result ret =
		    MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/healthz") == 0) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "method_not_allowed", "use GET",
					  "GET, HEAD");
		return healthz(a, conn);
	}
	return send_error(conn, MHD_HTTP_NOT_FOUND, "not_found",
			  "no such resource", NULL);
}

/* Without a token, only loopback clients may use the API (SPEC 1). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
				 socklen_t len)
{
	(void)cls;
	(void)len;
	if (addr->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)addr)
				  ->sin_addr.s_addr) >>
			24) == 127
			   ? MHD_YES
			   : MHD_NO;
	if (addr->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			   &((const struct sockaddr_in6 *)addr)->sin6_addr)
			   ? MHD_YES
			   : MHD_NO;
	return MHD_NO;
}

int api_start(struct api **out, const struct options *o,
	      struct conference *conf)
{
	struct api *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->conf = conf;
	snprintf(a->token, sizeof(a->token), "%s", o->api_token);

	struct sockaddr_storage ss = {0};
	bool v6 = strchr(o->http_host, ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->http_port);
		inet_pton(AF_INET6, o->http_host, &s6->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->http_port);
		inet_pton(AF_INET, o->http_host, &s4->sin_addr);
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	bool tokenless = o->api_token[0] == '\0';
	a->daemon = MHD_start_daemon(
	    flags, o->http_port, tokenless ? on_accept : NULL, NULL, on_request,
	    a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_CONNECTION_TIMEOUT,
	    30u, MHD_OPTION_END);
	if (!a->daemon) {
		free(a);
		log_error("api", "cannot listen on %s", o->http_listen);
		return -EADDRINUSE;
	}
	log_info("api", "listening on http://%s", o->http_listen);
	*out = a;
	return 0;
}

void api_stop(struct api *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->daemon);
	free(a);
}
