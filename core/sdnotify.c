/* sdnotify.c: systemd's service notification protocol, spoken directly.
 *
 * Under a Type=notify unit systemd names a unix datagram socket in
 * NOTIFY_SOCKET (a path, or "@name" for the abstract namespace) and reads
 * newline-separated assignments from it: READY=1, STOPPING=1, WATCHDOG=1,
 * STATUS=... The protocol is one sendto() per message and stable since
 * systemd 209, so a dozen lines here spare us libsystemd and its
 * dependencies. Nothing is sent when NOTIFY_SOCKET is unset (not started
 * by systemd), which is not an error. Any thread; nothing is kept between
 * calls, so that a restarted socket path is simply used again. */
#include "core/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills *sa from NOTIFY_SOCKET; returns the address length, 0 when the
 * variable is unset or empty, -EINVAL when it names no usable socket. */
static int notify_addr(struct sockaddr_un *sa)
{
	const char *v = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!v || !*v)
		return 0;
	n = strlen(v);
	if ((v[0] != '/' && v[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, v, n);
	if (v[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: no terminating NUL */
	else
		n++;
	return (int)(offsetof(struct sockaddr_un, sun_path) + n);
}

int sdnotify_send(const char *state)
{
	struct sockaddr_un sa;
	int len = notify_addr(&sa);
	int fd, err = 0;

	if (len <= 0)
		return len;
	if (!state || !*state)
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (const struct sockaddr *)&sa, (socklen_t)len) < 0)
		err = -errno;
	close(fd);
	return err ? err : 1;
}

uint64_t sdnotify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long v = 0, p = 0;

	if (!usec || netaddr_parse_ulong(usec, ~0ul, &v) != 0 || v == 0)
		return 0;
	/* Set for another process (a parent that exec'd us keeps its
	 * variables): the pings would not count. */
	if (pid && (netaddr_parse_ulong(pid, ~0ul, &p) != 0 ||
		    p != (unsigned long)getpid()))
		return 0;
	return v;
}
