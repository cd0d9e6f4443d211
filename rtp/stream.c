/* stream.c: one participant's media: the RTP socket in, 20 ms PCM frames at
 * the room rate out to the mixer, the mix back out as RTP, and RTCP.
 *
 * Threads and ownership: the signalling thread builds a stream and frees it;
 * in between, the room's mixer thread alone calls it. The stream uses the
 * two sockets but does not own them. All buffers are allocated when the
 * stream (or a new codec) is set up, never per packet or per frame.
 *
 * Receive: the socket is drained with recvmmsg. Only the negotiated peer's
 * address and port are accepted ("foreign" packets are counted and dropped),
 * then the payload type decides: the codec's packets go to the jitter
 * buffer, telephone-event packets are dropped (DTMF never reaches the mix)
 * and anything else is counted as malformed. Sequence, loss and jitter
 * statistics follow RFC 3550 A.1, A.3 and A.8.
 *
 * Packet times other than 20 ms: the jitter buffer is built with the
 * negotiated ptime as its frame, and stream_pull() keeps a small PCM FIFO at
 * the codec's rate. Each pull takes whole packets out of the jitter buffer
 * (decoded, or concealed when lost) until the FIFO holds 20 ms, and then
 * takes exactly 20 ms out of it. With 20 ms packets this is one packet per
 * pull; with 30 ms it is two packets every three pulls; a packet longer than
 * negotiated simply fills the FIFO for longer.
 *
 * Send: the mix is resampled to the codec rate into a second FIFO and sent
 * one packet per ptime. The RTP timestamp advances by 20 ms on every push,
 * sent or not, so that a resume after hold continues in time; the marker bit
 * flags the first packet and the first after a resume. RTCP (an SR once we
 * have sent, else an RR; one report block for the peer) goes out every 5 s,
 * randomized 0.5-1.5x as RFC 3550 6.2 asks. */
#include "rtp/rtp.h"

#include "core/core.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define BATCH		 8
#define MAX_BATCHES	 16 /* per wake-up; epoll says again if more is left */
#define JBUF_MAX_MS	 200
#define RX_FIFO_MS	 160 /* 120 ms packets (Opus' longest) plus 20 ms */
#define TX_FIFO_MS	 80  /* 60 ms ptime plus one 20 ms frame */
#define RTCP_INTERVAL_NS 5000000000ull
#define NTP_UNIX_OFFSET	 2208988800ull
#define SEQ_MOD		 65536u
#define MAX_DROPOUT	 3000
#define MAX_MISORDER	 100
#define MIN_SEQUENTIAL	 2
#define RTP_HDR_MAX	 (12 + 4 * RTPPKT_MAX_CSRC)

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
	struct resamp *rs_in, *rs_out; /* NULL when no rate change */
	struct fifo rx, tx;
	size_t rx_pkt_samples; /* one negotiated ptime at the codec rate */
	size_t tx_pkt_samples;
};

struct stream {
	int rtp_fd, rtcp_fd;
	uint32_t room_rate_hz, local_ssrc;
	struct stream_params p;
	struct media m;
	struct source src;
	struct stream_stats st;

	uint16_t seq;
	uint32_t ts; /* RTP time of the next 20 ms pushed */
	bool marker;
	uint32_t octets_out;
	uint64_t next_rtcp_ns;
	uint32_t lsr; /* middle of the last SR's NTP time; 0: none */
	uint64_t lsr_at_ns;
	uint64_t rng;
	char cname[32];

	uint8_t pkt[RTPPKT_MAX_BYTES];
	uint8_t payload[RTPPKT_MAX_BYTES];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	uint8_t rxbuf[BATCH][RTPPKT_MAX_BYTES];
};

/* ---- helpers ------------------------------------------------------------- */

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return sizeof(struct sockaddr_in);
	if (a->ss_family == AF_INET6)
		return sizeof(struct sockaddr_in6);
	return 0;
}

/* The IPv4 address of a (mapped addresses included) in *v4, or false. */
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

static uint32_t rng_next(struct stream *s)
{
	/* xorshift64*: plenty for intervals; never blocks. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (uint32_t)((s->rng * 2685821657736338717ull) >> 32);
}

static void fifo_take(struct fifo *f, size_t n)
{
	n = n < f->len ? n : f->len;
	memmove(f->buf, f->buf + n, (f->len - n) * sizeof(*f->buf));
	f->len -= n;
}

/* Resamples (or copies) in_n samples to exactly out_n; a short result from
 * the resampler is padded with silence. */
static void resample(struct resamp *r, const int16_t *in, size_t in_n,
		     int16_t *out, size_t out_n)
{
	int got = (int)(in_n < out_n ? in_n : out_n);
	if (r)
		got = resamp_run(r, in, in_n, out, out_n);
	else
		memcpy(out, in, (size_t)got * sizeof(*out));
	if (got < 0)
		got = 0;
	if ((size_t)got < out_n)
		memset(out + got, 0, (out_n - (size_t)got) * sizeof(*out));
}

/* ---- codec-dependent state ----------------------------------------------- */

static uint32_t rx_ptime(const struct stream_params *p)
{
	if (p->ptime_ms < 10)
		return 20;
	return p->ptime_ms > 60 ? 60 : p->ptime_ms;
}

/* Opus encodes 10, 20, 40 or 60 ms frames; G.711 any multiple of 10 ms. */
static uint32_t tx_ptime(const struct stream_params *p)
{
	uint32_t ms = rx_ptime(p) / 10 * 10;
	if (p->codec == CODEC_OPUS && ms != 10 && ms != 40 && ms != 60)
		return 20;
	return ms;
}

static void media_free(struct media *m)
{
	codec_free(m->codec);
	jbuf_free(m->jb);
	resamp_free(m->rs_in);
	resamp_free(m->rs_out);
	free(m->rx.buf);
	free(m->tx.buf);
	memset(m, 0, sizeof(*m));
}

static int media_new(struct media *m, const struct stream_params *p,
		     uint32_t room_hz)
{
	memset(m, 0, sizeof(*m));
	m->desc = codec_by_id(p->codec);
	if (!m->desc || p->pt > 127)
		return -EINVAL;
	uint32_t pcm_hz = m->desc->pcm_rate_hz;
	uint32_t clk = m->desc->rtp_clock_hz;
	m->rx_pkt_samples = pcm_hz / 1000 * rx_ptime(p);
	m->tx_pkt_samples = pcm_hz / 1000 * tx_ptime(p);
	m->rx.cap = pcm_hz / 1000 * RX_FIFO_MS;
	m->tx.cap = pcm_hz / 1000 * TX_FIFO_MS;
	m->rx.buf = calloc(m->rx.cap, sizeof(int16_t));
	m->tx.buf = calloc(m->tx.cap, sizeof(int16_t));
	int err = -ENOMEM;
	if (!m->rx.buf || !m->tx.buf)
		goto fail;
	err = codec_new(&m->codec, p->codec);
	if (!err)
		err = jbuf_new(&m->jb, clk, clk / 1000 * rx_ptime(p),
			       JBUF_MAX_MS);
	if (!err && pcm_hz != room_hz)
		err = resamp_new(&m->rs_in, pcm_hz, room_hz);
	if (!err && pcm_hz != room_hz)
		err = resamp_new(&m->rs_out, room_hz, pcm_hz);
	if (err)
		goto fail;
	return 0;
fail:
	media_free(m);
	return err;
}

/* ---- lifecycle ----------------------------------------------------------- */

int stream_new(struct stream **out, int rtp_fd, int rtcp_fd,
	       uint32_t room_rate_hz, uint32_t local_ssrc,
	       const struct stream_params *p)
{
	if (!out || !p || rtp_fd < 0 || room_rate_hz < 8000 ||
	    room_rate_hz > 48000 || room_rate_hz % 1000)
		return -EINVAL;
	struct stream *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int err = media_new(&s->m, p, room_rate_hz);
	if (err) {
		free(s);
		return err;
	}
	s->rtp_fd = rtp_fd;
	s->rtcp_fd = rtcp_fd;
	s->room_rate_hz = room_rate_hz;
	s->local_ssrc = local_ssrc;
	s->p = *p;
	if (getrandom(&s->rng, sizeof(s->rng), GRND_NONBLOCK) != sizeof(s->rng))
		s->rng = mono_now_ns();
	s->rng ^= (uint64_t)local_ssrc << 32;
	if (!s->rng)
		s->rng = 1;
	s->seq = (uint16_t)rng_next(s);
	s->ts = rng_next(s);
	s->marker = true;
	snprintf(s->cname, sizeof(s->cname), "tutti-%08x%08x", rng_next(s),
		 local_ssrc);
	for (int i = 0; i < BATCH; i++) {
		s->iov[i].iov_base = s->rxbuf[i];
		s->iov[i].iov_len = sizeof(s->rxbuf[i]);
	}
	*out = s;
	return 0;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	media_free(&s->m);
	free(s);
}

int stream_apply(struct stream *s, const struct stream_params *p)
{
	if (!s || !p)
		return -EINVAL;
	if (p->codec != s->p.codec || p->pt != s->p.pt ||
	    p->ptime_ms != s->p.ptime_ms) {
		struct media m;
		int err = media_new(&m, p, s->room_rate_hz);
		if (err)
			return err;
		media_free(&s->m);
		s->m = m;
		s->marker = true;
		s->src.have_transit = false;
	}
	if (p->send && !s->p.send) {
		s->m.tx.len = 0;
		s->marker = true;
	}
	if (p->recv && !s->p.recv) {
		jbuf_reset(s->m.jb);
		s->m.rx.len = 0;
	}
	s->p = *p;
	return 0;
}

int stream_rtp_fd(const struct stream *s)
{
	return s->rtp_fd;
}

int stream_rtcp_fd(const struct stream *s)
{
	return s->rtcp_fd;
}

uint32_t stream_local_ssrc(const struct stream *s)
{
	return s->local_ssrc;
}

uint32_t stream_room_rate_hz(const struct stream *s)
{
	return s->room_rate_hz;
}

bool stream_recv_enabled(const struct stream *s)
{
	return s->p.recv;
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

static int32_t cum_lost(const struct source *r)
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
		int32_t d = transit - r->transit;
		uint32_t ad = d < 0 ? -(uint32_t)d : (uint32_t)d;
		r->jitter16 += ad - ((r->jitter16 + 8) >> 4);
	}
	r->transit = transit;
	r->have_transit = true;
}

/* ---- receive ------------------------------------------------------------- */

static void on_rtp(struct stream *s, const uint8_t *buf, size_t len,
		   uint64_t now_ns)
{
	struct rtppkt pkt;
	if (rtppkt_parse(&pkt, buf, len) < 0) {
		s->st.malformed++;
		return;
	}
	bool te = s->p.te_pt >= 0 && pkt.pt == s->p.te_pt;
	if (pkt.pt != s->p.pt && !te) {
		s->st.malformed++;
		return;
	}
	s->st.packets_in++;
	s->st.bytes_in += len;

	bool restart = false;
	if (!s->src.valid || pkt.ssrc != s->src.ssrc) {
		if (s->src.valid)
			restart = true;
		source_new(&s->src, pkt.ssrc, pkt.seq);
	}
	if (!seq_update(&s->src, pkt.seq, &restart))
		return;
	if (restart)
		jbuf_reset(s->m.jb);
	if (te)
		return; /* RFC 4733 events: not yet handled, never mixed */
	jitter_update(&s->src, pkt.ts,
		      arrival_ts(now_ns, s->m.desc->rtp_clock_hz));
	if (s->p.recv && jbuf_put(s->m.jb, &pkt) < 0)
		s->st.late++;
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
}

/* Drains fd in batches until it would block (or MAX_BATCHES: a flood must
 * not starve the tick; level-triggered epoll reports the rest). */
static void drain(struct stream *s, int fd, bool rtcp_fd, uint64_t now_ns)
{
	for (int b = 0; b < MAX_BATCHES; b++) {
		for (int i = 0; i < BATCH; i++) {
			struct msghdr *h = &s->msg[i].msg_hdr;
			memset(h, 0, sizeof(*h));
			h->msg_name = &s->from[i];
			h->msg_namelen = sizeof(s->from[i]);
			h->msg_iov = &s->iov[i];
			h->msg_iovlen = 1;
		}
		int n = recvmmsg(fd, s->msg, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0 && (errno == EINTR || errno == ECONNREFUSED))
			continue;
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			const uint8_t *buf = s->rxbuf[i];
			size_t len = s->msg[i].msg_len;
			bool rtcp = rtcp_fd ||
				    (s->p.rtcp_mux && rtppkt_is_rtcp(buf, len));
			bool from_peer =
			    addr_same(&s->from[i], &s->p.rtp_peer, !rtcp) ||
			    (rtcp &&
			     addr_same(&s->from[i], &s->p.rtcp_peer, false));
			if (!from_peer)
				s->st.foreign++;
			else if (s->msg[i].msg_hdr.msg_flags & MSG_TRUNC)
				s->st.malformed++;
			else if (rtcp)
				on_rtcp(s, buf, len, now_ns);
			else
				on_rtp(s, buf, len, now_ns);
		}
		if (n < BATCH)
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
static void rx_fill(struct stream *s, size_t want)
{
	struct media *m = &s->m;

	for (int i = 0; i < 8 && m->rx.len < want; i++) {
		size_t len = 0;
		enum jbuf_status st =
		    jbuf_get(m->jb, s->payload, sizeof(s->payload), &len);
		if (st == JBUF_EMPTY)
			return;
		int16_t *dst = m->rx.buf + m->rx.len;
		size_t room = m->rx.cap - m->rx.len;
		int got = -1;
		if (st == JBUF_FRAME)
			got =
			    codec_decode(m->codec, s->payload, len, dst, room);
		if (st == JBUF_FRAME && got < 0)
			s->st.malformed++;
		if (got < 0) {
			size_t n =
			    m->rx_pkt_samples < room ? m->rx_pkt_samples : room;
			if (codec_conceal(m->codec, dst, n) < 0)
				memset(dst, 0, n * sizeof(*dst));
			got = (int)n;
			s->st.concealed++;
		}
		m->rx.len += (size_t)got;
	}
}

int stream_pull(struct stream *s, int16_t *pcm)
{
	struct media *m = &s->m;
	size_t out_n = s->room_rate_hz / 50;
	size_t n = m->desc->pcm_rate_hz / 50;

	if (s->p.recv)
		rx_fill(s, n);
	if (!s->p.recv || m->rx.len == 0) {
		memset(pcm, 0, out_n * sizeof(*pcm));
		return 0;
	}
	if (m->rx.len < n) {
		memset(m->rx.buf + m->rx.len, 0,
		       (n - m->rx.len) * sizeof(int16_t));
		m->rx.len = n;
	}
	resample(m->rs_in, m->rx.buf, n, pcm, out_n);
	fifo_take(&m->rx, n);
	return 1;
}

/* ---- push: 20 ms of mix -> codec rate -> one packet per ptime ------------ */

/* Send errors (a full buffer, ECONNREFUSED from a peer that went away) are
 * counted, never fatal and never logged. */
static bool send_to(struct stream *s, int fd, const struct sockaddr_storage *to,
		    size_t len)
{
	if (sendto(fd, s->pkt, len, MSG_DONTWAIT, (const void *)to,
		   addr_len(to)) < 0) {
		s->st.send_errors++;
		return false;
	}
	return true;
}

static int send_packet(struct stream *s, uint32_t ts, const uint32_t *csrc,
		       unsigned n_csrc)
{
	struct media *m = &s->m;
	int n = codec_encode(m->codec, m->tx.buf, m->tx_pkt_samples, s->payload,
			     sizeof(s->payload) - RTP_HDR_MAX);
	if (n < 0)
		return n;
	struct rtppkt pkt = {
	    .pt = s->p.pt,
	    .marker = s->marker,
	    .seq = s->seq++,
	    .ts = ts,
	    .ssrc = s->local_ssrc,
	    .n_csrc =
		(uint8_t)(n_csrc < RTPPKT_MAX_CSRC ? n_csrc : RTPPKT_MAX_CSRC),
	    .payload = s->payload,
	    .payload_bytes = (size_t)n,
	};
	if (csrc)
		memcpy(pkt.csrc, csrc, pkt.n_csrc * sizeof(*csrc));
	else
		pkt.n_csrc = 0;
	int len = rtppkt_build(s->pkt, sizeof(s->pkt), &pkt);
	if (len < 0)
		return len;
	s->marker = false;
	if (send_to(s, s->rtp_fd, &s->p.rtp_peer, (size_t)len)) {
		s->st.packets_out++;
		s->st.bytes_out += (uint64_t)len;
		s->octets_out += (uint32_t)n;
	}
	return 0;
}

/* Appends 20 ms to the send FIFO and sends every whole ptime in it. */
static int tx_frame(struct stream *s, const int16_t *pcm, const uint32_t *csrc,
		    unsigned n_csrc)
{
	struct media *m = &s->m;
	size_t n = m->desc->pcm_rate_hz / 50;
	if (m->tx.len + n > m->tx.cap)
		m->tx.len = 0;
	resample(m->rs_out, pcm, s->room_rate_hz / 50, m->tx.buf + m->tx.len,
		 n);
	m->tx.len += n;

	uint64_t clk = m->desc->rtp_clock_hz, hz = m->desc->pcm_rate_hz;
	uint32_t end_ts = s->ts + (uint32_t)(n * clk / hz);
	while (m->tx.len >= m->tx_pkt_samples) {
		uint32_t ts = end_ts - (uint32_t)(m->tx.len * clk / hz);
		int err = send_packet(s, ts, csrc, n_csrc);
		fifo_take(&m->tx, m->tx_pkt_samples);
		if (err)
			return err;
	}
	return 0;
}

/* ---- RTCP ---------------------------------------------------------------- */

static uint64_t ntp_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	uint64_t frac = ((uint64_t)t.tv_nsec << 32) / 1000000000ull;
	return ((uint64_t)t.tv_sec + NTP_UNIX_OFFSET) << 32 | frac;
}

/* A.3's report block for the peer; moves the interval marks. */
static void report_block(struct stream *s, struct rtcp_report_block *b,
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
	b->cum_lost = cum_lost(r);
	b->ext_highest_seq = r->cycles + r->max_seq;
	b->jitter = r->jitter16 >> 4;
	if (s->lsr) {
		b->lsr = s->lsr;
		b->dlsr =
		    (uint32_t)(((now_ns - s->lsr_at_ns) << 16) / 1000000000ull);
	}
}

/* An SR while we send (rtcpkt_build makes an RR of packets == 0). */
static void rtcp_send(struct stream *s, uint64_t now_ns)
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
		report_block(s, &in.block[0], now_ns);
	}
	int len = rtcpkt_build(s->pkt, sizeof(s->pkt), &in, s->cname);
	if (len < 0)
		return;
	bool mux = s->p.rtcp_mux || s->rtcp_fd < 0;
	const struct sockaddr_storage *to =
	    mux ? &s->p.rtp_peer : &s->p.rtcp_peer;
	if (addr_len(to))
		send_to(s, mux ? s->rtp_fd : s->rtcp_fd, to, (size_t)len);
}

/* RFC 3550 6.2: the interval times a random factor in [0.5, 1.5). */
static uint64_t rtcp_interval(struct stream *s, uint64_t base_ns)
{
	return base_ns / 2 + base_ns / 1000 * (rng_next(s) % 1000);
}

int stream_push(struct stream *s, const int16_t *pcm, const uint32_t *csrc,
		unsigned n_csrc, uint64_t now_ns)
{
	int err = 0;
	if (s->p.send && addr_len(&s->p.rtp_peer)) {
		err = tx_frame(s, pcm, csrc, n_csrc);
	} else {
		s->m.tx.len = 0;
		s->marker = true;
	}
	s->ts += s->m.desc->rtp_clock_hz / 50;

	if (!s->next_rtcp_ns) {
		s->next_rtcp_ns =
		    now_ns + rtcp_interval(s, RTCP_INTERVAL_NS / 2);
	} else if (now_ns >= s->next_rtcp_ns) {
		rtcp_send(s, now_ns);
		s->next_rtcp_ns = now_ns + rtcp_interval(s, RTCP_INTERVAL_NS);
	}
	return err;
}

void stream_get_stats(const struct stream *s, struct stream_stats *out)
{
	*out = s->st;
	int32_t lost = cum_lost(&s->src);
	out->lost = lost > 0 ? (uint64_t)lost : 0;
	out->jitter_ts = s->src.jitter16 >> 4;
}
