/* sip.c: every caller's signalling, by hand over one UDP socket, on one
 * thread.
 *
 * A call is an INVITE with an SDP offer (PCMU, or Opus with in-band FEC and,
 * for DTX listeners, usedtx=1; ptime 20), retransmitted after Timer A (T1
 * = 500 ms, doubling) until a provisional or final answer, given up after
 * Timer B (64*T1). A 2xx is acknowledged with an ACK of its own branch to the
 * Contact it names, and again for each retransmitted 2xx; a final failure
 * gets the ACK of the INVITE's own transaction. BYE is a non-INVITE
 * transaction: retransmitted after Timer E (T1 doubling up to T2 = 4 s)
 * until its final answer or Timer F (64*T1). Requests from the server
 * inside a dialog are answered 200 (a re-INVITE or UPDATE with our SDP
 * again); a BYE from it ends the call. INVITEs go out at --cps per second,
 * so that the server's own pacing is not what is measured.
 *
 * The Call-ID carries the caller's index ("lg-INDEX-..."), which is how a
 * message finds its caller. Nothing here is shared with other threads but
 * the atomics up and ended. */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define T1_NS (500 * 1000000LL)
#define T2_NS (4000 * 1000000LL)

enum { S_IDLE, S_INVITING, S_PROCEEDING, S_UP, S_BYEING, S_DONE, S_FAILED };

static struct {
	int fd;
	pthread_t thread;
	bool running;
	atomic_bool hangup;
	struct sockaddr_in server;
} sip = {.fd = -1};

static void send_msg(const char *msg, size_t len)
{
	sendto(sip.fd, msg, len, 0, (const struct sockaddr *)&sip.server,
	       sizeof(sip.server));
}

/* As phones offer: the codec and telephone-event, so that keys come as
 * RFC 4733 events and the bridge need not listen for in-band tones (which
 * costs a G.711 caller a DTMF detector and 40 ms of delay). */
static int sdp_offer(const struct lg *g, const struct caller *c, char *buf,
		     size_t cap)
{
	bool opus = g->codec == LG_OPUS;
	return snprintf(
	    buf, cap,
	    "v=0\r\no=loadgen %u 1 IN IP4 127.0.0.1\r\ns=-\r\n"
	    "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP %s 101\r\n%s%s"
	    "a=ptime:20\r\na=sendrecv\r\n",
	    c->ssrc, c->rtp_port, opus ? "111" : "0",
	    opus ? "a=rtpmap:111 opus/48000/2\r\n"
		   "a=rtpmap:101 telephone-event/48000\r\n"
		 : "a=rtpmap:0 PCMU/8000\r\n"
		   "a=rtpmap:101 telephone-event/8000\r\n",
	    !opus ? ""
	    : (!c->speaker && g->quiet == QUIET_DTX)
		? "a=fmtp:111 useinbandfec=1; usedtx=1\r\n"
		: "a=fmtp:111 useinbandfec=1\r\n");
}

static void send_invite(const struct lg *g, struct caller *c, int i)
{
	char sdp[600], msg[2048];
	int n = sdp_offer(g, c, sdp, sizeof(sdp));
	int len = snprintf(
	    msg, sizeof(msg),
	    "INVITE sip:room%d@%s:%u SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-lgi%d;rport\r\n"
	    "Max-Forwards: 70\r\nFrom: <sip:caller%d@127.0.0.1>;tag=%s\r\n"
	    "To: <sip:room%d@%s:%u>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
	    "Contact: <sip:caller%d@127.0.0.1:%u>\r\n"
	    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, NOTIFY\r\n"
	    "User-Agent: tutti-loadgen\r\nContent-Type: application/sdp\r\n"
	    "Content-Length: %d\r\n\r\n%s",
	    c->room, g->server_host, g->sip_port, g->local_sip_port, i, i,
	    c->from_tag, c->room, g->server_host, g->sip_port, c->call_id, i,
	    g->local_sip_port, n, sdp);
	if (len > 0 && (size_t)len < sizeof(msg))
		send_msg(msg, (size_t)len);
}

/* ACK or BYE inside the dialog; an ACK of a failure takes the INVITE's
 * branch and Request-URI. */
static void send_in_dialog(const struct lg *g, struct caller *c, int i,
			   const char *method, int cseq, bool failure_ack)
{
	char msg[2048], ruri[340];
	if (failure_ack || !c->contact[0])
		snprintf(ruri, sizeof(ruri), "sip:room%d@%s:%u", c->room,
			 g->server_host, g->sip_port);
	else
		snprintf(ruri, sizeof(ruri), "%s", c->contact);
	int len = snprintf(
	    msg, sizeof(msg),
	    "%s %s SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-lg%s%d%s;rport\r\n"
	    "Max-Forwards: 70\r\nFrom: <sip:caller%d@127.0.0.1>;tag=%s\r\n"
	    "To: %s\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
	    "User-Agent: tutti-loadgen\r\nContent-Length: 0\r\n\r\n",
	    method, ruri, g->local_sip_port, failure_ack ? "i" : method, i,
	    failure_ack ? "" : "x", i, c->from_tag, c->to_tag, c->call_id, cseq,
	    method);
	if (len > 0 && (size_t)len < sizeof(msg))
		send_msg(msg, (size_t)len);
}

/* The value of header name (or its compact form), trimmed, into out. */
static bool header(const char *msg, const char *name, const char *compact,
		   char *out, size_t cap)
{
	const char *p = strstr(msg, "\r\n");
	while (p && p[2] != '\r' && p[2]) {
		const char *line = p + 2, *colon = strchr(line, ':');
		const char *eol = strstr(line, "\r\n");
		if (!colon || !eol)
			return false;
		size_t nl = (size_t)(colon - line);
		while (nl && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
			nl--;
		if ((nl == strlen(name) && !strncasecmp(line, name, nl)) ||
		    (compact && nl == strlen(compact) &&
		     !strncasecmp(line, compact, nl))) {
			const char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = (size_t)(eol - v);
			if (vl >= cap)
				vl = cap - 1;
			memcpy(out, v, vl);
			out[vl] = 0;
			return true;
		}
		p = eol;
	}
	return false;
}

/* The answer's media address and payload type. */
static bool parse_answer(const struct lg *g, struct caller *c, const char *body)
{
	const char *cl = body ? strstr(body, "c=IN IP4 ") : NULL;
	const char *ml = body ? strstr(body, "m=audio ") : NULL;
	char ip[64];
	unsigned port, pt;
	if (!cl || !ml || sscanf(cl + 9, "%63[0-9.]", ip) != 1 ||
	    sscanf(ml + 8, "%u RTP/AVP %u", &port, &pt) != 2 || !port ||
	    port > 65535 || pt > 127)
		return false;
	memset(&c->media, 0, sizeof(c->media));
	c->media.sin_family = AF_INET;
	c->media.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &c->media.sin_addr) != 1)
		return false;
	c->pt = (uint8_t)pt;
	(void)g;
	return true;
}

static void on_invite_answer(struct lg *g, struct caller *c, int i, int code,
			     const char *msg, const char *body)
{
	char v[300];
	if (code < 200) {
		if (c->sip_state == S_INVITING)
			c->sip_state = S_PROCEEDING;
		return;
	}
	if (header(msg, "To", "t", v, sizeof(v)))
		snprintf(c->to_tag, sizeof(c->to_tag), "%s", v);
	if (code >= 300) {
		if (c->sip_state == S_INVITING ||
		    c->sip_state == S_PROCEEDING) {
			fprintf(stderr, "loadgen: caller %d: INVITE %d\n", i,
				code);
			g->sip_errors++;
			g->sip_4xx += code < 500;
			c->sip_state = S_FAILED;
			atomic_store(&c->up, -1);
		}
		send_in_dialog(g, c, i, "ACK", 1, true);
		return;
	}
	if (c->sip_state == S_INVITING || c->sip_state == S_PROCEEDING) {
		if (header(msg, "Contact", "m", v, sizeof(v))) {
			char *lt = strchr(v, '<'),
			     *gt = lt ? strchr(lt, '>') : 0;
			if (lt && gt) {
				*gt = 0;
				memmove(v, lt + 1, strlen(lt + 1) + 1);
			}
			snprintf(c->contact, sizeof(c->contact), "%s", v);
		}
		if (!parse_answer(g, c, body)) {
			fprintf(stderr, "loadgen: caller %d: bad answer\n", i);
			g->sip_errors++;
			c->sip_state = S_FAILED;
			atomic_store(&c->up, -1);
			send_in_dialog(g, c, i, "ACK", 1, false);
			return;
		}
		c->sip_state = S_UP;
		atomic_store(&c->up, 1);
	}
	send_in_dialog(g, c, i, "ACK", 1, false);
}

static void on_response(struct lg *g, struct caller *c, int i, const char *msg,
			const char *body)
{
	char cseq[64];
	int code = atoi(msg + 8);
	if (!header(msg, "CSeq", NULL, cseq, sizeof(cseq)))
		return;
	if (strstr(cseq, "INVITE")) {
		on_invite_answer(g, c, i, code, msg, body);
	} else if (strstr(cseq, "BYE") && code >= 200 &&
		   c->sip_state == S_BYEING) {
		if (code >= 300) {
			fprintf(stderr, "loadgen: caller %d: BYE %d\n", i,
				code);
			g->sip_errors++;
			g->sip_4xx += code < 500;
		}
		c->sip_state = S_DONE;
		atomic_store(&c->ended, 1);
	}
}

/* 200 to a request of the server's, copying what RFC 3261 8.2.6.2 asks. */
static void on_request(struct lg *g, struct caller *c, const char *msg)
{
	char out[2048], sdp[600] = "", via[1024] = "", line[512];
	const char *p = msg;
	if (!strncmp(msg, "ACK ", 4))
		return;
	/* every Via, in order */
	while ((p = strstr(p, "\r\n")) && p[2] != '\r') {
		p += 2;
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if ((!strncasecmp(p, "Via:", 4) || !strncasecmp(p, "v:", 2)) &&
		    strlen(via) + (size_t)(eol - p) + 3 < sizeof(via)) {
			strncat(via, p, (size_t)(eol - p));
			strcat(via, "\r\n");
		}
	}
	bool offer = !strncmp(msg, "INVITE ", 7) || !strncmp(msg, "UPDATE ", 7);
	int n = offer ? sdp_offer(g, c, sdp, sizeof(sdp)) : 0;
	int len = snprintf(out, sizeof(out), "SIP/2.0 200 OK\r\n%s", via);
	const char *names[][2] = {
	    {"From", "f"}, {"To", "t"}, {"Call-ID", "i"}, {"CSeq", NULL}};
	for (int k = 0; k < 4; k++)
		if (header(msg, names[k][0], names[k][1], line, sizeof(line)))
			len += snprintf(out + len, sizeof(out) - (size_t)len,
					"%s: %s\r\n", names[k][0], line);
	len += snprintf(out + len, sizeof(out) - (size_t)len,
			"Contact: <sip:caller@127.0.0.1:%u>\r\n%s"
			"Content-Length: %d\r\n\r\n%s",
			g->local_sip_port,
			n ? "Content-Type: application/sdp\r\n" : "", n, sdp);
	if (len > 0 && (size_t)len < sizeof(out))
		send_msg(out, (size_t)len);
	if (!strncmp(msg, "BYE ", 4) && c->sip_state != S_DONE) {
		c->sip_state = S_DONE;
		atomic_store(&c->up, -1);
		atomic_store(&c->ended, 1);
	}
}

static void on_message(struct lg *g, char *msg)
{
	char cid[128];
	int i;
	char *body = strstr(msg, "\r\n\r\n");
	if (!body || !header(msg, "Call-ID", "i", cid, sizeof(cid)) ||
	    sscanf(cid, "lg-%d-", &i) != 1 || i < 0 || i >= g->callers)
		return;
	body += 4;
	if (!strncmp(msg, "SIP/2.0 ", 8))
		on_response(g, &g->c[i], i, msg, body);
	else
		on_request(g, &g->c[i], msg);
}

/* Timers A/B for INVITE, E/F for BYE. */
static void retransmit(struct lg *g, int64_t now)
{
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		bool inv =
		    c->sip_state == S_INVITING || c->sip_state == S_PROCEEDING;
		if (!inv && c->sip_state != S_BYEING)
			continue;
		if (now >= c->deadline_ns) {
			fprintf(stderr, "loadgen: caller %d: %s timed out\n", i,
				inv ? "INVITE" : "BYE");
			g->sip_errors++;
			c->sip_state = inv ? S_FAILED : S_DONE;
			atomic_store(inv ? &c->up : &c->ended, inv ? -1 : 1);
			continue;
		}
		if (c->sip_state == S_PROCEEDING || now < c->next_retx_ns)
			continue;
		if (inv) {
			send_invite(g, c, i);
			c->retx_ns *= 2;
		} else {
			send_in_dialog(g, c, i, "BYE", 2, false);
			c->retx_ns =
			    c->retx_ns * 2 < T2_NS ? c->retx_ns * 2 : T2_NS;
		}
		c->next_retx_ns = now + c->retx_ns;
	}
}

static void start_transactions(struct lg *g, int64_t now, int *next_inv,
			       int *next_bye, int64_t *due)
{
	while (*due <= now) {
		struct caller *c = NULL;
		if (*next_inv < g->callers) {
			c = &g->c[*next_inv];
			c->sip_state = S_INVITING;
			send_invite(g, c, *next_inv);
			(*next_inv)++;
		} else if (atomic_load(&sip.hangup)) {
			/* calls that failed or were ended by the server */
			while (*next_bye < g->callers &&
			       g->c[*next_bye].sip_state != S_UP) {
				atomic_store(&g->c[*next_bye].ended, 1);
				(*next_bye)++;
			}
			if (*next_bye < g->callers) {
				c = &g->c[*next_bye];
				c->sip_state = S_BYEING;
				send_in_dialog(g, c, *next_bye, "BYE", 2,
					       false);
				(*next_bye)++;
			}
		}
		if (!c)
			return;
		c->retx_ns = T1_NS;
		c->next_retx_ns = now + T1_NS;
		c->deadline_ns = now + 64 * T1_NS;
		*due += 1000000000LL / g->cps;
	}
}

static void *sip_thread(void *arg)
{
	struct lg *g = arg;
	int next_inv = 0, next_bye = 0;
	int64_t due = now_ns();
	char buf[8192];

	while (!atomic_load(&g->stop)) {
		int64_t now = now_ns();
		if (due < now - 100000000LL)
			due = now - 100000000LL; /* no burst after a stall */
		start_transactions(g, now, &next_inv, &next_bye, &due);
		retransmit(g, now);
		struct pollfd pfd = {.fd = sip.fd, .events = POLLIN};
		if (poll(&pfd, 1, 2) <= 0)
			continue;
		for (;;) {
			ssize_t n =
			    recv(sip.fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
			if (n <= 0)
				break;
			buf[n] = 0;
			on_message(g, buf);
		}
	}
	return NULL;
}

int sip_start(struct lg *g)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int rcv = 4 << 20;

	sip.server.sin_family = AF_INET;
	sip.server.sin_port = htons(g->sip_port);
	if (inet_pton(AF_INET, g->server_host, &sip.server.sin_addr) != 1)
		return -EINVAL;
	sip.fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (sip.fd < 0)
		return -errno;
	setsockopt(sip.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(sip.fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(sip.fd, (struct sockaddr *)&a, &al))
		return -errno;
	g->local_sip_port = ntohs(a.sin_port);
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		snprintf(c->call_id, sizeof(c->call_id), "lg-%d-%08x@127.0.0.1",
			 i, (unsigned)random());
		snprintf(c->from_tag, sizeof(c->from_tag), "%08x",
			 (unsigned)random());
	}
	if (pthread_create(&sip.thread, NULL, sip_thread, g))
		return -EAGAIN;
	sip.running = true;
	return 0;
}

void sip_hangup_all(struct lg *g)
{
	(void)g;
	atomic_store(&sip.hangup, true);
}

void sip_stop(struct lg *g)
{
	atomic_store(&g->stop, true);
	if (sip.running)
		pthread_join(sip.thread, NULL);
	sip.running = false;
	if (sip.fd >= 0)
		close(sip.fd);
	sip.fd = -1;
}
