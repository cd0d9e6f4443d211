/* test_codec_loss.c: G.722 through spandsp, and what every codec does
 * when a packet is lost (rtp/codec.c): concealment that continues a tone
 * without a click and fades over a long loss, and Opus in-band FEC, which
 * must bring back a lost frame much better than concealment does.
 *
 * A click is measured as the largest second difference of the signal
 * (|x[n+1] - 2 x[n] + x[n-1]|) around the loss beyond the largest one of
 * the same tone where nothing was lost, as a fraction of the tone's
 * amplitude: a sine's second difference is small and smooth, a step or a
 * kink is not. The tones have no whole number of cycles in 20 ms, so that
 * a frame does not begin at a zero crossing, where a gap would not show. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <math.h>
#include <opus.h>
#include <spandsp.h>
#include <stdio.h>
#include <string.h>

#define SECOND_16K 16000

static double max_d2(const int16_t *x, size_t from, size_t to)
{
	double m = 0;
	for (size_t i = from; i < to; i++) {
		double d = fabs((double)x[i + 1] - 2.0 * x[i] + x[i - 1]);
		if (d > m)
			m = d;
	}
	return m;
}

static double snr_db(const int16_t *ref, const int16_t *x, size_t n)
{
	double s = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)ref[i] - x[i];
		s += (double)ref[i] * ref[i];
		e += d * d;
	}
	return 10 * log10(s / (e + 1e-9));
}

/* ---- G.722 --------------------------------------------------------------- */

static void test_g722_table(void)
{
	const struct codec_desc *d = codec_by_name("g722", 8000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->id, CODEC_G722);
	CU_ASSERT_EQUAL(d->static_pt, 9);
	/* RFC 3551 4.5.2: the RTP clock says 8000 though it samples at 16k */
	CU_ASSERT_EQUAL(d->rtp_clock_hz, 8000);
	CU_ASSERT_EQUAL(d->pcm_rate_hz, 16000);
	CU_ASSERT_STRING_EQUAL(d->name, "G722");
	CU_ASSERT_PTR_NULL(codec_by_name("G722", 16000));
}

/* A tone in each band keeps its frequency and its level; 20 ms is 320
 * samples and 160 bytes (64 kb/s). */
static void test_g722_round_trip(void)
{
	static const double freqs[] = {300, 1000, 3000, 6000};
	int16_t in[320], out[320];
	uint8_t pay[200];
	struct codec *c;

	for (size_t k = 0; k < 4; k++) {
		double f = freqs[k];
		CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_G722), 0);
		for (size_t fr = 0; fr < 25; fr++) {
			unit_sine(in, 320, f, 16000, 8000, fr * 320);
			CU_ASSERT_EQUAL(codec_encode(c, in, 320, pay, 200),
					160);
			CU_ASSERT_EQUAL(codec_decode(c, pay, 160, out, 320),
					320);
			if (fr < 5)
				continue;
			double amp = unit_tone_amp(out, 320, f, 16000);
			double r = unit_rms(out, 320);
			CU_ASSERT_DOUBLE_EQUAL(amp, 8000, 8000 * 0.12);
			/* the energy is the tone's: no shift in frequency */
			CU_ASSERT(amp * amp / 2 > 0.95 * r * r);
		}
		codec_free(c);
	}
	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_G722), 0);
	CU_ASSERT_EQUAL(codec_encode(c, in, 320, pay, 159), -ENOSPC);
	CU_ASSERT_EQUAL(codec_decode(c, pay, 160, out, 319), -ENOSPC);
	CU_ASSERT_EQUAL(codec_decode(c, pay, 0, out, 320), 0);
	CU_ASSERT_EQUAL(codec_decode_fec(c, pay, 160, out, 320), -ENOTSUP);
	codec_free(c);
}

/* ---- concealment, every codec ------------------------------------------- */

struct plc_case {
	enum codec_id id;
	uint32_t rate;
	double f;
};

struct plc_result {
	double click;	 /* excess curvature around the loss / amplitude */
	double gap;	 /* the same, with the lost frame left silent */
	double held;	 /* tone amplitude in the lost frame / the tone's */
	double after;	 /* tone amplitude in the frame after / the tone's */
	double rms_long; /* RMS 80-100 ms into a long loss / the tone's */
};

/* 30 frames of a tone at amplitude 8000; frame 20 (or, long, 20-29) is
 * lost and concealed. Compared with the same tone decoded whole. */
static void run_plc(const struct plc_case *pc, bool long_loss,
		    struct plc_result *r)
{
	enum { FRAMES = 30, LOST = 20 };
	size_t n = pc->rate / 50;
	static int16_t ref[FRAMES * 960], out[FRAMES * 960];
	static int16_t gap[3 * 960]; /* the lost frame silent, around it */
	int16_t in[960];
	uint8_t pay[1500];
	struct codec *a, *b;

	CU_ASSERT_FATAL(codec_new(&a, pc->id) == 0);
	CU_ASSERT_FATAL(codec_new(&b, pc->id) == 0);
	for (size_t fr = 0; fr < FRAMES; fr++) {
		unit_sine(in, n, pc->f, pc->rate, 8000, fr * n);
		int len = codec_encode(a, in, n, pay, sizeof(pay));
		CU_ASSERT_FATAL(len > 0);
		int16_t *o = out + fr * n;
		/* the reference: a third decoder that loses nothing */
		CU_ASSERT(codec_decode(a, pay, (size_t)len, ref + fr * n, n) ==
			  (int)n);
		bool lost = fr == LOST || (long_loss && fr >= LOST);
		int got = lost ? codec_conceal(b, o, n)
			       : codec_decode(b, pay, (size_t)len, o, n);
		CU_ASSERT(got == (int)n);
		if (fr + 1 >= LOST && fr <= LOST + 1)
			memcpy(gap + (fr + 1 - LOST) * n, o, n * sizeof(*gap));
		if (fr == LOST)
			memset(gap + n, 0, n * sizeof(*gap));
	}
	double steady = max_d2(ref, 5 * n, LOST * n - 1);
	r->click =
	    (max_d2(out, LOST * n - n / 4, (LOST + 2) * n) - steady) / 8000;
	r->gap = (max_d2(gap, n - n / 4, 3 * n - 1) - steady) / 8000;
	r->held = unit_tone_amp(out + LOST * n, n, pc->f, pc->rate) / 8000;
	/* RMS: Opus may resume in another phase, which Goertzel would
	 * count as a loss of level */
	r->after = unit_rms(out + (LOST + 1) * n, n) / (8000 / sqrt(2));
	r->rms_long = unit_rms(out + (LOST + 4) * n, n) / (8000 / sqrt(2));
	codec_free(a);
	codec_free(b);
}

static void test_plc_every_codec(void)
{
	static const struct plc_case cases[] = {
	    {CODEC_PCMU, 8000, 440},  {CODEC_PCMA, 8000, 770},
	    {CODEC_G722, 16000, 440}, {CODEC_G722, 16000, 770},
	    {CODEC_G722, 16000, 310}, {CODEC_OPUS, 48000, 440},
	    {CODEC_OPUS, 48000, 770},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct plc_case *pc = &cases[i];
		struct plc_result one, lng;
		run_plc(pc, false, &one);
		run_plc(pc, true, &lng);
		printf("\n  %s %4.0f Hz: click %.2f (silent gap: %.1f), held "
		       "%.2f, after %.2f, long loss rms at 80-100 ms %.4f",
		       codec_by_id(pc->id)->name, pc->f, one.click, one.gap,
		       one.held, one.after, lng.rms_long);
		/* no click where the loss begins or ends, where a silent
		 * gap makes one many times the tone's own curvature */
		CU_ASSERT(one.click < 0.15);
		CU_ASSERT(one.gap > 0.2 && one.gap > 3 * one.click);
		/* the tone goes on through the lost frame, and after it */
		CU_ASSERT(one.held > 0.3);
		CU_ASSERT(one.after > 0.35);
		/* a long loss fades to silence */
		CU_ASSERT(lng.rms_long < 0.01);
	}
}

/* Why G.722's concealment runs on the 16 kHz signal: spandsp's PLC run
 * on the two 8 kHz polyphase halves (even and odd samples, each a state
 * of its own) would keep 8 kHz's 50 ms fade and pitch range, but the
 * halves choose their periods apart and the seam between them buzzes at
 * 8 kHz. Measured on a 200 Hz tone through G.722, 20 ms lost. */
static void test_g722_plc_representation(void)
{
	enum { N = SECOND_16K / 2, LOST = 13 * 320 };
	static int16_t in[N], ref[N], direct[N], poly[N];
	uint8_t bits[N / 2];

	unit_sine(in, N, 200, 16000, 10000, 0);
	g722_encode_state_t *e = g722_encode_init(NULL, 64000, 0);
	g722_decode_state_t *d = g722_decode_init(NULL, 64000, 0);
	CU_ASSERT_FATAL(e && d);
	int nb = g722_encode(e, bits, in, N);
	CU_ASSERT_EQUAL(g722_decode(d, ref, bits, nb), N);
	g722_encode_free(e);
	g722_decode_free(d);

	memcpy(direct, ref, sizeof(ref));
	memcpy(poly, ref, sizeof(ref));
	/* Everything before the loss goes in at once (the same as frame by
	 * frame: plc_rx changes nothing until after a gap), which leaves
	 * spandsp 0.0.6 no history to rotate when the gap starts (its
	 * rotation overlaps memcpy ranges; rtp/codec.c rotates it first). */
	static int16_t half[2][N / 2];
	plc_state_t p16, ph[2];
	plc_init(&p16);
	plc_rx(&p16, direct, LOST);
	plc_fillin(&p16, direct + LOST, 320);
	plc_rx(&p16, direct + LOST + 320, N - LOST - 320);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < N / 2; i++)
			half[k][i] = poly[2 * i + (size_t)k];
		plc_init(&ph[k]);
		plc_rx(&ph[k], half[k], LOST / 2);
		plc_fillin(&ph[k], half[k] + LOST / 2, 160);
		plc_rx(&ph[k], half[k] + LOST / 2 + 160, (N - LOST) / 2 - 160);
		for (size_t i = 0; i < N / 2; i++)
			poly[2 * i + (size_t)k] = half[k][i];
	}
	double steady = max_d2(ref, 1000, LOST - 1);
	double c16 = (max_d2(direct, LOST - 80, LOST + 640) - steady) / 10000;
	double c8 = (max_d2(poly, LOST - 80, LOST + 640) - steady) / 10000;
	double s16 = snr_db(ref + LOST, direct + LOST, 160);
	double s8 = snr_db(ref + LOST, poly + LOST, 160);
	printf("\n  G.722 200 Hz, 20 ms lost: at 16 kHz click %.1f, first "
	       "10 ms SNR %.1f dB; two 8 kHz halves click %.1f, SNR %.1f dB",
	       c16, s16, c8, s8);
	CU_ASSERT(c16 < 0.1);
	CU_ASSERT(c8 > 0.2 && c8 > 3 * c16);
	CU_ASSERT(s16 > 10.0);
}

/* A voice-like signal: harmonics of a pitch gliding 110-190 Hz under
 * three formants, in syllables of 240 ms with 80 ms pauses (SILK's voice
 * detector takes a sound that never pauses for noise, and codes no FEC
 * for noise). */
static bool voiced(size_t frame)
{
	return frame % 16 < 12;
}

static void voice(int16_t *pcm, size_t n, size_t at)
{
	for (size_t i = 0; i < n; i++) {
		double t = (double)(i + at) / 48000;
		double f0 = 150 + 40 * sin(2 * M_PI * 1.3 * t);
		double ph =
		    2 * M_PI *
		    (150 * t - 40 / (2 * M_PI * 1.3) * cos(2 * M_PI * 1.3 * t));
		double v = 0;
		for (int h = 1; h * f0 < 4000; h++) {
			double fr = h * f0;
			double a = exp(-pow((fr - 700) / 300, 2)) +
				   0.6 * exp(-pow((fr - 1200) / 400, 2)) +
				   0.3 * exp(-pow((fr - 2600) / 500, 2)) + 0.05;
			v += a / h * sin(h * ph);
		}
		pcm[i] = voiced((i + at) / 960) ? (int16_t)lrint(6000 * v) : 0;
	}
}

/* A G.722 packet whose turn was concealed comes late, before the next one
 * is decoded (codec_catch_up): the decoder takes it in and is back in
 * step with the sender at once. Without it, the ADPCM state that missed
 * 20 ms stays off for some 120 ms: measured against the same speech-like
 * signal decoded without a loss, from 5 ms after the loss (past the
 * concealment's join) to 120 ms after it. */
#define SNR_SAME 99.0 /* dB: what is printed for a bit-exact match */

static double g722_after_loss(bool catch_up, double *worst)
{
	enum { N = 320, FRAMES = 34, LOST = 20 };
	static int16_t in48[FRAMES * 960], in[FRAMES * N];
	static int16_t ref[FRAMES * N], out[FRAMES * N];
	uint8_t pay[FRAMES][N / 2];
	struct codec *enc, *dec, *whole;

	voice(in48, FRAMES * 960, 0); /* harmonics below 4 kHz: 3:1 is safe */
	for (size_t i = 0; i < FRAMES * N; i++)
		in[i] = in48[3 * i];
	CU_ASSERT_FATAL(codec_new(&enc, CODEC_G722) == 0);
	CU_ASSERT_FATAL(codec_new(&dec, CODEC_G722) == 0);
	CU_ASSERT_FATAL(codec_new(&whole, CODEC_G722) == 0);
	for (size_t f = 0; f < FRAMES; f++) {
		CU_ASSERT_FATAL(codec_encode(enc, in + f * N, N, pay[f],
					     sizeof(pay[f])) == N / 2);
		CU_ASSERT(codec_decode(whole, pay[f], N / 2, ref + f * N, N) ==
			  N);
		if (f == LOST) {
			CU_ASSERT(codec_conceal(dec, out + f * N, N) == N);
			if (catch_up)
				CU_ASSERT(codec_catch_up(dec, pay[f], N / 2) ==
					  0);
			continue;
		}
		CU_ASSERT(codec_decode(dec, pay[f], N / 2, out + f * N, N) ==
			  N);
	}
	*worst = SNR_SAME;
	for (size_t f = LOST + 1; f <= LOST + 6; f++) {
		size_t from = f == LOST + 1 ? 80 : 0;
		double snr =
		    snr_db(ref + f * N + from, out + f * N + from, N - from);
		*worst = snr < *worst ? snr : *worst;
	}
	double all = snr_db(ref + (LOST + 1) * N + 80,
			    out + (LOST + 1) * N + 80, 6 * N - 80);
	all = all < SNR_SAME ? all : SNR_SAME;
	codec_free(enc);
	codec_free(dec);
	codec_free(whole);
	return all;
}

static void test_g722_catch_up(void)
{
	double worst_off, worst_on;
	double off = g722_after_loss(false, &worst_off);
	double on = g722_after_loss(true, &worst_on);
	printf("\n  G.722, 120 ms after a 20 ms loss: SNR %.1f dB (worst "
	       "frame %.1f) concealed only, %.1f dB (worst %.1f) with the late "
	       "packet caught up on (99: the same samples)",
	       off, worst_off, on, worst_on);
	CU_ASSERT(worst_on > 30);
	CU_ASSERT(on > off + 10);

	struct codec *c;
	uint8_t pay[160] = {0};
	CU_ASSERT_EQUAL(codec_catch_up(NULL, pay, 160), -EINVAL);
	CU_ASSERT_FATAL(codec_new(&c, CODEC_PCMU) == 0);
	CU_ASSERT_EQUAL(codec_catch_up(c, pay, 160), -ENOTSUP);
	codec_free(c);
	CU_ASSERT_FATAL(codec_new(&c, CODEC_OPUS) == 0);
	CU_ASSERT_EQUAL(codec_catch_up(c, pay, 160), -ENOTSUP);
	codec_free(c);
	CU_ASSERT_FATAL(codec_new_for(&c, CODEC_G722, CODEC_ENCODE) == 0);
	CU_ASSERT_EQUAL(codec_catch_up(c, pay, 160), -EINVAL);
	codec_free(c);
}

/* ---- Opus in-band FEC ---------------------------------------------------- */

static void test_opus_fec(void)
{
	enum { FRAMES = 60, N = 960 };
	static uint8_t pay[FRAMES][1500];
	static int16_t ref[FRAMES * N], plc[FRAMES * N], fec[FRAMES * N];
	int len[FRAMES];
	int16_t in[N];
	struct codec *enc, *dr, *dp, *df;

	/* Our encoder as it starts: FEC on, FECLOSS_UNKNOWN (10%) expected. */
	CU_ASSERT_FATAL(codec_new_for(&enc, CODEC_OPUS, CODEC_ENCODE) == 0);
	unsigned with_fec = 0, could = 0;
	for (size_t f = 0; f < FRAMES; f++) {
		voice(in, N, f * N);
		len[f] = codec_encode(enc, in, N, pay[f], sizeof(pay[f]));
		CU_ASSERT_FATAL(len[f] > 0);
		/* a packet carries FEC for the frame before it */
		if (f > 0 && voiced(f - 1) && voiced(f)) {
			could++;
			with_fec += codec_opus_has_fec(pay[f], (size_t)len[f]);
		}
	}
	codec_free(enc);
	printf("\n  our encoder: %u of %u packets after speech carry FEC",
	       with_fec, could);
	CU_ASSERT(with_fec >= could * 9 / 10);

	/* The same signal without FEC: the flag reads clear. */
	int err;
	OpusEncoder *plain =
	    opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	CU_ASSERT_FATAL(plain != NULL);
	opus_encoder_ctl(plain, OPUS_SET_BITRATE(32000));
	unsigned plain_fec = 0;
	for (size_t f = 0; f < 12; f++) {
		uint8_t p[1500];
		voice(in, N, f * N);
		int l = opus_encode(plain, in, N, p, sizeof(p));
		CU_ASSERT_FATAL(l > 0);
		plain_fec += codec_opus_has_fec(p, (size_t)l);
	}
	opus_encoder_destroy(plain);
	CU_ASSERT_EQUAL(plain_fec, 0);

	/* Lose frames 21 and 37, in syllables: one decoder conceals, the other
	 * takes them from the next packet's FEC. */
	CU_ASSERT_FATAL(codec_new(&dr, CODEC_OPUS) == 0);
	CU_ASSERT_FATAL(codec_new(&dp, CODEC_OPUS) == 0);
	CU_ASSERT_FATAL(codec_new(&df, CODEC_OPUS) == 0);
	for (size_t f = 0; f < FRAMES; f++) {
		size_t l = (size_t)len[f];
		bool lost = f == 21 || f == 37;
		CU_ASSERT(codec_decode(dr, pay[f], l, ref + f * N, N) == N);
		if (lost) {
			CU_ASSERT(codec_conceal(dp, plc + f * N, N) == N);
			CU_ASSERT(codec_decode_fec(df, pay[f + 1],
						   (size_t)len[f + 1],
						   fec + f * N, N) == N);
		} else {
			CU_ASSERT(codec_decode(dp, pay[f], l, plc + f * N, N) ==
				  N);
			CU_ASSERT(codec_decode(df, pay[f], l, fec + f * N, N) ==
				  N);
		}
	}
	for (size_t f = 21; f <= 37; f += 16) {
		double s_plc = snr_db(ref + f * N, plc + f * N, N);
		double s_fec = snr_db(ref + f * N, fec + f * N, N);
		printf("\n  frame %zu lost: SNR by PLC %.1f dB, by FEC %.1f dB",
		       f, s_plc, s_fec);
		CU_ASSERT(s_fec > s_plc + 6);
		CU_ASSERT(s_fec > 5);
	}
	/* a packet without FEC gives concealment, never an error */
	const uint8_t celt[] = {0xf8, 0xff, 0xfe}; /* CELT-only TOC */
	CU_ASSERT_FALSE(codec_opus_has_fec(celt, sizeof(celt)));
	CU_ASSERT_FALSE(codec_opus_has_fec(NULL, 0));
	CU_ASSERT_EQUAL(codec_decode_fec(df, pay[0], 0, fec, N), -EINVAL);
	codec_free(dr);
	codec_free(dp);
	codec_free(df);
}

/* Encodes frames [from, to) of the voice with enc; counts the packets
 * after speech that carry FEC (of could) and checks, at frame lost, what a
 * decoder asked for FEC makes of the next packet: the concealment a twin
 * decoder makes when the packet has none, something else when it has. */
static unsigned fec_packets(struct codec *enc, size_t from, size_t to,
			    size_t lost, unsigned *could)
{
	enum { N = 960 };
	uint8_t pay[1500];
	int16_t in[N], a[N], b[N];
	struct codec *da, *db;
	unsigned with = 0;

	CU_ASSERT_FATAL(codec_new(&da, CODEC_OPUS) == 0);
	CU_ASSERT_FATAL(codec_new(&db, CODEC_OPUS) == 0);
	*could = 0;
	for (size_t f = from; f < to; f++) {
		voice(in, N, f * N);
		int len = codec_encode(enc, in, N, pay, sizeof(pay));
		CU_ASSERT_FATAL(len > 0);
		bool fec = codec_opus_has_fec(pay, (size_t)len);
		if (f > from && voiced(f - 1) && voiced(f)) {
			(*could)++;
			with += fec;
		}
		if (f == lost)
			continue; /* neither decoder gets it */
		if (f == lost + 1) {
			CU_ASSERT(
			    codec_decode_fec(da, pay, (size_t)len, a, N) == N);
			CU_ASSERT(codec_conceal(db, b, N) == N);
			CU_ASSERT_EQUAL(memcmp(a, b, sizeof(a)) != 0, fec);
		}
		CU_ASSERT(codec_decode(da, pay, (size_t)len, a, N) == N);
		CU_ASSERT(codec_decode(db, pay, (size_t)len, b, N) == N);
	}
	codec_free(da);
	codec_free(db);
	return with;
}

/* The expected loss an encoder is told (from its listeners' reports,
 * rtp/fecloss.c) decides whether its packets carry FEC at all: none at 0,
 * in nearly every packet after speech at 10%, and none again once set back
 * to 0, on the same encoder mid-stream. */
static void test_opus_fec_follows_loss(void)
{
	struct codec *enc, *dec;
	unsigned could, with;

	CU_ASSERT_FATAL(codec_new_for(&enc, CODEC_OPUS, CODEC_ENCODE) == 0);
	CU_ASSERT_EQUAL(codec_set_fec_loss(enc, 0), 0);
	with = fec_packets(enc, 0, 48, 21, &could);
	printf("\n  expecting 0%%: %u of %u packets carry FEC", with, could);
	CU_ASSERT(could >= 30);
	CU_ASSERT_EQUAL(with, 0);
	CU_ASSERT_EQUAL(codec_set_fec_loss(enc, 10), 0);
	with = fec_packets(enc, 48, 96, 69, &could);
	printf("\n  expecting 10%%: %u of %u", with, could);
	CU_ASSERT(with >= could * 9 / 10);
	CU_ASSERT_EQUAL(codec_set_fec_loss(enc, 0), 0);
	with = fec_packets(enc, 96, 144, 117, &could);
	printf("\n  back to 0%%: %u of %u", with, could);
	CU_ASSERT_EQUAL(with, 0);
	/* only an Opus encoder takes it, and only a percentage */
	CU_ASSERT_EQUAL(codec_set_fec_loss(enc, 101), -EINVAL);
	CU_ASSERT_EQUAL(codec_set_fec_loss(NULL, 10), -EINVAL);
	codec_free(enc);
	CU_ASSERT_FATAL(codec_new_for(&dec, CODEC_OPUS, CODEC_DECODE) == 0);
	CU_ASSERT_EQUAL(codec_set_fec_loss(dec, 10), -EINVAL);
	codec_free(dec);
	CU_ASSERT_FATAL(codec_new(&enc, CODEC_PCMU) == 0);
	CU_ASSERT_EQUAL(codec_set_fec_loss(enc, 10), -EINVAL);
	codec_free(enc);
}

static const struct unit_test tests[] = {
    {"g722 in the table", test_g722_table},
    {"g722 keeps tones in both bands", test_g722_round_trip},
    {"plc of every codec: no click, fade", test_plc_every_codec},
    {"g722 plc on the 16 kHz signal", test_g722_plc_representation},
    {"g722 late packet caught up on", test_g722_catch_up},
    {"opus fec beats plc", test_opus_fec},
    {"opus fec only when loss is expected", test_opus_fec_follows_loss},
    {NULL, NULL},
};

UNIT_MAIN("codec_loss", tests)
