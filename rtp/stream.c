/* stream.c: one participant's media: the RTP socket in, 20 ms PCM frames at
 * the room rate out to the mixer, the mix back out as RTP, and RTCP. This
 * file builds a stream, rebuilds its codec-dependent state when the
 * negotiation changes, answers the accessors and sums up the statistics;
 * rtp/stream_rx.c receives and pulls, rtp/stream_tx.c pushes and sends,
 * and rtp/stream_priv.h holds the struct they share.
 *
 * Threads and ownership: the signalling thread builds a stream and frees it;
 * in between, the room's mixer thread alone calls it. The stream uses the
 * two sockets but does not own them. All buffers are allocated when the
 * stream (or a new codec) is set up, never per packet or per frame. */
#include "rtp/stream_priv.h"

#include "core/core.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#define JBUF_MAX_MS 200
#define RX_FIFO_MS  160 /* 120 ms packets (Opus' longest) plus 20 ms */

/* ---- helpers shared by receive and send ---------------------------------- */

uint32_t stream_rng_next(struct stream *s)
{
	/* xorshift64*: plenty for intervals; never blocks. */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return (uint32_t)((s->rng * 2685821657736338717ull) >> 32);
}

void stream_fifo_take(struct fifo *f, size_t n)
{
	n = n < f->len ? n : f->len;
	memmove(f->buf, f->buf + n, (f->len - n) * sizeof(*f->buf));
	f->len -= n;
}

/* ---- codec-dependent state ----------------------------------------------- */

static uint32_t rx_ptime(const struct stream_params *p)
{
	if (p->ptime_ms < 10)
		return 20;
	return p->ptime_ms > 60 ? 60 : p->ptime_ms;
}

static void media_free(struct media *m)
{
	codec_free(m->codec);
	jbuf_free(m->jb);
	resamp_free(m->rs_in);
	resamp_free(m->rs_in_next);
	txenc_free(m->tx);
	free(m->rx.buf);
	free(m->frame);
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
	m->rx.cap = pcm_hz / 1000 * RX_FIFO_MS;
	m->rx.buf = calloc(m->rx.cap, sizeof(int16_t));
	m->frame = calloc(pcm_hz / 50, sizeof(int16_t));
	int err = -ENOMEM;
	if (!m->rx.buf || !m->frame)
		goto fail;
	err = codec_new_for(&m->codec, p->codec, CODEC_DECODE);
	if (!err)
		err = txenc_new(&m->tx, p->codec, p->ptime_ms, room_hz);
	if (!err)
		err = txenc_set_silence(m->tx, stream_quiet_tx_mode(p));
	if (!err)
		err = jbuf_new(&m->jb, clk, clk / 1000 * rx_ptime(p),
			       JBUF_MAX_MS);
	if (!err && p->codec == CODEC_OPUS) /* in-band FEC */
		err = jbuf_keep_next(m->jb);
	if (!err)
		err = resamp_new_room(&m->rs_in, pcm_hz, room_hz, true, pcm_hz);
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
	if (!out || !p || rtp_fd < 0 ||
	    (room_rate_hz != 8000 && room_rate_hz != 16000 &&
	     room_rate_hz != 48000))
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
	/* Arrival times are the kernel's, so a socket read late (at the
	 * room's tick, or by a busy thread) still tells the true jitter.
	 * Without them (not a socket: tests) the time of the read stands. */
	int on = 1;
	(void)setsockopt(rtp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (rtcp_fd >= 0)
		(void)setsockopt(rtcp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
				 sizeof(on));
	s->room_rate_hz = room_rate_hz;
	s->local_ssrc = local_ssrc;
	err = stream_srtp_apply(s, p);
	if (err) {
		media_free(&s->m);
		free(s);
		return err;
	}
	s->p = *p;
	s->sdp_peer = p->rtp_peer;
	fecloss_init(&s->fec);
	stream_quiet_init(s);
	err = stream_dtmf_setup(s);
	if (err) {
		stream_free(s);
		return err;
	}
	if (getrandom(&s->rng, sizeof(s->rng), GRND_NONBLOCK) != sizeof(s->rng))
		s->rng = mono_now_ns();
	s->rng ^= (uint64_t)local_ssrc << 32;
	if (!s->rng)
		s->rng = 1;
	s->seq = (uint16_t)stream_rng_next(s);
	s->ts = stream_rng_next(s);
	s->marker = true;
	snprintf(s->cname, sizeof(s->cname), "tutti-%08x%08x",
		 stream_rng_next(s), local_ssrc);
	*out = s;
	return 0;
}

void stream_free(struct stream *s)
{
	if (!s)
		return;
	stream_srtp_free(s);
	media_free(&s->m);
	stream_dtmf_free(s);
	free(s);
}

int stream_apply(struct stream *s, const struct stream_params *p)
{
	if (!s || !p)
		return -EINVAL;
	int serr = stream_srtp_apply(s, p);
	if (serr)
		return serr;
	if (p->codec != s->p.codec || p->pt != s->p.pt ||
	    p->ptime_ms != s->p.ptime_ms) {
		struct media m;
		int err = media_new(&m, p, s->room_rate_hz);
		if (err)
			return err;
		media_free(&s->m);
		s->m = m;
		/* the peer's reports still hold: never fails for a valid one */
		(void)txenc_set_fec_loss(s->m.tx, s->fec.perc);
		s->quiet.warm_len = 0; /* another codec's payload */
		s->quiet.gap = false;
		s->marker = true;
		s->src.have_transit = false;
	}
	/* never fails: the mode suits the codec */
	(void)txenc_set_silence(s->m.tx, stream_quiet_tx_mode(p));
	if (p->send && !s->p.send) {
		txenc_drop(s->m.tx);
		s->m.tx_holds = false;
		s->marker = true;
	}
	if (p->recv && !s->p.recv) {
		jbuf_reset(s->m.jb);
		s->m.rx.len = 0;
	}
	bool keys = p->codec != s->p.codec || p->te_pt != s->p.te_pt ||
		    p->te_clock_hz != s->p.te_clock_hz;
	/* A re-offer naming the same address keeps a latched peer (a NATed
	 * caller's hold and resume); a new address starts latching anew. */
	struct sockaddr_storage rtp_peer = s->p.rtp_peer,
				rtcp_peer = s->p.rtcp_peer;
	bool keep = s->st.latched && memcmp(&p->rtp_peer, &s->sdp_peer,
					    sizeof(s->sdp_peer)) == 0;
	s->p = *p;
	s->sdp_peer = p->rtp_peer;
	if (keep) {
		s->p.rtp_peer = rtp_peer;
		s->p.rtcp_peer = rtcp_peer;
	} else if (s->st.latched) {
		s->peer_heard = false;
		s->latch_until_ns = 0;
	}
	/* Without memory for in-band listening the call goes on without. */
	if (keys)
		(void)stream_dtmf_setup(s);
	return 0;
}

/* ---- a change of room rate ---------------------------------------------- */

static void rate_cancel(struct media *m)
{
	resamp_free(m->rs_in_next);
	m->rs_in_next = NULL;
	m->next_hz = 0;
	txenc_rate_cancel(m->tx);
}

int stream_rate_prepare(struct stream *s, uint32_t next_hz)
{
	struct media *m = &s->m;
	uint32_t hz = m->desc->pcm_rate_hz;

	if (m->next_hz == next_hz)
		return 0;
	rate_cancel(m);
	int err = txenc_rate_prepare(m->tx, next_hz);
	if (!err)
		err = resamp_new_room(&m->rs_in_next, hz, next_hz, true, hz);
	if (err) {
		rate_cancel(m);
		return err;
	}
	m->next_hz = next_hz;
	return 0;
}

void stream_rate_warm(struct stream *s, const int16_t *pcm)
{
	txenc_rate_warm(s->m.tx, pcm);
}

int stream_rate_commit(struct stream *s)
{
	struct media *m = &s->m;

	if (!m->next_hz || txenc_rate_commit(m->tx) < 0)
		return -EINVAL;
	resamp_take(&m->rs_in, &m->rs_in_next);
	s->room_rate_hz = m->next_hz;
	m->next_hz = 0;
	return 0;
}

int stream_set_room_rate(struct stream *s, uint32_t hz)
{
	if (!s)
		return -EINVAL;
	if (hz == s->room_rate_hz && !s->m.next_hz)
		return 0;
	int err = stream_rate_prepare(s, hz);
	return err ? err : stream_rate_commit(s);
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

void stream_prefetch(const struct stream *s, bool deep)
{
	if (!s)
		return;
	if (deep) {
		jbuf_prefetch(s->m.jb);
		return;
	}
	/* the hot fields (stream_priv.h): the media and what sending
	 * writes, the statistics, the keys' and silence's heads, the
	 * flags and the peer's address */
	const char *a = (const char *)s;
	for (size_t off = 0; off < offsetof(struct stream, dtmf.ring);
	     off += 64)
		__builtin_prefetch(a + off);
	__builtin_prefetch(&s->quiet);
	__builtin_prefetch(&s->p);
	__builtin_prefetch((const char *)&s->p.rtp_peer + 16);
}

bool stream_recv_enabled(const struct stream *s)
{
	return s->p.recv;
}

/* ---- statistics -------------------------------------------------------- */

void stream_get_stats(const struct stream *s, struct stream_stats *out)
{
	*out = s->st;
	int32_t lost = stream_rx_cum_lost(&s->src);
	out->lost = s->lost_before + (lost > 0 ? (uint64_t)lost : 0);
	out->jitter_ts = s->src.jitter16 >> 4;
	uint64_t us = (uint64_t)out->jitter_ts * 1000000u /
		      s->m.desc->rtp_clock_hz; /* hostile timestamps: huge */
	out->jitter_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}
