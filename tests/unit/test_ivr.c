/* test_ivr.c: the dial-in dialogue (conference/ivr*.c) on a focus built
 * by hand: rooms with real mixer threads, participants with real streams
 * (towards a loopback socket nobody reads), the control handlers and the
 * event ring, but no SIP: keys are handed to ivr_on_digit() as the mixer
 * or an INFO would, time is moved on by calling ivr_tick() with a later
 * clock, and a hang-up shows as the dialogue's last state (there is no
 * call to send BYE on). Prompts are the tones (no prompt files), so that
 * they play out quickly. */
#include "conference/ctl.h"
#include "conference/events.h"
#include "conference/ivr_priv.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define S 1000000000ull

static struct options opts;
static struct conference conf;
static int phone_fd;
static struct sockaddr_storage phone_addr;
static uint64_t seen_id; /* events before this one are read */

static void conf_open(void)
{
	options_defaults(&opts);
	strcpy(opts.ivr.prompt_dir, "/nonexistent-tutti-prompts");
	log_set_level(LL_ERROR); /* the tones' warning, the dialogue's info */
	memset(&conf, 0, sizeof(conf));
	conf.opts = &opts;
	conf.media_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	CU_ASSERT_FATAL(conf.media_fd >= 0);
	CU_ASSERT_FATAL(evring_new(&conf.events, 256) == 0);
	uint16_t lo = (uint16_t)(42000 + (getpid() % 200) * 40);
	CU_ASSERT_FATAL(portpool_new(&conf.ports, lo, (uint16_t)(lo + 39)) ==
			0);
	CU_ASSERT_FATAL(ivr_init(&conf) == 0);
	phone_fd = unit_udp_socket(&phone_addr);
	seen_id = 0;
}

static void conf_close(void)
{
	room_destroy_all(&conf);
	room_departed_free_all(&conf);
	ivr_shutdown(&conf);
	evring_free(conf.events);
	portpool_free(conf.ports);
	close(conf.media_fd);
	close(phone_fd);
}

/* Lets the mixers' events (keys played, streams back) reach the rooms. */
static void pump(unsigned ms)
{
	struct pollfd pfd = {.fd = conf.media_fd, .events = POLLIN};
	uint64_t end = mono_now_ns() + (uint64_t)ms * 1000000ull;
	while (mono_now_ns() < end) {
		if (poll(&pfd, 1, 10) == 1)
			room_on_media_events(&conf);
		ivr_tick(&conf, mono_now_ns());
	}
}

static struct room *room_with(const char *name, const char *pin,
			      const char *mod_pin)
{
	struct room *r;
	CU_ASSERT_FATAL(room_get(&conf, name, &r) == 0);
	snprintf(r->pin, sizeof(r->pin), "%s", pin);
	snprintf(r->moderator_pin, sizeof(r->moderator_pin), "%s", mod_pin);
	return r;
}

/* A caller who dialled in: media in the mixer, the dialogue started. */
static struct participant *dial_in(struct room *r, const char *who)
{
	struct participant *p;
	CU_ASSERT_FATAL(room_participant_new(r, "127.0.0.1", &p) == 0);
	p->admitted = false;
	p->isolated = true;
	snprintf(p->uri, sizeof(p->uri), "sip:%s@test", who);
	snprintf(p->call_id, sizeof(p->call_id), "call-%s", who);
	struct stream_params sp = {.rtp_peer = phone_addr,
				   .rtcp_peer = phone_addr,
				   .codec = CODEC_PCMU,
				   .te_pt = 101,
				   .ptime_ms = 20,
				   .send = true,
				   .recv = true};
	CU_ASSERT_FATAL(room_admit(p, &sp) == 0);
	room_participant_connected(p, OA_SENDRECV);
	ivr_start(p);
	return p;
}

/* Keys typed by a person: the flood limit (test_flood) plays no part. */
static void keys(struct participant *p, const char *k)
{
	for (; *k; k++) {
		struct digit d = {.key = *k, .source = DIGIT_RFC4733};
		if (p->ivr)
			p->ivr->keys_in_window = 0;
		ivr_on_digit(p, &d);
	}
}

/* Moves the dialogue's clock on by s seconds. */
static void later(unsigned s)
{
	ivr_tick(&conf, mono_now_ns() + s * S);
}

static enum ivr_state state(const struct participant *p)
{
	return p->ivr ? p->ivr->state : IVR_N;
}

/* How many events of kind k for p came since the last call. */
static int events_of(enum conf_event_kind k, const struct participant *p)
{
	static struct conf_event ev[64];
	bool gap;
	int n = 0;
	size_t got = evring_wait(conf.events, seen_id, ev, 64, 0, &gap);
	for (size_t i = 0; i < got; i++) {
		seen_id = ev[i].id;
		n += ev[i].kind == k && ev[i].part.id == p->id;
	}
	return n;
}

static int visible(struct room *r)
{
	struct conf_reply rep = {0};
	CU_ASSERT(ctl_list_parts(r, &rep) == 0);
	int n = (int)rep.n_parts;
	conference_reply_clear(&rep);
	return n;
}

/* The PIN lets a caller in; the moderator PIN as a moderator. Until then
 * it is isolated and nobody sees it. */
static void test_pins(void)
{
	conf_open();
	struct room *r = room_with("pins", "2468", "1357");
	struct participant *a = dial_in(r, "a");
	CU_ASSERT_EQUAL(state(a), IVR_ASK_PIN);
	CU_ASSERT(a->isolated && !a->admitted);
	CU_ASSERT_EQUAL(visible(r), 0);
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_JOINED, a), 0);
	keys(a, "2468");
	CU_ASSERT_EQUAL(state(a), IVR_ASK_PIN);
	keys(a, "#");
	CU_ASSERT_EQUAL(state(a), IVR_IN_CALL);
	CU_ASSERT(!a->isolated && a->admitted && !a->moderator);
	CU_ASSERT_EQUAL(visible(r), 1);
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_JOINED, a), 1);

	struct participant *m = dial_in(r, "m");
	keys(m, "99*1357#"); /* '*' starts over */
	CU_ASSERT_EQUAL(state(m), IVR_IN_CALL);
	CU_ASSERT(m->moderator);
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_JOINED, m), 1);

	/* Digits without '#' are the answer when the timeout passes. */
	struct participant *b = dial_in(r, "b");
	keys(b, "2468");
	later(6);
	CU_ASSERT_EQUAL(state(b), IVR_IN_CALL);
	CU_ASSERT_EQUAL(visible(r), 3);
	conf_close();
}

/* Three wrong answers (a typo, silence, too many digits): goodbye, then
 * the hang-up; the caller was never seen. */
static void test_wrong_three_times(void)
{
	conf_open();
	struct room *r = room_with("wrong", "2468", "");
	struct participant *w = dial_in(r, "w");
	keys(w, "2469#");
	CU_ASSERT_EQUAL(state(w), IVR_ASK_PIN);
	CU_ASSERT_EQUAL(w->ivr->tries, 1);
	later(30); /* nothing typed */
	CU_ASSERT_EQUAL(state(w), IVR_ASK_PIN);
	CU_ASSERT_EQUAL(w->ivr->tries, 2);
	keys(w, "246824682468246824682468246824682468#");
	CU_ASSERT_EQUAL(state(w), IVR_BYE);
	CU_ASSERT(w->isolated && !w->admitted);
	keys(w, "2468#"); /* too late */
	CU_ASSERT_EQUAL(state(w), IVR_BYE);
	later(30);
	CU_ASSERT_EQUAL(state(w), IVR_GONE);
	CU_ASSERT_EQUAL(visible(r), 0);
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_JOINED, w), 0);
	conf_close();
}

/* No PIN: in at once. A room locked while the caller types turns it
 * away, but not a moderator. */
static void test_open_and_locked(void)
{
	conf_open();
	struct room *open = room_with("open", "", "");
	struct participant *o = dial_in(open, "o");
	CU_ASSERT_EQUAL(state(o), IVR_IN_CALL);
	CU_ASSERT(o->admitted);

	struct room *r = room_with("lock", "1", "2");
	struct participant *u = dial_in(r, "u");
	struct participant *m = dial_in(r, "m");
	r->locked = true;
	keys(u, "1#");
	CU_ASSERT_EQUAL(state(u), IVR_BYE);
	keys(m, "2#");
	CU_ASSERT_EQUAL(state(m), IVR_IN_CALL);
	conf_close();
}

/* --wait-for-moderator: callers hold until the moderator comes, then
 * come in before it. */
static void test_wait_for_moderator(void)
{
	conf_open();
	opts.ivr.wait_for_moderator = true;
	struct room *r = room_with("wait", "1", "9");
	struct participant *u = dial_in(r, "u");
	keys(u, "1#");
	CU_ASSERT_EQUAL(state(u), IVR_WAIT);
	CU_ASSERT(!u->admitted && u->isolated);
	CU_ASSERT_EQUAL(visible(r), 0);
	struct participant *m = dial_in(r, "m");
	keys(m, "9#");
	CU_ASSERT_EQUAL(state(u), IVR_IN_CALL);
	CU_ASSERT_EQUAL(state(m), IVR_IN_CALL);
	CU_ASSERT(u->admitted && !u->isolated &&
		  u->admitted_ns <= m->admitted_ns);
	CU_ASSERT_EQUAL(visible(r), 2);
	conf_close();
}

/* The keypad, as a caller and as a moderator. */
static void test_keypad(void)
{
	conf_open();
	struct room *r = room_with("keys", "1", "9");
	struct participant *u = dial_in(r, "u"), *m = dial_in(r, "m");
	keys(u, "1#");
	keys(m, "9#");
	keys(u, "*6");
	CU_ASSERT(u->muted);
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_MUTED, u), 1);
	keys(u, "4*6"); /* a stray key, then a sequence */
	CU_ASSERT(!u->muted);
	keys(u, "*7*7");
	CU_ASSERT_EQUAL(u->gain_db, -6);
	keys(u, "*9");
	CU_ASSERT_EQUAL(u->gain_db, -3);
	keys(u, "*4");
	CU_ASSERT_EQUAL(u->listen_gain_db, -3);
	keys(u, "*5*5*5*5*5*5");
	CU_ASSERT_EQUAL(u->listen_gain_db, 12); /* at most +12 dB */
	keys(u, "*1");				/* for moderators only */
	CU_ASSERT_FALSE(r->locked);
	keys(m, "*1");
	CU_ASSERT_TRUE(r->locked);
	keys(m, "*1");
	CU_ASSERT_FALSE(r->locked);
	keys(m, "*2");
	CU_ASSERT(u->muted && !m->muted);
	keys(m, "*2");
	CU_ASSERT(!u->muted);
	/* Half a sequence is forgotten after the timeout. */
	keys(u, "*");
	later(6);
	keys(u, "6");
	CU_ASSERT(!u->muted);
	keys(u, "*0");
	CU_ASSERT_EQUAL(state(u), IVR_IN_CALL);
	/* *3: the last caller who joined (not a moderator) is removed. */
	struct participant *v = dial_in(r, "v");
	keys(v, "1#");
	keys(m, "*3");
	CU_ASSERT_EQUAL(state(v), IVR_BYE);
	CU_ASSERT_EQUAL(v->ivr->bye_how, CI_BOOTED);
	CU_ASSERT_STRING_EQUAL(v->ivr->bye_by, m->uri);
	CU_ASSERT_EQUAL(state(u), IVR_IN_CALL);
	/* *8: leave. */
	keys(u, "*8");
	CU_ASSERT_EQUAL(state(u), IVR_BYE);
	CU_ASSERT_EQUAL(u->ivr->bye_how, CI_DEPARTED);
	conf_close();
}

/* --end-with-last-moderator: the others hear it ended, and go. */
static void test_end_with_moderator(void)
{
	conf_open();
	opts.ivr.end_with_last_moderator = true;
	struct room *r = room_with("end", "1", "9");
	struct participant *u = dial_in(r, "u"), *m = dial_in(r, "m"),
			   *n = dial_in(r, "n");
	keys(u, "1#");
	keys(m, "9#");
	keys(n, "9#");
	room_leave(m, CI_DEPARTED, NULL);
	CU_ASSERT_EQUAL(state(u), IVR_IN_CALL); /* n is still there */
	room_leave(n, CI_DEPARTED, NULL);
	CU_ASSERT_EQUAL(state(u), IVR_BYE);
	CU_ASSERT_EQUAL(u->ivr->bye_how, CI_BOOTED);
	pump(200);
	conf_close();
}

/* The prompt plays out through the mixer (MIXER_EV_PLAYED), and then the
 * digit timeout starts. */
static void test_prompt_played(void)
{
	conf_open();
	struct room *r = room_with("played", "1", "");
	struct participant *p = dial_in(r, "p");
	CU_ASSERT(p->ivr->wait_tag != 0);
	pump(1500); /* two beeps: about half a second */
	CU_ASSERT_EQUAL(p->ivr->wait_tag, 0);
	uint64_t left = p->ivr->deadline_ns - mono_now_ns();
	CU_ASSERT(left > 3 * S && left <= 5 * S);
	CU_ASSERT_EQUAL(state(p), IVR_ASK_PIN);
	conf_close();
}

/* A flood of key events (800 a second, say) is cut to a few dozen per
 * two seconds: 100 presses of *6 at once toggle mute 15 times, not 50. */
static void test_flood(void)
{
	conf_open();
	struct room *r = room_with("flood", "", "");
	struct participant *u = dial_in(r, "u");
	CU_ASSERT_EQUAL(state(u), IVR_IN_CALL);
	events_of(CONF_EV_PART_MUTED, u);
	for (int i = 0; i < 100; i++) {
		struct digit d = {.key = i % 2 ? '6' : '*'};
		ivr_on_digit(u, &d);
	}
	CU_ASSERT(u->muted); /* 15 toggles */
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_MUTED, u), 8);
	conf_close();
}

static int api(struct participant *p, enum conf_op op,
	       const struct conf_part_spec *spec)
{
	struct conf_req req = {.op = op, .part_id = p->id};
	struct conf_reply rep = {0};
	snprintf(req.room, sizeof(req.room), "%s", p->room->name);
	req.part_spec = *spec;
	ctl_parts_handle(&conf, &req, &rep);
	int err = rep.err;
	conference_reply_clear(&rep);
	return err;
}

/* The API's "mute all but moderators", from the API or from a moderator's
 * *2, leaves a caller still in the dialogue alone (it is not seen; it
 * joins later). A participant the API makes a moderator lets in those
 * waiting for one. */
static void test_api_beside(void)
{
	conf_open();
	struct room *r = room_with("api", "1", "9");
	struct participant *a = dial_in(r, "a"), *x = dial_in(r, "x");
	keys(a, "1#");
	events_of(CONF_EV_PART_MUTED, x);
	struct conf_part_spec mute = {.muted = true};
	CU_ASSERT_EQUAL(api(a, CONF_PART_MUTE_ALL, &mute), 0);
	CU_ASSERT(a->muted && !x->muted);
	CU_ASSERT_EQUAL(events_of(CONF_EV_PART_MUTED, x), 0);
	struct participant *m = dial_in(r, "m");
	keys(m, "9#");
	keys(m, "*2"); /* all muted: unmutes */
	CU_ASSERT(!a->muted && !x->muted);
	keys(m, "*2");
	CU_ASSERT(a->muted && !x->muted && !m->muted);
	keys(x, "1#");
	CU_ASSERT(!x->muted); /* joined after */

	opts.ivr.wait_for_moderator = true;
	struct room *w = room_with("api-wait", "1", "9");
	struct participant *b = dial_in(w, "b");
	keys(b, "1#");
	CU_ASSERT_EQUAL(state(b), IVR_WAIT);
	struct participant *c = dial_in(w, "c");
	keys(c, "1#");
	CU_ASSERT_EQUAL(state(c), IVR_WAIT);
	opts.ivr.wait_for_moderator = false;
	struct participant *d = dial_in(w, "d");
	keys(d, "1#");
	CU_ASSERT_EQUAL(state(d), IVR_IN_CALL);
	CU_ASSERT_EQUAL(visible(w), 1);
	struct conf_part_spec promote = {.set_moderator = true,
					 .moderator = true};
	CU_ASSERT_EQUAL(api(d, CONF_PART_UPDATE, &promote), 0);
	CU_ASSERT(d->moderator);
	CU_ASSERT_EQUAL(state(b), IVR_IN_CALL);
	CU_ASSERT_EQUAL(state(c), IVR_IN_CALL);
	CU_ASSERT_EQUAL(visible(w), 3);
	conf_close();
}

/* The generic number's lobby takes no place among --max-rooms, but a
 * caller moving out of it cannot make a room beyond them. */
static void test_lobby_and_max_rooms(void)
{
	conf_open();
	opts.max_rooms = 1;
	snprintf(opts.ivr.dialin_number, sizeof(opts.ivr.dialin_number),
		 "5000");
	struct room *lobby, *one, *two;
	CU_ASSERT_FATAL(room_lobby(&conf, "5000", &lobby) == 0);
	struct participant *p = dial_in(lobby, "p");
	CU_ASSERT_EQUAL(state(p), IVR_ASK_ROOM);
	CU_ASSERT_FATAL(room_get(&conf, "1", &one) == 0);
	CU_ASSERT_EQUAL(room_get(&conf, "2", &two), -EMFILE);
	struct participant *o = dial_in(one, "o");
	CU_ASSERT_EQUAL(state(o), IVR_IN_CALL);
	keys(p, "2#");
	pump(300);
	CU_ASSERT(p->room == lobby);
	CU_ASSERT_EQUAL(state(p), IVR_ASK_ROOM);
	CU_ASSERT_EQUAL(p->ivr->tries, 1);
	keys(p, "1#");
	pump(300);
	CU_ASSERT(p->room == one);
	CU_ASSERT_EQUAL(state(p), IVR_IN_CALL);
	opts.max_rooms = 0;
	opts.ivr.dialin_number[0] = '\0';
	conf_close();
}

static const struct unit_test tests[] = {
    {"PIN and moderator PIN", test_pins},
    {"three wrong answers", test_wrong_three_times},
    {"open room, locked room", test_open_and_locked},
    {"wait for a moderator", test_wait_for_moderator},
    {"keypad", test_keypad},
    {"end with the last moderator", test_end_with_moderator},
    {"prompt played, then the timeout", test_prompt_played},
    {"a flood of keys", test_flood},
    {"the API beside the dialogue", test_api_beside},
    {"the lobby and --max-rooms", test_lobby_and_max_rooms},
    {NULL, NULL},
};

UNIT_MAIN("ivr", tests)
