/* stream_tx.c: a stream's send side: stream_push() takes 20 ms of the mix
 * at the room rate, and out go RTP packets and, every few seconds, RTCP.
 *
 * Send: the stream's own encoder (rtp/txenc.c) converts the mix to the
 * codec's rate and makes one packet per ptime. stream_push_encoded() sends
 * packets an encoder shared by many listeners made instead (the mixer's,
 * for everyone who hears the same mix in the same format): only the RTP
 * header is the stream's own. The RTP timestamp advances by 20 ms on every
 * push, sent or not, so that a resume after hold continues in time; the marker
 * bit flags the first packet and the first after a resume. RTCP (an SR once we
 * have sent, else an RR; one report block for the peer, filled by
 * rtp/stream_rx.c) goes out every 5 s, randomized 0.5-1.5x as RFC 3550 6.2
 * asks.
 *
 * Packets leave in the batch of the thread that pushes (rtp/sendq.c: one
 * io_uring submit for many listeners' sockets), or with sendto() when it
 * has none; either way the stream's figures count what the kernel took.
 *
 * Threads and ownership: only the room's mixer thread calls these, on a
 * stream it holds; packets are built in the stream's own buffers, nothing
 * is allocated, and a failed send is counted, never logged. */
#include "rtp/stream_priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#define RTCP_INTERVAL_NS 5000000000ull
#define NTP_UNIX_OFFSET	 2208988800ull
#define RTP_HDR_MAX	 (12 + 4 * RTPPKT_MAX_CSRC)

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (a->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

/* ---- push: 20 ms of mix -> codec rate -> one packet per ptime ------------ */

#define ARG_RTCP UINT32_MAX /* sendq arg of an RTCP packet; else payload */

void stream_tx_sent(void *ctx, int res, uint32_t arg)
{
	struct stream *s = ctx;
	if (res < 0) {
		s->st.send_errors++;
	} else if (arg != ARG_RTCP) {
		s->st.packets_out++;
		s->st.bytes_out += (uint64_t)res;
		s->octets_out += arg;
	}
}

/* Protects s->pkt (SRTP) and sends it, now or in q's batch. Send errors
 * (a full buffer, ECONNREFUSED from a peer that went away) are counted,
 * never fatal and never logged. */
static void send_to(struct stream *s, struct sendq *q, int fd,
		    const struct sockaddr_storage *to, size_t len, uint32_t arg)
{
	bool rtcp = arg == ARG_RTCP;
	if (s->srtp_tx && (rtcp ? srtpctx_rtcp : srtpctx_rtp)(
			      s->srtp_tx, s->pkt, &len, sizeof(s->pkt)) < 0) {
		s->st.send_errors++;
		return;
	}
	if (q) {
		sendq_send(q, fd, s->pkt, len, (const void *)to, addr_len(to),
			   s, arg);
		return;
	}
	ssize_t r = sendto(fd, s->pkt, len, MSG_DONTWAIT, (const void *)to,
			   addr_len(to));
	stream_tx_sent(s, r < 0 ? -errno : (int)r, arg);
}

static void send_packet(struct stream *s, struct sendq *q, uint32_t ts,
			uint8_t pt, bool marker, const uint8_t *payload,
			size_t bytes, const uint32_t *csrc, unsigned n_csrc)
{
	struct rtppkt pkt = {
	    .pt = pt,
	    .marker = s->marker || marker,
	    .seq = s->seq++,
	    .ts = ts,
	    .ssrc = s->local_ssrc,
	    .n_csrc =
		(uint8_t)(n_csrc < RTPPKT_MAX_CSRC ? n_csrc : RTPPKT_MAX_CSRC),
	    .payload = payload,
	    .payload_bytes = bytes,
	};
	if (csrc)
		memcpy(pkt.csrc, csrc, pkt.n_csrc * sizeof(*csrc));
	else
		pkt.n_csrc = 0;
	stream_levels_ext(s, &pkt);
	int len = rtppkt_build(s->pkt, sizeof(s->pkt), &pkt);
	if (len < 0)
		return;
	s->marker = false;
	send_to(s, q, s->rtp_fd, &s->p.rtp_peer, (size_t)len, (uint32_t)bytes);
}

/* Sends what an encoder made of this 20 ms, each packet stamped on our
 * own timeline (s->ts is the RTP time of this 20 ms). A CN packet goes
 * with the CN payload type (only an encoder set up for a peer that
 * negotiated CN makes one). */
static void send_out(struct stream *s, struct sendq *q,
		     const struct txenc_out *o, const uint32_t *csrc,
		     unsigned n_csrc)
{
	for (unsigned i = 0; i < o->n; i++) {
		uint8_t pt = o->pkt[i].cn && s->p.cn_pt ? s->p.cn_pt : s->p.pt;
		if (o->pkt[i].cn && !s->p.cn_pt)
			continue;
		send_packet(s, q, s->ts + (uint32_t)o->pkt[i].ts_off, pt,
			    o->pkt[i].marker, o->pkt[i].data, o->pkt[i].len,
			    csrc, n_csrc);
	}
}

static bool sending(const struct stream *s)
{
	return s->p.send && addr_len(&s->p.rtp_peer);
}

/* ---- RTCP ---------------------------------------------------------------- */

static uint64_t ntp_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	uint64_t frac = ((uint64_t)t.tv_nsec << 32) / 1000000000ull;
	return ((uint64_t)t.tv_sec + NTP_UNIX_OFFSET) << 32 | frac;
}

/* An SR while we send (rtcpkt_build makes an RR of packets == 0). */
static void rtcp_send(struct stream *s, struct sendq *q, uint64_t now_ns)
{
	bool sr = s->p.send && s->st.packets_out > 0;
	struct rtcpkt_info in = {
	    .has_sr = sr,
	    .ssrc = s->local_ssrc,
	    .ntp = ntp_now(),
	    .rtp_ts = s->ts,
	    .packets = sr ? (uint32_t)s->st.packets_out : 0,
	    .octets = s->octets_out,
	};
	if (s->src.valid && !s->src.probation) {
		in.n_blocks = 1;
		stream_rx_report_block(s, &in.block[0], now_ns);
	}
	int len = rtcpkt_build(s->pkt, sizeof(s->pkt), &in, s->cname);
	if (len < 0)
		return;
	bool mux = s->p.rtcp_mux || s->rtcp_fd < 0;
	const struct sockaddr_storage *to =
	    mux ? &s->p.rtp_peer : &s->p.rtcp_peer;
	if (addr_len(to))
		send_to(s, q, mux ? s->rtp_fd : s->rtcp_fd, to, (size_t)len,
			ARG_RTCP);
}

/* RFC 3550 6.2: the interval times a random factor in [0.5, 1.5). */
static uint64_t rtcp_interval(struct stream *s, uint64_t base_ns)
{
	return base_ns / 2 + base_ns / 1000 * (stream_rng_next(s) % 1000);
}

/* 20 ms have gone by, sent or not: the RTP time moves on (a resume after
 * hold continues in time), and RTCP goes out when due. */
static void frame_done(struct stream *s, struct sendq *q, uint64_t now_ns)
{
	stream_levels_done(s);
	s->ts += s->m.desc->rtp_clock_hz / 50;
	if (!s->next_rtcp_ns) {
		s->next_rtcp_ns =
		    now_ns + rtcp_interval(s, RTCP_INTERVAL_NS / 2);
	} else if (now_ns >= s->next_rtcp_ns) {
		rtcp_send(s, q, now_ns);
		s->next_rtcp_ns = now_ns + rtcp_interval(s, RTCP_INTERVAL_NS);
	}
}

/* The peer's block about our SSRC says how much of what we send it loses:
 * our encoder codes FEC for that (rtp/fecloss.c). Blocks about other
 * sources (another sender the peer hears) are not ours. */
void stream_tx_report(struct stream *s, const struct rtcpkt_info *in,
		      uint64_t now_ns)
{
	for (unsigned i = 0; i < in->n_blocks; i++)
		if (in->block[i].ssrc == s->local_ssrc &&
		    fecloss_report(&s->fec, in->block[i].fraction_lost, now_ns))
			/* a valid setting: cannot fail */
			(void)txenc_set_fec_loss(s->m.tx, s->fec.perc);
}

bool stream_fec_expire(struct stream *s, uint64_t now_ns)
{
	if (!fecloss_expire(&s->fec, now_ns))
		return false;
	(void)txenc_set_fec_loss(s->m.tx, s->fec.perc);
	return true;
}

unsigned stream_fec_loss(const struct stream *s)
{
	return s->fec.perc;
}

unsigned stream_tx_fec_loss(const struct stream *s)
{
	return txenc_fec_loss(s->m.tx);
}

int stream_push(struct stream *s, struct sendq *q, const int16_t *pcm,
		const uint32_t *csrc, unsigned n_csrc, uint64_t now_ns)
{
	int ret = 0;
	if (sending(s)) {
		struct txenc_out o;
		ret = txenc_push(s->m.tx, pcm, &o);
		s->m.tx_holds = txenc_holds(s->m.tx);
		send_out(s, q, &o, csrc, n_csrc);
		if (ret >= 0)
			ret = (int)o.encoded; /* DTX frames left unsent too */
	} else {
		txenc_drop(s->m.tx);
		s->m.tx_holds = false;
		s->marker = true;
	}
	frame_done(s, q, now_ns);
	return ret;
}

int stream_push_encoded(struct stream *s, struct sendq *q,
			const struct txenc_out *o, const uint32_t *csrc,
			unsigned n_csrc, uint64_t now_ns)
{
	/* What our own encoder held belongs to a mix we no longer hear. A
	 * listener of a shared encode mostly has nothing held: its encoder
	 * is left untouched then (one cache miss less a tick). */
	if (s->m.tx_holds) {
		txenc_drop(s->m.tx);
		s->m.tx_holds = false;
	}
	if (!sending(s))
		s->marker = true;
	else if (o)
		send_out(s, q, o, csrc, n_csrc);
	frame_done(s, q, now_ns);
	return 0;
}

void stream_tx_format(const struct stream *s, enum codec_id *codec,
		      uint32_t *ptime_ms)
{
	*codec = txenc_codec(s->m.tx);
	*ptime_ms = txenc_ptime_ms(s->m.tx);
}
