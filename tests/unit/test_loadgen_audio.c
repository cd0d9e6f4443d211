/* test_loadgen_audio.c: what bench/loadgen sends and how it listens
 * (bench/loadgen/audio.c): the Goertzel measure, the tone and marker
 * tracks as a listener decodes them, the Opus DTX packet, and the marker's
 * delay. */
#include "bench/loadgen/loadgen.h"
#include "tests/unit/unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void sine(int16_t *x, size_t n, double hz, double rate, double a)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (int16_t)(a * sin(2.0 * M_PI * hz * (double)i / rate));
}

static void test_goertzel(void)
{
	static int16_t x[960];
	const double rates[] = {8000, 48000};
	for (int r = 0; r < 2; r++) {
		size_t n = (size_t)rates[r] / 50;
		sine(x, n, 750, rates[r], 6000);
		double on = goertzel_power(x, n, 750, rates[r]);
		CU_ASSERT(fabs(on / (6000.0 * 6000.0) - 1.0) < 0.01);
		/* whole cycles in 20 ms: nothing leaks 100 Hz away */
		CU_ASSERT(goertzel_power(x, n, 850, rates[r]) < 1e-4 * on);
		CU_ASSERT(goertzel_power(x, n, 650, rates[r]) < 1e-4 * on);
	}
	memset(x, 0, sizeof(x));
	CU_ASSERT(goertzel_power(x, 160, 400, 8000) == 0.0);
}

static void test_pcmu_tones_and_marker(void)
{
	struct lg g = {.codec = LG_PCMU, .speakers = 3, .tones = true};
	int16_t pcm[160];
	CU_ASSERT_FATAL(audio_prepare(&g) == 0);
	CU_ASSERT_EQUAL(g.ntones, 3);
	for (int t = 0; t < 3; t++) {
		CU_ASSERT_EQUAL(g.tone[t].n, 50);
		CU_ASSERT_EQUAL(g.tone[t].len[7], 160);
		struct caller c = {0};
		size_t n =
		    audio_decode(&g, &c, g.tone[t].pkt[7], 160, pcm, 160);
		CU_ASSERT_EQUAL_FATAL(n, 160);
		double p = goertzel_power(pcm, n, g.tone_hz[t], 8000);
		/* G.711 keeps the level within a fraction of a dB */
		CU_ASSERT(fabs(10 * log10(p / (6000.0 * 6000.0))) < 0.5);
		for (int u = 0; u < 3; u++)
			if (u != t)
				CU_ASSERT(goertzel_power(pcm, n, g.tone_hz[u],
							 8000) < 1e-3 * p);
	}
	/* the marker: in the first MARKER_FRAMES of each second only */
	struct caller c = {0};
	audio_decode(&g, &c, g.tone_marker.pkt[0], 160, pcm, 160);
	CU_ASSERT(goertzel_power(pcm, 160, MARKER_HZ, 8000) >
		  0.8 * MARKER_AMPL * MARKER_AMPL);
	audio_decode(&g, &c, g.tone_marker.pkt[MARKER_FRAMES], 160, pcm, 160);
	CU_ASSERT(goertzel_power(pcm, 160, MARKER_HZ, 8000) <
		  1e-3 * MARKER_AMPL * MARKER_AMPL);
	/* G.711 silence */
	CU_ASSERT_EQUAL(g.silent.n, 1);
	CU_ASSERT_EQUAL(g.silent.len[0], 160);
	CU_ASSERT_EQUAL(g.silent.pkt[0][0], 0xFF);
	audio_free(&g);
}

static void test_opus_dtx_packet(void)
{
	struct lg g = {
	    .codec = LG_OPUS, .speakers = 1, .tones = true, .quiet = QUIET_DTX};
	CU_ASSERT_FATAL(audio_prepare(&g) == 0);
	CU_ASSERT_EQUAL(g.silent.n, 1);
	CU_ASSERT(g.silent.len[0] >= 1 && g.silent.len[0] <= 2);
	CU_ASSERT(g.tone[0].len[3] > 2);
	audio_free(&g);
}

static void test_marker_delay(void)
{
	struct lg g = {.codec = LG_PCMU, .marker = true};
	struct room r;
	struct caller c = {.probe = true};
	int16_t pcm[160];
	memset(&r, 0, sizeof(r));
	g.r = &r;
	r.marker_sent_ns[0] = 1000000000LL;
	atomic_store(&r.markers_sent, 1);
	/* a frame without the marker, then one with it 30 ms after */
	memset(pcm, 0, sizeof(pcm));
	audio_analyse(&g, &c, pcm, 160, 1010000000LL);
	CU_ASSERT_EQUAL(g.ndelays, 0);
	sine(pcm, 160, MARKER_HZ, 8000, MARKER_AMPL / 2);
	audio_analyse(&g, &c, pcm, 160, 1030000000LL);
	CU_ASSERT_EQUAL_FATAL(g.ndelays, 1);
	CU_ASSERT_EQUAL(g.delays[0], 30000000LL);
	CU_ASSERT_EQUAL(c.marker_next, 1);
	/* a marker heard 600 ms late is missed, not a delay */
	r.marker_sent_ns[1] = 2000000000LL;
	atomic_store(&r.markers_sent, 2);
	audio_analyse(&g, &c, pcm, 160, 2600000000LL);
	CU_ASSERT_EQUAL(g.ndelays, 1);
	CU_ASSERT_EQUAL(c.marker_next, 2);
	free(g.delays);
}

static const struct unit_test tests[] = {
    {"goertzel measures one bin", test_goertzel},
    {"pcmu tones and marker as heard", test_pcmu_tones_and_marker},
    {"opus dtx packet", test_opus_dtx_packet},
    {"marker delay", test_marker_delay},
    {NULL, NULL},
};

UNIT_MAIN("loadgen_audio", tests)
