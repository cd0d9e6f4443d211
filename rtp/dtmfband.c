/* dtmfband.c: key presses heard in the audio (in-band DTMF), for callers
 * that did not negotiate telephone-event.
 *
 * spandsp's receiver does the listening (Goertzel filters, twist and
 * level checks, ITU-T Q.24 timing); it reports through its "realtime"
 * callback when a confirmed tone pair starts and when it stops. A digit
 * is reported here when its tone stops (or gives way to another), with
 * its length counted in samples fed, to 20 ms or so. dtmfband_heard()
 * says whether a digit's tones were present in the last samples fed, so
 * that the stream can keep them out of the mix.
 *
 * spandsp works at 8 kHz only. G.711's own audio goes in as it is; audio
 * at another rate (G.722's 16 kHz, Opus's 48 kHz) is first brought down
 * to 8 kHz by SpeexDSP's converter (rtp/resamp.c), whose low-pass keeps
 * what lies above 4 kHz from folding onto the DTMF band (697-1633 Hz),
 * where speech or music could otherwise pass for key tones. Nobody hears
 * this audio, so the converter runs at SpeexDSP's quality 1 rather than
 * the mix's 3: it still takes 63 dB or more off whatever would fold
 * (measured from 4.5 to 20 kHz; the receiver needs some 40), at half
 * the cost: per 20 ms, SpeexDSP alone takes 1.2 us at 16 kHz and 3.2 us
 * at 48 kHz against 2.6 and 8.4 at quality 3 (bench/ivrbench gives the
 * whole listening: docs/benchmarks.md). The converter's filter delays
 * the tones by about a millisecond, which no digit's timing notices.
 * The detector is allocated once; feeding allocates nothing and never
 * logs. One owner thread (the room's mixer).
 *
 * Silence is not listened to. A frame that peaks below QUIET_PEAK (about
 * -50 dBFS; the weakest key spandsp takes is a pair peaking near 380,
 * 11 dB above) fed after another such frame, with no tone present, would
 * leave the receiver as it was: at rest, its last block quiet. Such
 * frames are only counted in time. The converter and the receiver cost
 * 2-10 us a frame by rate, a skipped frame 0.2-0.6 us (bench/ivrbench),
 * and in a room most callers are silent most of the time. The quiet
 * frame fed before a skipped run keeps the receiver's timing right: any
 * tone's end has been fed, and no tone before the run can join one after
 * it into a digit. */
#include "rtp/rtp.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#define RATE_HZ	    8000
#define PENDING_MAX 4
#define CHUNK	    160 /* 8 kHz samples converted at once: 20 ms */
#define QUALITY	    1	/* SpeexDSP's: see above */
#define QUIET_PEAK  100 /* of 32767: silence, not listened to (above) */

struct dtmfband {
	dtmf_rx_state_t *rx;
	uint32_t in_hz;	     /* the rate fed */
	struct resamp *rs;   /* in_hz to 8 kHz; NULL at 8 kHz */
	int16_t low[CHUNK];  /* the converter's output */
	int16_t last[CHUNK]; /* the last 20 ms heard, at 8 kHz */
	char key;	     /* the tone now present, 0 when none */
	uint64_t at;	     /* samples fed so far */
	uint64_t start;	     /* of the present tone */
	bool heard;	     /* tones present in the last feed */
	bool resting;	     /* the last feed was quiet, with no tone */
	uint64_t skipped;    /* frames not listened to (dtmfband_skipped) */
	struct digit pending[PENDING_MAX]; /* ended, not yet handed out */
	size_t n_pending;
};

static void ignore_digits(void *user, const char *digits, int len)
{
	/* Digits are taken from the realtime callback, with their end. */
	(void)user;
	(void)digits;
	(void)len;
}

static void on_tone(void *user, int code, int level, int delay)
{
	struct dtmfband *b = user;
	(void)level;
	(void)delay;
	if (b->key && b->n_pending < PENDING_MAX) {
		uint64_t ms = (b->at - b->start) * 1000 / RATE_HZ;
		b->pending[b->n_pending++] = (struct digit){
		    .key = b->key,
		    .source = DIGIT_INBAND,
		    .duration_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms};
	}
	b->key = 0;
	if (code > 0 && code < 128 && strchr("0123456789*#ABCD", code)) {
		b->key = (char)code;
		b->start = b->at;
		b->heard = true;
	}
}

int dtmfband_new(struct dtmfband **out, uint32_t in_hz)
{
	if (!out || in_hz < RATE_HZ || in_hz > 192000)
		return -EINVAL;
	struct dtmfband *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->in_hz = in_hz;
	int err = in_hz == RATE_HZ
		      ? 0
		      : resamp_new_quality(&b->rs, in_hz, RATE_HZ, QUALITY);
	if (err)
		goto fail;
	b->rx = dtmf_rx_init(NULL, ignore_digits, b);
	if (!b->rx) {
		err = -ENOMEM;
		goto fail;
	}
	dtmf_rx_set_realtime_callback(b->rx, on_tone, b);
	*out = b;
	return 0;
fail:
	dtmfband_free(b);
	return err;
}

void dtmfband_free(struct dtmfband *b)
{
	if (!b)
		return;
	if (b->rx)
		dtmf_rx_free(b->rx);
	resamp_free(b->rs);
	free(b);
}

static void hear_8k(struct dtmfband *b, const int16_t *pcm, int n)
{
	dtmf_rx(b->rx, pcm, n);
	b->at += (uint64_t)n;
	/* the last CHUNK samples, for dtmfband_pair */
	if ((size_t)n >= CHUNK) {
		memcpy(b->last, pcm + n - CHUNK, sizeof(b->last));
	} else {
		memmove(b->last, b->last + n,
			(CHUNK - (size_t)n) * sizeof(*b->last));
		memcpy(b->last + CHUNK - n, pcm, (size_t)n * sizeof(*pcm));
	}
}

/* The power of x at f_hz (Goertzel), in units where a sine of amplitude
 * a over n samples gives (a n / 2)^2. */
static double power_at(const int16_t *x, size_t n, double f_hz)
{
	double c = 2 * cos(2 * M_PI * f_hz / RATE_HZ), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return s1 * s1 + s2 * s2 - c * s1 * s2;
}

void dtmfband_pair(const struct dtmfband *b, double *lo, double *hi)
{
	static const double low[] = {697, 770, 852, 941},
			    high[] = {1209, 1336, 1477, 1633};
	double energy = 0;

	*lo = 0;
	*hi = 0;
	for (size_t i = 0; i < CHUNK; i++)
		energy += (double)b->last[i] * b->last[i];
	/* below -50 dBFS or so: nothing anyone would hear as a key */
	if (energy < CHUNK * 100.0 * 100.0)
		return;
	for (size_t i = 0; i < 4; i++) {
		double l = power_at(b->last, CHUNK, low[i]);
		double h = power_at(b->last, CHUNK, high[i]);
		*lo = l > *lo ? l : *lo;
		*hi = h > *hi ? h : *hi;
	}
	/* a sine's energy is 2 power / n: each tone's share of the frame */
	*lo = 2 * *lo / CHUNK / energy;
	*hi = 2 * *hi / CHUNK / energy;
}

/* Every sample within (-QUIET_PEAK, QUIET_PEAK). In blocks of a fixed
 * length, which the compiler turns into vector code at -O2 (a silent
 * frame is read to its end: 960 samples at 48 kHz), and which stop at the
 * first loud block. */
static bool loud(int16_t x)
{
	return (uint16_t)(x + QUIET_PEAK - 1) > 2 * QUIET_PEAK - 2;
}

static bool quiet(const int16_t *pcm, size_t n)
{
	enum { BLOCK = 32 };
	size_t i = 0;
	for (; i + BLOCK <= n; i += BLOCK) {
		unsigned any = 0;
		for (size_t j = 0; j < BLOCK; j++)
			any |= loud(pcm[i + j]);
		if (any)
			return false;
	}
	for (; i < n; i++)
		if (loud(pcm[i]))
			return false;
	return true;
}

size_t dtmfband_feed(struct dtmfband *b, const int16_t *pcm, size_t n,
		     struct digit *out, size_t cap)
{
	/* CHUNK samples at 8 kHz come from at most this many fed. */
	size_t in_chunk = (size_t)b->in_hz / (RATE_HZ / CHUNK);
	bool is_quiet = quiet(pcm, n);

	/* resting: the last feed ended with no tone and nothing pending
	 * (only a feed or a loss changes either, and a loss clears it) */
	if (is_quiet && b->resting) {
		b->heard = false;
		b->at += (uint64_t)n * RATE_HZ / b->in_hz;
		memset(b->last, 0, sizeof(b->last));
		b->skipped++;
		return 0;
	}
	b->heard = b->key != 0;
	while (n > 0) {
		size_t take = n > in_chunk ? in_chunk : n;
		if (!b->rs) {
			hear_8k(b, pcm, (int)take);
		} else {
			int got = resamp_run(b->rs, pcm, take, b->low, CHUNK);
			if (got > 0)
				hear_8k(b, b->low, got);
		}
		pcm += take;
		n -= take;
	}
	b->resting = is_quiet && !b->key;
	/* Digits that ended while samples were lost come out here too. */
	size_t got = b->n_pending < cap ? b->n_pending : cap;
	if (got)
		memcpy(out, b->pending, got * sizeof(*out));
	b->n_pending = 0;
	return got;
}

void dtmfband_lost(struct dtmfband *b, size_t n)
{
	b->heard = b->key != 0;
	b->resting = false;
	n = (size_t)((uint64_t)n * RATE_HZ / b->in_hz);
	while (n > 0) {
		int chunk = n > 8000 ? 8000 : (int)n;
		dtmf_rx_fillin(b->rx, chunk);
		b->at += (uint64_t)chunk;
		n -= (size_t)chunk;
	}
}

bool dtmfband_heard(const struct dtmfband *b)
{
	return b->heard;
}

uint64_t dtmfband_skipped(const struct dtmfband *b)
{
	return b->skipped;
}
