/* test_sdnotify.c: core/sdnotify.c against a unix datagram socket of the
 * test's own, bound at a path and in the abstract namespace as systemd
 * may give it; WATCHDOG_USEC and WATCHDOG_PID as systemd sets them. */
#include "core/core.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A socket bound at name ("@..." abstract), with a receive timeout. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 2};

	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		n++;
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	CU_ASSERT_TRUE_FATAL(n >= 0);
	buf[n] = '\0';
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_unset(void)
{
	unsetenv("NOTIFY_SOCKET");
	CU_ASSERT_EQUAL(sdnotify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	CU_ASSERT_EQUAL(sdnotify_send("READY=1"), 0);
}

static void test_path(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/tutti-test-notify-%d", getpid());
	unlink(path);
	int fd = listen_at(path);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CU_ASSERT_EQUAL(sdnotify_send("READY=1\nSTATUS=up"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=up");
	CU_ASSERT_EQUAL(sdnotify_send("WATCHDOG=1"), 1);
	expect_datagram(fd, "WATCHDOG=1");
	CU_ASSERT_EQUAL(sdnotify_send(""), -EINVAL);
	CU_ASSERT_EQUAL(sdnotify_send(NULL), -EINVAL);
	close(fd);
	unlink(path);
	/* Nobody listening any more: an error, never a crash or a block. */
	CU_ASSERT_EQUAL(sdnotify_send("STOPPING=1"), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract(void)
{
	char name[64];

	snprintf(name, sizeof(name), "@tutti-test-notify-%d", getpid());
	int fd = listen_at(name);
	CU_ASSERT_TRUE_FATAL(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	CU_ASSERT_EQUAL(sdnotify_send("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_bad_address(void)
{
	char longer[200];

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CU_ASSERT_EQUAL(sdnotify_send("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	CU_ASSERT_EQUAL(sdnotify_send("READY=1"), -EINVAL);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longer, 1);
	CU_ASSERT_EQUAL(sdnotify_send("READY=1"), -EINVAL);
	/* vsock and other schemes systemd may use are not ours to speak. */
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CU_ASSERT_EQUAL(sdnotify_send("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_watchdog_usec(void)
{
	char pid[32];

	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	CU_ASSERT_EQUAL(sdnotify_watchdog_usec(), 0);
	setenv("WATCHDOG_USEC", "30000000", 1);
	CU_ASSERT_EQUAL(sdnotify_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%d", getpid());
	setenv("WATCHDOG_PID", pid, 1);
	CU_ASSERT_EQUAL(sdnotify_watchdog_usec(), 30000000);
	snprintf(pid, sizeof(pid), "%d", getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	CU_ASSERT_EQUAL(sdnotify_watchdog_usec(), 0); /* not for us */
	setenv("WATCHDOG_PID", "x", 1);
	CU_ASSERT_EQUAL(sdnotify_watchdog_usec(), 0);
	unsetenv("WATCHDOG_PID");
	static const char *const bad[] = {"0", "-5", " 5", "5s", "", "0x10"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		CU_ASSERT_EQUAL(sdnotify_watchdog_usec(), 0);
	}
	unsetenv("WATCHDOG_USEC");
}

static const struct unit_test tests[] = {
    {"unset", test_unset},
    {"path", test_path},
    {"abstract", test_abstract},
    {"bad_address", test_bad_address},
    {"watchdog_usec", test_watchdog_usec},
    {NULL, NULL},
};

UNIT_MAIN("sdnotify", tests)
