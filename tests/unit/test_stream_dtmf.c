/* test_stream_dtmf.c: the key presses of a stream (rtp/stream_dtmf.c),
 * with a "phone" on a loopback UDP socket sending real RTP: RFC 4733
 * events become digits and never audio; a G.711 phone without
 * telephone-event presses keys as tones, which become digits and are cut
 * out of what the room hears (held back 40 ms); a phone with
 * telephone-event is not listened to in-band; a G.722 phone without it
 * (16 kHz, after a codec change from G.711) is listened to and cut out
 * just the same; a key pressed while packets stall or come late stays
 * out of the mix, for every codec, while speech through losses loses no
 * frame; and a full queue of presses drops the newest. The stream's
 * clock is simulated. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <spandsp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROOM_HZ	   48000
#define ROOM_N	   (ROOM_HZ / 50)
#define G711_N	   160
#define FRAME_NS   20000000ull
#define TE_PT	   101
#define PHONE_SSRC 0x0dd5ca11u

struct rig {
	int fd, phone;
	struct sockaddr_storage addr, phone_addr;
	struct codec *codec;
	uint8_t pt;
	size_t frame_n; /* 20 ms at the codec's rate */
	struct stream *s;
	uint16_t seq;
	uint32_t ts;
	uint64_t now_ns;
};

static void rig_open(struct rig *r, int te_pt)
{
	memset(r, 0, sizeof(*r));
	r->fd = unit_udp_socket(&r->addr);
	r->phone = unit_udp_socket(&r->phone_addr);
	CU_ASSERT_FATAL(codec_new(&r->codec, CODEC_PCMU) == 0);
	r->frame_n = G711_N;
	struct stream_params p = {.rtp_peer = r->phone_addr,
				  .rtcp_peer = r->phone_addr,
				  .codec = CODEC_PCMU,
				  .pt = 0,
				  .te_pt = te_pt,
				  .te_clock_hz = 8000,
				  .ptime_ms = 20,
				  .send = true,
				  .recv = true};
	CU_ASSERT_FATAL(stream_new(&r->s, r->fd, -1, ROOM_HZ, 1, &p) == 0);
	r->seq = 7;
	r->ts = 1000;
	r->now_ns = 5000000000ull;
}

static void rig_close(struct rig *r)
{
	stream_free(r->s);
	codec_free(r->codec);
	close(r->fd);
	close(r->phone);
}

static void send_pkt(struct rig *r, uint8_t pt, uint32_t ts,
		     const uint8_t *payload, size_t len)
{
	uint8_t buf[1500];
	struct rtppkt p = {.pt = pt,
			   .seq = r->seq++,
			   .ts = ts,
			   .ssrc = PHONE_SSRC,
			   .payload = payload,
			   .payload_bytes = len};
	int n = rtppkt_build(buf, sizeof(buf), &p);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT(sendto(r->phone, buf, (size_t)n, 0,
			 (const struct sockaddr *)&r->addr,
			 sizeof(struct sockaddr_in)) == n);
}

/* One 20 ms frame of audio from the phone (G.711 unless the rig was
 * switched to G.722), then the stream reads and pulls it into room
 * (48 kHz). */
static void frame(struct rig *r, const int16_t *pcm, int16_t *room)
{
	uint8_t enc[G711_N];
	int len = codec_encode(r->codec, pcm, r->frame_n, enc, sizeof(enc));
	CU_ASSERT_FATAL(len == G711_N);
	send_pkt(r, r->pt, r->ts, enc, (size_t)len);
	r->ts += G711_N;
	stream_read_rtp(r->s, r->now_ns);
	int16_t scratch[ROOM_N];
	CU_ASSERT(stream_pull(r->s, room ? room : scratch) == 1);
	r->now_ns += FRAME_NS;
}

static void te_event(struct rig *r, uint32_t ts, unsigned code, bool end,
		     unsigned dur)
{
	uint8_t e[4] = {(uint8_t)code, (uint8_t)(end ? 0x8a : 0x0a),
			(uint8_t)(dur >> 8), (uint8_t)dur};
	send_pkt(r, TE_PT, ts, e, sizeof(e));
}

/* A tone's amplitude in one frame, through a Hann window, so that the
 * 400 Hz tone next door does not leak into the digit's frequencies. */
static double amp_at(const int16_t *pcm, double f_hz)
{
	static int16_t w[ROOM_N];
	double sum = 0;
	for (size_t i = 0; i < ROOM_N; i++) {
		double h = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (ROOM_N - 1));
		w[i] = (int16_t)lrint(pcm[i] * h);
		sum += h;
	}
	return unit_tone_amp(w, ROOM_N, f_hz, ROOM_HZ) * ROOM_N / sum;
}

static int take(struct rig *r, char *keys, size_t cap)
{
	struct digit d;
	size_t n = strlen(keys);
	while (stream_digit_peek(r->s, r->now_ns, &d) == 0 && n + 1 < cap) {
		keys[n++] = d.key;
		stream_digit_pop(r->s);
	}
	keys[n] = '\0';
	return (int)n;
}

/* Presses sent as RFC 4733 events, the audio going on meanwhile: each
 * digit once, the audio untouched (no event payload ever decoded). */
static void test_rfc4733(void)
{
	struct rig r;
	int16_t tone[G711_N], room[ROOM_N];
	char keys[8] = "";
	rig_open(&r, TE_PT);
	for (int i = 0; i < 30; i++) {
		unit_sine(tone, G711_N, 1000, 8000, 8000, (uint64_t)i * G711_N);
		uint32_t at = r.ts;
		if (i == 5 || i == 15) {
			unsigned code = i == 5 ? 1 : 11;
			te_event(&r, at, code, false, 160);
			te_event(&r, at, code, false, 320);
			for (int k = 0; k < 3; k++)
				te_event(&r, at, code, true, 480);
		}
		frame(&r, tone, room);
		if (i >= 10) {
			double a = unit_tone_amp(room, ROOM_N, 1000, ROOM_HZ);
			CU_ASSERT(a > 6000 && a < 10000);
		}
	}
	take(&r, keys, sizeof(keys));
	CU_ASSERT_STRING_EQUAL(keys, "1#");
	struct digit d;
	CU_ASSERT_EQUAL(stream_digit_peek(r.s, r.now_ns, &d), -EAGAIN);
	struct stream_stats st;
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.malformed, 0);
	/* A malformed event payload is counted, not a digit. */
	uint8_t bad[3] = {1, 2, 3};
	send_pkt(&r, TE_PT, r.ts, bad, sizeof(bad));
	frame(&r, tone, room);
	stream_get_stats(r.s, &st);
	CU_ASSERT_EQUAL(st.malformed, 1);
	CU_ASSERT_EQUAL(take(&r, keys, sizeof(keys)), 2);
	rig_close(&r);
}

/* The end packets of a press are all lost: the press still comes out,
 * once, when the stream is asked a second later. */
static void test_rfc4733_lost_end(void)
{
	struct rig r;
	int16_t silence[G711_N] = {0};
	char keys[8] = "";
	rig_open(&r, TE_PT);
	te_event(&r, r.ts, 9, false, 160);
	frame(&r, silence, NULL);
	CU_ASSERT_EQUAL(take(&r, keys, sizeof(keys)), 0);
	for (int i = 0; i < 60; i++)
		frame(&r, silence, NULL);
	CU_ASSERT_EQUAL(take(&r, keys, sizeof(keys)), 1);
	CU_ASSERT_STRING_EQUAL(keys, "9");
	rig_close(&r);
}

/* A G.711 phone without telephone-event: "5", starting half-way into a
 * frame, between stretches of a 400 Hz tone. The digit is heard, and the
 * room hears the 400 Hz tone (40 ms late) but none of the digit's 770 and
 * 1336 Hz. */
static void test_inband_cut_out(void)
{
	struct rig r;
	enum { FRAMES = 60, KEY_AT = 20 * G711_N + 80, KEY_N = 8 * G711_N };
	static int16_t phone[FRAMES * G711_N];
	static int16_t room[FRAMES][ROOM_N];
	char keys[8] = "";
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	CU_ASSERT_FATAL(tx != NULL);
	dtmf_tx_set_timing(tx, KEY_N / 8, 0);
	dtmf_tx_put(tx, "5", 1);
	unit_sine(phone, FRAMES * G711_N, 400, 8000, 6000, 0);
	memset(phone + KEY_AT, 0, KEY_N * sizeof(*phone));
	dtmf_tx(tx, phone + KEY_AT, KEY_N);
	rig_open(&r, -1);
	for (int i = 0; i < FRAMES; i++)
		frame(&r, phone + i * G711_N, room[i]);
	take(&r, keys, sizeof(keys));
	CU_ASSERT_STRING_EQUAL(keys, "5");
	int tone_frames = 0;
	for (int i = 0; i < FRAMES; i++) {
		double lo = amp_at(room[i], 770);
		double hi = amp_at(room[i], 1336);
		CU_ASSERT(lo < 60 && hi < 60);
		if (lo >= 60 || hi >= 60)
			printf("\n  frame %d: 770 Hz %.0f, 1336 Hz %.0f\n", i,
			       lo, hi);
		tone_frames += amp_at(room[i], 400) > 4000;
	}
	/* Only the digit and a frame or two around it are silenced. */
	CU_ASSERT(tone_frames >= FRAMES - 9 - 2 - 4);
	/* The room hears the phone 40 ms (two frames) late. */
	CU_ASSERT(amp_at(room[1], 400) < 100);
	CU_ASSERT(amp_at(room[3], 400) > 4000);
	dtmf_tx_free(tx);
	rig_close(&r);
}

/* A key pressed while the caller's packets stall: stall frames from frame
 * KEY_FRAME + at are not sent in time; with burst they come late, all at
 * once with the next, else never. Concealment goes on with the tone's
 * onset, and what the receiver may never confirm must not reach the mix
 * either: no frame the room hears carries both of the key's tones. */
struct stall_rig {
	struct rig r;
	size_t n;	/* 20 ms at the codec's rate */
	uint32_t ts_20; /* 20 ms of RTP time */
	int16_t *phone; /* FRAMES of it */
	const char *name;
};

enum { STALL_FRAMES = 60, KEY_FRAME = 20, KEY_FRAMES = 5 };

static void stall_send(struct stall_rig *k, int i)
{
	uint8_t enc[1500];
	int len = codec_encode(k->r.codec, k->phone + (size_t)i * k->n, k->n,
			       enc, sizeof(enc));
	CU_ASSERT_FATAL(len > 0);
	send_pkt(&k->r, k->r.pt, k->r.ts, enc, (size_t)len);
	k->r.ts += k->ts_20;
}

static int inband_stall(struct stall_rig *k, int at, int stall, bool burst,
			double *loudest)
{
	struct rig *r = &k->r;
	int16_t room[ROOM_N];
	int leaks = 0, late_from = KEY_FRAME + at;
	for (int i = 0; i < STALL_FRAMES; i++) {
		bool held = i >= late_from && i < late_from + stall;
		if (!held && i == late_from + stall && burst) {
			r->ts -= (uint32_t)stall * k->ts_20;
			for (int j = late_from; j < i; j++)
				stall_send(k, j);
		}
		if (held)
			r->ts += k->ts_20; /* its turn passes */
		else
			stall_send(k, i);
		stream_read_rtp(r->s, r->now_ns);
		if (stream_pull(r->s, room) != 1)
			memset(room, 0, sizeof(room));
		r->now_ns += FRAME_NS;
		double lo = amp_at(room, 770), hi = amp_at(room, 1477);
		if (lo >= 60 && hi >= 60) {
			leaks++;
			*loudest = fmax(*loudest, fmax(lo, hi));
			printf(
			    "\n  %s at %d stall %d%s: frame %d: 770 Hz %.0f, "
			    "1477 Hz %.0f",
			    k->name, at, stall, burst ? " burst" : "", i, lo,
			    hi);
		}
	}
	return leaks;
}

/* Frames of the room that carried both of the key's tones, over every
 * stall; *loudest: the loudest such tone's amplitude. */
static int stall_codec(enum codec_id id, uint8_t pt, double *loudest)
{
	const struct codec_desc *d = codec_by_id(id);
	int leaks = 0;
	*loudest = 0;
	for (int at = 0; at <= 3; at++)
		for (int stall = 0; stall <= 6; stall++)
			for (int burst = 0; burst < 2; burst++) {
				struct stall_rig k = {.name = d->name,
						      .n = d->pcm_rate_hz / 50,
						      .ts_20 =
							  d->rtp_clock_hz / 50};
				size_t all = STALL_FRAMES * k.n;
				k.phone = calloc(all, sizeof(*k.phone));
				int16_t *lo = calloc(all, sizeof(*lo));
				int16_t *hi = calloc(all, sizeof(*hi));
				CU_ASSERT_FATAL(k.phone && lo && hi);
				unit_sine(k.phone, all, 400, d->pcm_rate_hz,
					  6000, 0);
				unit_sine(lo, all, 770, d->pcm_rate_hz, 7000,
					  0);
				unit_sine(hi, all, 1477, d->pcm_rate_hz, 9000,
					  0);
				for (size_t i = KEY_FRAME * k.n;
				     i < (KEY_FRAME + KEY_FRAMES) * k.n; i++)
					k.phone[i] = (int16_t)(lo[i] + hi[i]);
				rig_open(&k.r, -1);
				struct stream_params p = {
				    .rtp_peer = k.r.phone_addr,
				    .rtcp_peer = k.r.phone_addr,
				    .codec = id,
				    .pt = pt,
				    .te_pt = -1,
				    .ptime_ms = 20,
				    .send = true,
				    .recv = true};
				CU_ASSERT_FATAL(stream_apply(k.r.s, &p) == 0);
				codec_free(k.r.codec);
				CU_ASSERT_FATAL(codec_new(&k.r.codec, id) == 0);
				k.r.pt = pt;
				leaks +=
				    inband_stall(&k, at, stall, burst, loudest);
				rig_close(&k.r);
				free(k.phone);
				free(lo);
				free(hi);
			}
	return leaks;
}

/* G.722's and Opus's decoders come back from a loss over some frames
 * (ADPCM state, Opus's prediction and FEC's rough copy) in which what is
 * left of a key is distorted past both the receiver and the key-pair test:
 * the guard after a loss (stream_dtmf.c) and, for G.722, the late packets
 * caught up on (codec_catch_up) keep it out. Before them, of the 56
 * stalls, G.722 leaked 21 frames (up to 18,603) and Opus 38 (up to
 * 16,024). What is left: Opus, the whole key lost and the packets after
 * it late, where the first frame decoded after 120 ms of concealment
 * carries 4 % of each tone (1,339 and 826 here), too little of either to
 * tell from speech. */
static void test_inband_stall(void)
{
	double g711, g722, opus;
	int leaks711 = stall_codec(CODEC_PCMU, 0, &g711);
	int leaks722 = stall_codec(CODEC_G722, 9, &g722);
	int leaks_opus = stall_codec(CODEC_OPUS, 111, &opus);
	printf("\n  frames with both tones: G.711 %d, G.722 %d, Opus %d "
	       "(loudest %.0f)",
	       leaks711, leaks722, leaks_opus, opus);
	CU_ASSERT_EQUAL(leaks711, 0);
	CU_ASSERT_EQUAL(leaks722, 0);
	CU_ASSERT(leaks_opus <= 1 && opus < 2000);
}

/* Speech through losses: the guard after a loss must not take words
 * out. A voice-like signal (harmonics of a pitch gliding 110-190 Hz under
 * three formants), G.711 without telephone-event, every 7th packet lost
 * (about 28 losses in 4 s): no frame the room hears is silenced where
 * the same stream without losses lets the voice through. */
static int voice_silenced(bool lossy)
{
	enum { FRAMES = 200 };
	static int16_t phone[FRAMES * G711_N];
	int16_t room[ROOM_N];
	struct rig r;
	int silenced = 0;

	for (size_t i = 0; i < FRAMES * G711_N; i++) {
		double t = (double)i / 8000;
		double ph =
		    2 * M_PI *
		    (150 * t - 40 / (2 * M_PI * 0.9) * cos(2 * M_PI * 0.9 * t));
		double f0 = 150 + 40 * sin(2 * M_PI * 0.9 * t), v = 0;
		for (int h = 1; h * f0 < 3800; h++) {
			double fr = h * f0;
			v += (exp(-pow((fr - 700) / 300, 2)) +
			      0.6 * exp(-pow((fr - 1200) / 400, 2)) +
			      0.3 * exp(-pow((fr - 2600) / 500, 2)) + 0.05) /
			     h * sin(h * ph);
		}
		phone[i] = (int16_t)lrint(7000 * v);
	}
	rig_open(&r, -1);
	for (int i = 0; i < FRAMES; i++) {
		uint8_t enc[G711_N];
		CU_ASSERT_FATAL(codec_encode(r.codec, phone + i * G711_N,
					     G711_N, enc,
					     sizeof(enc)) == G711_N);
		if (!lossy || i % 7 != 3)
			send_pkt(&r, r.pt, r.ts, enc, sizeof(enc));
		r.ts += G711_N;
		stream_read_rtp(r.s, r.now_ns);
		if (stream_pull(r.s, room) != 1)
			memset(room, 0, sizeof(room));
		r.now_ns += FRAME_NS;
		/* the room hears the phone two frames late */
		silenced += i > 10 && unit_rms(room, ROOM_N) < 10;
	}
	rig_close(&r);
	return silenced;
}

static void test_inband_voice_through_loss(void)
{
	int clean = voice_silenced(false), lossy = voice_silenced(true);
	printf("\n  voice frames silenced: %d without losses, %d with 28",
	       clean, lossy);
	CU_ASSERT_EQUAL(clean, 0);
	CU_ASSERT_EQUAL(lossy, 0);
}

/* The caller stops sending (CN, DTX, silence suppression): the 40 ms held
 * back come out on the next two pulls, then nothing; when it sends again
 * a second later, its new audio comes after silence, never the old
 * frames. */
static void test_inband_drained(void)
{
	struct rig r;
	static int16_t tone[G711_N], quiet[G711_N];
	int16_t room[ROOM_N];
	unit_sine(tone, G711_N, 400, 8000, 6000, 0);
	rig_open(&r, -1);
	for (int i = 0; i < 10; i++)
		frame(&r, tone, room);
	CU_ASSERT(amp_at(room, 400) > 4000);
	for (int i = 0; i < 50; i++) {
		r.ts += G711_N; /* nothing sent */
		stream_read_rtp(r.s, r.now_ns);
		int got = stream_pull(r.s, room);
		r.now_ns += FRAME_NS;
		if (i < 2) { /* the two held frames */
			CU_ASSERT(got == 1 && amp_at(room, 400) > 4000);
		} else if (i >= 10) { /* after the jitter buffer's own tail */
			CU_ASSERT_EQUAL(got, 0);
		}
	}
	frame(&r, quiet, room);
	CU_ASSERT(amp_at(room, 400) < 100); /* was the old tone */
	frame(&r, quiet, room);
	CU_ASSERT(amp_at(room, 400) < 100);
	rig_close(&r);
}

/* With telephone-event negotiated, tones in the audio are the caller's
 * business: no in-band listening, no delay. */
static void test_inband_off_with_te(void)
{
	struct rig r;
	int16_t pcm[G711_N], room[ROOM_N];
	char keys[8] = "";
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	dtmf_tx_set_timing(tx, 200, 0);
	dtmf_tx_put(tx, "3", 1);
	rig_open(&r, TE_PT);
	double peak = 0;
	for (int i = 0; i < 10; i++) {
		memset(pcm, 0, sizeof(pcm));
		dtmf_tx(tx, pcm, G711_N);
		frame(&r, pcm, room);
		double a = unit_tone_amp(room, ROOM_N, 697, ROOM_HZ);
		peak = a > peak ? a : peak;
	}
	for (int i = 0; i < 10; i++) {
		memset(pcm, 0, sizeof(pcm));
		frame(&r, pcm, room);
	}
	CU_ASSERT(peak > 1000);
	CU_ASSERT_EQUAL(take(&r, keys, sizeof(keys)), 0);
	dtmf_tx_free(tx);
	rig_close(&r);
}

/* Presses nobody takes: STREAM's queue keeps the first 16. A codec
 * change to G.711 without telephone-event turns in-band listening on. */
static void test_queue_full_and_change(void)
{
	struct rig r;
	int16_t silence[G711_N] = {0};
	char keys[32] = "";
	rig_open(&r, TE_PT);
	for (int i = 0; i < 20; i++)
		te_event(&r, 1000 + (uint32_t)i * 800, (unsigned)i % 10, true,
			 400);
	frame(&r, silence, NULL);
	CU_ASSERT_EQUAL(take(&r, keys, sizeof(keys)), 16);
	CU_ASSERT_STRING_EQUAL(keys, "0123456789012345");

	struct stream_params p = {.rtp_peer = r.phone_addr,
				  .rtcp_peer = r.phone_addr,
				  .codec = CODEC_PCMU,
				  .te_pt = -1,
				  .ptime_ms = 20,
				  .send = true,
				  .recv = true};
	CU_ASSERT_EQUAL(stream_apply(r.s, &p), 0);
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	dtmf_tx_put(tx, "#", 1);
	int16_t pcm[G711_N];
	keys[0] = '\0';
	for (int i = 0; i < 20; i++) {
		memset(pcm, 0, sizeof(pcm));
		dtmf_tx(tx, pcm, G711_N);
		frame(&r, pcm, NULL);
	}
	take(&r, keys, sizeof(keys));
	CU_ASSERT_STRING_EQUAL(keys, "#");
	dtmf_tx_free(tx);
	rig_close(&r);
}

/* A G.722 phone without telephone-event (a re-INVITE from G.711): a "5"
 * as dual tones at 16 kHz, through G.722, between stretches of a 400 Hz
 * tone. The digit is heard, and the room hears none of its 770 and 1336
 * Hz but the 400 Hz tone, 40 ms late. */
static void test_inband_g722(void)
{
	struct rig r;
	enum { FRAMES = 60, N = 320, KEY_AT = 20 * N + 160, KEY_N = 8 * N };
	static int16_t phone[FRAMES * N], lo[KEY_N], hi[KEY_N];
	static int16_t room[FRAMES][ROOM_N];
	char keys[8] = "";
	unit_sine(phone, FRAMES * N, 400, 16000, 6000, 0);
	unit_sine(lo, KEY_N, 770, 16000, 7000, 0);
	unit_sine(hi, KEY_N, 1336, 16000, 9000, 0);
	for (size_t i = 0; i < KEY_N; i++)
		phone[KEY_AT + i] = (int16_t)(lo[i] + hi[i]);
	rig_open(&r, -1);
	struct stream_params p = {.rtp_peer = r.phone_addr,
				  .rtcp_peer = r.phone_addr,
				  .codec = CODEC_G722,
				  .pt = 9,
				  .te_pt = -1,
				  .ptime_ms = 20,
				  .send = true,
				  .recv = true};
	CU_ASSERT_FATAL(stream_apply(r.s, &p) == 0);
	codec_free(r.codec);
	CU_ASSERT_FATAL(codec_new(&r.codec, CODEC_G722) == 0);
	r.pt = 9;
	r.frame_n = N;
	for (int i = 0; i < FRAMES; i++)
		frame(&r, phone + i * N, room[i]);
	take(&r, keys, sizeof(keys));
	CU_ASSERT_STRING_EQUAL(keys, "5");
	int tone_frames = 0;
	/* Frame 2, the first heard, is G.722's start from a zeroed state,
	 * a little broadband; the key is at frames 20-29. */
	for (int i = 3; i < FRAMES; i++) {
		double a = amp_at(room[i], 770), b = amp_at(room[i], 1336);
		CU_ASSERT(a < 60 && b < 60);
		if (a >= 60 || b >= 60)
			printf("\n  frame %d: 770 Hz %.0f, 1336 Hz %.0f\n", i,
			       a, b);
		tone_frames += amp_at(room[i], 400) > 4000;
	}
	CU_ASSERT(tone_frames >= FRAMES - 3 - 9 - 2 - 4);
	CU_ASSERT(amp_at(room[1], 400) < 100);
	CU_ASSERT(amp_at(room[3], 400) > 4000);
	rig_close(&r);
}

static const struct unit_test tests[] = {
    {"rfc 4733 presses, audio untouched", test_rfc4733},
    {"rfc 4733 end packets lost", test_rfc4733_lost_end},
    {"in-band digit cut out of the room", test_inband_cut_out},
    {"no in-band listening with telephone-event", test_inband_off_with_te},
    {"held audio comes out when the caller stops", test_inband_drained},
    {"voice through losses is not silenced", test_inband_voice_through_loss},
    {"G.722 in-band digit cut out of the room", test_inband_g722},
    {"queue full, codec change", test_queue_full_and_change},
    {"in-band key while packets stall", test_inband_stall},
    {NULL, NULL},
};

UNIT_MAIN("stream_dtmf", tests)
