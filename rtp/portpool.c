/* portpool.c: the media port range, handed out as RTP/RTCP socket pairs.
 *
 * Each call gets an even port for RTP and the odd port above it for RTCP,
 * both bound, non-blocking and close-on-exec. The pool walks the range
 * round-robin from just past the last port it handed out, so that a port
 * released a moment ago is the last to be reused: late packets of a call
 * that just ended do not land in the next one. Ports some other process
 * holds (bind fails with EADDRINUSE or EACCES) are skipped; any other bind
 * failure (a host that is not ours, a family the kernel lacks) would fail
 * on every port, so it is returned at once.
 *
 * The pool belongs to the signalling thread. Sockets it returns belong to
 * the caller until they are given back with portpool_release(). */
#include "rtp/rtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct portpool {
	uint16_t lo;   /* first even port */
	unsigned n;    /* number of pairs */
	unsigned next; /* pair to try first */
	unsigned in_use;
	uint8_t *used; /* per pair: we hold it */
};

int portpool_new(struct portpool **out, uint16_t lo, uint16_t hi)
{
	struct portpool *pp;
	unsigned first = lo + (lo & 1u);

	if (!out || lo == 0 || first > hi)
		return -EINVAL;
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	pp->lo = (uint16_t)first;
	pp->n = (hi - first) / 2 + 1;
	pp->used = calloc(pp->n, 1);
	if (!pp->used)
		goto fail;
	*out = pp;
	return 0;
fail:
	portpool_free(pp);
	return -ENOMEM;
}

void portpool_free(struct portpool *pp)
{
	if (!pp)
		return;
	free(pp->used);
	free(pp);
}

unsigned portpool_in_use(const struct portpool *pp)
{
	return pp ? pp->in_use : 0;
}

static int parse_host(const char *host, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		*len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

/* Returns a bound socket, -EADDRINUSE when the port is taken, or another
 * negative errno. */
static int bind_one(struct sockaddr_storage *ss, socklen_t len, uint16_t port)
{
	int fd, err;

	fd =
	    socket(ss->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_port(ss, port);
	if (bind(fd, (struct sockaddr *)ss, len) < 0) {
		err = errno == EACCES ? -EADDRINUSE : -errno;
		close(fd);
		return err;
	}
	return fd;
}

int portpool_bind(struct portpool *pp, const char *host, int *rtp_fd,
		  int *rtcp_fd, uint16_t *rtp_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err;

	if (!pp || !host || !rtp_fd || !rtcp_fd || !rtp_port)
		return -EINVAL;
	err = parse_host(host, &ss, &len);
	if (err)
		return err;

	for (unsigned i = 0; i < pp->n; i++) {
		unsigned idx = (pp->next + i) % pp->n;
		uint16_t port = (uint16_t)(pp->lo + 2 * idx);
		int a, b;

		if (pp->used[idx])
			continue;
		a = bind_one(&ss, len, port);
		if (a == -EADDRINUSE)
			continue;
		if (a < 0)
			return a;
		b = bind_one(&ss, len, (uint16_t)(port + 1));
		if (b < 0) {
			close(a);
			if (b == -EADDRINUSE)
				continue;
			return b;
		}
		pp->used[idx] = 1;
		pp->in_use++;
		pp->next = (idx + 1) % pp->n;
		*rtp_fd = a;
		*rtcp_fd = b;
		*rtp_port = port;
		return 0;
	}
	return -ENOSPC;
}

void portpool_release(struct portpool *pp, int rtp_fd, int rtcp_fd,
		      uint16_t rtp_port)
{
	if (rtp_fd >= 0)
		close(rtp_fd);
	if (rtcp_fd >= 0)
		close(rtcp_fd);
	if (!pp || rtp_port < pp->lo || (rtp_port - pp->lo) & 1)
		return;
	unsigned idx = (rtp_port - pp->lo) / 2u;
	if (idx < pp->n && pp->used[idx]) {
		pp->used[idx] = 0;
		pp->in_use--;
	}
}
