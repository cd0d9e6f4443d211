/* test_room_stats.c: a participant's media figures as the API shows them,
 * the summary line logged when a call ends (captured from stderr), the
 * sum of mixer statistics, and a stalled mixer told from a ticking one
 * (conference/room_stats.c). */
#include "conference/focus.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void test_info(void)
{
	struct participant p = {
	    .stats = {.packets_in = 900,
		      .packets_out = 1000,
		      .lost = 100,
		      .late = 3,
		      .discarded = 2,
		      .concealed = 101,
		      .fec_recovered = 7,
		      .jitter_us = 2450,
		      .fec_loss_pct = 15},
	};
	struct conf_media_stats s;

	room_stats_info(&p, &s);
	CU_ASSERT_EQUAL(s.packets_in, 900);
	CU_ASSERT_EQUAL(s.packets_out, 1000);
	CU_ASSERT_EQUAL(s.lost, 100);
	CU_ASSERT_EQUAL(s.late, 3);
	CU_ASSERT_EQUAL(s.discarded, 2);
	CU_ASSERT_EQUAL(s.concealed, 101);
	CU_ASSERT_EQUAL(s.fec_recovered, 7);
	CU_ASSERT_EQUAL(s.fec_loss_pct, 15);
	CU_ASSERT_DOUBLE_EQUAL(s.loss_percent, 10.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(s.jitter_ms, 2.45, 1e-9);

	/* Before any media: all zero, no division by zero. */
	p.stats = (struct mixer_part_stats){0};
	room_stats_info(&p, &s);
	CU_ASSERT_DOUBLE_EQUAL(s.loss_percent, 0, 1e-12);
}

static void test_add(void)
{
	struct mixer_stats t = {.ticks = 1, .packets_in = 5, .participants = 9};
	struct mixer_stats st = {.ticks = 2,
				 .late_ticks = 5,
				 .missed_ticks = 2,
				 .tick_ns_sum = 7,
				 .tick_hist = {[3] = 4},
				 .packets_in = 10,
				 .packets_out = 11,
				 .packets_lost = 12,
				 .concealed = 13,
				 .fec_recovered = 6,
				 .undecoded = 8,
				 .encodes = 14,
				 .participants = 3};

	room_stats_add(&t, &st);
	CU_ASSERT_EQUAL(t.ticks, 3);
	CU_ASSERT_EQUAL(t.late_ticks, 5);
	CU_ASSERT_EQUAL(t.missed_ticks, 2);
	CU_ASSERT_EQUAL(t.tick_ns_sum, 7);
	CU_ASSERT_EQUAL(t.tick_hist[3], 4);
	CU_ASSERT_EQUAL(t.packets_in, 15);
	CU_ASSERT_EQUAL(t.packets_out, 11);
	CU_ASSERT_EQUAL(t.packets_lost, 12);
	CU_ASSERT_EQUAL(t.concealed, 13);
	CU_ASSERT_EQUAL(t.fec_recovered, 6);
	CU_ASSERT_EQUAL(t.undecoded, 8);
	CU_ASSERT_EQUAL(t.encodes, 14);
	CU_ASSERT_EQUAL(t.participants, 9); /* a gauge: not summed */
}

/* Runs room_stats_summary(p) with stderr in a file; its text into buf. */
static void summary_text(struct participant *p, char *buf, size_t cap)
{
	char path[] = "/tmp/test_room_stats-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);

	CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
	unlink(path);
	dup2(fd, 2);
	room_stats_summary(p);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, buf, cap - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* The line names the room, the call and the codec, and carries the
 * stream's own last figures (not the stale ones of p->stats). */
static void test_summary(void)
{
	struct sockaddr_storage a, b;
	int fd = unit_udp_socket(&a), peer = unit_udp_socket(&b);
	struct stream_params sp = {.rtp_peer = b,
				   .codec = CODEC_PCMA,
				   .pt = 8,
				   .te_pt = -1,
				   .ptime_ms = 20,
				   .send = true,
				   .recv = true};
	struct room r = {.name = "standup"};
	struct participant p = {.room = &r,
				.id = 7,
				.codec = CODEC_PCMA,
				.call_id = "abc@host",
				.joined_ns = mono_now_ns() - 2460000000ull,
				.stats = {.packets_in = 99}};
	int16_t pcm[960] = {0};
	char text[1024];

	log_set_level(LL_INFO);
	CU_ASSERT_FATAL(stream_new(&p.stream, fd, -1, 48000, 1, &sp) == 0);
	for (int i = 0; i < 3; i++)
		stream_push(p.stream, NULL, pcm, NULL, 0, mono_now_ns());
	summary_text(&p, text, sizeof(text));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "room=standup call=abc@host "
					    "part=7 ended after 2.5 s: codec "
					    "PCMA, packets in 0 out 3, lost 0 "
					    "(0.0%), jitter 0.0 ms, late 0, "
					    "discarded 0, concealed 0, fec "
					    "recovered 0\n"));
	CU_ASSERT_EQUAL(p.stats.packets_out, 3);

	/* Without media (the stream never came back): nothing. */
	stream_free(p.stream);
	p.stream = NULL;
	summary_text(&p, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "");
	close(fd);
	close(peer);
}

/* A mixer that ticks is never stalled however far the clock moves between
 * two looks; one whose thread no longer runs is, once its count has stood
 * still for the stall time. The clock here is the caller's, so the test
 * waits only for a real tick to happen. */
static void test_stalled(void)
{
	const uint64_t s = 1000000000ull, t0 = 5 * s;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct mixer_params mp = {.rate_hz = 48000, .notify_fd = fd};
	struct room idle = {.name = "idle"};
	struct room r = {.name = "busy", .next = &idle};
	struct conference c = {.rooms = &r};
	struct mixer_stats st;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(mixer_start(&r.mixer, &mp), 0);
	CU_ASSERT_EQUAL(room_stats_stalled(&c, t0, s), 0); /* the baseline */
	CU_ASSERT_EQUAL(r.watch_ns, t0);
	for (int i = 0; i < 5000; i++) {
		mixer_get_stats(r.mixer, &st);
		if (st.ticks != r.watch_ticks)
			break;
		usleep(1000);
	}
	CU_ASSERT_NOT_EQUAL(st.ticks, r.watch_ticks);
	CU_ASSERT_EQUAL(room_stats_stalled(&c, t0 + 10 * s, s), 0);
	CU_ASSERT_EQUAL(r.watch_ns, t0 + 10 * s);

	mixer_stop(r.mixer); /* its thread is gone: no more ticks */
	CU_ASSERT_EQUAL(room_stats_stalled(&c, t0 + 10 * s + s / 2, s), 0);
	CU_ASSERT_EQUAL(room_stats_stalled(&c, t0 + 12 * s, s), 1);
	CU_ASSERT_EQUAL(room_stats_stalled(&c, t0 + 13 * s, s), 1);

	struct mixer_event ev;
	while (mixer_poll(r.mixer, &ev) == 0)
		;
	mixer_free(r.mixer);
	r.mixer = NULL;
	/* Rooms without a mixer are never stalled. */
	CU_ASSERT_EQUAL(room_stats_stalled(&c, t0 + 20 * s, s), 0);
	close(fd);
}

static const struct unit_test tests[] = {
    {"info: loss percent, jitter in ms", test_info},
    {"mixer statistics add up", test_add},
    {"summary line", test_summary},
    {"a stalled mixer", test_stalled},
    {NULL, NULL},
};

UNIT_MAIN("room_stats", tests)
