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
 * The libopus floor is what one participant's decode and encode of a 20 ms
 * frame cost at tutti's settings (rtp/codec.c: 48 kHz mono, VOIP, 32 kb/s,
 * complexity 5, in-band FEC with 10 % expected loss, voice signal), timed
 * on this thread's CPU clock over the speech (or tone) track the speakers
 * send. */
#include "loadgen.h"

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

static void echo_loop(int ep, const int *fds)
{
	static uint8_t buf[BATCH][PKT];
	struct sockaddr_in from[BATCH];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event ev[256];
	for (;;) {
		int n = epoll_wait(ep, ev, 256, 1000);
		for (int e = 0; e < n; e++) {
			int fd = fds[ev[e].data.u32];
			memset(m, 0, sizeof(m));
			for (int k = 0; k < BATCH; k++) {
				iov[k] = (struct iovec){buf[k], PKT};
				m[k].msg_hdr.msg_iov = &iov[k];
				m[k].msg_hdr.msg_iovlen = 1;
				m[k].msg_hdr.msg_name = &from[k];
				m[k].msg_hdr.msg_namelen = sizeof(from[k]);
			}
			int got = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
			if (got <= 0)
				continue;
			for (int k = 0; k < got; k++)
				iov[k].iov_len = m[k].msg_len;
			sendmmsg(fd, m, (unsigned)got, 0);
		}
	}
}

pid_t echo_spawn(struct lg *g)
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
