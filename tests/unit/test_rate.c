/* test_rate.c: the room rate (mixer/rate.c). The mixer's ticks are run
 * here, one after another on a clock of our own (mixer_create, no
 * thread), so what the phones hear does not depend on this machine's load.
 *
 * Two PCMU phones talk (440 Hz and 700 Hz sines) and two listen, one of
 * them with a listen gain (its own mix and limiter); the room mixes at
 * 8 kHz. An Opus phone joins: the room goes to 48 kHz; it leaves: back to
 * 8 kHz. Across both changes, every PCMU phone must hear its tones with no
 * step larger than the tones' own slope allows (a click, a gap or a jump
 * in time would make one) and at a steady level (within 1 dB), whichever
 * path it hears through: the shared encode, its own mix as a speaker, its
 * own mix with a gain. The recording tap's 48 kHz frames span the changes
 * the same way. A listener's codec change (a re-INVITE) moves the rate
 * in the same way. (Without the tick of warming the next rate's converters,
 * or without their equal delays, the steps here reach 2-5 times what the
 * tones allow and the level drops 1.3-7 dB.) */
#include "mixer/mixer_priv.h"

#include "core/core.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_PHONES 5
#define OPUS	 4 /* the phone that joins and leaves */
#define PHONE_N	 160
#define TICKS	 200
#define JOIN_AT	 70
#define LEAVE_AT 130
#define HEARD_N	 (TICKS * PHONE_N)
#define REC_N	 (TICKS * MIXER_REC_MAX_SAMPLES)

struct phone {
	int s_rtp, ph_rtp;
	struct sockaddr_storage s_addr, ph_addr;
	struct stream *s;
	struct stream_params sp;
	struct codec *enc, *dec;
	double f_hz, amp; /* amp 0: silent */
	uint16_t seq;
	uint32_t ts;
	uint64_t sample;
	int16_t heard[HEARD_N];
	size_t heard_n;
};

static struct phone ph[N_PHONES];
static int16_t rec[REC_N];
static size_t rec_n;

static void phone_open(struct phone *p, int i, enum codec_id codec, double f_hz,
		       double amp)
{
	memset(p, 0, sizeof(*p));
	p->s_rtp = unit_udp_socket(&p->s_addr);
	p->ph_rtp = unit_udp_socket(&p->ph_addr);
	p->f_hz = f_hz;
	p->amp = amp;
	p->seq = (uint16_t)(1000 * i);
	CU_ASSERT_FATAL(codec_new(&p->enc, CODEC_PCMU) == 0);
	CU_ASSERT_FATAL(codec_new(&p->dec, CODEC_PCMU) == 0);
	struct stream_params sp = {
	    .rtp_peer = p->ph_addr,
	    .codec = codec,
	    .pt = codec == CODEC_OPUS ? 111 : 0,
	    .te_pt = -1,
	    .ptime_ms = 20,
	    .send = true,
	    .recv = true,
	};
	p->sp = sp;
	/* Made at a rate the room is not at: it joins at the room's. */
	CU_ASSERT_FATAL(stream_new(&p->s, p->s_rtp, -1, 16000,
				   0xd0000000u + (uint32_t)i, &sp) == 0);
}

static void phone_close(struct phone *p)
{
	stream_free(p->s);
	codec_free(p->enc);
	codec_free(p->dec);
	close(p->s_rtp);
	close(p->ph_rtp);
}

static void phone_send(struct phone *p)
{
	int16_t pcm[PHONE_N];
	uint8_t payload[PHONE_N], pkt[300];

	if (!p->amp)
		return;
	unit_sine(pcm, PHONE_N, p->f_hz, 8000, p->amp, p->sample);
	p->sample += PHONE_N;
	CU_ASSERT(codec_encode(p->enc, pcm, PHONE_N, payload,
			       sizeof(payload)) == PHONE_N);
	struct rtppkt r = {.pt = 0,
			   .seq = p->seq++,
			   .ts = p->ts,
			   .ssrc = 0xee000000u + (uint32_t)p->f_hz,
			   .payload = payload,
			   .payload_bytes = PHONE_N};
	p->ts += PHONE_N;
	int len = rtppkt_build(pkt, sizeof(pkt), &r);
	CU_ASSERT(sendto(p->ph_rtp, pkt, (size_t)len, 0,
			 (struct sockaddr *)&p->s_addr,
			 sizeof(struct sockaddr_in)) == len);
}

static void phone_drain(struct phone *p, bool pcmu)
{
	uint8_t buf[RTPPKT_MAX_BYTES];
	ssize_t got;
	struct rtppkt r;

	while ((got = recv(p->ph_rtp, buf, sizeof(buf), 0)) > 0) {
		if (!pcmu || rtppkt_is_rtcp(buf, (size_t)got) ||
		    rtppkt_parse(&r, buf, (size_t)got) < 0 || r.pt != 0 ||
		    p->heard_n + PHONE_N > HEARD_N)
			continue;
		int n = codec_decode(p->dec, r.payload, r.payload_bytes,
				     p->heard + p->heard_n, PHONE_N);
		if (n > 0)
			p->heard_n += (size_t)n;
	}
}

static void post(struct mixer *m, enum mixer_cmd_kind kind, uint32_t id,
		 struct stream *s, int listen_db)
{
	struct mixer_cmd c = {.kind = kind, .part_id = id, .stream = s};
	c.controls.listen_gain_db = (int8_t)listen_db;
	CU_ASSERT_FATAL(mixer_post(m, &c) == 0);
}

static void take_rec(struct spscq *q)
{
	struct mixer_rec_frame f;
	while (spscq_pop(q, &f) == 0) {
		CU_ASSERT_EQUAL(f.n_samples, MIXER_REC_MAX_SAMPLES);
		if (rec_n + MIXER_REC_MAX_SAMPLES <= REC_N) {
			memcpy(rec + rec_n, f.pcm, sizeof(f.pcm));
			rec_n += MIXER_REC_MAX_SAMPLES;
		}
	}
}

/* The largest step between samples from..to, against the largest a sum
 * of sines allows: 2 pi f amp / rate each. */
static double worst_step(const int16_t *x, size_t from, size_t to)
{
	double w = 0;
	for (size_t i = from + 1; i < to; i++)
		w = fmax(w, fabs((double)x[i] - x[i - 1]));
	return w;
}

static double slope(const double *f, const double *amp, size_t n, double hz)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += 2 * M_PI * f[i] * amp[i] / hz;
	return s;
}

/* The level of f_hz in 50 ms windows every 10 ms from..to: each must be
 * within 1 dB of the first. */
static void steady_level(const int16_t *x, size_t from, size_t to, double f_hz,
			 double hz)
{
	size_t win = (size_t)(hz / 20), step = (size_t)(hz / 100);
	double ref = unit_tone_amp(x + from, win, f_hz, hz), lo = ref, hi = ref;
	for (size_t at = from; at + win <= to; at += step) {
		double a = unit_tone_amp(x + at, win, f_hz, hz);
		lo = fmin(lo, a);
		hi = fmax(hi, a);
	}
	CU_ASSERT(ref > 1000);
	CU_ASSERT(20 * log10(hi / ref) < 1.0);
	CU_ASSERT(20 * log10(ref / lo) < 1.0);
}

static void test_change_without_click(void)
{
	struct mixer *m;
	struct spscq *q;
	struct mixer_params mp = {
	    .room = "rate", .rate_hz = 48000, .notify_fd = -1};
	uint32_t rate_at[TICKS];

	CU_ASSERT_FATAL(mixer_create(&m, &mp) == 0);
	CU_ASSERT_FATAL(spscq_new(&q, 64, sizeof(struct mixer_rec_frame)) == 0);
	phone_open(&ph[0], 0, CODEC_PCMU, 440, 8000);
	phone_open(&ph[1], 1, CODEC_PCMU, 700, 6000);
	phone_open(&ph[2], 2, CODEC_PCMU, 0, 0);
	phone_open(&ph[3], 3, CODEC_PCMU, 0, 0);
	phone_open(&ph[OPUS], OPUS, CODEC_OPUS, 0, 0);
	for (int i = 0; i < OPUS; i++)
		post(m, MIXER_ADD, (uint32_t)i + 1, ph[i].s, i == 3 ? -6 : 0);
	struct mixer_cmd rc = {.kind = MIXER_REC_START, .rec = q};
	CU_ASSERT_FATAL(mixer_post(m, &rc) == 0);

	uint64_t now = 1000000000ull;
	for (int t = 0; t < TICKS; t++, now += 20000000ull) {
		if (t == JOIN_AT)
			post(m, MIXER_ADD, OPUS + 1, ph[OPUS].s, 0);
		if (t == LEAVE_AT)
			post(m, MIXER_REMOVE, OPUS + 1, NULL, 0);
		for (int i = 0; i < N_PHONES; i++) {
			phone_send(&ph[i]);
			if (t < JOIN_AT && i == OPUS)
				continue;
			if (t >= LEAVE_AT + 1 && i == OPUS)
				continue;
			stream_read_rtp(ph[i].s, now);
		}
		tick_run(m, now);
		rate_at[t] = m->p.rate_hz;
		for (int i = 0; i < N_PHONES; i++)
			phone_drain(&ph[i], i != OPUS);
		take_rec(q);
	}

	/* 8 kHz, 48 kHz from the tick after the Opus phone came, then back. */
	CU_ASSERT_EQUAL(rate_at[0], 8000);
	CU_ASSERT_EQUAL(rate_at[JOIN_AT - 1], 8000);
	CU_ASSERT_EQUAL(rate_at[JOIN_AT], 8000);
	CU_ASSERT_EQUAL(rate_at[JOIN_AT + 1], 48000);
	CU_ASSERT_EQUAL(rate_at[LEAVE_AT], 48000);
	CU_ASSERT_EQUAL(rate_at[LEAVE_AT + 1], 8000);
	CU_ASSERT_EQUAL(rate_at[TICKS - 1], 8000);
	struct mixer_stats st;
	mixer_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.rate_hz, 8000);
	CU_ASSERT_EQUAL(st.rate_changes, 3); /* 48 -> 8 at the first ADD */

	/* Judged from 1 s in (talkers chosen, jitter buffers settled) to the
	 * end: both changes lie inside. */
	const size_t from = 50 * PHONE_N;
	const double f[2] = {440, 700}, amp[2] = {8000, 6000};
	const double half[2] = {4000, 3000};
	struct {
		int phone;
		const double *f, *amp;
		size_t n;
	} who[] = {
	    {0, f + 1, amp + 1, 1}, /* a speaker: hears the other */
	    {1, f, amp, 1},
	    {2, f, amp, 2},  /* the shared encode */
	    {3, f, half, 2}, /* -6 dB: its own mix and limiter */
	};
	for (size_t w = 0; w < sizeof(who) / sizeof(who[0]); w++) {
		const struct phone *p = &ph[who[w].phone];
		CU_ASSERT_FATAL(p->heard_n > (TICKS - 10) * PHONE_N);
		double allowed = slope(who[w].f, who[w].amp, who[w].n, 8000);
		double got = worst_step(p->heard, from, p->heard_n);
		/* PCMU's own steps at these levels are 256-512. */
		CU_ASSERT(got < allowed * 1.1 + 600);
		if (got >= allowed * 1.1 + 600)
			fprintf(stderr, "phone %d: step %.0f, allowed %.0f\n",
				who[w].phone, got, allowed);
		for (size_t k = 0; k < who[w].n; k++)
			steady_level(p->heard, from, p->heard_n, who[w].f[k],
				     8000);
	}
	/* The recording: one rate throughout, no seam either. */
	size_t rfrom = 50 * MIXER_REC_MAX_SAMPLES;
	CU_ASSERT_FATAL(rec_n > (TICKS - 10) * MIXER_REC_MAX_SAMPLES);
	double rgot = worst_step(rec, rfrom, rec_n);
	CU_ASSERT(rgot < slope(f, amp, 2, 48000) * 1.1 + 200);
	steady_level(rec, rfrom, rec_n, 440, 48000);
	steady_level(rec, rfrom, rec_n, 700, 48000);

	mixer_stop(m);
	struct mixer_event ev;
	while (mixer_poll(m, &ev) == 0)
		;
	mixer_free(m);
	spscq_free(q);
	for (int i = 0; i < N_PHONES; i++)
		phone_close(&ph[i]);
}

/* A re-INVITE changes a listener's codec: PCMU to Opus takes the room to
 * 48 kHz, back to PCMU to 8 kHz; the two talkers hear each other through
 * both changes without a step or a change of level. */
static void test_codec_change(void)
{
	struct mixer *m;
	struct mixer_params mp = {
	    .room = "rate2", .rate_hz = 8000, .notify_fd = -1};
	const int up = 60, down = 110, ticks = 160;

	CU_ASSERT_FATAL(mixer_create(&m, &mp) == 0);
	phone_open(&ph[0], 0, CODEC_PCMU, 440, 8000);
	phone_open(&ph[1], 1, CODEC_PCMU, 700, 6000);
	phone_open(&ph[2], 2, CODEC_PCMU, 0, 0);
	for (int i = 0; i < 3; i++)
		post(m, MIXER_ADD, (uint32_t)i + 1, ph[i].s, 0);
	uint64_t now = 1000000000ull;
	for (int t = 0; t < ticks; t++, now += 20000000ull) {
		if (t == up || t == down) {
			struct mixer_cmd c = {.kind = MIXER_UPDATE,
					      .part_id = 3,
					      .params = ph[2].sp};
			c.params.codec = t == up ? CODEC_OPUS : CODEC_PCMU;
			c.params.pt = t == up ? 111 : 0;
			CU_ASSERT_FATAL(mixer_post(m, &c) == 0);
		}
		for (int i = 0; i < 3; i++) {
			phone_send(&ph[i]);
			stream_read_rtp(ph[i].s, now);
		}
		tick_run(m, now);
		if (t == up + 1 || t == down + 1)
			CU_ASSERT_EQUAL(m->p.rate_hz,
					t == up + 1 ? 48000 : 8000);
		for (int i = 0; i < 3; i++)
			phone_drain(&ph[i], i != 2);
	}
	const double f[2] = {440, 700}, amp[2] = {8000, 6000};
	for (int i = 0; i < 2; i++) {
		const struct phone *p = &ph[i];
		const double *fo = f + 1 - i, *ao = amp + 1 - i;
		CU_ASSERT_FATAL(p->heard_n > (size_t)(ticks - 10) * PHONE_N);
		CU_ASSERT(worst_step(p->heard, 50 * PHONE_N, p->heard_n) <
			  slope(fo, ao, 1, 8000) * 1.1 + 600);
		steady_level(p->heard, 50 * PHONE_N, p->heard_n, *fo, 8000);
	}
	struct mixer_stats st;
	mixer_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.rate_changes, 2);
	mixer_stop(m);
	struct mixer_event ev;
	while (mixer_poll(m, &ev) == 0)
		;
	mixer_free(m);
	for (int i = 0; i < 3; i++)
		phone_close(&ph[i]);
}

static const struct unit_test tests[] = {
    {"a re-INVITE's codec change: 8 -> 48 -> 8 kHz", test_codec_change},
    {"8 -> 48 -> 8 kHz: no click, steady level, every path",
     test_change_without_click},
    {NULL, NULL},
};

UNIT_MAIN("rate", tests)
