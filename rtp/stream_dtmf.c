/* stream_dtmf.c: the key presses of one participant's stream.
 *
 * RFC 4733 telephone-event packets go to an event tracker (rtp/dtmfev.c)
 * at the negotiated clock; they were never audio and never reach the
 * jitter buffer. A caller that did not negotiate telephone-event can only
 * press keys in-band, as tones in its audio: its decoded audio goes
 * through spandsp's receiver (rtp/dtmfband.c), G.711's as it is, G.722's
 * (16 kHz) and Opus's (48 kHz) brought down to 8 kHz first. Opus callers
 * are listened to as well: one without telephone-event (a rare SIP phone;
 * WebRTC always offers it) could otherwise never give a PIN, and what it
 * costs (the conversion, the receiver, the 40 ms hold below, about 5 us a
 * frame in all) falls on that caller alone. Opus at a phone's bitrate
 * keeps the two tones' levels and twist (tests/unit/test_dtmfband.c
 * hears every key through it); at the lowest bitrates it may blur them,
 * and the receiver may then miss a key. Either way, finished
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
 * telephone-event are not delayed. Frames are held at the codec's rate.
 * When the caller's audio stops (DTX, CN, nothing sent), what is held
 * still comes out, the next ticks, not seconds later before its next
 * packet. Losses: a concealed frame after one with tones counts as one
 * with tones (concealment is a distorted copy the receiver may not
 * confirm), and when concealment begins or ends, a frame that looks like
 * a key's pair (key_pair, on dtmfband_pair's shares) counts too: the receiver
 * never saw enough of that key to confirm it. And a decoder takes some frames
 * to come back from a loss (G.722's ADPCM some 120 ms, Opus after its
 * concealment or FEC's rough copy as long): what is left of a key there
 * can be distorted past both tests (a twist beyond the receiver's, one
 * tone louder for a frame). So within LOSS_WINDOW frames of a loss,
 * something near a key's pair (GUARD_TONE each, GUARD_PAIR together)
 * arms a guard, and from then on a frame mostly on one DTMF frequency
 * (GUARD_ONE) is silenced as well, until one is not. Of our espeak
 * prompts' 20 ms frames above -50 dBFS, 0.35 % are near a pair and 6 %
 * mostly on one frequency; the guard only looks after a loss.
 *
 * Mixer thread, on a stream it holds; set-up and free by whoever builds
 * and frees the stream. Allocates only in stream_dtmf_setup(). */
#include "rtp/stream_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Frames to silence around a digit: the held ones, the one being fed,
 * and one after the receiver stopped hearing it. */
#define HEARD_MASK ((1u << (STREAM_DTMF_HOLD + 2)) - 1)
/* The guard after a loss (above): frames watched, and the shares of a
 * frame's energy (dtmfband_pair) that arm it and that it silences. */
#define LOSS_WINDOW 6
/* A key's pair, when concealment begins or ends: each tone's share and
 * the pair's (a key's pair with some speech or noise under it). */
#define SUSPECT_TONE 0.15
#define SUSPECT_PAIR 0.5
#define GUARD_TONE   0.08
#define GUARD_PAIR   0.45
#define GUARD_ONE    0.2

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
	s->dtmf.frame_n = 0;
}

int stream_dtmf_setup(struct stream *s)
{
	struct stream_dtmf *d = &s->dtmf;
	uint32_t hz = s->m.desc->pcm_rate_hz;
	dtmfev_init(&d->ev, s->p.te_clock_hz);
	if (s->p.te_pt >= 0 || (d->band && d->frame_n != hz / 50)) {
		stream_dtmf_free(s); /* none wanted, or at another rate */
		if (s->p.te_pt >= 0)
			return 0;
	}
	if (d->band)
		return 0;
	d->frame_n = hz / 50;
	d->held = calloc((STREAM_DTMF_HOLD + 1) * d->frame_n, sizeof(*d->held));
	int err = d->held ? dtmfband_new(&d->band, hz) : -ENOMEM;
	if (err)
		stream_dtmf_free(s);
	d->oldest = 0;
	d->pending = 0;
	d->heard = 0;
	d->lost = false;
	d->window = 0;
	d->guard = false;
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

/* The shares of the last 20 ms fed on a low-group and a high-group DTMF
 * frequency (dtmfband_pair), measured once and read by the tests below. */
struct shares {
	double lo, hi;
};

static struct shares shares_of(const struct stream_dtmf *d)
{
	struct shares p;

	dtmfband_pair(d->band, &p.lo, &p.hi);
	return p;
}

/* Most of the energy on one pair: a key, with some speech or noise under
 * it, whether or not the receiver has confirmed it. */
static bool key_pair(struct shares p)
{
	return p.lo > SUSPECT_TONE && p.hi > SUSPECT_TONE &&
	       p.lo + p.hi > SUSPECT_PAIR;
}

/* Near a key's pair: what arms the guard after a loss. */
static bool near_pair(struct shares p)
{
	return p.lo > GUARD_TONE && p.hi > GUARD_TONE &&
	       p.lo + p.hi > GUARD_PAIR;
}

/* Whether the guard after a loss silences the frame just fed (now). */
static bool guard_silences(struct stream_dtmf *d, struct shares now,
			   bool concealed)
{
	if (d->window) {
		d->guard = d->guard || near_pair(now);
		d->window -= !concealed;
		return d->guard;
	}
	d->guard = d->guard && (now.lo > GUARD_ONE || now.hi > GUARD_ONE);
	return d->guard;
}

void stream_dtmf_inband(struct stream *s, int16_t *pcm, size_t n,
			bool concealed)
{
	struct stream_dtmf *d = &s->dtmf;
	if (!d->band || n != d->frame_n)
		return;
	struct digit dg[4];
	bool onset = false;
	if (concealed) {
		/* The frame before this one. A loss right after a key's first
		 * 20 ms, before the receiver could confirm it: that frame is
		 * still held, and is silenced too. A key near the loss arms
		 * the guard. */
		if (!(d->heard & 1) || !d->lost) {
			struct shares before = shares_of(d);
			onset = !(d->heard & 1) && key_pair(before);
			d->guard = d->guard || (!d->lost && near_pair(before));
		}
		d->window = LOSS_WINDOW;
	}
	size_t got = dtmfband_feed(d->band, pcm, n, dg, 4);
	queue(d, dg, got);
	/* The first frame after a loss: the receiver lost the tone's start
	 * and may never confirm what is left of it. */
	bool resume = !concealed && d->lost;
	struct shares now = {0, 0};
	if (resume || d->window || d->guard)
		now = shares_of(d);
	resume = resume && key_pair(now);
	bool guarded = guard_silences(d, now, concealed);
	/* Concealment goes on with what came before it: after a key's tone,
	 * a decaying, distorted copy of it that the receiver may not take for
	 * the key, and that must not reach the mix either. */
	bool heard = dtmfband_heard(d->band) || onset || resume || guarded ||
		     (concealed && (d->heard & 1));
	d->heard = d->heard << 1 | heard;
	d->lost = concealed;

	/* Slot HOLD is scratch: the new frame goes where the oldest was. */
	int16_t *oldest = d->held + (size_t)d->oldest * n;
	int16_t *tmp = d->held + (size_t)STREAM_DTMF_HOLD * n;
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

	if (!d->band || !d->pending || n != d->frame_n)
		return false;
	unsigned left = d->pending - 1;
	memset(pcm, 0, n * sizeof(*pcm));
	stream_dtmf_inband(s, pcm, n, false); /* silence in, the oldest out */
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
