/* test_portpool.c: the media port pool (rtp/portpool.c): even pairs,
 * exhaustion, release, round-robin reuse and ports held by others. */
#include "rtp/rtp.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

/* A range per test process, so that parallel runs do not collide. */
static uint16_t base_port(void)
{
	return (uint16_t)(20000 + (getpid() % 2000) * 16);
}

static uint16_t local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int hold(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_alloc_and_exhaust(void)
{
	uint16_t lo = base_port();
	struct portpool *pp;
	int a[5], b[5];
	uint16_t port[5];

	CU_ASSERT_EQUAL_FATAL(portpool_new(&pp, lo, (uint16_t)(lo + 7)), 0);
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    portpool_bind(pp, "127.0.0.1", &a[i], &b[i], &port[i]), 0);
		CU_ASSERT_EQUAL(port[i] % 2, 0);
		CU_ASSERT_TRUE(port[i] >= lo && port[i] <= lo + 6);
		CU_ASSERT_EQUAL(local_port(a[i]), port[i]);
		CU_ASSERT_EQUAL(local_port(b[i]), port[i] + 1);
		CU_ASSERT_TRUE(fcntl(a[i], F_GETFL) & O_NONBLOCK);
		CU_ASSERT_TRUE(fcntl(b[i], F_GETFD) & FD_CLOEXEC);
		for (int j = 0; j < i; j++)
			CU_ASSERT_NOT_EQUAL(port[i], port[j]);
	}
	CU_ASSERT_EQUAL(portpool_in_use(pp), 4);
	CU_ASSERT_EQUAL(portpool_bind(pp, "127.0.0.1", &a[4], &b[4], &port[4]),
			-ENOSPC);

	/* Release one: it is the only one left, so it comes back. */
	portpool_release(pp, a[2], b[2], port[2]);
	CU_ASSERT_EQUAL(portpool_in_use(pp), 3);
	CU_ASSERT_EQUAL(portpool_bind(pp, "127.0.0.1", &a[4], &b[4], &port[4]),
			0);
	CU_ASSERT_EQUAL(port[4], port[2]);
	portpool_release(pp, a[4], b[4], port[4]);
	for (int i = 0; i < 4; i++)
		if (i != 2)
			portpool_release(pp, a[i], b[i], port[i]);
	CU_ASSERT_EQUAL(portpool_in_use(pp), 0);
	portpool_free(pp);
}

static void test_round_robin(void)
{
	uint16_t lo = base_port();
	struct portpool *pp;
	int a, b;
	uint16_t p1, p2, p3;

	CU_ASSERT_EQUAL_FATAL(portpool_new(&pp, lo, (uint16_t)(lo + 5)), 0);
	CU_ASSERT_EQUAL_FATAL(portpool_bind(pp, "127.0.0.1", &a, &b, &p1), 0);
	portpool_release(pp, a, b, p1);
	/* The port just released is the last to be reused. */
	CU_ASSERT_EQUAL_FATAL(portpool_bind(pp, "127.0.0.1", &a, &b, &p2), 0);
	CU_ASSERT_NOT_EQUAL(p2, p1);
	portpool_release(pp, a, b, p2);
	CU_ASSERT_EQUAL_FATAL(portpool_bind(pp, "127.0.0.1", &a, &b, &p3), 0);
	CU_ASSERT_NOT_EQUAL(p3, p1);
	CU_ASSERT_NOT_EQUAL(p3, p2);
	portpool_release(pp, a, b, p3);
	CU_ASSERT_EQUAL_FATAL(portpool_bind(pp, "127.0.0.1", &a, &b, &p3), 0);
	CU_ASSERT_EQUAL(p3, p1); /* wrapped around */
	portpool_release(pp, a, b, p3);
	portpool_free(pp);
}

static void test_skip_held(void)
{
	uint16_t lo = base_port();
	struct portpool *pp;
	int a, b, h1, h2;
	uint16_t port;

	/* Someone else holds lo (an RTP port) and lo + 3 (an RTCP port). */
	h1 = hold(lo);
	h2 = hold((uint16_t)(lo + 3));
	CU_ASSERT_TRUE_FATAL(h1 >= 0 && h2 >= 0);
	CU_ASSERT_EQUAL_FATAL(portpool_new(&pp, lo, (uint16_t)(lo + 6)), 0);
	CU_ASSERT_EQUAL(portpool_bind(pp, "127.0.0.1", &a, &b, &port), 0);
	CU_ASSERT_EQUAL(port, lo + 4);
	CU_ASSERT_EQUAL(portpool_in_use(pp), 1);
	/* lo + 6 is next; then only held ports remain. */
	int a2, b2;
	uint16_t port2;
	CU_ASSERT_EQUAL(portpool_bind(pp, "127.0.0.1", &a2, &b2, &port2), 0);
	CU_ASSERT_EQUAL(port2, lo + 6);
	CU_ASSERT_EQUAL(portpool_bind(pp, "127.0.0.1", &a2, &b2, &port2),
			-ENOSPC);
	portpool_release(pp, a, b, port);
	portpool_release(pp, -1, -1, lo + 6); /* fds closed by hand below */
	close(a2);
	close(b2);
	close(h1);
	close(h2);
	portpool_free(pp);
}

static void test_ipv6_and_hosts(void)
{
	uint16_t lo = base_port();
	struct portpool *pp;
	int a, b;
	uint16_t port;

	CU_ASSERT_EQUAL_FATAL(portpool_new(&pp, lo, (uint16_t)(lo + 8)), 0);
	int probe = socket(AF_INET6, SOCK_DGRAM, 0);
	if (probe >= 0) {
		close(probe);
		int err = portpool_bind(pp, "::1", &a, &b, &port);
		/* A kernel with IPv6 but no ::1 says EADDRNOTAVAIL. */
		CU_ASSERT_TRUE(err == 0 || err == -EADDRNOTAVAIL);
		if (!err) {
			CU_ASSERT_EQUAL(local_port(b), port + 1);
			portpool_release(pp, a, b, port);
		}
	}
	CU_ASSERT_EQUAL(portpool_bind(pp, "localhost", &a, &b, &port), -EINVAL);
	CU_ASSERT_EQUAL(portpool_bind(pp, "[::1]", &a, &b, &port), -EINVAL);
	/* Not an address of this host: fails at once, not -ENOSPC. */
	CU_ASSERT_EQUAL(portpool_bind(pp, "192.0.2.1", &a, &b, &port),
			-EADDRNOTAVAIL);
	CU_ASSERT_EQUAL(portpool_in_use(pp), 0);
	CU_ASSERT_EQUAL(portpool_bind(pp, "0.0.0.0", &a, &b, &port), 0);
	portpool_release(pp, a, b, port);
	portpool_free(pp);
}

static void test_new_args(void)
{
	struct portpool *pp;
	int a, b;
	uint16_t port, lo = base_port();

	CU_ASSERT_EQUAL(portpool_new(&pp, 0, 100), -EINVAL);
	CU_ASSERT_EQUAL(portpool_new(&pp, 5000, 4000), -EINVAL);
	CU_ASSERT_EQUAL(portpool_new(&pp, 5001, 5001), -EINVAL);
	/* An odd lower bound starts at the next even port. */
	CU_ASSERT_EQUAL_FATAL(
	    portpool_new(&pp, (uint16_t)(lo + 1), (uint16_t)(lo + 2)), 0);
	CU_ASSERT_EQUAL(portpool_bind(pp, "127.0.0.1", &a, &b, &port), 0);
	CU_ASSERT_EQUAL(port, lo + 2);
	portpool_release(pp, a, b, port);
	portpool_free(pp);
	portpool_free(NULL);
	CU_ASSERT_EQUAL(portpool_in_use(NULL), 0);
}

static const struct unit_test tests[] = {
    {"allocate even pairs until exhausted", test_alloc_and_exhaust},
    {"round robin", test_round_robin},
    {"skip ports held by others", test_skip_held},
    {"ipv6 and hosts", test_ipv6_and_hosts},
    {"arguments", test_new_args},
    {NULL, NULL},
};

UNIT_MAIN("portpool", tests)
