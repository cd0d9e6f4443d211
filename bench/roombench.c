/* roombench.c: what one room's mixer thread costs per tick, with all its
 * participants talking or only a few, and how many encodes it makes.
 *
 * A real mixer (mixer/mixer.h) runs its own thread and 20 ms clock; the
 * bench adds N participants whose streams (rtp/) have loopback sockets,
 * and a driver thread plays their phones from one UDP socket: every 20 ms,
 * on an absolute clock, one RTP packet per participant. S of them send a
 * tone (each its own frequency), the others digital silence, both encoded
 * once beforehand (Opus at the stream's settings, or PCMU); the mixes the
 * room sends back are read and dropped. After a warm-up, the figures over
 * the measured seconds:
 *   - tick: the mixer's own timing of its ticks (mixer_get_stats), mean
 *     and max, in µs;
 *   - cpu: the mixer thread's time on a CPU (/proc/self/task/<tid>/
 *     schedstat, ns), per tick: the ticks plus receiving the packets;
 *   - per participant: cpu / N;
 *   - encodes per tick, and the share of ticks that started late.
 * The "all" rows run with --max-speakers 0 and every participant talking:
 * every listener hears its own mix and has its own encode, what a mixer
 * without speaker selection and shared encodes does. The others use the
 * default --max-speakers 4. The room mixes at the rate its codecs need
 * (8 kHz for PCMU, 48 kHz for Opus) unless --rate pins it; --compare-rates
 * runs a PCMU room at 8 kHz and pinned at 48 kHz (every speaker's frame
 * converted up, every encode's input down: the way before rooms chose
 * their rate) in turn, --reps times each, and prints the medians and their
 * ratio. --churn S has a silent Opus caller join and leave every S
 * seconds (each time the room goes 8 <-> 48 kHz) and counts the ticks
 * that took over 2 ms: what a change of rate costs.
 *
 * Silence: with --levels every packet carries its RFC 6464 audio level
 * (a one-byte header extension: about 12 -dBov for the tone, 127 for
 * silence), which the streams negotiated, so that a participant who is
 * not a speaker and sends silence is not decoded; with --dtx every
 * participant asked for Opus DTX (usedtx=1), or CN for PCMU, so that in a
 * silent room the listeners are sent (almost) nothing.
 *
 * Usage: roombench [--quick] [--markdown], or one case:
 *   roombench --parts N --speakers S [--codec opus|pcmu]
 *             [--max-speakers K] [--seconds T] [--rate 8000|16000|48000]
 *             [--churn S] [--threads N] [--levels] [--dtx]
 *   roombench --compare-rates [--parts N] [--speakers S] [--reps R]
 *             [--seconds T]
 *   roombench --compare-send [--parts N] [--speakers S] [--codec C]
 *             [--reps R] [--seconds T] [--threads N] [--levels] [--dtx]
 * --compare-send runs a room (default 1000 callers, 3 talking) sending one
 * sendto a packet and in io_uring batches (rtp/sendq.c; --send-batch) in
 * turn, --reps times each; --sendto makes one case send with sendto.
 * --threads N gives the room a pool of N - 1 workers (mixer/pool.c) that
 * its ticks fan out to once they take over 5 ms; the cpu figures then
 * count the workers' time too.
 * Single machine, loopback only; the driver shares the machine with the
 * mixer, so run it on an otherwise idle one. */
#include "mixer/mixer.h"

#include "bench/bench_util.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTS 1000
#define MAX_REPS  15
#define LOOP	  50 /* pre-encoded frames, played in a loop */

struct bcase {
	unsigned parts, speakers, max_speakers;
	enum codec_id codec;
	double seconds;
	uint32_t rate_hz; /* 0: what the codecs need */
	double churn_s;	  /* an Opus caller joins or leaves this often */
	unsigned threads; /* a pool of threads - 1 workers; 0 or 1: none */
	bool levels;	  /* every packet carries its RFC 6464 level */
	bool dtx;	  /* listeners asked for DTX (Opus) or CN (PCMU) */
	bool sendto;	  /* one sendto a packet, no io_uring batches */
};

struct result {
	double tick_us, tick_max_us, cpu_us, encodes, late;
	uint32_t rate_hz;	       /* the room's, as it ran */
	uint64_t changes, ticks, slow; /* rate changes; ticks over 2 ms */
};

struct frames {
	uint8_t data[LOOP][400];
	size_t len[LOOP];
};

struct room {
	struct bcase c;
	struct mixer *m;
	int efd, drv;
	struct sockaddr_in drv_addr;
	int fds[MAX_PARTS];
	struct sockaddr_in addrs[MAX_PARTS];
	struct stream *s[MAX_PARTS];
	struct frames *tone, *silence;
	struct mixpool *pool;
	atomic_bool stop;
};

/* LOOP frames of a tone at f_hz (or silence), encoded as the room would. */
static struct frames *encode(enum codec_id id, double f_hz)
{
	const struct codec_desc *d = codec_by_id(id);
	size_t n = d->pcm_rate_hz / 50;
	int16_t pcm[960];
	struct codec *c;
	struct frames *f = calloc(1, sizeof(*f));

	if (!f || codec_new(&c, id) < 0)
		bench_die("codec");
	for (int k = 0; k < LOOP; k++) {
		for (size_t i = 0; i < n; i++)
			pcm[i] =
			    (int16_t)(f_hz ? 8000 * sin(2 * M_PI * f_hz *
							(double)(k * n + i) /
							d->pcm_rate_hz)
					   : 0);
		int len =
		    codec_encode(c, pcm, n, f->data[k], sizeof(f->data[k]));
		if (len < 0)
			bench_die("encode");
		f->len[k] = (size_t)len;
	}
	codec_free(c);
	return f;
}

/* Inserts an RFC 8285 one-byte header extension with the RFC 6464 level
 * (id LEVEL_ID) after the 12-byte header of pkt (len bytes, no CSRCs). */
#define LEVEL_ID 1
static int add_level(uint8_t *pkt, int len, uint8_t level_dbov)
{
	memmove(pkt + 20, pkt + 12, (size_t)len - 12);
	pkt[0] |= 0x10;
	pkt[12] = 0xbe;
	pkt[13] = 0xde;
	pkt[14] = 0;
	pkt[15] = 1;
	pkt[16] = LEVEL_ID << 4;
	pkt[17] = level_dbov;
	pkt[18] = pkt[19] = 0;
	return len + 8;
}

static void send_all(struct room *r, unsigned k)
{
	const struct codec_desc *d = codec_by_id(r->c.codec);
	uint8_t pkt[520];

	for (unsigned i = 0; i < r->c.parts; i++) {
		const struct frames *f =
		    i < r->c.speakers ? r->tone : r->silence;
		struct rtppkt p = {.pt = r->c.codec == CODEC_OPUS ? 111 : 0,
				   .seq = (uint16_t)k,
				   .ts = k * (d->rtp_clock_hz / 50),
				   .ssrc = 0x5000 + i,
				   .payload = f->data[k % LOOP],
				   .payload_bytes = f->len[k % LOOP]};
		int len = rtppkt_build(pkt, sizeof(pkt), &p);
		if (r->c.levels && len > 0)
			len = add_level(pkt, len, f == r->tone ? 12 : 127);
		sendto(r->drv, pkt, (size_t)len, 0,
		       (struct sockaddr *)&r->addrs[i], sizeof(r->addrs[i]));
	}
}

/* The phones: a packet each every 20 ms; the mixes read and dropped. */
static void *driver(void *arg)
{
	struct room *r = arg;
	struct timespec t;
	uint8_t buf[1500];

	clock_gettime(CLOCK_MONOTONIC, &t);
	for (unsigned k = 0; !atomic_load(&r->stop); k++) {
		send_all(r, k);
		while (recv(r->drv, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		t.tv_nsec += 20000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
	return NULL;
}

static void room_open(struct room *r, const struct bcase *c)
{
	memset(r, 0, sizeof(*r));
	r->c = *c;
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->drv = bench_udp_socket(&r->drv_addr);
	r->tone = encode(c->codec, 700);
	r->silence = encode(c->codec, 0);
	if (c->threads > 1 &&
	    mixpool_new(&r->pool, c->threads - 1, !c->sendto, 0) < 0)
		bench_die("mixpool_new");
	struct mixer_params mp = {.room = "bench",
				  .rate_hz = c->rate_hz ? c->rate_hz : 8000,
				  .notify_fd = r->efd,
				  .max_speakers = c->max_speakers,
				  .pin_rate = c->rate_hz != 0,
				  .pool = r->pool,
				  .send_batch = !c->sendto};
	if (mixer_start(&r->m, &mp) < 0)
		bench_die("mixer_start");
	struct stream_params sp = {
	    .codec = c->codec,
	    .pt = c->codec == CODEC_OPUS ? 111 : 0,
	    .te_pt = -1,
	    .ptime_ms = 20,
	    .send = true,
	    .recv = true,
	    .level_ext_id = c->levels ? LEVEL_ID : 0,
	    .dtx = c->dtx && c->codec == CODEC_OPUS,
	    .cn_pt = c->dtx && c->codec == CODEC_PCMU ? CN_PT : 0};
	memcpy(&sp.rtp_peer, &r->drv_addr, sizeof(r->drv_addr));
	for (unsigned i = 0; i < c->parts; i++) {
		r->fds[i] = bench_udp_socket(&r->addrs[i]);
		if (stream_new(&r->s[i], r->fds[i], -1, mp.rate_hz, 0x1000 + i,
			       &sp) < 0)
			bench_die("stream_new");
		struct mixer_cmd cmd = {
		    .kind = MIXER_ADD, .part_id = i, .stream = r->s[i]};
		while (mixer_post(r->m, &cmd) == -ENOSPC)
			usleep(1000);
	}
}

static void room_close(struct room *r)
{
	struct mixer_event ev;

	mixer_stop(r->m);
	while (mixer_poll(r->m, &ev) == 0)
		;
	mixer_free(r->m);
	mixpool_free(r->pool);
	for (unsigned i = 0; i < r->c.parts; i++) {
		stream_free(r->s[i]);
		close(r->fds[i]);
	}
	close(r->drv);
	close(r->efd);
	free(r->tone);
	free(r->silence);
}

/* The CPU time of the threads named tutti-mix (the room's) and
 * tutti-mixw (its pool's), in ns (one room at a time). */
static uint64_t mixer_cpu_ns(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	uint64_t ns = 0;
	char path[288], name[32];

	while (d && (e = readdir(d))) {
		FILE *f;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		bool mix = fgets(name, sizeof(name), f) &&
			   strncmp(name, "tutti-mix", 9) == 0;
		fclose(f);
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat",
			 e->d_name);
		unsigned long long v = 0;
		if (mix && (f = fopen(path, "r"))) {
			if (fscanf(f, "%llu", &v) != 1)
				v = 0;
			fclose(f);
		}
		ns += v;
	}
	if (d)
		closedir(d);
	return ns;
}

static void sleep_s(double s)
{
	struct timespec t = {.tv_sec = (time_t)s,
			     .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&t, NULL);
}

/* Waits (bounded) for the stream of part_id to come back. */
static void wait_removed(struct room *r, uint32_t part_id)
{
	struct mixer_event ev;
	for (int i = 0; i < 2000; i++) {
		while (mixer_poll(r->m, &ev) == 0)
			if (ev.kind == MIXER_EV_REMOVED &&
			    ev.part_id == part_id)
				return;
		usleep(1000);
	}
	bench_die("churn: the stream did not come back");
}

/* The measured seconds; with churn_s, a silent Opus caller joins and
 * leaves in turn, each change taking the room 8 <-> 48 kHz. */
static void measure(struct room *r, const struct bcase *c)
{
	if (!c->churn_s) {
		sleep_s(c->seconds);
		return;
	}
	struct sockaddr_in addr;
	int fd = bench_udp_socket(&addr);
	struct stream *s;
	struct stream_params sp = {.codec = CODEC_OPUS,
				   .pt = 111,
				   .te_pt = -1,
				   .ptime_ms = 20,
				   .send = true,
				   .recv = true};
	memcpy(&sp.rtp_peer, &r->drv_addr, sizeof(r->drv_addr));
	if (stream_new(&s, fd, -1, 8000, 0x9999, &sp) < 0)
		bench_die("stream_new");
	uint32_t id = MAX_PARTS + 1;
	for (double t = 0; t < c->seconds; t += 2 * c->churn_s) {
		struct mixer_cmd add = {
		    .kind = MIXER_ADD, .part_id = id, .stream = s};
		struct mixer_cmd rm = {.kind = MIXER_REMOVE, .part_id = id};
		if (mixer_post(r->m, &add) < 0)
			bench_die("churn: add");
		sleep_s(c->churn_s);
		if (mixer_post(r->m, &rm) < 0)
			bench_die("churn: remove");
		wait_removed(r, id);
		sleep_s(c->churn_s);
	}
	stream_free(s);
	close(fd);
}

static struct result run_case(const struct bcase *c)
{
	static struct room r;
	struct mixer_stats a, b;
	pthread_t th;
	struct result res;

	room_open(&r, c);
	if (pthread_create(&th, NULL, driver, &r))
		bench_die("pthread_create");
	sleep_s(1.5); /* jitter buffers settle, speakers chosen */
	mixer_get_stats(r.m, &a);
	uint64_t cpu0 = mixer_cpu_ns();
	measure(&r, c);
	uint64_t cpu1 = mixer_cpu_ns();
	mixer_get_stats(r.m, &b);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	room_close(&r);

	double ticks = (double)(b.ticks - a.ticks);
	res.tick_us = (double)(b.tick_ns_sum - a.tick_ns_sum) / ticks / 1e3;
	res.tick_max_us = (double)b.tick_ns_max / 1e3;
	res.cpu_us = (double)(cpu1 - cpu0) / ticks / 1e3;
	res.encodes = (double)(b.encodes - a.encodes) / ticks;
	res.late = (double)(b.late_ticks - a.late_ticks) / ticks;
	res.rate_hz = b.rate_hz;
	res.changes = b.rate_changes - a.rate_changes;
	res.ticks = b.ticks - a.ticks;
	res.slow = 0;
	for (size_t i = 3; i < MIXER_TICK_HIST_N; i++) /* over 2000 us */
		res.slow += b.tick_hist[i] - a.tick_hist[i];
	return res;
}

static void print_row(const struct bcase *c, const struct result *r, int md)
{
	char k[16];
	snprintf(k, sizeof(k), "%u", c->max_speakers);
	const char *sil = c->levels && c->dtx ? "levels+dtx"
			  : c->levels	      ? "levels"
			  : c->dtx	      ? "dtx"
					      : "-";
	printf(md ? "| %s | %u | %u | %s | %u | %u | %s | %.1f | %.0f | %.0f | "
		    "%.0f | %.2f | %.1f |\n"
		  : "%-5s %5u %8u %4s %6u %7u %10s %9.1f %8.0f %9.0f %8.0f "
		    "%9.2f %6.1f\n",
	       c->codec == CODEC_OPUS ? "opus" : "pcmu", c->parts, c->speakers,
	       c->max_speakers ? k : "all", r->rate_hz,
	       c->threads ? c->threads : 1, sil, r->encodes, r->tick_us,
	       r->tick_max_us, r->cpu_us, r->cpu_us / c->parts, 100 * r->late);
}

static void header(int md)
{
	if (md)
		printf(
		    "| codec | N | talking | K | room Hz | threads | silence "
		    "| encodes/tick | tick us | tick max us | cpu us/tick | "
		    "cpu us/participant | late %% |\n| --- | ---: | ---: | "
		    "---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | "
		    "---: | ---: |\n");
	else
		printf("%-5s %5s %8s %4s %6s %7s %10s %9s %8s %9s %8s %9s "
		       "%6s\n",
		       "codec", "N", "talking", "K", "Hz", "threads", "silence",
		       "enc/tick", "tick us", "max us", "cpu us", "us/part",
		       "late%");
}

/* Runs case c two ways in turn, set(&c, 0) and set(&c, 1), reps times
 * each; the medians of each way's cpu per participant and tick. */
static void compare_ways(struct bcase c, int reps, int md,
			 void (*set)(struct bcase *, int), double cpu_med[2],
			 double tick_med[2])
{
	double cpu[2][MAX_REPS], tick[2][MAX_REPS];

	for (int k = 0; k < reps; k++) {
		for (int w = 0; w < 2; w++) {
			set(&c, w);
			struct result res = run_case(&c);
			print_row(&c, &res, md);
			fflush(stdout);
			cpu[w][k] = res.cpu_us / c.parts;
			tick[w][k] = res.tick_us;
		}
	}
	for (int w = 0; w < 2; w++) {
		cpu_med[w] = bench_median(cpu[w], (size_t)reps);
		tick_med[w] = bench_median(tick[w], (size_t)reps);
	}
}

static void set_rate(struct bcase *c, int way)
{
	c->rate_hz = way ? 48000 : 8000;
}

/* A PCMU room at 8 kHz, and pinned at 48 kHz, in turn. */
static void compare_rates(struct bcase c, int reps, int md)
{
	double cpu[2], tick[2];

	c.codec = CODEC_PCMU;
	compare_ways(c, reps, md, set_rate, cpu, tick);
	printf("\nmedians of %d runs, pcmu N=%u talking=%u: cpu us/participant "
	       "%.2f at 8 kHz, %.2f at 48 kHz (48/8 = %.2fx); tick us %.0f "
	       "at 8 kHz, %.0f at 48 kHz (48/8 = %.2fx)\n",
	       reps, c.parts, c.speakers, cpu[0], cpu[1], cpu[1] / cpu[0],
	       tick[0], tick[1], tick[1] / tick[0]);
}

static void set_sendto(struct bcase *c, int way)
{
	c->sendto = way == 0;
}

/* The same room sending with one sendto a packet, and in io_uring
 * batches (rtp/sendq.c), in turn. */
static void compare_send(struct bcase c, int reps, int md)
{
	double cpu[2], tick[2];

	compare_ways(c, reps, md, set_sendto, cpu, tick);
	printf("\nmedians of %d runs, %s N=%u talking=%u: cpu us/participant "
	       "%.2f with sendto, %.2f batched (%.2fx); tick us %.0f with "
	       "sendto, %.0f batched (%.2fx)\n",
	       reps, c.codec == CODEC_OPUS ? "opus" : "pcmu", c.parts,
	       c.speakers, cpu[0], cpu[1], cpu[1] / cpu[0], tick[0], tick[1],
	       tick[1] / tick[0]);
}

int main(int argc, char **argv)
{
	struct bcase one = {0, 0, 4,	 CODEC_OPUS, 5,	   0,
			    0, 1, false, false,	     false};
	int md = 0, quick = 0, compare = 0, compare_tx = 0, reps = 5;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(argv[i], "--markdown"))
			md = 1;
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--parts") && ++i)
			one.parts = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--speakers") && ++i)
			one.speakers = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--max-speakers") && ++i)
			one.max_speakers = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--threads") && ++i)
			one.threads = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--seconds") && ++i)
			one.seconds = atof(v);
		else if (!strcmp(argv[i], "--levels"))
			one.levels = true;
		else if (!strcmp(argv[i], "--dtx"))
			one.dtx = true;
		else if (!strcmp(argv[i], "--compare-rates"))
			compare = 1;
		else if (!strcmp(argv[i], "--compare-send"))
			compare_tx = 1;
		else if (!strcmp(argv[i], "--sendto"))
			one.sendto = true;
		else if (!strcmp(argv[i], "--reps") && ++i)
			reps = atoi(v);
		else if (!strcmp(argv[i], "--churn") && ++i)
			one.churn_s = atof(v);
		else if (!strcmp(argv[i], "--rate") && ++i)
			one.rate_hz = (uint32_t)atoi(v);
		else if (!strcmp(argv[i], "--codec") && ++i)
			one.codec =
			    !strcmp(v, "pcmu") ? CODEC_PCMU : CODEC_OPUS;
		else {
			fprintf(stderr,
				"usage: see the top of bench/roombench.c\n");
			return 2;
		}
	}
	if (one.parts > MAX_PARTS || one.speakers > one.parts || reps < 1 ||
	    reps > MAX_REPS ||
	    (one.rate_hz && one.rate_hz != 8000 && one.rate_hz != 16000 &&
	     one.rate_hz != 48000)) {
		fprintf(stderr,
			"roombench: --parts 1..%d, --speakers <= parts, --reps "
			"1..%d, --rate 8000|16000|48000\n",
			MAX_PARTS, MAX_REPS);
		return 2;
	}
	header(md);
	if (compare) {
		struct bcase c = one;
		c.parts = c.parts ? c.parts : 100;
		c.speakers = c.speakers ? c.speakers : 3;
		c.seconds = c.seconds == 5 ? 3 : c.seconds;
		compare_rates(c, reps, md);
		return 0;
	}
	if (compare_tx) {
		struct bcase c = one;
		c.parts = c.parts ? c.parts : 1000;
		c.speakers = c.speakers ? c.speakers : 3;
		compare_send(c, reps, md);
		return 0;
	}
	if (one.parts) {
		struct result r = run_case(&one);
		print_row(&one, &r, md);
		printf("rate changes %llu; ticks over 2 ms: %llu of %llu\n",
		       (unsigned long long)r.changes,
		       (unsigned long long)r.slow, (unsigned long long)r.ticks);
		return 0;
	}
	double secs = quick ? 2 : 8;
	/* The last row: everyone's own encode, over two threads. */
	const struct bcase table[] = {
	    {100, 3, 4, CODEC_OPUS, secs, 0, 0, 1, false, false, false},
	    {100, 3, 4, CODEC_OPUS, secs, 0, 0, 1, true, false, false},
	    {100, 3, 4, CODEC_OPUS, secs, 0, 0, 1, true, true, false},
	    {100, 0, 4, CODEC_OPUS, secs, 0, 0, 1, true, false, false},
	    {100, 0, 4, CODEC_OPUS, secs, 0, 0, 1, true, true, false},
	    {100, 100, 4, CODEC_OPUS, secs, 0, 0, 1, false, false, false},
	    {100, 100, 0, CODEC_OPUS, secs, 0, 0, 1, false, false, false},
	    {100, 3, 4, CODEC_PCMU, secs, 0, 0, 1, false, false, false},
	    {100, 3, 4, CODEC_PCMU, secs, 48000, 0, 1, false, false, false},
	    {100, 3, 4, CODEC_PCMU, secs, 0, 0, 1, true, false, false},
	    {100, 0, 4, CODEC_PCMU, secs, 0, 0, 1, true, true, false},
	    {100, 100, 0, CODEC_PCMU, secs, 0, 0, 1, false, false, false},
	    {100, 100, 0, CODEC_PCMU, secs, 48000, 0, 1, false, false, false},
	    {100, 100, 0, CODEC_OPUS, secs, 0, 0, 2, false, false, false},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct result r = run_case(&table[i]);
		print_row(&table[i], &r, md);
		fflush(stdout);
	}
	return 0;
}
