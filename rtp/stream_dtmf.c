/* stream_dtmf.c: the key presses of one participant's stream.
 *
 * RFC 4733 telephone-event packets go to an event tracker (rtp/dtmfev.c)
 * at the negotiated clock; they were never audio and never reach the
 * jitter buffer. A G.711 caller that did not negotiate telephone-event can
 * only press keys in-band, as tones in its audio: its decoded 8 kHz audio
 * goes through spandsp's receiver (rtp/dtmfband.c). Either way, finished
 * presses wait in a small queue until the mixer takes them, so a full
 * event queue on the mixer's side loses nothing; a press that finds this
 * queue full is counted and dropped.
 *
 * In-band tones must not reach the mix, but the receiver confirms a digit
 * only after 30 ms or so of it. So the audio of such a caller is held back
 * STREAM_DTMF_HOLD frames (40 ms): a frame leaves only once the receiver
 * has heard the frames after it, and it is silenced when a digit sounded
 * in it, in the frames after it, or in the frame just before it (the
 * tail of a tone that the receiver took a moment to end). Callers with
 * telephone-event, or another codec, are not delayed. When the caller's
 * audio stops (DTX, CN, nothing sent), what is held still comes out, the
 * next ticks, not seconds later before its next packet.
 *
 * Mixer thread, on a stream it holds; set-up and free by whoever builds
 * and frees the stream. Allocates only in stream_dtmf_setup(). */
#include "rtp/stream_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BAND_FRAME_N 160 /* 20 ms at 8 kHz */
/* Frames to silence around a digit: the held ones, the one being fed,
 * and one after the receiver stopped hearing it. */
#define HEARD_MASK ((1u << (STREAM_DTMF_HOLD + 2)) - 1)

static void queue(struct stream_dtmf *d, const struct digit *dg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d->count == STREAM_DIGITS) {
			d->dropped++;
			continue;
		}
		d->ring[(d->head + d->count) % STREAM_DIGITS] = dg[i];
		d->count++;
	}
}

void stream_dtmf_free(struct stream *s)
{
	dtmfband_free(s->dtmf.band);
	free(s->dtmf.held);
	s->dtmf.band = NULL;
	s->dtmf.held = NULL;
}

static bool inband_wanted(const struct stream *s)
{
	return s->p.te_pt < 0 &&
	       (s->p.codec == CODEC_PCMU || s->p.codec == CODEC_PCMA);
}

int stream_dtmf_setup(struct stream *s)
{
	struct stream_dtmf *d = &s->dtmf;
	dtmfev_init(&d->ev, s->p.te_clock_hz);
	if (!inband_wanted(s)) {
		stream_dtmf_free(s);
		return 0;
	}
	if (d->band)
		return 0;
	d->held =
	    calloc((STREAM_DTMF_HOLD + 1) * BAND_FRAME_N, sizeof(*d->held));
	int err = d->held ? dtmfband_new(&d->band) : -ENOMEM;
	if (err)
		stream_dtmf_free(s);
	d->oldest = 0;
	d->pending = 0;
	d->heard = 0;
	return err;
}

void stream_dtmf_restart(struct stream *s)
{
	dtmfev_init(&s->dtmf.ev, s->p.te_clock_hz);
}

void stream_dtmf_event(struct stream *s, const struct rtppkt *p,
		       uint64_t now_ns)
{
	struct digit dg[4];
	int n = dtmfev_put(&s->dtmf.ev, p->ts, p->payload, p->payload_bytes,
			   now_ns, dg, 4);
	if (n < 0)
		s->st.malformed++;
	else
		queue(&s->dtmf, dg, (size_t)n);
}

void stream_dtmf_inband(struct stream *s, int16_t *pcm, size_t n)
{
	struct stream_dtmf *d = &s->dtmf;
	if (!d->band || n != BAND_FRAME_N)
		return;
	struct digit dg[4];
	size_t got = dtmfband_feed(d->band, pcm, n, dg, 4);
	queue(d, dg, got);
	d->heard = d->heard << 1 | dtmfband_heard(d->band);

	/* Slot HOLD is scratch: the new frame goes where the oldest was. */
	int16_t *oldest = d->held + (size_t)d->oldest * BAND_FRAME_N;
	int16_t *tmp = d->held + (size_t)STREAM_DTMF_HOLD * BAND_FRAME_N;
	memcpy(tmp, oldest, n * sizeof(*pcm));
	memcpy(oldest, pcm, n * sizeof(*pcm));
	d->oldest = (d->oldest + 1) % STREAM_DTMF_HOLD;
	if (d->heard & HEARD_MASK)
		memset(pcm, 0, n * sizeof(*pcm));
	else
		memcpy(pcm, tmp, n * sizeof(*pcm));
	d->pending = STREAM_DTMF_HOLD;
}

bool stream_dtmf_drain(struct stream *s, int16_t *pcm, size_t n)
{
	struct stream_dtmf *d = &s->dtmf;

	if (!d->band || !d->pending || n != BAND_FRAME_N)
		return false;
	unsigned left = d->pending - 1;
	memset(pcm, 0, n * sizeof(*pcm));
	stream_dtmf_inband(s, pcm, n); /* silence in, the oldest out */
	d->pending = left;
	return true;
}

int stream_digit_peek(struct stream *s, uint64_t now_ns, struct digit *out)
{
	struct stream_dtmf *d = &s->dtmf;
	struct digit lost;
	if (dtmfev_expire(&d->ev, now_ns, &lost) == 1)
		queue(d, &lost, 1);
	if (!d->count)
		return -EAGAIN;
	*out = d->ring[d->head];
	return 0;
}

void stream_digit_pop(struct stream *s)
{
	struct stream_dtmf *d = &s->dtmf;
	if (!d->count)
		return;
	d->head = (d->head + 1) % STREAM_DIGITS;
	d->count--;
}
