/* main.c: the composition root. Parses options, starts the focus (SIP and
 * the rooms) and the HTTP API, waits for SIGINT or SIGTERM, then stops them
 * in order. The only file that includes every folder.
 *
 * Signals are blocked before any thread starts and taken with sigwait(),
 * so that no library thread is interrupted and shutdown runs in ordinary
 * code rather than in a handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

	int sig = 0;
	while (sigwait(&stop_signals, &sig) != 0)
		;
	log_info("main", "signal %s: stopping", strsignal(sig));
	api_stop(api);
	conference_stop(conf);
	conference_free(conf);
	log_info("main", "stopped");
	return 0;
}
