/* oa.c: what the focus answers to an SDP offer, and what it offers itself
 * (RFC 3264), on descriptions already parsed by sig_sdp.c.
 *
 * The answer names one codec, chosen in our order of preference (Opus,
 * G.722, PCMU, PCMA), plus telephone-event, CN/8000 when offered with an
 * 8 kHz RTP clock, and the RFC 6464 audio level extension under the
 * offer's id when offered (we only receive levels; Opus answers usedtx=1,
 * since DTX packets are silence we need not decode). RFC 6465's levels of
 * the contributors (csrc-audio-level) we only send: an offer that would
 * receive them (sendrecv, recvonly or no direction) is answered under its
 * id, "/sendonly" to a recvonly one (RFC 8285 6), and one that would only
 * send them, or maps them to the RFC 6464 id, gets nothing. Our own offer
 * (late offer, dial-out) offers them "/sendonly", and an answer that would
 * receive them turns them on the same way. A single codec per
 * call keeps the stream unambiguous for the mixer. Every m= line of the
 * offer is answered, those we do not use with port 0. Signalling thread;
 * no state. */
#include "conference/oa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define TE_PT_8K       101
#define TE_PT_48K      102
#define OPUS_PT	       111
#define LEVEL_ID       1 /* the audio level's extension id in our offers */
#define CSRC_LEVEL_ID  2 /* and the contributors' levels' */
#define LEVEL_URI      "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define CSRC_LEVEL_URI "urn:ietf:params:rtp-hdrext:csrc-audio-level"

/* SPEC 3: wideband first, then G.711. */
static const enum codec_id preference[] = {CODEC_OPUS, CODEC_G722, CODEC_PCMU,
					   CODEC_PCMA};

static const char *const dir_names[] = {"inactive", "sendonly", "recvonly",
					"sendrecv"};

const char *oa_dir_name(enum oa_dir d)
{
	return dir_names[d & 3];
}

/* Static payload types may come without an rtpmap line. */
static bool format_is(const struct oa_format *f, const struct codec_desc *c)
{
	if (f->name[0] == '\0' || (f->pt < 96 && c->static_pt == f->pt))
		return c->static_pt >= 0 && f->pt == c->static_pt;
	return strcasecmp(f->name, c->name) == 0 &&
	       f->clock_hz == c->rtp_clock_hz;
}

static const struct oa_format *find_codec(const struct oa_desc *d,
					  enum codec_id id)
{
	const struct codec_desc *c = codec_by_id(id);
	for (unsigned i = 0; c && i < d->n_formats; i++)
		if (format_is(&d->fmt[i], c))
			return &d->fmt[i];
	return NULL;
}

static const struct oa_format *find_te(const struct oa_desc *d,
				       uint32_t clock_hz)
{
	for (unsigned i = 0; i < d->n_formats; i++)
		if (strcasecmp(d->fmt[i].name, "telephone-event") == 0 &&
		    d->fmt[i].clock_hz == clock_hz)
			return &d->fmt[i];
	return NULL;
}

/* Our direction is the mirror of the peer's (RFC 3264 6.1). */
static enum oa_dir mirror(enum oa_dir d)
{
	switch (d) {
	case OA_SENDONLY:
		return OA_RECVONLY;
	case OA_RECVONLY:
		return OA_SENDONLY;
	default:
		return d;
	}
}

static int put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int usable(const struct oa_desc *d, enum oa_srtp srtp)
{
	if (!d->has_audio || d->addr[0] == '\0')
		return -ENOTSUP; /* nothing we could answer with */
	if (d->secure && (srtp == OA_SRTP_OFF || d->n_crypto == 0))
		return -ENOTSUP;
	if (!d->secure && srtp == OA_SRTP_MANDATORY)
		return -EACCES;
	return 0;
}

/* The keys of a secure offer: its first line we take, and ours with the
 * same tag and suite (RFC 4568 7.1.1). */
static int choose_keys(const struct oa_desc *offer, struct oa_result *r)
{
	if (!offer->secure)
		return 0;
	r->srtp = true;
	r->savpf = offer->savpf;
	r->crypto_peer = offer->crypto[0];
	r->crypto_ours.tag = offer->crypto[0].tag;
	r->crypto_ours.suite = offer->crypto[0].suite;
	return sdes_new_key(r->crypto_ours.key) ? -EIO : 0;
}

const char *oa_srtp_name(enum oa_srtp s)
{
	return s == OA_SRTP_MANDATORY  ? "mandatory"
	       : s == OA_SRTP_OPTIONAL ? "optional"
				       : "off";
}

/* What the peer does with silence and wants of ours: levels it sends,
 * CN with an 8 kHz codec, Opus DTX (usedtx=1 in its fmtp). */
static void fill_silence(struct oa_result *r, const struct oa_desc *d,
			 const struct oa_format *f, const struct codec_desc *c)
{
	const struct oa_format *cn = oa_find_cn(d);

	r->level_ext_id = d->level_ext_id;
	if (cn && c->rtp_clock_hz == 8000 && cn->pt != f->pt)
		r->cn_pt = (uint8_t)cn->pt;
	r->dtx = c->id == CODEC_OPUS && oa_fmtp_flag(f->fmtp, "usedtx");
}

static void fill_result(struct oa_result *r, const struct oa_desc *d,
			const struct oa_format *f, enum codec_id id)
{
	const struct codec_desc *c = codec_by_id(id);
	memset(r, 0, sizeof(*r));
	r->codec = id;
	r->pt = f->pt;
	r->te_pt = -1;
	const struct oa_format *te = find_te(d, c->rtp_clock_hz);
	if (!te)
		te = find_te(d, 8000); /* RFC 4733's common fallback */
	if (te) {
		r->te_pt = te->pt;
		r->te_clock_hz = te->clock_hz;
	}
	r->ptime_ms = 20;
	if (d->ptime_ms >= 10 && d->ptime_ms <= 60 && d->ptime_ms % 10 == 0)
		r->ptime_ms = d->ptime_ms;
	r->peer_dir = d->dir;
	r->our_dir = mirror(d->dir);
	r->rtcp_mux = d->rtcp_mux;
	if (id == CODEC_OPUS)
		snprintf(r->fmtp, sizeof(r->fmtp), "useinbandfec=1;usedtx=1");
	fill_silence(r, d, f, c);
}

/* The contributors' levels (RFC 6465) the peer would receive, as the
 * offerer or as the answerer to our offer. */
static void answer_csrc_levels(struct oa_result *r, const struct oa_desc *d)
{
	if (!d->csrc_level_id || d->csrc_level_id == d->level_ext_id ||
	    (d->csrc_level_dir != OA_SENDRECV &&
	     d->csrc_level_dir != OA_RECVONLY))
		return;
	r->csrc_level_id = d->csrc_level_id;
	r->csrc_level_sendonly = d->csrc_level_dir == OA_RECVONLY;
}

int oa_answer(const struct oa_desc *offer, enum oa_srtp srtp,
	      struct oa_result *out)
{
	int err = usable(offer, srtp);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]);
	     i++) {
		const struct oa_format *f = find_codec(offer, preference[i]);
		if (f) {
			fill_result(out, offer, f, preference[i]);
			answer_csrc_levels(out, offer);
			return choose_keys(offer, out);
		}
	}
	return -ENOTSUP;
}

/* The answer's a=crypto for the tag and suite we offered (RFC 4568
 * 7.1.2: the answerer echoes the tag). */
static int answer_keys(const struct oa_desc *answer,
		       const struct sdes_crypto *ours, struct oa_result *r)
{
	if (!ours)
		return answer->secure ? -ENOTSUP : 0;
	if (!answer->secure)
		return -ENOTSUP; /* we offered SRTP only */
	for (unsigned i = 0; i < answer->n_crypto; i++) {
		const struct sdes_crypto *k = &answer->crypto[i];
		if (k->tag == ours->tag && k->suite == ours->suite) {
			r->srtp = true;
			r->crypto_peer = *k;
			r->crypto_ours = *ours;
			return 0;
		}
	}
	return -ENOTSUP;
}

int oa_accept_answer(const struct oa_desc *answer,
		     const struct sdes_crypto *ours, struct oa_result *out)
{
	if (!answer->has_audio || answer->addr[0] == '\0')
		return -ENOTSUP;
	/* The answerer lists what it kept, most preferred first. */
	for (unsigned i = 0; i < answer->n_formats; i++) {
		for (size_t k = 0;
		     k < sizeof(preference) / sizeof(preference[0]); k++) {
			const struct codec_desc *c = codec_by_id(preference[k]);
			if (c && format_is(&answer->fmt[i], c)) {
				fill_result(out, answer, &answer->fmt[i],
					    preference[k]);
				answer_csrc_levels(out, answer);
				return answer_keys(answer, ours, out);
			}
		}
	}
	return -ENOTSUP;
}

/* a=crypto with our key: written into the SDP, never logged. */
static int put_crypto(char *buf, size_t cap, size_t *len,
		      const struct sdes_crypto *k)
{
	char line[128];
	int n = sdes_format(k, line, sizeof(line));
	int err = n < 0 ? n : put(buf, cap, len, "a=crypto:%s\r\n", line);
	memset(line, 0, sizeof(line));
	return err;
}

static int put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	if (*len >= cap)
		return -ENOSPC;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len)
		return -ENOSPC;
	*len += (size_t)n;
	return 0;
}

static int put_session(char *buf, size_t cap, size_t *len,
		       const struct oa_local *l)
{
	const char *ip = l->ipv6 ? "IP6" : "IP4";
	return put(buf, cap, len,
		   "v=0\r\no=tutti %llu %llu IN %s %s\r\ns=tutti\r\n"
		   "c=IN %s %s\r\nt=0 0\r\n",
		   (unsigned long long)l->sess_id,
		   (unsigned long long)l->sess_version, ip, l->addr, ip,
		   l->addr);
}

static int put_rtpmap(char *buf, size_t cap, size_t *len, int pt,
		      const struct codec_desc *c, const char *fmtp)
{
	int err;
	if (c->channels > 1)
		err = put(buf, cap, len, "a=rtpmap:%d %s/%u/%u\r\n", pt,
			  c->name, c->rtp_clock_hz, c->channels);
	else
		err = put(buf, cap, len, "a=rtpmap:%d %s/%u\r\n", pt, c->name,
			  c->rtp_clock_hz);
	if (!err && fmtp && *fmtp)
		err = put(buf, cap, len, "a=fmtp:%d %s\r\n", pt, fmtp);
	return err;
}

static int put_audio_answer(char *buf, size_t cap, size_t *len,
			    const struct oa_local *l, const struct oa_result *r)
{
	int err = put(buf, cap, len, "m=audio %u %s %d", l->port,
		      !r->srtp	 ? "RTP/AVP"
		      : r->savpf ? "RTP/SAVPF"
				 : "RTP/SAVP",
		      r->pt);
	if (!err && r->te_pt >= 0)
		err = put(buf, cap, len, " %d", r->te_pt);
	if (!err && r->cn_pt)
		err = put(buf, cap, len, " %d", r->cn_pt);
	if (!err)
		err = put(buf, cap, len, "\r\n");
	if (!err)
		err = put_rtpmap(buf, cap, len, r->pt, codec_by_id(r->codec),
				 r->fmtp);
	if (!err && r->te_pt >= 0)
		err = put(buf, cap, len,
			  "a=rtpmap:%d telephone-event/%u\r\n"
			  "a=fmtp:%d 0-16\r\n",
			  r->te_pt, r->te_clock_hz, r->te_pt);
	if (!err && r->cn_pt)
		err = put(buf, cap, len, "a=rtpmap:%d CN/8000\r\n", r->cn_pt);
	if (!err && r->level_ext_id)
		err = put(buf, cap, len, "a=extmap:%u %s\r\n", r->level_ext_id,
			  LEVEL_URI);
	if (!err && r->csrc_level_id)
		err = put(
		    buf, cap, len, "a=extmap:%u%s %s\r\n", r->csrc_level_id,
		    r->csrc_level_sendonly ? "/sendonly" : "", CSRC_LEVEL_URI);
	if (!err)
		err = put(buf, cap, len, "a=ptime:%u\r\n", r->ptime_ms);
	if (!err && r->rtcp_mux)
		err = put(buf, cap, len, "a=rtcp-mux\r\n");
	if (!err && r->srtp)
		err = put_crypto(buf, cap, len, &r->crypto_ours);
	if (!err)
		err = put(buf, cap, len, "a=%s\r\n", oa_dir_name(r->our_dir));
	return err;
}

int oa_render_answer(char *buf, size_t cap, const struct oa_local *local,
		     const struct oa_desc *offer, const struct oa_result *r)
{
	size_t len = 0;
	int err = put_session(buf, cap, &len, local);
	for (unsigned i = 0; !err && i < offer->n_media; i++) {
		const struct oa_other_media *m = &offer->media[i];
		if (i == offer->audio_index)
			err = put_audio_answer(buf, cap, &len, local, r);
		else
			err = put(buf, cap, &len, "m=%s 0 %s %s\r\n", m->type,
				  m->proto, m->fmt);
	}
	return err ? err : (int)len;
}

int oa_render_offer(char *buf, size_t cap, const struct oa_local *local,
		    enum oa_dir dir, const struct sdes_crypto *ours)
{
	size_t len = 0;
	const struct codec_desc *opus = codec_by_id(CODEC_OPUS);
	const struct codec_desc *pcmu = codec_by_id(CODEC_PCMU);
	const struct codec_desc *pcma = codec_by_id(CODEC_PCMA);
	const struct codec_desc *g722 = codec_by_id(CODEC_G722);
	int err = put_session(buf, cap, &len, local);
	if (!err)
		err = put(buf, cap, &len,
			  "m=audio %u %s %d %d %d %d %d %d %d\r\n", local->port,
			  ours ? "RTP/SAVP" : "RTP/AVP", OPUS_PT,
			  g722->static_pt, pcmu->static_pt, pcma->static_pt,
			  TE_PT_48K, TE_PT_8K, CN_PT);
	if (!err)
		err = put_rtpmap(buf, cap, &len, OPUS_PT, opus,
				 "useinbandfec=1;usedtx=1");
	/* G722/8000: the RTP clock, not the 16 kHz it samples at */
	if (!err)
		err = put_rtpmap(buf, cap, &len, g722->static_pt, g722, NULL);
	if (!err)
		err = put_rtpmap(buf, cap, &len, pcmu->static_pt, pcmu, NULL);
	if (!err)
		err = put_rtpmap(buf, cap, &len, pcma->static_pt, pcma, NULL);
	if (!err)
		err = put(buf, cap, &len,
			  "a=rtpmap:%d telephone-event/48000\r\n"
			  "a=fmtp:%d 0-16\r\n"
			  "a=rtpmap:%d telephone-event/8000\r\n"
			  "a=fmtp:%d 0-16\r\na=rtpmap:%d CN/8000\r\n"
			  "a=extmap:%d %s\r\na=extmap:%d/sendonly %s\r\n"
			  "a=ptime:20\r\n",
			  TE_PT_48K, TE_PT_48K, TE_PT_8K, TE_PT_8K, CN_PT,
			  LEVEL_ID, LEVEL_URI, CSRC_LEVEL_ID, CSRC_LEVEL_URI);
	if (!err && ours)
		err = put_crypto(buf, cap, &len, ours);
	if (!err)
		err = put(buf, cap, &len, "a=%s\r\n", oa_dir_name(dir));
	return err ? err : (int)len;
}

static int set_addr(struct sockaddr_storage *ss, const char *host, bool v6,
		    uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		return inet_pton(AF_INET6, host, &a->sin6_addr) == 1 ? 0
								     : -EINVAL;
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -EINVAL;
}

int oa_stream_params(const struct oa_desc *remote, const struct oa_result *r,
		     struct stream_params *out)
{
	struct stream_params p;
	memset(&p, 0, sizeof(p));
	int err =
	    set_addr(&p.rtp_peer, remote->addr, remote->ipv6, remote->port);
	if (!err)
		err = set_addr(&p.rtcp_peer, remote->addr, remote->ipv6,
			       r->rtcp_mux ? remote->port : remote->rtcp_port);
	if (err)
		return err;
	p.codec = r->codec;
	p.pt = (uint8_t)r->pt;
	p.te_pt = r->te_pt;
	p.te_clock_hz = r->te_clock_hz;
	p.ptime_ms = r->ptime_ms;
	p.level_ext_id = r->level_ext_id;
	p.csrc_level_id = r->csrc_level_id;
	p.cn_pt = r->cn_pt;
	p.dtx = r->dtx;
	/* We send when the peer receives; the peer is heard in the room only
	 * when it sends and receives: a caller that puts the room on hold
	 * (sendonly) would otherwise play its music on hold to everyone. */
	p.send = r->peer_dir == OA_SENDRECV || r->peer_dir == OA_RECVONLY;
	p.recv = r->peer_dir == OA_SENDRECV;
	p.rtcp_mux = r->rtcp_mux;
	if (r->srtp) {
		p.srtp_rx_suite = r->crypto_peer.suite;
		memcpy(p.srtp_rx_key, r->crypto_peer.key, SRTP_KEY_SALT_LEN);
		p.srtp_tx_suite = r->crypto_ours.suite;
		memcpy(p.srtp_tx_key, r->crypto_ours.key, SRTP_KEY_SALT_LEN);
	}
	*out = p;
	return 0;
}
