/* stream_quiet.c: silence costs nothing on a stream's receive side, and
 * the stream's choice of what silence becomes on its send side.
 *
 * A caller that sends RFC 6464 client-to-mixer audio levels tells us how
 * loud each packet is before we decode it. The level goes into the jitter
 * buffer with the packet (its tag) and comes out with it, in order; the
 * mixer's talker detector then uses it instead of measuring the decoded
 * frame (stream_rx_level), and a participant the mixer will not mix (not a
 * speaker) has its quiet packets, below the mixer's threshold, taken as
 * silence without a decode, and a loss after one is not concealed. A CN
 * packet (RFC 3389) is silence at its level, never decoded, and so are
 * the packet times after it until audio comes again: a sender sends CN
 * only now and then, and what it did not send is no loss to conceal.
 * An Opus caller that sends no levels still says, in each packet, whether
 * its encoder took the frame for speech: the SILK layer's voice activity
 * flag (codec_opus_voice), which the sender's own DTX goes by. A packet
 * without voice from a participant the mixer will not mix is skipped as a
 * quiet one, while the last frame decoded was quiet too (its level,
 * measured here, is the packet's): libopus clears the flag for a steady
 * tone after a second or so, and a tone, or a hum loud enough to be
 * heard, must go on being decoded and measured. So a silent Opus caller
 * costs what one with levels does, whether or not it sends levels or DTX.
 * An Opus DTX packet (at most 2 bytes: no frame data, RFC 6716 3.2.1) is
 * the same: silence, and so is the gap until the next one, some 400 ms
 * later. Neither is measured nor concealed: in a big room most callers
 * are in DTX, and concealing and measuring each of them every 20 ms cost
 * as much as the rest of their tick (a room of 2,000: docs/benchmarks.md);
 * nor is the jitter buffer asked for the frames in between (jbuf_pause).
 *
 * Decoder state: Opus predicts each frame from the ones before, and a
 * decoder that simply skips packets resumes badly: the first frame after
 * a 400 ms quiet run decoded 1.1 dB SNR against a decoder that had
 * decoded everything (test_stream_quiet's resume test), and it took four
 * frames to come within 30 dB. Decoding the last skipped packet first
 * (kept here, one payload) did not help by itself (1.3 dB); telling the
 * decoder of the gap with one frame of concealment did (46 dB), and both,
 * concealment then the last skipped packet, give 52 dB from the first
 * frame on. That is what happens before the first packet decoded after
 * a quiet run: two extra decodes per utterance, while the talker is not
 * yet mixed (a quiet run ends with a loud packet, decoded and measured
 * before the mixer chooses). G.722's ADPCM adapts to every sample: a
 * decoder that skipped a quiet run resumed at -11 dB SNR against one
 * that had decoded everything (test_stream_quiet's 440 Hz tone after a
 * hum), and it converges slowly: the last 60 ms of skipped bits, decoded
 * before the first packet, gave -4 dB, 120 ms 4 dB, 187 ms 18 dB for the
 * first two frames and 56 dB or better from the third. So the last
 * STREAM_WARM_G722 bytes skipped (187 ms) are kept and decoded, their
 * audio thrown away (codec_catch_up), before that packet: some 130 us
 * once per utterance, where decoding every quiet packet would cost 14 us
 * a frame. G.711 keeps no state but its concealment history, which
 * silence refills.
 *
 * Mixer thread, on a stream it holds; nothing is allocated. */
#include "rtp/stream_priv.h"

#include <limits.h>
#include <string.h>

#define TAG_LEVEL    0x100u /* the low 7 bits hold a level in -dBov */
#define TAG_CN	     0x200u
#define TAG_NO_VOICE 0x400u /* Opus, no levels: no voice activity flag */

void stream_quiet_init(struct stream *s)
{
	s->quiet.skip_below_db = INT_MIN;
	s->quiet.level = -1;
	s->quiet.pull_level = -1;
	s->quiet.last_level = -1;
	s->quiet.decoded_level = -1;
	s->quiet.warm_len = 0;
	s->quiet.gap = false;
}

uint32_t stream_quiet_tag(const struct stream *s, const struct rtppkt *p,
			  bool cn)
{
	uint8_t level;

	if (cn)
		return TAG_CN | TAG_LEVEL |
		       cn_rx_level(p->payload, p->payload_bytes);
	if (s->p.level_ext_id &&
	    rtpext_audio_level(p, s->p.level_ext_id, &level, NULL) == 0)
		return TAG_LEVEL | level;
	if (s->m.desc->id == CODEC_OPUS &&
	    codec_opus_voice(p->payload, p->payload_bytes) == 0)
		return TAG_NO_VOICE;
	return 0;
}

void stream_quiet_decoded(struct stream *s, const int16_t *pcm, size_t n)
{
	/* RFC 6464's -dBov is RFC 3389's (rtp/cn.c) */
	if (s->m.desc->id == CODEC_OPUS && !s->p.level_ext_id)
		s->quiet.decoded_level = cn_level_dbov(pcm, n);
}

void stream_quiet_pull(struct stream *s)
{
	s->quiet.pulled = 0;
}

/* This pull's level: the loudest of its packets, unknown if any was. */
static void note_level(struct stream_quiet *q, int level)
{
	if (q->pulled++ == 0 || (q->pull_level >= 0 && level < 0))
		q->pull_level = level;
	else if (level >= 0 && level < q->pull_level)
		q->pull_level = level;
	q->level = q->pull_level;
	q->last_level = level;
}

/* Opus DTX: no frame data, or a frame of at most one byte; libopus
 * would decode it as a loss. */
static bool dtx_packet(const struct stream *s, enum jbuf_status st, size_t len)
{
	return st == JBUF_FRAME && s->m.desc->id == CODEC_OPUS && len <= 2;
}

/* The DTX packets of a run after its first come every 400 ms or so while
 * the jitter buffer is paused: each would unpause it, wait out its delay
 * in SpeexDSP (a get, four scans of its slots, each frame) and pause it
 * again, to play the silence already playing. They are counted and taken
 * as seen instead (jbuf_absorb); anything else goes in as usual. */
bool stream_quiet_absorb(struct stream *s, const struct rtppkt *p)
{
	if (!dtx_packet(s, JBUF_FRAME, p->payload_bytes) ||
	    jbuf_absorb(s->m.jb, p) < 0)
		return false;
	s->st.dtx++;
	return true;
}

/* A quiet packet left undecoded (s->payload, len bytes): Opus keeps it
 * alone, G.722 its bytes after those it already keeps, up to the last
 * STREAM_WARM_G722 (its bit stream runs on from packet to packet). */
static void keep_warm(struct stream *s, size_t len)
{
	struct stream_quiet *q = &s->quiet;
	const size_t cap = STREAM_WARM_G722;
	const uint8_t *in = s->payload;

	if (s->m.desc->id != CODEC_G722) {
		memcpy(q->warm, in, len);
		q->warm_len = len;
		return;
	}
	if (len > cap) {
		in += len - cap;
		len = cap;
	}
	if (q->warm_len + len > cap) {
		size_t drop = q->warm_len + len - cap;
		memmove(q->warm, q->warm + drop, q->warm_len - drop);
		q->warm_len -= drop;
	}
	memcpy(q->warm + q->warm_len, in, len);
	q->warm_len += len;
}

static bool quiet(const struct stream_quiet *q, int level)
{
	return level >= 0 && -level < q->skip_below_db;
}

bool stream_quiet_take(struct stream *s, enum jbuf_status st, size_t len,
		       int16_t *dst, size_t n)
{
	struct stream_quiet *q = &s->quiet;
	uint32_t tag = st == JBUF_FRAME ? jbuf_tag(s->m.jb) : 0;

	if (dtx_packet(s, st, len))
		tag = TAG_CN | TAG_LEVEL | 127; /* silence, as CN says */
	int level = tag & TAG_LEVEL ? (int)(tag & 0x7f) : -1;
	/* no voice, after a quiet frame: as quiet as that one */
	if ((tag & TAG_NO_VOICE) && quiet(q, q->decoded_level))
		level = q->decoded_level;
	if (st != JBUF_FRAME) /* lost: as loud as the packet before */
		level = q->last_level;
	note_level(q, level);
	if (st == JBUF_FRAME)
		q->after_cn = tag & TAG_CN;
	if (tag & TAG_CN)
		q->gap = true; /* a decoder restart, for Opus only */
	if (st == JBUF_FRAME && (tag & TAG_CN)) {
		s->st.dtx++;
		jbuf_pause(s->m.jb); /* until its next packet */
	} else if (q->after_cn) {
		/* the gap between CN packets is silence, not a loss */
	} else if (quiet(q, level)) {
		if (st == JBUF_FRAME) {
			s->st.quiet++;
			keep_warm(s, len);
		}
	} else {
		if (st != JBUF_FRAME)
			q->last_level = -1; /* concealed: measure it */
		return false;
	}
	memset(dst, 0, n * sizeof(*dst));
	return true;
}

void stream_quiet_warm(struct stream *s, int16_t *dst, size_t cap)
{
	struct stream_quiet *q = &s->quiet;

	if (!q->warm_len && !q->gap)
		return;
	/* After skipped quiet packets: one frame of concealment tells the
	 * decoder of the gap, then the last skipped packet. After a DTX run
	 * (nothing to decode, seconds perhaps): a fresh decoder, as the
	 * talker's own encoder restarts from silence; a concealed frame
	 * there left the first frame 10 dB low (test_stream_quiet). G.722:
	 * the bits skipped last, decoded for the state alone. */
	if (s->m.desc->id == CODEC_OPUS && q->warm_len) {
		size_t n =
		    s->m.rx_pkt_samples < cap ? s->m.rx_pkt_samples : cap;
		(void)codec_conceal(s->m.codec, dst, n);
		(void)codec_decode(s->m.codec, q->warm, q->warm_len, dst, cap);
	} else if (s->m.desc->id == CODEC_G722 && q->warm_len) {
		(void)codec_catch_up(s->m.codec, q->warm, q->warm_len);
	} else if (q->gap) {
		(void)codec_decoder_restart(s->m.codec);
	}
	q->warm_len = 0;
	q->gap = false;
}

int stream_rx_level(const struct stream *s)
{
	return s->quiet.level;
}

void stream_rx_skip_quiet(struct stream *s, int below_db)
{
	s->quiet.skip_below_db = below_db;
}

enum txenc_silence stream_quiet_tx_mode(const struct stream_params *p)
{
	const struct codec_desc *d = codec_by_id(p->codec);

	if (d && d->id == CODEC_OPUS && p->dtx)
		return TXENC_SILENCE_DTX;
	if (d && d->rtp_clock_hz == 8000 && p->cn_pt)
		return TXENC_SILENCE_CN;
	return TXENC_SILENCE_SEND;
}

enum txenc_silence stream_tx_silence(const struct stream *s)
{
	return txenc_silence(s->m.tx);
}
