/* stream_priv.h: the inside of a stream, shared by rtp/stream.c (set-up,
 * codec changes, accessors, statistics), rtp/stream_rx.c (receive, RFC 3550
 * receive statistics, pull) and rtp/stream_tx.c (push, send, RTCP). Private
 * to those three files: everyone else sees struct stream through rtp.h only.
 *
 * Threads and ownership are those of the stream: the signalling thread
 * builds and frees it, the room's mixer thread alone uses it in between.
 * The stream owns everything below except the two sockets. */
#ifndef TUTTI_RTP_STREAM_PRIV_H
#define TUTTI_RTP_STREAM_PRIV_H

#include "rtp/rtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define STREAM_BATCH 8 /* packets per recvmmsg() */

/* The receive state of RFC 3550 A.1, plus A.8's jitter (scaled by 16). */
struct source {
	bool valid;
	uint32_t ssrc;
	uint16_t max_seq;
	uint32_t cycles, base_seq, bad_seq, probation;
	uint32_t received, expected_prior, received_prior;
	bool have_transit;
	int32_t transit;
	uint32_t jitter16;
};

struct fifo {
	int16_t *buf;
	size_t len, cap;
};

/* Everything that depends on the codec, its payload type and ptime. */
struct media {
	const struct codec_desc *desc;
	struct codec *codec;
	struct jbuf *jb;
	struct resamp *rs_in; /* NULL when no rate change */
	/* The room changing rate: rs_in for next_hz, fed the frames that
	 * rs_in is fed for one tick before it takes over (0: no change). */
	struct resamp *rs_in_next;
	uint32_t next_hz;
	struct txenc *tx; /* what we send the participant */
	bool tx_holds;	  /* tx holds audio (txenc_holds) since its last push */
	struct fifo rx;
	int16_t *frame;	       /* the last 20 ms pulled, at the codec rate */
	bool has_frame;	       /* it carries audio */
	bool concealed;	       /* some of it stands in for a loss */
	bool converted;	       /* it went through rs_in */
	bool converted_before; /* the one before it did */
	size_t rx_pkt_samples; /* one negotiated ptime at the codec rate */
	bool peer_fec;	       /* an Opus packet carried FEC: hold for it */
};

/* Key presses (rtp/stream_dtmf.c): RFC 4733 events, or in-band tones of
 * a caller without them, queued until the mixer takes them. In-band
 * audio is held back STREAM_DTMF_HOLD frames, so that a frame can still
 * be silenced once the detector, which needs 30 ms or so, has heard a
 * digit in it. */
#define STREAM_DIGITS	 16
#define STREAM_DTMF_HOLD 2

struct stream_dtmf {
	struct dtmfev ev;
	struct dtmfband *band; /* NULL unless listening in-band */
	unsigned head, count;
	int16_t *held;	  /* STREAM_DTMF_HOLD + 1 frames at the codec rate */
	size_t frame_n;	  /* samples in one held frame; 0 when none */
	unsigned oldest;  /* index of the oldest held frame */
	uint32_t heard;	  /* bit i: tones heard i frames ago */
	bool lost;	  /* the last frame fed was concealed */
	bool guard;	  /* a key's pair was seen around a loss */
	unsigned pending; /* held frames not yet let out after the last */
	unsigned window;  /* frames fed since a loss that a key may arm */
	uint64_t dropped; /* presses that found the queue full */
	/* last: what is read only when a key was pressed */
	struct digit ring[STREAM_DIGITS];
};

/* Silence on receive (rtp/stream_quiet.c): RFC 6464 levels and CN carried
 * through the jitter buffer in the packets' tags, the level of the audio
 * pulled, and what was last left undecoded (the warm-up: Opus's last
 * packet, G.722's last STREAM_WARM_G722 bytes). */
#define STREAM_WARM_G722 RTPPKT_MAX_BYTES /* 187 ms of G.722 */
struct stream_quiet {
	int skip_below_db; /* INT_MIN: decode everything */
	int level;	   /* -dBov of the last pull; -1 unknown */
	int pull_level;	   /* of this pull so far; -1 unknown */
	unsigned pulled;   /* packets taken in this pull */
	int last_level;	   /* of the last packet taken; -1 unknown */
	int decoded_level; /* Opus, no levels: the last frame decoded; -1 */
	bool after_cn;	   /* the last packet taken was CN or Opus DTX */
	bool gap;	   /* Opus: a DTX run the decoder has not heard of */
	size_t warm_len;   /* 0: none kept */
	uint8_t warm[RTPPKT_MAX_BYTES];
};

/* The fields every tick reads or writes for every participant come first,
 * together, and the rest after them: in a room of 2,000 each tick's passes
 * over the participants find a stream's lines evicted by the others',
 * and each line read is a miss (docs/benchmarks.md). */
struct stream {
	int rtp_fd, rtcp_fd;
	uint32_t room_rate_hz, local_ssrc;
	struct media m;
	/* what sending a packet reads and writes */
	uint16_t seq;
	bool marker;
	uint32_t ts; /* RTP time of the next 20 ms pushed */
	uint32_t octets_out;
	struct srtpctx *srtp_rx, *srtp_tx; /* NULL: plain RTP (stream_srtp.c) */
	/* RFC 6465 levels for this tick's packets (stream_levels.c), one
	 * per CSRC; and the extension block written from them. */
	uint8_t n_tx_levels;
	uint8_t tx_levels[RTPPKT_MAX_CSRC];
	uint8_t tx_ext[4 + RTPPKT_MAX_CSRC + 3];
	struct stream_stats st;
	struct stream_dtmf dtmf;   /* its digit queue last */
	struct stream_quiet quiet; /* its warm-up bytes last */
	struct stream_params p;	   /* its flags, then the peer's address */

	struct source src;
	uint64_t lost_before; /* by the sources before src (restarts) */
	/* Latching (stream_rx.c): until the negotiated address is heard,
	 * for LATCH_WINDOW_NS from the first packet, a source whose packets
	 * pass RFC 3550 A.1's probation (or SRTP's authentication) may
	 * become the peer; never after. */
	uint64_t latch_until_ns;	  /* 0: nothing received yet */
	struct sockaddr_storage sdp_peer; /* the address the SDP named */
	bool peer_heard;
	bool have_cand;
	struct sockaddr_storage cand;
	uint32_t cand_ssrc;
	uint16_t cand_seq;

	uint64_t next_rtcp_ns;
	/* from the peer's reports about what we send */
	struct fecloss fec;
	uint32_t lsr; /* middle of the last SR's NTP time; 0: none */
	uint64_t lsr_at_ns;
	uint64_t rng;
	char cname[32];

	uint8_t pkt[RTPPKT_MAX_BYTES];
	uint8_t payload[RTPPKT_MAX_BYTES];
};

/* ---- stream.c ------------------------------------------------------------ */

/* The next pseudo-random number (xorshift64*); never blocks. */
uint32_t stream_rng_next(struct stream *s);
/* Drops the first n samples (at most all) of f. */
void stream_fifo_take(struct fifo *f, size_t n);

/* ---- stream_rx.c --------------------------------------------------------- */

/* RFC 3550 A.3's cumulative number of packets lost, clamped to 24 bits;
 * 0 before a source is valid. */
int32_t stream_rx_cum_lost(const struct source *r);
/* Fills b, the report block for the peer, and moves the interval marks. */
void stream_rx_report_block(struct stream *s, struct rtcp_report_block *b,
			    uint64_t now_ns);

/* ---- stream_tx.c --------------------------------------------------------- */

/* Takes what the peer reports about what we send (RTCP report blocks). */
void stream_tx_report(struct stream *s, const struct rtcpkt_info *in,
		      uint64_t now_ns);

/* ---- stream_dtmf.c ------------------------------------------------------- */

/* (Re)builds the key press state for the stream's parameters: the RFC 4733
 * clock, and in-band listening when there is no telephone-event. */
int stream_dtmf_setup(struct stream *s);
void stream_dtmf_free(struct stream *s);
/* The peer restarted (new SSRC or sequence): forget the event state. */
void stream_dtmf_restart(struct stream *s);
/* A telephone-event packet from the peer. */
void stream_dtmf_event(struct stream *s, const struct rtppkt *p,
		       uint64_t now_ns);
/* Listens to 20 ms of the peer's audio at the codec rate (n samples) and
 * replaces it, in place, with the frame held back STREAM_DTMF_HOLD frames
 * ago, silenced if a digit's tones were in or next to it. concealed: some
 * of it stands in for a lost packet (concealment, or Opus FEC's copy);
 * such a frame after one with tones counts as one with tones, and the
 * frames after a loss are watched more closely. Only when listening
 * in-band (s->dtmf.band). */
void stream_dtmf_inband(struct stream *s, int16_t *pcm, size_t n,
			bool concealed);
/* When nothing was received: lets the next held frame out into pcm (true),
 * if any is left. */
bool stream_dtmf_drain(struct stream *s, int16_t *pcm, size_t n);
/* ---- stream_quiet.c ------------------------------------------------------ */

void stream_quiet_init(struct stream *s);
/* The tag a packet of the peer's keeps in the jitter buffer: its RFC 6464
 * level (when negotiated and present), or CN's level for a CN packet. */
uint32_t stream_quiet_tag(const struct stream *s, const struct rtppkt *p,
			  bool cn);
/* An arriving Opus DTX packet while the jitter buffer is paused for the
 * DTX run it continues: true when it was counted and taken without going
 * into the buffer (jbuf_absorb). */
bool stream_quiet_absorb(struct stream *s, const struct rtppkt *p);
/* A pull begins. */
void stream_quiet_pull(struct stream *s);
/* One packet's worth (n samples) the jitter buffer gave (st, len; the
 * payload in s->payload): true when it is taken as silence, written into
 * dst, without a decode (CN; a quiet packet nobody will mix) or a
 * concealment (lost after one). */
bool stream_quiet_take(struct stream *s, enum jbuf_status st, size_t len,
		       int16_t *dst, size_t n);
/* A packet was decoded into pcm (n samples): an Opus stream without RFC
 * 6464 levels measures it, so that its packets without voice may be
 * skipped while what was decoded last was quiet. */
void stream_quiet_decoded(struct stream *s, const int16_t *pcm, size_t n);
/* Before decoding a packet after some were left undecoded: conceals one
 * packet and decodes the last of them into dst (cap samples), which the
 * caller then overwrites, so that Opus resumes as if it had decoded all
 * along. */
void stream_quiet_warm(struct stream *s, int16_t *dst, size_t cap);
/* What the stream's parameters make of silence in what we send. */
enum txenc_silence stream_quiet_tx_mode(const struct stream_params *p);

/* ---- stream_levels.c ----------------------------------------------------- */

/* Adds this tick's RFC 6465 levels to pkt, when the peer asked for them
 * and pkt's CSRC list is the one they were given for. */
void stream_levels_ext(struct stream *s, struct rtppkt *pkt);
/* The tick's packets are out: its levels are forgotten. */
void stream_levels_done(struct stream *s);

/* Sets up (or, for new keys, replaces) the SRTP contexts p asks for;
 * plain RTP frees them (stream_srtp.c). */
int stream_srtp_apply(struct stream *s, const struct stream_params *p);
void stream_srtp_free(struct stream *s);

#endif
