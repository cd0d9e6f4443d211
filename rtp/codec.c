/* codec.c: the codecs we speak and one encoder/decoder state per codec.
 *
 * G.711 (PCMU, PCMA) goes through spandsp's table-free inline coders and
 * conceals loss with spandsp's PLC, which repeats the last pitch period with
 * overlap-add and fades to silence within about 50 ms (after G.711
 * Appendix I). G.722 goes through spandsp's coder at 64 kb/s and 16 kHz
 * (its RTP clock is 8000 all the same, RFC 3551 4.5.2) and conceals with
 * the same PLC run on the 16 kHz signal itself: its pitch search then
 * spans periods of 2.5-7.5 ms and it fades within 25 ms. Running it on the
 * two 8 kHz polyphase halves instead (50 ms fade, 66-200 Hz periods) lets
 * the halves pick different periods, and the mismatch is heard as a buzz
 * at half the sample rate: on a 200 Hz tone with 20 ms lost, a kink of
 * 40% of the amplitude where the 16 kHz run has none measurable
 * (tests/unit/test_codec_loss.c). Opus goes through libopus, mono at 48 kHz as
 * RFC 7587 allows a receiver to decode whatever the sender's channel count: the
 * VOIP application, about 32 kb/s, complexity 5 (the cost the design budgets
 * for), in-band FEC on, and libopus's own PLC for loss. libopus error codes
 * become negative errno values in opus_errno() only.
 *
 * A struct codec holds encoder and decoder state for one direction pair,
 * or for one direction only (codec_new_for: a stream's receive side
 * decodes, an encoder shared by many listeners only encodes);
 * it belongs to whoever created it (a stream, thus its mixer thread) and is
 * not thread-safe. The descriptor table is constant and shared. */
#include "rtp/rtp.h"

#include <errno.h>
#include <limits.h>
#include <opus.h>
#include <pthread.h>
#include <spandsp.h>
#include <stdlib.h>
#include <strings.h>

#define OPUS_RATE_HZ	48000
#define OPUS_BITRATE	32000
#define OPUS_COMPLEXITY 5
/* FEC is coded only when loss is expected, and libopus 1.3 codes it only
 * when the rate it counts as left, after complexity and the expected loss,
 * is above its threshold for the band (decide_fec): at 32 kb/s and
 * complexity 5 a 5% loss leaves too little for fullband and no FEC comes
 * out; at 10% it narrows to super-wideband (12 kHz) and codes FEC in every
 * speech frame (tests/unit/test_codec_loss.c counts them). A new encoder
 * expects that much until its listeners' reports say (rtp/fecloss.c). */
#define OPUS_LOSS_PERC	 FECLOSS_UNKNOWN
#define OPUS_MAX_SAMPLES 5760 /* 120 ms at 48 kHz */
#define OPUS_MAX_BYTES	 1275
#define G722_BITRATE	 64000 /* the one RTP uses (RFC 3551 4.5.2) */

struct codec {
	const struct codec_desc *desc;
	unsigned use; /* CODEC_ENCODE, CODEC_DECODE */
	OpusEncoder *enc;
	OpusDecoder *dec;
	plc_state_t plc; /* G.711, G.722 */
	g722_encode_state_t *g722_enc;
	g722_decode_state_t *g722_dec;
};

static const struct codec_desc codecs[] = {
    {CODEC_PCMU, "PCMU", 8000, 1, 0, 8000},
    {CODEC_PCMA, "PCMA", 8000, 1, 8, 8000},
    {CODEC_OPUS, "opus", 48000, 2, -1, OPUS_RATE_HZ},
    {CODEC_G722, "G722", 8000, 1, 9, 16000},
};

#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

const struct codec_desc *codec_by_id(enum codec_id id)
{
	for (size_t i = 0; i < N_CODECS; i++)
		if (codecs[i].id == id)
			return &codecs[i];
	return NULL;
}

const struct codec_desc *codec_by_name(const char *name, uint32_t clock_hz)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < N_CODECS; i++)
		if (!strcasecmp(codecs[i].name, name) &&
		    codecs[i].rtp_clock_hz == clock_hz)
			return &codecs[i];
	return NULL;
}

static int opus_errno(int err)
{
	switch (err) {
	case OPUS_BAD_ARG:
		return -EINVAL;
	case OPUS_BUFFER_TOO_SMALL:
		return -ENOSPC;
	case OPUS_INVALID_PACKET:
		return -EBADMSG;
	case OPUS_UNIMPLEMENTED:
		return -ENOTSUP;
	case OPUS_INVALID_STATE:
		return -EINVAL;
	case OPUS_ALLOC_FAIL:
		return -ENOMEM;
	default:
		return -EIO; /* OPUS_INTERNAL_ERROR and anything new */
	}
}

static int opus_setup(struct codec *c, unsigned use)
{
	int err;

	if (use & CODEC_DECODE) {
		c->dec = opus_decoder_create(OPUS_RATE_HZ, 1, &err);
		if (!c->dec)
			return opus_errno(err);
	}
	if (!(use & CODEC_ENCODE))
		return 0;
	c->enc =
	    opus_encoder_create(OPUS_RATE_HZ, 1, OPUS_APPLICATION_VOIP, &err);
	if (!c->enc)
		return opus_errno(err);
	if ((err = opus_encoder_ctl(c->enc, OPUS_SET_BITRATE(OPUS_BITRATE))) ||
	    (err = opus_encoder_ctl(c->enc,
				    OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY))) ||
	    (err = opus_encoder_ctl(c->enc, OPUS_SET_INBAND_FEC(1))) ||
	    (err = opus_encoder_ctl(
		 c->enc, OPUS_SET_PACKET_LOSS_PERC(OPUS_LOSS_PERC))) ||
	    (err =
		 opus_encoder_ctl(c->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))))
		return opus_errno(err);
	return 0;
}

/* G.711 decodes by table, spandsp's own values for every byte: its
 * functions shift by the exponent and branch on the sign for each sample,
 * and in a room of 1,000 callers that was 4 % of the bridge's CPU
 * (docs/benchmarks.md, "Reads in one area per thread"). Filled once, by
 * the first G.711 codec made. */
static int16_t g711_dec[2][256]; /* [0] mu-law, [1] A-law */
static pthread_once_t g711_once = PTHREAD_ONCE_INIT;

static void g711_fill(void)
{
	for (unsigned b = 0; b < 256; b++) {
		g711_dec[0][b] = ulaw_to_linear((uint8_t)b);
		g711_dec[1][b] = alaw_to_linear((uint8_t)b);
	}
}

int codec_new(struct codec **out, enum codec_id id)
{
	return codec_new_for(out, id, CODEC_ENCODE | CODEC_DECODE);
}

int codec_new_for(struct codec **out, enum codec_id id, unsigned use)
{
	const struct codec_desc *d = codec_by_id(id);
	struct codec *c;
	int err;

	if (!out || !d || !use || (use & ~(CODEC_ENCODE | CODEC_DECODE)))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->desc = d;
	c->use = use;
	if (id == CODEC_OPUS) {
		err = opus_setup(c, use);
		if (err)
			goto fail;
	} else {
		plc_init(&c->plc);
	}
	if (id == CODEC_PCMU || id == CODEC_PCMA)
		(void)pthread_once(&g711_once, g711_fill);
	if (id == CODEC_G722) {
		err = -ENOMEM;
		if ((use & CODEC_ENCODE) &&
		    !(c->g722_enc = g722_encode_init(NULL, G722_BITRATE, 0)))
			goto fail;
		if ((use & CODEC_DECODE) &&
		    !(c->g722_dec = g722_decode_init(NULL, G722_BITRATE, 0)))
			goto fail;
	}
	*out = c;
	return 0;
fail:
	codec_free(c);
	return err;
}

void codec_free(struct codec *c)
{
	if (!c)
		return;
	if (c->enc)
		opus_encoder_destroy(c->enc);
	if (c->dec)
		opus_decoder_destroy(c->dec);
	if (c->g722_enc)
		g722_encode_free(c->g722_enc);
	if (c->g722_dec)
		g722_decode_free(c->g722_dec);
	free(c);
}

int codec_encode(struct codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		 size_t cap)
{
	if (!c || (!pcm && n) || !out || !(c->use & CODEC_ENCODE))
		return -EINVAL;
	switch (c->desc->id) {
	case CODEC_PCMU:
	case CODEC_PCMA:
		if (n > cap || n > INT_MAX)
			return -ENOSPC;
		for (size_t i = 0; i < n; i++)
			out[i] = c->desc->id == CODEC_PCMU
				     ? linear_to_ulaw(pcm[i])
				     : linear_to_alaw(pcm[i]);
		return (int)n;
	case CODEC_OPUS: {
		if (n > OPUS_MAX_SAMPLES)
			return -EINVAL;
		int ret = opus_encode(c->enc, pcm, (int)n, out,
				      cap > OPUS_MAX_BYTES ? OPUS_MAX_BYTES
							   : (opus_int32)cap);
		return ret < 0 ? opus_errno(ret) : ret;
	}
	case CODEC_G722: /* two samples a byte */
		if ((n + 1) / 2 > cap || n > INT_MAX)
			return -ENOSPC;
		return g722_encode(c->g722_enc, out, pcm, (int)n);
	default:
		return -EINVAL;
	}
}

int codec_decode(struct codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		 size_t cap)
{
	if (!c || (!in && len) || !pcm || !(c->use & CODEC_DECODE))
		return -EINVAL;
	switch (c->desc->id) {
	case CODEC_PCMU:
	case CODEC_PCMA:
		if (len > cap || len > INT_MAX)
			return -ENOSPC;
		const int16_t *tab = g711_dec[c->desc->id == CODEC_PCMA];
		for (size_t i = 0; i < len; i++)
			pcm[i] = tab[in[i]];
		/* Records history for concealment; smooths the join after a
		 * loss. */
		return plc_rx(&c->plc, pcm, (int)len);
	case CODEC_OPUS: {
		/* An empty payload would make libopus conceal, not decode. */
		if (len == 0 || len > INT32_MAX)
			return -EBADMSG;
		int ret = opus_decode(
		    c->dec, in, (opus_int32)len, pcm,
		    cap > OPUS_MAX_SAMPLES ? OPUS_MAX_SAMPLES : (int)cap, 0);
		return ret < 0 ? opus_errno(ret) : ret;
	}
	case CODEC_G722: {
		if (len > cap / 2 || len > INT_MAX / 2)
			return -ENOSPC;
		int got = g722_decode(c->g722_dec, pcm, in, (int)len);
		return plc_rx(&c->plc, pcm, got);
	}
	default:
		return -EINVAL;
	}
}

/* spandsp 0.0.6's normalise_history(), run as a gap starts, rotates the
 * PLC history with an overlapping memcpy: undefined behaviour that ASan
 * reports. Rotating it here first, with memmove, leaves it nothing to do;
 * the result is the same history spandsp would have made. */
static void plc_rotate_history(plc_state_t *s)
{
	if (s->missing_samples != 0 || s->buf_ptr <= 0 ||
	    s->buf_ptr >= PLC_HISTORY_LEN)
		return;
	int16_t head[PLC_HISTORY_LEN];
	size_t n = (size_t)s->buf_ptr;
	memcpy(head, s->history, n * sizeof(int16_t));
	memmove(s->history, s->history + n,
		(PLC_HISTORY_LEN - n) * sizeof(int16_t));
	memcpy(s->history + PLC_HISTORY_LEN - n, head, n * sizeof(int16_t));
	s->buf_ptr = 0;
}

int codec_conceal(struct codec *c, int16_t *pcm, size_t n)
{
	if (!c || !pcm || !(c->use & CODEC_DECODE))
		return -EINVAL;
	switch (c->desc->id) {
	case CODEC_PCMU:
	case CODEC_PCMA:
	case CODEC_G722:
		if (n > INT_MAX)
			return -EINVAL;
		plc_rotate_history(&c->plc);
		return plc_fillin(&c->plc, pcm, (int)n);
	case CODEC_OPUS: {
		/* n must be a whole number of 2.5 ms, as for any Opus frame. */
		if (n > OPUS_MAX_SAMPLES)
			return -EINVAL;
		int ret = opus_decode(c->dec, NULL, 0, pcm, (int)n, 0);
		return ret < 0 ? opus_errno(ret) : ret;
	}
	default:
		return -EINVAL;
	}
}

int codec_catch_up(struct codec *c, const uint8_t *in, size_t len)
{
	int16_t junk[320]; /* 20 ms at a time: a byte is two samples */
	const size_t chunk = sizeof(junk) / sizeof(*junk) / 2;

	if (!c || !in || !(c->use & CODEC_DECODE))
		return -EINVAL;
	if (c->desc->id != CODEC_G722)
		return -ENOTSUP;
	/* Not through plc_rx: its history and the join after the gap must
	 * follow what was played, not this. */
	while (len > 0) {
		size_t take = len < chunk ? len : chunk;
		g722_decode(c->g722_dec, junk, in, (int)take);
		in += take;
		len -= take;
	}
	return 0;
}

int codec_decoder_restart(struct codec *c)
{
	if (!c || !(c->use & CODEC_DECODE))
		return -EINVAL;
	if (c->desc->id != CODEC_OPUS)
		return 0; /* G.711's and G.722's PLC histories refill */
	int err = opus_decoder_ctl(c->dec, OPUS_RESET_STATE);
	return err == OPUS_OK ? 0 : opus_errno(err);
}

int codec_decode_fec(struct codec *c, const uint8_t *in, size_t len,
		     int16_t *pcm, size_t n)
{
	if (!c || !in || !pcm || !(c->use & CODEC_DECODE))
		return -EINVAL;
	if (c->desc->id != CODEC_OPUS)
		return -ENOTSUP;
	if (len == 0 || len > INT32_MAX || n > OPUS_MAX_SAMPLES)
		return -EINVAL;
	/* n is the lost frame's length: libopus conceals all of it but the
	 * last frame of in's length, which it takes from the LBRR copy. */
	int ret = opus_decode(c->dec, in, (opus_int32)len, pcm, (int)n, 1);
	return ret < 0 ? opus_errno(ret) : ret;
}

/* RFC 6716: a TOC config below 12 is SILK-only and 12-15 hybrid, both with
 * a SILK layer; CELT-only packets carry no FEC. The SILK layer of the
 * first Opus frame opens with a VAD flag per SILK frame (one for 10 or
 * 20 ms, two for 40, three for 60) and then the LBRR flag, each a
 * range-coded symbol of probability 1/2, which are the first bits of its
 * first byte as they stand (4.2.3); stereo repeats them for the side
 * channel. */
bool codec_opus_has_fec(const uint8_t *in, size_t len)
{
	const unsigned char *frames[48];
	opus_int16 size[48];

	if (!in || len < 2 || len > OPUS_MAX_BYTES)
		return false;
	unsigned config = in[0] >> 3;
	if (config >= 16)
		return false;
	int per_frame = opus_packet_get_samples_per_frame(in, 48000);
	int silk_frames = per_frame > 960 ? per_frame / 960 : 1;
	if (opus_packet_parse(in, (opus_int32)len, NULL, frames, size, NULL) <=
		0 ||
	    size[0] == 0)
		return false;
	bool lbrr = (frames[0][0] >> (7 - silk_frames)) & 1;
	if (in[0] & 0x4) /* stereo: the side channel's flags follow */
		lbrr = lbrr || ((frames[0][0] >> (6 - 2 * silk_frames)) & 1);
	return lbrr;
}

int codec_opus_voice(const uint8_t *in, size_t len)
{
	const unsigned char *frames[48];
	opus_int16 size[48];

	if (!in || len < 2 || len > OPUS_MAX_BYTES || (in[0] >> 3) >= 16)
		return -1;
	int per_frame = opus_packet_get_samples_per_frame(in, 48000);
	unsigned silk_frames = per_frame > 960 ? (unsigned)per_frame / 960 : 1;
	/* the VAD flags: mid's first, then (stereo) the side channel's,
	 * after mid's LBRR flag */
	unsigned mask = ((1u << silk_frames) - 1) << (8 - silk_frames);
	if (in[0] & 0x4)
		mask |= ((1u << silk_frames) - 1) << (7 - 2 * silk_frames);
	int n =
	    opus_packet_parse(in, (opus_int32)len, NULL, frames, size, NULL);
	int voice = -1;
	for (int i = 0; i < n; i++) {
		if (size[i] == 0)
			continue; /* a frame left out (DTX) */
		if (frames[i][0] & mask)
			return 1;
		voice = 0;
	}
	return voice;
}

int codec_set_fec_loss(struct codec *c, unsigned perc)
{
	if (!c || c->desc->id != CODEC_OPUS || !(c->use & CODEC_ENCODE) ||
	    perc > 100)
		return -EINVAL;
	int err =
	    opus_encoder_ctl(c->enc, OPUS_SET_PACKET_LOSS_PERC((int)perc));
	return err == OPUS_OK ? 0 : opus_errno(err);
}

int codec_set_dtx(struct codec *c, bool on)
{
	if (!c || c->desc->id != CODEC_OPUS || !(c->use & CODEC_ENCODE))
		return -EINVAL;
	int err = opus_encoder_ctl(c->enc, OPUS_SET_DTX(on ? 1 : 0));
	return err == OPUS_OK ? 0 : opus_errno(err);
}
