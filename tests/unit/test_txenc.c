/* test_txenc.c: encoding the mix (rtp/txenc.c): the packet times a codec
 * can send, how many packets each 20 ms push completes, their RTP time
 * relative to the push, what they decode to, and dropping held audio. */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>

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

static const struct unit_test tests[] = {
    {"packet times a codec can send", test_ptime},
    {"packets per push, their time and audio", test_packets},
    {"drop", test_drop},
    {NULL, NULL},
};

UNIT_MAIN("txenc", tests)
