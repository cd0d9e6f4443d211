/* floors.c: the two floors the server is compared with, measured in the
 * same run as the server.
 *
 * The UDP echo is a child process with one socket per caller, as tutti has;
 * it waits on them with epoll, reads with recvmmsg and sends each packet
 * back to where it came from with sendmmsg, so it moves the same packets
 * through the same kind of sockets and does nothing else. Its CPU is read
 * from /proc like the server's. The sockets are made before the fork so
 * that their ports are known to the callers, who are then pointed at
 * them.
 *
 * The UDP relay is the same child, but as a bridge sends: every 20 ms one
 * packet to every caller it has heard from, from the caller's own
 * socket, all of a tick's in one io_uring batch through tutti's own
 * rtp/sendq.c as tutti sends them (one sendto each with --relay-sendto,
 * or where the kernel refuses io_uring), whatever the callers send,
 * which it reads and drops. Its packets are the speakers' track, so they
 * are as big as a mix. In a room where everyone sends every 20 ms it
 * moves what the echo moves; in a room of callers in DTX, who send a
 * packet every 400 ms, the echo sends next to nothing while a bridge
 * still sends 50 packets a second to each: that is the floor the relay
 * measures.
 *
 * The libopus floor is what one participant's decode and encode of a 20 ms
 * frame cost at tutti's settings (rtp/codec.c: 48 kHz mono, VOIP, 32 kb/s,
 * complexity 5, in-band FEC with 10 % expected loss, voice signal), timed
 * on this thread's CPU clock over the speech (or tone) track the speakers
 * send. */
#include "loadgen.h"

#include "rtp/rtp.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 16
#define PKT   1600

/* A batch of receive buffers for recvmmsg, each with its sender. */
struct rx_batch {
	uint8_t buf[BATCH][PKT];
	struct sockaddr_in from[BATCH];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
};

/* Reads up to BATCH packets from fd into b: how many, or <= 0. */
static int rx_batch_read(struct rx_batch *b, int fd)
{
	memset(b->m, 0, sizeof(b->m));
	for (int k = 0; k < BATCH; k++) {
		b->iov[k] = (struct iovec){b->buf[k], PKT};
		b->m[k].msg_hdr.msg_iov = &b->iov[k];
		b->m[k].msg_hdr.msg_iovlen = 1;
		b->m[k].msg_hdr.msg_name = &b->from[k];
		b->m[k].msg_hdr.msg_namelen = sizeof(b->from[k]);
	}
	return recvmmsg(fd, b->m, BATCH, MSG_DONTWAIT, NULL);
}

static void echo_loop(int ep, const int *fds)
{
	static struct rx_batch b;
	struct epoll_event ev[256];
	for (;;) {
		int n = epoll_wait(ep, ev, 256, 1000);
		for (int e = 0; e < n; e++) {
			int fd = fds[ev[e].data.u32];
			int got = rx_batch_read(&b, fd);
			if (got <= 0)
				continue;
			for (int k = 0; k < got; k++)
				b.iov[k].iov_len = b.m[k].msg_len;
			sendmmsg(fd, b.m, (unsigned)got, 0);
		}
	}
}

static int64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* One packet of g's speakers' track, in caller c's stream (its SSRC,
 * payload type, its own sequence and timestamp). */
static size_t relay_packet(const struct lg *g, const struct caller *c,
			   uint32_t k, uint8_t *out)
{
	const struct track *t = g->tones ? &g->tone[0] : &g->speech;
	size_t i = t->n ? k % t->n : 0;
	size_t len = t->n ? t->len[i] : 0;
	uint16_t seq = (uint16_t)k;
	uint32_t ts = k * (audio_clock_hz(g) / 50);
	out[0] = 0x80;
	out[1] = c->pt;
	out[2] = (uint8_t)(seq >> 8);
	out[3] = (uint8_t)seq;
	for (int b = 0; b < 4; b++) {
		out[4 + b] = (uint8_t)(ts >> (24 - 8 * b));
		out[8 + b] = (uint8_t)(c->ssrc >> (24 - 8 * b));
	}
	if (len)
		memcpy(out + 12, t->pkt[i], len);
	return 12 + len;
}

static void relay_sent(void *ctx, int res, uint32_t arg)
{
	(void)ctx, (void)res, (void)arg; /* a floor counts no errors */
}

static void relay_loop(const struct lg *g, int ep, const int *fds)
{
	static struct rx_batch b;
	uint8_t out[PKT];
	struct epoll_event ev[256];
	struct sockaddr_in *peer = calloc((size_t)g->callers, sizeof(*peer));
	struct sendq *q = NULL;
	if (!peer || (g->relay_batched && sendq_new(&q, relay_sent) < 0))
		return;
	int64_t next = mono_ns() + 20000000;
	for (uint32_t k = 0;;) {
		/* rounded up: a wait of 0 in the tick's last millisecond
		 * would spin, and the floor would count the spinning */
		int64_t wait_ns = next - mono_ns();
		int wait_ms =
		    wait_ns > 0 ? (int)((wait_ns + 999999) / 1000000) : 0;
		int n = epoll_wait(ep, ev, 256, wait_ms);
		for (int e = 0; e < n; e++) {
			uint32_t i = ev[e].data.u32;
			int got = rx_batch_read(&b, fds[i]);
			if (got > 0)
				peer[i] = b.from[got - 1];
		}
		if (mono_ns() < next)
			continue;
		for (int i = 0; i < g->callers; i++) {
			if (!peer[i].sin_port)
				continue;
			size_t len = relay_packet(g, &g->c[i], k, out);
			if (q)
				sendq_send(q, fds[i], out, len,
					   (struct sockaddr *)&peer[i],
					   sizeof(peer[i]), NULL, 0);
			else
				sendto(fds[i], out, len, MSG_DONTWAIT,
				       (struct sockaddr *)&peer[i],
				       sizeof(peer[i]));
		}
		sendq_flush(q);
		k++;
		next += 20000000;
	}
}

pid_t echo_spawn(struct lg *g, bool relay)
{
	int *fds = calloc((size_t)g->callers, sizeof(*fds));
	int ep = epoll_create1(0), rcv = 256 << 10;
	if (!fds || ep < 0)
		return -1;
	for (int i = 0; i < g->callers; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET};
		socklen_t al = sizeof(a);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.u32 = (uint32_t)i};
		if (fds[i] < 0 ||
		    bind(fds[i], (struct sockaddr *)&a, sizeof(a)) ||
		    getsockname(fds[i], (struct sockaddr *)&a, &al) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev))
			return -1;
		setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
		g->c[i].media = a;
	}
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* not outliving loadgen */
		if (relay)
			relay_loop(g, ep, fds);
		else
			echo_loop(ep, fds);
		_exit(0);
	}
	for (int i = 0; i < g->callers; i++)
		close(fds[i]);
	close(ep);
	free(fds);
	return pid;
}

void echo_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static int64_t thread_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

double opus_floor_us(const struct lg *g)
{
	const struct track *t = g->tones ? &g->tone[0] : &g->speech;
	int err;
	if (g->codec != LG_OPUS || !t->n)
		return -1;
	OpusDecoder *d = opus_decoder_create(48000, 1, &err);
	OpusEncoder *e =
	    opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	if (!d || !e) {
		if (d)
			opus_decoder_destroy(d);
		if (e)
			opus_encoder_destroy(e);
		return -1;
	}
	opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(5));
	opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1));
	/* as tutti codes for listeners that send no RTCP (rtp/fecloss.c) */
	opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(10));
	opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	const size_t frames = 1500; /* 30 s of audio */
	int16_t pcm[960];
	uint8_t out[1500];
	int64_t t0 = thread_cpu_ns();
	for (size_t f = 0; f < frames; f++) {
		size_t k = f % t->n;
		if (opus_decode(d, t->pkt[k], t->len[k], pcm, 960, 0) != 960 ||
		    opus_encode(e, pcm, 960, out, sizeof(out)) <= 0)
			break;
	}
	int64_t spent = thread_cpu_ns() - t0;
	opus_decoder_destroy(d);
	opus_encoder_destroy(e);
	return (double)spent / 1000.0 / (double)frames;
}
