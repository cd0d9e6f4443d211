/* sendbench.c: what the kernel takes to send one RTP-sized packet to each
 * of N callers every 20 ms on loopback, three ways:
 *
 *   sendto     one unconnected socket per caller (what tutti does: the
 *              socket must also hear, count and drop strangers' packets,
 *              RTP bleed, and latch to a caller's real address);
 *   send       the same sockets connected to their callers (the route is
 *              looked up once, not per packet);
 *   sendmmsg   one socket for every caller, all N packets in one call
 *              (a design with one shared port);
 *   io_uring   the sockets of sendto, all N sends queued in one ring and
 *              submitted at once (one system call a tick; only when built
 *              with liburing): IORING_OP_SEND with the address, as
 *              tutti's rtp/sendq.c sends;
 *   uring+df   the same on sockets with IP_MTU_DISCOVER IP_PMTUDISC_PROBE:
 *              packets leave with DF set, so an unconnected socket's
 *              packet needs no IP ID from the kernel's shared generator;
 *   uring+fix  those sockets registered with the ring (fixed files): no
 *              file lookup and reference per send.
 *
 * usage: sendbench [--poll-rx] [callers (2000)] [ticks per run (100)]
 *                  [runs (5)]
 *
 * The callers are a child process with one socket each, read with epoll
 * and recvmmsg as loadgen does, so the sender pays what it pays on
 * loopback: the receiver's queueing and wake-up as well as its own send.
 * With --poll-rx the child looks every millisecond instead of sleeping in
 * epoll_wait, so that no packet has a sleeping reader to wake: what is
 * left is the send and the receiver's queueing.
 * The sender's CPU (getrusage) per packet, each way in turn in every run;
 * medians of the runs and their ratios to sendto. This is the floor under
 * any bridge's cost per listener on this machine (docs/benchmarks.md). */
#include "bench/bench_util.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#define PKT_BYTES 100 /* 12 of RTP header, 88 of Opus at 32 kb/s or so */
#define TICK_NS	  20000000L
#define RING	  1024 /* io_uring entries: sends queued per submit */
#ifdef HAVE_LIBURING
#define WAYS 6
#else
#define WAYS 3
#endif

static const char *const way_name[6] = {"sendto",   "send",	"sendmmsg",
					"io_uring", "uring+df", "uring+fix"};

static double cpu_us(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return (double)r.ru_utime.tv_sec * 1e6 + (double)r.ru_utime.tv_usec +
	       (double)r.ru_stime.tv_sec * 1e6 + (double)r.ru_stime.tv_usec;
}

static void receive_forever(const int *rx, int n, bool poll_rx)
{
	int ep = epoll_create1(0);
	if (ep < 0)
		bench_die("epoll_create1");
	for (int i = 0; i < n; i++) {
		struct epoll_event e = {.events = EPOLLIN,
					.data.u32 = (uint32_t)i};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, rx[i], &e))
			bench_die("epoll_ctl");
	}
	static char buf[8][256];
	struct mmsghdr m[8];
	struct iovec io[8];
	struct epoll_event ev[256];
	for (;;) {
		int got = epoll_wait(ep, ev, 256, poll_rx ? 0 : -1);
		if (poll_rx && got < 256)
			usleep(1000);
		for (int k = 0; k < got; k++) {
			memset(m, 0, sizeof(m));
			for (int j = 0; j < 8; j++) {
				io[j] = (struct iovec){buf[j], sizeof(buf[j])};
				m[j].msg_hdr.msg_iov = &io[j];
				m[j].msg_hdr.msg_iovlen = 1;
			}
			recvmmsg(rx[ev[k].data.u32], m, 8, MSG_DONTWAIT, NULL);
		}
	}
}

static void sleep_until(struct timespec *t, long add_ns)
{
	t->tv_nsec += add_ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL))
		;
}

#ifdef HAVE_LIBURING
/* The sends of one tick through the ring, RING at a time. */
static void uring_tick(struct io_uring *ring, const int *tx,
		       const struct sockaddr_in *to, const char *pkt, int n,
		       bool fixed)
{
	for (int off = 0; off < n; off += RING) {
		int end = n - off < RING ? n : off + RING;
		for (int i = off; i < end; i++) {
			struct io_uring_sqe *q = io_uring_get_sqe(ring);
			io_uring_prep_send(q, fixed ? i : tx[i], pkt, PKT_BYTES,
					   MSG_DONTWAIT);
			if (fixed)
				q->flags |= IOSQE_FIXED_FILE;
			io_uring_prep_send_set_addr(
			    q, (const struct sockaddr *)&to[i], sizeof(to[i]));
		}
		io_uring_submit_and_wait(ring, (unsigned)(end - off));
		struct io_uring_cqe *c;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(ring, head, c) seen++;
		io_uring_cq_advance(ring, seen);
	}
}
#endif

int main(int argc, char **argv)
{
	bool poll_rx = argc > 1 && !strcmp(argv[1], "--poll-rx");
	if (poll_rx) {
		argv++;
		argc--;
	}
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	int ticks = argc > 2 ? atoi(argv[2]) : 100;
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (n < 1 || ticks < 1 || runs < 1 || runs > 99) {
		fprintf(stderr,
			"usage: sendbench [--poll-rx] [callers] [ticks] "
			"[runs]\n");
		return 2;
	}
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int *rx = calloc((size_t)n, sizeof(*rx));
	int *tx = calloc((size_t)n, sizeof(*tx));
	int *conn = calloc((size_t)n, sizeof(*conn));
	int *df = calloc((size_t)n, sizeof(*df));
	struct sockaddr_in *to = calloc((size_t)n, sizeof(*to));
	struct mmsghdr *mm = calloc((size_t)n, sizeof(*mm));
	if (!rx || !tx || !conn || !df || !to || !mm)
		bench_die("calloc");
	struct sockaddr_in own;
	for (int i = 0; i < n; i++) {
		rx[i] = bench_udp_socket(&to[i]);
		tx[i] = bench_udp_socket(&own);
		conn[i] = bench_udp_socket(&own);
		df[i] = bench_udp_socket(&own);
		int probe = IP_PMTUDISC_PROBE;
		if (setsockopt(df[i], IPPROTO_IP, IP_MTU_DISCOVER, &probe,
			       sizeof(probe)))
			bench_die("IP_MTU_DISCOVER");
		if (connect(conn[i], (struct sockaddr *)&to[i], sizeof(to[i])))
			bench_die("connect");
	}
	pid_t child = fork();
	if (child < 0)
		bench_die("fork");
	if (child == 0)
		receive_forever(rx, n, poll_rx);
	for (int i = 0; i < n; i++)
		close(rx[i]);

	char pkt[PKT_BYTES];
	memset(pkt, 0x55, sizeof(pkt));
	struct iovec io = {pkt, sizeof(pkt)};
	for (int i = 0; i < n; i++) {
		mm[i].msg_hdr.msg_name = &to[i];
		mm[i].msg_hdr.msg_namelen = sizeof(to[i]);
		mm[i].msg_hdr.msg_iov = &io;
		mm[i].msg_hdr.msg_iovlen = 1;
	}
#ifdef HAVE_LIBURING
	struct io_uring ring;
	if (io_uring_queue_init(RING, &ring, 0) < 0)
		bench_die("io_uring");
	if (io_uring_register_files(&ring, df, (unsigned)n) < 0)
		bench_die("io_uring_register_files");
#endif
	double us[WAYS][99];
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int r = 0; r < runs; r++) {
		for (int w = 0; w < WAYS; w++) {
			double c0 = cpu_us();
			for (int k = 0; k < ticks; k++) {
				if (w == 0)
					for (int i = 0; i < n; i++)
						sendto(
						    tx[i], pkt, sizeof(pkt),
						    MSG_DONTWAIT,
						    (struct sockaddr *)&to[i],
						    sizeof(to[i]));
				else if (w == 1)
					for (int i = 0; i < n; i++)
						send(conn[i], pkt, sizeof(pkt),
						     MSG_DONTWAIT);
#ifdef HAVE_LIBURING
				else if (w >= 3)
					uring_tick(&ring, w == 3 ? tx : df, to,
						   pkt, n, w == 5);
#endif
				else
					for (int off = 0; off < n;) {
						int s = sendmmsg(
						    tx[0], mm + off,
						    (unsigned)(n - off),
						    MSG_DONTWAIT);
						if (s <= 0)
							break;
						off += s;
					}
				sleep_until(&t, TICK_NS);
			}
			us[w][r] = (cpu_us() - c0) / ((double)ticks * n);
		}
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	double med[WAYS];
	printf("sendbench: %d callers, %d ticks of 20 ms per run, %d runs; "
	       "sender CPU per packet, medians%s\n",
	       n, ticks, runs, poll_rx ? "; receiver polls every 1 ms" : "");
	for (int w = 0; w < WAYS; w++)
		med[w] = bench_median(us[w], (size_t)runs);
	for (int w = 0; w < WAYS; w++)
		printf("  %-9s %.2f us  (%.2fx sendto)\n", way_name[w], med[w],
		       med[w] / med[0]);
	return 0;
}
