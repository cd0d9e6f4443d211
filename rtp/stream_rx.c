/* stream_rx.c: a stream's receive side: the sockets drained into the jitter
 * buffer, the RFC 3550 receive statistics, and stream_pull(), which hands
 * the mixer 20 ms of PCM at the room rate.
 *
 * Receive: the socket is drained with recvmmsg. Only the negotiated peer's
 * address and port are accepted ("foreign" packets are counted and dropped),
 * then the payload type decides: the codec's packets go to the jitter
 * buffer, telephone-event packets to the key press tracker
 * (rtp/stream_dtmf.c; DTMF never reaches the mix), comfort noise to the
 * jitter buffer as silence (rtp/stream_quiet.c, which also carries RFC
 * 6464 levels and skips decodes nobody needs) and anything else is
 * counted as malformed. A G.711 caller's in-band key tones are taken out
 * of its audio there too, as it is pulled: at the codec's rate, before
 * the talker detector or the mix see it. Sequence, loss and jitter
 * statistics follow RFC 3550 A.1, A.3 and A.8; the report block that
 * rtp/stream_tx.c sends in RTCP is filled here.
 *
 * Packet times other than 20 ms: the jitter buffer is built with the
 * negotiated ptime as its frame, and stream_pull() keeps a small PCM FIFO at
 * the codec's rate. Each pull takes whole packets out of the jitter buffer
 * (decoded, or concealed when lost) until the FIFO holds 20 ms, and then
 * takes exactly 20 ms out of it. With 20 ms packets this is one packet per
 * pull; with 30 ms it is two packets every three pulls; a packet longer than
 * negotiated simply fills the FIFO for longer. The mixer takes the frame at
 * the codec rate first (its talker detector measures it there) and has it
 * converted to the room rate only when it mixes it: for a participant who
 * is not among the speakers the conversion is skipped, and the converter
 * is reset when it is used again, since its history has a gap.
 *
 * Threads and ownership: only the room's mixer thread calls these, on a
 * stream it holds; they write into the stream's own buffers and allocate
 * nothing. */
#include "rtp/stream_priv.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#define MAX_BATCHES	   16 /* per read; the rest waits for the next */
#define ARRIVAL_MAX_AGE_NS 2000000000 /* older: the wall clock moved */
#define SEQ_MOD		   65536u
#define MAX_DROPOUT	   3000
#define MAX_MISORDER	   100
#define MIN_SEQUENTIAL	   2

/* ---- the peer's address -------------------------------------------------- */

static bool addr_v4(const struct sockaddr_storage *a, uint32_t *v4,
		    uint16_t *port)
{
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)a;
		*v4 = s->sin_addr.s_addr;
		*port = s->sin_port;
		return true;
	}
	const struct sockaddr_in6 *s6 = (const void *)a;
	if (a->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return false;
	memcpy(v4, &s6->sin6_addr.s6_addr[12], 4);
	*port = s6->sin6_port;
	return true;
}

static bool addr_same(const struct sockaddr_storage *a,
		      const struct sockaddr_storage *b, bool port)
{
	uint32_t va, vb;
	uint16_t pa, pb;
	if (addr_v4(a, &va, &pa) && addr_v4(b, &vb, &pb))
		return va == vb && (!port || pa == pb);
	if (a->ss_family != AF_INET6 || b->ss_family != AF_INET6)
		return false;
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return !memcmp(&x->sin6_addr, &y->sin6_addr, 16) &&
	       (!port || x->sin6_port == y->sin6_port);
}

/* ---- receive statistics (RFC 3550 A.1, A.3, A.8) ------------------------- */

static void seq_init(struct source *r, uint16_t seq)
{
	r->base_seq = seq;
	r->max_seq = seq;
	r->bad_seq = SEQ_MOD + 1;
	r->cycles = 0;
	r->received = 0;
	r->received_prior = 0;
	r->expected_prior = 0;
}

static void source_new(struct source *r, uint32_t ssrc, uint16_t seq)
{
	memset(r, 0, sizeof(*r));
	seq_init(r, seq);
	r->valid = true;
	r->ssrc = ssrc;
	r->max_seq = seq - 1;
	r->probation = MIN_SEQUENTIAL;
}

/* A.1's update_seq. Packets on probation are played out but not counted
 * yet; false (hold back) for the first packet after a large jump, and
 * *restart when a second one confirms that the sender restarted. */
static bool seq_update(struct source *r, uint16_t seq, bool *restart)
{
	uint16_t udelta = seq - r->max_seq;

	if (r->probation) {
		if (seq == (uint16_t)(r->max_seq + 1)) {
			r->probation--;
			r->max_seq = seq;
			if (r->probation == 0) {
				seq_init(r, seq);
				r->received++;
			}
		} else {
			r->probation = MIN_SEQUENTIAL - 1;
			r->max_seq = seq;
		}
		return true;
	}
	if (udelta < MAX_DROPOUT) {
		if (seq < r->max_seq)
			r->cycles += SEQ_MOD;
		r->max_seq = seq;
	} else if (udelta <= SEQ_MOD - MAX_MISORDER) {
		if (seq != r->bad_seq) {
			r->bad_seq = (seq + 1) & (SEQ_MOD - 1);
			return false;
		}
		seq_init(r, seq);
		r->have_transit = false;
		*restart = true;
	}
	r->received++;
	return true;
}

static uint32_t expected(const struct source *r)
{
	return r->cycles + r->max_seq - r->base_seq + 1;
}

int32_t stream_rx_cum_lost(const struct source *r)
{
	if (!r->valid || r->probation)
		return 0;
	int64_t lost = (int64_t)expected(r) - r->received;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	return (int32_t)lost;
}

/* A.3's report block for the peer; moves the interval marks. */
void stream_rx_report_block(struct stream *s, struct rtcp_report_block *b,
			    uint64_t now_ns)
{
	struct source *r = &s->src;
	uint32_t exp = expected(r);
	uint32_t exp_int = exp - r->expected_prior;
	uint32_t rec_int = r->received - r->received_prior;
	int64_t lost_int = (int64_t)exp_int - rec_int;

	r->expected_prior = exp;
	r->received_prior = r->received;
	memset(b, 0, sizeof(*b));
	b->ssrc = r->ssrc;
	if (exp_int && lost_int > 0)
		b->fraction_lost = (uint8_t)((lost_int << 8) / exp_int);
	b->cum_lost = stream_rx_cum_lost(r);
	b->ext_highest_seq = r->cycles + r->max_seq;
	b->jitter = r->jitter16 >> 4;
	if (s->lsr) {
		b->lsr = s->lsr;
		b->dlsr =
		    (uint32_t)(((now_ns - s->lsr_at_ns) << 16) / 1000000000ull);
	}
}

/* Arrival time in RTP clock units (wrapping), from the monotonic clock. */
static uint32_t arrival_ts(uint64_t now_ns, uint32_t clock_hz)
{
	uint64_t sec = now_ns / 1000000000ull, ns = now_ns % 1000000000ull;
	return (uint32_t)(sec * clock_hz + ns * clock_hz / 1000000000ull);
}

static void jitter_update(struct source *r, uint32_t rtp_ts, uint32_t arrival)
{
	int32_t transit = (int32_t)(arrival - rtp_ts);
	if (r->have_transit) {
		/* Hostile timestamps make any difference: wrap, never overflow.
		 */
		int32_t d = (int32_t)((uint32_t)transit - (uint32_t)r->transit);
		uint32_t ad = d < 0 ? -(uint32_t)d : (uint32_t)d;
		r->jitter16 += ad - ((r->jitter16 + 8) >> 4);
	}
	r->transit = transit;
	r->have_transit = true;
}

/* ---- receive ------------------------------------------------------------- */

/* What the jitter buffer said about a packet: late (its time was played
 * out) or discarded (duplicate, out of reach, too large). */
static void count_refused(struct stream *s, int err)
{
	if (err == -EBADMSG)
		s->st.late++;
	else if (err < 0)
		s->st.discarded++;
}

static void on_rtp(struct stream *s, const uint8_t *buf, size_t len,
		   uint64_t now_ns)
{
	struct rtppkt pkt;
	if (rtppkt_parse(&pkt, buf, len) < 0) {
		s->st.malformed++;
		return;
	}
	bool te = s->p.te_pt >= 0 && pkt.pt == s->p.te_pt;
	bool cn = s->p.cn_pt && pkt.pt == s->p.cn_pt && pkt.pt != s->p.pt;
	if (pkt.pt != s->p.pt && !te && !cn) {
		s->st.malformed++;
		return;
	}
	s->st.packets_in++;
	s->st.bytes_in += len;

	/* A restart begins a new count of losses: keep the old one. */
	int32_t lost = stream_rx_cum_lost(&s->src);
	bool restart = false;
	if (!s->src.valid || pkt.ssrc != s->src.ssrc) {
		if (s->src.valid)
			restart = true;
		source_new(&s->src, pkt.ssrc, pkt.seq);
	}
	if (!seq_update(&s->src, pkt.seq, &restart))
		return;
	if (restart) {
		s->lost_before += lost > 0 ? (uint64_t)lost : 0;
		jbuf_reset(s->m.jb);
		stream_dtmf_restart(s);
	}
	if (te) {
		stream_dtmf_event(s, &pkt, now_ns); /* keys, never mixed */
		return;
	}
	jitter_update(&s->src, pkt.ts,
		      arrival_ts(now_ns, s->m.desc->rtp_clock_hz));
	pkt.tag = stream_quiet_tag(s, &pkt, cn); /* level, CN: stream_quiet.c */
	if (!s->p.recv)
		return;
	if (stream_quiet_absorb(s, &pkt))
		return;
	int err = jbuf_put(s->m.jb, &pkt);
	/* Too late to play, not too late for G.722's decoder to catch up
	 * on: the packets after it then decode cleanly. */
	if (err == -EBADMSG && s->m.desc->id == CODEC_G722 &&
	    jbuf_late_follows(s->m.jb, &pkt))
		(void)codec_catch_up(s->m.codec, pkt.payload,
				     pkt.payload_bytes);
	count_refused(s, err);
}

static void on_rtcp(struct stream *s, const uint8_t *buf, size_t len,
		    uint64_t now_ns)
{
	struct rtcpkt_info info;
	if (rtcpkt_parse(&info, buf, len) < 0) {
		s->st.malformed++;
		return;
	}
	if (info.has_sr) {
		s->lsr = (uint32_t)(info.ntp >> 16);
		s->lsr_at_ns = now_ns;
	}
	stream_tx_report(s, &info, now_ns);
}

/* ---- where packets may come from ------------------------------------------
 *
 * Only the negotiated address is heard (the "RTP bleed" attack: anyone who
 * finds the port could otherwise be mixed into the room). A caller behind
 * NAT sends from an address its SDP does not name: within the first
 * LATCH_WINDOW_NS, and only until the negotiated address has been heard, a
 * source may be latched if two of its packets in a row have one SSRC and
 * consecutive sequence numbers (RFC 3550 A.1's probation) or, with SRTP,
 * if one of them authenticates, which only the peer can make happen. */

#define LATCH_WINDOW_NS 10000000000ull

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
	if (a->ss_family == AF_INET)
		((struct sockaddr_in *)a)->sin_port = htons(port);
	else if (a->ss_family == AF_INET6)
		((struct sockaddr_in6 *)a)->sin6_port = htons(port);
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

static void latch_to(struct stream *s, const struct sockaddr_storage *from)
{
	s->p.rtp_peer = *from;
	s->p.rtcp_peer = *from;
	if (!s->p.rtcp_mux)
		set_port(&s->p.rtcp_peer, (uint16_t)(port_of(from) + 1));
	s->peer_heard = true;
	s->have_cand = false;
	s->st.latched++;
}

/* An RTP packet from a source other than the peer: true when it latches
 * (the packet, unprotected if SRTP, is then the peer's). */
static bool may_latch(struct stream *s, const struct sockaddr_storage *from,
		      uint8_t *buf, size_t *len, size_t cap, uint64_t now_ns)
{
	if (s->peer_heard || now_ns > s->latch_until_ns)
		return false;
	if (s->srtp_rx) {
		size_t n = *len;
		if (srtpctx_rtp(s->srtp_rx, buf, &n, cap) < 0)
			return false;
		*len = n;
		latch_to(s, from);
		return true;
	}
	struct rtppkt pkt;
	if (rtppkt_parse(&pkt, buf, *len) < 0)
		return false;
	if (s->have_cand && addr_same(from, &s->cand, true) &&
	    pkt.ssrc == s->cand_ssrc &&
	    pkt.seq == (uint16_t)(s->cand_seq + 1)) {
		latch_to(s, from);
		return true;
	}
	s->have_cand = true;
	s->cand = *from;
	s->cand_ssrc = pkt.ssrc;
	s->cand_seq = pkt.seq;
	return false;
}

/* When the kernel took the packet in, on the monotonic clock: its
 * SO_TIMESTAMPNS (wall clock) moved by how long ago that was. A stamp
 * missing, from the future or over ARRIVAL_MAX_AGE_NS old (the wall clock
 * was set meanwhile) gives the time of the read. */
static uint64_t arrival_ns(struct msghdr *h, uint64_t now_ns,
			   const struct timespec *wall)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPNS ||
		    c->cmsg_len < CMSG_LEN(sizeof(struct timespec)))
			continue;
		struct timespec t;
		memcpy(&t, CMSG_DATA(c), sizeof(t));
		int64_t age = (int64_t)(wall->tv_sec - t.tv_sec) * 1000000000 +
			      (wall->tv_nsec - t.tv_nsec);
		if (age < 0 || age > ARRIVAL_MAX_AGE_NS ||
		    (uint64_t)age > now_ns)
			return now_ns;
		return now_ns - (uint64_t)age;
	}
	return now_ns;
}

/* Where a thread's reads land: one area per thread that reads streams (a
 * room's mixer thread), not one per stream, as every packet is handled
 * before its read returns (jbuf_put copies what it keeps). In a big room
 * a stream's own area, 14 KB each, was cold at every read: some fifteen
 * cache lines missed per packet, where this one stays in the cache. */
struct rx_area {
	bool ready;
	struct mmsghdr msg[STREAM_BATCH];
	struct iovec iov[STREAM_BATCH];
	struct sockaddr_storage from[STREAM_BATCH];
	/* each packet's SO_TIMESTAMPNS: when the kernel took it in */
	char ctl[STREAM_BATCH][CMSG_SPACE(sizeof(struct timespec))];
	uint8_t buf[STREAM_BATCH][RTPPKT_MAX_BYTES];
};

static _Thread_local struct rx_area rxa;

/* The batch's headers, ready for the kernel to fill again. */
static struct mmsghdr *rx_area_reset(void)
{
	for (int i = 0; i < STREAM_BATCH; i++) {
		struct msghdr *h = &rxa.msg[i].msg_hdr;
		if (!rxa.ready) {
			rxa.iov[i] =
			    (struct iovec){rxa.buf[i], sizeof(rxa.buf[i])};
			h->msg_name = &rxa.from[i];
			h->msg_iov = &rxa.iov[i];
			h->msg_iovlen = 1;
			h->msg_control = rxa.ctl[i];
		}
		h->msg_namelen = sizeof(rxa.from[i]);
		h->msg_controllen = sizeof(rxa.ctl[i]);
		h->msg_flags = 0;
	}
	rxa.ready = true;
	return rxa.msg;
}

/* Drains fd in batches until it would block (or MAX_BATCHES: a flood must
 * not starve the tick; level-triggered epoll or the next tick reads the
 * rest). Each packet counts as arriving when the kernel took it in. */
static void drain(struct stream *s, int fd, bool rtcp_fd, uint64_t now_ns)
{
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	for (int b = 0; b < MAX_BATCHES; b++) {
		struct mmsghdr *msg = rx_area_reset();
		int n = recvmmsg(fd, msg, STREAM_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
			continue;
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			uint64_t at_ns =
			    arrival_ns(&msg[i].msg_hdr, now_ns, &wall);
			uint8_t *buf = rxa.buf[i];
			const struct sockaddr_storage *from = &rxa.from[i];
			size_t len = msg[i].msg_len;
			bool rtcp = rtcp_fd ||
				    (s->p.rtcp_mux && rtppkt_is_rtcp(buf, len));
			bool from_peer =
			    addr_same(from, &s->p.rtp_peer, !rtcp) ||
			    (rtcp && addr_same(from, &s->p.rtcp_peer, false));
			if (!s->latch_until_ns)
				s->latch_until_ns = at_ns + LATCH_WINDOW_NS;
			bool truncated = msg[i].msg_hdr.msg_flags & MSG_TRUNC;
			/* a latched packet is the peer's, already unprotected
			 */
			bool latched = !from_peer && !rtcp && !truncated &&
				       may_latch(s, from, buf, &len,
						 sizeof(rxa.buf[i]), at_ns);
			if (!from_peer && !latched)
				s->st.foreign++;
			else if (truncated)
				s->st.malformed++;
			else if (!latched && s->srtp_rx &&
				 (rtcp ? srtpctx_rtcp
				       : srtpctx_rtp)(s->srtp_rx, buf, &len,
						      sizeof(rxa.buf[i])) < 0)
				s->st.srtp_failed++;
			else {
				if (!rtcp)
					s->peer_heard = true;
				s->st.last_rx_ns = at_ns;
				if (rtcp)
					on_rtcp(s, buf, len, at_ns);
				else
					on_rtp(s, buf, len, at_ns);
			}
		}
		if (n < STREAM_BATCH)
			return;
	}
}

void stream_read_rtp(struct stream *s, uint64_t now_ns)
{
	drain(s, s->rtp_fd, false, now_ns);
}

void stream_read_rtcp(struct stream *s, uint64_t now_ns)
{
	if (s->rtcp_fd >= 0)
		drain(s, s->rtcp_fd, true, now_ns);
}

/* ---- pull: jitter buffer -> decode -> 20 ms at the room rate ------------- */

/* Takes whole packets out of the jitter buffer until the FIFO holds want
 * samples or the buffer is empty. */
/* Opus in-band FEC: a lost packet whose successor is here already and
 * carries a copy of it (the successor is decoded again at its turn).
 * True when n samples were recovered into dst.
 *
 * With little jitter the buffer holds nothing beyond the frame due, so
 * the successor of a lost packet comes only after its turn (measured on
 * loopback: 0 of 25 losses of every tenth packet recovered). So once a
 * caller is seen to send FEC, the jitter buffer is told to hold one frame
 * more at its first loss (jbuf_hold_for_fec): 20 ms of delay for that
 * caller only, from then on, and its losses come back from FEC. */
static bool rx_fec(struct stream *s, int16_t *dst, size_t n)
{
	struct media *m = &s->m;
	uint8_t next[JBUF_PEEK_BYTES];
	size_t len;

	if (m->desc->id != CODEC_OPUS)
		return false;
	if (jbuf_peek_next(m->jb, next, sizeof(next), &len) < 0 ||
	    !codec_opus_has_fec(next, len))
		return false;
	if (codec_decode_fec(m->codec, next, len, dst, n) != (int)n)
		return false;
	s->st.fec_recovered++;
	return true;
}

/* One packet's worth (n samples at dst): silence for a DTX or CN packet
 * and the gap after it, or a quiet one (stream_quiet.c), not worth a
 * decode; the decoded payload; lost, the next packet's FEC copy;
 * or, lost or undecodable, concealment. Returns the samples written. */
static size_t rx_packet(struct stream *s, enum jbuf_status st, size_t len,
			int16_t *dst, size_t room)
{
	struct media *m = &s->m;
	size_t n = m->rx_pkt_samples < room ? m->rx_pkt_samples : room;

	if (stream_quiet_take(s, st, len, dst, n))
		return n;
	if (st == JBUF_FRAME) {
		stream_quiet_warm(s, dst, room);
		int got = codec_decode(m->codec, s->payload, len, dst, room);
		if (m->desc->id == CODEC_OPUS && !m->peer_fec &&
		    codec_opus_has_fec(s->payload, len)) {
			m->peer_fec = true;
			jbuf_hold_for_fec(m->jb);
		}
		if (got >= 0) {
			stream_quiet_decoded(s, dst, (size_t)got);
			return (size_t)got;
		}
		s->st.malformed++;
	} else if (st == JBUF_MISSING && rx_fec(s, dst, n)) {
		return n;
	}
	if (codec_conceal(m->codec, dst, n) < 0)
		memset(dst, 0, n * sizeof(*dst));
	s->st.concealed++;
	m->concealed = true;
	return n;
}

static void rx_fill(struct stream *s, size_t want)
{
	struct media *m = &s->m;

	/* what the buffer jumped over to cut its delay was received, and
	 * never played: discarded */
	s->st.discarded += jbuf_take_skipped(m->jb);

	for (int i = 0; i < 8 && m->rx.len < want; i++) {
		size_t len = 0;
		enum jbuf_status st =
		    jbuf_get(m->jb, s->payload, sizeof(s->payload), &len);
		if (st == JBUF_EMPTY)
			return;
		m->rx.len += rx_packet(s, st, len, m->rx.buf + m->rx.len,
				       m->rx.cap - m->rx.len);
	}
}

const int16_t *stream_pull_codec(struct stream *s, size_t *n)
{
	struct media *m = &s->m;
	size_t fn = m->desc->pcm_rate_hz / 50;

	m->converted_before = m->converted;
	m->converted = false;
	m->has_frame = false;
	m->concealed = false;
	stream_quiet_pull(s);
	if (s->p.recv)
		rx_fill(s, fn);
	if (!s->p.recv || m->rx.len == 0) {
		if (!s->p.recv || !stream_dtmf_drain(s, m->frame, fn))
			return NULL;
		m->has_frame = true;
		*n = fn;
		return m->frame;
	}
	if (m->rx.len < fn) {
		memset(m->rx.buf + m->rx.len, 0,
		       (fn - m->rx.len) * sizeof(int16_t));
		m->rx.len = fn;
	}
	memcpy(m->frame, m->rx.buf, fn * sizeof(*m->frame));
	stream_fifo_take(&m->rx, fn);
	/* In-band keys are heard here, and the frame handed on is the one
	 * held back 40 ms, silenced around a key (stream_dtmf.c): what the
	 * talker detector and the mix see never carries a key tone. */
	stream_dtmf_inband(s, m->frame, fn, m->concealed);
	m->has_frame = true;
	*n = fn;
	return m->frame;
}

void stream_pull_room(struct stream *s, int16_t *pcm)
{
	struct media *m = &s->m;
	size_t out_n = s->room_rate_hz / 50;

	if (!m->has_frame) {
		memset(pcm, 0, out_n * sizeof(*pcm));
		return;
	}
	if (!m->converted_before)
		resamp_reset(m->rs_in);
	resamp_exact(m->rs_in, m->frame, m->desc->pcm_rate_hz / 50, pcm, out_n);
	m->converted = true;
}

void stream_pull_room_next(struct stream *s, int16_t *pcm)
{
	struct media *m = &s->m;

	if (!m->next_hz)
		return;
	if (!m->has_frame) {
		memset(pcm, 0, m->next_hz / 50 * sizeof(*pcm));
		return;
	}
	resamp_exact(m->rs_in_next, m->frame, m->desc->pcm_rate_hz / 50, pcm,
		     m->next_hz / 50);
}

int stream_pull(struct stream *s, int16_t *pcm)
{
	size_t n;
	const int16_t *f = stream_pull_codec(s, &n);

	stream_pull_room(s, pcm);
	return f != NULL;
}
