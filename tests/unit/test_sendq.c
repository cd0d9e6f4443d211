/* test_sendq.c: a thread's packets sent in io_uring batches (rtp/sendq.c):
 * every packet arrives where it was sent, whole and in order, once the
 * queue is flushed; each is reported once, with its length or the
 * kernel's error; a queue that fills up sends what it holds and goes on;
 * what cannot be sent is reported, and the others still go.
 *
 * Where this kernel (or a seccomp filter) refuses io_uring, sendq_new must
 * say so with an error, which is what tutti then logs before it sends with
 * sendto(); the tests that need a queue say they were skipped. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define SOCKS	    20
#define MAX_REPORTS 2000

struct reports {
	unsigned n;
	int res[MAX_REPORTS];
	uint32_t arg[MAX_REPORTS];
	void *ctx[MAX_REPORTS];
};

static void on_done(void *ctx, int res, uint32_t arg)
{
	struct reports *r = ctx;
	CU_ASSERT_FATAL(r->n < MAX_REPORTS);
	r->res[r->n] = res;
	r->arg[r->n] = arg;
	r->ctx[r->n] = ctx;
	r->n++;
}

static bool new_queue(struct sendq **q)
{
	int err = sendq_new(q, on_done);
	if (err == 0)
		return true;
	CU_ASSERT(err < 0);
	printf("\n  io_uring batches unavailable here (%s): skipped",
	       strerror(-err));
	return false;
}

/* The next datagram on fd, within 1 s; its length or -1. */
static int recv_one(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 1000) != 1)
		return -1;
	return (int)recv(fd, buf, cap, 0);
}

/* Batches submitted by every queue so far (one thread here). */
static uint64_t batches(void)
{
	uint64_t b, packets;
	sendq_totals(&b, &packets);
	return b;
}

static bool nothing_waiting(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 0;
}

/* 30 packets to each of 20 sockets (600: more than a queue holds, so it
 * sends what it has twice by itself), of sizes 12 to 311, from one
 * socket. Nothing leaves before its batch; all is there after the flush,
 * byte for byte, in the order sent, each reported with its length. */
static void test_many_sockets(void)
{
	struct sendq *q;
	if (!new_queue(&q))
		return;
	struct sockaddr_storage to[SOCKS], from;
	int rx[SOCKS], tx = unit_udp_socket(&from);
	for (int i = 0; i < SOCKS; i++)
		rx[i] = unit_udp_socket(&to[i]);
	static struct reports r;
	memset(&r, 0, sizeof(r));
	uint8_t pkt[400];

	sendq_send(q, tx, "x", 1, (struct sockaddr *)&to[0],
		   sizeof(struct sockaddr_in), &r, 7);
	CU_ASSERT(nothing_waiting(rx[0])); /* not before the flush */
	CU_ASSERT_EQUAL(r.n, 0);
	sendq_flush(q);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_EQUAL(r.res[0], 1);
	CU_ASSERT_EQUAL(r.arg[0], 7);
	CU_ASSERT_EQUAL(recv_one(rx[0], pkt, sizeof(pkt)), 1);
	uint64_t flushes = batches();

	r.n = 0;
	for (int k = 0; k < 30; k++)
		for (int i = 0; i < SOCKS; i++) {
			size_t len = 12 + (size_t)(k * SOCKS + i) % 300;
			memset(pkt, k * SOCKS + i, len);
			pkt[0] = (uint8_t)k;
			sendq_send(q, tx, pkt, len, (struct sockaddr *)&to[i],
				   sizeof(struct sockaddr_in), &r,
				   (uint32_t)(k * SOCKS + i));
		}
	sendq_flush(q);
	CU_ASSERT_EQUAL(r.n, 30 * SOCKS);
	/* 600 sends, 256 a batch: two batches went by themselves */
	CU_ASSERT_EQUAL(batches() - flushes, 3);
	for (unsigned j = 0; j < r.n; j++)
		CU_ASSERT_EQUAL(r.res[j], (int)(12 + r.arg[j] % 300));
	for (int i = 0; i < SOCKS; i++)
		for (int k = 0; k < 30; k++) {
			uint8_t got[400];
			int n = recv_one(rx[i], got, sizeof(got));
			size_t len = 12 + (size_t)(k * SOCKS + i) % 300;
			CU_ASSERT_EQUAL_FATAL(n, (int)len);
			CU_ASSERT_EQUAL(got[0], k); /* in order */
			CU_ASSERT_EQUAL(got[len - 1], (uint8_t)(k * SOCKS + i));
		}
	for (int i = 0; i < SOCKS; i++) {
		CU_ASSERT(nothing_waiting(rx[i]));
		close(rx[i]);
	}
	close(tx);
	sendq_free(q);
}

/* Big packets fill the queue's buffer before its slots: 60 of 1400
 * bytes are 84 KB, so one batch goes before the flush; every one is
 * reported sent. An IPv6 peer is sent to as well. */
static void test_buffer_fills(void)
{
	struct sendq *q;
	if (!new_queue(&q))
		return;
	struct sockaddr_storage to, from;
	int rx = unit_udp_socket(&to), tx = unit_udp_socket(&from);
	int sz = 1 << 20;
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	static struct reports r;
	memset(&r, 0, sizeof(r));
	uint8_t pkt[1400];
	for (int k = 0; k < 60; k++) {
		memset(pkt, k, sizeof(pkt));
		sendq_send(q, tx, pkt, sizeof(pkt), (struct sockaddr *)&to,
			   sizeof(struct sockaddr_in), &r, (uint32_t)k);
	}
	CU_ASSERT(r.n > 0 && r.n < 60); /* the first batch went by itself */
	sendq_flush(q);
	CU_ASSERT_EQUAL(r.n, 60);
	unsigned ok = 0;
	for (unsigned j = 0; j < r.n; j++)
		ok += r.res[j] == (int)sizeof(pkt);
	CU_ASSERT_EQUAL(ok, 60);
	for (int k = 0; k < 60; k++) {
		uint8_t got[1500];
		CU_ASSERT_EQUAL(recv_one(rx, got, sizeof(got)), 1400);
		CU_ASSERT_EQUAL(got[1399], k);
	}

	int rx6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int tx6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(a6);
	if (rx6 >= 0 && tx6 >= 0 &&
	    bind(rx6, (struct sockaddr *)&a6, sizeof(a6)) == 0 &&
	    getsockname(rx6, (struct sockaddr *)&a6, &len) == 0) {
		r.n = 0;
		sendq_send(q, tx6, "six", 3, (struct sockaddr *)&a6, sizeof(a6),
			   &r, 6);
		sendq_flush(q);
		CU_ASSERT_EQUAL(r.n, 1);
		CU_ASSERT_EQUAL(r.res[0], 3);
		CU_ASSERT_EQUAL(recv_one(rx6, pkt, sizeof(pkt)), 3);
	} else {
		printf("\n  no IPv6 loopback: the IPv6 send is not tried");
	}
	if (rx6 >= 0)
		close(rx6);
	if (tx6 >= 0)
		close(tx6);
	close(rx);
	close(tx);
	sendq_free(q);
}

/* A send that cannot go (not a socket; a packet larger than UDP takes;
 * an address too long) is reported with its error, once; the sends
 * around it in the same batch still arrive. */
static void test_errors_reported(void)
{
	struct sendq *q;
	if (!new_queue(&q))
		return;
	struct sockaddr_storage to, from;
	int rx = unit_udp_socket(&to), tx = unit_udp_socket(&from);
	int pipefd[2];
	CU_ASSERT_FATAL(pipe(pipefd) == 0);
	static struct reports r;
	memset(&r, 0, sizeof(r));
	static uint8_t big[70000];
	const struct sockaddr *sa = (struct sockaddr *)&to;

	sendq_send(q, tx, "a", 1, sa, sizeof(struct sockaddr_in), &r, 1);
	sendq_send(q, pipefd[1], "b", 1, sa, sizeof(struct sockaddr_in), &r, 2);
	sendq_send(q, tx, big, sizeof(big), sa, sizeof(struct sockaddr_in), &r,
		   3);
	sendq_send(q, tx, "c", 1, sa, sizeof(struct sockaddr_storage) + 1, &r,
		   4);
	sendq_send(q, tx, "d", 1, sa, sizeof(struct sockaddr_in), &r, 5);
	sendq_flush(q);
	CU_ASSERT_EQUAL_FATAL(r.n, 5);
	int res[6] = {0};
	for (unsigned j = 0; j < r.n; j++)
		res[r.arg[j]] = r.res[j];
	CU_ASSERT_EQUAL(res[1], 1);
	CU_ASSERT_EQUAL(res[2], -ENOTSOCK);
	CU_ASSERT_EQUAL(res[3], -EINVAL); /* larger than the queue takes */
	CU_ASSERT_EQUAL(res[4], -EINVAL);
	CU_ASSERT_EQUAL(res[5], 1);
	uint8_t got[8];
	CU_ASSERT_EQUAL(recv_one(rx, got, sizeof(got)), 1);
	CU_ASSERT_EQUAL(got[0], 'a');
	CU_ASSERT_EQUAL(recv_one(rx, got, sizeof(got)), 1);
	CU_ASSERT_EQUAL(got[0], 'd');
	CU_ASSERT(nothing_waiting(rx));
	/* an empty flush reports nothing and is not a batch */
	uint64_t flushes = batches();
	sendq_flush(q);
	CU_ASSERT_EQUAL(r.n, 5);
	CU_ASSERT_EQUAL(batches(), flushes);
	/* freeing sends what is left */
	sendq_send(q, tx, "e", 1, sa, sizeof(struct sockaddr_in), &r, 5);
	sendq_free(q);
	CU_ASSERT_EQUAL(r.n, 6);
	CU_ASSERT_EQUAL(recv_one(rx, got, sizeof(got)), 1);
	close(pipefd[0]);
	close(pipefd[1]);
	close(rx);
	close(tx);
}

static void test_bad_arguments(void)
{
	struct sendq *q = NULL;
	CU_ASSERT_EQUAL(sendq_new(NULL, on_done), -EINVAL);
	int err = sendq_new(&q, NULL);
	CU_ASSERT(err == -EINVAL || err == -ENOTSUP);
	CU_ASSERT_PTR_NULL(q);
	sendq_free(NULL);
	sendq_flush(NULL);
}

static const struct unit_test tests[] = {
    {"packets to many sockets in batches", test_many_sockets},
    {"big packets fill the buffer; IPv6", test_buffer_fills},
    {"errors are reported, the rest still goes", test_errors_reported},
    {"bad arguments", test_bad_arguments},
    {NULL, NULL},
};

UNIT_MAIN("sendq", tests)
