/* audio.c: what loadgen's callers send, encoded once up front, and what a
 * probe listener makes of what comes back.
 *
 * Speakers send the speech fixture (espeak-ng at build time, see
 * bench/meson.build) or, with --tones, a steady tone of their own
 * frequency. Every tone is a multiple of 50 Hz, so a 20 ms frame holds whole
 * cycles: looped, it has no seam, and a Goertzel filter on one frame sees
 * it in exactly one bin with no leakage into the bins between the tones,
 * which serve as the noise floor. The marker speaker (speaker 0 of each
 * room, with --marker) adds MARKER_FRAMES of a loud MARKER_HZ tone at the
 * start of every second; a probe listener times the first returned frame
 * that carries it. Non-speakers send G.711 silence (0xFF), Opus silence, a
 * DTX packet every 400 ms, or nothing.
 *
 * Encoding goes through spandsp's G.711 coder and libopus (48 kHz mono,
 * 32 kb/s, as a phone would send). */
#include "loadgen.h"

#include <math.h>
#include <sndfile.h>
#include <spandsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TONE_AMPL      6000.0
#define TONE_BASE_HZ   400.0
#define TONE_STEP_HZ   350.0
#define NOISE_SHIFT_HZ 100.0
#define MAX_PKT	       1500

uint32_t audio_clock_hz(const struct lg *g)
{
	return g->codec == LG_OPUS ? 48000 : 8000;
}

int16_t ulaw_decode(uint8_t u)
{
	return ulaw_to_linear(u);
}

/* Power of one frequency in x, in squared amplitude: a sine of peak A on
 * a bin gives A*A. */
double goertzel_power(const int16_t *x, size_t n, double hz, double rate)
{
	double w = 2.0 * M_PI * hz / rate, k = 2.0 * cos(w);
	double s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s = x[i] + k * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	double p = s1 * s1 + s2 * s2 - k * s1 * s2;
	return p * 4.0 / ((double)n * (double)n);
}

static int16_t *read_wav(const char *path, uint32_t rate, size_t *n)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f) {
		fprintf(stderr, "loadgen: %s: %s\n", path, sf_strerror(NULL));
		return NULL;
	}
	if (info.channels != 1 || info.samplerate != (int)rate ||
	    info.frames <= 0) {
		fprintf(stderr, "loadgen: %s: want mono at %u Hz\n", path,
			rate);
		sf_close(f);
		return NULL;
	}
	/* Whole seconds, so that the marker falls on the same frames at
	 * every loop; the padding is silence. */
	size_t per_s = rate, frames = (size_t)info.frames;
	size_t total = (frames + per_s - 1) / per_s * per_s;
	int16_t *pcm = calloc(total, sizeof(*pcm));
	if (pcm && sf_readf_short(f, pcm, info.frames) <= 0) {
		free(pcm);
		pcm = NULL;
	}
	sf_close(f);
	*n = total;
	return pcm;
}

static void add_marker(int16_t *pcm, size_t n, uint32_t rate)
{
	size_t frame = rate / 50, every = frame * MARKER_EVERY;
	for (size_t i = 0; i < n; i++) {
		if (i % every >= frame * MARKER_FRAMES)
			continue;
		double v =
		    pcm[i] + MARKER_AMPL * sin(2.0 * M_PI * MARKER_HZ *
					       (double)(i % every) / rate);
		pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
}

static OpusEncoder *phone_encoder(bool dtx)
{
	int err;
	OpusEncoder *e =
	    opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	if (!e)
		return NULL;
	opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
	opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(5));
	opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1));
	opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(5));
	opus_encoder_ctl(e, OPUS_SET_DTX(dtx ? 1 : 0));
	return e;
}

/* Encodes pcm (a whole number of 20 ms frames) into t. */
static int encode_track(const struct lg *g, const int16_t *pcm, size_t n,
			struct track *t)
{
	size_t frame = audio_clock_hz(g) / 50;
	OpusEncoder *e = NULL;
	t->n = n / frame;
	t->pkt = calloc(t->n, sizeof(*t->pkt));
	t->len = calloc(t->n, sizeof(*t->len));
	if (!t->pkt || !t->len)
		return -1;
	if (g->codec == LG_OPUS && !(e = phone_encoder(false)))
		return -1;
	for (size_t f = 0; f < t->n; f++) {
		uint8_t buf[MAX_PKT];
		const int16_t *x = pcm + f * frame;
		int len;
		if (e) {
			len = opus_encode(e, x, (int)frame, buf, sizeof(buf));
		} else {
			for (size_t i = 0; i < frame; i++)
				buf[i] = linear_to_ulaw(x[i]);
			len = (int)frame;
		}
		if (len <= 0 || !(t->pkt[f] = malloc((size_t)len))) {
			if (e)
				opus_encoder_destroy(e);
			return -1;
		}
		memcpy(t->pkt[f], buf, (size_t)len);
		t->len[f] = (uint16_t)len;
	}
	if (e)
		opus_encoder_destroy(e);
	return 0;
}

static int16_t *tone_pcm(double hz, uint32_t rate, size_t n)
{
	int16_t *pcm = malloc(n * sizeof(*pcm));
	for (size_t i = 0; pcm && i < n; i++)
		pcm[i] = (int16_t)(TONE_AMPL *
				   sin(2.0 * M_PI * hz * (double)i / rate));
	return pcm;
}

/* What a non-speaker sends: one frame of silence, or the packet an Opus
 * encoder in DTX makes of silence (1 or 2 bytes). */
static int quiet_track(const struct lg *g, struct track *t)
{
	uint8_t buf[MAX_PKT];
	int len = 160;
	memset(buf, 0xFF, (size_t)len);
	if (g->codec == LG_OPUS) {
		OpusEncoder *e = phone_encoder(g->quiet == QUIET_DTX);
		int16_t zero[960] = {0};
		if (!e)
			return -1;
		for (int i = 0; i < 50; i++) /* DTX sets in after 200 ms */
			len = opus_encode(e, zero, 960, buf, sizeof(buf));
		opus_encoder_destroy(e);
		if (len <= 0 || (g->quiet == QUIET_DTX && len > 2)) {
			fprintf(stderr,
				"loadgen: no DTX packet from libopus\n");
			return -1;
		}
	}
	t->n = 1;
	t->pkt = calloc(1, sizeof(*t->pkt));
	t->len = calloc(1, sizeof(*t->len));
	if (!t->pkt || !t->len || !(t->pkt[0] = malloc((size_t)len)))
		return -1;
	memcpy(t->pkt[0], buf, (size_t)len);
	t->len[0] = (uint16_t)len;
	return 0;
}

int audio_prepare(struct lg *g)
{
	uint32_t rate = audio_clock_hz(g);
	size_t n = 0;
	int16_t *pcm = NULL;
	int err = -1;

	if (!g->tones) {
		pcm = read_wav(rate == 8000 ? g->fixture8 : g->fixture48, rate,
			       &n);
		if (!pcm || encode_track(g, pcm, n, &g->speech))
			goto out;
		add_marker(pcm, n, rate);
		if (encode_track(g, pcm, n, &g->speech_marker))
			goto out;
	} else {
		n = rate; /* one second loops without a seam */
		g->ntones = g->speakers < MAX_TONES ? g->speakers : MAX_TONES;
		for (int i = 0; i < g->ntones; i++) {
			g->tone_hz[i] = TONE_BASE_HZ + TONE_STEP_HZ * i;
			free(pcm);
			pcm = tone_pcm(g->tone_hz[i], rate, n);
			if (!pcm || encode_track(g, pcm, n, &g->tone[i]))
				goto out;
			if (i == 0) {
				add_marker(pcm, n, rate);
				if (encode_track(g, pcm, n, &g->tone_marker))
					goto out;
			}
		}
	}
	err = quiet_track(g, &g->silent);
out:
	free(pcm);
	return err;
}

static void track_free(struct track *t)
{
	for (size_t i = 0; t->pkt && i < t->n; i++)
		free(t->pkt[i]);
	free(t->pkt);
	free(t->len);
	memset(t, 0, sizeof(*t));
}

void audio_free(struct lg *g)
{
	track_free(&g->speech);
	track_free(&g->speech_marker);
	track_free(&g->tone_marker);
	track_free(&g->silent);
	for (int i = 0; i < MAX_TONES; i++)
		track_free(&g->tone[i]);
}

size_t audio_decode(struct lg *g, struct caller *c, const uint8_t *pl,
		    size_t len, int16_t *pcm, size_t cap)
{
	if (g->codec == LG_PCMU) {
		size_t n = len < cap ? len : cap;
		for (size_t i = 0; i < n; i++)
			pcm[i] = ulaw_decode(pl[i]);
		return n;
	}
	if (!c->dec)
		return 0;
	int n = opus_decode(c->dec, len > 2 ? pl : NULL,
			    len > 2 ? (opus_int32)len : 0, pcm, (int)cap, 0);
	return n > 0 ? (size_t)n : 0;
}

/* The first returned frame that carries the marker, within 500 ms of its
 * sending: its arrival minus the sending of the marker's first packet. */
static void find_marker(struct lg *g, struct caller *c, const int16_t *pcm,
			size_t n, int64_t arrival_ns)
{
	struct room *r = &g->r[c->room];
	unsigned sent = atomic_load(&r->markers_sent);
	while (c->marker_next < sent && c->marker_next < MAX_MARKERS) {
		int64_t t = r->marker_sent_ns[c->marker_next];
		if (arrival_ns < t)
			return;
		if (arrival_ns - t > 500000000LL) {
			c->marker_next++; /* missed: not counted as a delay */
			continue;
		}
		double a2 =
		    goertzel_power(pcm, n, MARKER_HZ, audio_clock_hz(g));
		if (a2 < (MARKER_AMPL / 4) * (MARKER_AMPL / 4))
			return;
		if (g->ndelays == g->cap_delays) {
			size_t cap = g->cap_delays ? 2 * g->cap_delays : 1024;
			int64_t *d = realloc(g->delays, cap * sizeof(*d));
			if (!d)
				return;
			g->delays = d;
			g->cap_delays = cap;
		}
		g->delays[g->ndelays++] = arrival_ns - t;
		c->marker_next++;
		return;
	}
}

void audio_analyse(struct lg *g, struct caller *c, const int16_t *pcm, size_t n,
		   int64_t arrival_ns)
{
	double rate = audio_clock_hz(g);
	if (g->marker)
		find_marker(g, c, pcm, n, arrival_ns);
	if (!atomic_load(&g->measuring))
		return;
	for (int i = 0; i < g->ntones; i++) {
		c->tone_pow[i] += goertzel_power(pcm, n, g->tone_hz[i], rate);
		c->noise_pow[i] += goertzel_power(
		    pcm, n, g->tone_hz[i] + NOISE_SHIFT_HZ, rate);
	}
	c->frames_analysed++;
}
