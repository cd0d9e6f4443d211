/* rtp.h: media on the wire. RTP/RTCP packets, codecs (G.711 through
 * spandsp, Opus through libopus), resampling (SpeexDSP), jitter buffering,
 * the media port pool and the per-participant stream that ties them
 * together.
 *
 * Threads: the port pool belongs to the signalling thread. A stream is built
 * by the signalling thread, handed to a room's mixer thread, which alone
 * uses it until it hands it back; then the signalling thread frees it.
 * Packet parsers and codecs are plain functions usable from any thread. */
#ifndef TUTTI_RTP_H
#define TUTTI_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- RTP packets (rtp/rtppkt.c) ----------------------------------------- */

#define RTPPKT_MAX_CSRC	 15
#define RTPPKT_MAX_BYTES 1500

struct rtppkt {
	uint8_t pt;
	bool marker;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t n_csrc;
	uint32_t csrc[RTPPKT_MAX_CSRC];
	const uint8_t *payload; /* points into the parsed buffer */
	size_t payload_bytes;
	/* The header extension's profile word and elements (RFC 8285),
	 * pointing into the parsed buffer; ext NULL when there is none.
	 * rtppkt_build writes one when ext is set: ext_bytes, padding
	 * included, a multiple of 4 (rtpext_build makes such a block). */
	uint16_t ext_profile;
	const uint8_t *ext;
	size_t ext_bytes;
	/* What a receiver notes with the packet: the jitter buffer keeps it
	 * and hands it back with the payload (jbuf_tag). */
	uint32_t tag;
};

/* Parses an RTP packet (RFC 3550 5.1): version 2, CSRCs, header extension
 * located (not walked: rtpext_find), padding removed. -EBADMSG on anything
 * malformed. */
int rtppkt_parse(struct rtppkt *out, const uint8_t *buf, size_t len);
/* Writes header (and extension) + payload into buf; returns the packet
 * length, -ENOSPC, or -EINVAL (an extension not a whole number of 32-bit
 * words). */
int rtppkt_build(uint8_t *buf, size_t cap, const struct rtppkt *p);
/* True when the first bytes look like RTCP (RFC 5761 4: PT 192..223). */
bool rtppkt_is_rtcp(const uint8_t *buf, size_t len);

/* ---- header extensions (rtp/rtpext.c, RFC 8285; RFC 6464) ---------------- */

/* The first element with id (1-14 one-byte, 1-255 two-byte) in a parsed
 * packet's extension: 0 with its bytes; -ENOENT when absent (or another
 * profile); -EBADMSG when an element overruns the block; -EINVAL for id 0
 * or above 255. */
int rtpext_find(const struct rtppkt *p, unsigned id, const uint8_t **data,
		size_t *len);
/* The client-to-mixer audio level (RFC 6464) in element id: the level in
 * -dBov (0 loudest, 127 silence) and the voice activity bit. Errors as
 * rtpext_find; -EBADMSG for an empty element. */
int rtpext_audio_level(const struct rtppkt *p, unsigned id, uint8_t *level_dbov,
		       bool *vad);

/* One element to write: id and its bytes. */
struct rtpext_elem {
	uint8_t id;
	uint8_t len;
	const uint8_t *data;
};
/* Writes the elements of an extension block into buf (the bytes after
 * the profile and length words), padded with zeros to a 32-bit boundary,
 * and its profile into *profile: the one-byte form (0xBEDE) when every id
 * is 1-14 and every element 1-16 bytes, else the two-byte form (0x1000;
 * ids 1-255, 0-255 bytes). Returns the bytes written, a multiple of 4;
 * -EINVAL for an id 0 or none at all; -ENOSPC when cap is short. */
int rtpext_build(uint8_t *buf, size_t cap, const struct rtpext_elem *e,
		 size_t n, uint16_t *profile);
/* The mixer-to-client audio levels (RFC 6465), one byte per CSRC in the
 * CSRC list's order, each 0 then the level in -dBov (0-127; 127 is
 * silence): writes one element with id (as rtpext_build, alone) and
 * returns its size; -EINVAL for no levels or more than RTPPKT_MAX_CSRC. */
int rtpext_csrc_levels(uint8_t *buf, size_t cap, unsigned id,
		       const uint8_t *level_dbov, size_t n, uint16_t *profile);

/* ---- RTCP (rtp/rtcpkt.c) ------------------------------------------------- */

struct rtcp_report_block {
	uint32_t ssrc;
	uint8_t fraction_lost;
	int32_t cum_lost;
	uint32_t ext_highest_seq;
	uint32_t jitter;
	uint32_t lsr, dlsr;
};

struct rtcpkt_info {
	bool has_sr;
	uint32_t ssrc;
	uint64_t ntp;	 /* from an SR */
	uint32_t rtp_ts; /* from an SR */
	uint32_t packets, octets;
	unsigned n_blocks;
	struct rtcp_report_block block[4];
	bool bye;
};

/* Parses a compound RTCP packet; -EBADMSG on malformed input. */
int rtcpkt_parse(struct rtcpkt_info *out, const uint8_t *buf, size_t len);
/* Builds an SR (when sent_packets > 0) or RR plus SDES CNAME compound
 * packet. Returns its length or -ENOSPC. */
int rtcpkt_build(uint8_t *buf, size_t cap, const struct rtcpkt_info *in,
		 const char *cname);

/* ---- codecs (rtp/codec.c) ------------------------------------------------ */

enum codec_id {
	CODEC_NONE = 0,
	CODEC_PCMU,
	CODEC_PCMA,
	CODEC_OPUS,
	CODEC_G722
};

struct codec_desc {
	enum codec_id id;
	const char *name;      /* SDP encoding name, as in rtpmap */
	uint32_t rtp_clock_hz; /* rtpmap clock (Opus: 48000; G.722: 8000, RFC
				* 3551 4.5.2, though it samples at 16 kHz) */
	uint8_t channels;      /* rtpmap channels (Opus: 2) */
	int static_pt;	       /* -1 when dynamic */
	uint32_t pcm_rate_hz;  /* rate the codec decodes to */
};

/* NULL when unknown. Name matching is case-insensitive. */
const struct codec_desc *codec_by_id(enum codec_id id);
const struct codec_desc *codec_by_name(const char *name, uint32_t clock_hz);

struct codec;
enum codec_use { CODEC_DECODE = 1, CODEC_ENCODE = 2 };
/* Both directions. */
int codec_new(struct codec **out, enum codec_id id);
/* One direction or both (use: CODEC_DECODE, CODEC_ENCODE or both); the
 * other direction's calls are -EINVAL. */
int codec_new_for(struct codec **out, enum codec_id id, unsigned use);
void codec_free(struct codec *c); /* NULL-safe */
/* Encodes n samples of mono PCM at the codec's pcm_rate_hz; returns bytes
 * written or a negative errno. */
int codec_encode(struct codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		 size_t cap);
/* Decodes one payload into pcm (mono, pcm_rate_hz); returns samples or a
 * negative errno (-EBADMSG for a corrupt payload). */
int codec_decode(struct codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		 size_t cap);
/* Conceals n samples of a lost frame (Opus PLC; G.711 and G.722 repeat
 * and fade). */
int codec_conceal(struct codec *c, int16_t *pcm, size_t n);
/* Forgets what was decoded before: the next packet decodes as a fresh
 * decoder's first (Opus after a DTX run: a decoder that last heard speech
 * long ago would cross-fade from it). No-op for the other codecs. */
int codec_decoder_restart(struct codec *c);
/* A packet whose turn was concealed, come late but before the packet
 * after it is decoded: the decoder takes it in and its audio is thrown
 * away, so that the next packet decodes as the sender coded it; the join
 * from the concealment stays as it was. Only G.722 (-ENOTSUP for the
 * others): its ADPCM adapts to every sample, and a decoder that missed 20
 * ms of them stays off for some 120 ms (10-25 dB SNR) where one that caught
 * up is at once back to its usual 40 dB (test_codec_loss). G.711 keeps no
 * such state, and libopus joins its own concealment to the next packet. */
int codec_catch_up(struct codec *c, const uint8_t *in, size_t len);
/* Opus in-band FEC: n samples of the frame lost just before the packet in
 * (the next one, still to be decoded at its turn), from the redundant copy
 * in it; libopus conceals what the copy does not cover. -ENOTSUP for
 * other codecs. */
int codec_decode_fec(struct codec *c, const uint8_t *in, size_t len,
		     int16_t *pcm, size_t n);
/* True when the Opus packet carries an in-band FEC copy of the frame
 * before it (the SILK LBRR flag, RFC 6716 4.2.3-4.2.4). */
bool codec_opus_has_fec(const uint8_t *in, size_t len);
/* Whether the sender's encoder took the Opus packet for speech: the SILK
 * layer's voice activity flags (RFC 6716 4.2.3), which its DTX goes by.
 * 1 when any frame's flag is set, 0 when none is, -1 when the packet has
 * no SILK layer (CELT-only) or is malformed. libopus clears the flags
 * for silence and noise, and for a steady tone after a second or so. */
int codec_opus_voice(const uint8_t *in, size_t len);
/* Opus discontinuous transmission on an encoder: silent frames come out
 * as packets of at most 2 bytes, which need not be sent. -EINVAL for
 * another codec or a decoder. */
int codec_set_dtx(struct codec *c, bool on);
/* The packet loss (percent, 0..100) an Opus encoder expects and codes
 * in-band FEC for; 0 codes none. A new encoder expects FECLOSS_UNKNOWN.
 * -EINVAL for another codec, a decoder or a bad percentage. */
int codec_set_fec_loss(struct codec *c, unsigned perc);

/* ---- Opus FEC strength from receiver reports (rtp/fecloss.c) ------------- */

/* The settings: 0 (no FEC), 10, 15, 20 or FECLOSS_MAX percent; a listener
 * that has not reported, or not for FECLOSS_STALE_NS, gets
 * FECLOSS_UNKNOWN. */
#define FECLOSS_UNKNOWN	 10
#define FECLOSS_MAX	 25
#define FECLOSS_STALE_NS (30 * 1000000000ull)

struct fecloss {
	uint64_t last_ns; /* when the last report came */
	uint16_t est;	  /* smoothed fraction lost, in 1/4096ths */
	uint8_t perc;	  /* the setting */
	bool heard;	  /* a report came */
};

void fecloss_init(struct fecloss *f);
/* Takes a report block's fraction lost (RFC 3550 6.4.1, 1/256ths) about
 * our stream, come at now_ns; true when the setting (f->perc) changed. */
bool fecloss_report(struct fecloss *f, uint8_t fraction_lost, uint64_t now_ns);
/* Forgets the reports when the last is more than FECLOSS_STALE_NS old at
 * now_ns; true when the setting changed (back to FECLOSS_UNKNOWN). */
bool fecloss_expire(struct fecloss *f, uint64_t now_ns);
/* The setting for the smoothed loss est (1/4096ths) when it was cur_perc:
 * up as soon as est reaches a step's threshold, down only once est has
 * fallen well below it. */
unsigned fecloss_step(unsigned cur_perc, unsigned est);

/* ---- comfort noise (rtp/cn.c, RFC 3389) ---------------------------------- */

#define CN_PT	    13	/* static payload type of CN/8000 */
#define CN_MAX_DBOV 127 /* the quietest level: silence */

/* The RMS level of n samples in -dBov, 0..CN_MAX_DBOV (RFC 3389 3, and the
 * same scale as RFC 6464's audio level). */
uint8_t cn_level_dbov(const int16_t *pcm, size_t n);
/* The noise level a received CN payload signals (silence when empty). */
uint8_t cn_rx_level(const uint8_t *payload, size_t len);

/* Sending silence as CN: whether the last packet time was silent, and how
 * long ago the last CN packet went. Zero-initialised: audio. */
struct cn_tx {
	bool silent;
	uint32_t since_ms;
};
/* Decides one packet time of pcm (n samples, ptime_ms long): -1 when it is
 * audio to encode (*marker: the first after CN), 0 when nothing is sent,
 * else the length of the CN payload written into out. -ENOSPC for cap 0. */
int cn_tx_step(struct cn_tx *t, const int16_t *pcm, size_t n, uint32_t ptime_ms,
	       uint8_t *out, size_t cap, bool *marker);
void cn_tx_reset(struct cn_tx *t);

/* ---- encoding the mix (rtp/txenc.c) ---------------------------------------
 */

/* An encoder for one codec and packet time, fed 20 ms of mix at the room
 * rate at a time: a stream's own, or one the mixer shares among every
 * listener who hears the same mix in the same format. */
#define TXENC_MAX_PKTS 2 /* per 20 ms: 10 ms packets */

/* The packets one push completed. ts_off: the RTP time of a packet's
 * first sample less that of the 20 ms pushed (negative for packets longer
 * than 20 ms, which began in an earlier push). data is the encoder's,
 * valid until its next push. */
struct txenc_out {
	unsigned n;
	unsigned encoded; /* codec encodes run: n, and DTX frames not sent */
	struct {
		const uint8_t *data;
		size_t len;
		int32_t ts_off;
		bool cn;     /* a comfort noise payload (RFC 3389), not audio */
		bool marker; /* the first after packets left unsent */
	} pkt[TXENC_MAX_PKTS];
};

/* What an encoder makes of silence: packets like any other; Opus DTX (the
 * tiny packets libopus makes while it is silent are not sent); or CN
 * (rtp/cn.c, for codecs with an 8 kHz RTP clock). */
enum txenc_silence {
	TXENC_SILENCE_SEND = 0,
	TXENC_SILENCE_DTX,
	TXENC_SILENCE_CN
};

struct txenc;
/* ptime_ms: as negotiated; made what the codec can send (Opus 10, 20, 40
 * or 60 ms; G.711 10-60 ms in 10 ms steps). -EINVAL for an unknown codec. */
int txenc_new(struct txenc **out, enum codec_id codec, uint32_t ptime_ms,
	      uint32_t room_rate_hz);
void txenc_free(struct txenc *e); /* NULL-safe */
/* The packet time it sends, after the codec's rules; and its codec. */
uint32_t txenc_ptime_ms(const struct txenc *e);
enum codec_id txenc_codec(const struct txenc *e);
/* Takes 20 ms at the room rate (room rate / 50 samples) and encodes every
 * whole packet time now held; out says which. Returns packets made or a
 * negative errno (the audio of a failed packet is dropped). */
int txenc_push(struct txenc *e, const int16_t *pcm, struct txenc_out *out);
/* Drops audio held towards the next packet (the listener went elsewhere). */
void txenc_drop(struct txenc *e);
/* Whether audio is held towards the next packet (a packet time longer
 * than 20 ms, part filled). */
bool txenc_holds(const struct txenc *e);
/* A change of room rate, in three steps at tick boundaries: prepare makes
 * the converter from next_hz (-ENOMEM, -EINVAL for a rate not 8000, 16000
 * or 48000; 0 when already prepared for it); warm feeds it one 20 ms frame
 * of the mix at next_hz (thrown away: push still takes the current rate),
 * so that it holds that history when commit makes next_hz the rate push
 * takes (-EINVAL when nothing was prepared). cancel forgets a prepared
 * one. */
int txenc_rate_prepare(struct txenc *e, uint32_t next_hz);
void txenc_rate_warm(struct txenc *e, const int16_t *pcm);
int txenc_rate_commit(struct txenc *e);
void txenc_rate_cancel(struct txenc *e);
uint32_t txenc_room_rate_hz(const struct txenc *e);
/* Sets what silence becomes. -EINVAL when the codec cannot (DTX is
 * Opus's; CN needs an 8 kHz RTP clock). */
int txenc_set_silence(struct txenc *e, enum txenc_silence mode);
enum txenc_silence txenc_silence(const struct txenc *e);
/* Sets the loss an Opus encoder codes in-band FEC for (codec_set_fec_loss;
 * nothing when it is already that, and for other codecs, which code no
 * FEC); txenc_fec_loss says it (0 for other codecs). */
int txenc_set_fec_loss(struct txenc *e, unsigned perc);
unsigned txenc_fec_loss(const struct txenc *e);

/* ---- resampling (rtp/resamp.c) ------------------------------------------- */

struct resamp;
int resamp_new(struct resamp **out, uint32_t in_hz, uint32_t out_hz);
/* As resamp_new, at SpeexDSP's quality 0-10 (resamp_new: 3, for speech
 * that people hear; a detector's input may need less). */
int resamp_new_quality(struct resamp **out, uint32_t in_hz, uint32_t out_hz,
		       int quality);
void resamp_free(struct resamp *r); /* NULL-safe */
/* Converts in_n samples; returns samples written to out (at most cap). */
int resamp_run(struct resamp *r, const int16_t *in, size_t in_n, int16_t *out,
	       size_t cap);
/* Converts (or, r NULL, copies) in_n samples to exactly out_n: a short
 * result is padded with silence. */
void resamp_exact(struct resamp *r, const int16_t *in, size_t in_n,
		  int16_t *out, size_t out_n);
/* Forgets the history: the next input converts as in a new converter. */
void resamp_reset(struct resamp *r); /* NULL-safe */
/* A converter between a codec's rate and a room's: to_room, codec_hz to
 * room_hz; else room_hz to codec_hz. Its delay is the same at every room
 * rate (8000, 16000, 48000) of at least floor_hz, so that a room changing
 * rate does not move the audio in time: a delay line makes up what the
 * converter itself lacks. *out is NULL (a plain copy, for resamp_exact)
 * when neither a conversion nor a delay is needed. */
int resamp_new_room(struct resamp **out, uint32_t codec_hz, uint32_t room_hz,
		    bool to_room, uint32_t floor_hz);
/* Frees *to and moves *from into it (a converter taking over from
 * another); *from is left NULL. */
void resamp_take(struct resamp **to, struct resamp **from);
/* Its delay in ns, filter and line (0 for NULL). */
uint32_t resamp_latency_ns(const struct resamp *r);
/* Converts a whole clip (a prompt) into a new buffer of exactly
 * in_n * out_hz / in_hz samples, which the caller frees. */
int resamp_clip(const int16_t *in, size_t in_n, uint32_t in_hz, uint32_t out_hz,
		int16_t **out, size_t *out_n);

/* ---- jitter buffer (rtp/jbuf.c, its delay estimate rtp/jdelay.c) --------- */

enum jbuf_status { JBUF_FRAME = 0, JBUF_MISSING = 1, JBUF_EMPTY = 2 };

struct jbuf;
/* clock_hz: RTP clock; frame_ts: RTP ticks per pulled frame; max_ms: cap on
 * buffered delay (packets beyond it are dropped; runaway delay resets). */
int jbuf_new(struct jbuf **out, uint32_t clock_hz, uint32_t frame_ts,
	     uint32_t max_ms);
void jbuf_free(struct jbuf *jb); /* NULL-safe */
/* Stores a copy of the payload. -EBADMSG when the packet is very late
 * (already played out), -EALREADY for a duplicate, -ENOSPC when it lies
 * beyond the buffer's reach, -EMSGSIZE when it is too large. */
int jbuf_put(struct jbuf *jb, const struct rtppkt *p);
/* Takes the next frame. On JBUF_FRAME copies the payload into buf and sets
 * *len; JBUF_MISSING: a frame is lost (conceal it); JBUF_EMPTY: nothing
 * buffered yet (silence). Call once per frame_ts. */
enum jbuf_status jbuf_get(struct jbuf *jb, uint8_t *buf, size_t cap,
			  size_t *len);
void jbuf_reset(struct jbuf *jb);
/* Lets jbuf_peek_next show a packet (of at most JBUF_PEEK_BYTES) before its
 * turn (Opus FEC), and jbuf_hold_for_fec hold. -EINVAL without jb. */
#define JBUF_PEEK_BYTES 512
int jbuf_keep_next(struct jbuf *jb);
/* Right after a jbuf_get that said JBUF_MISSING for a lost frame: copies
 * the packet that follows it, if it is here already, and leaves it in the
 * buffer for its own turn. -ENOENT when there is none (or not kept). */
int jbuf_peek_next(struct jbuf *jb, uint8_t *buf, size_t cap, size_t *len);
/* The sender codes FEC (kept packets only): at the first loss where
 * neither the frame due nor the one after it is here, the buffer holds one
 * frame more from then on (one JBUF_MISSING that is no loss, and a
 * margin, so that its delay estimate keeps the frame), so that
 * the packet after a lost one is here in time for its FEC. Once. */
void jbuf_hold_for_fec(struct jbuf *jb);
/* The frame jbuf_get just returned said the sender goes quiet (Opus DTX,
 * RFC 3389 CN): if nothing more is buffered at the next get, the buffer's
 * clock stops (JBUF_EMPTY) until a packet comes, which
 * then takes up the timeline where it stopped. */
void jbuf_pause(struct jbuf *jb);
/* A packet that is silence like the one the pause began with (the next
 * Opus DTX packet, some 400 ms later): taken as seen (a duplicate of it is
 * refused), never buffered nor played, and the pause goes on. -EAGAIN
 * when it must be put as any packet (the clock is not stopped; another
 * source; late or a jump). */
int jbuf_absorb(struct jbuf *jb, const struct rtppkt *p);
/* For a packet jbuf_put said was late (-EBADMSG): true when p is the one
 * right after the last frame jbuf_get returned, with only losses between, so
 * that a decoder which keeps state may still take it in before the next
 * (codec_catch_up). Each late packet in turn may follow. */
bool jbuf_late_follows(struct jbuf *jb, const struct rtppkt *p);
/* The tag (struct rtppkt's) of the packet jbuf_get last returned. */
uint32_t jbuf_tag(const struct jbuf *jb);

struct jbuf_stats {
	uint64_t put, late, dropped, missing, resets;
	uint64_t absorbed; /* jbuf_absorb */
	uint64_t skipped;  /* frames jumped over to cut the delay */
};
/* Frames skipped (as st.skipped) since the last call; then 0. */
uint32_t jbuf_take_skipped(struct jbuf *jb);
/* Starts loading the line a get reads when the buffer is paused or
 * empty (NULL: nothing). */
void jbuf_prefetch(const struct jbuf *jb);
void jbuf_stats(const struct jbuf *jb, struct jbuf_stats *out);

/* ---- SRTP and SRTCP, one direction (rtp/srtpctx.c, libsrtp2) ------------ */

#define SRTP_KEY_SALT_LEN 30  /* 128-bit master key + 112-bit salt */
#define SRTP_MAX_OVERHEAD 148 /* what protecting may add (libsrtp2) */

enum srtp_suite {
	SRTP_NONE = 0,
	SRTP_AES_CM_128_HMAC_SHA1_80,
	SRTP_AES_CM_128_HMAC_SHA1_32,
};

struct srtpctx;

/* inbound: unprotects what the peer sends with its key; else protects
 * what we send with ours. -EINVAL for an unknown suite, -EIO when
 * libsrtp2 does not start. */
int srtpctx_new(struct srtpctx **out, enum srtp_suite suite,
		const uint8_t key[SRTP_KEY_SALT_LEN], bool inbound);
void srtpctx_free(struct srtpctx *c); /* NULL-safe; wipes the key */
/* Protects (outbound: *len grows by the tag, within cap) or unprotects
 * (inbound: *len shrinks) one RTP or RTCP packet in place. -EBADMSG when
 * the tag does not verify, -EALREADY for a replay, -ENOSPC when cap is
 * too small, -EINVAL for a packet that is not SRTP. */
int srtpctx_rtp(struct srtpctx *c, uint8_t *pkt, size_t *len, size_t cap);
int srtpctx_rtcp(struct srtpctx *c, uint8_t *pkt, size_t *len, size_t cap);

/* ---- media port pool (rtp/portpool.c) ------------------------------------ */

struct portpool;
/* Even ports from lo to hi (inclusive): RTP on the even port, RTCP on the
 * odd one above it. */
int portpool_new(struct portpool **out, uint16_t lo, uint16_t hi);
void portpool_free(struct portpool *pp); /* NULL-safe */
/* Binds a UDP socket pair on host (IPv4 or IPv6 literal) from the pool:
 * non-blocking, close-on-exec. Ports already taken by others are skipped.
 * -ENOSPC when the pool is exhausted. */
int portpool_bind(struct portpool *pp, const char *host, int *rtp_fd,
		  int *rtcp_fd, uint16_t *rtp_port);
/* Closes both sockets and returns the port to the pool. */
void portpool_release(struct portpool *pp, int rtp_fd, int rtcp_fd,
		      uint16_t rtp_port);
unsigned portpool_in_use(const struct portpool *pp);

/* ---- DTMF digits (rtp/dtmfev.c, rtp/dtmfinfo.c, rtp/dtmfband.c) ----------
 *
 * A key pressed on a phone arrives in one of three ways: RFC 4733
 * telephone-event packets, a SIP INFO body, or as audio (in-band dual
 * tones). Each parser turns its own into a struct digit. Plain data and
 * functions: the owner of a parser state may call it from any thread. */

enum digit_source { DIGIT_RFC4733 = 1, DIGIT_INFO, DIGIT_INBAND };

struct digit {
	char key; /* '0'-'9', '*', '#', 'A'-'D' */
	enum digit_source source;
	uint32_t duration_ms; /* how long the key was held, if known */
};

/* RFC 4733 receive state: the event being received and the last one that
 * ended, so that a digit is reported once, when its event ends (the E bit,
 * repeated three times by senders, counts once), or when a later event
 * shows that its end packets were lost, or after DTMFEV_LOST_END_MS
 * without any packet. */
#define DTMFEV_LOST_END_MS 1000

struct dtmfev {
	uint32_t clock_hz; /* of the telephone-event rtpmap */
	bool active;	   /* an event has begun and not ended */
	char key;
	uint32_t start_ts; /* RTP time of its beginning */
	uint32_t seg_ts;   /* of its current segment (RFC 4733 2.5.1.3) */
	uint32_t seg_dur;  /* duration field of that segment */
	uint32_t dur_ts;   /* since start_ts, in clock ticks */
	uint64_t last_ns;  /* when its last packet came */
	bool have_end;
	uint32_t end_ts; /* segment time of the last event that ended */
};

/* The key of an RFC 4733 event code (0-15), or 0 for any other code. */
char dtmfev_key(unsigned code);
/* clock_hz 0 means 8000, RFC 4733's usual clock. */
void dtmfev_init(struct dtmfev *t, uint32_t clock_hz);
/* Takes the payload of one telephone-event packet with RTP time ts, which
 * may pack several contiguous events (2.5.1.5). Writes the digits it
 * completes into out (at most cap; more are dropped) and returns their
 * number, or -EBADMSG for a payload that is not whole 4-byte events or
 * whose events span 10 s or more before the last one begins. */
int dtmfev_put(struct dtmfev *t, uint32_t ts, const uint8_t *payload,
	       size_t len, uint64_t now_ns, struct digit *out, size_t cap);
/* An event whose end never came: 1 and its digit once no packet came for
 * DTMFEV_LOST_END_MS; 0 otherwise. */
int dtmfev_expire(struct dtmfev *t, uint64_t now_ns, struct digit *out);

/* A SIP INFO body of media type ctype (without parameters, any case):
 * application/dtmf-relay ("Signal=5\r\nDuration=160") or
 * application/dtmf ("5"). 0 with *out; -ENOENT for a well-formed body
 * without a digit (a hook flash); -EPROTO for another type; -EBADMSG for
 * a malformed body. */
int dtmfinfo_parse(const char *ctype, const char *body, size_t len,
		   struct digit *out);

/* In-band DTMF, spandsp's receiver, on audio at in_hz (8 kHz or more:
 * brought down to the receiver's 8 kHz first). -EINVAL, -ENOMEM. */
struct dtmfband;
int dtmfband_new(struct dtmfband **out, uint32_t in_hz);
void dtmfband_free(struct dtmfband *b); /* NULL-safe */
/* Listens to n samples at in_hz; digits that ended in them go to out (at
 * most cap, more are dropped) and their number is returned. */
size_t dtmfband_feed(struct dtmfband *b, const int16_t *pcm, size_t n,
		     struct digit *out, size_t cap);
/* n samples (at in_hz) were lost (concealed): keeps the receiver's
 * timing. */
void dtmfband_lost(struct dtmfband *b, size_t n);
/* True when a digit's tones were present in the last samples fed. */
bool dtmfband_heard(const struct dtmfband *b);
/* Frames fed that were not listened to: quiet (below -50 dBFS or so)
 * after quiet, the receiver at rest (rtp/dtmfband.c). */
uint64_t dtmfband_skipped(const struct dtmfband *b);
/* The shares of the last 20 ms fed's energy at its strongest low-group
 * (lo) and high-group (hi) DTMF frequency, 0 to 1 (a pure tone pair:
 * about 0.5 each); both 0 below -50 dBFS or so. What looks like a key
 * whether or not the receiver, which needs 30 ms or so, has confirmed
 * one: around losses, which the receiver cannot judge
 * (rtp/stream_dtmf.c). */
void dtmfband_pair(const struct dtmfband *b, double *lo, double *hi);

/* ---- per-participant stream (rtp/stream*.c) --------------------------------
 */

struct stream_params {
	enum codec_id codec;
	uint8_t pt;	      /* payload type of the codec */
	int te_pt;	      /* telephone-event payload type, -1 if none */
	uint32_t te_clock_hz; /* its rtpmap clock; 0: 8000 (RFC 4733) */
	uint32_t ptime_ms;
	/* Silence (rtp/stream_quiet.c): the id of the RFC 6464 audio level
	 * extension the peer sends (0: none); the CN payload type (RFC 3389;
	 * 0: none), which we take and, to a G.711 peer, send in silence; and
	 * whether the peer asked for Opus DTX (usedtx=1). */
	uint8_t level_ext_id;
	uint8_t cn_pt;
	bool dtx;
	/* The id of the RFC 6465 csrc-audio-level extension the peer asked
	 * us to send (0: none; rtp/stream_levels.c). */
	uint8_t csrc_level_id;
	bool send; /* we send the mix to the peer */
	bool recv; /* the peer's audio is mixed into the room */
	bool rtcp_mux;
	struct sockaddr_storage rtp_peer;  /* where we send RTP */
	struct sockaddr_storage rtcp_peer; /* where we send RTCP */
	/* SRTP: SRTP_NONE for plain RTP; else the peer's key (it sends
	 * with it) and ours. New keys (a re-INVITE's) rekey the stream. */
	enum srtp_suite srtp_rx_suite, srtp_tx_suite;
	uint8_t srtp_rx_key[SRTP_KEY_SALT_LEN], srtp_tx_key[SRTP_KEY_SALT_LEN];
};

/* ---- sendq: a thread's packets of a tick, sent in one batch -------------
 * (rtp/sendq.c) Packets to many sockets leave through one io_uring: each
 * is copied in by sendq_send and goes out at the latest in sendq_flush,
 * which reports every one to done (bytes sent, or a negative errno)
 * before it returns. One thread at a time; the creator frees it.
 * sendq_new fails (-ENOTSUP without liburing, else the kernel's error:
 * io_uring refused, or a kernel before 6.0) and the caller then sends
 * with sendto itself. */
struct sendq;
typedef void (*sendq_done_fn)(void *ctx, int res, uint32_t arg);
/* 0 when queues can be made here, else sendq_new's error (asked once). */
int sendq_probe(void);
int sendq_new(struct sendq **out, sendq_done_fn done);
void sendq_free(struct sendq *q); /* NULL-safe; flushes first */
void sendq_send(struct sendq *q, int fd, const void *pkt, size_t len,
		const struct sockaddr *to, socklen_t to_len, void *ctx,
		uint32_t arg);
void sendq_flush(struct sendq *q); /* NULL-safe */
/* Batches submitted by every queue of the process, and their packets. */
void sendq_totals(uint64_t *batches, uint64_t *packets);

/* lost: RFC 3550 A.3's cumulative count (extended highest sequence number
 * received, less those received), summed over the sender's restarts and
 * SSRC changes, never negative. late: arrived after their time was played
 * out; discarded: duplicates, beyond the jitter buffer's reach, too large;
 * malformed: not RTP, or a payload type not negotiated; dtx: Opus DTX
 * packets (at most 2 bytes) and CN packets taken as silence without a
 * decode; quiet: packets left undecoded because their RFC 6464 level said
 * silence while the mixer did not need them; concealed: packets' worth of
 * audio made up for lost ones; fec_recovered: lost packets decoded instead
 * from the in-band FEC of the packet after them (Opus), not counted as
 * concealed. jitter: RFC 3550 A.8's
 * interarrival jitter of the current source. */
struct stream_stats {
	uint64_t packets_in, packets_out, bytes_in, bytes_out;
	uint64_t lost, late, discarded, concealed, malformed, foreign, dtx;
	uint64_t fec_recovered;
	uint64_t quiet;	      /* not decoded: level said silence, not mixed */
	uint64_t srtp_failed; /* SRTP/SRTCP that did not verify, or replays */
	uint64_t latched;     /* times the peer's address was latched */
	uint64_t last_rx_ns;  /* when a packet was last taken from the peer */
	uint32_t jitter_ts;   /* in RTP clock units */
	uint32_t jitter_us;
	uint64_t send_errors; /* sendto failures (peer gone, full buffer) */
};

struct stream;
/* Takes the two sockets (not their ownership: the caller closes them after
 * stream_free). room_rate_hz is the rate of the PCM exchanged with the
 * mixer; frames are 20 ms. */
int stream_new(struct stream **out, int rtp_fd, int rtcp_fd,
	       uint32_t room_rate_hz, uint32_t local_ssrc,
	       const struct stream_params *p);
void stream_free(struct stream *s); /* NULL-safe */
/* Applies new parameters (re-INVITE/UPDATE): peer address, codec, direction.
 * Rebuilds codec state only when the codec changes. */
int stream_apply(struct stream *s, const struct stream_params *p);

int stream_rtp_fd(const struct stream *s);
int stream_rtcp_fd(const struct stream *s);
uint32_t stream_local_ssrc(const struct stream *s);
/* The rate of the PCM exchanged with the mixer. */
uint32_t stream_room_rate_hz(const struct stream *s);
/* A change of room rate (mixer thread), as txenc_rate_*: prepare makes the
 * converters for next_hz (0 when already made; -ENOMEM); while prepared,
 * stream_pull_room_next converts the frame stream_pull_room converted
 * (after it) at next_hz too, and stream_rate_warm feeds the stream's
 * encoder 20 ms of its mix at next_hz; commit makes next_hz the room rate
 * (-EINVAL when nothing was prepared). stream_set_room_rate does it all at
 * once, without history: for a stream that has not been mixed yet. */
int stream_rate_prepare(struct stream *s, uint32_t next_hz);
void stream_pull_room_next(struct stream *s, int16_t *pcm);
void stream_rate_warm(struct stream *s, const int16_t *pcm);
int stream_rate_commit(struct stream *s);
int stream_set_room_rate(struct stream *s, uint32_t hz);
bool stream_recv_enabled(const struct stream *s);
/* Asks the CPU to start loading the lines of s that a tick reads for
 * every participant (s NULL: nothing); with deep, those of what they
 * point to (its jitter buffer), which needs s's own lines loaded. For a
 * loop over many participants, a few items ahead: each of them is
 * otherwise a cache miss in a big room (docs/benchmarks.md). Never
 * faults. */
void stream_prefetch(const struct stream *s, bool deep);

/* Drains the RTP (or RTCP) socket; packets from a source other than the
 * negotiated peer, malformed packets and other payload types are counted
 * and dropped. Mixer thread. */
void stream_read_rtp(struct stream *s, uint64_t now_ns);
void stream_read_rtcp(struct stream *s, uint64_t now_ns);
/* Produces the participant's next 20 ms at the room rate into pcm (room
 * rate / 50 samples). Returns 1 when pcm carries the participant's audio,
 * 0 when it is silence (nothing received, not receiving). Mixer thread. */
int stream_pull(struct stream *s, int16_t *pcm);
/* stream_pull in two steps, so that a frame the mixer will not mix need
 * not be converted to the room rate. stream_pull_codec takes the next
 * 20 ms at the codec's rate: the frame (in the stream, valid until the
 * next pull) and its length in *n, or NULL when there is no audio.
 * stream_pull_room converts the frame last pulled into pcm (silence for
 * none); a frame left unconverted leaves a gap after which the converter
 * starts afresh. Mixer thread. */
const int16_t *stream_pull_codec(struct stream *s, size_t *n);
void stream_pull_room(struct stream *s, int16_t *pcm);
/* The peer's RFC 6464 level of the audio last pulled, in -dBov (0..127;
 * the loudest of its packets), or -1 when its packets carried none. */
int stream_rx_level(const struct stream *s);
/* From the next pull on, a packet whose RFC 6464 level is below below_db
 * dBov (negative) is not decoded but taken as silence, and a lost one
 * after it is not concealed: for a participant the mixer will not mix.
 * INT_MIN decodes everything (the default). Mixer thread. */
void stream_rx_skip_quiet(struct stream *s, int below_db);
/* What the stream's encoder makes of silence (the shared encoders of a
 * room are keyed by it too). */
enum txenc_silence stream_tx_silence(const struct stream *s);
/* The loss (percent) the peer's RTCP reports about what we send call for
 * an Opus encoder to code in-band FEC for (rtp/fecloss.c: FECLOSS_UNKNOWN
 * until it reports); the stream's own encoder codes for it (its
 * stream_tx_fec_loss; 0 for codecs without FEC), and a room's shared
 * encoder for the worst of its listeners. */
unsigned stream_fec_loss(const struct stream *s);
unsigned stream_tx_fec_loss(const struct stream *s);
/* A peer whose reports stopped (FECLOSS_STALE_NS before now_ns) is back
 * to FECLOSS_UNKNOWN, and so is the stream's own encoder; true when that
 * changed its stream_fec_loss. Owner's thread. */
bool stream_fec_expire(struct stream *s, uint64_t now_ns);
/* Encodes 20 ms of mix at the room rate and sends it (when sending is
 * enabled), carrying csrc as the CSRC list. Sends RTCP every ~5 s.
 * Returns the frames encoded (packets made, and Opus DTX frames left
 * unsent), or a negative errno. */
int stream_push(struct stream *s, struct sendq *q, const int16_t *pcm,
		const uint32_t *csrc, unsigned n_csrc, uint64_t now_ns);
/* True when the peer asked for RFC 6465 levels (and we send to it). */
bool stream_tx_wants_levels(const struct stream *s);
/* The levels in -dBov (0-127) of this tick's contributors, one per CSRC
 * passed to the next stream_push or stream_push_encoded, in that order;
 * they go, as an RFC 6465 header extension, into the packets that push
 * sends, and are forgotten after it. Ignored when the peer did not ask. */
void stream_tx_levels(struct stream *s, const uint8_t *level_dbov, unsigned n);
/* q, in both pushes: the batch the packets leave in (sendq_send; counted
 * in the stream's figures when it is flushed), or NULL: sendto() now. */
/* As stream_push, for 20 ms that an encoder of the same codec and packet
 * time (stream_tx_format) shared among listeners has already encoded: o
 * (NULL or o->n 0 when it completed no packet this time). Only the RTP
 * header (SSRC, sequence, timestamp, marker, csrc) is this stream's. */
int stream_push_encoded(struct stream *s, struct sendq *q,
			const struct txenc_out *o, const uint32_t *csrc,
			unsigned n_csrc, uint64_t now_ns);
/* The sendq_done_fn of the queues streams send through: ctx is the
 * stream, arg what stream_tx.c gave sendq_send. */
void stream_tx_sent(void *ctx, int res, uint32_t arg);
/* The codec and packet time the stream sends with. */
void stream_tx_format(const struct stream *s, enum codec_id *codec,
		      uint32_t *ptime_ms);
void stream_get_stats(const struct stream *s, struct stream_stats *out);
/* The oldest key press the peer made that was not popped yet (RFC 4733
 * events, or in-band tones when G.711 came without telephone-event): 0
 * with *out, -EAGAIN when none. now_ns lets an event whose end packets
 * were lost come out at last. Mixer thread. */
int stream_digit_peek(struct stream *s, uint64_t now_ns, struct digit *out);
void stream_digit_pop(struct stream *s);

#endif
