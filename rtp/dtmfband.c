/* dtmfband.c: key presses heard in the audio (in-band DTMF), for G.711
 * callers that did not negotiate telephone-event.
 *
 * spandsp's receiver does the listening (Goertzel filters, twist and
 * level checks, ITU-T Q.24 timing); it reports through its "realtime"
 * callback when a confirmed tone pair starts and when it stops. A digit
 * is reported here when its tone stops (or gives way to another), with
 * its length counted in samples fed, to 20 ms or so. dtmfband_heard()
 * says whether a digit's tones were present in the last samples fed, so
 * that the stream can keep them out of the mix.
 *
 * spandsp works at 8 kHz only; the caller feeds G.711's own audio. The
 * detector is allocated once; feeding allocates nothing and never logs.
 * One owner thread (the room's mixer). */
#include "rtp/rtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#define RATE_HZ	    8000
#define PENDING_MAX 4

struct dtmfband {
	dtmf_rx_state_t *rx;
	char key;	/* the tone now present, 0 when none */
	uint64_t at;	/* samples fed so far */
	uint64_t start; /* of the present tone */
	bool heard;	/* tones present in the last feed */
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

int dtmfband_new(struct dtmfband **out)
{
	struct dtmfband *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->rx = dtmf_rx_init(NULL, ignore_digits, b);
	if (!b->rx) {
		free(b);
		return -ENOMEM;
	}
	dtmf_rx_set_realtime_callback(b->rx, on_tone, b);
	*out = b;
	return 0;
}

void dtmfband_free(struct dtmfband *b)
{
	if (!b)
		return;
	dtmf_rx_free(b->rx);
	free(b);
}

size_t dtmfband_feed(struct dtmfband *b, const int16_t *pcm, size_t n,
		     struct digit *out, size_t cap)
{
	b->heard = b->key != 0;
	while (n > 0) {
		int chunk = n > 8000 ? 8000 : (int)n;
		dtmf_rx(b->rx, pcm, chunk);
		b->at += (uint64_t)chunk;
		pcm += chunk;
		n -= (size_t)chunk;
	}
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
