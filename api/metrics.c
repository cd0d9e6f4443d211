/* metrics.c: GET /metrics in the Prometheus text format 0.0.4.
 *
 * Names start with tutti_; no label names a room (rooms come and go, and
 * a label per room would grow the series without bound). The conference's
 * figures come from one CONF_METRICS request; if the signalling thread does
 * not answer, the counters it owns are left out and the rest (API and
 * process figures) is still served, with tutti_up 0. Process figures are
 * read from /proc/self. Connection threads. */
#include "api/api_priv.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void metric(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(FILE *f, const char *name, const char *type, const char *help,
		unsigned long long v)
{
	metric(f, name, type, help);
	fprintf(f, "%s %llu\n", name, v);
}

static void tick_histogram(FILE *f, const struct conf_metrics *m)
{
	static const char *const le[8] = {"0.0005", "0.001", "0.002", "0.005",
					  "0.01",   "0.02",  "0.05",  "+Inf"};
	const char *n = "tutti_tick_duration_seconds";
	metric(f, n, "histogram", "Time a mixer tick took.");
	unsigned long long sum = 0;
	for (int i = 0; i < 8; i++) {
		sum += m->tick_hist[i];
		fprintf(f, "%s_bucket{le=\"%s\"} %llu\n", n, le[i], sum);
	}
	fprintf(f, "%s_sum %.9f\n%s_count %llu\n", n,
		(double)m->tick_ns_sum / 1e9, n, sum);
}

static void conference_figures(FILE *f, const struct conf_metrics *m)
{
	one(f, "tutti_calls_total", "counter", "Calls accepted since start.",
	    m->calls_total);
	one(f, "tutti_rooms", "gauge", "Rooms that exist now.", m->rooms);
	one(f, "tutti_participants", "gauge", "Participants in all rooms.",
	    m->participants);
	one(f, "tutti_subscriptions", "gauge",
	    "RFC 4575 conference subscriptions.", m->subscriptions);
	one(f, "tutti_ticks_total", "counter", "Mixer ticks run.", m->ticks);
	one(f, "tutti_late_ticks_total", "counter",
	    "Mixer ticks that started a tick or more late.", m->late_ticks);
	one(f, "tutti_missed_ticks_total", "counter",
	    "Late mixer ticks not caught up: gaps in the audio sent.",
	    m->missed_ticks);
	tick_histogram(f, m);
	one(f, "tutti_packets_in_total", "counter", "RTP packets received.",
	    m->packets_in);
	one(f, "tutti_packets_out_total", "counter", "RTP packets sent.",
	    m->packets_out);
	one(f, "tutti_packets_lost_total", "counter",
	    "RTP packets found missing.", m->packets_lost);
	metric(f, "tutti_packets_dropped_total", "counter",
	       "RTP and RTCP packets dropped unheard, by reason: from an "
	       "address other than the caller's, SRTP that did not "
	       "authenticate, malformed.");
	fprintf(f,
		"tutti_packets_dropped_total{reason=\"foreign\"} %llu\n"
		"tutti_packets_dropped_total{reason=\"srtp\"} %llu\n"
		"tutti_packets_dropped_total{reason=\"malformed\"} %llu\n",
		(unsigned long long)m->dropped_foreign,
		(unsigned long long)m->dropped_srtp,
		(unsigned long long)m->dropped_malformed);
	one(f, "tutti_concealed_frames_total", "counter",
	    "Audio frames concealed for lost packets.", m->concealed);
	one(f, "tutti_fec_recovered_frames_total", "counter",
	    "Lost packets decoded from the next packet's in-band FEC.",
	    m->fec_recovered);
	one(f, "tutti_undecoded_silence_total", "counter",
	    "Packets taken as silence without a decode: Opus DTX, CN, "
	    "RFC 6464 levels that said silence, Opus packets without voice.",
	    m->undecoded);
	one(f, "tutti_encodes_total", "counter",
	    "Packets encoded: each speaker's own mix, one per format for the "
	    "rest.",
	    m->encodes);
	one(f, "tutti_fanned_ticks_total", "counter",
	    "Mixer ticks whose per-participant work was shared with the "
	    "mixer workers (--mix-threads).",
	    m->fanned_ticks);
	one(f, "tutti_rtp_send_batches_total", "counter",
	    "io_uring submits that carried RTP and RTCP of big rooms "
	    "(--send-batch).",
	    m->send_batches);
	one(f, "tutti_rtp_batched_packets_total", "counter",
	    "RTP and RTCP packets sent in those batches; the rest went "
	    "with sendto.",
	    m->batched_packets);
	one(f, "tutti_media_realtime_priority", "gauge",
	    "SCHED_FIFO priority of the mixer threads and workers "
	    "(--realtime); 0 when off or refused by the kernel.",
	    m->media_rt_priority);
	one(f, "tutti_store_writable", "gauge",
	    "1 when the room store accepts writes.", m->store_writable);
	one(f, "tutti_mixers_stalled", "gauge",
	    "Running mixers that have not ticked for a second.",
	    m->mixers_stalled);
}

static void api_figures(FILE *f, struct api *a)
{
	metric(f, "tutti_api_requests_total", "counter",
	       "HTTP API answers by status code.");
	for (unsigned code = 100; code < API_STATUS_MAX; code++) {
		unsigned long long v = atomic_load(&a->status_count[code]);
		if (v)
			fprintf(f,
				"tutti_api_requests_total{code=\"%u\"} %llu\n",
				code, v);
	}
}

/* /proc/self/stat fields 14, 15 (utime, stime) and 22 (starttime). */
static bool proc_stat(double *cpu_s, double *start_s)
{
	char buf[1024];
	FILE *sf = fopen("/proc/self/stat", "r");
	if (!sf)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, sf);
	fclose(sf);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!p)
		return false;
	unsigned long long utime = 0, stime = 0, start = 0;
	/* after ')': field 3 (state) ... */
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		   "%*d %*d %*d %*d %*d %*d %llu",
		   &utime, &stime, &start) != 3)
		return false;
	double hz = (double)sysconf(_SC_CLK_TCK);
	*cpu_s = (double)(utime + stime) / hz;
	unsigned long long btime = 0;
	FILE *st = fopen("/proc/stat", "r");
	char line[256];
	while (st && fgets(line, sizeof(line), st))
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	if (st)
		fclose(st);
	*start_s = (double)btime + (double)start / hz;
	return true;
}

static void process_figures(FILE *f)
{
	long rss_pages = 0;
	FILE *sm = fopen("/proc/self/statm", "r");
	if (sm) {
		if (fscanf(sm, "%*d %ld", &rss_pages) != 1)
			rss_pages = 0;
		fclose(sm);
	}
	one(f, "tutti_process_resident_memory_bytes", "gauge",
	    "Resident memory size in bytes.",
	    (unsigned long long)rss_pages * (unsigned long long)getpagesize());
	unsigned long long fds = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		fds += e->d_name[0] != '.';
	if (d) {
		closedir(d);
		fds--; /* the one opendir holds */
	}
	one(f, "tutti_process_open_fds", "gauge", "Open file descriptors.",
	    fds);
	double cpu_s, start_s;
	if (proc_stat(&cpu_s, &start_s)) {
		metric(f, "tutti_process_cpu_seconds_total", "counter",
		       "User and system CPU time spent in seconds.");
		fprintf(f, "tutti_process_cpu_seconds_total %.2f\n", cpu_s);
		metric(f, "tutti_process_start_time_seconds", "gauge",
		       "Start time of the process since the Unix epoch.");
		fprintf(f, "tutti_process_start_time_seconds %.2f\n", start_s);
	}
}

enum MHD_Result metrics_get(struct api_call *c)
{
	struct conf_req req = {.op = CONF_METRICS};
	struct conf_reply rep = {0};
	int err =
	    conference_request(c->a->conf, &req, &rep, API_CONF_TIMEOUT_MS);
	struct conf_metrics m = rep.metrics;
	conference_reply_clear(&rep);

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "internal", "out of memory", NULL);
	one(f, "tutti_up", "gauge",
	    "1 when the signalling thread answered this scrape.", err == 0);
	if (err == 0)
		conference_figures(f, &m);
	api_figures(f, c->a);
	process_figures(f);
	if (fclose(f) != 0 || !text) {
		free(text);
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "internal", "out of memory", NULL);
	}
	return reply_text(c, MHD_HTTP_OK, "text/plain; version=0.0.4", text,
			  len);
}
