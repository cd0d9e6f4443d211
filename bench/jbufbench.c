/* jbufbench.c: what a jitter buffer costs per participant and tick in a
 * big room: tutti's (rtp/jbuf.c) against SpeexDSP's, which tutti used
 * before, in the same run.
 *
 * N buffers (default 1,000), one per participant; each tick puts one
 * 160-byte packet (20 ms of G.711) into every buffer and gets one frame
 * from it, as a room's tick does. Between ticks 16 MB are walked, so that
 * the buffers come from memory as they do after a real tick's decodes,
 * mixes and sends. The figure is ns per participant (put + get), median
 * of the ticks; the two buffers take turns run by run. Single thread,
 * CLOCK_MONOTONIC.
 *
 * usage: jbufbench [N] [ticks] [runs] */
#include "bench/bench_util.h"
#include "rtp/rtp.h"

#include <speex/speex_jitter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME	 160
#define PAYLOAD	 160
#define THRASH	 (16u << 20)
#define MAX_TICK 4000

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static volatile unsigned char sink;

static void thrash(unsigned char *junk)
{
	for (size_t j = 0; j < THRASH; j += 64)
		junk[j]++;
	sink = junk[THRASH / 2];
}

/* One tick of tutti's buffers; returns the frames got. */
static unsigned tick_ours(struct jbuf **jb, int n, int t)
{
	static uint8_t pay[PAYLOAD], out[RTPPKT_MAX_BYTES];
	unsigned frames = 0;
	size_t len;

	for (int i = 0; i < n; i++) {
		struct rtppkt p = {.seq = (uint16_t)(t + i),
				   .ts = (uint32_t)(t * FRAME + i * 7),
				   .ssrc = (uint32_t)i + 1,
				   .payload = pay,
				   .payload_bytes = PAYLOAD};
		jbuf_put(jb[i], &p);
		frames += jbuf_get(jb[i], out, sizeof(out), &len) == JBUF_FRAME;
	}
	return frames;
}

/* The same with SpeexDSP's, used as tutti used it (put, get, tick). */
static unsigned tick_spx(JitterBuffer **jb, int n, int t)
{
	static char pay[PAYLOAD], out[RTPPKT_MAX_BYTES];
	unsigned frames = 0;
	spx_int32_t off;

	for (int i = 0; i < n; i++) {
		JitterBufferPacket p = {.data = pay,
					.len = PAYLOAD,
					.timestamp = (spx_uint32_t)(t * FRAME),
					.span = FRAME,
					.sequence = (spx_uint16_t)t};
		jitter_buffer_put(jb[i], &p);
		JitterBufferPacket g = {.data = out, .len = sizeof(out)};
		frames += jitter_buffer_get(jb[i], &g, FRAME, &off) ==
			  JITTER_BUFFER_OK;
		jitter_buffer_tick(jb[i]);
	}
	return frames;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	int ticks = argc > 2 ? atoi(argv[2]) : 300;
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (n < 1 || ticks < 1 || ticks > MAX_TICK || runs < 1) {
		fprintf(stderr, "usage: jbufbench [N] [ticks<=%d] [runs]\n",
			MAX_TICK);
		return 2;
	}
	unsigned char *junk = calloc(THRASH, 1);
	double *ours = calloc((size_t)ticks * runs, sizeof(double));
	double *spx = calloc((size_t)ticks * runs, sizeof(double));
	if (!junk || !ours || !spx)
		bench_die("calloc");
	unsigned got_ours = 0, got_spx = 0;

	for (int r = 0; r < runs; r++) {
		struct jbuf **a = calloc((size_t)n, sizeof(*a));
		JitterBuffer **b = calloc((size_t)n, sizeof(*b));
		if (!a || !b)
			return 1;
		for (int i = 0; i < n; i++) {
			spx_int32_t rate = 4;
			if (jbuf_new(&a[i], 8000, FRAME, 200) < 0)
				return 1;
			b[i] = jitter_buffer_init(FRAME);
			if (!b[i])
				return 1;
			jitter_buffer_ctl(b[i], JITTER_BUFFER_SET_MAX_LATE_RATE,
					  &rate);
		}
		for (int t = 0; t < ticks; t++) {
			thrash(junk);
			double t0 = now_ns();
			got_ours += tick_ours(a, n, t);
			ours[r * ticks + t] = (now_ns() - t0) / n;
			thrash(junk);
			t0 = now_ns();
			got_spx += tick_spx(b, n, t);
			spx[r * ticks + t] = (now_ns() - t0) / n;
		}
		for (int i = 0; i < n; i++) {
			jbuf_free(a[i]);
			jitter_buffer_destroy(b[i]);
		}
		free(a);
		free(b);
	}
	size_t all = (size_t)ticks * runs;
	double mo = bench_median(ours, all), ms = bench_median(spx, all);
	printf("jitter buffer, %d participants, one 20 ms packet in and one "
	       "frame out a tick, %d ticks x %d runs\n",
	       n, ticks, runs);
	printf("  tutti (rtp/jbuf.c)  %8.1f ns per participant (p90 %.1f), "
	       "%u frames\n",
	       mo, ours[all * 9 / 10], got_ours);
	printf("  SpeexDSP            %8.1f ns per participant (p90 %.1f), "
	       "%u frames\n",
	       ms, spx[all * 9 / 10], got_spx);
	printf("  ratio               %8.3fx\n", mo / ms);
	free(junk);
	free(ours);
	free(spx);
	return 0;
}
