/* ratebench.c: what a change of room rate costs the mixer, tick by tick.
 *
 * A room of N PCMU participants (S of them talking) is run tick after
 * tick on this thread (mixer_create, no mixer thread, no clock: tick_run
 * is called directly, each participant's packet read into its stream
 * before), so that each tick's duration is measured alone, without the
 * 20 ms waits between them. A silent Opus participant joins (the room
 * goes 8 -> 48 kHz) and leaves (back to 8 kHz). For each change: how many
 * ticks the converters took to prepare (64 participants a tick) and the
 * longest of them, the tick that mixed at both rates (warm) and the one
 * that switched (commit), against the median tick before it.
 *
 * Usage: ratebench [--parts N] [--speakers S] [--reps R]
 * Loopback only. Wall time of each tick_run (CLOCK_MONOTONIC), medians
 * over the R changes each way. */
#include "mixer/mixer_priv.h"

#include "bench/bench_util.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_PARTS 1000
#define MAX_REPS  21
#define STEADY	  50 /* ticks before each change, for the median */

struct bench {
	unsigned parts, speakers;
	struct mixer *m;
	int drv, fds[MAX_PARTS + 1];
	struct sockaddr_in drv_addr, addrs[MAX_PARTS + 1];
	struct stream *s[MAX_PARTS + 1];
	uint8_t tone[160], silence[160];
	uint16_t seq;
	uint64_t now;
};

static struct stream *stream_for(struct bench *b, unsigned i,
				 enum codec_id codec)
{
	struct stream *s;
	struct stream_params sp = {.codec = codec,
				   .pt = codec == CODEC_OPUS ? 111 : 0,
				   .te_pt = -1,
				   .ptime_ms = 20,
				   .send = true,
				   .recv = true};
	memcpy(&sp.rtp_peer, &b->drv_addr, sizeof(b->drv_addr));
	b->fds[i] = bench_udp_socket(&b->addrs[i]);
	if (stream_new(&s, b->fds[i], -1, 8000, 0x1000 + i, &sp) < 0)
		bench_die("stream_new");
	return s;
}

static void post(struct bench *b, enum mixer_cmd_kind kind, uint32_t id,
		 struct stream *s)
{
	struct mixer_cmd c = {.kind = kind, .part_id = id, .stream = s};
	if (mixer_post(b->m, &c) < 0)
		bench_die("mixer_post");
}

/* One tick: every PCMU participant's packet, then tick_run, timed. */
static double tick(struct bench *b)
{
	uint8_t pkt[256], buf[1500];
	for (unsigned i = 0; i < b->parts; i++) {
		struct rtppkt p = {.pt = 0,
				   .seq = b->seq,
				   .ts = b->seq * 160u,
				   .ssrc = 0x5000 + i,
				   .payload =
				       i < b->speakers ? b->tone : b->silence,
				   .payload_bytes = 160};
		int len = rtppkt_build(pkt, sizeof(pkt), &p);
		sendto(b->drv, pkt, (size_t)len, 0,
		       (struct sockaddr *)&b->addrs[i], sizeof(b->addrs[i]));
		stream_read_rtp(b->s[i], b->now);
	}
	b->seq++;
	uint64_t t0 = mono_now_ns();
	tick_run(b->m, b->now);
	double us = (double)(mono_now_ns() - t0) / 1e3;
	while (recv(b->drv, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	struct mixer_event ev;
	while (mixer_poll(b->m, &ev) == 0)
		;
	b->now += 20000000ull;
	return us;
}

struct change {
	double steady, prep_max, warm, commit;
	unsigned prep_ticks;
};

/* STEADY ticks, then the Opus participant joins (or leaves): the ticks
 * until the room is at hz. */
static struct change measure(struct bench *b, struct stream *opus, uint32_t hz)
{
	struct change c = {0};
	double steady[STEADY];
	for (int i = 0; i < STEADY; i++)
		steady[i] = tick(b);
	c.steady = bench_median(steady, STEADY);
	post(b, opus ? MIXER_ADD : MIXER_REMOVE, MAX_PARTS + 1, opus);
	for (int i = 0; i < 200 && b->m->p.rate_hz != hz; i++) {
		double us = tick(b);
		if (b->m->p.rate_hz == hz) {
			c.commit = us;
		} else if (b->m->next_hz) {
			c.warm = us;
		} else {
			c.prep_ticks++;
			c.prep_max = fmax(c.prep_max, us);
		}
	}
	if (b->m->p.rate_hz != hz)
		bench_die("the rate did not change");
	return c;
}

static void print(const char *what, struct change *c, int reps)
{
	double v[5][MAX_REPS];
	for (int k = 0; k < reps; k++) {
		v[0][k] = c[k].steady;
		v[1][k] = c[k].prep_ticks;
		v[2][k] = c[k].prep_max;
		v[3][k] = c[k].warm;
		v[4][k] = c[k].commit;
	}
	double st = bench_median(v[0], (size_t)reps);
	double pm = bench_median(v[2], (size_t)reps);
	double w = bench_median(v[3], (size_t)reps);
	double cm = bench_median(v[4], (size_t)reps);
	printf("| %s | %.0f | %.0f | %.0f (%.1fx) | %.0f (%.1fx) | %.0f "
	       "(%.1fx) |\n",
	       what, st, bench_median(v[1], (size_t)reps), pm, pm / st, w,
	       w / st, cm, cm / st);
}

int main(int argc, char **argv)
{
	static struct bench b;
	int reps = 5;
	b.parts = 100;
	b.speakers = 3;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(argv[i], "--parts") && ++i)
			b.parts = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--speakers") && ++i)
			b.speakers = (unsigned)atoi(v);
		else if (!strcmp(argv[i], "--reps") && ++i)
			reps = atoi(v);
		else {
			fprintf(stderr, "usage: see bench/ratebench.c\n");
			return 2;
		}
	}
	if (!b.parts || b.parts > MAX_PARTS || b.speakers > b.parts ||
	    reps < 1 || reps > MAX_REPS) {
		fprintf(stderr,
			"ratebench: --parts 1..%d, --speakers <= "
			"parts, --reps 1..%d\n",
			MAX_PARTS, MAX_REPS);
		return 2;
	}
	struct codec *enc;
	int16_t pcm[160];
	if (codec_new(&enc, CODEC_PCMU) < 0)
		bench_die("codec");
	for (int i = 0; i < 160; i++)
		pcm[i] = (int16_t)(8000 * sin(2 * M_PI * 700 * i / 8000.0));
	codec_encode(enc, pcm, 160, b.tone, sizeof(b.tone));
	memset(pcm, 0, sizeof(pcm));
	codec_encode(enc, pcm, 160, b.silence, sizeof(b.silence));
	codec_free(enc);

	struct mixer_params mp = {
	    .room = "ratebench", .rate_hz = 8000, .notify_fd = -1};
	if (mixer_create(&b.m, &mp) < 0)
		bench_die("mixer_create");
	b.drv = bench_udp_socket(&b.drv_addr);
	b.now = 1000000000ull;
	for (unsigned i = 0; i < b.parts; i++)
		b.s[i] = stream_for(&b, i, CODEC_PCMU);
	for (unsigned i = 0; i < b.parts; i++) {
		post(&b, MIXER_ADD, i + 1, b.s[i]);
		if (i % 200 == 199)
			tick(&b); /* the command queue holds 256 */
	}
	struct stream *opus = stream_for(&b, b.parts, CODEC_OPUS);
	for (int i = 0; i < 100; i++)
		tick(&b); /* jitter buffers settle, speakers chosen */

	struct change up[MAX_REPS], down[MAX_REPS];
	for (int k = 0; k < reps; k++) {
		up[k] = measure(&b, opus, 48000);
		down[k] = measure(&b, NULL, 8000);
	}
	printf("PCMU room of %u, %u talking, medians of %d changes each way "
	       "(us of one tick_run):\n\n",
	       b.parts, b.speakers, reps);
	printf("| change | steady tick | prepare ticks | longest prepare "
	       "tick | warm tick | commit tick |\n| --- | ---: | ---: | ---: "
	       "| ---: | ---: |\n");
	print("8 -> 48 kHz (Opus joins)", up, reps);
	print("48 -> 8 kHz (Opus leaves)", down, reps);

	mixer_stop(b.m);
	struct mixer_event ev;
	while (mixer_poll(b.m, &ev) == 0)
		;
	mixer_free(b.m);
	for (unsigned i = 0; i <= b.parts; i++) {
		stream_free(b.s[i] ? b.s[i] : opus);
		close(b.fds[i]);
	}
	close(b.drv);
	return 0;
}
