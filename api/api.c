/* api.c: the HTTP daemon, bearer authentication and the life of a request.
 *
 * libmicrohttpd runs one thread per connection
 * (MHD_USE_THREAD_PER_CONNECTION), so that a Server-Sent Events stream,
 * which blocks in its content reader, never stalls another client. A
 * request is checked as soon as its headers are in: token (401), path
 * (404), method (405), a declared size past 1 MiB (413 at once); then its
 * body is read into memory (at most 64 KiB; up to 1 MiB more is read and
 * dropped, so that the client reads its 413 rather than a reset) and its
 * handler runs. api_stop() sets a flag the
 * event streams poll at least once a second, then stops the daemon. */
#include "api/api_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static enum MHD_Result unauthorized(struct api_call *c)
{
	json_t *body =
	    json_pack("{s:{s:s,s:s}}", "error", "code", "unauthorized",
		      "message", "missing or wrong bearer token");
	return reply_json(c, MHD_HTTP_UNAUTHORIZED, body, "WWW-Authenticate",
			  "Bearer");
}

/* The first call of a request: headers only. Answers at once when the
 * request cannot succeed, so that its body is never read. */
static enum MHD_Result on_headers(struct api_call *c, bool *done)
{
	*done = true;
	if (strcmp(c->url, "/healthz") != 0 && !token_ok(c->a, c->conn))
		return unauthorized(c);
	enum MHD_Result ret = route_match(c, done);
	if (*done)
		return ret;
	const char *len = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
						      "Content-Length");
	if (len && strtoull(len, NULL, 10) > API_BODY_DISCARD_BYTES) {
		*done = true;
		return reply_error(
		    c, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		    "request bodies are limited to 64 KiB", NULL);
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	(void)version;
	struct api_call *c = *req_cls;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		*req_cls = c;
		c->a = cls;
		c->conn = conn;
		c->url = url;
		c->method = method;
		bool done = false;
		enum MHD_Result ret = on_headers(c, &done);
		if (done)
			c->fn = NULL;
		return ret;
	}
	if (!c->fn)
		return MHD_YES; /* answered already; discard the rest */
	if (*upload_size) {
		c->body_seen += *upload_size;
		if (c->body_seen > API_BODY_DISCARD_BYTES)
			return MHD_NO; /* a flood: close the connection */
		body_append(c, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	route_fn *fn = c->fn;
	c->fn = NULL;
	if (c->too_big)
		return reply_error(
		    c, MHD_HTTP_CONTENT_TOO_LARGE, "payload_too_large",
		    "request bodies are limited to 64 KiB", NULL);
	return fn(c);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)conn;
	(void)why;
	struct api_call *c = *req_cls;
	if (!c)
		return;
	if (c->body)
		explicit_bzero(c->body, c->body_len); /* may hold a password */
	free(c->body);
	free(c);
	*req_cls = NULL;
}

/* Without a token, only loopback clients may use the API (SPEC 1). */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
				 socklen_t len)
{
	(void)cls;
	(void)len;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)addr;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127 ? MHD_YES
								 : MHD_NO;
	}
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)addr;
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ? MHD_YES : MHD_NO;
	}
	return MHD_NO;
}

static bool listen_addr(const struct options *o, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(o->http_host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(o->http_port);
		inet_pton(AF_INET6, o->http_host, &s6->sin6_addr);
		return true;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(o->http_port);
	inet_pton(AF_INET, o->http_host, &s4->sin_addr);
	return false;
}

int api_start(struct api **out, const struct options *o,
	      struct conference *conf)
{
	struct api *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->conf = conf;
	snprintf(a->token, sizeof(a->token), "%s", o->api_token);
	atomic_init(&a->stopping, false);
	atomic_init(&a->health_missed_ticks, UINT64_MAX);

	struct sockaddr_storage ss;
	bool v6 = listen_addr(o, &ss);
	/* poll(), not select(): with a thousand calls (two sockets each) an
	 * accepted connection's fd is past FD_SETSIZE, which select() cannot
	 * watch, and microhttpd would reset every connection. */
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	bool tokenless = o->api_token[0] == '\0';
	a->daemon = MHD_start_daemon(
	    flags, o->http_port, tokenless ? on_accept : NULL, NULL, on_request,
	    a, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, a,
	    MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_CONNECTION_TIMEOUT,
	    30u, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_END);
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
	atomic_store(&a->stopping, true);
	MHD_stop_daemon(a->daemon);
	free(a);
}
