/* sendq.c: the batch in which one thread's RTP and RTCP packets of a tick
 * leave, through one io_uring.
 *
 * Why: a listener's packet is the bulk of what a big room costs, and most
 * of that is the kernel's (docs/benchmarks.md, "sendbench"). Each caller
 * has a socket of its own (the port in our SDP, which hears and counts
 * strangers' packets and latches to where the caller really sends from),
 * so sendmmsg, which batches one socket's packets, cannot carry a tick's
 * sends; an io_uring can, one system call for many sockets' packets.
 * Measured with bench/sendbench on 2,000 sockets: 0.76-0.88x the CPU of
 * a sendto per packet.
 *
 * How: sendq_send() copies the packet (and where it goes) into the
 * queue's own buffer and prepares a send; sendq_flush() submits what is
 * prepared, waits for every completion (a UDP send with MSG_DONTWAIT
 * completes at once: sent, or an error such as a full socket buffer,
 * never a wait) and reports each through the done function, so that the
 * buffer is free again and the caller's counters are right when it
 * returns. A full queue flushes itself.
 *
 * The sends carry their destination (IORING_OP_SEND with an address,
 * Linux 6.0): sendq_new() tries one on loopback before trusting it, and
 * fails when io_uring is missing or refused (an older kernel, a seccomp
 * filter, liburing absent at build time). The caller then sends with
 * sendto() itself.
 *
 * Threads: a queue is used by one thread at a time (a mixer thread, or a
 * pool worker inside a job); it is not thread-safe. Its owner frees it. */
#include "rtp/rtp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

/* Every queue's batches and the packets they carried, for /metrics. */
static _Atomic uint64_t total_batches, total_packets;

void sendq_totals(uint64_t *batches, uint64_t *packets)
{
	*batches = atomic_load_explicit(&total_batches, memory_order_relaxed);
	*packets = atomic_load_explicit(&total_packets, memory_order_relaxed);
}

#ifdef HAVE_LIBURING
#include <liburing.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEPTH	    256	       /* sends prepared before a flush */
#define ARENA_BYTES (64 << 10) /* their packets, copied */

struct pending {
	void *ctx;
	uint32_t arg;
	bool reported;
	socklen_t to_len;
	struct sockaddr_in6 to; /* holds a sockaddr_in too */
};

struct sendq {
	struct io_uring ring;
	sendq_done_fn done;
	unsigned n;  /* prepared since the last flush */
	size_t used; /* bytes of arena they hold */
	bool broken; /* the ring is gone: sendto() (sendq_flush) */
	struct pending p[DEPTH];
	uint8_t arena[ARENA_BYTES];
};

/* Whether this kernel sends to an address given with IORING_OP_SEND
 * (older ones refuse the address with -EINVAL): one byte to a socket of
 * our own on loopback. */
static int probe_result;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static int probe_send(void)
{
	struct io_uring ring;
	int err = io_uring_queue_init(2, &ring, 0);
	if (err < 0)
		return err;
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		err = -errno;
		goto out;
	}
	static const uint8_t byte = 0x80;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_send(sqe, fd, &byte, 1, MSG_DONTWAIT);
	io_uring_prep_send_set_addr(sqe, (struct sockaddr *)&a, len);
	struct io_uring_cqe *cqe;
	err = io_uring_submit_and_wait(&ring, 1);
	if (err >= 0)
		err = io_uring_peek_cqe(&ring, &cqe);
	if (err >= 0)
		err = cqe->res == 1 ? 0 : cqe->res < 0 ? cqe->res : -EIO;
out:
	if (fd >= 0)
		close(fd);
	io_uring_queue_exit(&ring);
	return err;
}

static void probe(void)
{
	probe_result = probe_send();
}

int sendq_probe(void)
{
	pthread_once(&probe_once, probe);
	return probe_result;
}

int sendq_new(struct sendq **out, sendq_done_fn done)
{
	if (!out || !done)
		return -EINVAL;
	int err = sendq_probe();
	if (err < 0)
		return err;
	struct sendq *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	err = io_uring_queue_init(DEPTH, &q->ring, 0);
	if (err < 0) {
		free(q);
		return err;
	}
	q->done = done;
	*out = q;
	return 0;
}

void sendq_free(struct sendq *q)
{
	if (!q)
		return;
	sendq_flush(q);
	if (!q->broken)
		io_uring_queue_exit(&q->ring);
	free(q);
}

/* What the kernel took of the n prepared, each reported. Should the ring
 * refuse the batch for good (-EAGAIN that lasts: no memory for requests),
 * the queue is given up: the sends not taken are reported failed, and
 * every later one goes out with sendto() (sendq_send), so that nothing
 * prepared in a broken ring is ever sent stale. */
void sendq_flush(struct sendq *q)
{
	if (!q || !q->n)
		return;
	unsigned left = q->n, tries = 0;
	atomic_fetch_add_explicit(&total_batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&total_packets, q->n, memory_order_relaxed);
	while (left && tries < 3) {
		int err = io_uring_submit_and_wait(&q->ring, left);
		if (err < 0 && err != -EINTR)
			tries++;
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&q->ring, head, cqe)
		{
			struct pending *p = &q->p[cqe->user_data];
			p->reported = true;
			q->done(p->ctx, cqe->res, p->arg);
			seen++;
		}
		io_uring_cq_advance(&q->ring, seen);
		left -= seen;
	}
	if (left) {
		/* which were taken is not known: every send whose
		 * completion did not come is counted failed */
		io_uring_queue_exit(&q->ring);
		q->broken = true;
		for (unsigned i = 0; i < q->n && left; i++)
			if (!q->p[i].reported) {
				q->done(q->p[i].ctx, -EIO, q->p[i].arg);
				left--;
			}
	}
	q->n = 0;
	q->used = 0;
}

void sendq_send(struct sendq *q, int fd, const void *pkt, size_t len,
		const struct sockaddr *to, socklen_t to_len, void *ctx,
		uint32_t arg)
{
	if (to_len > sizeof(q->p[0].to) || len > ARENA_BYTES) {
		q->done(ctx, -EINVAL, arg);
		return;
	}
	if (q->n == DEPTH || q->used + len > ARENA_BYTES)
		sendq_flush(q);
	if (q->broken) {
		ssize_t r = sendto(fd, pkt, len, MSG_DONTWAIT, to, to_len);
		q->done(ctx, r < 0 ? -errno : (int)r, arg);
		return;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	struct pending *p = &q->p[q->n];
	uint8_t *buf = q->arena + q->used;
	memcpy(buf, pkt, len);
	memcpy(&p->to, to, to_len);
	p->to_len = to_len;
	p->ctx = ctx;
	p->arg = arg;
	p->reported = false;
	io_uring_prep_send(sqe, fd, buf, len, MSG_DONTWAIT);
	io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)&p->to,
				    (uint16_t)to_len);
	io_uring_sqe_set_data64(sqe, q->n);
	q->n++;
	q->used += len;
}

#else /* built without liburing: every send is the caller's own sendto */

int sendq_probe(void)
{
	return -ENOTSUP;
}

int sendq_new(struct sendq **out, sendq_done_fn done)
{
	return !out || !done ? -EINVAL : -ENOTSUP;
}

void sendq_free(struct sendq *q)
{
	(void)q;
}

void sendq_flush(struct sendq *q)
{
	(void)q;
}

void sendq_send(struct sendq *q, int fd, const void *pkt, size_t len,
		const struct sockaddr *to, socklen_t to_len, void *ctx,
		uint32_t arg)
{
	(void)q, (void)fd, (void)pkt, (void)len, (void)to, (void)to_len;
	(void)ctx, (void)arg;
	abort(); /* no queue can exist to send on */
}

#endif
