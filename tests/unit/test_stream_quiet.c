/* test_stream_quiet.c: silence on a stream (rtp/stream_quiet.c and its
 * hooks in stream_rx.c, stream_tx.c): RFC 6464 levels read through the
 * jitter buffer, quiet packets left undecoded only when asked, the decode
 * after them close to a continuous one (Opus's and G.722's warm-ups), CN
 * taken as silence, and what silence becomes on send (CN, Opus DTX): the
 * packet pattern, contiguous sequence numbers, advancing timestamps, the
 * marker when audio resumes. */
#include "rtp/rtp.h"
#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define ROOM_HZ	 48000
#define ROOM_N	 (ROOM_HZ / 50)
#define FRAME_NS 20000000ull
#define LEVEL_ID 3

struct rig {
	int rtp, phone;
	struct sockaddr_storage rtp_addr, phone_addr;
	struct stream_params p;
	struct stream *s;
	struct codec *enc;
	uint16_t seq;
	uint32_t ts;
	uint64_t sample, now_ns;
};

static void rig_open(struct rig *r, enum codec_id id, uint8_t pt,
		     uint8_t level_id, uint8_t cn_pt, bool dtx)
{
	memset(r, 0, sizeof(*r));
	r->rtp = unit_udp_socket(&r->rtp_addr);
	r->phone = unit_udp_socket(&r->phone_addr);
	CU_ASSERT_FATAL(codec_new(&r->enc, id) == 0);
	r->p = (struct stream_params){
	    .rtp_peer = r->phone_addr,
	    .rtcp_peer = r->phone_addr,
	    .codec = id,
	    .pt = pt,
	    /* telephone-event, as callers that send levels offer it: no
	     * in-band key listening, whose 40 ms hold (rtp/stream_dtmf.c)
	     * would shift what a pull returns */
	    .te_pt = 101,
	    .te_clock_hz = 8000,
	    .ptime_ms = 20,
	    .level_ext_id = level_id,
	    .cn_pt = cn_pt,
	    .dtx = dtx,
	    .send = true,
	    .recv = true,
	};
	CU_ASSERT_FATAL(stream_new(&r->s, r->rtp, -1, ROOM_HZ, 0x5eed, &r->p) ==
			0);
	r->seq = 7;
	r->ts = 1000;
	r->now_ns = 1000000000ull;
}

static void rig_close(struct rig *r)
{
	stream_free(r->s);
	codec_free(r->enc);
	close(r->rtp);
	close(r->phone);
}

/* Sends one packet: payload with pt, and (level >= 0) a one-byte
 * extension carrying the RFC 6464 level under LEVEL_ID. */
static void send_raw(struct rig *r, uint8_t pt, const uint8_t *payload,
		     size_t len, int level)
{
	uint8_t pkt[1600];
	struct rtppkt p = {.pt = pt,
			   .seq = r->seq++,
			   .ts = r->ts,
			   .ssrc = 0xabcdef,
			   .payload = payload,
			   .payload_bytes = len};
	int n = rtppkt_build(pkt, sizeof(pkt), &p);
	CU_ASSERT_FATAL(n > 0);
	if (level >= 0) {
		static const uint8_t ext_hdr[4] = {0xbe, 0xde, 0, 1};
		memmove(pkt + 20, pkt + 12, (size_t)n - 12);
		memcpy(pkt + 12, ext_hdr, 4);
		pkt[16] = LEVEL_ID << 4; /* one byte of data */
		pkt[17] = (uint8_t)level;
		pkt[18] = pkt[19] = 0;
		pkt[0] |= 0x10;
		n += 8;
	}
	CU_ASSERT(sendto(r->phone, pkt, (size_t)n, 0,
			 (const struct sockaddr *)&r->rtp_addr,
			 sizeof(struct sockaddr_in)) == n);
}

/* One 20 ms tone packet of amplitude amp, labelled with level. */
static void send_tone(struct rig *r, uint8_t pt, double amp, int level)
{
	const struct codec_desc *d = codec_by_id(r->p.codec);
	size_t n = d->pcm_rate_hz / 50;
	int16_t pcm[960];
	uint8_t payload[1500];

	unit_sine(pcm, n, 440, d->pcm_rate_hz, amp, r->sample);
	r->sample += n;
	int len = codec_encode(r->enc, pcm, n, payload, sizeof(payload));
	CU_ASSERT_FATAL(len > 0);
	send_raw(r, pt, payload, (size_t)len, level);
	r->ts += d->rtp_clock_hz / 50;
}

/* Reads what arrived and pulls 20 ms at the codec rate; its RMS in *rms
 * (-1: no audio). */
static const int16_t *pull(struct rig *r, double *rms)
{
	size_t n = 0;
	stream_read_rtp(r->s, r->now_ns);
	const int16_t *f = stream_pull_codec(r->s, &n);
	r->now_ns += FRAME_NS;
	*rms = f ? unit_rms(f, n) : -1;
	return f;
}

/* A loud part, a quiet part whose packets still carry the tone (so that a
 * decode would show), then loud again; the quiet ones are left undecoded
 * once the stream is told to skip them. */
static void test_levels(void)
{
	struct rig r;
	struct stream_stats st;
	double rms;

	rig_open(&r, CODEC_OPUS, 111, LEVEL_ID, 0, false);
	CU_ASSERT_EQUAL(stream_rx_level(r.s), -1);
	for (int i = 0; i < 20; i++) {
		send_tone(&r, 111, 8000, 20);
		pull(&r, &rms);
	}
	CU_ASSERT_EQUAL(stream_rx_level(r.s), 20);
	CU_ASSERT(rms > 1000);
	/* quiet by their level, decoded while nobody asks to skip */
	for (int i = 0; i < 10; i++) {
		send_tone(&r, 111, 8000, 100);
		pull(&r, &rms);
	}
	CU_ASSERT_EQUAL(stream_rx_level(r.s), 100);
	CU_ASSERT(rms > 1000);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.quiet, 0);
	stream_rx_skip_quiet(r.s, -50);
	for (int i = 0; i < 10; i++) {
		send_tone(&r, 111, 8000, 100);
		pull(&r, &rms);
		if (i >= 3) /* the buffer's earlier ones played out */
			CU_ASSERT(rms == 0);
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT(st.quiet >= 7);
	CU_ASSERT_EQUAL(st.malformed, 0);
	CU_ASSERT_EQUAL(st.concealed, 0);
	/* a loud packet is decoded, skipping or not */
	for (int i = 0; i < 10; i++) {
		send_tone(&r, 111, 8000, 20);
		pull(&r, &rms);
	}
	CU_ASSERT(rms > 1000);
	CU_ASSERT_EQUAL(stream_rx_level(r.s), 20);
	rig_close(&r);
}

/* Without the extension negotiated a level is not read, and nothing is
 * skipped. */
static void test_levels_not_negotiated(void)
{
	struct rig r;
	struct stream_stats st;
	double rms;

	rig_open(&r, CODEC_OPUS, 111, 0, 0, false);
	stream_rx_skip_quiet(r.s, -50);
	for (int i = 0; i < 20; i++) {
		send_tone(&r, 111, 8000, 100);
		pull(&r, &rms);
	}
	CU_ASSERT_EQUAL(stream_rx_level(r.s), -1);
	CU_ASSERT(rms > 1000);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.quiet, 0);
	rig_close(&r);
}

/* The first frame decoded after undecoded ones sounds as it does in a
 * continuous decode, thanks to the warm-up (one frame concealed, the last
 * skipped packet decoded). The reference stream decodes everything; both
 * get the same packets. Frame 40 is the first loud one pulled. The worst
 * frame's SNR against the continuous decode. */
static double resume_worst(enum codec_id id, uint8_t pt)
{
	struct rig a, b;
	double rms, worst = 99;
	size_t n = codec_by_id(id)->pcm_rate_hz / 50;

	rig_open(&a, id, pt, LEVEL_ID, 0, false);
	rig_open(&b, id, pt, LEVEL_ID, 0, false);
	stream_rx_skip_quiet(b.s, -50);
	for (int i = 0; i < 60; i++) {
		/* speech, 400 ms of a -70 dB hum, speech again */
		bool quiet = i >= 20 && i < 40;
		double amp = quiet ? 10 : 8000;
		int level = quiet ? 70 : 20;
		send_tone(&a, pt, amp, level);
		send_tone(&b, pt, amp, level);
		const int16_t *fa = pull(&a, &rms);
		const int16_t *fb = pull(&b, &rms);
		if (i < 40 || i > 50 || !fa || !fb)
			continue;
		/* the resumed frames against the continuous decode */
		double e = 0, d = 0;
		for (size_t k = 0; k < n; k++) {
			e += (double)fa[k] * fa[k];
			d += (double)(fa[k] - fb[k]) * (fa[k] - fb[k]);
		}
		double snr = d > 0 ? 10 * log10(e / d) : 99;
		if (snr < worst)
			worst = snr;
	}
	struct stream_stats st;
	stream_get_stats(b.s, &st);
	CU_ASSERT(st.quiet >= 15);
	rig_close(&a);
	rig_close(&b);
	return worst;
}

static void test_resume(void)
{
	double opus = resume_worst(CODEC_OPUS, 111);
	double g722 = resume_worst(CODEC_G722, 9);
	printf("\n  worst resumed frame: Opus %.1f dB, G.722 %.1f dB (99: the "
	       "same samples)",
	       opus, g722);
	CU_ASSERT(opus > 40); /* 52 dB measured; 1 dB without warm-up */
	/* G.722: -11 dB without its warm-up, 18 dB with it (and 56 dB or
	 * better from the third frame) */
	CU_ASSERT(g722 > 15);
}

/* CN (RFC 3389) when negotiated: silence at its level, not malformed. */
static void test_cn_rx(void)
{
	struct rig r;
	struct stream_stats st;
	double rms;
	static const uint8_t cn[] = {70, 0x10, 0x20};

	rig_open(&r, CODEC_PCMU, 0, 0, CN_PT, false);
	for (int i = 0; i < 10; i++) {
		send_tone(&r, 0, 8000, -1);
		pull(&r, &rms);
	}
	CU_ASSERT(rms > 1000);
	/* CN every 60 ms, as a sender may: the gaps are silence too */
	stream_get_stats(r.s, &st);
	uint64_t concealed = st.concealed;
	for (int i = 0; i < 15; i++) {
		if (i % 3 == 0)
			send_raw(&r, CN_PT, cn, sizeof(cn), -1);
		r.ts += 160;
		pull(&r, &rms);
		if (i >= 3)
			CU_ASSERT(rms <= 0); /* silence, or nothing */
	}
	CU_ASSERT_EQUAL(stream_rx_level(r.s), 70);
	stream_get_stats(r.s, &st);
	CU_ASSERT(st.dtx >= 4);
	CU_ASSERT_EQUAL(st.malformed, 0);
	CU_ASSERT_EQUAL(st.concealed, concealed);
	rig_close(&r);

	/* not negotiated: a stranger's payload type */
	rig_open(&r, CODEC_PCMU, 0, 0, 0, false);
	send_raw(&r, CN_PT, cn, sizeof(cn), -1);
	pull(&r, &rms);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.malformed, 1);
	rig_close(&r);
}

/* Opus DTX received: a 1-byte packet every 400 ms. The DTX packets and the
 * gaps between them are silence at level 127, neither decoded nor
 * concealed; and the first frames after the run are as loud as a fresh
 * stream's that heard only the tone. */
static void test_dtx_rx(void)
{
	struct rig r, ref;
	struct stream_stats st;
	double rms, rms_ref;

	rig_open(&r, CODEC_OPUS, 111, 0, 0, false);
	rig_open(&ref, CODEC_OPUS, 111, 0, 0, false);
	for (int i = 0; i < 20; i++) {
		send_tone(&r, 111, 8000, -1);
		pull(&r, &rms);
	}
	CU_ASSERT(rms > 2000);
	stream_get_stats(r.s, &st);
	uint64_t concealed = st.concealed;
	const uint8_t toc[1] = {0x78}; /* CELT FB 20 ms, code 0: no data */
	for (int i = 0; i < 60; i++) {
		/* the sender's encoder hears its silence, sends only DTX */
		int16_t zero[960] = {0};
		uint8_t out[1500];
		CU_ASSERT(codec_encode(r.enc, zero, 960, out, sizeof(out)) > 0);
		if (i % 20 == 0)
			send_raw(&r, 111, toc, sizeof(toc), -1);
		r.ts += 960;
		r.sample += 960;
		pull(&r, &rms);
		CU_ASSERT(rms <= 0); /* silence, or nothing */
		if (rms == 0)
			CU_ASSERT_EQUAL(stream_rx_level(r.s), 127);
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.dtx, 3);
	CU_ASSERT_EQUAL(st.concealed, concealed);
	CU_ASSERT_EQUAL(st.malformed, 0);
	/* speech again: as loud as from a stream that heard only the tone
	 * (the encoders differ, so the waveforms do), and no click */
	ref.sample = r.sample;
	for (int i = 0; i < 12; i++) {
		send_tone(&r, 111, 8000, -1);
		send_tone(&ref, 111, 8000, -1);
		const int16_t *f = pull(&r, &rms);
		pull(&ref, &rms_ref);
		CU_ASSERT_FATAL(f != NULL);
		int peak = 0;
		for (int k = 0; k < 960; k++)
			peak = abs(f[k]) > peak ? abs(f[k]) : peak;
		CU_ASSERT(peak < 8000 * 1.3);
		/* from its first decoded frame (the jitter buffer's one
		 * frame later): 4648 vs 5656, then within 2 %; concealing
		 * through the run instead faded in over 100 ms (1725, 2954,
		 * 4482, 5182 vs 5600) */
		if (i >= 1)
			CU_ASSERT(rms > 0.8 * rms_ref && rms < 1.25 * rms_ref);
	}
	rig_close(&r);
	rig_close(&ref);
}

struct heard {
	unsigned pkts, cn, marked;
	int first_audio_marked; /* -1: no audio yet */
	uint16_t seq;
	uint32_t ts;
	bool seq_ok, ts_ok;
};

/* Pushes frames of tone or silence and reads back what the phone got. */
static void push_run(struct rig *r, bool tone, unsigned frames, struct heard *h)
{
	static int16_t pcm[ROOM_N];
	uint8_t buf[1600];
	struct rtppkt p;
	struct pollfd pfd = {.fd = r->phone, .events = POLLIN};

	for (unsigned i = 0; i < frames; i++) {
		if (tone)
			unit_sine(pcm, ROOM_N, 440, ROOM_HZ, 8000, r->sample);
		else
			memset(pcm, 0, sizeof(pcm));
		r->sample += ROOM_N;
		CU_ASSERT(stream_push(r->s, NULL, pcm, NULL, 0, r->now_ns) >=
			  0);
		r->now_ns += FRAME_NS;
		while (poll(&pfd, 1, 0) == 1) {
			ssize_t n = recv(r->phone, buf, sizeof(buf), 0);
			CU_ASSERT_FATAL(n > 0);
			if (rtppkt_is_rtcp(buf, (size_t)n))
				continue; /* RTCP, muxed: not counted */
			CU_ASSERT_FATAL(rtppkt_parse(&p, buf, (size_t)n) == 0);
			if (h->pkts && p.seq != (uint16_t)(h->seq + 1))
				h->seq_ok = false;
			if (h->pkts && (int32_t)(p.ts - h->ts) <= 0)
				h->ts_ok = false;
			h->seq = p.seq;
			h->ts = p.ts;
			h->pkts++;
			h->cn += p.pt == CN_PT;
			h->marked += p.marker;
			if (p.pt != CN_PT && h->first_audio_marked < 0)
				h->first_audio_marked = p.marker;
		}
	}
}

static struct heard heard_new(void)
{
	return (struct heard){
	    .first_audio_marked = -1, .seq_ok = true, .ts_ok = true};
}

/* A PCMU listener that negotiated CN: audio, 1.2 s of silence as a CN
 * packet every 400 ms, audio again with the marker bit. */
static void test_cn_tx(void)
{
	struct rig r;
	struct heard h = heard_new();

	rig_open(&r, CODEC_PCMU, 0, 0, CN_PT, false);
	CU_ASSERT_EQUAL(stream_tx_silence(r.s), TXENC_SILENCE_CN);
	push_run(&r, true, 10, &h);
	CU_ASSERT_EQUAL(h.pkts, 10);
	CU_ASSERT_EQUAL(h.cn, 0);
	push_run(&r, false, 1, &h); /* the converter's tail */
	h.cn = 0;
	unsigned before = h.pkts;
	push_run(&r, false, 60, &h);
	CU_ASSERT_EQUAL(h.pkts - before, 3);
	CU_ASSERT_EQUAL(h.cn, 3);
	h.first_audio_marked = -1;
	unsigned marked = h.marked;
	push_run(&r, true, 10, &h);
	CU_ASSERT_EQUAL(h.first_audio_marked, 1);
	CU_ASSERT_EQUAL(h.marked - marked, 1);
	CU_ASSERT_TRUE(h.seq_ok);
	CU_ASSERT_TRUE(h.ts_ok);
	rig_close(&r);
}

/* An Opus listener that asked for DTX: a silent second is a few packets,
 * speech is 50 a second again, the first one marked. */
static void test_dtx_tx(void)
{
	struct rig r;
	struct heard h = heard_new();

	rig_open(&r, CODEC_OPUS, 111, 0, 0, true);
	CU_ASSERT_EQUAL(stream_tx_silence(r.s), TXENC_SILENCE_DTX);
	push_run(&r, true, 10, &h);
	push_run(&r, false, 20, &h); /* libopus's hang-over */
	unsigned before = h.pkts;
	push_run(&r, false, 50, &h);
	CU_ASSERT(h.pkts - before <= 5);
	before = h.pkts;
	h.first_audio_marked = -1;
	push_run(&r, true, 50, &h);
	CU_ASSERT_EQUAL(h.pkts - before, 50);
	CU_ASSERT_TRUE(h.seq_ok);
	CU_ASSERT_TRUE(h.ts_ok);
	rig_close(&r);

	/* without DTX every 20 ms goes out */
	rig_open(&r, CODEC_OPUS, 111, 0, 0, false);
	h = heard_new();
	push_run(&r, false, 50, &h);
	CU_ASSERT_EQUAL(h.pkts, 50);
	rig_close(&r);
}

/* An Opus caller without levels: its packets without voice (the SILK
 * flag) are skipped, once asked, while the last frame decoded was quiet;
 * a steady tone, whose packets lose the flag after a second or so, goes
 * on being decoded for as long as it lasts; silence after it is skipped
 * again from its first decoded frame on. The level the detector gets for
 * a skipped packet is that quiet frame's. */
static void test_no_voice_skipped(void)
{
	struct rig r;
	struct stream_stats st;
	double rms;

	rig_open(&r, CODEC_OPUS, 111, 0, 0, false);
	for (int i = 0; i < 25; i++) { /* not asked: all decoded */
		send_tone(&r, 111, 0, -1);
		pull(&r, &rms);
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.quiet, 0);
	stream_rx_skip_quiet(r.s, -50);
	for (int i = 0; i < 25; i++) {
		send_tone(&r, 111, 0, -1);
		pull(&r, &rms);
		CU_ASSERT(rms == 0);
	}
	stream_get_stats(r.s, &st);
	uint64_t silent = st.quiet;
	CU_ASSERT(silent >= 22);
	CU_ASSERT(stream_rx_level(r.s) > 50); /* quiet, -dBov */
	unsigned loud = 0;
	for (int i = 0; i < 150; i++) { /* 3 s of a tone */
		send_tone(&r, 111, 8000, -1);
		pull(&r, &rms);
		loud += rms > 1000;
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.quiet, silent);
	CU_ASSERT(loud >= 147);
	CU_ASSERT(rms > 1000);
	CU_ASSERT_EQUAL(stream_rx_level(r.s), -1); /* measured by the mixer */
	for (int i = 0; i < 25; i++) {
		send_tone(&r, 111, 0, -1);
		pull(&r, &rms);
	}
	stream_get_stats(r.s, &st);
	CU_ASSERT(st.quiet - silent >= 20);
	CU_ASSERT_EQUAL(st.concealed, 0);
	CU_ASSERT_EQUAL(st.malformed, 0);
	printf("\n  silent Opus packets left undecoded: %llu of 25, then %llu "
	       "of 25 after 3 s of tone",
	       (unsigned long long)silent,
	       (unsigned long long)(st.quiet - silent));
	rig_close(&r);
}

static const struct unit_test tests[] = {
    {"levels read, quiet packets skipped when asked", test_levels},
    {"no levels without the extension", test_levels_not_negotiated},
    {"Opus without levels: no voice, skipped", test_no_voice_skipped},
    {"decoding resumes as if continuous", test_resume},
    {"CN received as silence", test_cn_rx},
    {"Opus DTX received: silence, not concealed", test_dtx_rx},
    {"CN sent in silence", test_cn_tx},
    {"Opus DTX sent in silence", test_dtx_tx},
    {NULL, NULL},
};

UNIT_MAIN("stream_quiet", tests)
