/* test_stream.c: the per-participant stream (rtp/stream.c) against a
 * "phone": a pair of UDP sockets on 127.0.0.1 that sends and receives real
 * RTP. The stream's clock is simulated (now_ns advances 20 ms per frame) so
 * that the tests run in milliseconds; tones are judged with a Goertzel
 * filter, as a listener would hear them. */
#include "core/core.h"
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROOM_HZ	   48000
#define ROOM_N	   (ROOM_HZ / 50)
#define AMP	   8000.0
#define PHONE_SSRC 0xfeedbeefu
#define LOCAL_SSRC 0x5eed0001u
#define FRAME_NS   20000000ull

struct phone {
	int rtp, rtcp;
	struct sockaddr_storage rtp_addr, rtcp_addr;
	struct codec *codec;
	enum codec_id id;
	uint16_t seq;
	uint32_t ts;
	uint64_t sample; /* tone phase, in samples at the codec rate */
};

struct rig {
	int rtp, rtcp; /* the stream's sockets */
	struct sockaddr_storage rtp_addr, rtcp_addr;
	struct phone ph;
	struct stream_params p;
	struct stream *s;
	uint64_t now_ns;
};

static void rig_open(struct rig *r, enum codec_id id, uint8_t pt,
		     uint32_t ptime_ms)
{
	memset(r, 0, sizeof(*r));
	r->rtp = unit_udp_socket(&r->rtp_addr);
	r->rtcp = unit_udp_socket(&r->rtcp_addr);
	r->ph.rtp = unit_udp_socket(&r->ph.rtp_addr);
	r->ph.rtcp = unit_udp_socket(&r->ph.rtcp_addr);
	r->ph.id = id;
	r->ph.seq = 1000;
	r->ph.ts = 123456;
	CU_ASSERT_FATAL(codec_new(&r->ph.codec, id) == 0);
	r->p = (struct stream_params){
	    .rtp_peer = r->ph.rtp_addr,
	    .rtcp_peer = r->ph.rtcp_addr,
	    .codec = id,
	    .pt = pt,
	    .te_pt = 101,
	    .ptime_ms = ptime_ms,
	    .send = true,
	    .recv = true,
	};
	CU_ASSERT_FATAL(stream_new(&r->s, r->rtp, r->rtcp, ROOM_HZ, LOCAL_SSRC,
				   &r->p) == 0);
	r->now_ns = 1000000000ull;
}

static void rig_close(struct rig *r)
{
	stream_free(r->s);
	codec_free(r->ph.codec);
	close(r->rtp);
	close(r->rtcp);
	if (r->ph.rtp >= 0)
		close(r->ph.rtp);
	close(r->ph.rtcp);
}

static void sendto_addr(int fd, const void *buf, size_t len,
			const struct sockaddr_storage *to)
{
	ssize_t n = sendto(fd, buf, len, 0, (const struct sockaddr *)to,
			   sizeof(struct sockaddr_in));
	CU_ASSERT((size_t)n == len);
}

/* The phone sends ptime_ms of a tone at f_hz from fd (its own or not). */
static void phone_send_from(struct rig *r, int fd, uint32_t ptime_ms,
			    double f_hz, uint8_t pt)
{
	const struct codec_desc *d = codec_by_id(r->ph.id);
	size_t n = d->pcm_rate_hz / 1000 * ptime_ms;
	int16_t pcm[2880];
	uint8_t payload[1500], pkt[1500];

	unit_sine(pcm, n, f_hz, d->pcm_rate_hz, AMP, r->ph.sample);
	r->ph.sample += n;
	int len = codec_encode(r->ph.codec, pcm, n, payload, sizeof(payload));
	CU_ASSERT_FATAL(len > 0);
	struct rtppkt p = {
	    .pt = pt,
	    .seq = r->ph.seq++,
	    .ts = r->ph.ts,
	    .ssrc = PHONE_SSRC,
	    .payload = payload,
	    .payload_bytes = (size_t)len,
	};
	r->ph.ts += d->rtp_clock_hz / 1000 * ptime_ms;
	int plen = rtppkt_build(pkt, sizeof(pkt), &p);
	CU_ASSERT_FATAL(plen > 0);
	sendto_addr(fd, pkt, (size_t)plen, &r->rtp_addr);
}

static void phone_send(struct rig *r, uint32_t ptime_ms, double f_hz)
{
	phone_send_from(r, r->ph.rtp, ptime_ms, f_hz, r->p.pt);
}

/* Receives one datagram within timeout_ms; returns its length or -1. */
static int recv_wait(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return (int)recv(fd, buf, cap, 0);
}

static void push_tone(struct rig *r, double f_hz, const uint32_t *csrc,
		      unsigned n_csrc, uint64_t *sample)
{
	int16_t pcm[ROOM_N];
	unit_sine(pcm, ROOM_N, f_hz, ROOM_HZ, AMP, *sample);
	*sample += ROOM_N;
	CU_ASSERT(stream_push(r->s, NULL, pcm, csrc, n_csrc, r->now_ns) >= 0);
	r->now_ns += FRAME_NS;
}

/* Runs frames of 20 ms: the phone sends every ptime_ms, the stream reads
 * and pulls; the last keep frames are stored in out. Returns how many of
 * those carried audio. */
static int run_in(struct rig *r, int frames, uint32_t ptime_ms, double f_hz,
		  int16_t *out, int keep)
{
	uint64_t phone_ms = 0;
	int audio = 0;
	int16_t pcm[ROOM_N];

	for (int i = 0; i < frames; i++) {
		while (phone_ms <= (uint64_t)i * 20) {
			phone_send(r, ptime_ms, f_hz);
			phone_ms += ptime_ms;
		}
		stream_read_rtp(r->s, r->now_ns);
		int ret = stream_pull(r->s, pcm);
		r->now_ns += FRAME_NS;
		if (i >= frames - keep) {
			memcpy(out + (size_t)(i - (frames - keep)) * ROOM_N,
			       pcm, sizeof(pcm));
			audio += ret;
		}
	}
	return audio;
}

static void check_tone_in(enum codec_id id, uint8_t pt, uint32_t ptime_ms)
{
	struct rig r;
	enum { FRAMES = 60, KEEP = 20 };
	static int16_t out[KEEP * ROOM_N];

	rig_open(&r, id, pt, ptime_ms);
	int audio = run_in(&r, FRAMES, ptime_ms, 1000, out, KEEP);
	CU_ASSERT_EQUAL(audio, KEEP);
	double a1k = unit_tone_amp(out, KEEP * ROOM_N, 1000, ROOM_HZ);
	double a700 = unit_tone_amp(out, KEEP * ROOM_N, 700, ROOM_HZ);
	CU_ASSERT(a1k > 0.8 * AMP && a1k < 1.2 * AMP);
	CU_ASSERT(a700 < 0.02 * AMP);

	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT(st.packets_in > 0);
	CU_ASSERT_EQUAL(st.lost, 0);
	CU_ASSERT_EQUAL(st.foreign, 0);
	CU_ASSERT_EQUAL(st.malformed, 0);
	if (ptime_ms == 20)
		CU_ASSERT(st.jitter_ts <
			  8);	      /* else arrival is on a 20 ms grid */
	CU_ASSERT(st.concealed <= 3); /* while the buffer settles */
	rig_close(&r);
}

static void test_pcmu_tone_in(void)
{
	check_tone_in(CODEC_PCMU, 0, 20);
}

static void test_ptime_in(void)
{
	check_tone_in(CODEC_PCMU, 0, 10);
	check_tone_in(CODEC_PCMU, 0, 30);
	check_tone_in(CODEC_PCMU, 0, 60);
	/* G.722: a ptime of RTP ticks at 8 kHz, of samples at 16 kHz */
	check_tone_in(CODEC_G722, 9, 10);
	check_tone_in(CODEC_G722, 9, 30);
	check_tone_in(CODEC_G722, 9, 60);
}

struct rx_pkt {
	struct rtppkt p;
	uint8_t buf[1500];
};

static int phone_recv(struct rig *r, struct rx_pkt *x, int timeout_ms)
{
	int n = recv_wait(r->ph.rtp, x->buf, sizeof(x->buf), timeout_ms);
	if (n < 0)
		return -1;
	return rtppkt_parse(&x->p, x->buf, (size_t)n);
}

static void test_pcmu_push(void)
{
	struct rig r;
	uint32_t csrc[2] = {0x11111111, 0x22222222};
	uint64_t sample = 0;
	static int16_t got[40 * 160];
	size_t got_n = 0;
	struct rx_pkt x;

	rig_open(&r, CODEC_PCMU, 0, 20);
	for (int i = 0; i < 40; i++) {
		push_tone(&r, 1000, csrc, 2, &sample);
		CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
		CU_ASSERT_EQUAL(x.p.pt, 0);
		CU_ASSERT_EQUAL(x.p.ssrc, LOCAL_SSRC);
		CU_ASSERT_EQUAL(x.p.n_csrc, 2);
		CU_ASSERT_EQUAL(x.p.csrc[0], csrc[0]);
		CU_ASSERT_EQUAL(x.p.csrc[1], csrc[1]);
		CU_ASSERT_EQUAL(x.p.marker, i == 0);
		CU_ASSERT_EQUAL(x.p.payload_bytes, 160);
		static uint16_t seq0;
		static uint32_t ts0;
		if (i == 0) {
			seq0 = x.p.seq;
			ts0 = x.p.ts;
		}
		CU_ASSERT_EQUAL(x.p.seq, (uint16_t)(seq0 + i));
		CU_ASSERT_EQUAL(x.p.ts, ts0 + 160u * (uint32_t)i);
		int n = codec_decode(r.ph.codec, x.p.payload, x.p.payload_bytes,
				     got + got_n, 160);
		CU_ASSERT_EQUAL(n, 160);
		got_n += 160;
	}
	/* The resampler's start-up delay aside, a clean 1 kHz. */
	double a = unit_tone_amp(got + 1600, got_n - 1600, 1000, 8000);
	CU_ASSERT(a > 0.8 * AMP && a < 1.2 * AMP);

	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.packets_out, 40);
	CU_ASSERT_EQUAL(st.bytes_out, 40 * (12 + 8 + 160));
	rig_close(&r);
}

static void test_ptime_out(void)
{
	struct rig r;
	uint64_t sample = 0;
	struct rx_pkt x;

	rig_open(&r, CODEC_PCMU, 0, 40);
	uint32_t ts0 = 0;
	for (int i = 0; i < 10; i++) {
		push_tone(&r, 1000, NULL, 0, &sample);
		int ret = phone_recv(&r, &x, i % 2 ? 500 : 20);
		if (i % 2 == 0) {
			CU_ASSERT(ret < 0); /* half a packet so far */
			continue;
		}
		CU_ASSERT_FATAL(ret == 0);
		CU_ASSERT_EQUAL(x.p.payload_bytes, 320);
		if (i == 1)
			ts0 = x.p.ts;
		CU_ASSERT_EQUAL(x.p.ts, ts0 + 320u * (uint32_t)(i / 2));
	}
	rig_close(&r);
}

static void test_foreign_and_malformed(void)
{
	struct rig r;
	struct sockaddr_storage other_addr;
	int other = unit_udp_socket(&other_addr);
	int16_t pcm[ROOM_N];
	uint8_t junk[40] = {0x12, 0x34};

	rig_open(&r, CODEC_PCMU, 0, 20);
	/* a junk packet from the peer: the peer is heard, nobody latches */
	sendto_addr(r.ph.rtp, junk, sizeof(junk), &r.rtp_addr);
	stream_read_rtp(r.s, r.now_ns);
	for (int i = 0; i < 5; i++)
		phone_send_from(&r, other, 20, 1000, 0);
	phone_send_from(&r, r.ph.rtp, 20, 1000, 8); /* not negotiated */
	/* "DTMF" that is 20 ms of tone: events spanning far more than 10 s,
	 * malformed (rtp/dtmfev.c) */
	phone_send_from(&r, r.ph.rtp, 20, 1000, 101);
	stream_read_rtp(r.s, r.now_ns);
	CU_ASSERT_EQUAL(stream_pull(r.s, pcm), 0);
	for (size_t i = 0; i < ROOM_N; i++)
		CU_ASSERT_FATAL(pcm[i] == 0);

	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.foreign, 5);
	CU_ASSERT_EQUAL(st.malformed, 3);
	CU_ASSERT_EQUAL(st.packets_in, 1);
	CU_ASSERT_EQUAL(st.latched, 0);
	rig_close(&r);
	close(other);
}

/* A caller behind NAT: its packets come from an address its SDP did not
 * name. Two in sequence from one SSRC latch the stream to that address,
 * in the first seconds only; the SDP's address is foreign from then on. */
static void test_latch(void)
{
	struct rig r;
	struct sockaddr_storage nat_addr;
	int nat = unit_udp_socket(&nat_addr);
	int16_t pcm[ROOM_N];
	uint8_t buf[1500];

	rig_open(&r, CODEC_PCMU, 0, 20);
	phone_send_from(&r, nat, 20, 1000, 0);
	stream_read_rtp(r.s, r.now_ns);
	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.latched, 0); /* one packet is not a source yet */
	CU_ASSERT_EQUAL(st.foreign, 1);
	phone_send_from(&r, nat, 20, 1000, 0);
	stream_read_rtp(r.s, r.now_ns);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.latched, 1);
	CU_ASSERT_EQUAL(st.packets_in, 1);
	/* the kernel's arrival: a moment before the read */
	CU_ASSERT(st.last_rx_ns <= r.now_ns &&
		  st.last_rx_ns + 100000000ull > r.now_ns);
	(void)stream_pull(r.s, pcm);
	/* what we send goes to the latched address */
	uint64_t sample = 0;
	push_tone(&r, 440, NULL, 0, &sample);
	CU_ASSERT(recv_wait(nat, buf, sizeof(buf), 500) > 12);
	/* the SDP's own address is now a stranger */
	phone_send(&r, 20, 1000);
	stream_read_rtp(r.s, r.now_ns);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.foreign, 2);
	CU_ASSERT_EQUAL(st.latched, 1);
	rig_close(&r);
	close(nat);
}

/* Past the window, or with a wrong sequence, nobody latches. */
static void test_no_late_latch(void)
{
	struct rig r;
	struct sockaddr_storage other_addr;
	int other = unit_udp_socket(&other_addr);

	rig_open(&r, CODEC_PCMU, 0, 20);
	phone_send_from(&r, other, 20, 1000, 0);
	r.ph.seq += 5; /* not the next packet of that source */
	phone_send_from(&r, other, 20, 1000, 0);
	stream_read_rtp(r.s, r.now_ns);
	r.now_ns += 11000000000ull; /* the window is the first 10 s */
	phone_send_from(&r, other, 20, 1000, 0);
	phone_send_from(&r, other, 20, 1000, 0);
	stream_read_rtp(r.s, r.now_ns);
	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.latched, 0);
	CU_ASSERT_EQUAL(st.foreign, 4);
	CU_ASSERT_EQUAL(st.packets_in, 0);
	rig_close(&r);
	close(other);
}

static void test_loss_stats(void)
{
	struct rig r;
	int16_t pcm[ROOM_N];

	rig_open(&r, CODEC_PCMU, 0, 20);
	for (int i = 0; i < 20; i++) {
		if (i == 7 || i == 12)
			r.ph.seq++, r.ph.ts += 160, r.ph.sample += 160;
		else
			phone_send(&r, 20, 1000);
		stream_read_rtp(r.s, r.now_ns);
		stream_pull(r.s, pcm);
		r.now_ns += FRAME_NS;
	}
	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.lost, 2);
	CU_ASSERT_EQUAL(st.packets_in, 18);
	CU_ASSERT(st.concealed >= 1);
	rig_close(&r);
}

/* The pull in two steps: the frame at the codec's rate, converted to the
 * room rate only when asked; frames left unconverted in between (a
 * participant not mixed) do not spoil the next conversion. */
static void test_pull_two_steps(void)
{
	struct rig r;
	static int16_t out[ROOM_N];
	size_t n = 0;

	rig_open(&r, CODEC_PCMU, 0, 20);
	for (int i = 0; i < 40; i++) {
		phone_send(&r, 20, 1000);
		stream_read_rtp(r.s, r.now_ns);
		const int16_t *f = stream_pull_codec(r.s, &n);
		r.now_ns += FRAME_NS;
		if (i < 5)
			continue; /* the jitter buffer settles */
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_EQUAL(n, 160);
		CU_ASSERT(unit_tone_amp(f, n, 1000, 8000) > 0.8 * AMP);
		if (i % 10 < 7)
			continue; /* not mixed: not converted */
		stream_pull_room(r.s, out);
		/* The first frame after a gap starts from a reset converter:
		 * judge its second half. */
		double a =
		    unit_tone_amp(out + ROOM_N / 2, ROOM_N / 2, 1000, ROOM_HZ);
		CU_ASSERT(a > 0.8 * AMP && a < 1.2 * AMP);
	}
	/* Nothing received: no frame, and the room rate gets silence. */
	for (int i = 0; i < 12; i++) {
		stream_read_rtp(r.s, r.now_ns);
		stream_pull_codec(r.s, &n);
		r.now_ns += FRAME_NS;
	}
	CU_ASSERT_PTR_NULL(stream_pull_codec(r.s, &n));
	stream_pull_room(r.s, out);
	CU_ASSERT(unit_rms(out, ROOM_N) == 0);
	rig_close(&r);
}

/* One 20 ms step: the phone sends packet k of its timeline (or nothing
 * when k < 0), the stream reads and pulls. */
static void step_send(struct rig *r, int k, uint16_t seq0, uint32_t ts0)
{
	int16_t pcm[ROOM_N];

	if (k >= 0) {
		r->ph.seq = (uint16_t)(seq0 + k);
		r->ph.ts = ts0 + 160u * (uint32_t)k;
		phone_send(r, 20, 1000);
	}
	stream_read_rtp(r->s, r->now_ns);
	stream_pull(r->s, pcm);
	r->now_ns += FRAME_NS;
}

/* Losses are counted over a restart of the sender (a sequence jump); a
 * packet that comes after its time is late, and counted as received; a
 * copy is discarded, and also counted as received (RFC 3550 6.4.1); jitter
 * comes in microseconds too. */
static void test_loss_over_restart(void)
{
	struct rig r;
	struct stream_stats st;

	rig_open(&r, CODEC_PCMU, 0, 20);
	for (int k = 0; k < 10; k++)
		step_send(&r, k == 3 ? -1 : k, 1000, 5000);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.lost, 1);

	/* The sender restarts 20000 further on; its packet 5 is missing,
	 * then comes once its time has been played. */
	for (int k = 0; k < 12; k++)
		step_send(&r, k == 5 ? -1 : k, 21000, 9000);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.lost, 2);
	CU_ASSERT_EQUAL(st.late + st.discarded, 0);
	step_send(&r, 5, 21000, 9000);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.lost, 1);
	CU_ASSERT_EQUAL(st.late, 1);
	CU_ASSERT_EQUAL(st.discarded, 0);
	step_send(&r, 11, 21000, 9000);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.lost, 1); /* the first sender's loss stays */
	CU_ASSERT_EQUAL(st.late, 1);
	CU_ASSERT_EQUAL(st.discarded, 1);
	CU_ASSERT_EQUAL(st.packets_in, 9 + 11 + 1 + 1);
	CU_ASSERT(st.concealed >= 2);
	CU_ASSERT_EQUAL(st.jitter_us, st.jitter_ts * 125); /* 8 kHz clock */
	rig_close(&r);
}

static void test_hold_resume(void)
{
	struct rig r;
	uint64_t sample = 0;
	struct rx_pkt x;

	rig_open(&r, CODEC_PCMU, 0, 20);
	push_tone(&r, 1000, NULL, 0, &sample);
	CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
	uint32_t ts0 = x.p.ts;
	uint16_t seq0 = x.p.seq;

	struct stream_params hold = r.p;
	hold.send = false;
	CU_ASSERT(stream_apply(r.s, &hold) == 0);
	for (int i = 0; i < 10; i++)
		push_tone(&r, 1000, NULL, 0, &sample);
	CU_ASSERT(phone_recv(&r, &x, 50) < 0);

	CU_ASSERT(stream_apply(r.s, &r.p) == 0);
	push_tone(&r, 1000, NULL, 0, &sample);
	CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
	CU_ASSERT(x.p.marker);
	CU_ASSERT_EQUAL(x.p.seq, (uint16_t)(seq0 + 1));
	CU_ASSERT_EQUAL(x.p.ts, ts0 + 11 * 160);
	push_tone(&r, 1000, NULL, 0, &sample);
	CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
	CU_ASSERT(!x.p.marker);
	rig_close(&r);
}

static void test_recv_off(void)
{
	struct rig r;
	int16_t pcm[ROOM_N];

	rig_open(&r, CODEC_PCMU, 0, 20);
	struct stream_params p = r.p;
	p.recv = false;
	CU_ASSERT(stream_apply(r.s, &p) == 0);
	CU_ASSERT(!stream_recv_enabled(r.s));
	for (int i = 0; i < 10; i++) {
		phone_send(&r, 20, 1000);
		stream_read_rtp(r.s, r.now_ns);
		CU_ASSERT_EQUAL(stream_pull(r.s, pcm), 0);
	}
	rig_close(&r);
}

static void test_opus_round_trip(void)
{
	struct rig r;
	enum { FRAMES = 50, KEEP = 20 };
	static int16_t out[KEEP * ROOM_N];
	static int16_t got[40 * 960];
	uint64_t sample = 0;
	struct rx_pkt x;

	rig_open(&r, CODEC_OPUS, 111, 20);
	CU_ASSERT_EQUAL(run_in(&r, FRAMES, 20, 1000, out, KEEP), KEEP);
	double a = unit_tone_amp(out, KEEP * ROOM_N, 1000, ROOM_HZ);
	CU_ASSERT(a > 0.7 * AMP && a < 1.3 * AMP);

	uint32_t ts0 = 0;
	for (int i = 0; i < 40; i++) {
		push_tone(&r, 700, NULL, 0, &sample);
		CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
		CU_ASSERT_EQUAL(x.p.pt, 111);
		if (i == 0)
			ts0 = x.p.ts;
		CU_ASSERT_EQUAL(x.p.ts, ts0 + 960u * (uint32_t)i);
		int n = codec_decode(r.ph.codec, x.p.payload, x.p.payload_bytes,
				     got + i * 960, 960);
		CU_ASSERT_EQUAL(n, 960);
	}
	a = unit_tone_amp(got + 20 * 960, 20 * 960, 700, 48000);
	CU_ASSERT(a > 0.7 * AMP && a < 1.3 * AMP);
	rig_close(&r);
}

/* Opus DTX: packets of one byte (a TOC, no frame) are silence, counted,
 * not decoded and not concealed. */
static void test_opus_dtx(void)
{
	struct rig r;
	enum { FRAMES = 30, KEEP = 5 };
	static int16_t out[KEEP * ROOM_N];
	struct stream_stats st;
	uint8_t pkt[64], toc = 0x78; /* CELT fullband 20 ms, one frame */

	rig_open(&r, CODEC_OPUS, 111, 20);
	CU_ASSERT_EQUAL(run_in(&r, FRAMES, 20, 1000, out, KEEP), KEEP);
	stream_get_stats(r.s, &st);
	uint64_t concealed = st.concealed;
	for (int i = 0; i < 20; i++) {
		struct rtppkt p = {.pt = 111,
				   .seq = r.ph.seq++,
				   .ts = r.ph.ts,
				   .ssrc = PHONE_SSRC,
				   .payload = &toc,
				   .payload_bytes = 1};
		r.ph.ts += 960;
		int len = rtppkt_build(pkt, sizeof(pkt), &p);
		sendto_addr(r.ph.rtp, pkt, (size_t)len, &r.rtp_addr);
		stream_read_rtp(r.s, r.now_ns);
		size_t n = 0;
		const int16_t *f = stream_pull_codec(r.s, &n);
		r.now_ns += FRAME_NS;
		if (i < 5)
			continue; /* the tone still in the buffer */
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_EQUAL(n, 960);
		CU_ASSERT(unit_rms(f, n) == 0);
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT(st.dtx >= 15);
	CU_ASSERT_EQUAL(st.concealed, concealed);
	CU_ASSERT_EQUAL(st.malformed, 0);
	rig_close(&r);
}

/* Opus in-band FEC: the phone's packets carry FEC (our encoder codes it)
 * and run one packet ahead of the pulls; packet 15 is lost, and packet
 * 16, already buffered, gives it back: counted as recovered, not as
 * concealed, and the tone goes on at its level. G.722 meanwhile runs its
 * RTP clock at 8 kHz: 160 ticks a 20 ms packet of 320 samples. */
static void test_opus_fec(void)
{
	struct rig r;
	struct stream_stats st;
	int16_t pcm[ROOM_N];
	double lvl[30];

	rig_open(&r, CODEC_OPUS, 111, 20);
	phone_send(&r, 20, 400);
	for (int k = 1; k < 30; k++) {
		if (k + 1 != 16) { /* packet 15 of the sends (k from 0) */
			phone_send(&r, 20, 400);
		} else { /* encoded, lost on the way */
			int16_t lost[960];
			uint8_t pay[1500];
			unit_sine(lost, 960, 400, 48000, AMP, r.ph.sample);
			CU_ASSERT(codec_encode(r.ph.codec, lost, 960, pay,
					       sizeof(pay)) > 0);
			r.ph.seq++;
			r.ph.ts += 960;
			r.ph.sample += 960;
		}
		stream_read_rtp(r.s, r.now_ns);
		stream_pull(r.s, pcm);
		lvl[k] = unit_tone_amp(pcm, ROOM_N, 400, ROOM_HZ);
		r.now_ns += FRAME_NS;
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.lost, 1);
	CU_ASSERT_EQUAL(st.fec_recovered, 1);
	CU_ASSERT_EQUAL(st.concealed, 0);
	for (int k = 8; k < 30; k++)
		CU_ASSERT(lvl[k] > AMP * 0.6);
	rig_close(&r);
}

static void test_g722_clock(void)
{
	struct rig r;
	enum { FRAMES = 20, KEEP = 5 };
	static int16_t out[KEEP * ROOM_N];
	uint8_t buf[1500];

	rig_open(&r, CODEC_G722, 9, 20);
	CU_ASSERT_EQUAL(run_in(&r, FRAMES, 20, 1000, out, KEEP), KEEP);
	for (int i = 0; i < KEEP; i++)
		CU_ASSERT_DOUBLE_EQUAL(
		    unit_tone_amp(out + i * ROOM_N, ROOM_N, 1000, ROOM_HZ), AMP,
		    AMP * 0.15);
	/* what we send: PT 9, 160 bytes, timestamps 160 apart */
	uint64_t sample = 0;
	uint32_t ts[2];
	for (int i = 0; i < 2; i++) {
		push_tone(&r, 1000, NULL, 0, &sample);
		int n = recv_wait(r.ph.rtp, buf, sizeof(buf), 1000);
		struct rtppkt p;
		CU_ASSERT_FATAL(n > 0 && rtppkt_parse(&p, buf, (size_t)n) == 0);
		CU_ASSERT_EQUAL(p.pt, 9);
		CU_ASSERT_EQUAL(p.payload_bytes, 160);
		ts[i] = p.ts;
	}
	CU_ASSERT_EQUAL(ts[1] - ts[0], 160);
	rig_close(&r);
}

static int phone_rtcp(struct rig *r, struct rtcpkt_info *info, int ms)
{
	uint8_t buf[1500];
	int n = recv_wait(r->ph.rtcp, buf, sizeof(buf), ms);
	if (n < 0)
		return -1;
	return rtcpkt_parse(info, buf, (size_t)n);
}

static void test_rtcp(void)
{
	struct rig r;
	int16_t pcm[ROOM_N];
	struct rtcpkt_info info;
	int reports = 0;

	rig_open(&r, CODEC_PCMU, 0, 20);
	/* The phone's SR, for our LSR. */
	struct rtcpkt_info sr = {
	    .ssrc = PHONE_SSRC,
	    .ntp = 0x0123456789abcdefull,
	    .packets = 10,
	    .octets = 1600,
	};
	uint8_t buf[200];
	int len = rtcpkt_build(buf, sizeof(buf), &sr, "phone");
	CU_ASSERT_FATAL(len > 0);
	sendto_addr(r.ph.rtcp, buf, (size_t)len, &r.rtcp_addr);
	stream_read_rtcp(r.s, r.now_ns);

	/* 8 s of simulated media: one RTCP report at least every 7.5 s. */
	for (int i = 0; i < 400; i++) {
		phone_send(&r, 20, 1000);
		stream_read_rtp(r.s, r.now_ns);
		stream_pull(r.s, pcm);
		CU_ASSERT(stream_push(r.s, NULL, pcm, NULL, 0, r.now_ns) >= 0);
		r.now_ns += FRAME_NS;
		while (phone_rtcp(&r, &info, 0) == 0) {
			reports++;
			CU_ASSERT(info.has_sr);
			CU_ASSERT_EQUAL(info.ssrc, LOCAL_SSRC);
			CU_ASSERT_EQUAL_FATAL(info.n_blocks, 1);
			CU_ASSERT_EQUAL(info.block[0].ssrc, PHONE_SSRC);
			CU_ASSERT_EQUAL(info.block[0].lsr, 0x456789ab);
			CU_ASSERT(info.block[0].dlsr > 0);
			CU_ASSERT_EQUAL(info.block[0].cum_lost, 0);
		}
		struct rx_pkt x;
		while (phone_recv(&r, &x, 0) == 0)
			;
	}
	CU_ASSERT(reports >= 1 && reports <= 8);
	rig_close(&r);
}

static void test_rtcp_mux(void)
{
	struct rig r;
	int16_t pcm[ROOM_N] = {0};
	uint8_t buf[1500];
	int rtcp_seen = 0;

	rig_open(&r, CODEC_PCMU, 0, 20);
	r.p.rtcp_mux = true;
	CU_ASSERT(stream_apply(r.s, &r.p) == 0);
	/* An SR arriving on the RTP socket is RTCP, not a malformed RTP. */
	struct rtcpkt_info sr = {.ssrc = PHONE_SSRC, .packets = 1};
	int len = rtcpkt_build(buf, sizeof(buf), &sr, "phone");
	sendto_addr(r.ph.rtp, buf, (size_t)len, &r.rtp_addr);
	stream_read_rtp(r.s, r.now_ns);
	for (int i = 0; i < 400; i++) {
		CU_ASSERT(stream_push(r.s, NULL, pcm, NULL, 0, r.now_ns) >= 0);
		r.now_ns += FRAME_NS;
		int n;
		while ((n = recv_wait(r.ph.rtp, buf, sizeof(buf), 0)) > 0)
			rtcp_seen += rtppkt_is_rtcp(buf, (size_t)n);
	}
	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.malformed, 0);
	CU_ASSERT(rtcp_seen >= 1);
	CU_ASSERT(recv_wait(r.ph.rtcp, buf, sizeof(buf), 0) < 0);
	rig_close(&r);
}

static void test_peer_gone(void)
{
	struct rig r;
	uint64_t sample = 0;

	rig_open(&r, CODEC_PCMU, 0, 20);
	close(r.ph.rtp);
	r.ph.rtp = -1;
	for (int i = 0; i < 20; i++)
		push_tone(&r, 1000, NULL, 0, &sample);
	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.packets_out + st.send_errors, 20);
	rig_close(&r);
}

/* Packets pushed through a send batch (rtp/sendq.c) leave, and are
 * counted, only when it is flushed: 8 s of pushes, each tick's RTP and any
 * RTCP report due in one batch; every RTP packet arrives in sequence, the
 * reports arrive too, and only the RTP is counted as packets out. */
static void test_push_batched(void)
{
	struct rig r;
	struct sendq *q;
	int err = sendq_new(&q, stream_tx_sent);
	if (err < 0) {
		printf("\n  io_uring batches unavailable (%s): skipped",
		       strerror(-err));
		return;
	}
	rig_open(&r, CODEC_PCMU, 0, 20);
	int16_t pcm[ROOM_N];
	unit_sine(pcm, ROOM_N, 1000, ROOM_HZ, AMP, 0);
	struct stream_stats st;
	struct rtcpkt_info info;
	struct rx_pkt x;
	int reports = 0;
	uint16_t seq0 = 0;
	for (int i = 0; i < 400; i++) {
		CU_ASSERT(stream_push(r.s, q, pcm, NULL, 0, r.now_ns) >= 0);
		r.now_ns += FRAME_NS;
		stream_get_stats(r.s, &st);
		CU_ASSERT_EQUAL(st.packets_out, (uint64_t)i);
		CU_ASSERT_EQUAL(phone_recv(&r, &x, 0), -1); /* not yet */
		sendq_flush(q);
		stream_get_stats(r.s, &st);
		CU_ASSERT_EQUAL(st.packets_out, (uint64_t)i + 1);
		CU_ASSERT_EQUAL_FATAL(phone_recv(&r, &x, 500), 0);
		seq0 = i == 0 ? x.p.seq : seq0;
		CU_ASSERT_EQUAL(x.p.seq, (uint16_t)(seq0 + i));
		CU_ASSERT_EQUAL(x.p.ssrc, LOCAL_SSRC);
		while (phone_rtcp(&r, &info, 0) == 0) {
			reports++;
			CU_ASSERT(info.has_sr);
			CU_ASSERT_EQUAL(info.ssrc, LOCAL_SSRC);
		}
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.packets_out, 400);
	CU_ASSERT_EQUAL(st.bytes_out, 400 * (12 + 160));
	CU_ASSERT_EQUAL(st.send_errors, 0);
	CU_ASSERT(reports >= 1 && reports <= 8);
	/* a peer that is gone: every batched send counted, sent or not */
	close(r.ph.rtp);
	r.ph.rtp = -1;
	for (int i = 0; i < 20; i++) {
		CU_ASSERT(stream_push(r.s, q, pcm, NULL, 0, r.now_ns) >= 0);
		r.now_ns += FRAME_NS;
		sendq_flush(q);
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.packets_out + st.send_errors, 420);
	sendq_free(q);
	rig_close(&r);
}

/* The phone's RR about source ssrc, saying it lost fraction/256. */
static void phone_rr(struct rig *r, uint32_t ssrc, uint8_t fraction)
{
	struct rtcpkt_info rr = {.ssrc = PHONE_SSRC, .n_blocks = 1};
	uint8_t buf[200];

	rr.block[0] =
	    (struct rtcp_report_block){.ssrc = ssrc, .fraction_lost = fraction};
	int len = rtcpkt_build(buf, sizeof(buf), &rr, "phone");
	CU_ASSERT_FATAL(len > 0);
	sendto_addr(r->ph.rtcp, buf, (size_t)len, &r->rtcp_addr);
	stream_read_rtcp(r->s, r->now_ns);
}

/* What the phone reports about our stream sets the Opus FEC our encoder
 * codes (rtp/fecloss.c); reports about other sources do not; a codec
 * change keeps what the reports said; reports that stop are forgotten. */
static void test_fec_from_reports(void)
{
	struct rig r;

	rig_open(&r, CODEC_OPUS, 111, 20);
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), FECLOSS_UNKNOWN);
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), FECLOSS_UNKNOWN);
	phone_rr(&r, LOCAL_SSRC, 0);
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), 0);
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), 0);
	phone_rr(&r, 0x12345678u, 128); /* about someone else */
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), 0);
	phone_rr(&r, LOCAL_SSRC, 64); /* 25%: estimate 18.75% */
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), 20);
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), 20);
	struct stream_params p = r.p;
	p.codec = CODEC_PCMU;
	p.pt = 0;
	CU_ASSERT(stream_apply(r.s, &p) == 0);
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), 0); /* G.711: no FEC */
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), 20);
	CU_ASSERT(stream_apply(r.s, &r.p) == 0);
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), 20);
	/* garbage on the RTCP port changes nothing */
	uint8_t junk[] = {0x81, 201, 0, 7, 1, 2, 3};
	sendto_addr(r.ph.rtcp, junk, sizeof(junk), &r.rtcp_addr);
	stream_read_rtcp(r.s, r.now_ns);
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), 20);
	/* the reports stop: FECLOSS_UNKNOWN again, for the encoder too */
	/* (the report arrived when the kernel took it, a moment before) */
	CU_ASSERT_FALSE(
	    stream_fec_expire(r.s, r.now_ns + FECLOSS_STALE_NS - 100000000ull));
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), 20);
	CU_ASSERT_TRUE(
	    stream_fec_expire(r.s, r.now_ns + FECLOSS_STALE_NS + 1000000));
	CU_ASSERT_EQUAL(stream_fec_loss(r.s), FECLOSS_UNKNOWN);
	CU_ASSERT_EQUAL(stream_tx_fec_loss(r.s), FECLOSS_UNKNOWN);
	rig_close(&r);
}

static void test_codec_change(void)
{
	struct rig r;
	uint64_t sample = 0;
	struct rx_pkt x;

	rig_open(&r, CODEC_PCMU, 0, 20);
	push_tone(&r, 1000, NULL, 0, &sample);
	CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
	struct stream_params p = r.p;
	p.codec = CODEC_PCMA;
	p.pt = 8;
	CU_ASSERT(stream_apply(r.s, &p) == 0);
	push_tone(&r, 1000, NULL, 0, &sample);
	CU_ASSERT_FATAL(phone_recv(&r, &x, 500) == 0);
	CU_ASSERT_EQUAL(x.p.pt, 8);
	CU_ASSERT(x.p.marker);
	p.codec = CODEC_NONE;
	CU_ASSERT(stream_apply(r.s, &p) == -EINVAL);
	rig_close(&r);
}

/* The room changing rate under a stream: made at 48 kHz, set to 8 kHz
 * (as a mixer does when it joins), then prepared for 48 kHz: the frame
 * converted at 8 kHz is converted at 48 kHz too, and after the commit the
 * next frame at 48 kHz carries on from it without a step beyond the
 * tone's slope (2 pi 1000 / 48000 * 8000 = 1047 a sample). */
static void test_room_rate(void)
{
	struct rig r;
	static int16_t out[ROOM_N], next[2 * ROOM_N];
	size_t n;

	rig_open(&r, CODEC_PCMU, 0, 20);
	CU_ASSERT_EQUAL(stream_set_room_rate(r.s, 8000), 0);
	CU_ASSERT_EQUAL(stream_room_rate_hz(r.s), 8000);
	CU_ASSERT_EQUAL(stream_rate_commit(r.s), -EINVAL); /* none prepared */
	for (int i = 0; i < 22; i++) {
		phone_send(&r, 20, 1000);
		stream_read_rtp(r.s, r.now_ns);
		CU_ASSERT(stream_pull_codec(r.s, &n) != NULL || i < 5);
		r.now_ns += FRAME_NS;
		stream_pull_room(r.s, i == 21 ? next + ROOM_N : out);
		if (i == 20) {
			CU_ASSERT_EQUAL(stream_rate_prepare(r.s, 48000), 0);
			CU_ASSERT_EQUAL(stream_rate_prepare(r.s, 48000), 0);
			stream_pull_room_next(r.s, next);
			CU_ASSERT(unit_tone_amp(out, 160, 1000, 8000) >
				  0.8 * AMP);
			CU_ASSERT_EQUAL(stream_rate_commit(r.s), 0);
			CU_ASSERT_EQUAL(stream_room_rate_hz(r.s), 48000);
		}
	}
	double worst = 0;
	for (size_t i = ROOM_N / 2; i < 2 * ROOM_N; i++)
		worst = fmax(worst, fabs((double)next[i] - next[i - 1]));
	CU_ASSERT(worst < 1047 * 1.1 + 300);
	double a = unit_tone_amp(next + ROOM_N, ROOM_N, 1000, ROOM_HZ);
	CU_ASSERT(a > 0.9 * AMP && a < 1.1 * AMP);
	CU_ASSERT_EQUAL(stream_set_room_rate(r.s, 44100), -EINVAL);
	CU_ASSERT_EQUAL(stream_room_rate_hz(r.s), 48000);
	rig_close(&r);
}

/* Packets read long after they came count as arriving when the kernel
 * took them in (SO_TIMESTAMPNS), as a small room reads them at its tick:
 * ten packets sent about 20 ms apart and read at once, 100 ms after the
 * last, show the jitter of their sending (computed here from when each
 * send was made: a busy host makes it a few ms), not the 20 ms steps that
 * reading time would make of them. */
static void test_kernel_arrival(void)
{
	struct rig r;
	struct stream_stats st;
	rig_open(&r, CODEC_PCMU, 0, 20);
	uint64_t first = mono_now_ns(), last = 0, prev = 0;
	double jitter_ns = 0; /* RFC 3550 6.4.1, from the send times */
	for (uint64_t i = 0; i < 10; i++) {
		uint64_t at = first + i * FRAME_NS;
		struct timespec due = {.tv_sec = (time_t)(at / 1000000000ull),
				       .tv_nsec = (long)(at % 1000000000ull)};
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL);
		uint64_t before = mono_now_ns();
		phone_send(&r, 20, 1000);
		last = mono_now_ns();
		uint64_t sent = before + (last - before) / 2;
		if (i > 0) {
			double d =
			    fabs((double)(sent - prev) - (double)FRAME_NS);
			jitter_ns += (d - jitter_ns) / 16;
		}
		prev = sent;
	}
	usleep(100000);
	uint64_t read_at = mono_now_ns();
	stream_read_rtp(r.s, read_at);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.packets_in, 10);
	CU_ASSERT(st.last_rx_ns + 50000000ull > last &&
		  st.last_rx_ns < last + 50000000ull);
	CU_ASSERT(st.last_rx_ns + 90000000ull < read_at);
	/* Read time would give 9,500 us or so more than the sending's. */
	CU_ASSERT(fabs(st.jitter_us - jitter_ns / 1000) < 1500);
	rig_close(&r);
}

static const struct unit_test tests[] = {
    {"room rate: set, prepared, converted at both, committed", test_room_rate},
    {"pcmu tone in at 48 kHz", test_pcmu_tone_in},
    {"10, 30, 60 ms packets in", test_ptime_in},
    {"pcmu push: pt, ssrc, csrc, seq, ts", test_pcmu_push},
    {"40 ms packets out", test_ptime_out},
    {"foreign, malformed, dtmf dropped", test_foreign_and_malformed},
    {"latching to a NATed source", test_latch},
    {"arrival: the kernel's, not the read's", test_kernel_arrival},
    {"no latching late or out of sequence", test_no_late_latch},
    {"loss statistics", test_loss_stats},
    {"loss over a restart, late, discarded", test_loss_over_restart},
    {"pull in two steps, conversion skipped", test_pull_two_steps},
    {"hold sends nothing, resume continues", test_hold_resume},
    {"recv off mixes nothing", test_recv_off},
    {"opus round trip", test_opus_round_trip},
    {"opus dtx: silence, not decoded", test_opus_dtx},
    {"opus fec from the next packet", test_opus_fec},
    {"g722: 16 kHz audio, 8 kHz clock", test_g722_clock},
    {"rtcp sr/rr with lsr", test_rtcp},
    {"rtcp mux", test_rtcp_mux},
    {"push through a send batch", test_push_batched},
    {"peer gone", test_peer_gone},
    {"codec change", test_codec_change},
    {"opus fec from the peer's reports", test_fec_from_reports},
    {NULL, NULL},
};

UNIT_MAIN("stream", tests)
