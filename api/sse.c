/* sse.c: GET /api/v1/events, the conference's changes as Server-Sent
 * Events (text/event-stream).
 *
 * Each event is "id: N\nevent: participant.joined\ndata: {...}\n\n", with
 * the ids the conference gives (1, 2, 3... for the life of the process). A
 * client that reconnects with Last-Event-ID: N (or ?last_event_id=N, for
 * browsers' first connect) gets exactly the events after N. When the
 * bounded ring no longer holds the event after N, the stream first sends
 * "event: gap" (no id) with data {"last_event_id":N,"next_id":M}, then
 * resumes at M. Without either, the stream starts with the next change.
 * A ": keep-alive" comment goes out after 15 s of silence.
 *
 * microhttpd gives each connection its own thread, and the content reader
 * below blocks in conference_events_wait() for at most 1 s at a time, so
 * that it notices api_stop() and the conference's end; the stream ends
 * cleanly (the final chunk) when the conference stops. The reader owns its
 * struct sse, freed by microhttpd through sse_free(). */
#include "api/api_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_BATCH	  16
#define SSE_WAIT_MS	  1000u
#define SSE_KEEPALIVE_NS  (15ull * 1000000000ull)
#define SSE_BLOCK_BYTES	  (16 * 1024)
#define SSE_PENDING_BYTES (SSE_BATCH * 4096)

struct sse {
	struct api *a;
	uint64_t last_id;
	uint64_t last_send_ns;
	char *out; /* what is formatted and not yet handed to microhttpd */
	size_t out_len, out_off, out_cap;
	struct conf_event ev[SSE_BATCH];
};

static void put(struct sse *s, const char *text, size_t n)
{
	if (s->out_len + n > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : SSE_PENDING_BYTES;
		while (cap < s->out_len + n)
			cap *= 2;
		char *p = realloc(s->out, cap);
		if (!p)
			return; /* dropped; the client sees a gap in ids */
		s->out = p;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, text, n);
	s->out_len += n;
}

static void put_str(struct sse *s, const char *text)
{
	put(s, text, strlen(text));
}

static void put_event(struct sse *s, const struct conf_event *e)
{
	json_t *data = shape_event(e);
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	char head[128];
	int n =
	    snprintf(head, sizeof(head),
		     "id: %llu\nevent: %s\ndata: ", (unsigned long long)e->id,
		     conference_event_name(e->kind));
	put(s, head, (size_t)n);
	if (text)
		put(s, text, strlen(text));
	else
		put(s, "{}", 2);
	put(s, "\n\n", 2);
	free(text);
}

static void put_gap(struct sse *s, uint64_t after, uint64_t next)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf),
			 "event: gap\ndata: {\"last_event_id\":%llu,"
			 "\"next_id\":%llu}\n\n",
			 (unsigned long long)after, (unsigned long long)next);
	put(s, buf, (size_t)n);
}

/* Waits for events, a keep-alive or the end. False at the end. */
static bool fill(struct sse *s)
{
	while (!atomic_load(&s->a->stopping)) {
		bool gap = false;
		size_t n = conference_events_wait(s->a->conf, s->last_id, s->ev,
						  SSE_BATCH, SSE_WAIT_MS, &gap);
		if (gap)
			put_gap(s, s->last_id,
				n ? s->ev[0].id : s->last_id + 1);
		for (size_t i = 0; i < n; i++)
			put_event(s, &s->ev[i]);
		if (n)
			s->last_id = s->ev[n - 1].id;
		uint64_t now = mono_now_ns();
		if (!s->out_len && now - s->last_send_ns >= SSE_KEEPALIVE_NS)
			put_str(s, ": keep-alive\n\n");
		if (s->out_len) {
			s->last_send_ns = now;
			return true;
		}
		if (n == 0 && !gap && !conference_alive(s->a->conf))
			return false;
	}
	return false;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct sse *s = cls;
	if (s->out_off == s->out_len) {
		s->out_off = s->out_len = 0;
		if (!fill(s))
			return MHD_CONTENT_READER_END_OF_STREAM;
	}
	size_t n = s->out_len - s->out_off;
	if (n > max)
		n = max;
	memcpy(buf, s->out + s->out_off, n);
	s->out_off += n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse *s = cls;
	free(s->out);
	free(s);
}

/* Where the stream starts: -EINVAL for a malformed Last-Event-ID. */
static int start_id(struct api_call *c, uint64_t *out)
{
	const char *v = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND,
						    "Last-Event-ID");
	if (!v)
		v = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND,
						"last_event_id");
	if (!v || !v[0]) {
		*out = conference_events_last_id(c->a->conf);
		return 0;
	}
	unsigned long n;
	if (netaddr_parse_ulong(v, ULONG_MAX, &n))
		return -EINVAL;
	*out = n;
	return 0;
}

enum MHD_Result sse_get(struct api_call *c)
{
	uint64_t from;
	if (start_id(c, &from))
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request",
				   "Last-Event-ID must be a decimal event id",
				   NULL);
	struct sse *s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->a = c->a;
	s->last_id = from;
	s->last_send_ns = mono_now_ns();
	/* A first comment, so that the client sees the headers at once. */
	put_str(s, ": tutti events\nretry: 2000\n\n");
	struct MHD_Response *r = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, SSE_BLOCK_BYTES, sse_read, s, sse_free);
	if (!r) {
		sse_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	/* No idle timeout: the stream is quiet between keep-alives. */
	MHD_set_connection_option(c->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	log_debug("api", "event stream from id %llu", (unsigned long long)from);
	return reply_queue(c, MHD_HTTP_OK, r);
}
