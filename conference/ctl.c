/* ctl.c: the control API's way into the focus (conference.h's "control"
 * section).
 *
 * conference_request() runs in any thread: it hands the request to the
 * queue of ctlq.c and waits, bounded, for the reply. The signalling
 * thread, woken by req_fd in its su_root loop (sig_ua.c), serves queued
 * requests here: each op goes to its handler (rooms in ctl_rooms.c,
 * participants and recording in ctl_parts.c, users and metrics here),
 * which fills the reply without ever waiting for the caller. A burst is
 * served in slices, so that SIP is not starved by a busy API. */
#include "conference/ctl.h"
#include "conference/ctlq.h"
#include "conference/sig.h"
#include "conference/store.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/su_md5.h>

#define CTL_SLICE 16 /* requests served per wake-up */

int conference_request(struct conference *c, const struct conf_req *req,
		       struct conf_reply *rep, unsigned timeout_ms)
{
	if (!c || !req || !rep) {
		if (rep) {
			memset(rep, 0, sizeof(*rep));
			rep->err = -EINVAL;
		}
		return -EINVAL;
	}
	return ctlq_call(c->ctlq, req, rep, timeout_ms);
}

/* Store errors become -EIO for the API, with why in the message. */
static void store_failed(struct conf_reply *rep, const char *what, int err)
{
	rep->err = -EIO;
	snprintf(rep->message, sizeof(rep->message), "store: cannot %s: %s",
		 what, strerror(-err));
}

static void user_set(struct conference *c, const struct conf_req *req,
		     struct conf_reply *rep)
{
	if (!room_name_valid(req->user)) {
		rep->err = -EINVAL;
		snprintf(rep->message, sizeof(rep->message),
			 "user: 1 to 64 of A-Z a-z 0-9 . _ -");
		return;
	}
	size_t n = strnlen(req->password, sizeof(req->password));
	if (n == 0 || n == sizeof(req->password)) {
		rep->err = -EINVAL;
		snprintf(rep->message, sizeof(rep->message),
			 "password: 1 to %zu bytes", sizeof(req->password) - 1);
		return;
	}
	su_md5_t md5;
	char ha1[STORE_HA1_LEN + 1];
	su_md5_init(&md5);
	su_md5_strupdate(&md5, req->user);
	su_md5_strupdate(&md5, ":" SIG_REG_REALM ":");
	su_md5_update(&md5, req->password, n);
	su_md5_hexdigest(&md5, ha1);
	explicit_bzero(&md5, sizeof(md5));
	int err = store_user_set(c->store, req->user, SIG_REG_REALM, ha1);
	explicit_bzero(ha1, sizeof(ha1));
	if (err)
		store_failed(rep, "set the user", err);
	else
		log_info("ctl", "user=%s set", req->user);
}

static void user_delete(struct conference *c, const struct conf_req *req,
			struct conf_reply *rep)
{
	int err = room_name_valid(req->user)
		      ? store_user_delete(c->store, req->user)
		      : -ENOENT;
	if (err == -ENOENT) {
		rep->err = -ENOENT;
		snprintf(rep->message, sizeof(rep->message), "no such user");
	} else if (err) {
		store_failed(rep, "delete the user", err);
	} else {
		log_info("ctl", "user=%s deleted", req->user);
	}
}

/* Packet counts are summed by each mixer as it sends its participants'
 * statistics (about each second) and when they leave. */
static void metrics(struct conference *c, struct conf_reply *rep)
{
	struct conf_metrics *m = &rep->metrics;
	m->calls_total = atomic_load(&c->calls_total);
	m->subscriptions = sig_sub_count(c);
	m->rooms = atomic_load(&c->n_rooms);
	m->participants = atomic_load(&c->n_parts);
	struct mixer_stats st;
	room_mixer_totals(c, &st);
	m->ticks = st.ticks;
	m->late_ticks = st.late_ticks;
	m->missed_ticks = st.missed_ticks;
	m->tick_ns_sum = st.tick_ns_sum;
	_Static_assert(MIXER_TICK_HIST_N == 8, "conf_metrics.tick_hist");
	for (int i = 0; i < MIXER_TICK_HIST_N; i++)
		m->tick_hist[i] = st.tick_hist[i];
	m->packets_in = st.packets_in;
	m->packets_out = st.packets_out;
	m->packets_lost = st.packets_lost;
	m->concealed = st.concealed;
	m->fec_recovered = st.fec_recovered;
	m->undecoded = st.undecoded;
	m->dropped_foreign = st.dropped_foreign;
	m->dropped_srtp = st.dropped_srtp;
	m->dropped_malformed = st.dropped_malformed;
	m->encodes = st.encodes;
	m->fanned_ticks = st.fanned_ticks;
	sendq_totals(&m->send_batches, &m->batched_packets);
	m->media_rt_priority = c->rt_priority;
	m->store_writable = store_check_writable(c->store) == 0;
	m->mixers_stalled = room_stats_stalled(
	    c, mono_now_ns(), CONF_MIXER_STALL_MS * (uint64_t)1000000);
}

static void handle(struct conference *c, const struct conf_req *req,
		   struct conf_reply *rep)
{
	switch (req->op) {
	case CONF_ROOM_LIST:
	case CONF_ROOM_GET:
	case CONF_ROOM_CREATE:
	case CONF_ROOM_UPDATE:
	case CONF_ROOM_DELETE:
		ctl_rooms_handle(c, req, rep);
		break;
	case CONF_PART_LIST:
	case CONF_PART_DIAL:
	case CONF_PART_UPDATE:
	case CONF_PART_KICK:
	case CONF_PART_MUTE_ALL:
	case CONF_REC_START:
	case CONF_REC_STOP:
		ctl_parts_handle(c, req, rep);
		break;
	case CONF_USER_SET:
		user_set(c, req, rep);
		break;
	case CONF_USER_DELETE:
		user_delete(c, req, rep);
		break;
	case CONF_METRICS:
		metrics(c, rep);
		break;
	default:
		rep->err = -EINVAL;
		snprintf(rep->message, sizeof(rep->message), "unknown op %d",
			 (int)req->op);
		break;
	}
}

void ctl_serve(struct conference *c)
{
	uint64_t v;
	if (read(c->req_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: an earlier wake-up took them. */
	}
	for (int i = 0; i < CTL_SLICE; i++) {
		struct ctlq_item *it = ctlq_take(c->ctlq);
		if (!it)
			return;
		struct conf_reply *rep = ctlq_item_reply(it);
		if (c->stopping) {
			rep->err = -ESHUTDOWN;
			snprintf(rep->message, sizeof(rep->message),
				 "shutting down");
		} else {
			handle(c, ctlq_item_req(it), rep);
		}
		ctlq_done(c->ctlq, it);
	}
	/* More are waiting: come back after SIP has had its turn. */
	uint64_t one = 1;
	if (ctlq_pending(c->ctlq) && write(c->req_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full, so we will be back. */
	}
}
