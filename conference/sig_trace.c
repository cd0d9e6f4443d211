/* sig_trace.c: Sofia-SIP's own log, and the SIP messages it traces, into
 * our log.
 *
 * Sofia-SIP writes its log through su_log, in fragments (a line may come in
 * several calls, and one call may hold several lines), to one function we
 * give it. With --sip-trace (TPTAG_LOG) or TPORT_LOG=1 in the environment,
 * its transport layer logs every message it sends or receives there too,
 * as a stamp line ("recv 431 bytes from udp/[127.0.0.1]:5070 at
 * 10:00:00.000000:"), a dashed separator, the message's lines indented by
 * three spaces, and a closing separator. We cut the fragments into lines
 * and take such a block whole: its lines go out under the "trace"
 * subsystem at info, in one write, headed by the stamp without Sofia's
 * clock (our log has its own) and with the message's Call-ID as call=, so
 * that grep call=X finds a call's messages next to our own lines about it.
 * Every other line is Sofia-SIP's own, logged under "sofia" at debug.
 *
 * Sofia-SIP logs from the signalling thread, but su_log may be called from
 * any thread, so the state is behind a mutex. Buffers are static: a
 * message beyond TRACE_MAX_BYTES is cut, with a mark. */
#include "conference/sig.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_log.h>

#define TRACE_MAX_BYTES (64 * 1024)
#define TRACE_CUT_MARK	"  [... cut]\n"
#define LINE_MAX_BYTES	4096

static struct {
	pthread_mutex_t lock;
	char line[LINE_MAX_BYTES]; /* the line being put together */
	size_t line_len;
	bool in_msg; /* after a stamp, until the closing separator */
	bool opened; /* the separator after the stamp has been seen */
	bool cut;    /* the message did not fit */
	char head[160];
	char text[TRACE_MAX_BYTES];
	size_t text_len;
	char out[TRACE_MAX_BYTES + 512]; /* head, call=, then text */
} tr = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* "recv N bytes from PROTO/[ADDR]:PORT at HH:MM:SS.UUUUUU:" or "send N
 * bytes to ...": the start of a traced message. */
static bool is_stamp(const char *s)
{
	return (strncmp(s, "recv ", 5) == 0 || strncmp(s, "send ", 5) == 0) &&
	       (strstr(s, " bytes from ") || strstr(s, " bytes to "));
}

static bool is_separator(const char *s)
{
	s += strspn(s, " ");
	return strlen(s) >= 20 && strspn(s, "-") == strlen(s);
}

/* The Call-ID header's value (or its compact form i:), NULL if none. */
static const char *find_call_id(const char *text, size_t *len)
{
	for (const char *p = text; *p;) {
		const char *v = NULL;
		size_t n;

		p += strspn(p, " "); /* our indentation */
		n = strcspn(p, "\n");
		if (n == 0)
			break; /* the blank line: the body follows */
		if (strncasecmp(p, "Call-ID:", 8) == 0)
			v = p + 8;
		else if (strncasecmp(p, "i:", 2) == 0)
			v = p + 2;
		if (v) {
			v += strspn(v, " \t");
			*len = strcspn(v, " \t\r\n");
			return *len ? v : NULL;
		}
		p += n + (p[n] == '\n');
	}
	return NULL;
}

static void start_msg(const char *stamp)
{
	const char *at = strstr(stamp, " at ");
	size_t n = at ? (size_t)(at - stamp) : strlen(stamp);

	if (n >= sizeof(tr.head))
		n = sizeof(tr.head) - 1;
	memcpy(tr.head, stamp, n);
	tr.head[n] = '\0';
	tr.in_msg = true;
	tr.opened = false;
	tr.cut = false;
	tr.text_len = 0;
	tr.text[0] = '\0';
}

static void add_msg_line(const char *s)
{
	size_t n;

	if (strncmp(s, "   ", 3) == 0)
		s += 3; /* Sofia-SIP's indentation, ours is two spaces */
	n = strlen(s);
	if (tr.cut || tr.text_len + n + 4 > sizeof(tr.text)) {
		tr.cut = true;
		return;
	}
	memcpy(tr.text + tr.text_len, "  ", 2);
	memcpy(tr.text + tr.text_len + 2, s, n);
	tr.text_len += n + 2;
	tr.text[tr.text_len++] = '\n';
	tr.text[tr.text_len] = '\0';
}

static void end_msg(void)
{
	size_t cid_len = 0;
	const char *cid = find_call_id(tr.text, &cid_len);
	int n = snprintf(tr.out, sizeof(tr.out), "%s%s%.*s\n", tr.head,
			 cid ? " call=" : "", cid ? (int)cid_len : 0,
			 cid ? cid : "");

	tr.in_msg = false;
	if (n < 0 || (size_t)n >= sizeof(tr.out) - sizeof(tr.text))
		return;
	memcpy(tr.out + n, tr.text, tr.text_len);
	n += (int)tr.text_len;
	if (tr.cut) {
		memcpy(tr.out + n, TRACE_CUT_MARK, strlen(TRACE_CUT_MARK));
		n += (int)strlen(TRACE_CUT_MARK);
	}
	log_emit_text(LL_INFO, "trace", tr.out, (size_t)n);
}

/* Lines of a message are indented, so a stamp inside one means its
 * closing separator was lost: that message ends there. */
static void take_line(const char *s)
{
	if (is_stamp(s)) {
		if (tr.in_msg)
			end_msg();
		start_msg(s);
	} else if (!tr.in_msg) {
		if (*s)
			log_debug("sofia", "%s", s);
	} else if (is_separator(s)) {
		if (tr.opened)
			end_msg();
		tr.opened = true;
	} else {
		add_msg_line(s);
	}
}

void sig_trace_feed(const char *frag)
{
	pthread_mutex_lock(&tr.lock);
	for (const char *p = frag; p && *p;) {
		size_t n = strcspn(p, "\n");
		size_t room = sizeof(tr.line) - 1 - tr.line_len;

		memcpy(tr.line + tr.line_len, p, n < room ? n : room);
		tr.line_len += n < room ? n : room;
		p += n;
		if (*p != '\n')
			break; /* the rest of the line comes later */
		p++;
		while (tr.line_len && tr.line[tr.line_len - 1] == '\r')
			tr.line_len--;
		tr.line[tr.line_len] = '\0';
		tr.line_len = 0;
		take_line(tr.line);
	}
	pthread_mutex_unlock(&tr.lock);
}

static void on_sofia_log(void *stream, char const *fmt, va_list ap)
{
	char frag[LINE_MAX_BYTES];

	(void)stream;
	if (vsnprintf(frag, sizeof(frag), fmt, ap) >= 0)
		sig_trace_feed(frag);
}

void sig_trace_start(void)
{
	su_log_redirect(NULL, on_sofia_log, NULL);
}
