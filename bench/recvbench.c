/* recvbench.c: what the kernel takes to receive one RTP-sized packet on
 * each of N callers' sockets every 20 ms on loopback, two ways:
 *
 *   recvmmsg   one call per socket, as a big room's tick reads them
 *              (rtp/stream_rx.c: a batch of up to 8, each packet with its
 *              sender's address and its SO_TIMESTAMPNS arrival time);
 *   io_uring   a multishot IORING_OP_RECVMSG armed once on every socket,
 *              its packets in buffers the kernel takes from a ring of
 *              them (IORING_REGISTER_PBUF_RING), the completions gathered
 *              by one io_uring_enter a tick (IORING_SETUP_DEFER_TASKRUN,
 *              so that the copies happen there, not at each arrival).
 *
 * usage: recvbench [callers (1000)] [ticks per run (200)] [runs (5)]
 *
 * One socket sends each tick's packets, one to each caller's socket, with
 * sendmmsg; then the tick reads them, each way in turn in every run. Only
 * the reads are timed, on this thread's CPU clock, so the send and the
 * loopback delivery (the same for both) stay out. Medians of the runs
 * and their ratio. This is the measure behind tutti's choice to read with
 * recvmmsg (docs/benchmarks.md). Needs liburing at build time and
 * Linux 6.0 (multishot recvmsg, provided-buffer rings); without them only
 * recvmmsg is measured. */
#include "bench/bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#include <sys/mman.h>
#endif

#define PKT_BYTES 172 /* 12 of RTP header, 160 of G.711 */
#define BATCH	  8
#define BUF_BYTES 512  /* a provided buffer: the packet, its header, cmsg */
#define N_BUFS	  4096 /* provided buffers: a power of two */
#define CTL_BYTES 64

static int n_callers;
static int *rx;
static int tx;
static struct mmsghdr *out;

static double thread_cpu_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void setup(void)
{
	static uint8_t pkt[PKT_BYTES] = {0x80};
	static struct iovec iov = {pkt, sizeof(pkt)};
	struct sockaddr_in a;
	int on = 1;

	rx = calloc((size_t)n_callers, sizeof(*rx));
	out = calloc((size_t)n_callers, sizeof(*out));
	struct sockaddr_in *to = calloc((size_t)n_callers, sizeof(*to));
	if (!rx || !out || !to)
		bench_die("calloc");
	tx = bench_udp_socket(&a);
	for (int i = 0; i < n_callers; i++) {
		rx[i] = bench_udp_socket(&to[i]);
		if (setsockopt(rx[i], SOL_SOCKET, SO_TIMESTAMPNS, &on,
			       sizeof(on)) < 0)
			bench_die("SO_TIMESTAMPNS");
		out[i].msg_hdr = (struct msghdr){.msg_name = &to[i],
						 .msg_namelen = sizeof(to[i]),
						 .msg_iov = &iov,
						 .msg_iovlen = 1};
	}
}

/* One packet to every caller's socket. */
static void send_tick(void)
{
	for (int done = 0; done < n_callers;) {
		int n =
		    sendmmsg(tx, out + done, (unsigned)(n_callers - done), 0);
		if (n <= 0)
			bench_die("sendmmsg");
		done += n;
	}
}

/* recvmmsg on every socket, as rtp/stream_rx.c drains one. */
static long read_recvmmsg(void)
{
	static uint8_t buf[BATCH][1500];
	static uint8_t ctl[BATCH][CTL_BYTES];
	static struct sockaddr_in from[BATCH];
	static struct iovec iov[BATCH];
	static struct mmsghdr m[BATCH];
	long got = 0;

	for (int i = 0; i < n_callers; i++) {
		for (int k = 0; k < BATCH; k++) {
			iov[k] = (struct iovec){buf[k], sizeof(buf[k])};
			m[k].msg_hdr =
			    (struct msghdr){.msg_name = &from[k],
					    .msg_namelen = sizeof(from[k]),
					    .msg_iov = &iov[k],
					    .msg_iovlen = 1,
					    .msg_control = ctl[k],
					    .msg_controllen = sizeof(ctl[k])};
		}
		int n = recvmmsg(rx[i], m, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0)
			got += n;
	}
	return got;
}

#ifdef HAVE_LIBURING
static struct io_uring ring;
static struct io_uring_buf_ring *bufring;
static uint8_t *bufs;
static struct msghdr shape = {.msg_namelen = sizeof(struct sockaddr_in),
			      .msg_controllen = CTL_BYTES};

static void arm(int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	if (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	io_uring_prep_recvmsg_multishot(sqe, rx[i], &shape, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 1;
	io_uring_sqe_set_data64(sqe, (uint64_t)i);
}

/* False where the kernel or liburing cannot. */
static bool uring_setup(void)
{
	struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER |
					     IORING_SETUP_DEFER_TASKRUN |
					     IORING_SETUP_CQSIZE,
				    .cq_entries = 2 * N_BUFS};
	if (io_uring_queue_init_params(1024, &ring, &p) < 0)
		return false;
	size_t bytes = N_BUFS * sizeof(struct io_uring_buf);
	bufring = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = malloc((size_t)N_BUFS * BUF_BYTES);
	if (bufring == MAP_FAILED || !bufs)
		return false;
	struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)bufring,
				       .ring_entries = N_BUFS,
				       .bgid = 1};
	if (io_uring_register_buf_ring(&ring, &reg, 0) != 0)
		return false;
	io_uring_buf_ring_init(bufring);
	for (int i = 0; i < N_BUFS; i++)
		io_uring_buf_ring_add(bufring, bufs + (size_t)i * BUF_BYTES,
				      BUF_BYTES, (unsigned short)i,
				      io_uring_buf_ring_mask(N_BUFS), i);
	io_uring_buf_ring_advance(bufring, N_BUFS);
	for (int i = 0; i < n_callers; i++)
		arm(i);
	return io_uring_submit(&ring) >= 0;
}

/* Every completion the tick's arrivals made: the packet found in its
 * buffer (as a reader would parse it), the buffer given back; a receive
 * that ended (out of buffers) armed again. */
static long read_uring(void)
{
	long got = 0;
	unsigned n;

	do {
		struct io_uring_cqe *cqe;
		unsigned head;
		bool rearmed = false;

		io_uring_get_events(&ring);
		n = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			n++;
			if (cqe->res > 0 &&
			    (cqe->flags & IORING_CQE_F_BUFFER)) {
				unsigned id =
				    cqe->flags >> IORING_CQE_BUFFER_SHIFT;
				uint8_t *b = bufs + (size_t)id * BUF_BYTES;
				struct io_uring_recvmsg_out *o =
				    io_uring_recvmsg_validate(b, cqe->res,
							      &shape);
				if (o && io_uring_recvmsg_payload_length(
					     o, cqe->res, &shape) == PKT_BYTES)
					got++;
				io_uring_buf_ring_add(
				    bufring, b, BUF_BYTES, (unsigned short)id,
				    io_uring_buf_ring_mask(N_BUFS), 0);
				io_uring_buf_ring_advance(bufring, 1);
			}
			if (!(cqe->flags & IORING_CQE_F_MORE)) {
				arm((int)io_uring_cqe_get_data64(cqe));
				rearmed = true;
			}
		}
		io_uring_cq_advance(&ring, n);
		if (rearmed)
			io_uring_submit(&ring);
	} while (n);
	return got;
}
#endif

int main(int argc, char **argv)
{
	n_callers = argc > 1 ? atoi(argv[1]) : 1000;
	int ticks = argc > 2 ? atoi(argv[2]) : 200;
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (n_callers < 1 || ticks < 1 || runs < 1 || runs > 64) {
		fprintf(stderr, "usage: recvbench [callers] [ticks] [runs]\n");
		return 2;
	}
	setup();
	int ways = 1;
#ifdef HAVE_LIBURING
	if (uring_setup())
		ways = 2;
	else
		printf("io_uring: refused here; recvmmsg only\n");
#endif
	double ns[2][64];
	for (int r = 0; r < runs; r++)
		for (int w = 0; w < ways; w++) {
			double us = 0;
			long got = 0;
			for (int t = 0; t < ticks; t++) {
				send_tick();
				double t0 = thread_cpu_us();
#ifdef HAVE_LIBURING
				got += w ? read_uring() : read_recvmmsg();
#else
				got += read_recvmmsg();
#endif
				us += thread_cpu_us() - t0;
			}
			if (got != (long)ticks * n_callers) {
				fprintf(stderr, "recvbench: %ld of %ld read\n",
					got, (long)ticks * n_callers);
				return 1;
			}
			ns[w][r] = us * 1e3 / ticks / n_callers;
		}
	static const char *const name[2] = {"recvmmsg", "io_uring"};
	double base = bench_median(ns[0], (size_t)runs);
	printf("%d callers, %d ticks x %d runs: ns of CPU per packet read "
	       "(median)\n",
	       n_callers, ticks, runs);
	for (int w = 0; w < ways; w++) {
		double med = w ? bench_median(ns[w], (size_t)runs) : base;
		printf("  %-9s %8.1f  %.3fx\n", name[w], med, med / base);
	}
	return 0;
}
