/* oa.h: SDP offer/answer (RFC 3264) for the focus, kept free of Sofia-SIP
 * types so that negotiation can be tested on its own.
 *
 * sig_sdp.c turns SDP text into a struct oa_desc with Sofia-SIP's parser;
 * oa.c chooses what we answer and writes our SDP. Plain functions, called by
 * the signalling thread. */
#ifndef TUTTI_CONFERENCE_OA_H
#define TUTTI_CONFERENCE_OA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conference/sdes.h"
#include "rtp/rtp.h"

#define OA_MAX_FORMATS 24
#define OA_MAX_MEDIA   8
#define OA_MAX_CRYPTO  8

/* SRTP (SDES, RFC 4568): refused, taken when offered, or required. */
enum oa_srtp { OA_SRTP_OFF, OA_SRTP_OPTIONAL, OA_SRTP_MANDATORY };

enum oa_dir {
	OA_INACTIVE = 0,
	OA_SENDONLY = 1,
	OA_RECVONLY = 2,
	OA_SENDRECV = 3
};

struct oa_format {
	int pt;
	char name[32]; /* encoding name, "" when static without rtpmap */
	uint32_t clock_hz;
	unsigned channels;
	char fmtp[160];
};

/* One m= line we do not use (video, a second audio stream...): answered
 * with port 0, as RFC 3264 6 requires. */
struct oa_other_media {
	char type[16];
	char proto[32];
	char fmt[16];
};

struct oa_desc {
	char addr[64]; /* c= address of the audio stream */
	bool ipv6;
	bool has_audio; /* an audio m= line with a non-zero port */
	bool secure;	/* RTP/SAVP or RTP/SAVPF */
	bool savpf;	/* RTP/SAVPF: answered with the same profile */
	/* the a=crypto lines we could take, in the offer's order */
	unsigned n_crypto;
	struct sdes_crypto crypto[OA_MAX_CRYPTO];
	uint16_t port;
	uint16_t rtcp_port; /* a=rtcp, else port + 1 */
	bool rtcp_mux;
	enum oa_dir dir;
	unsigned ptime_ms; /* 0 when absent */
	/* a=extmap of the RFC 6464 audio level (0: none), and vad=on */
	uint8_t level_ext_id;
	bool level_vad;
	/* a=extmap of RFC 6465's contributor levels (0: none), and its
	 * direction as the describing side gives it (sendrecv if none) */
	uint8_t csrc_level_id;
	enum oa_dir csrc_level_dir;
	unsigned n_formats;
	struct oa_format fmt[OA_MAX_FORMATS];
	/* Every m= line in order; audio_index says which one is ours. */
	unsigned n_media;
	unsigned audio_index;
	struct oa_other_media media[OA_MAX_MEDIA];
};

/* What we agreed on for the audio stream. */
struct oa_result {
	enum codec_id codec;
	int pt;
	int te_pt; /* -1 when no telephone-event */
	uint32_t te_clock_hz;
	unsigned ptime_ms;
	uint8_t level_ext_id; /* RFC 6464 levels the peer sends; 0: none */
	uint8_t cn_pt;	      /* comfort noise (RFC 3389); 0: none */
	bool dtx;	      /* the peer asked for Opus DTX (usedtx=1) */
	enum oa_dir our_dir;  /* direction we answer/offer, from our side */
	enum oa_dir peer_dir; /* the offerer's direction */
	/* RFC 6465 levels we send the peer (0: none), answered "/sendonly"
	 * when its offer was recvonly */
	uint8_t csrc_level_id;
	bool csrc_level_sendonly;
	bool rtcp_mux;
	char fmtp[160];			/* fmtp we answer for the codec */
	bool srtp;			/* SRTP with the two keys below */
	bool savpf;			/* answered RTP/SAVPF */
	struct sdes_crypto crypto_peer; /* what the peer sends with */
	struct sdes_crypto crypto_ours; /* what we send with */
};

/* Our side of a description: where media reaches us. */
struct oa_local {
	char addr[64];
	bool ipv6;
	uint16_t port;
	uint64_t sess_id;
	uint64_t sess_version; /* bump on every SDP we send that changes */
};

/* Parses SDP text (sig_sdp.c). -EBADMSG when malformed. */
int sig_sdp_parse(struct oa_desc *out, const char *sdp, size_t len);

/* Chooses our answer to an offer: Opus, G.722, PCMU, PCMA, plus
 * telephone-event at the codec's clock (8 kHz as a fallback); with an
 * RTP/SAVP(F) offer, the first a=crypto line we take and a fresh key of
 * ours. -ENOTSUP: no audio line with a port, no codec in common, a secure
 * offer with SRTP off or no usable a=crypto; -EACCES: a plain offer when
 * SRTP is mandatory. */
int oa_answer(const struct oa_desc *offer, enum oa_srtp srtp,
	      struct oa_result *out);

/* Reads the answer to our own offer (late offer, dial-out): the first
 * codec of ours that the answer kept, and, when we offered SRTP (ours
 * non-NULL), the answer's key for our tag and suite. Same errors as
 * oa_answer. */
int oa_accept_answer(const struct oa_desc *answer,
		     const struct sdes_crypto *ours, struct oa_result *out);

/* Writes our answer SDP into buf; returns its length or -ENOSPC. */
int oa_render_answer(char *buf, size_t cap, const struct oa_local *local,
		     const struct oa_desc *offer, const struct oa_result *r);
/* Writes our offer (every codec we support, sendrecv unless dir says),
 * RTP/SAVP with ours as its a=crypto when ours is non-NULL. */
int oa_render_offer(char *buf, size_t cap, const struct oa_local *local,
		    enum oa_dir dir, const struct sdes_crypto *ours);
/* The SRTP policy's name (off, optional, mandatory). */
const char *oa_srtp_name(enum oa_srtp s);

/* The stream parameters for an agreed result: peer addresses from the
 * remote description. -EINVAL when the address is not a literal. */
int oa_stream_params(const struct oa_desc *remote, const struct oa_result *r,
		     struct stream_params *out);

const char *oa_dir_name(enum oa_dir d);

/* ---- silence (oa_ext.c) ---- */

/* An a=extmap value (RFC 8285 5): 0 with the id (and vad=on) when it maps
 * the RFC 6464 audio level; -ENOENT for another extension; -EBADMSG when
 * the id is not 1-14 or 16-255. */
int oa_extmap_level(const char *value, uint8_t *id, bool *vad);
/* The same for RFC 6465's csrc-audio-level, with the direction the value
 * gives (OA_SENDRECV when none); -EBADMSG for an unknown direction. */
int oa_extmap_csrc_level(const char *value, uint8_t *id, enum oa_dir *dir);
/* True when the fmtp parameters say key=1 (usedtx=1). */
bool oa_fmtp_flag(const char *fmtp, const char *key);
/* The CN/8000 format of a description (RFC 3389; static 13), or NULL. */
const struct oa_format *oa_find_cn(const struct oa_desc *d);

#endif
