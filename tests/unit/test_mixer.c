/* test_mixer.c: a real mixer thread with three participants on loopback
 * sockets. Three "phones" send PCMU tones (440, 700, 1100 Hz) in real time;
 * each must hear the other two and not itself (judged with a Goertzel
 * filter), with the other contributors named in the CSRC list. Then the
 * signalling side's view: UPDATE (mute, hold), REMOVE handing the stream
 * back through notify_fd and mixer_poll(), and mixer_stop() handing back
 * what is left. Then talking events (on, off after the phone stops, off
 * before REMOVED) and the controls (mute, deaf, talk and listen gain), as
 * the phones hear them. Then the recording tap: the queue receives the
 * full mix, every tick in order, and comes back in MIXER_EV_REC_STOPPED.
 * Then key presses, which come back as MIXER_EV_DTMF. Every wait is bounded;
 * the whole file runs in about 12 s. */
#include "mixer/mixer.h"

#include "core/core.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define N_LEGS	  3
#define ROOM_HZ	  48000
#define AMP	  8000.0
#define PHONE_N	  160 /* 20 ms of PCMU */
#define HEARD_MAX (8000 * 2)
#define TAIL_N	  3200 /* the last 0.4 s is judged */

struct leg {
	int s_rtp, s_rtcp, ph_rtp, ph_rtcp;
	struct sockaddr_storage s_rtp_addr, s_rtcp_addr, ph_rtp_addr,
	    ph_rtcp_addr;
	struct stream_params p;
	struct stream *s;
	struct codec *codec;
	double f_hz;
	uint16_t seq;
	uint32_t ts;
	uint64_t sample;
	int16_t heard[HEARD_MAX];
	size_t heard_n;
	uint32_t csrc[RTPPKT_MAX_CSRC];
	unsigned n_csrc, packets;
	uint32_t csrc_ever[RTPPKT_MAX_CSRC]; /* every CSRC seen this run */
	unsigned n_csrc_ever;
	bool quiet;	     /* the phone sends nothing */
	unsigned drop_every; /* the network loses every nth packet; 0: none */
	double amp;	     /* of its tone; 0: AMP */
};

static struct leg legs[N_LEGS];
static const double freqs[N_LEGS] = {440, 700, 1100};

static void leg_open(struct leg *l, int i)
{
	memset(l, 0, sizeof(*l));
	l->s_rtp = unit_udp_socket(&l->s_rtp_addr);
	l->s_rtcp = unit_udp_socket(&l->s_rtcp_addr);
	l->ph_rtp = unit_udp_socket(&l->ph_rtp_addr);
	l->ph_rtcp = unit_udp_socket(&l->ph_rtcp_addr);
	l->f_hz = freqs[i];
	l->seq = (uint16_t)(100 * i);
	l->ts = 5000u * (uint32_t)i;
	CU_ASSERT_FATAL(codec_new(&l->codec, CODEC_PCMU) == 0);
	l->p = (struct stream_params){
	    .rtp_peer = l->ph_rtp_addr,
	    .rtcp_peer = l->ph_rtcp_addr,
	    .codec = CODEC_PCMU,
	    .pt = 0,
	    .te_pt = -1,
	    .ptime_ms = 20,
	    .send = true,
	    .recv = true,
	};
	CU_ASSERT_FATAL(stream_new(&l->s, l->s_rtp, l->s_rtcp, ROOM_HZ,
				   0xa0000000u + (uint32_t)i, &l->p) == 0);
}

static void leg_close(struct leg *l)
{
	stream_free(l->s);
	codec_free(l->codec);
	close(l->s_rtp);
	close(l->s_rtcp);
	close(l->ph_rtp);
	close(l->ph_rtcp);
}

static void phone_send(struct leg *l)
{
	int16_t pcm[PHONE_N];
	uint8_t payload[PHONE_N], pkt[200];

	unit_sine(pcm, PHONE_N, l->f_hz, 8000, l->amp ? l->amp : AMP,
		  l->sample);
	l->sample += PHONE_N;
	CU_ASSERT(codec_encode(l->codec, pcm, PHONE_N, payload,
			       sizeof(payload)) == PHONE_N);
	struct rtppkt p = {
	    .pt = 0,
	    .seq = l->seq++,
	    .ts = l->ts,
	    .ssrc = 0xbb000000u + (uint32_t)l->f_hz,
	    .payload = payload,
	    .payload_bytes = PHONE_N,
	};
	l->ts += PHONE_N;
	if (l->drop_every && p.seq % l->drop_every == 0)
		return;
	int len = rtppkt_build(pkt, sizeof(pkt), &p);
	CU_ASSERT(sendto(l->ph_rtp, pkt, (size_t)len, 0,
			 (struct sockaddr *)&l->s_rtp_addr,
			 sizeof(struct sockaddr_in)) == len);
}

static void remember_csrcs(struct leg *l, const struct rtppkt *p)
{
	for (unsigned i = 0; i < p->n_csrc; i++) {
		unsigned j = 0;
		while (j < l->n_csrc_ever && l->csrc_ever[j] != p->csrc[i])
			j++;
		if (j == l->n_csrc_ever && j < RTPPKT_MAX_CSRC)
			l->csrc_ever[l->n_csrc_ever++] = p->csrc[i];
	}
}

/* Decodes whatever the phone received; remembers the last CSRC list. */
static void phone_drain(struct leg *l)
{
	uint8_t buf[1500];
	ssize_t n;
	struct rtppkt p;

	while ((n = recv(l->ph_rtp, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (rtppkt_parse(&p, buf, (size_t)n) < 0 || p.pt != 0)
			continue;
		l->packets++;
		l->n_csrc = p.n_csrc;
		memcpy(l->csrc, p.csrc, sizeof(l->csrc));
		remember_csrcs(l, &p);
		if (l->heard_n + p.payload_bytes > HEARD_MAX)
			continue;
		int got = codec_decode(l->codec, p.payload, p.payload_bytes,
				       l->heard + l->heard_n, PHONE_N);
		if (got > 0)
			l->heard_n += (size_t)got;
	}
}

/* Runs the phones in real time for ms: each sends 20 ms every 20 ms and
 * decodes what it hears; what was heard before is forgotten. */
static void run_phones(int from, int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int i = from; i < N_LEGS; i++) {
		legs[i].heard_n = 0;
		legs[i].packets = 0;
		legs[i].n_csrc_ever = 0;
	}
	for (int k = 0; k < ms / 20; k++) {
		for (int i = from; i < N_LEGS; i++) {
			if (!legs[i].quiet)
				phone_send(&legs[i]);
			phone_drain(&legs[i]);
		}
		t.tv_nsec += 20000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
	for (int i = from; i < N_LEGS; i++)
		phone_drain(&legs[i]);
}

static double heard_amp(const struct leg *l, double f_hz)
{
	if (l->heard_n < TAIL_N)
		return -1;
	return unit_tone_amp(l->heard + l->heard_n - TAIL_N, TAIL_N, f_hz,
			     8000);
}

static bool csrc_has(const struct leg *l, uint32_t ssrc)
{
	for (unsigned i = 0; i < l->n_csrc; i++)
		if (l->csrc[i] == ssrc)
			return true;
	return false;
}

/* Every event polled by the helpers below, in order. */
#define LOG_MAX 256
static struct mixer_event ev_log[LOG_MAX];
static int n_log;

static void log_event(const struct mixer_event *ev)
{
	CU_ASSERT_FATAL(n_log < LOG_MAX);
	ev_log[n_log++] = *ev;
}

/* Takes every event queued now into the log. */
static void take_events(struct mixer *m, int efd)
{
	struct mixer_event ev;
	uint64_t v;

	if (read(efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing new was signalled. */
	}
	while (mixer_poll(m, &ev) == 0)
		log_event(&ev);
}

/* Waits (bounded) for notify_fd, then takes events into the log until a
 * MIXER_EV_REMOVED, which goes to ev too. */
static int wait_event(struct mixer *m, int efd, struct mixer_event *ev)
{
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	uint64_t v;

	for (int i = 0; i < 50; i++) {
		while (mixer_poll(m, ev) == 0) {
			log_event(ev);
			if (ev->kind == MIXER_EV_REMOVED)
				return 0;
		}
		if (poll(&pfd, 1, 20) == 1)
			CU_ASSERT(read(efd, &v, sizeof(v)) == sizeof(v));
	}
	return -ETIMEDOUT;
}

/* The index of the first logged event from index from on of this kind
 * for part id (and, for MIXER_EV_TALKING, this state); -1 if none. */
static int find_event(int from, enum mixer_event_kind kind, uint32_t id,
		      bool talking)
{
	for (int i = from; i < n_log; i++)
		if (ev_log[i].kind == kind && ev_log[i].part_id == id &&
		    (kind != MIXER_EV_TALKING || ev_log[i].talking == talking))
			return i;
	return -1;
}

/* How many logged events from index from on are of this kind for id. */
static int count_events(int from, enum mixer_event_kind kind, uint32_t id)
{
	int n = 0;
	for (int i = from; i < n_log; i++)
		n += ev_log[i].kind == kind && ev_log[i].part_id == id;
	return n;
}

static bool csrc_ever_has(const struct leg *l, uint32_t ssrc)
{
	for (unsigned i = 0; i < l->n_csrc_ever; i++)
		if (l->csrc_ever[i] == ssrc)
			return true;
	return false;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median, over 100 ms windows after the first 200 ms, of the amplitude
 * of f_hz in what l heard. A jitter buffer that adapts its delay makes a
 * short glitch, which must not pass for a change of level. */
static double heard_level(const struct leg *l, double f_hz)
{
	double a[HEARD_MAX / 800];
	size_t n = 0;

	for (size_t at = 1600; at + 800 <= l->heard_n; at += 800)
		a[n++] = unit_tone_amp(l->heard + at, 800, f_hz, 8000);
	CU_ASSERT_FATAL(n >= 5);
	qsort(a, n, sizeof(*a), cmp_double);
	return n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

static double db(double amp, double ref)
{
	return 20 * log10(amp / ref);
}

static void check_hears(int i, int from, int muted)
{
	const struct leg *l = &legs[i];
	CU_ASSERT(l->packets >= 20);
	CU_ASSERT(heard_amp(l, l->f_hz) >= 0);
	CU_ASSERT(heard_amp(l, l->f_hz) < 0.03 * AMP);
	for (int j = from; j < N_LEGS; j++) {
		if (j == i)
			continue;
		uint32_t ssrc = stream_local_ssrc(legs[j].s);
		if (j == muted) {
			CU_ASSERT(heard_amp(l, legs[j].f_hz) < 0.03 * AMP);
			CU_ASSERT(!csrc_has(l, ssrc));
		} else {
			CU_ASSERT(heard_amp(l, legs[j].f_hz) > 0.6 * AMP);
			CU_ASSERT(csrc_has(l, ssrc));
		}
	}
	CU_ASSERT(!csrc_has(l, stream_local_ssrc(l->s)));
}

static void post(struct mixer *m, enum mixer_cmd_kind kind, uint32_t id,
		 struct stream *s, const struct stream_params *p)
{
	struct mixer_cmd c = {.kind = kind, .part_id = id, .stream = s};
	if (p)
		c.params = *p;
	CU_ASSERT(mixer_post(m, &c) == 0);
}

static void test_three_tones(void)
{
	struct mixer *m;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct mixer_params mp = {
	    .room = "test", .rate_hz = ROOM_HZ, .notify_fd = efd};
	struct mixer_event ev;
	struct mixer_stats st;

	CU_ASSERT_FATAL(efd >= 0);
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	for (int i = 0; i < N_LEGS; i++) {
		leg_open(&legs[i], i);
		post(m, MIXER_ADD, (uint32_t)i, legs[i].s, NULL);
	}

	run_phones(0, 1000);
	for (int i = 0; i < N_LEGS; i++)
		check_hears(i, 0, -1);

	/* Mute leg 2 (recv off) and hold leg 1 (send off). */
	struct stream_params muted = legs[2].p, held = legs[1].p;
	muted.recv = false;
	held.send = false;
	post(m, MIXER_UPDATE, 2, NULL, &muted);
	post(m, MIXER_UPDATE, 1, NULL, &held);
	run_phones(0, 600);
	check_hears(0, 0, 2);
	CU_ASSERT(legs[2].heard_n >= TAIL_N);
	CU_ASSERT(heard_amp(&legs[2], legs[0].f_hz) > 0.6 * AMP);
	CU_ASSERT(legs[1].packets <= 2); /* maybe one before the update */

	/* Remove leg 0: notify_fd fires and the stream comes back. */
	post(m, MIXER_REMOVE, 0, NULL, NULL);
	CU_ASSERT_FATAL(wait_event(m, efd, &ev) == 0);
	CU_ASSERT_EQUAL(ev.kind, MIXER_EV_REMOVED);
	CU_ASSERT_EQUAL(ev.part_id, 0);
	CU_ASSERT(ev.stream == legs[0].s);
	int mark = n_log;
	run_phones(1, 200);
	phone_drain(&legs[0]);
	legs[0].packets = 0;
	usleep(60000);
	phone_drain(&legs[0]);
	CU_ASSERT_EQUAL(legs[0].packets, 0);
	take_events(m, efd);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_REMOVED, 1), 0);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_REMOVED, 2), 0);

	mixer_get_stats(m, &st);
	CU_ASSERT(st.ticks >= 80);
	CU_ASSERT_EQUAL(st.participants, 2);
	CU_ASSERT(st.tick_ns_max > 0 && st.tick_ns_max < 20000000);
	CU_ASSERT(st.tick_ns_sum >= st.tick_ns_max);

	/* Stop: legs 1 and 2 come back, each once. */
	mixer_stop(m);
	bool back[N_LEGS] = {true, false, false};
	int n = 0;
	while (mixer_poll(m, &ev) == 0) {
		CU_ASSERT_FATAL(ev.part_id < N_LEGS);
		if (ev.kind != MIXER_EV_REMOVED)
			continue;
		CU_ASSERT(!back[ev.part_id]);
		CU_ASSERT(ev.stream == legs[ev.part_id].s);
		back[ev.part_id] = true;
		n++;
	}
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT(mixer_post(m, &(struct mixer_cmd){.kind = MIXER_REMOVE}) < 0);
	mixer_free(m);
	for (int i = 0; i < N_LEGS; i++)
		leg_close(&legs[i]);
	close(efd);
}

/* ADDs the thread never applied, and refused ADDs, still come back. */
static void test_nothing_lost(void)
{
	struct mixer *m;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct mixer_params mp = {
	    .room = "lost", .rate_hz = ROOM_HZ, .notify_fd = efd};
	struct mixer_event ev;

	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	leg_open(&legs[0], 0);
	leg_open(&legs[1], 1);
	post(m, MIXER_ADD, 7, legs[0].s, NULL);
	post(m, MIXER_ADD, 7, legs[1].s, NULL); /* duplicate id: refused */
	CU_ASSERT_FATAL(wait_event(m, efd, &ev) == 0);
	CU_ASSERT(ev.stream == legs[1].s);
	CU_ASSERT_EQUAL(ev.part_id, 7);

	/* A stream built for another room rate joins at the room's. */
	struct mixer *m8;
	mp.rate_hz = 8000;
	CU_ASSERT_FATAL(mixer_start(&m8, &mp) == 0);
	post(m8, MIXER_ADD, 1, legs[1].s, NULL);
	mixer_stop(m8);
	CU_ASSERT_EQUAL_FATAL(mixer_poll(m8, &ev), 0);
	CU_ASSERT(ev.stream == legs[1].s);
	CU_ASSERT_EQUAL(mixer_poll(m8, &ev), -EAGAIN);
	mixer_free(m8);

	post(m, MIXER_ADD, 8, legs[1].s, NULL);
	mixer_stop(m); /* maybe before the next tick */
	int seen = 0;
	while (mixer_poll(m, &ev) == 0) {
		CU_ASSERT(ev.stream == legs[0].s || ev.stream == legs[1].s);
		seen++;
	}
	CU_ASSERT_EQUAL(seen, 2);
	mixer_free(m);
	leg_close(&legs[0]);
	leg_close(&legs[1]);
	close(efd);
}

static void test_bad_params(void)
{
	struct mixer *m = NULL;
	struct mixer_params mp = {.rate_hz = 44100, .notify_fd = -1};

	CU_ASSERT_EQUAL(mixer_start(&m, &mp), -EINVAL);
	CU_ASSERT(m == NULL);
	mp.rate_hz = ROOM_HZ;
	mp.talk = (struct talk_params){.on_db = -50, .off_db = -40};
	CU_ASSERT_EQUAL(mixer_start(&m, &mp), -EINVAL);
	CU_ASSERT(m == NULL);
	mixer_free(NULL);
	mixer_stop(NULL);
}

/* ---- talking events and controls ------------------------------------------
 */

/* A room with the three phones added, leg i with controls c[i] (c may be
 * NULL); the event log starts empty. */
static struct mixer *room_open(int *efd, const struct mixer_controls *c)
{
	struct mixer *m;

	*efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CU_ASSERT_FATAL(*efd >= 0);
	struct mixer_params mp = {
	    .room = "ctl", .rate_hz = ROOM_HZ, .notify_fd = *efd};
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	n_log = 0;
	for (int i = 0; i < N_LEGS; i++) {
		leg_open(&legs[i], i);
		struct mixer_cmd cmd = {.kind = MIXER_ADD,
					.part_id = (uint32_t)i,
					.stream = legs[i].s};
		if (c)
			cmd.controls = c[i];
		CU_ASSERT(mixer_post(m, &cmd) == 0);
	}
	return m;
}

/* Stops the room, logging what mixer_poll() hands back. */
static void room_close(struct mixer *m, int efd)
{
	struct mixer_event ev;

	mixer_stop(m);
	while (mixer_poll(m, &ev) == 0)
		log_event(&ev);
	mixer_free(m);
	for (int i = 0; i < N_LEGS; i++)
		leg_close(&legs[i]);
	close(efd);
}

static void control(struct mixer *m, uint32_t id, struct mixer_controls c)
{
	struct mixer_cmd cmd = {
	    .kind = MIXER_CONTROL, .part_id = id, .controls = c};
	CU_ASSERT(mixer_post(m, &cmd) == 0);
}

static void test_talking(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);

	legs[1].quiet = legs[2].quiet = true;
	run_phones(0, 400);
	take_events(m, efd);
	int on = find_event(0, MIXER_EV_TALKING, 0, true);
	CU_ASSERT_FATAL(on >= 0);
	/* An 8000 peak sine is -15.3 dBFS. */
	CU_ASSERT(ev_log[on].level_db >= -18 && ev_log[on].level_db <= -13);
	CU_ASSERT_EQUAL(count_events(0, MIXER_EV_TALKING, 0), 1);
	CU_ASSERT_EQUAL(count_events(0, MIXER_EV_TALKING, 1), 0);
	CU_ASSERT_EQUAL(count_events(0, MIXER_EV_TALKING, 2), 0);

	/* Phone 0 stops sending: the jitter buffer conceals for 100 ms, then
	 * it is silent; the 600 ms hang-over ends its talking. */
	legs[0].quiet = true;
	run_phones(0, 500);
	take_events(m, efd);
	CU_ASSERT_EQUAL(find_event(0, MIXER_EV_TALKING, 0, false), -1);
	run_phones(0, 800);
	take_events(m, efd);
	int off = find_event(on, MIXER_EV_TALKING, 0, false);
	CU_ASSERT(off > on);
	CU_ASSERT(off < 0 || ev_log[off].level_db < -50);
	CU_ASSERT_EQUAL(count_events(0, MIXER_EV_TALKING, 0), 2);

	int mark = n_log;
	room_close(m, efd);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_TALKING, 0), 0);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_REMOVED, 0), 1);
}

/* Talking=false comes before MIXER_EV_REMOVED, at REMOVE and at stop. */
static void test_remove_talking(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);
	struct mixer_event ev;

	legs[2].quiet = true;
	run_phones(0, 400);
	take_events(m, efd);
	CU_ASSERT_FATAL(find_event(0, MIXER_EV_TALKING, 0, true) >= 0);
	CU_ASSERT_FATAL(find_event(0, MIXER_EV_TALKING, 1, true) >= 0);

	post(m, MIXER_REMOVE, 0, NULL, NULL);
	CU_ASSERT_FATAL(wait_event(m, efd, &ev) == 0);
	CU_ASSERT_EQUAL(ev.part_id, 0);
	CU_ASSERT(ev.stream == legs[0].s);
	int off = find_event(0, MIXER_EV_TALKING, 0, false);
	CU_ASSERT(off >= 0 && off < n_log - 1);

	int mark = n_log;
	room_close(m, efd);
	off = find_event(mark, MIXER_EV_TALKING, 1, false);
	int gone = find_event(mark, MIXER_EV_REMOVED, 1, false);
	CU_ASSERT(off >= 0 && gone > off);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_TALKING, 2), 0);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_REMOVED, 2), 1);
	CU_ASSERT_EQUAL(count_events(mark, MIXER_EV_REMOVED, 0), 0);
}

static void test_mute(void)
{
	int efd;
	struct mixer_controls c[N_LEGS] = {[2] = {.muted = true}};
	struct mixer *m = room_open(&efd, c);
	uint32_t ssrc2 = stream_local_ssrc(legs[2].s);

	/* Joined muted: never heard, never named, not even on its first
	 * tick; it hears both others (and not itself). */
	run_phones(0, 800);
	check_hears(0, 0, 2);
	check_hears(1, 0, 2);
	check_hears(2, 0, 2);
	CU_ASSERT(!csrc_ever_has(&legs[0], ssrc2));
	CU_ASSERT(!csrc_ever_has(&legs[1], ssrc2));
	/* Detection still runs on a muted participant. */
	take_events(m, efd);
	CU_ASSERT(find_event(0, MIXER_EV_TALKING, 2, true) >= 0);

	/* Unmute leg 2, mute leg 0. */
	control(m, 2, (struct mixer_controls){0});
	control(m, 0, (struct mixer_controls){.muted = true});
	run_phones(0, 600);
	check_hears(0, 0, 0);
	check_hears(1, 0, 0);
	check_hears(2, 0, 0);
	room_close(m, efd);
}

static void test_deaf(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);
	const struct leg *l = &legs[1];

	control(m, 1, (struct mixer_controls){.deaf = true});
	run_phones(0, 600);
	CU_ASSERT(l->packets >= 20);
	CU_ASSERT(l->heard_n >= TAIL_N);
	CU_ASSERT(unit_rms(l->heard, l->heard_n) < 1);
	CU_ASSERT_EQUAL(l->n_csrc_ever, 0);
	/* The others still hear it. */
	check_hears(0, 0, -1);
	check_hears(2, 0, -1);

	control(m, 1, (struct mixer_controls){0});
	run_phones(0, 600);
	check_hears(1, 0, -1);
	room_close(m, efd);
}

static void test_gains(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);
	const struct leg *l0 = &legs[0], *l1 = &legs[1], *l2 = &legs[2];

	run_phones(0, 1000);
	double a01 = heard_level(l0, l1->f_hz), a21 = heard_level(l2, l1->f_hz);
	double a02 = heard_level(l0, l2->f_hz), a10 = heard_level(l1, l0->f_hz);
	CU_ASSERT_FATAL(a01 > 0.6 * AMP && a21 > 0.6 * AMP);

	/* Leg 1 talks 12 dB softer, to everyone; nothing else changes. */
	control(m, 1, (struct mixer_controls){.talk_gain_db = -12});
	run_phones(0, 1000);
	CU_ASSERT(fabs(db(heard_level(l0, l1->f_hz), a01) + 12) < 1);
	CU_ASSERT(fabs(db(heard_level(l2, l1->f_hz), a21) + 12) < 1);
	CU_ASSERT(fabs(db(heard_level(l0, l2->f_hz), a02)) < 0.5);
	CU_ASSERT(fabs(db(heard_level(l1, l0->f_hz), a10)) < 0.5);
	CU_ASSERT(heard_level(l1, l1->f_hz) < 0.03 * AMP);

	/* Leg 0 hears 3 dB louder (still below the limiter's knee); nobody
	 * else does. */
	double b02 = heard_level(l0, l2->f_hz), b12 = heard_level(l1, l2->f_hz);
	control(m, 0, (struct mixer_controls){.listen_gain_db = 3});
	run_phones(0, 1000);
	CU_ASSERT(fabs(db(heard_level(l0, l2->f_hz), b02) - 3) < 1);
	CU_ASSERT(fabs(db(heard_level(l1, l2->f_hz), b12)) < 0.5);
	CU_ASSERT(heard_level(l0, l0->f_hz) < 0.03 * AMP);

	/* Out of range is clamped: -100 dB is -24 dB. */
	control(m, 1, (struct mixer_controls){.talk_gain_db = -100});
	run_phones(0, 1000);
	CU_ASSERT(fabs(db(heard_level(l2, l1->f_hz), a21) + 24) < 1.5);
	room_close(m, efd);
}

#define REC_FRAMES 64

/* Waits (bounded) for the MIXER_EV_REC_STOPPED that hands q back. */
static bool wait_rec_stopped(struct mixer *m, int efd, struct spscq *q)
{
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	struct mixer_event ev;
	uint64_t v;

	for (int i = 0; i < 50; i++) {
		while (mixer_poll(m, &ev) == 0) {
			log_event(&ev);
			if (ev.kind == MIXER_EV_REC_STOPPED)
				return ev.rec == q;
		}
		if (poll(&pfd, 1, 20) == 1)
			CU_ASSERT(read(efd, &v, sizeof(v)) == sizeof(v));
	}
	return false;
}

static void test_rec_tap(void)
{
	static struct mixer_rec_frame fr;
	static int16_t mix[REC_FRAMES * MIXER_REC_MAX_SAMPLES];
	struct spscq *q;
	int efd;
	struct mixer *m = room_open(&efd, NULL);

	CU_ASSERT_FATAL(spscq_new(&q, REC_FRAMES, sizeof(fr)) == 0);
	run_phones(0, 200);
	struct mixer_cmd cmd = {.kind = MIXER_REC_START, .rec = q};
	CU_ASSERT(mixer_post(m, &cmd) == 0);
	run_phones(0, 1000); /* about 50 frames: none dropped */
	cmd = (struct mixer_cmd){.kind = MIXER_REC_STOP};
	CU_ASSERT(mixer_post(m, &cmd) == 0);
	CU_ASSERT(wait_rec_stopped(m, efd, q));

	size_t n = 0;
	uint32_t seq = 0, frames = 0;
	while (spscq_pop(q, &fr) == 0) {
		/* In order from 0; a tick this loaded machine missed leaves a
		 * gap in seq (the writer fills it with silence). */
		CU_ASSERT(fr.seq >= seq);
		CU_ASSERT(frames > 0 || fr.seq == 0);
		seq = fr.seq + 1;
		frames++;
		CU_ASSERT_EQUAL(fr.n_samples, ROOM_HZ / 50);
		memcpy(mix + n, fr.pcm, ROOM_HZ / 50 * sizeof(*mix));
		n += ROOM_HZ / 50;
	}
	CU_ASSERT(frames >= 40 && seq < REC_FRAMES);
	/* Every phone is heard in the full mix (the last 0.4 s). */
	CU_ASSERT_FATAL(n >= ROOM_HZ * 4 / 10);
	for (int i = 0; i < N_LEGS; i++)
		CU_ASSERT(unit_tone_amp(mix + n - ROOM_HZ * 4 / 10,
					ROOM_HZ * 4 / 10, legs[i].f_hz,
					ROOM_HZ) > 0.6 * AMP);
	struct mixer_stats st;
	mixer_get_stats(m, &st);
	CU_ASSERT_EQUAL(st.rec_frames, frames);
	CU_ASSERT_EQUAL(st.rec_dropped, 0);
	uint64_t hist = 0;
	for (int i = 0; i < MIXER_TICK_HIST_N; i++)
		hist += st.tick_hist[i];
	CU_ASSERT_EQUAL(hist, st.ticks);
	room_close(m, efd);
	spscq_free(q);
}

/* Three phones near full scale: each hears two of them, which add up to
 * 1.2x full scale. The limiter keeps what they hear below full scale (the
 * top PCMU level, 32124, is what a clipped mix decodes to), with both
 * tones there at equal levels, turned down by a few dB, not clipped. */
static void test_loud_room(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);

	for (int i = 0; i < N_LEGS; i++)
		legs[i].amp = 20000;
	run_phones(0, 1200);
	for (int i = 0; i < N_LEGS; i++) {
		const struct leg *l = &legs[i];
		int peak = 0;
		for (size_t j = 1600; j < l->heard_n; j++)
			peak =
			    abs(l->heard[j]) > peak ? abs(l->heard[j]) : peak;
		CU_ASSERT(peak < 32124 && peak > 24000);
		for (int j = 0; j < N_LEGS; j++) {
			if (j == i)
				continue;
			double a = heard_level(l, legs[j].f_hz);
			CU_ASSERT(a > 0.55 * 20000 && a < 0.9 * 20000);
		}
	}
	room_close(m, efd);
}

/* The last MIXER_EV_STATS logged for id; false if none. */
static bool last_stats(uint32_t id, struct mixer_part_stats *out)
{
	for (int i = n_log - 1; i >= 0; i--) {
		if (ev_log[i].kind == MIXER_EV_STATS &&
		    ev_log[i].part_id == id) {
			*out = ev_log[i].stats;
			return true;
		}
	}
	return false;
}

/* Each participant's figures come about once a second; the room totals
 * add up every stream's, also those of a participant who left and of
 * those handed back at stop, and a stream that comes from another room
 * is counted from where that room left off. */
static void test_stats(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);
	struct mixer_part_stats s0, s1, fin[N_LEGS];
	struct mixer_event ev;

	legs[0].drop_every = 10;
	run_phones(0, 2500);
	take_events(m, efd);
	CU_ASSERT(count_events(0, MIXER_EV_STATS, 1) >= 2);
	CU_ASSERT(count_events(0, MIXER_EV_STATS, 1) <= 3);
	CU_ASSERT_FATAL(last_stats(0, &s0) && last_stats(1, &s1));
	double loss = (double)s0.lost / (double)(s0.lost + s0.packets_in);
	CU_ASSERT(s0.packets_in >= 50);
	CU_ASSERT(loss > 0.08 && loss < 0.12);
	CU_ASSERT(s0.concealed >= s0.lost / 2);
	CU_ASSERT_EQUAL(s1.lost, 0);
	CU_ASSERT(s1.packets_in >= 50 && s1.packets_out >= 50);
	CU_ASSERT(s1.jitter_us < 20000);

	post(m, MIXER_REMOVE, 0, NULL, NULL);
	CU_ASSERT_FATAL(wait_event(m, efd, &ev) == 0);
	mixer_part_stats_of(&fin[0], legs[0].s);
	CU_ASSERT(fin[0].lost >= s0.lost);
	run_phones(1, 1000);
	mixer_stop(m);
	while (mixer_poll(m, &ev) == 0)
		log_event(&ev);
	struct mixer_stats st;
	mixer_get_stats(m, &st);
	uint64_t in = 0, out = 0, lost = 0, concealed = 0, fec = 0, und = 0;
	for (int i = 0; i < N_LEGS; i++) {
		mixer_part_stats_of(&fin[i], legs[i].s);
		in += fin[i].packets_in;
		out += fin[i].packets_out;
		lost += fin[i].lost;
		concealed += fin[i].concealed;
		fec += fin[i].fec_recovered;
		und += fin[i].undecoded;
	}
	CU_ASSERT_EQUAL(st.packets_in, in);
	CU_ASSERT_EQUAL(st.packets_out, out);
	CU_ASSERT_EQUAL(st.packets_lost, lost);
	CU_ASSERT_EQUAL(st.concealed, concealed);
	CU_ASSERT_EQUAL(st.fec_recovered, fec);
	CU_ASSERT_EQUAL(st.undecoded, und);
	CU_ASSERT_EQUAL(fin[1].lost, 0);
	mixer_free(m);

	/* Leg 1's stream moves to another room (a dial-in caller leaving the
	 * lobby): that room counts only what came after. */
	struct mixer_params mp = {
	    .room = "next", .rate_hz = ROOM_HZ, .notify_fd = efd};
	CU_ASSERT_FATAL(mixer_start(&m, &mp) == 0);
	post(m, MIXER_ADD, 1, legs[1].s, NULL);
	run_phones(1, 600);
	mixer_stop(m);
	while (mixer_poll(m, &ev) == 0)
		log_event(&ev);
	mixer_get_stats(m, &st);
	struct mixer_part_stats now;
	mixer_part_stats_of(&now, legs[1].s);
	CU_ASSERT(now.packets_in >= fin[1].packets_in + 20);
	CU_ASSERT_EQUAL(st.packets_in, now.packets_in - fin[1].packets_in);
	CU_ASSERT_EQUAL(st.packets_out, now.packets_out - fin[1].packets_out);
	mixer_free(m);
	for (int i = 0; i < N_LEGS; i++)
		leg_close(&legs[i]);
	close(efd);
}

/* Leg 0 sends RFC 4733 presses: each comes to the signalling side once,
 * in order, as MIXER_EV_DTMF for its participant. */
static void test_key_presses(void)
{
	int efd;
	struct mixer *m = room_open(&efd, NULL);
	struct leg *l = &legs[0];
	struct stream_params p = l->p;
	p.te_pt = 101;
	post(m, MIXER_UPDATE, 0, NULL, &p);
	run_phones(0, 100);
	static const char keys[] = "*6#";
	for (int k = 0; keys[k]; k++) {
		unsigned code = keys[k] == '*' ? 10 : keys[k] == '#' ? 11 : 6;
		uint8_t e[4] = {(uint8_t)code, 0x8a, 0x03, 0x20}, pkt[64];
		for (int copy = 0; copy < 3; copy++) {
			struct rtppkt rp = {.pt = 101,
					    .seq = l->seq++,
					    .ts = l->ts,
					    .ssrc = 0xbb000000u + 440,
					    .payload = e,
					    .payload_bytes = 4};
			int len = rtppkt_build(pkt, sizeof(pkt), &rp);
			CU_ASSERT(sendto(l->ph_rtp, pkt, (size_t)len, 0,
					 (struct sockaddr *)&l->s_rtp_addr,
					 sizeof(struct sockaddr_in)) == len);
		}
		run_phones(0, 100);
	}
	run_phones(0, 100);
	take_events(m, efd);
	char got[8] = "";
	for (int i = 0; i < n_log && strlen(got) < 7; i++) {
		if (ev_log[i].kind != MIXER_EV_DTMF)
			continue;
		CU_ASSERT_EQUAL(ev_log[i].part_id, 0);
		CU_ASSERT_EQUAL(ev_log[i].digit.source, DIGIT_RFC4733);
		CU_ASSERT_EQUAL(ev_log[i].digit.duration_ms, 100);
		got[strlen(got)] = ev_log[i].digit.key;
	}
	CU_ASSERT_STRING_EQUAL(got, keys);
	room_close(m, efd);
}

static const struct unit_test tests[] = {
    {"three tones, n-1, csrc, update, remove, stop", test_three_tones},
    {"nothing lost at stop", test_nothing_lost},
    {"bad params", test_bad_params},
    {"talking on, then off after the phone stops", test_talking},
    {"talking off before removed", test_remove_talking},
    {"muted: not heard, hears all", test_mute},
    {"deaf: sent silence", test_deaf},
    {"talk and listen gains", test_gains},
    {"recording tap: the full mix, in order", test_rec_tap},
    {"statistics: each second, and room totals", test_stats},
    {"loud room: limited, not clipped", test_loud_room},
    {"key presses come back as events", test_key_presses},
    {NULL, NULL},
};

UNIT_MAIN_APART("mixer", tests)
