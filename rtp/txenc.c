/* txenc.c: encoding a mix: 20 ms frames at the room rate in, packets at
 * the codec's packet time out.
 *
 * The frame is converted to the codec's rate into a small FIFO, and every
 * whole packet time in it is encoded. With 20 ms packets that is one
 * packet per frame; with 10 ms, two; with 40 or 60 ms, one every second
 * or third frame. Each packet carries its RTP time relative to the frame
 * just pushed, so that whoever sends it stamps it with its own timeline.
 *
 * A stream has one for what it sends its participant; the mixer keeps one
 * per codec and packet time for the listeners who hear the shared mix, so
 * that their frame is encoded once for all of them (mixer/shared.c). The
 * encoder is made for encoding only (Opus' decoder is not allocated).
 *
 * The room's rate may change (mixer/rate.c): the converter for the next
 * rate is made and fed the mix at that rate for one frame while the
 * current one still encodes (txenc_rate_warm), so that it holds the right
 * history when it takes over (txenc_rate_commit) and the codec sees no
 * seam. Both converters delay the audio alike (resamp_new_room).
 *
 * Silence (txenc_set_silence): with Opus DTX, libopus decides which
 * silent frames need not go out (it returns at most 2 bytes for them) and
 * sends a small update now and then on its own cadence; with CN
 * (rtp/cn.c), a G.711 packet time of silence becomes a CN packet or
 * nothing. Either way the first packet after some left unsent is marked,
 * and whoever sends the packets keeps its sequence numbers contiguous
 * while its timestamps move on.
 *
 * Belongs to its creator (a stream, or a mixer), on that one thread;
 * allocates only in txenc_new. */
#include "rtp/rtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIFO_MS	  80   /* 60 ms packets plus one 20 ms frame */
#define MAX_BYTES 1275 /* Opus' largest packet; 60 ms of G.711 is 480 */

struct txenc {
	const struct codec_desc *desc;
	struct codec *codec;
	struct resamp *rs; /* room rate to codec rate; NULL when equal */
	uint32_t room_rate_hz, ptime_ms;
	struct resamp *rs_next; /* for next_hz, while the room changes rate */
	uint32_t next_hz;	/* 0: no change under way */
	int16_t *warm;		/* a frame at the codec rate, thrown away */
	size_t pkt_samples, frame_samples; /* at the codec rate */
	int16_t *fifo;
	size_t len, cap;
	enum txenc_silence silence;
	unsigned fec_loss_pct; /* Opus: the loss it codes FEC for */
	struct cn_tx cn;
	bool unsent; /* a packet time went unsent since the last packet */
	uint8_t payload[TXENC_MAX_PKTS][MAX_BYTES];
};

/* What the codec can send of a negotiated ptime (SDP says 10..60 ms is
 * what we honour; Opus frames are 10, 20, 40 or 60 ms). */
static bool room_rate_ok(uint32_t hz)
{
	return hz == 8000 || hz == 16000 || hz == 48000;
}

static uint32_t tx_ptime(enum codec_id codec, uint32_t ms)
{
	if (ms < 10)
		ms = 20;
	ms = (ms > 60 ? 60 : ms) / 10 * 10;
	if (codec == CODEC_OPUS && ms != 10 && ms != 40 && ms != 60)
		return 20;
	return ms;
}

int txenc_new(struct txenc **out, enum codec_id codec, uint32_t ptime_ms,
	      uint32_t room_rate_hz)
{
	const struct codec_desc *d = codec_by_id(codec);
	if (!out || !d || !room_rate_ok(room_rate_hz))
		return -EINVAL;
	struct txenc *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	uint32_t hz = d->pcm_rate_hz;
	e->desc = d;
	e->fec_loss_pct = codec == CODEC_OPUS ? FECLOSS_UNKNOWN : 0;
	e->room_rate_hz = room_rate_hz;
	e->ptime_ms = tx_ptime(codec, ptime_ms);
	e->pkt_samples = hz / 1000 * e->ptime_ms;
	e->frame_samples = hz / 50;
	e->cap = hz / 1000 * FIFO_MS;
	e->fifo = calloc(e->cap, sizeof(*e->fifo));
	e->warm = calloc(e->frame_samples, sizeof(*e->warm));
	int err = e->fifo && e->warm
		      ? codec_new_for(&e->codec, codec, CODEC_ENCODE)
		      : -ENOMEM;
	if (!err)
		err = resamp_new_room(&e->rs, hz, room_rate_hz, false, hz);
	if (err) {
		txenc_free(e);
		return err;
	}
	*out = e;
	return 0;
}

void txenc_free(struct txenc *e)
{
	if (!e)
		return;
	codec_free(e->codec);
	resamp_free(e->rs);
	resamp_free(e->rs_next);
	free(e->fifo);
	free(e->warm);
	free(e);
}

int txenc_rate_prepare(struct txenc *e, uint32_t next_hz)
{
	if (!room_rate_ok(next_hz))
		return -EINVAL;
	if (e->next_hz == next_hz)
		return 0;
	txenc_rate_cancel(e);
	uint32_t hz = e->desc->pcm_rate_hz;
	int err = resamp_new_room(&e->rs_next, hz, next_hz, false, hz);
	if (!err)
		e->next_hz = next_hz;
	return err;
}

void txenc_rate_warm(struct txenc *e, const int16_t *pcm)
{
	if (e->next_hz)
		resamp_exact(e->rs_next, pcm, e->next_hz / 50, e->warm,
			     e->frame_samples);
}

int txenc_rate_commit(struct txenc *e)
{
	if (!e->next_hz)
		return -EINVAL;
	resamp_take(&e->rs, &e->rs_next);
	e->room_rate_hz = e->next_hz;
	e->next_hz = 0;
	return 0;
}

void txenc_rate_cancel(struct txenc *e)
{
	resamp_free(e->rs_next);
	e->rs_next = NULL;
	e->next_hz = 0;
}

uint32_t txenc_room_rate_hz(const struct txenc *e)
{
	return e->room_rate_hz;
}

uint32_t txenc_ptime_ms(const struct txenc *e)
{
	return e->ptime_ms;
}

enum codec_id txenc_codec(const struct txenc *e)
{
	return e->desc->id;
}

void txenc_drop(struct txenc *e)
{
	e->len = 0;
}

bool txenc_holds(const struct txenc *e)
{
	return e->len > 0;
}

int txenc_set_silence(struct txenc *e, enum txenc_silence mode)
{
	bool opus = e->desc->id == CODEC_OPUS;

	if (mode == e->silence)
		return 0;
	if ((mode == TXENC_SILENCE_DTX && !opus) ||
	    (mode == TXENC_SILENCE_CN && e->desc->rtp_clock_hz != 8000) ||
	    mode > TXENC_SILENCE_CN)
		return -EINVAL;
	if (opus) {
		int err = codec_set_dtx(e->codec, mode == TXENC_SILENCE_DTX);
		if (err)
			return err;
	}
	e->silence = mode;
	cn_tx_reset(&e->cn);
	return 0;
}

enum txenc_silence txenc_silence(const struct txenc *e)
{
	return e->silence;
}

int txenc_set_fec_loss(struct txenc *e, unsigned perc)
{
	if (e->desc->id != CODEC_OPUS || perc == e->fec_loss_pct)
		return 0;
	int err = codec_set_fec_loss(e->codec, perc);
	if (!err)
		e->fec_loss_pct = perc;
	return err;
}

unsigned txenc_fec_loss(const struct txenc *e)
{
	return e->fec_loss_pct;
}

/* One packet time from the FIFO into payload[i]: its length, 0 when
 * nothing is to be sent, or a negative errno. */
static int encode_one(struct txenc *e, unsigned i, bool *cn, bool *marker,
		      bool *encoded)
{
	uint8_t *dst = e->payload[i];
	int got;

	*cn = false;
	*marker = false;
	*encoded = false;
	if (e->silence == TXENC_SILENCE_CN) {
		got = cn_tx_step(&e->cn, e->fifo, e->pkt_samples, e->ptime_ms,
				 dst, MAX_BYTES, marker);
		if (got >= 0) {
			*cn = got > 0;
			return got;
		}
	}
	got = codec_encode(e->codec, e->fifo, e->pkt_samples, dst, MAX_BYTES);
	*encoded = true;
	/* RFC 6716 / libopus: a DTX frame of at most 2 bytes is not sent. */
	if (e->silence == TXENC_SILENCE_DTX && got >= 0 && got <= 2)
		return 0;
	return got;
}

/* Drops the first n samples of the FIFO. */
static void take(struct txenc *e, size_t n)
{
	memmove(e->fifo, e->fifo + n, (e->len - n) * sizeof(*e->fifo));
	e->len -= n;
}

int txenc_push(struct txenc *e, const int16_t *pcm, struct txenc_out *out)
{
	const size_t n = e->frame_samples;
	const uint64_t clk = e->desc->rtp_clock_hz, hz = e->desc->pcm_rate_hz;
	int err = 0;

	out->n = 0;
	out->encoded = 0;
	if (e->len + n > e->cap)
		e->len = 0; /* cannot happen with whole packets; stay bounded */
	resamp_exact(e->rs, pcm, e->room_rate_hz / 50, e->fifo + e->len, n);
	e->len += n;
	while (e->len >= e->pkt_samples && out->n < TXENC_MAX_PKTS) {
		/* The packet starts len samples before the frame's end. */
		int32_t off =
		    (int32_t)(n * clk / hz) - (int32_t)(e->len * clk / hz);
		bool cn, marker, encoded;
		int got = encode_one(e, out->n, &cn, &marker, &encoded);
		take(e, e->pkt_samples);
		out->encoded += encoded;
		if (got <= 0) {
			e->unsent = true;
			if (got < 0)
				err = got;
			continue;
		}
		out->pkt[out->n].data = e->payload[out->n];
		out->pkt[out->n].len = (size_t)got;
		out->pkt[out->n].ts_off = off;
		out->pkt[out->n].cn = cn;
		out->pkt[out->n].marker =
		    !cn && (marker || (e->unsent && e->silence));
		out->n++;
		e->unsent = false;
	}
	return err ? err : (int)out->n;
}
