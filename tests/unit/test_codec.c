/* test_codec.c: the codec table, G.711 against the ITU-T G.711 tables, Opus
 * keeping a tone through encode and decode, and concealment (rtp/codec.c). */
#include "rtp/rtp.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <math.h>
#include <opus/opus.h>
#include <spandsp.h>
#include <stdio.h>
#include <string.h>

static void test_table(void)
{
	const struct codec_desc *d;

	d = codec_by_name("pcmu", 8000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->id, CODEC_PCMU);
	CU_ASSERT_EQUAL(d->static_pt, 0);
	CU_ASSERT_EQUAL(d->pcm_rate_hz, 8000);
	d = codec_by_name("PCMA", 8000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->static_pt, 8);
	d = codec_by_name("OPUS", 48000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->id, CODEC_OPUS);
	CU_ASSERT_EQUAL(d->static_pt, -1);
	CU_ASSERT_EQUAL(d->channels, 2);
	CU_ASSERT_EQUAL(d->rtp_clock_hz, 48000);
	CU_ASSERT_EQUAL(d->pcm_rate_hz, 48000);
	CU_ASSERT_PTR_NULL(codec_by_name("opus", 8000));
	CU_ASSERT_PTR_NULL(codec_by_name("PCMU", 16000));
	CU_ASSERT_PTR_NULL(codec_by_name("G729", 8000));
	CU_ASSERT_PTR_NULL(codec_by_name(NULL, 8000));
	CU_ASSERT_PTR_NULL(codec_by_id(CODEC_NONE));
	CU_ASSERT_EQUAL(codec_by_id(CODEC_PCMA)->static_pt, 8);
}

static int16_t dec1(struct codec *c, uint8_t code)
{
	int16_t s = 0x5555;

	CU_ASSERT_EQUAL(codec_decode(c, &code, 1, &s, 1), 1);
	return s;
}

static uint8_t enc1(struct codec *c, int16_t s)
{
	uint8_t code = 0x5a;

	CU_ASSERT_EQUAL(codec_encode(c, &s, 1, &code, 1), 1);
	return code;
}

/* Decoder outputs from G.711 Table 2 (mu-law, 14-bit, times 4) and Table 1
 * (A-law, 13-bit, times 8), and the encoder's choice for 0 and full
 * scale. */
static void test_pcmu_reference(void)
{
	struct codec *c;

	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_PCMU), 0);
	CU_ASSERT_EQUAL(dec1(c, 0xff), 0);
	CU_ASSERT_EQUAL(dec1(c, 0x7f), 0);
	CU_ASSERT_EQUAL(dec1(c, 0x00), -32124);
	CU_ASSERT_EQUAL(dec1(c, 0x80), 32124);
	CU_ASSERT_EQUAL(dec1(c, 0xfe), 8);   /* 2 in 14-bit */
	CU_ASSERT_EQUAL(dec1(c, 0xef), 132); /* 33 in 14-bit */
	CU_ASSERT_EQUAL(enc1(c, 0), 0xff);
	CU_ASSERT_EQUAL(enc1(c, 32767), 0x80);
	CU_ASSERT_EQUAL(enc1(c, -32768), 0x00);
	for (unsigned code = 0; code < 256; code++) {
		/* the decoder's table holds spandsp's own values */
		CU_ASSERT_EQUAL(dec1(c, (uint8_t)code),
				ulaw_to_linear((uint8_t)code));
		if (code == 0x7f) /* negative zero encodes as 0xff */
			continue;
		CU_ASSERT_EQUAL(enc1(c, dec1(c, (uint8_t)code)), code);
	}
	codec_free(c);
}

static void test_pcma_reference(void)
{
	struct codec *c;

	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_PCMA), 0);
	CU_ASSERT_EQUAL(dec1(c, 0xd5), 8);
	CU_ASSERT_EQUAL(dec1(c, 0x55), -8);
	CU_ASSERT_EQUAL(dec1(c, 0xaa), 32256);
	CU_ASSERT_EQUAL(dec1(c, 0x2a), -32256);
	CU_ASSERT_EQUAL(dec1(c, 0xd4), 24);
	CU_ASSERT_EQUAL(enc1(c, 0), 0xd5);
	CU_ASSERT_EQUAL(enc1(c, -1), 0x55);
	CU_ASSERT_EQUAL(enc1(c, 32767), 0xaa);
	CU_ASSERT_EQUAL(enc1(c, -32768), 0x2a);
	for (unsigned code = 0; code < 256; code++) {
		CU_ASSERT_EQUAL(dec1(c, (uint8_t)code),
				alaw_to_linear((uint8_t)code));
		CU_ASSERT_EQUAL(enc1(c, dec1(c, (uint8_t)code)), code);
	}
	codec_free(c);
}

static void test_g711_tone_and_limits(void)
{
	struct codec *c;
	int16_t in[160], out[160];
	uint8_t pay[160];

	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_PCMU), 0);
	unit_sine(in, 160, 1000, 8000, 10000, 0);
	CU_ASSERT_EQUAL(codec_encode(c, in, 160, pay, sizeof(pay)), 160);
	CU_ASSERT_EQUAL(codec_decode(c, pay, 160, out, 160), 160);
	CU_ASSERT_DOUBLE_EQUAL(unit_tone_amp(out, 160, 1000, 8000), 10000, 300);
	CU_ASSERT_EQUAL(codec_encode(c, in, 160, pay, 159), -ENOSPC);
	CU_ASSERT_EQUAL(codec_decode(c, pay, 160, out, 159), -ENOSPC);
	CU_ASSERT_EQUAL(codec_decode(c, pay, 0, out, 160), 0);
	codec_free(c);
}

static void test_g711_conceal(void)
{
	struct codec *c;
	int16_t in[160], out[160];
	uint8_t pay[160];

	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_PCMA), 0);
	for (size_t f = 0; f < 5; f++) {
		unit_sine(in, 160, 440, 8000, 8000, f * 160);
		codec_encode(c, in, 160, pay, sizeof(pay));
		CU_ASSERT_EQUAL(codec_decode(c, pay, 160, out, 160), 160);
	}
	/* First 20 ms: the tone goes on, fading. */
	CU_ASSERT_EQUAL(codec_conceal(c, out, 160), 160);
	double r0 = unit_rms(out, 160);
	CU_ASSERT_TRUE(r0 > 2000);
	CU_ASSERT_TRUE(unit_tone_amp(out, 160, 440, 8000) > 2000);
	/* Next 20 ms: quieter still. */
	CU_ASSERT_EQUAL(codec_conceal(c, out, 160), 160);
	CU_ASSERT_TRUE(unit_rms(out, 160) < r0);
	/* By 60 ms it is silence. */
	CU_ASSERT_EQUAL(codec_conceal(c, out, 160), 160);
	CU_ASSERT_EQUAL(unit_rms(out + 80, 80), 0);
	CU_ASSERT_EQUAL(codec_conceal(c, out, 160), 160);
	CU_ASSERT_EQUAL(unit_rms(out, 160), 0);
	codec_free(c);
}

static void test_opus_tone(void)
{
	struct codec *c;
	int16_t in[960], out[960];
	uint8_t pay[1500];
	size_t bytes = 0;

	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_OPUS), 0);
	for (size_t f = 0; f < 50; f++) {
		unit_sine(in, 960, 1000, 48000, 8000, f * 960);
		int n = codec_encode(c, in, 960, pay, sizeof(pay));
		CU_ASSERT_TRUE_FATAL(n > 0);
		bytes += (size_t)n;
		CU_ASSERT_EQUAL(codec_decode(c, pay, (size_t)n, out, 960), 960);
		if (f < 10)
			continue;
		/* The tone carries the energy and keeps its level. */
		double amp = unit_tone_amp(out, 960, 1000, 48000);
		double r = unit_rms(out, 960);
		CU_ASSERT_DOUBLE_EQUAL(amp, 8000, 8000 * 0.3);
		CU_ASSERT_TRUE(amp * amp / 2 > 0.9 * r * r);
		CU_ASSERT_TRUE(unit_tone_amp(out, 960, 3000, 48000) < amp / 30);
	}
	/* About 32 kb/s: 50 frames of 20 ms are one second. */
	CU_ASSERT_TRUE(bytes * 8 > 16000 && bytes * 8 < 48000);
	codec_free(c);
}

static void test_opus_plc_and_errors(void)
{
	struct codec *c;
	int16_t in[960], out[960];
	uint8_t pay[1500];
	const uint8_t bad[] = {0x03, 0x00}; /* code 3 with zero frames */

	CU_ASSERT_EQUAL_FATAL(codec_new(&c, CODEC_OPUS), 0);
	/* Before anything was decoded, and after. */
	CU_ASSERT_EQUAL(codec_conceal(c, out, 960), 960);
	unit_sine(in, 960, 1000, 48000, 8000, 0);
	int n = codec_encode(c, in, 960, pay, sizeof(pay));
	CU_ASSERT_TRUE(n > 0);
	CU_ASSERT_EQUAL(codec_decode(c, pay, (size_t)n, out, 960), 960);
	CU_ASSERT_EQUAL(codec_conceal(c, out, 960), 960);
	CU_ASSERT_EQUAL(codec_conceal(c, out, 480), 480);
	CU_ASSERT_EQUAL(codec_conceal(c, out, 100), -EINVAL);

	CU_ASSERT_EQUAL(codec_decode(c, bad, sizeof(bad), out, 960), -EBADMSG);
	CU_ASSERT_EQUAL(codec_decode(c, pay, 0, out, 960), -EBADMSG);
	CU_ASSERT_EQUAL(codec_decode(c, pay, (size_t)n, out, 480), -ENOSPC);
	CU_ASSERT_EQUAL(codec_encode(c, in, 100, pay, sizeof(pay)), -EINVAL);
	/* a restarted decoder decodes the next packet as a fresh one does */
	struct codec *fresh;
	int16_t ref[960];
	CU_ASSERT_EQUAL_FATAL(codec_new(&fresh, CODEC_OPUS), 0);
	CU_ASSERT_EQUAL(codec_decoder_restart(c), 0);
	CU_ASSERT_EQUAL(codec_decode(c, pay, (size_t)n, out, 960), 960);
	CU_ASSERT_EQUAL(codec_decode(fresh, pay, (size_t)n, ref, 960), 960);
	CU_ASSERT_EQUAL(memcmp(out, ref, sizeof(out)), 0);
	codec_free(fresh);
	codec_free(c);
	CU_ASSERT_EQUAL(codec_decoder_restart(NULL), -EINVAL);

	CU_ASSERT_EQUAL(codec_new(&c, CODEC_NONE), -EINVAL);
	codec_free(NULL);
}

/* One direction only: the other's calls are refused, never crash. */
static void test_one_direction(void)
{
	static const enum codec_id ids[] = {CODEC_PCMU, CODEC_OPUS};
	int16_t pcm[960] = {0};
	uint8_t pkt[1500];
	struct codec *c;

	for (size_t i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(codec_new_for(&c, ids[i], CODEC_ENCODE) == 0);
		int n = codec_encode(c, pcm, ids[i] == CODEC_OPUS ? 960 : 160,
				     pkt, sizeof(pkt));
		CU_ASSERT(n > 0);
		CU_ASSERT_EQUAL(codec_decode(c, pkt, (size_t)n, pcm, 960),
				-EINVAL);
		CU_ASSERT_EQUAL(codec_conceal(c, pcm, 160), -EINVAL);
		CU_ASSERT_EQUAL(codec_decoder_restart(c), -EINVAL);
		codec_free(c);
		CU_ASSERT_FATAL(codec_new_for(&c, ids[i], CODEC_DECODE) == 0);
		CU_ASSERT_EQUAL(codec_encode(c, pcm, 160, pkt, sizeof(pkt)),
				-EINVAL);
		CU_ASSERT(codec_conceal(c, pcm, 960) > 0);
		codec_free(c);
	}
	CU_ASSERT_EQUAL(codec_new_for(&c, CODEC_PCMU, 0), -EINVAL);
	CU_ASSERT_EQUAL(codec_new_for(&c, CODEC_PCMU, 4), -EINVAL);
}

/* libopus at a phone's settings (VOIP, 32 kb/s), mono or the same audio
 * on both channels, frames of frame_n; counts the packets
 * codec_opus_voice() says -1, 0 and 1 for. */
static void voice_flags(int channels, int frame_n, int app, const int16_t *pcm,
			int frames, int count[3])
{
	static int16_t in[2 * 2880];
	uint8_t pkt[1500];
	int err;
	OpusEncoder *e = opus_encoder_create(48000, channels, app, &err);
	CU_ASSERT_FATAL(e != NULL);
	opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
	for (int f = 0; f < frames; f++) {
		for (int i = 0; i < frame_n * channels; i++)
			in[i] = pcm[(size_t)f * frame_n + i / channels];
		int len = opus_encode(e, in, frame_n, pkt, sizeof(pkt));
		CU_ASSERT_FATAL(len > 0);
		count[codec_opus_voice(pkt, (size_t)len) + 1]++;
	}
	opus_encoder_destroy(e);
}

/* The SILK layer's voice activity flags: set for speech-like sound, clear
 * for silence and a faint noise, in 20 ms mono packets and in 40 and 60 ms
 * and stereo ones (more flags, elsewhere in the byte); not there at all in
 * CELT-only packets (low-delay mode) or malformed ones. */
static void test_opus_voice(void)
{
	enum { N = 48000 * 2 }; /* 2 s */
	static int16_t voice[N], hush[N];
	uint32_t x = 1;
	unit_speech_like(voice, N, 48000);
	for (size_t i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		hush[i] = (int16_t)((int)(x >> 16) % 61 - 30);
	}
	static const struct {
		int channels, frame_n;
	} shapes[] = {{1, 960}, {1, 1920}, {1, 2880}, {2, 960}, {2, 2880}};
	for (size_t k = 0; k < 5; k++) {
		int v[3] = {0}, h[3] = {0};
		int frames = N / shapes[k].frame_n;
		voice_flags(shapes[k].channels, shapes[k].frame_n,
			    OPUS_APPLICATION_VOIP, voice, frames, v);
		voice_flags(shapes[k].channels, shapes[k].frame_n,
			    OPUS_APPLICATION_VOIP, hush, frames, h);
		printf("\n  %d ch, %d ms: voice in %d of %d speech packets, "
		       "none in %d of %d silent ones",
		       shapes[k].channels, shapes[k].frame_n / 48, v[2], frames,
		       h[1], frames);
		/* the speech pauses 150 ms in every 900 */
		CU_ASSERT(v[2] >= frames * 7 / 10);
		CU_ASSERT(h[1] >= frames * 9 / 10);
		CU_ASSERT_EQUAL(v[0] + h[0], 0);
	}
	int m[3] = {0};
	voice_flags(1, 960, OPUS_APPLICATION_RESTRICTED_LOWDELAY, voice, 20, m);
	CU_ASSERT_EQUAL(m[0], 20); /* CELT only: no flags */
	const uint8_t celt[] = {0xf8, 0xff, 0xfe};
	const uint8_t silk_bad[] = {0x0b, 0x80}; /* code 3 with no count */
	CU_ASSERT_EQUAL(codec_opus_voice(celt, sizeof(celt)), -1);
	CU_ASSERT_EQUAL(codec_opus_voice(silk_bad, sizeof(silk_bad)), -1);
	CU_ASSERT_EQUAL(codec_opus_voice(NULL, 0), -1);
	CU_ASSERT_EQUAL(codec_opus_voice(celt, 1), -1);
}

static const struct unit_test tests[] = {
    {"one direction only", test_one_direction},
    {"table", test_table},
    {"pcmu reference values", test_pcmu_reference},
    {"pcma reference values", test_pcma_reference},
    {"g711 tone and limits", test_g711_tone_and_limits},
    {"g711 concealment fades", test_g711_conceal},
    {"opus keeps a 1 kHz tone", test_opus_tone},
    {"opus plc and errors", test_opus_plc_and_errors},
    {"opus voice activity flags", test_opus_voice},
    {NULL, NULL},
};

UNIT_MAIN("codec", tests)
