/* sig_sub.c: subscriptions to a room's state (RFC 6665, RFC 4575).
 *
 * Sofia-SIP's notifier usage keeps each subscription's dialog and
 * lifetime: it answers refreshes, sends the final NOTIFY when a
 * subscription expires or is ended with Expires: 0, and reports NOTIFY
 * failures. We decide the bodies. Every subscriber holds a snapshot of
 * the room (shared and reference-counted: a thousand subscribers who are
 * in step hold one) and a version of its own; a change marks the room's
 * watch dirty and a timer sends each subscriber the partial document from
 * what it holds to what is, at most once per --notify-interval, at once
 * after a quiet period. One rendering serves every subscriber who holds
 * the same snapshot: only the version attribute differs.
 *
 * The stack re-sends the last NOTIFY when a subscription is refreshed,
 * expires or is unsubscribed (RFC 6665 asks for a NOTIFY then); those
 * copies repeat a version the subscriber already has, which RFC 4575 4.6
 * tells it to ignore. A refresh then gets full state at the next version.
 *
 * NOTIFYs go out in a window: at most SUB_WINDOW wait for their answer at
 * any time, and a subscriber with one unanswered gets no other until it
 * answers; the rest wait for answers to free the window. A room with a
 * thousand subscribers would otherwise hand the stack a thousand NOTIFYs
 * at once: Sofia-SIP queues a bounded number per transport connection
 * (a document over the UDP MTU goes by TCP first) and fails the rest with
 * ENOBUFS, and the burst of 200 OKs overflows our socket's receive
 * buffer. Final NOTIFYs (room deleted, shutdown) are paced the same way.
 * Signalling thread only. */
#include "conference/sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_tag_io.h>

#define SUB_MIN_EXPIRES_S 60
#define SUB_MAX_EXPIRES_S 3600
#define CI_CONTENT_TYPE	  "application/conference-info+xml"
#define SUB_WINDOW	  256 /* NOTIFYs awaiting their answer */

struct snap {
	unsigned refs;
	struct ci_room ci;
};

struct watch; /* the subscriptions of one room */

struct sub {
	struct sig_obj obj; /* SIG_OBJ_SUB */
	struct sub *next;
	struct watch *w;
	nua_handle_t *nh;
	char call_id[128];
	char contact[CI_URI_MAX + 32];
	uint32_t version;  /* of the last NOTIFY sent */
	struct snap *held; /* what the subscriber holds after it */
	uint64_t last_sent_ns;
	const char *end_reason; /* a final NOTIFY is owed */
	bool ending;		/* the final NOTIFY is out */
	bool unanswered;	/* a NOTIFY of ours awaits its answer */
};

struct watch {
	struct watch *next;
	char room[ROOM_NAME_MAX + 1];
	struct snap *now; /* NULL when a change has made it stale */
	struct sub *subs;
};

struct subs {
	struct watch *watches;
	unsigned n;
	unsigned unanswered; /* NOTIFYs of ours awaiting their answer */
	bool backlog;	     /* someone waits for the window */
	su_timer_t *timer;
	uint64_t timer_due_ns; /* 0: not armed */
};

static void snap_unref(struct snap *s)
{
	if (s && --s->refs == 0) {
		confinfo_room_clear(&s->ci);
		free(s);
	}
}

static struct snap *snap_ref(struct snap *s)
{
	if (s)
		s->refs++;
	return s;
}

/* The room as it is, built once per change for every subscriber. */
static struct snap *watch_now(struct conference *c, struct watch *w)
{
	if (w->now)
		return w->now;
	struct snap *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (room_snapshot(c, w->room, &s->ci) < 0) {
		free(s);
		return NULL;
	}
	s->refs = 1;
	w->now = s;
	return s;
}

static struct watch *watch_find(struct subs *ss, const char *room)
{
	for (struct watch *w = ss->watches; w; w = w->next)
		if (strcmp(w->room, room) == 0)
			return w;
	return NULL;
}

static struct watch *watch_get(struct subs *ss, const char *room)
{
	struct watch *w = watch_find(ss, room);
	if (w)
		return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	snprintf(w->room, sizeof(w->room), "%s", room);
	w->next = ss->watches;
	ss->watches = w;
	return w;
}

static void watch_drop_if_unused(struct subs *ss, struct watch *w)
{
	if (w->subs)
		return;
	struct watch **pp = &ss->watches;
	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	snap_unref(w->now);
	free(w);
}

/* sub's NOTIFY has its answer (or never will): its window slot frees. */
static void answered(struct subs *ss, struct sub *sub)
{
	if (sub->unanswered) {
		sub->unanswered = false;
		ss->unanswered--;
	}
}

static void sub_free(struct conference *c, struct sub *sub)
{
	struct subs *ss = c->sig->subs;
	struct watch *w = sub->w;
	struct sub **pp = &w->subs;
	while (*pp && *pp != sub)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = sub->next;
		ss->n--;
	}
	answered(ss, sub);
	snap_unref(sub->held);
	if (sub->nh) {
		nua_handle_bind(sub->nh, NULL);
		nua_handle_destroy(sub->nh);
	}
	watch_drop_if_unused(ss, w);
	free(sub);
}

/* Sends one document to one subscriber; reason ends the subscription. */
static int send_doc(struct conference *c, struct sub *sub,
		    const struct ci_doc *doc, struct snap *now,
		    const char *reason)
{
	size_t len;
	char *xml = confinfo_doc_stamp(doc, sub->version + 1, &len);
	if (!xml)
		return -ENOMEM;
	char state[64];
	if (reason)
		snprintf(state, sizeof(state), "terminated;reason=%s", reason);
	nua_notify(
	    sub->nh, SIPTAG_EVENT_STR("conference"),
	    SIPTAG_CONTACT_STR(sub->contact),
	    SIPTAG_CONTENT_TYPE_STR(CI_CONTENT_TYPE), SIPTAG_PAYLOAD_STR(xml),
	    TAG_IF(!reason, NUTAG_SUBSTATE(nua_substate_active)),
	    TAG_IF(reason, SIPTAG_SUBSCRIPTION_STATE_STR(state)), TAG_END());
	free(xml);
	if (!sub->unanswered) {
		sub->unanswered = true;
		c->sig->subs->unanswered++;
	}
	sub->version++;
	snap_unref(sub->held);
	sub->held = snap_ref(now);
	sub->last_sent_ns = mono_now_ns();
	if (reason)
		sub->ending = true;
	return 0;
}

static int send_full(struct conference *c, struct sub *sub, const char *reason)
{
	struct snap *now = watch_now(c, sub->w);
	struct ci_doc doc;
	int err = now ? confinfo_full(&now->ci, &doc) : -ENOMEM;
	if (err)
		return err;
	err = send_doc(c, sub, &doc, now, reason);
	confinfo_doc_free(&doc);
	return err;
}

static uint64_t interval_ns(const struct conference *c)
{
	return (uint64_t)c->opts->notify_interval_ms * 1000000ull;
}

static void arm(struct conference *c, uint64_t due_ns);

/* Sends every subscriber of w who is due the change it has not heard,
 * or the final NOTIFY it is owed, while the window has room; returns the
 * earliest time another one will be due (0: none). */
static uint64_t flush_watch(struct conference *c, struct watch *w,
			    uint64_t now_ns)
{
	struct subs *ss = c->sig->subs;
	struct snap *now = watch_now(c, w);
	if (!now)
		return now_ns + 100000000ull; /* out of memory: try later */
	struct snap *cached_from = NULL;
	struct ci_doc cached = {0};
	bool have = false, none = false;
	uint64_t next_due = 0;
	for (struct sub *sub = w->subs; sub; sub = sub->next) {
		bool owed = sub->end_reason || (sub->held && sub->held != now);
		if (sub->ending || !owed)
			continue;
		if (sub->unanswered || ss->unanswered >= SUB_WINDOW) {
			ss->backlog = true; /* an answer re-arms the timer */
			continue;
		}
		if (sub->end_reason) {
			send_full(c, sub, sub->end_reason);
			continue;
		}
		uint64_t due = sub->last_sent_ns + interval_ns(c);
		if (due > now_ns) {
			if (!next_due || due < next_due)
				next_due = due;
			continue;
		}
		if (cached_from != sub->held) {
			if (have)
				confinfo_doc_free(&cached);
			int err =
			    confinfo_partial(&sub->held->ci, &now->ci, &cached);
			have = err == 0;
			none = err == -ENODATA;
			cached_from = sub->held;
		}
		if (have) {
			send_doc(c, sub, &cached, now, NULL);
		} else if (none) {
			/* Nothing visible changed: it holds the same. */
			snap_unref(sub->held);
			sub->held = snap_ref(now);
		}
	}
	if (have)
		confinfo_doc_free(&cached);
	return next_due;
}

static void on_timer(struct conference *c, su_timer_t *t,
		     struct conference *arg)
{
	(void)t;
	(void)arg;
	struct subs *ss = c->sig->subs;
	ss->timer_due_ns = 0;
	ss->backlog = false;
	uint64_t now_ns = mono_now_ns();
	uint64_t next = 0;
	for (struct watch *w = ss->watches; w; w = w->next) {
		uint64_t due = flush_watch(c, w, now_ns);
		if (due && (!next || due < next))
			next = due;
	}
	if (next)
		arm(c, next);
}

static void arm(struct conference *c, uint64_t due_ns)
{
	struct subs *ss = c->sig->subs;
	if (ss->timer_due_ns && ss->timer_due_ns <= due_ns)
		return;
	uint64_t now = mono_now_ns();
	su_duration_t ms =
	    due_ns > now ? (su_duration_t)((due_ns - now + 999999) / 1000000)
			 : 0;
	ss->timer_due_ns = due_ns ? due_ns : 1;
	su_timer_set_interval(ss->timer, on_timer, c, ms);
}

/* The room's watch, its snapshot dropped as stale; NULL when nobody
 * watches the room. */
static struct watch *watch_stale(struct conference *c, const char *room)
{
	struct subs *ss = c->sig ? c->sig->subs : NULL;
	struct watch *w = ss ? watch_find(ss, room) : NULL;
	if (w) {
		snap_unref(w->now);
		w->now = NULL;
	}
	return w;
}

void sig_sub_room_changed(struct conference *c, const char *room)
{
	if (!watch_stale(c, room))
		return;
	/* The first change after a quiet period goes out at once; the timer
	 * fires after the event being handled, so that what one SIP event
	 * changes goes out in one document. */
	arm(c, mono_now_ns());
}

void sig_sub_room_deleted(struct conference *c, const char *room)
{
	struct watch *w = watch_stale(c, room);
	if (!w)
		return;
	for (struct sub *sub = w->subs; sub; sub = sub->next) {
		if (sub->ending)
			continue;
		log_info("sub", "room=%s call=%s ended: room deleted", room,
			 sub->call_id);
		sub->end_reason = "noresource";
	}
	arm(c, mono_now_ns());
}

static void new_sub(struct conference *c, nua_handle_t *nh, const sip_t *sip)
{
	nua_t *nua = c->sig->nua;
	const char *room = sip->sip_request->rq_url->url_user;
	const char *cid = sip->sip_call_id ? sip->sip_call_id->i_id : "-";
	unsigned long expires =
	    sip->sip_expires ? sip->sip_expires->ex_delta : SUB_MAX_EXPIRES_S;

	int status = 0;
	const char *phrase = NULL, *why = NULL;
	unsigned retry = 0;
	if (c->stopping)
		status = 503, phrase = "Service Unavailable";
	else if ((retry = sig_limits_new_request(c, SIG_LIMIT_SUB, &why)))
		status = 503, phrase = "Service Unavailable";
	else if (!room_name_valid(room))
		status = 404, phrase = "Not Found";
	else if (!c->opts->rooms_on_demand && !room_find(c, room))
		status = 404, phrase = "Not Found";
	else if (expires && expires < SUB_MIN_EXPIRES_S)
		status = 423, phrase = "Interval Too Brief";
	if (status) {
		log_info("sub", "room=%s call=%s refused %d %s%s%s",
			 room_name_valid(room) ? room : "-", cid, status,
			 phrase, why ? ": " : "", why ? why : "");
		char ra[16];
		nua_respond(
		    nh, status, phrase, NUTAG_WITH_THIS(nua),
		    TAG_IF(status == 423, SIPTAG_MIN_EXPIRES_STR("60")),
		    TAG_IF(status == 503,
			   SIPTAG_RETRY_AFTER_STR(sig_retry_after(retry, ra))),
		    TAG_END());
		nua_handle_destroy(nh);
		return;
	}

	struct subs *ss = c->sig->subs;
	struct sub *sub = calloc(1, sizeof(*sub));
	struct watch *w = sub ? watch_get(ss, room) : NULL;
	if (!w) {
		free(sub);
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR,
			    NUTAG_WITH_THIS(nua), TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	sub->obj.kind = SIG_OBJ_SUB;
	sub->nh = nh;
	sub->w = w;
	snprintf(sub->call_id, sizeof(sub->call_id), "%s", cid);
	sig_focus_contact(c->opts, room, c->focus_addr, sip, sub->contact,
			  sizeof(sub->contact));
	sub->next = w->subs;
	w->subs = sub;
	ss->n++;
	nua_handle_bind(nh, &sub->obj);

	if (expires > SUB_MAX_EXPIRES_S)
		expires = SUB_MAX_EXPIRES_S;
	char ex[16];
	snprintf(ex, sizeof(ex), "%lu", expires);
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
		    SIPTAG_EXPIRES_STR(ex), SIPTAG_CONTACT_STR(sub->contact),
		    TAG_END());
	log_info("sub", "room=%s call=%s subscribed expires=%lu", room, cid,
		 expires);
	/* Expires: 0 is a fetch: the stack makes this NOTIFY the last. */
	send_full(c, sub, NULL);
}

void sig_sub_on_subscribe(struct conference *c, nua_handle_t *nh,
			  struct sub *sub, const sip_t *sip, tagi_t tags[])
{
	if (!sip || !sip->sip_request)
		return;
	if (!sub) {
		new_sub(c, nh, sip);
		return;
	}
	int substate = nua_substate_active;
	tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
	if (substate == nua_substate_terminated) {
		/* Expires: 0: the stack sends the final NOTIFY. */
		log_info("sub", "room=%s call=%s unsubscribed", sub->w->room,
			 sub->call_id);
		sub->ending = true;
		return;
	}
	if (!sub->ending)
		send_full(c, sub, NULL); /* a refresh gets full state */
}

void sig_sub_on_notify_result(struct conference *c, nua_handle_t *nh,
			      struct sub *sub, int status, tagi_t tags[])
{
	if (!sub) {
		if (status >= 200)
			nua_handle_destroy(nh);
		return;
	}
	if (status < 200)
		return;
	struct subs *ss = c->sig->subs;
	answered(ss, sub);
	if (ss->backlog && ss->unanswered < SUB_WINDOW)
		arm(c, mono_now_ns());
	int substate = nua_substate_active;
	tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
	if (substate != nua_substate_terminated && status < 300)
		return;
	if (status >= 300)
		log_info("sub", "room=%s call=%s NOTIFY answered %d: ended",
			 sub->w->room, sub->call_id, status);
	else
		log_info("sub", "room=%s call=%s ended", sub->w->room,
			 sub->call_id);
	sub_free(c, sub);
}

void sig_sub_end_all(struct conference *c)
{
	struct subs *ss = c->sig->subs;
	for (struct watch *w = ss->watches; w; w = w->next)
		for (struct sub *sub = w->subs; sub; sub = sub->next)
			if (!sub->ending && !sub->end_reason)
				sub->end_reason = "deactivated";
	arm(c, mono_now_ns());
}

unsigned sig_sub_count(const struct conference *c)
{
	return c->sig && c->sig->subs ? c->sig->subs->n : 0;
}

int sig_sub_start(struct conference *c)
{
	struct subs *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return -ENOMEM;
	c->sig->subs = ss;
	ss->timer = su_timer_create(su_root_task(c->sig->root), 0);
	return ss->timer ? 0 : -ENOMEM;
}

void sig_sub_free(struct conference *c)
{
	struct subs *ss = c->sig ? c->sig->subs : NULL;
	if (!ss)
		return;
	while (ss->watches) {
		struct watch *w = ss->watches;
		while (w->subs) {
			struct sub *sub = w->subs;
			w->subs = sub->next;
			snap_unref(sub->held);
			free(sub); /* handles go with nua_destroy() */
		}
		ss->watches = w->next;
		snap_unref(w->now);
		free(w);
	}
	if (ss->timer)
		su_timer_destroy(ss->timer);
	free(ss);
	c->sig->subs = NULL;
}
