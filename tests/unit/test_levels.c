/* test_levels.c: the speakers' levels sent with the mix (RFC 6465;
 * mixer/levels.c measures, rtp/stream_levels.c writes), in a real mixer
 * thread with loopback phones.
 *
 * Two phones talk, a loud tone (-15 dBov) and a quieter one (-25 dBov);
 * both asked for levels. Two listen to the shared mix, one with levels
 * and one without; a third listener, with levels, has a listen gain, so
 * it hears its own mix (own encode) with both speakers. A listener with
 * levels gets, in every packet, one level per CSRC, in the CSRC list's
 * order, each within 2 dB of what its speaker sends (G.711 and the
 * room's resampling in between); the one without gets no extension at
 * all; a speaker gets its one CSRC (the other speaker) and that one's
 * level. The same with every tick fanned out to a pool. Then a caller
 * that falls silent leaves the CSRC list, and its level with it. A
 * stream alone: levels only when asked, matched and forgotten after a
 * push; and under SRTP, in the clear but authenticated. */
#include "mixer/mixer.h"

#include "core/core.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <math.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define N_PHONES 5
#define ROOM_HZ	 48000
#define FRAME_8K 160
#define EXT_ID	 3
#define LOUD_AMP 8000.0
#define SOFT_AMP 2500.0

struct phone {
	int s_rtp, ph_rtp;
	struct sockaddr_storage s_addr, ph_addr;
	struct stream *s;
	struct codec *enc;
	double f_hz, amp; /* 0: silent */
	uint16_t seq;
	uint32_t ts;
	uint64_t sample;
	/* what was received */
	unsigned packets, with_ext, bad_ext;
	uint32_t csrc[RTPPKT_MAX_CSRC];
	unsigned n_csrc;
	uint8_t level[RTPPKT_MAX_CSRC];
	unsigned n_level;
};

static struct phone ph[N_PHONES];
static struct mixpool *pool;

static void phone_open(struct phone *p, int i, bool levels, double f_hz,
		       double amp)
{
	memset(p, 0, sizeof(*p));
	p->s_rtp = unit_udp_socket(&p->s_addr);
	p->ph_rtp = unit_udp_socket(&p->ph_addr);
	p->f_hz = f_hz;
	p->amp = amp;
	p->seq = (uint16_t)(1000 * i);
	CU_ASSERT_FATAL(codec_new(&p->enc, CODEC_PCMU) == 0);
	struct stream_params sp = {
	    .rtp_peer = p->ph_addr,
	    .codec = CODEC_PCMU,
	    .te_pt = -1,
	    .ptime_ms = 20,
	    .send = true,
	    .recv = true,
	    .csrc_level_id = levels ? EXT_ID : 0,
	};
	CU_ASSERT_FATAL(stream_new(&p->s, p->s_rtp, -1, ROOM_HZ,
				   0xc0000000u + (uint32_t)i, &sp) == 0);
	CU_ASSERT_EQUAL(stream_tx_wants_levels(p->s), levels);
}

static void phone_close(struct phone *p)
{
	stream_free(p->s);
	codec_free(p->enc);
	close(p->s_rtp);
	close(p->ph_rtp);
}

static void phone_talk(struct phone *p)
{
	if (p->f_hz)
		unit_send_pcmu_tone(p->ph_rtp, &p->s_addr, p->enc, p->f_hz,
				    p->amp, 0xdd000000u + (uint32_t)p->f_hz,
				    &p->sample, &p->seq, &p->ts);
}

/* Keeps the last packet's CSRCs and levels; counts packets with an
 * extension, and those whose levels do not match their CSRCs. */
static void phone_listen(struct phone *p)
{
	uint8_t buf[1500];
	ssize_t n;
	struct rtppkt r;

	while ((n = recv(p->ph_rtp, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (rtppkt_parse(&r, buf, (size_t)n) < 0 || r.pt != 0)
			continue;
		p->packets++;
		p->n_csrc = r.n_csrc;
		memcpy(p->csrc, r.csrc, sizeof(p->csrc));
		p->n_level = 0;
		if (!r.ext)
			continue;
		p->with_ext++;
		const uint8_t *d;
		size_t len;
		if (r.ext_profile != 0xbede ||
		    rtpext_find(&r, EXT_ID, &d, &len) < 0 || len != r.n_csrc) {
			p->bad_ext++;
			continue;
		}
		for (size_t i = 0; i < len; i++)
			p->bad_ext += d[i] >> 7; /* RFC 6465: the first bit 0 */
		memcpy(p->level, d, len);
		p->n_level = (unsigned)len;
	}
}

static void each_tick(void)
{
	for (int i = 0; i < N_PHONES; i++) {
		phone_talk(&ph[i]);
		phone_listen(&ph[i]);
	}
}

/* Real time for ms: talkers send every 20 ms, everyone listens. */
static void run(int ms)
{
	unit_every_20ms(ms, each_tick);
	for (int i = 0; i < N_PHONES; i++)
		phone_listen(&ph[i]);
}

/* A tone of amplitude amp in -dBov (RMS against full scale). */
static double dbov(double amp)
{
	return -20 * log10(amp / sqrt(2) / 32767);
}

/* The level p last received for the CSRC of phone who; -1 if none. */
static int level_for(const struct phone *p, int who)
{
	uint32_t ssrc = stream_local_ssrc(ph[who].s);
	for (unsigned i = 0; i < p->n_csrc && i < p->n_level; i++)
		if (p->csrc[i] == ssrc)
			return p->level[i];
	return -1;
}

static bool near(int level, double want)
{
	return level >= 0 && fabs(level - want) <= 2.0;
}

static void test_levels(void)
{
	struct mixer_params mp = {.room = "levels",
				  .rate_hz = ROOM_HZ,
				  .pool = pool,
				  .fanout_us = pool ? 1 : 0};
	struct mixer *m;
	struct mixer_event ev;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	mp.notify_fd = efd;
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	/* 0, 1 talk; 2 listens with levels, 3 without, 4 with its own mix */
	for (int i = 0; i < N_PHONES; i++) {
		phone_open(&ph[i], i, i != 3,
			   i == 0   ? 700
			   : i == 1 ? 1100
				    : 0,
			   i == 0 ? LOUD_AMP : SOFT_AMP);
		struct mixer_cmd c = {.kind = MIXER_ADD,
				      .part_id = (uint32_t)i,
				      .stream = ph[i].s};
		c.controls.listen_gain_db = i == 4 ? -3 : 0;
		CU_ASSERT(mixer_post(m, &c) == 0);
	}
	run(800);
	for (int i = 0; i < N_PHONES; i++)
		ph[i].with_ext = ph[i].packets = ph[i].bad_ext = 0;
	run(600);

	double loud = dbov(LOUD_AMP), soft = dbov(SOFT_AMP);
	for (int i = 2; i <= 4; i += 2) {
		struct phone *p = &ph[i];
		CU_ASSERT(p->packets >= 25);
		CU_ASSERT_EQUAL(p->with_ext, p->packets);
		CU_ASSERT_EQUAL(p->bad_ext, 0);
		CU_ASSERT_EQUAL(p->n_csrc, 2);
		CU_ASSERT_EQUAL(p->n_level, 2);
		CU_ASSERT(near(level_for(p, 0), loud));
		CU_ASSERT(near(level_for(p, 1), soft));
		if (!near(level_for(p, 0), loud) ||
		    !near(level_for(p, 1), soft))
			printf("\n  phone %d: %d, %d (want %.1f, %.1f)\n", i,
			       level_for(p, 0), level_for(p, 1), loud, soft);
	}
	/* No levels asked for, none sent. */
	CU_ASSERT(ph[3].packets >= 25);
	CU_ASSERT_EQUAL(ph[3].with_ext, 0);
	CU_ASSERT_EQUAL(ph[3].n_csrc, 2);
	/* A speaker: the other one only. */
	CU_ASSERT_EQUAL(ph[0].with_ext, ph[0].packets);
	CU_ASSERT_EQUAL(ph[0].n_csrc, 1);
	CU_ASSERT(near(level_for(&ph[0], 1), soft));
	CU_ASSERT(near(level_for(&ph[1], 0), loud));

	/* Phone 1 falls silent: once its hang-over is over, the listeners
	 * get one CSRC and one level. */
	ph[1].f_hz = 0;
	run(1400);
	CU_ASSERT_EQUAL(ph[2].n_csrc, 1);
	CU_ASSERT_EQUAL(ph[2].n_level, 1);
	CU_ASSERT(near(level_for(&ph[2], 0), loud));
	/* Phone 1 hears phone 0 now through the shared mix, with levels. */
	CU_ASSERT(near(level_for(&ph[1], 0), loud));

	mixer_stop(m);
	while (mixer_poll(m, &ev) == 0)
		;
	mixer_free(m);
	for (int i = 0; i < N_PHONES; i++)
		phone_close(&ph[i]);
	close(efd);
}

static void test_levels_fanned_out(void)
{
	CU_ASSERT_FATAL(mixpool_new(&pool, 2, true, 0) == 0);
	test_levels();
	mixpool_free(pool);
	pool = NULL;
}

/* A stream's levels outside a mixer: ignored unless asked for, never
 * more than the CSRCs, forgotten after a push. */
static void test_stream_levels(void)
{
	struct phone p;
	const uint8_t lv[2] = {20, 30};
	const uint32_t csrc[2] = {1, 2};
	int16_t mix[ROOM_HZ / 50] = {0};
	for (int with = 0; with < 2; with++) {
		phone_open(&p, 9, with, 0, 0);
		stream_tx_levels(p.s, lv, 2);
		stream_tx_levels(p.s, NULL, 3);			/* ignored */
		stream_tx_levels(p.s, lv, RTPPKT_MAX_CSRC + 1); /* ignored */
		CU_ASSERT(stream_push(p.s, NULL, mix, csrc, 2, 1000) >= 0);
		/* a push whose CSRCs no levels were given for */
		CU_ASSERT(stream_push(p.s, NULL, mix, csrc, 2, 21000000) >= 0);
		stream_tx_levels(p.s, lv, 1);
		CU_ASSERT(stream_push(p.s, NULL, mix, csrc, 2, 41000000) >= 0);
		usleep(20000);
		phone_listen(&p);
		CU_ASSERT_EQUAL(p.packets, 3);
		CU_ASSERT_EQUAL(p.with_ext, with ? 1 : 0);
		CU_ASSERT_EQUAL(p.bad_ext, 0);
		phone_close(&p);
	}
}

/* With SRTP (SDES, no RFC 6904): the levels travel in the clear header,
 * the packet is authenticated over them, and the far end, unprotecting
 * with our key, finds them intact; a level changed on the way fails the
 * authentication. */
static void test_levels_srtp(void)
{
	struct phone p;
	struct srtpctx *rx;
	const uint8_t lv[2] = {17, 42};
	const uint32_t csrc[2] = {0x1234, 0x5678};
	int16_t mix[ROOM_HZ / 50] = {0};
	uint8_t key[SRTP_KEY_SALT_LEN], buf[1500], copy[1500];
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);

	phone_open(&p, 8, true, 0, 0);
	struct stream_params sp = {
	    .rtp_peer = p.ph_addr,
	    .codec = CODEC_PCMU,
	    .te_pt = -1,
	    .ptime_ms = 20,
	    .send = true,
	    .recv = true,
	    .csrc_level_id = EXT_ID,
	    .srtp_tx_suite = SRTP_AES_CM_128_HMAC_SHA1_80,
	    .srtp_rx_suite = SRTP_AES_CM_128_HMAC_SHA1_80};
	memcpy(sp.srtp_tx_key, key, sizeof(key));
	memcpy(sp.srtp_rx_key, key, sizeof(key));
	CU_ASSERT_FATAL(stream_apply(p.s, &sp) == 0);
	CU_ASSERT_FATAL(
	    srtpctx_new(&rx, SRTP_AES_CM_128_HMAC_SHA1_80, key, true) == 0);
	stream_tx_levels(p.s, lv, 2);
	CU_ASSERT(stream_push(p.s, NULL, mix, csrc, 2, 1000) >= 0);
	stream_tx_levels(p.s, lv, 2);
	CU_ASSERT(stream_push(p.s, NULL, mix, csrc, 2, 21000000) >= 0);
	usleep(20000);
	ssize_t n = recv(p.ph_rtp, buf, sizeof(buf), MSG_DONTWAIT);
	CU_ASSERT_FATAL(n > 12 + 8 + 8 + 160);
	/* In the clear before unprotecting: X set, the block after the
	 * CSRCs. */
	CU_ASSERT_EQUAL(buf[0], 0x92);
	const uint8_t block[8] = {0xbe, 0xde, 0, 1, 0x31, 17, 42, 0};
	CU_ASSERT(memcmp(buf + 20, block, 8) == 0);
	size_t len = (size_t)n;
	memcpy(copy, buf, len);
	CU_ASSERT_FATAL(srtpctx_rtp(rx, buf, &len, sizeof(buf)) == 0);
	struct rtppkt r;
	const uint8_t *d;
	size_t dl;
	CU_ASSERT_FATAL(rtppkt_parse(&r, buf, len) == 0);
	CU_ASSERT_EQUAL(r.payload_bytes, 160);
	CU_ASSERT(rtpext_find(&r, EXT_ID, &d, &dl) == 0 && dl == 2 &&
		  d[0] == 17 && d[1] == 42);
	/* The second packet, with a level altered on the way. */
	n = recv(p.ph_rtp, buf, sizeof(buf), MSG_DONTWAIT);
	CU_ASSERT_FATAL(n > 0);
	len = (size_t)n;
	buf[25] ^= 0x01;
	CU_ASSERT(srtpctx_rtp(rx, buf, &len, sizeof(buf)) < 0);
	srtpctx_free(rx);
	phone_close(&p);
}

static const struct unit_test tests[] = {
    {"levels per CSRC, in order, for those who asked", test_levels},
    {"the same, every tick fanned out to a pool", test_levels_fanned_out},
    {"a stream's levels: asked, matched, forgotten", test_stream_levels},
    {"levels under SRTP: clear, authenticated", test_levels_srtp},
    {NULL, NULL},
};

UNIT_MAIN_APART("levels", tests)
