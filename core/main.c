/* main.c: the composition root. Parses options, starts the focus (SIP,
 * the store and the rooms) and the HTTP API, waits for SIGINT or SIGTERM,
 * then stops them in order. The only file that includes every folder.
 *
 * Signals are blocked before any thread starts and taken with
 * sigtimedwait(), so that no library thread is interrupted and shutdown
 * runs in ordinary code rather than in a handler. Under systemd
 * (Type=notify) main tells it READY=1 once SIP, the store and HTTP are
 * all up, STOPPING=1 when a signal came, and, when the unit has a
 * WatchdogSec=, WATCHDOG=1 at half that interval but only while the
 * signalling thread answers and every mixer ticks: a hung bridge is then
 * restarted by systemd rather than left holding its calls in silence. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/api.h"
#include "conference/conference.h"
#include "core/core.h"

static void print_versions(FILE *f)
{
	conference_print_versions(f);
}

static int check_security(const struct options *o)
{
	if (!o->api_token[0] && !netaddr_is_loopback(o->http_host)) {
		fprintf(stderr,
			"tutti: --http-listen %s is not a loopback address: "
			"set --api-token or --api-token-file\n",
			o->http_listen);
		return -EINVAL;
	}
	return 0;
}

/* Whether the bridge has earned its next WATCHDOG=1: the signalling
 * thread answers within timeout_ms and no mixer thread has stopped
 * ticking (CONF_METRICS's mixers_stalled). Otherwise why says what. */
static bool bridge_alive(struct conference *conf, unsigned timeout_ms,
			 char *why, size_t len)
{
	struct conf_req req = {.op = CONF_METRICS};
	struct conf_reply rep = {0};
	int err = conference_request(conf, &req, &rep, timeout_ms);
	unsigned stalled = rep.metrics.mixers_stalled;

	conference_reply_clear(&rep);
	if (err) {
		snprintf(why, len, "the signalling thread does not answer: %s",
			 strerror(-err));
		return false;
	}
	if (stalled) {
		snprintf(why, len, "%u mixers have not ticked for %u ms",
			 stalled, CONF_MIXER_STALL_MS);
		return false;
	}
	return true;
}

struct watchdog {
	uint64_t interval_ns; /* 0: no watchdog */
	uint64_t next_ns;     /* CLOCK_MONOTONIC of the next check */
	bool failing;	      /* for logging the changes only */
};

static void watchdog_check(struct watchdog *w, struct conference *conf)
{
	char why[128];
	unsigned timeout_ms = (unsigned)(w->interval_ns / 4000000);

	if (timeout_ms > 1000)
		timeout_ms = 1000; /* SIGTERM waits for us meanwhile */
	if (timeout_ms < 10)
		timeout_ms = 10; /* a WatchdogSec= of a few ms: still ask */
	if (bridge_alive(conf, timeout_ms, why, sizeof(why))) {
		if (w->failing)
			log_info("main", "watchdog: healthy again");
		w->failing = false;
		sdnotify_send("WATCHDOG=1");
	} else {
		if (!w->failing)
			log_error("main",
				  "watchdog: %s: no WATCHDOG=1 for systemd",
				  why);
		w->failing = true;
	}
}

/* Waits for SIGINT or SIGTERM, checking the bridge for the watchdog on
 * the way. Returns the signal. */
static int wait_for_stop(const sigset_t *stop, struct watchdog *w,
			 struct conference *conf)
{
	for (;;) {
		int sig;

		if (!w->interval_ns) {
			if (sigwait(stop, &sig) == 0)
				return sig;
			continue;
		}
		uint64_t now = mono_now_ns();
		if (now >= w->next_ns) {
			watchdog_check(w, conf);
			w->next_ns += w->interval_ns;
			if (w->next_ns <= now) /* the check took long */
				w->next_ns = now + w->interval_ns;
			continue;
		}
		uint64_t wait = w->next_ns - now;
		struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
				      .tv_nsec = (long)(wait % 1000000000u)};
		sig = sigtimedwait(stop, NULL, &ts);
		if (sig > 0)
			return sig;
	}
}

int main(int argc, char **argv)
{
	static struct options opts;
	char err[512];
	options_version_hook = print_versions;
	int r = options_parse(&opts, argc, argv, stdout, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "tutti: %s\n", err);
		return 2;
	}
	if (r == OPTIONS_EXIT)
		return 0;
	if (check_security(&opts))
		return 2;
	log_set_levels(&opts.log_levels);
	log_detect_journal();

	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct conference *conf = NULL;
	struct api *api = NULL;
	if (conference_start(&conf, &opts))
		return 1;
	if (api_start(&api, &opts, conf)) {
		conference_stop(conf);
		conference_free(conf);
		return 1;
	}
	log_info("main", "tutti %s ready: sip=%s http=%s rtp=%u-%u",
		 TUTTI_VERSION, opts.sip_listen, opts.http_listen,
		 opts.rtp_port_lo, opts.rtp_port_hi);

	char state[256];
	snprintf(state, sizeof(state), "READY=1\nSTATUS=sip %s, http %s",
		 opts.sip_listen, opts.http_listen);
	if (sdnotify_send(state) < 0)
		log_warn("main", "cannot notify systemd through NOTIFY_SOCKET");
	struct watchdog w = {.interval_ns = sdnotify_watchdog_usec() * 500};
	if (w.interval_ns) {
		log_info("main", "watchdog: WATCHDOG=1 every %llu ms",
			 (unsigned long long)(w.interval_ns / 1000000));
		w.next_ns = mono_now_ns();
	}

	int sig = wait_for_stop(&stop_signals, &w, conf);
	sdnotify_send("STOPPING=1\nSTATUS=stopping");
	log_info("main", "signal %s: stopping", strsignal(sig));
	api_stop(api);
	conference_stop(conf);
	conference_free(conf);
	log_info("main", "stopped");
	return 0;
}
