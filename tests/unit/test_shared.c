/* test_shared.c: shared encodes (mixer/shared.c) in a real mixer thread.
 *
 * Eight loopback phones join a room: two talk (PCMU tones), six listen
 * (send nothing): four PCMU, one PCMA, one PCMU with a listen gain. The
 * mixer's encode count must be one per speaker (their own mixes), one per
 * codec group of plain listeners (PCMU, PCMA) and one for the listener with
 * its own gain: 5 a tick instead of 8. The four plain PCMU listeners must
 * receive byte-identical payloads, each under its own SSRC and sequence,
 * with both speakers in the CSRC list, and hear both tones. Then one
 * talker falls silent (its hang-over runs out): it becomes a listener of
 * the shared mix too, and the count drops to 4.
 *
 * What silence becomes (CN for a G.711 listener that negotiated it) is
 * part of the format: CN listeners and the others never share an encoder.
 *
 * Opus FEC: a shared encoder codes for the worst loss its listeners report
 * in RTCP; the participants' statistics say what codes for them.
 *
 * Prompts (mixer/play.c) are never in the shared encode: a listener a
 * prompt plays to has its own mix and encode while it plays. The room's
 * tones are in it, except for the one they are about. */
#include "mixer/mixer.h"

#include "core/core.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define N_PHONES 8
#define ROOM_HZ	 48000
#define FRAME_8K 160

struct phone {
	int s_rtp, ph_rtp;
	struct sockaddr_storage s_addr, ph_addr;
	struct stream *s;
	struct codec *enc; /* PCMU, to talk */
	double f_hz;	   /* 0: silent */
	uint16_t seq;
	uint32_t ts;
	uint64_t sample;
	/* the last packet received */
	uint8_t payload[FRAME_8K];
	uint32_t ssrc, csrc[RTPPKT_MAX_CSRC];
	unsigned n_csrc, packets;
	unsigned cn, packets_cn; /* CN packets; PCMU packets meanwhile */
	int16_t heard[8000];
	size_t heard_n;
};

static struct phone ph[N_PHONES];

static void phone_open(struct phone *p, int i, enum codec_id codec, double f_hz)
{
	memset(p, 0, sizeof(*p));
	p->s_rtp = unit_udp_socket(&p->s_addr);
	p->ph_rtp = unit_udp_socket(&p->ph_addr);
	p->f_hz = f_hz;
	p->seq = (uint16_t)(1000 * i);
	CU_ASSERT_FATAL(codec_new(&p->enc, CODEC_PCMU) == 0);
	struct stream_params sp = {
	    .rtp_peer = p->ph_addr,
	    .codec = codec,
	    .pt = codec == CODEC_PCMA ? 8 : 0,
	    .te_pt = -1,
	    .ptime_ms = 20,
	    .send = true,
	    .recv = true,
	};
	CU_ASSERT_FATAL(stream_new(&p->s, p->s_rtp, -1, ROOM_HZ,
				   0xc0000000u + (uint32_t)i, &sp) == 0);
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
				    8000, 0xdd000000u + (uint32_t)p->f_hz,
				    &p->sample, &p->seq, &p->ts);
}

/* Keeps the last packet; decodes PCMU into heard (the last second). */
static void phone_listen(struct phone *p)
{
	uint8_t buf[1500];
	ssize_t n;
	struct rtppkt r;

	while ((n = recv(p->ph_rtp, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (rtppkt_parse(&r, buf, (size_t)n) < 0)
			continue;
		if (r.pt == CN_PT)
			p->cn++;
		if (r.payload_bytes != FRAME_8K)
			continue;
		p->packets++;
		memcpy(p->payload, r.payload, FRAME_8K);
		p->ssrc = r.ssrc;
		p->n_csrc = r.n_csrc;
		memcpy(p->csrc, r.csrc, sizeof(p->csrc));
		if (r.pt != 0)
			continue;
		if (p->heard_n + FRAME_8K > sizeof(p->heard) / 2)
			p->heard_n = 0;
		codec_decode(p->enc, r.payload, FRAME_8K, p->heard + p->heard_n,
			     FRAME_8K);
		p->heard_n += FRAME_8K;
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

/* Encodes per tick over ms of real time. */
static double encodes_per_tick(struct mixer *m, int ms)
{
	struct mixer_stats a, b;
	mixer_get_stats(m, &a);
	run(ms);
	mixer_get_stats(m, &b);
	CU_ASSERT_FATAL(b.ticks > a.ticks);
	return (double)(b.encodes - a.encodes) / (double)(b.ticks - a.ticks);
}

static bool names(const struct phone *p, uint32_t ssrc)
{
	for (unsigned i = 0; i < p->n_csrc; i++)
		if (p->csrc[i] == ssrc)
			return true;
	return false;
}

/* Eight phones in a room (see the top): 0 and 1 talk, 6 is PCMA, 7 has a
 * listen gain. */
static struct mixpool *pool; /* set: every tick fans out to it */

static struct mixer *room_open(int *efd)
{
	struct mixer_params mp = {.room = "shared",
				  .rate_hz = ROOM_HZ,
				  .pool = pool,
				  .fanout_us = pool ? 1 : 0};
	struct mixer *m;

	*efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	mp.notify_fd = *efd;
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	for (int i = 0; i < N_PHONES; i++) {
		phone_open(&ph[i], i, i == 6 ? CODEC_PCMA : CODEC_PCMU,
			   i == 0   ? 700
			   : i == 1 ? 1100
				    : 0);
		struct mixer_cmd c = {.kind = MIXER_ADD,
				      .part_id = (uint32_t)i,
				      .stream = ph[i].s};
		c.controls.listen_gain_db = i == 7 ? 3 : 0;
		CU_ASSERT(mixer_post(m, &c) == 0);
	}
	return m;
}

static void room_close(struct mixer *m, int efd)
{
	struct mixer_event ev;

	mixer_stop(m);
	while (mixer_poll(m, &ev) == 0)
		;
	mixer_free(m);
	for (int i = 0; i < N_PHONES; i++)
		phone_close(&ph[i]);
	close(efd);
}

static void test_shared_encodes(void)
{
	int efd;
	struct mixer *m = room_open(&efd);
	struct mixer_stats st;

	run(600);
	double per_tick = encodes_per_tick(m, 1000);
	CU_ASSERT(per_tick > 4.8 && per_tick < 5.2);

	/* The plain PCMU listeners: the same bytes, their own headers. */
	for (int i = 2; i < 6; i++) {
		CU_ASSERT(ph[i].packets >= 40);
		CU_ASSERT_EQUAL(memcmp(ph[i].payload, ph[2].payload, FRAME_8K),
				0);
		CU_ASSERT_EQUAL(ph[i].ssrc, stream_local_ssrc(ph[i].s));
		CU_ASSERT(names(&ph[i], stream_local_ssrc(ph[0].s)));
		CU_ASSERT(names(&ph[i], stream_local_ssrc(ph[1].s)));
		CU_ASSERT(unit_tone_amp(ph[i].heard, ph[i].heard_n, 700, 8000) >
			  0.6 * 8000);
		CU_ASSERT(unit_tone_amp(ph[i].heard, ph[i].heard_n, 1100,
					8000) > 0.6 * 8000);
	}
	CU_ASSERT(ph[6].packets >= 40 && ph[7].packets >= 40);
	/* A speaker hears the other, not itself, in its own encode. */
	CU_ASSERT(unit_tone_amp(ph[0].heard, ph[0].heard_n, 1100, 8000) >
		  0.6 * 8000);
	CU_ASSERT(unit_tone_amp(ph[0].heard, ph[0].heard_n, 700, 8000) <
		  0.03 * 8000);

	/* Phone 1 falls silent: after its hang-over it shares too. */
	ph[1].f_hz = 0;
	run(1000);
	per_tick = encodes_per_tick(m, 600);
	CU_ASSERT(per_tick > 3.8 && per_tick < 4.2);
	CU_ASSERT_EQUAL(memcmp(ph[1].payload, ph[2].payload, FRAME_8K), 0);

	mixer_get_stats(m, &st);
	/* fanned out: all but the first tick, which had not been timed */
	CU_ASSERT(pool ? st.fanned_ticks + 1 >= st.ticks
		       : st.fanned_ticks == 0);
	room_close(m, efd);
}

/* The same room with every tick's per-participant steps fanned out over
 * two workers and the mixer thread: the same mixes, the same shared
 * encodes, the same CSRCs. Under TSan, no race. */
static void test_fanned_out(void)
{
	CU_ASSERT_FATAL(mixpool_new(&pool, 2, true, 0) == 0);
	test_shared_encodes();
	mixpool_free(pool);
	pool = NULL;
}

#define CLIP_HZ 1900 /* no low-order product of 700 and 1100 Hz */

static void post_play(struct mixer *m, uint32_t to, const struct mixer_clip *c,
		      bool loop, uint32_t except_id)
{
	struct mixer_cmd cmd = {.kind = MIXER_PLAY, .part_id = to};
	cmd.play = (struct mixer_play){
	    .clip = c, .tag = 7, .loop = loop, .except_id = except_id};
	CU_ASSERT(mixer_post(m, &cmd) == 0);
}

/* Forgets what each phone heard, so that the next run is judged alone. */
static void heard_reset(void)
{
	for (int i = 0; i < N_PHONES; i++)
		ph[i].heard_n = 0;
}

static double clip_amp(int i)
{
	return unit_tone_amp(ph[i].heard, ph[i].heard_n, CLIP_HZ, 8000);
}

/* A prompt to one listener of the shared mix: it hears the prompt over the
 * mix through an encode of its own (one more a tick) while the prompt
 * plays, and nobody else hears it; the others keep sharing. Played out,
 * it shares again. The room's tones (looped here, about one phone) reach
 * every listener but that one; those who share an encode get them in it
 * (no encode more), and that one its own encode until they stop. */
static void test_prompts_beside_shared(void)
{
	static int16_t pcm[ROOM_HZ], pcm8[8000]; /* 1 s */
	/* The room of G.711 phones mixes at 8 kHz: the clip at that rate. */
	struct mixer_clip clip8 = {
	    .pcm = pcm8, .n_samples = 8000, .rate_hz = 8000};
	struct mixer_clip clip = {.pcm = pcm,
				  .n_samples = ROOM_HZ,
				  .rate_hz = ROOM_HZ,
				  .alt = &clip8};
	int efd;
	struct mixer *m = room_open(&efd);

	unit_sine(pcm, ROOM_HZ, CLIP_HZ, ROOM_HZ, 8000, 0);
	unit_sine(pcm8, 8000, CLIP_HZ, 8000, 8000, 0);
	run(600);
	post_play(m, 3, &clip, false, 0);
	run(200);
	heard_reset();
	double per_tick = encodes_per_tick(m, 600);
	CU_ASSERT(per_tick > 5.8 && per_tick < 6.2);
	CU_ASSERT(clip_amp(3) > 0.6 * 8000);
	CU_ASSERT(unit_tone_amp(ph[3].heard, ph[3].heard_n, 700, 8000) >
		  0.6 * 8000);
	for (int i = 0; i < N_PHONES; i++)
		if (i != 3 && i != 6) /* 6's PCMA is not decoded here */
			CU_ASSERT(clip_amp(i) < 0.01 * 8000);
	for (int i = 4; i < 6; i++)
		CU_ASSERT_EQUAL(memcmp(ph[i].payload, ph[2].payload, FRAME_8K),
				0);

	run(400); /* played out */
	per_tick = encodes_per_tick(m, 600);
	CU_ASSERT(per_tick > 4.8 && per_tick < 5.2);
	CU_ASSERT_EQUAL(memcmp(ph[3].payload, ph[2].payload, FRAME_8K), 0);

	post_play(m, MIXER_ROOM, &clip, true, 4);
	run(200);
	heard_reset();
	/* The tones are in the shared encodes: 0, 1 and 7 their own, one per
	 * format, and 4's own, since they are not for it. */
	per_tick = encodes_per_tick(m, 600);
	CU_ASSERT(per_tick > 5.8 && per_tick < 6.2);
	for (int i = 0; i < N_PHONES; i++)
		if (i != 4 && i != 6)
			CU_ASSERT(clip_amp(i) > 0.6 * 8000);
	CU_ASSERT(clip_amp(4) < 0.01 * 8000);
	CU_ASSERT(ph[6].packets >= 60);
	CU_ASSERT_EQUAL(memcmp(ph[3].payload, ph[2].payload, FRAME_8K), 0);
	CU_ASSERT_EQUAL(memcmp(ph[5].payload, ph[2].payload, FRAME_8K), 0);
	CU_ASSERT(memcmp(ph[4].payload, ph[2].payload, FRAME_8K) != 0);

	struct mixer_cmd stop = {.kind = MIXER_PLAY_STOP,
				 .part_id = MIXER_ROOM};
	CU_ASSERT(mixer_post(m, &stop) == 0);
	run(200);
	per_tick = encodes_per_tick(m, 600);
	CU_ASSERT(per_tick > 4.8 && per_tick < 5.2);
	CU_ASSERT_EQUAL(memcmp(ph[3].payload, ph[4].payload, FRAME_8K), 0);

	room_close(m, efd);
}

/* What silence becomes is part of the format: PCMU listeners that asked
 * for CN share one encoder, the others another. While 0 talks, everyone
 * hears it (3 encodes a tick: 0's own, one per group); once the room is
 * silent, the plain listeners still get 50 packets a second and the CN
 * listeners a CN packet every 400 ms and no audio. */
/* Phone i's stream takes sp (towards the phone) and joins m. */
static void phone_join(struct mixer *m, int i, struct stream_params sp)
{
	sp.rtp_peer = ph[i].ph_addr;
	CU_ASSERT_FATAL(stream_apply(ph[i].s, &sp) == 0);
	struct mixer_cmd c = {
	    .kind = MIXER_ADD, .part_id = (uint32_t)i, .stream = ph[i].s};
	CU_ASSERT(mixer_post(m, &c) == 0);
}

static void test_silence_groups(void)
{
	struct mixer_params mp = {.room = "silence", .rate_hz = ROOM_HZ};
	struct mixer *m;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	mp.notify_fd = efd;
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	for (int i = 0; i < N_PHONES; i++) {
		phone_open(&ph[i], i, CODEC_PCMU, i == 0 ? 700 : 0);
		phone_join(m, i,
			   (struct stream_params){
			       .codec = CODEC_PCMU,
			       .te_pt = -1,
			       .ptime_ms = 20,
			       .cn_pt = i >= 4 ? CN_PT : 0,
			       .send = true,
			       .recv = true,
			   });
	}
	run(600);
	double per_tick = encodes_per_tick(m, 1000);
	CU_ASSERT(per_tick > 2.8 && per_tick < 3.2);
	for (int i = 1; i < N_PHONES; i++) {
		CU_ASSERT(ph[i].packets >= 40);
		CU_ASSERT(unit_tone_amp(ph[i].heard, ph[i].heard_n, 700, 8000) >
			  0.6 * 8000);
	}
	ph[0].f_hz = 0;
	run(1500); /* 0's hang-over */
	for (int i = 0; i < N_PHONES; i++) {
		ph[i].packets_cn = ph[i].packets;
		ph[i].cn = 0;
	}
	/* Counted against the ticks the room ran, not the wall clock: a
	 * mixer thread stalled on a loaded machine skips ticks (it does not
	 * replay them), and then sends fewer packets to everyone. */
	struct mixer_stats a, b;
	mixer_get_stats(m, &a);
	run(1000);
	mixer_get_stats(m, &b);
	unsigned ticks = (unsigned)(b.ticks - a.ticks);
	CU_ASSERT_FATAL(ticks >= 25);
	for (int i = 1; i < N_PHONES; i++) {
		unsigned audio = ph[i].packets - ph[i].packets_cn;
		if (i < 4) {
			CU_ASSERT(audio + 3 >= ticks);
			CU_ASSERT_EQUAL(ph[i].cn, 0);
		} else {
			CU_ASSERT_EQUAL(audio, 0);
			/* One every 20 ticks (400 ms). */
			CU_ASSERT(ph[i].cn + 1 >= ticks / 20 &&
				  ph[i].cn <= ticks / 20 + 2);
		}
	}
	room_close(m, efd);
}

/* Phone i's RR (muxed, to the stream's RTP socket) saying it lost
 * fraction/256 of what it got. */
static void phone_rr(int i, uint8_t fraction)
{
	struct rtcpkt_info rr = {.ssrc = 0xee000000u + (uint32_t)i,
				 .n_blocks = 1};
	uint8_t buf[200];

	rr.block[0] = (struct rtcp_report_block){
	    .ssrc = stream_local_ssrc(ph[i].s), .fraction_lost = fraction};
	int len = rtcpkt_build(buf, sizeof(buf), &rr, "phone");
	CU_ASSERT_FATAL(len > 0);
	sendto(ph[i].ph_rtp, buf, (size_t)len, 0,
	       (const struct sockaddr *)&ph[i].s_addr,
	       sizeof(struct sockaddr_in));
}

/* After a second and a bit, every participant's statistics have come
 * again: the FEC loss each of the first n last said; true when all say
 * want. */
static bool fec_all(struct mixer *m, int n, unsigned want)
{
	struct mixer_event ev;
	unsigned got[N_PHONES];
	bool seen[N_PHONES] = {0};

	run(1300);
	while (mixer_poll(m, &ev) == 0)
		if (ev.kind == MIXER_EV_STATS && ev.part_id < N_PHONES) {
			got[ev.part_id] = ev.stats.fec_loss_pct;
			seen[ev.part_id] = true;
		}
	bool all = true;
	for (int i = 0; i < n; i++) {
		CU_ASSERT(seen[i]);
		all = all && seen[i] && got[i] == want;
		if (seen[i] && got[i] != want)
			printf("\n  phone %d: fec %u, want %u", i, got[i],
			       want);
	}
	return all;
}

/* Four Opus listeners share one encoder: it codes FEC at the default
 * until all have reported, for none once all report no loss, for the
 * worst when one reports loss, and for none again when that one's loss
 * has gone. */
static void test_fec_worst(void)
{
	struct mixer_params mp = {.room = "fec", .rate_hz = ROOM_HZ};
	struct mixer *m;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	enum { N = 4 };

	mp.notify_fd = efd;
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	for (int i = 0; i < N_PHONES; i++) /* room_close closes all */
		phone_open(&ph[i], i, CODEC_PCMU, 0);
	for (int i = 0; i < N; i++)
		phone_join(m, i,
			   (struct stream_params){
			       .codec = CODEC_OPUS,
			       .pt = 111,
			       .te_pt = -1,
			       .ptime_ms = 20,
			       .rtcp_mux = true,
			       .send = true,
			       .recv = true,
			   });
	CU_ASSERT(fec_all(m, N, FECLOSS_UNKNOWN));
	for (int i = 0; i < N - 1; i++)
		phone_rr(i, 0);
	CU_ASSERT(fec_all(m, N, FECLOSS_UNKNOWN)); /* one has not said */
	phone_rr(N - 1, 0);
	CU_ASSERT(fec_all(m, N, 0));
	phone_rr(2, 64); /* 25%: estimate 18.75% */
	CU_ASSERT(fec_all(m, N, 20));
	CU_ASSERT_EQUAL(stream_fec_loss(ph[1].s), 0); /* its own: clean */
	for (int k = 0; k < 4; k++)
		phone_rr(2, 0);
	CU_ASSERT(fec_all(m, N, 0));
	room_close(m, efd);
}

static const struct unit_test tests[] = {
    {"silence modes make their own groups", test_silence_groups},
    {"opus fec for the worst of a shared encoder's listeners", test_fec_worst},
    {"speakers' own encodes, one per format for the rest", test_shared_encodes},
    {"the same, every tick fanned out to a pool", test_fanned_out},
    {"prompts and room tones beside the shared encode",
     test_prompts_beside_shared},
    {NULL, NULL},
};

UNIT_MAIN_APART("shared", tests)
