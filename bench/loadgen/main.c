/* main.c: loadgen's options, its phases and its report.
 *
 *   loadgen (--tutti BINARY | --pid PID --sip HOST:PORT --http PORT)
 *           [--codec pcmu|opus] [--callers N] [--rooms R] [--speakers S]
 *           [--quiet silence|dtx|none] [--tones] [--no-marker]
 *           [--probes P] [--cps C] [--warmup S] [--window S] [--no-echo]
 *           [--rtp-ports LO-HI] [--tutti-args "..."] [--fixture-dir DIR]
 *           [--label NAME] [--relay-sendto]
 *
 * Phases: the calls are set up (C per second); media flows for --warmup
 * seconds, then for --window seconds during which the server's CPU, its
 * ticks and what every caller receives are measured; the calls are hung
 * up. Then the same callers send the same packets to a UDP echo for as
 * long and its CPU is measured, then to a UDP relay (one packet to every
 * caller every 20 ms, as a bridge sends, in io_uring batches as tutti
 * does unless --relay-sendto: floors.c), and libopus decode +
 * encode is timed.
 * A readable report goes to stdout, ending with one line "LOADGEN {...}"
 * (JSON) for scripts. Exit status 0 when every call was set up and hung
 * up without a SIP error, else 1; 2 for bad usage. */
#include "loadgen.h"

#include "rtp/rtp.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef LOADGEN_FIXTURE_DIR
#define LOADGEN_FIXTURE_DIR "."
#endif

struct figures {
	int up, failed;
	double setup_s;
	double cpu_us, echo_us, relay_us,
	    opus_us; /* per participant per tick */
	double ticks, late, hist[8];
	double rate_med, rate_min, loss_pct, jit_med_ms, jit_max_ms;
	int short_callers; /* below 90 % of the median rate */
	uint64_t lost, expected;
	double delay_med_ms, delay_p99_ms;
	size_t ndelays;
	double tone_snr_min[MAX_TONES], tone_db[MAX_TONES];
	uint64_t probe_lost;
	int probes;
	double echo_rate_med, relay_rate_med;
	double self_us;	  /* loadgen's own CPU in the server phase */
	double served_us; /* server CPU per participant per tick it ran */
	uint64_t echo_lost;
};

static void usage(void)
{
	fputs("usage: loadgen (--tutti BINARY | --pid PID --sip HOST:PORT "
	      "--http PORT)\n"
	      "  [--codec pcmu|opus] [--callers N] [--rooms R] [--speakers S]\n"
	      "  [--quiet silence|dtx|none] [--tones] [--no-marker] "
	      "[--probes P]\n"
	      "  [--cps C] [--warmup S] [--window S] [--no-echo] "
	      "[--rtp-ports LO-HI]\n"
	      "  [--tutti-args \"...\"] [--fixture-dir DIR] [--label NAME]\n"
	      "  [--relay-sendto]\n",
	      stderr);
}

static void sleep_s(double s)
{
	struct timespec t = {(time_t)s, (long)((s - (time_t)s) * 1e9)};
	while (nanosleep(&t, &t))
		;
}

static int parse(struct lg *g, int argc, char **argv, bool *echo,
		 const char **label)
{
	static char f8[512], f48[512];
	const char *dir = LOADGEN_FIXTURE_DIR;
	static const struct option opts[] = {
	    {"tutti", 1, 0, 't'},	 {"pid", 1, 0, 'p'},
	    {"sip", 1, 0, 's'},		 {"http", 1, 0, 'h'},
	    {"codec", 1, 0, 'c'},	 {"callers", 1, 0, 'n'},
	    {"rooms", 1, 0, 'r'},	 {"speakers", 1, 0, 'S'},
	    {"quiet", 1, 0, 'q'},	 {"tones", 0, 0, 'T'},
	    {"no-marker", 0, 0, 'M'},	 {"probes", 1, 0, 'P'},
	    {"cps", 1, 0, 'C'},		 {"warmup", 1, 0, 'w'},
	    {"window", 1, 0, 'W'},	 {"no-echo", 0, 0, 'E'},
	    {"rtp-ports", 1, 0, 'R'},	 {"tutti-args", 1, 0, 'A'},
	    {"fixture-dir", 1, 0, 'F'},	 {"label", 1, 0, 'L'},
	    {"relay-sendto", 0, 0, 'B'}, {0, 0, 0, 0}};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			g->tutti_bin = optarg;
			break;
		case 'p':
			g->server_pid = atoi(optarg);
			break;
		case 's':
			if (sscanf(optarg, "%63[^:]:%hu", g->server_host,
				   &g->sip_port) != 2)
				return -1;
			break;
		case 'h':
			g->http_port = (uint16_t)atoi(optarg);
			break;
		case 'c':
			if (!strcmp(optarg, "pcmu"))
				g->codec = LG_PCMU;
			else if (!strcmp(optarg, "opus"))
				g->codec = LG_OPUS;
			else
				return -1;
			break;
		case 'n':
			g->callers = atoi(optarg);
			break;
		case 'r':
			g->rooms = atoi(optarg);
			break;
		case 'S':
			g->speakers = atoi(optarg);
			break;
		case 'q':
			g->quiet = !strcmp(optarg, "dtx")    ? QUIET_DTX
				   : !strcmp(optarg, "none") ? QUIET_NONE
							     : QUIET_SILENCE;
			break;
		case 'T':
			g->tones = true;
			break;
		case 'B':
			g->relay_sendto = true;
			break;
		case 'M':
			g->marker = false;
			break;
		case 'P':
			g->probes = atoi(optarg);
			break;
		case 'C':
			g->cps = atoi(optarg);
			break;
		case 'w':
			g->warmup_s = atof(optarg);
			break;
		case 'W':
			g->window_s = atof(optarg);
			break;
		case 'E':
			*echo = false;
			break;
		case 'R':
			snprintf(g->rtp_ports, sizeof(g->rtp_ports), "%s",
				 optarg);
			break;
		case 'A':
			g->tutti_extra = optarg;
			break;
		case 'F':
			dir = optarg;
			break;
		case 'L':
			*label = optarg;
			break;
		default:
			return -1;
		}
	}
	snprintf(f8, sizeof(f8), "%s/speech-8000.wav", dir);
	snprintf(f48, sizeof(f48), "%s/speech-48000.wav", dir);
	g->fixture8 = f8;
	g->fixture48 = f48;
	if (g->callers < 1 || g->rooms < 1 || g->rooms > g->callers ||
	    g->speakers < 0 || g->cps < 1 || g->window_s < 1 ||
	    g->warmup_s < 0 || g->probes < 0 ||
	    (!g->tutti_bin &&
	     (!g->server_pid || !g->sip_port || !g->http_port)))
		return -1;
	return 0;
}

/* Rooms take callers in turn; in each room the first S are speakers
 * (the first of them the marker speaker), the next P listeners of the
 * first four rooms are probes. */
static void assign_roles(struct lg *g)
{
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		c->room = i % g->rooms;
		c->index = i / g->rooms;
		c->speaker = c->index < g->speakers;
		c->marker = c->speaker && c->index == 0 && g->marker;
		c->tone = c->speaker && g->tones ? c->index % MAX_TONES : -1;
		c->probe = !c->speaker && c->room < 4 &&
			   c->index < g->speakers + g->probes;
		c->offset =
		    (size_t)c->index * 173; /* speakers say different things */
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_d);
	size_t k = (size_t)ceil(p * (double)n) - 1;
	return v[k < n ? k : n - 1];
}

enum phase { PHASE_SERVER, PHASE_ECHO, PHASE_RELAY };

static void receive_figures(struct lg *g, struct figures *fg, enum phase ph)
{
	bool echo = ph != PHASE_SERVER;
	double *rate = calloc((size_t)g->callers, sizeof(double));
	double *jit = calloc((size_t)g->callers, sizeof(double));
	size_t n = 0;
	uint64_t lost = 0, expected = 0;
	if (!rate || !jit)
		goto out;
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		if (!c->seen)
			continue;
		uint64_t exp = (uint64_t)(c->max_seq_ext - c->base_seq) + 1;
		uint64_t l = exp > c->rx ? exp - c->rx : 0;
		lost += l;
		expected += exp;
		rate[n] = (double)c->rx_window / g->window_s;
		jit[n] = c->jitter * 1000.0 / c->clock_hz;
		n++;
		if (c->probe && !echo)
			fg->probe_lost += l;
	}
	if (ph == PHASE_RELAY) {
		fg->relay_rate_med = pct(rate, n, 0.5);
		goto out;
	}
	if (echo) {
		fg->echo_rate_med = pct(rate, n, 0.5);
		fg->echo_lost = lost;
		goto out;
	}
	fg->lost = lost;
	fg->expected = expected;
	fg->loss_pct = expected ? 100.0 * (double)lost / (double)expected : NAN;
	fg->rate_med = pct(rate, n, 0.5);
	fg->rate_min = pct(rate, n, 0.0 + 1e-12);
	/* who got clearly less than most: by role, to tell why */
	for (int i = 0, k = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		if (!c->seen)
			continue;
		double r = (double)c->rx_window / g->window_s;
		if (r < 0.9 * fg->rate_med && k++ < 5)
			fprintf(stderr,
				"loadgen: caller %d (room %d, %s%s) got %.1f "
				"pkt/s\n",
				i, c->room, c->speaker ? "speaker" : "listener",
				c->probe ? ", probe" : "", r);
		fg->short_callers += r < 0.9 * fg->rate_med;
	}
	fg->jit_med_ms = pct(jit, n, 0.5);
	fg->jit_max_ms = pct(jit, n, 1.0);
out:
	free(rate);
	free(jit);
}

static void tone_figures(struct lg *g, struct figures *fg)
{
	for (int t = 0; t < g->ntones; t++) {
		fg->tone_snr_min[t] = INFINITY;
		fg->tone_db[t] = NAN;
	}
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		if (!c->probe || !c->frames_analysed)
			continue;
		fg->probes++;
		for (int t = 0; t < g->ntones; t++) {
			double tp = c->tone_pow[t] / (double)c->frames_analysed;
			double np =
			    c->noise_pow[t] / (double)c->frames_analysed;
			double snr = 10 * log10((tp + 1e-3) / (np + 1e-3));
			if (snr < fg->tone_snr_min[t]) {
				fg->tone_snr_min[t] = snr;
				fg->tone_db[t] =
				    10 *
				    log10(tp / (32768.0 * 32768.0) + 1e-12);
			}
		}
	}
}

static void reset_rx(struct lg *g)
{
	for (int i = 0; i < g->callers; i++) {
		struct caller *c = &g->c[i];
		c->rx = c->rx_window = 0;
		c->seen = false;
		c->jitter = 0;
	}
}

/* Sends for warmup, then measures for the window: the CPU of pid. */
static double measured_cpu_us(struct lg *g, pid_t pid, double warmup,
			      struct metrics_snap *m0, struct metrics_snap *m1)
{
	sleep_s(warmup);
	if (m0)
		*m0 = metrics_fetch(g);
	int64_t c0 = proc_cpu_ns(pid), t0 = now_ns();
	atomic_store(&g->measuring, true);
	sleep_s(g->window_s);
	atomic_store(&g->measuring, false);
	int64_t c1 = proc_cpu_ns(pid), t1 = now_ns();
	if (m1)
		*m1 = metrics_fetch(g);
	int up = 0;
	for (int i = 0; i < g->callers; i++)
		up += atomic_load(&g->c[i].up) == 1;
	double ticks = (double)(t1 - t0) / TICK_NS;
	if (c0 < 0 || c1 < 0 || !up)
		return NAN;
	return (double)(c1 - c0) / 1000.0 / ((double)up * ticks);
}

static int server_phase(struct lg *g, struct figures *fg)
{
	int64_t t0 = now_ns();
	double limit = g->callers / (double)g->cps + 40;
	for (;;) {
		int up = 0, failed = 0;
		for (int i = 0; i < g->callers; i++) {
			int u = atomic_load(&g->c[i].up);
			up += u == 1;
			failed += u == -1;
		}
		fg->up = up;
		fg->failed = failed;
		if (up + failed == g->callers)
			break;
		if ((now_ns() - t0) / 1e9 > limit) {
			fprintf(stderr, "loadgen: calls not set up in time\n");
			return -1;
		}
		sleep_s(0.05);
	}
	fg->setup_s = (double)(now_ns() - t0) / 1e9;
	if (!fg->up || media_start(g))
		return -1;
	struct metrics_snap m0, m1;
	int64_t self0 = proc_cpu_ns(getpid());
	fg->cpu_us = measured_cpu_us(g, g->server_pid, g->warmup_s, &m0, &m1);
	/* the warm-up included: a rough figure, for the reader */
	fg->self_us = (double)(proc_cpu_ns(getpid()) - self0) / 1000.0 /
		      (fg->up * (g->warmup_s + g->window_s) * 50.0);
	if (m0.ok && m1.ok) {
		fg->ticks = m1.ticks - m0.ticks;
		fg->late = m1.late - m0.late;
		for (int k = 0; k < 8; k++)
			fg->hist[k] = m1.bucket[k] - m0.bucket[k];
		/* a server that falls behind runs fewer ticks than 50/s */
		if (fg->ticks > 0)
			fg->served_us = fg->cpu_us * g->window_s * 50.0 /
					(fg->ticks / g->rooms);
	}
	sleep_s(0.3); /* what is in flight arrives */
	media_stop(g);
	receive_figures(g, fg, PHASE_SERVER);
	tone_figures(g, fg);
	return 0;
}

static void hang_up(struct lg *g)
{
	sip_hangup_all(g);
	int64_t t0 = now_ns();
	double limit = g->callers / (double)g->cps + 40;
	for (;;) {
		int ended = 0;
		for (int i = 0; i < g->callers; i++)
			ended += atomic_load(&g->c[i].ended) == 1;
		if (ended == g->callers || (now_ns() - t0) / 1e9 > limit)
			break;
		sleep_s(0.05);
	}
	sip_stop(g);
}

/* A floor: the callers' media to a UDP echo, or to a relay, and its CPU
 * per participant per tick. */
static double floor_phase(struct lg *g, struct figures *fg, enum phase ph)
{
	reset_rx(g);
	pid_t pid = echo_spawn(g, ph == PHASE_RELAY);
	if (pid <= 0)
		return NAN;
	g->echo_phase = true;
	if (media_start(g)) {
		echo_stop(pid);
		return NAN;
	}
	double us = measured_cpu_us(g, pid, 2.0, NULL, NULL);
	sleep_s(0.3);
	media_stop(g);
	echo_stop(pid);
	receive_figures(g, fg, ph);
	return us;
}

static double tick_p999_ms(const struct figures *fg)
{
	double total = fg->hist[7];
	if (total <= 0)
		return NAN;
	for (int k = 0; k < 8; k++)
		if (fg->hist[k] >= 0.999 * total)
			return metrics_le_ms[k];
	return INFINITY;
}

/* The line as JSON: a figure that could not be measured (nan, inf) is
 * null. */
static void print_json(const char *line)
{
	for (const char *p = line; *p;) {
		if (p[0] == ':' &&
		    (!strncmp(p + 1, "nan", 3) || !strncmp(p + 1, "-nan", 4) ||
		     !strncmp(p + 1, "inf", 3) || !strncmp(p + 1, "-inf", 4))) {
			fputs(":null", stdout);
			p += p[1] == '-' ? 5 : 4;
			continue;
		}
		if ((p[0] == '[' || p[0] == ',') &&
		    (!strncmp(p + 1, "inf", 3) || !strncmp(p + 1, "nan", 3))) {
			putchar(p[0]);
			fputs("null", stdout);
			p += 4;
			continue;
		}
		putchar(*p++);
	}
	putchar('\n');
}

static void report(struct lg *g, struct figures *fg, const char *label)
{
	size_t nd = g->ndelays;
	double *d = calloc(nd ? nd : 1, sizeof(double));
	for (size_t i = 0; d && i < nd; i++)
		d[i] = (double)g->delays[i] / 1e6;
	fg->ndelays = nd;
	fg->delay_med_ms = d ? pct(d, nd, 0.5) : NAN;
	fg->delay_p99_ms = d ? pct(d, nd, 0.99) : NAN;
	free(d);
	const char *cod = g->codec == LG_OPUS ? "opus" : "pcmu";
	const char *quiet = g->quiet == QUIET_DTX    ? "dtx"
			    : g->quiet == QUIET_NONE ? "none"
						     : "silence";
	double p999 = tick_p999_ms(fg);
	/* ratios per tick the server ran: per 20 ms would flatter a server
	 * that falls behind */
	double srv = fg->served_us > 0 ? fg->served_us : fg->cpu_us;
	char p999s[32];
	snprintf(p999s, sizeof(p999s), p999 >= 1e9 ? "> 50" : "<= %g", p999);
	printf("\n== loadgen %s: %s, %d callers in %d room(s), %d speaker(s) "
	       "per room (%s), others %s, window %.0f s\n",
	       label, cod, g->callers, g->rooms, g->speakers,
	       g->tones ? "tones" : "speech", quiet, g->window_s);
	printf("calls          %d up, %d failed, set up in %.1f s, SIP errors "
	       "%d (4xx %d)\n",
	       fg->up, fg->failed, fg->setup_s, g->sip_errors, g->sip_4xx);
	printf("server CPU     %.2f us per participant per tick\n", fg->cpu_us);
	printf("loadgen CPU    %.2f us per participant per tick (itself)\n",
	       fg->self_us);
	printf("udp echo floor %.2f us per participant per tick  (server/echo "
	       "%.2fx)\n",
	       fg->echo_us, srv / fg->echo_us);
	printf("udp relay floor %.2f us per participant per tick  "
	       "(server/relay %.2fx; %s)\n",
	       fg->relay_us, srv / fg->relay_us,
	       g->relay_batched ? "io_uring batches" : "sendto");
	if (fg->opus_us > 0)
		printf("libopus floor  %.1f us decode+encode per participant "
		       "per tick  (server/libopus %.3fx)\n",
		       fg->opus_us, srv / fg->opus_us);
	printf("ticks          %.0f in window (%.1f/s per room), %.0f late, "
	       "p99.9 %s ms (buckets <=0.5/1/2/5/10/20/50/inf ms:",
	       fg->ticks, fg->ticks / g->rooms / g->window_s, fg->late, p999s);
	for (int k = 0; k < 8; k++)
		printf(" %.0f", fg->hist[k] - (k ? fg->hist[k - 1] : 0));
	printf(")\n");
	printf("received       %.1f pkt/s per caller median (min %.1f, %d "
	       "below 90%%), loss %llu of %llu (%.3f%%)\n",
	       fg->rate_med, fg->rate_min, fg->short_callers,
	       (unsigned long long)fg->lost, (unsigned long long)fg->expected,
	       fg->loss_pct);
	printf("jitter         %.2f ms median, %.2f ms max (RFC 3550)\n",
	       fg->jit_med_ms, fg->jit_max_ms);
	printf("added delay    %.1f ms median, %.1f ms p99 (%zu markers)\n",
	       fg->delay_med_ms, fg->delay_p99_ms, fg->ndelays);
	for (int t = 0; t < g->ntones && fg->probes; t++)
		printf("tone %4.0f Hz   %.1f dBFS, %.1f dB above the floor "
		       "(worst of %d probes)\n",
		       g->tone_hz[t], fg->tone_db[t], fg->tone_snr_min[t],
		       fg->probes);
	printf("echo phase     %.1f pkt/s per caller median, lost %llu\n",
	       fg->echo_rate_med, (unsigned long long)fg->echo_lost);
	printf("relay phase    %.1f pkt/s per caller median\n",
	       fg->relay_rate_med);
	char line[2048];
	int n = snprintf(
	    line, sizeof(line),
	    "LOADGEN {\"label\":\"%s\",\"codec\":\"%s\",\"callers\":%d,"
	    "\"rooms\":%d,\"speakers\":%d,\"tones\":%s,\"quiet\":\"%s\","
	    "\"up\":%d,\"failed\":%d,\"sip_errors\":%d,"
	    "\"cpu_us\":%.3f,\"served_us\":%.3f,\"self_us\":%.3f,\"echo_us\":%."
	    "3f,\"relay_us\":%.3f,\"relay_batched\":%s,\"opus_us\":%."
	    "3f,"
	    "\"ticks\":%.0f,\"late_ticks\":%.0f,\"tick_p999_ms\":%g,"
	    "\"rate_med\":%.2f,\"rate_min\":%.2f,\"short_callers\":%d,"
	    "\"lost\":%llu,"
	    "\"expected\":%llu,\"jitter_med_ms\":%.3f,\"jitter_max_ms\":%.3f,"
	    "\"delay_med_ms\":%.2f,\"delay_p99_ms\":%.2f,\"markers\":%zu,"
	    "\"probes\":%d,\"probe_lost\":%llu,\"tone_snr_db\":[",
	    label, cod, g->callers, g->rooms, g->speakers,
	    g->tones ? "true" : "false", quiet, fg->up, fg->failed,
	    g->sip_errors, fg->cpu_us, fg->served_us, fg->self_us, fg->echo_us,
	    fg->relay_us, g->relay_batched ? "true" : "false", fg->opus_us,
	    fg->ticks, fg->late, p999, fg->rate_med, fg->rate_min,
	    fg->short_callers, (unsigned long long)fg->lost,
	    (unsigned long long)fg->expected, fg->jit_med_ms, fg->jit_max_ms,
	    fg->delay_med_ms, fg->delay_p99_ms, fg->ndelays, fg->probes,
	    (unsigned long long)fg->probe_lost);
	for (int t = 0;
	     t < g->ntones && fg->probes && n > 0 && n < (int)sizeof(line) - 16;
	     t++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%.1f",
			      t ? "," : "", fg->tone_snr_min[t]);
	if (n > 0 && n < (int)sizeof(line) - 4)
		snprintf(line + n, sizeof(line) - (size_t)n, "]}");
	print_json(line);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct lg g = {.codec = LG_PCMU,
		       .quiet = QUIET_SILENCE,
		       .callers = 10,
		       .rooms = 1,
		       .speakers = 3,
		       .probes = 2,
		       .cps = 200,
		       .marker = true,
		       .warmup_s = 5,
		       .window_s = 10};
	struct figures fg = {0};
	bool echo = true;
	const char *label = "run";
	int status = 1;

	snprintf(g.rtp_ports, sizeof(g.rtp_ports), "20000-31999");
	if (parse(&g, argc, argv, &echo, &label)) {
		usage();
		return 2;
	}
	struct rlimit rl;
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	srandom((unsigned)now_ns() ^ (unsigned)getpid());
	g.c = calloc((size_t)g.callers, sizeof(*g.c));
	g.r = calloc((size_t)g.rooms, sizeof(*g.r));
	if (!g.c || !g.r || audio_prepare(&g))
		goto out;
	assign_roles(&g);
	if (g.tutti_bin && server_spawn(&g))
		goto out;
	if (media_sockets(&g) || sip_start(&g))
		goto out;
	if (server_phase(&g, &fg)) {
		hang_up(&g);
		goto out;
	}
	hang_up(&g);
	fg.echo_us = fg.relay_us = NAN;
	if (echo) {
		fg.echo_us = floor_phase(&g, &fg, PHASE_ECHO);
		g.relay_batched = !g.relay_sendto && sendq_probe() == 0;
		fg.relay_us = floor_phase(&g, &fg, PHASE_RELAY);
	}
	fg.opus_us = opus_floor_us(&g);
	report(&g, &fg, label);
	status = fg.failed || g.sip_errors ? 1 : 0;
out:
	media_stop(&g);
	sip_stop(&g);
	server_stop(&g);
	for (int i = 0; g.c && i < g.callers; i++) {
		if (g.c[i].rtp_fd > 0)
			close(g.c[i].rtp_fd);
		if (g.c[i].dec)
			opus_decoder_destroy(g.c[i].dec);
	}
	audio_free(&g);
	free(g.delays);
	free(g.c);
	free(g.r);
	return status;
}
