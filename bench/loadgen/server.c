/* server.c: the tutti under test: started by loadgen (--tutti BINARY) or
 * already running (--pid); its CPU time from /proc/PID/stat and its tick
 * figures from GET /metrics.
 *
 * A tutti loadgen starts gets loopback ports found free, a fresh data
 * directory, the limits that would refuse a load test turned off
 * (--sip-rate 0 --max-calls 0 --max-rooms 0 --max-participants 0) and an
 * RTP range below the kernel's ephemeral ports (where loadgen's own
 * sockets are). Its output goes to tutti.log in that directory. It is
 * stopped by its PID, SIGTERM then SIGKILL after 5 s, and gets SIGTERM
 * from the kernel if loadgen dies first (PR_SET_PDEATHSIG). */
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const double metrics_le_ms[8] = {0.5, 1, 2, 5, 10, 20, 50, 1e9};

static uint16_t free_port_of(int type, uint16_t want)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(want)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, type, 0);
	uint16_t port = 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &al))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A port free for both UDP and TCP (SIP listens on both). */
static uint16_t free_port(void)
{
	for (int i = 0; i < 50; i++) {
		uint16_t p = free_port_of(SOCK_DGRAM, 0);
		if (p && free_port_of(SOCK_STREAM, p) == p)
			return p;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

int server_spawn(struct lg *g)
{
	char sip[64], http[64], data[192], logp[192];
	const char *argv[40];
	int n = 0;

	snprintf(g->tmpdir, sizeof(g->tmpdir), "/tmp/loadgen-XXXXXX");
	if (!mkdtemp(g->tmpdir))
		return -errno;
	g->sip_port = free_port();
	g->http_port = free_port_of(SOCK_STREAM, 0);
	snprintf(sip, sizeof(sip), "127.0.0.1:%u", g->sip_port);
	snprintf(http, sizeof(http), "127.0.0.1:%u", g->http_port);
	snprintf(data, sizeof(data), "%s/data", g->tmpdir);
	snprintf(logp, sizeof(logp), "%s/tutti.log", g->tmpdir);
	snprintf(g->server_host, sizeof(g->server_host), "127.0.0.1");
	argv[n++] = g->tutti_bin;
	const char *fixed[] = {
	    "--sip-listen",	  sip,		"--http-listen", http,
	    "--rtp-ports",	  g->rtp_ports, "--data-dir",	 data,
	    "--log-level",	  "info",	"--sip-rate",	 "0",
	    "--max-calls",	  "0",		"--max-rooms",	 "0",
	    "--max-participants", "0"};
	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		argv[n++] = fixed[k];
	char extra[512];
	snprintf(extra, sizeof(extra), "%s",
		 g->tutti_extra ? g->tutti_extra : "");
	for (char *save, *tok = strtok_r(extra, " ", &save); tok && n < 38;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;

	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* stopped with loadgen even if loadgen is killed */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		mkdir(data, 0700);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	g->server_pid = pid;
	g->started_server = true;
	for (int i = 0; i < 200; i++) { /* 10 s to come up */
		if (metrics_fetch(g).ok)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			g->started_server = false;
			fprintf(stderr, "loadgen: tutti exited, see %s\n",
				logp);
			return -ECHILD;
		}
		sleep_ms(50);
	}
	fprintf(stderr, "loadgen: tutti did not come up, see %s\n", logp);
	return -ETIMEDOUT;
}

void server_stop(struct lg *g)
{
	if (!g->started_server)
		return;
	kill(g->server_pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(g->server_pid, NULL, WNOHANG) == g->server_pid) {
			g->started_server = false;
			return;
		}
		sleep_ms(50);
	}
	kill(g->server_pid, SIGKILL);
	waitpid(g->server_pid, NULL, 0);
	g->started_server = false;
}

int64_t proc_cpu_ns(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the name may hold spaces */
	unsigned long long ut, st;
	if (!p ||
	    sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		return -1;
	return (int64_t)((ut + st) *
			 (1000000000ULL /
			  (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static double metric(const char *body, const char *name)
{
	const char *p = body;
	size_t nl = strlen(name);
	while ((p = strstr(p, name))) {
		if ((p == body || p[-1] == '\n') && p[nl] == ' ')
			return strtod(p + nl + 1, NULL);
		p += nl;
	}
	return -1;
}

struct metrics_snap metrics_fetch(const struct lg *g)
{
	struct metrics_snap s = {0};
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(g->http_port)};
	static char body[1 << 20];
	size_t got = 0;
	inet_pton(AF_INET, g->server_host, &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return s;
	}
	const char req[] = "GET /metrics HTTP/1.0\r\nHost: loadgen\r\n\r\n";
	if (write(fd, req, sizeof(req) - 1) == (ssize_t)sizeof(req) - 1) {
		ssize_t n;
		while (got < sizeof(body) - 1 &&
		       (n = read(fd, body + got, sizeof(body) - 1 - got)) > 0)
			got += (size_t)n;
	}
	close(fd);
	body[got] = 0;
	if (strncmp(body, "HTTP/1.", 7) || atoi(body + 9) != 200)
		return s;
	s.ticks = metric(body, "tutti_ticks_total");
	s.late = metric(body, "tutti_late_ticks_total");
	static const char *const le[8] = {"0.0005", "0.001", "0.002", "0.005",
					  "0.01",   "0.02",  "0.05",  "+Inf"};
	for (int i = 0; i < 8; i++) {
		char name[96];
		snprintf(name, sizeof(name),
			 "tutti_tick_duration_seconds_bucket{le=\"%s\"}",
			 le[i]);
		s.bucket[i] = metric(body, name);
	}
	s.ok = s.ticks >= 0 && s.late >= 0;
	return s;
}
