/* test_txenc.c: encoding the mix (rtp/txenc.c): the packet times a codec
 * can send, how many packets each 20 ms push completes, their RTP time
 * relative to the push, what they decode to, and dropping held audio. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#define ROOM_HZ 48000
#define ROOM_N	(ROOM_HZ / 50)

static void test_ptime(void)
{
	static const struct {
		enum codec_id codec;
		uint32_t asked, sent;
	} cases[] = {
	    {CODEC_PCMU, 0, 20},  {CODEC_PCMU, 5, 20},	{CODEC_PCMU, 10, 10},
	    {CODEC_PCMU, 30, 30}, {CODEC_PCMU, 35, 30}, {CODEC_PCMA, 90, 60},
	    {CODEC_OPUS, 10, 10}, {CODEC_OPUS, 30, 20}, {CODEC_OPUS, 40, 40},
	    {CODEC_OPUS, 50, 20}, {CODEC_OPUS, 60, 60}, {CODEC_OPUS, 120, 60},
	    {CODEC_G722, 10, 10}, {CODEC_G722, 30, 30}, {CODEC_G722, 70, 60},
	};
	struct txenc *e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_FATAL(txenc_new(&e, cases[i].codec, cases[i].asked,
					  ROOM_HZ) == 0);
		CU_ASSERT_EQUAL(txenc_ptime_ms(e), cases[i].sent);
		CU_ASSERT_EQUAL(txenc_codec(e), cases[i].codec);
		txenc_free(e);
	}
	CU_ASSERT_EQUAL(txenc_new(&e, CODEC_NONE, 20, ROOM_HZ), -EINVAL);
	CU_ASSERT_EQUAL(txenc_new(&e, CODEC_PCMU, 20, 44100), -EINVAL);
	txenc_free(NULL);
}

/* Pushes of a 1 kHz tone; counts packets per push and checks ts_off. */
static void check_packets(enum codec_id codec, uint32_t ptime,
			  const unsigned *per_push, unsigned pushes,
			  int32_t first_off)
{
	struct txenc *e;
	struct txenc_out o;
	struct codec *dec;
	static int16_t pcm[ROOM_N], out[2880];
	uint64_t sample = 0;
	const struct codec_desc *d = codec_by_id(codec);

	CU_ASSERT_FATAL(txenc_new(&e, codec, ptime, ROOM_HZ) == 0);
	CU_ASSERT_FATAL(codec_new(&dec, codec) == 0);
	for (unsigned i = 0; i < pushes; i++) {
		unit_sine(pcm, ROOM_N, 1000, ROOM_HZ, 8000, sample);
		sample += ROOM_N;
		CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), (int)per_push[i]);
		CU_ASSERT_EQUAL(o.n, per_push[i]);
		int32_t pkt_ts = (int32_t)(d->rtp_clock_hz / 1000 * ptime);
		for (unsigned k = 0; k < o.n; k++) {
			CU_ASSERT_EQUAL(o.pkt[k].ts_off,
					first_off + (int32_t)k * pkt_ts);
			int got = codec_decode(dec, o.pkt[k].data, o.pkt[k].len,
					       out, 2880);
			CU_ASSERT_EQUAL(got,
					(int)(d->pcm_rate_hz / 1000 * ptime));
			if (i >= 5 && got > 0)
				CU_ASSERT(unit_tone_amp(out, (size_t)got, 1000,
							d->pcm_rate_hz) >
					  0.7 * 8000);
		}
	}
	codec_free(dec);
	txenc_free(e);
}

static void test_packets(void)
{
	static const unsigned one[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	static const unsigned two[8] = {2, 2, 2, 2, 2, 2, 2, 2};
	static const unsigned every2[8] = {0, 1, 0, 1, 0, 1, 0, 1};
	static const unsigned every3[9] = {0, 0, 1, 0, 0, 1, 0, 0, 1};

	check_packets(CODEC_PCMU, 20, one, 8, 0);
	check_packets(CODEC_PCMU, 10, two, 8, 0);	/* 0 and +80 */
	check_packets(CODEC_PCMA, 40, every2, 8, -160); /* began a push ago */
	check_packets(CODEC_OPUS, 20, one, 8, 0);
	check_packets(CODEC_OPUS, 60, every3, 9, -1920);
	/* G.722: RTP time at 8 kHz though it samples at 16 kHz */
	check_packets(CODEC_G722, 10, two, 8, 0);	/* 0 and +80 */
	check_packets(CODEC_G722, 60, every3, 9, -320); /* two pushes ago */
}

/* Dropped audio does not come out in the next packet. */
static void test_drop(void)
{
	struct txenc *e;
	struct txenc_out o;
	static int16_t pcm[ROOM_N];

	CU_ASSERT_FATAL(txenc_new(&e, CODEC_PCMU, 40, ROOM_HZ) == 0);
	CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), 0);
	txenc_drop(e);
	CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), 0);
	CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), 1);
	CU_ASSERT_EQUAL(o.pkt[0].ts_off, -160);
	txenc_free(e);
}

/* The room going 8 -> 48 -> 8 kHz under a PCMU encoder: prepared, fed
 * one frame at the next rate beside the push at the current one, then
 * committed. The decoded tone goes on without a step beyond its slope
 * (2 pi f A / 8000 = 3770, plus PCMU's quantization). */
static void test_rate_change(void)
{
	struct txenc *e;
	struct txenc_out o;
	struct codec *dec;
	static int16_t pcm[960], next[960], out[160 * 40];
	size_t got_n = 0;
	uint32_t hz = 8000;

	CU_ASSERT_FATAL(txenc_new(&e, CODEC_PCMU, 20, hz) == 0);
	CU_ASSERT_FATAL(codec_new(&dec, CODEC_PCMU) == 0);
	CU_ASSERT_EQUAL(txenc_rate_commit(e), -EINVAL); /* none prepared */
	CU_ASSERT_EQUAL(txenc_rate_prepare(e, 44100), -EINVAL);
	for (unsigned f = 0; f < 40; f++) {
		uint32_t next_hz = f == 12 ? 48000 : f == 25 ? 8000 : 0;
		if (next_hz) {
			CU_ASSERT_EQUAL(txenc_rate_prepare(e, next_hz), 0);
			unit_sine(next, next_hz / 50, 600, next_hz, 8000,
				  (uint64_t)f * next_hz / 50);
			txenc_rate_warm(e, next);
		}
		unit_sine(pcm, hz / 50, 600, hz, 8000, (uint64_t)f * hz / 50);
		CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), 1);
		int n = codec_decode(dec, o.pkt[0].data, o.pkt[0].len,
				     out + got_n, 160);
		CU_ASSERT_EQUAL(n, 160);
		got_n += n > 0 ? (size_t)n : 0;
		if (next_hz) {
			CU_ASSERT_EQUAL(txenc_rate_commit(e), 0);
			hz = next_hz;
			CU_ASSERT_EQUAL(txenc_room_rate_hz(e), hz);
		}
	}
	double worst = 0;
	for (size_t i = 5 * 160; i < got_n; i++)
		worst = fmax(worst, fabs((double)out[i] - out[i - 1]));
	CU_ASSERT(worst < 3770 * 1.1 + 600);
	CU_ASSERT_DOUBLE_EQUAL(unit_tone_amp(out + 11 * 160, 400, 600, 8000),
			       unit_tone_amp(out + 30 * 160, 400, 600, 8000),
			       0.05 * 8000);
	txenc_rate_cancel(e);
	codec_free(dec);
	txenc_free(e);
}

/* Pushes n frames of tone (tone true) or silence; counts the packets,
 * CN packets and marked packets that came out, and the total bytes. */
struct pattern {
	unsigned pkts, cn, marked, encoded;
	size_t bytes;
	bool first_marked;
};

static struct pattern push_run(struct txenc *e, bool tone, unsigned n,
			       uint64_t *sample)
{
	static int16_t pcm[ROOM_N];
	struct pattern r = {0};
	struct txenc_out o;

	for (unsigned i = 0; i < n; i++) {
		if (tone)
			unit_sine(pcm, ROOM_N, 440, ROOM_HZ, 8000, *sample);
		else
			memset(pcm, 0, sizeof(pcm));
		*sample += ROOM_N;
		CU_ASSERT(txenc_push(e, pcm, &o) >= 0);
		r.encoded += o.encoded;
		for (unsigned k = 0; k < o.n; k++) {
			if (r.pkts == 0)
				r.first_marked = o.pkt[k].marker;
			r.pkts++;
			r.cn += o.pkt[k].cn;
			r.marked += o.pkt[k].marker;
			r.bytes += o.pkt[k].len;
		}
	}
	return r;
}

/* Opus DTX: a second of silence after speech is a few packets (libopus
 * stops after about 200 ms and sends an update every 400 ms); speech
 * comes back at 50 a second, the first one marked. */
static void test_dtx(void)
{
	struct txenc *e;
	uint64_t sample = 0;

	CU_ASSERT_FATAL(txenc_new(&e, CODEC_OPUS, 20, ROOM_HZ) == 0);
	CU_ASSERT_EQUAL(txenc_silence(e), TXENC_SILENCE_SEND);
	CU_ASSERT_EQUAL(txenc_set_silence(e, TXENC_SILENCE_CN), -EINVAL);
	CU_ASSERT_EQUAL(txenc_set_silence(e, TXENC_SILENCE_DTX), 0);
	CU_ASSERT_EQUAL(txenc_silence(e), TXENC_SILENCE_DTX);
	struct pattern r = push_run(e, true, 25, &sample);
	CU_ASSERT_EQUAL(r.pkts, 25);
	CU_ASSERT_EQUAL(r.marked, 0);
	push_run(e, false, 25, &sample); /* libopus's hang-over */
	r = push_run(e, false, 50, &sample);
	CU_ASSERT(r.pkts <= 5);
	CU_ASSERT_EQUAL(r.cn, 0);
	CU_ASSERT_EQUAL(r.encoded, 50); /* libopus ran for every frame */
	r = push_run(e, true, 50, &sample);
	CU_ASSERT_EQUAL(r.pkts, 50);
	CU_ASSERT_TRUE(r.first_marked);
	CU_ASSERT_EQUAL(r.marked, 1);
	txenc_free(e);
}

/* G.711 CN, 20 and 10 ms packets: one CN packet when silence starts and
 * every 400 ms, nothing else; the first audio after it is marked. */
static void check_cn(uint32_t ptime)
{
	struct txenc *e;
	uint64_t sample = 0;

	CU_ASSERT_FATAL(txenc_new(&e, CODEC_PCMU, ptime, ROOM_HZ) == 0);
	CU_ASSERT_EQUAL(txenc_set_silence(e, TXENC_SILENCE_DTX), -EINVAL);
	CU_ASSERT_EQUAL(txenc_set_silence(e, TXENC_SILENCE_CN), 0);
	struct pattern r = push_run(e, true, 10, &sample);
	CU_ASSERT_EQUAL(r.pkts, 10 * 20 / ptime);
	CU_ASSERT_EQUAL(r.cn, 0);
	/* the converter's tail of the tone may still be audio */
	push_run(e, false, 1, &sample);
	r = push_run(e, false, 60, &sample); /* 1.2 s */
	CU_ASSERT_EQUAL(r.encoded, 0);	     /* CN needs no encoder */
	CU_ASSERT_EQUAL(r.pkts, 3);
	CU_ASSERT_EQUAL(r.cn, 3);
	CU_ASSERT_EQUAL(r.bytes, 3);
	CU_ASSERT_EQUAL(r.marked, 0);
	r = push_run(e, true, 10, &sample);
	CU_ASSERT_EQUAL(r.pkts, 10 * 20 / ptime);
	CU_ASSERT_EQUAL(r.cn, 0);
	CU_ASSERT_TRUE(r.first_marked);
	CU_ASSERT_EQUAL(r.marked, 1);
	/* back to plain packets */
	CU_ASSERT_EQUAL(txenc_set_silence(e, TXENC_SILENCE_SEND), 0);
	r = push_run(e, false, 10, &sample);
	CU_ASSERT_EQUAL(r.pkts, 10 * 20 / ptime);
	txenc_free(e);
}

static void test_cn(void)
{
	check_cn(20);
	check_cn(10);
}

/* The loss an Opus encoder codes FEC for: FECLOSS_UNKNOWN until told,
 * then what it is told; codecs without FEC say 0 and take any. */
static void test_fec_loss(void)
{
	struct txenc *e;
	struct txenc_out o;
	int16_t pcm[ROOM_N];

	unit_sine(pcm, ROOM_N, 440, ROOM_HZ, 8000, 0);
	CU_ASSERT_FATAL(txenc_new(&e, CODEC_OPUS, 20, ROOM_HZ) == 0);
	CU_ASSERT_EQUAL(txenc_fec_loss(e), FECLOSS_UNKNOWN);
	CU_ASSERT_EQUAL(txenc_set_fec_loss(e, 0), 0);
	CU_ASSERT_EQUAL(txenc_fec_loss(e), 0);
	CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), 1);
	CU_ASSERT_EQUAL(txenc_set_fec_loss(e, 20), 0);
	CU_ASSERT_EQUAL(txenc_fec_loss(e), 20);
	CU_ASSERT_EQUAL(txenc_set_fec_loss(e, 101), -EINVAL);
	CU_ASSERT_EQUAL(txenc_fec_loss(e), 20);
	CU_ASSERT_EQUAL(txenc_push(e, pcm, &o), 1);
	txenc_free(e);
	CU_ASSERT_FATAL(txenc_new(&e, CODEC_PCMU, 20, ROOM_HZ) == 0);
	CU_ASSERT_EQUAL(txenc_fec_loss(e), 0);
	CU_ASSERT_EQUAL(txenc_set_fec_loss(e, 10), 0);
	CU_ASSERT_EQUAL(txenc_fec_loss(e), 0);
	txenc_free(e);
}

static const struct unit_test tests[] = {
    {"Opus DTX in silence", test_dtx},
    {"CN in silence", test_cn},
    {"packet times a codec can send", test_ptime},
    {"room rate 8 -> 48 -> 8 kHz without a seam", test_rate_change},
    {"packets per push, their time and audio", test_packets},
    {"drop", test_drop},
    {"opus fec loss setting", test_fec_loss},
    {NULL, NULL},
};

UNIT_MAIN("txenc", tests)
