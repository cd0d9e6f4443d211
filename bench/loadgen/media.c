/* media.c: every caller's RTP, one thread that sends and one that
 * receives.
 *
 * Each caller has its own UDP socket, whose port is the one its SDP offer
 * names (tutti drops packets from any other address). The sending thread
 * wakes at an absolute 20 ms pace (clock_nanosleep TIMER_ABSTIME on
 * CLOCK_MONOTONIC, so a late wake-up does not shift the ticks after it)
 * and sends each caller's next frame with sendmmsg. The receiving thread
 * waits on all sockets with epoll and drains the ready ones with recvmmsg;
 * arrival times are the kernel's (SO_TIMESTAMPNS), so a late read does not
 * show as jitter. Per caller it counts packets, the highest extended
 * sequence number (loss = expected - received, RFC 3550 A.3) and the
 * interarrival jitter (RFC 3550 6.4.1); probe listeners also decode and
 * analyse what they hear (audio.c). RTCP that lands on a socket (a
 * neighbour's RTP port is another caller's port+1) is skipped. */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16
#define PKT   1600

static struct {
	pthread_t tx, rx;
	bool running;
	atomic_bool stop;
	int ep;
} media = {.ep = -1};

int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t realtime_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int media_sockets(struct lg *g)
{
	int rcv = 256 << 10, on = 1;
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		c->rtp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (c->rtp_fd < 0 ||
		    bind(c->rtp_fd, (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(c->rtp_fd, (struct sockaddr *)&a, &al)) {
			fprintf(stderr, "loadgen: RTP socket %d: %s\n", i,
				strerror(errno));
			return -1;
		}
		setsockopt(c->rtp_fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		setsockopt(c->rtp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
			   sizeof(on));
		c->rtp_port = ntohs(a.sin_port);
		c->ssrc = (uint32_t)random();
		c->seq = (uint16_t)random();
		c->ts = (uint32_t)random();
		c->clock_hz = audio_clock_hz(g);
		if (c->probe && g->codec == LG_OPUS) {
			int err;
			c->dec = opus_decoder_create(48000, 1, &err);
			if (!c->dec)
				return -1;
		}
	}
	return 0;
}

static const struct track *track_of(const struct lg *g, const struct caller *c)
{
	if (!c->speaker)
		return &g->silent;
	if (g->tones)
		return c->marker ? &g->tone_marker
				 : &g->tone[c->tone < 0 ? 0 : c->tone];
	return c->marker ? &g->speech_marker : &g->speech;
}

static void send_one(struct lg *g, struct caller *c, uint64_t tick)
{
	const struct track *t = track_of(g, c);
	bool quiet = !c->speaker;
	uint8_t pkt[PKT];
	size_t f = (size_t)((tick + c->offset) % t->n);

	c->ts += c->clock_hz / 50;
	if (quiet && g->quiet == QUIET_NONE && g->codec == LG_OPUS)
		return;
	if (quiet && g->quiet == QUIET_DTX && g->codec == LG_OPUS && tick % 20)
		return; /* a DTX sender refreshes every 400 ms */
	pkt[0] = 0x80;
	pkt[1] = c->pt;
	pkt[2] = (uint8_t)(c->seq >> 8);
	pkt[3] = (uint8_t)c->seq;
	uint32_t ts = c->ts, ss = c->ssrc;
	for (int k = 0; k < 4; k++) {
		pkt[4 + k] = (uint8_t)(ts >> (24 - 8 * k));
		pkt[8 + k] = (uint8_t)(ss >> (24 - 8 * k));
	}
	memcpy(pkt + 12, t->pkt[f], t->len[f]);
	struct iovec iov = {.iov_base = pkt, .iov_len = 12u + t->len[f]};
	struct mmsghdr m = {.msg_hdr = {.msg_name = &c->media,
					.msg_namelen = sizeof(c->media),
					.msg_iov = &iov,
					.msg_iovlen = 1}};
	if (c->marker && f % MARKER_EVERY == 0) {
		struct room *r = &g->r[c->room];
		unsigned k = atomic_load(&r->markers_sent);
		if (k < MAX_MARKERS) {
			r->marker_sent_ns[k] = realtime_ns();
			atomic_store(&r->markers_sent, k + 1);
		}
	}
	if (sendmmsg(c->rtp_fd, &m, 1, 0) == 1)
		c->seq++;
}

static void *tx_thread(void *arg)
{
	struct lg *g = arg;
	struct timespec next;
	uint64_t tick = 0;

	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&media.stop)) {
		next.tv_nsec += TICK_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
		for (int i = 0; i < g->callers; i++)
			if (atomic_load(&g->c[i].up) == 1)
				send_one(g, &g->c[i], tick);
		tick++;
	}
	return NULL;
}

static int64_t arrival(struct msghdr *h)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec t;
			memcpy(&t, CMSG_DATA(cm), sizeof(t));
			return t.tv_sec * 1000000000LL + t.tv_nsec;
		}
	return realtime_ns();
}

static void on_rtp(struct lg *g, struct caller *c, const uint8_t *p, size_t len,
		   int64_t at_ns)
{
	if (len < 12 || (p[0] >> 6) != 2 || (p[1] >= 200 && p[1] <= 204))
		return;
	size_t hl = 12 + 4u * (p[0] & 0x0f);
	if ((p[0] & 0x10) && len >= hl + 4)
		hl += 4 + 4u * (size_t)((p[hl + 2] << 8) | p[hl + 3]);
	if (hl > len)
		return;
	uint32_t ssrc = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
			(uint32_t)p[10] << 8 | p[11];
	if (g->echo_phase && ssrc != c->ssrc)
		return; /* the server's, still queued after the hang-up */
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	uint32_t ts = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
		      (uint32_t)p[6] << 8 | p[7];
	c->rx++;
	if (atomic_load(&g->measuring))
		c->rx_window++;
	int64_t arr_ts = (int64_t)((__int128)at_ns * c->clock_hz / 1000000000);
	int64_t transit = (int32_t)((uint32_t)arr_ts - ts);
	if (!c->seen) {
		c->seen = true;
		c->base_seq = c->max_seq_ext = seq;
	} else {
		uint16_t d = (uint16_t)(seq - (uint16_t)c->max_seq_ext);
		if (d && d < 0x8000)
			c->max_seq_ext += d;
		int64_t dd = transit - c->last_transit;
		c->jitter += ((double)(dd < 0 ? -dd : dd) - c->jitter) / 16.0;
	}
	c->last_transit = transit;
	if (c->probe && !g->echo_phase) {
		int16_t pcm[5760];
		size_t n = audio_decode(g, c, p + hl, len - hl, pcm, 5760);
		if (n)
			audio_analyse(g, c, pcm, n, at_ns);
	}
}

static void drain(struct lg *g, struct caller *c)
{
	static uint8_t buf[BATCH][PKT];
	static char ctl[BATCH][64];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	for (;;) {
		memset(m, 0, sizeof(m));
		for (int k = 0; k < BATCH; k++) {
			iov[k] = (struct iovec){buf[k], PKT};
			m[k].msg_hdr.msg_iov = &iov[k];
			m[k].msg_hdr.msg_iovlen = 1;
			m[k].msg_hdr.msg_control = ctl[k];
			m[k].msg_hdr.msg_controllen = sizeof(ctl[k]);
		}
		int n = recvmmsg(c->rtp_fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int k = 0; k < n; k++)
			on_rtp(g, c, buf[k], m[k].msg_len,
			       arrival(&m[k].msg_hdr));
		if (n < BATCH)
			return;
	}
}

static void *rx_thread(void *arg)
{
	struct lg *g = arg;
	struct epoll_event ev[256];
	while (!atomic_load(&media.stop)) {
		int n = epoll_wait(media.ep, ev, 256, 50);
		for (int k = 0; k < n; k++)
			drain(g, &g->c[ev[k].data.u32]);
	}
	return NULL;
}

int media_start(struct lg *g)
{
	if (media.ep < 0) {
		media.ep = epoll_create1(EPOLL_CLOEXEC);
		if (media.ep < 0)
			return -errno;
		for (int i = 0; i < g->callers; i++) {
			struct epoll_event ev = {.events = EPOLLIN,
						 .data.u32 = (uint32_t)i};
			if (epoll_ctl(media.ep, EPOLL_CTL_ADD, g->c[i].rtp_fd,
				      &ev))
				return -errno;
		}
	}
	atomic_store(&media.stop, false);
	if (pthread_create(&media.rx, NULL, rx_thread, g))
		return -EAGAIN;
	if (pthread_create(&media.tx, NULL, tx_thread, g)) {
		atomic_store(&media.stop, true);
		pthread_join(media.rx, NULL);
		return -EAGAIN;
	}
	media.running = true;
	return 0;
}

void media_stop(struct lg *g)
{
	(void)g;
	if (!media.running)
		return;
	atomic_store(&media.stop, true);
	pthread_join(media.tx, NULL);
	pthread_join(media.rx, NULL);
	media.running = false;
}
