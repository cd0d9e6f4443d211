/* sig_refer.c: REFER to the conference URI (RFC 4579 5.5 and 5.8).
 *
 * A REFER, inside a call's dialog or outside any, asks the focus either to
 * dial the Refer-To URI into the room (with the referrer as Referred-By)
 * or, with Refer-To: <uri;method=BYE>, to remove the participant that URI
 * names; removal is for moderators only. Sofia-SIP accepts the REFER with
 * 202 and sends the first "100 Trying" NOTIFY of its implicit
 * subscription; the dial-out's own progress and final status follow as
 * message/sipfrag NOTIFYs sent by Sofia-SIP (NUTAG_NOTIFY_REFER), and a
 * refusal or a removal is reported here with the one final NOTIFY.
 * Signalling thread only. */
#include "conference/sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/url.h>

/* What an out-of-dialog REFER's handle is bound to, until its implicit
 * subscription ends. */
struct refer {
	struct sig_obj obj; /* SIG_OBJ_REFER */
};

static const char *sipfrag_for(int err)
{
	switch (err) {
	case 0:
		return "SIP/2.0 200 OK\r\n";
	case -EPERM:
		return "SIP/2.0 403 Forbidden\r\n";
	case -ENOENT:
		return "SIP/2.0 404 Not Found\r\n";
	case -EBUSY:
		return "SIP/2.0 486 Busy Here\r\n";
	case -EINVAL:
		return "SIP/2.0 400 Bad Request\r\n";
	case -ENOSPC:
	case -EMFILE:
		return "SIP/2.0 503 Service Unavailable\r\n";
	default:
		return "SIP/2.0 500 Server Internal Error\r\n";
	}
}

/* The one final NOTIFY of a REFER we answer ourselves. */
static void report(nua_handle_t *nh, const sip_event_t *ev, int err)
{
	nua_notify(nh, SIPTAG_EVENT(ev),
		   NUTAG_SUBSTATE(nua_substate_terminated),
		   SIPTAG_CONTENT_TYPE_STR("message/sipfrag"),
		   SIPTAG_PAYLOAD_STR(sipfrag_for(err)), TAG_END());
}

static bool same_uri(const char *a, const url_t *b)
{
	char buf[CI_URI_MAX];
	snprintf(buf, sizeof(buf), "%s", a);
	url_t u[1];
	if (url_d(u, buf) < 0)
		return false;
	const char *pa = u->url_port ? u->url_port : "";
	const char *pb = b->url_port ? b->url_port : "";
	return u->url_user && b->url_user && u->url_host && b->url_host &&
	       strcmp(u->url_user, b->url_user) == 0 &&
	       strcasecmp(u->url_host, b->url_host) == 0 && strcmp(pa, pb) == 0;
}

static struct participant *find_by_uri(struct room *r, const url_t *u)
{
	for (struct participant *p = r->parts; p; p = p->next)
		if (!p->leaving &&
		    (same_uri(p->uri, u) || same_uri(p->entity, u)))
			return p;
	return NULL;
}

/* The participant who sent the REFER: its call's, or the room's member
 * with the From AOR (out of dialog). */
static struct participant *referrer(struct room *r, struct call *call,
				    const sip_t *sip)
{
	if (call && call->part)
		return call->part;
	return r && sip->sip_from ? find_by_uri(r, sip->sip_from->a_url) : NULL;
}

static int remove_participant(struct conference *c, struct room *r,
			      struct participant *by, const url_t *target)
{
	if (!r)
		return -ENOENT;
	if (!by || !by->moderator)
		return -EPERM;
	struct participant *p = find_by_uri(r, target);
	if (!p)
		return -ENOENT;
	return sig_dial_kick(c, p, by->uri);
}

static void handle(struct conference *c, nua_handle_t *nh, struct call *call,
		   const sip_t *sip, const sip_event_t *ev,
		   const char *referred_by)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	const char *room_name =
	    call ? call->room : sip->sip_request->rq_url->url_user;
	struct room *r = room_name ? room_find(c, room_name) : NULL;
	url_t *target = url_hdup(home, sip->sip_refer_to->r_url);
	char method[16] = "";
	if (target && target->url_params)
		url_param(target->url_params, "method", method, sizeof(method));

	int err;
	if (!target || !room_name_valid(room_name)) {
		err = -EINVAL;
		report(nh, ev, err);
	} else if (strcasecmp(method, "BYE") == 0) {
		err = remove_participant(c, r, referrer(r, call, sip), target);
		report(nh, ev, err);
	} else if (method[0] && strcasecmp(method, "INVITE") != 0) {
		err = -EINVAL;
		report(nh, ev, err);
	} else {
		if (target->url_params)
			target->url_params = url_strip_param_string(
			    (char *)target->url_params, "method");
		target->url_headers = NULL;
		const char *uri = url_as_string(home, target);
		struct sig_dial_req req = {.room = room_name,
					   .target = uri,
					   .referred_by = referred_by,
					   .refer_nh = nh,
					   .refer_event = ev};
		err = uri ? sig_dial(c, &req, NULL) : -ENOMEM;
		if (err)
			report(nh, ev, err);
	}
	log_info("sip", "room=%s call=%s REFER %s %s: %s",
		 room_name_valid(room_name) ? room_name : "-",
		 sip->sip_call_id ? sip->sip_call_id->i_id : "-",
		 method[0] ? method : "INVITE",
		 target && target->url_user ? target->url_user : "-",
		 err ? sipfrag_for(err) + 8 : "accepted\r\n");
	su_home_deinit(home);
}

void sig_refer_on_refer(struct conference *c, nua_handle_t *nh,
			struct sig_obj *obj, const sip_t *sip, tagi_t tags[])
{
	if (!sip || !sip->sip_refer_to || !sip->sip_request)
		return; /* answered by Sofia-SIP (400) */
	sip_event_t const *ev = NULL;
	sip_referred_by_t const *by = NULL;
	tl_gets(tags, NUTAG_REFER_EVENT_REF(ev), SIPTAG_REFERRED_BY_REF(by),
		TAG_END());
	struct call *call = sig_obj_call(obj);
	if (!obj) {
		struct refer *rf = calloc(1, sizeof(*rf));
		if (!rf) {
			nua_handle_destroy(nh);
			return;
		}
		rf->obj.kind = SIG_OBJ_REFER;
		nua_handle_bind(nh, &rf->obj);
	}
	char by_str[CI_URI_MAX] = "";
	const url_t *by_url = by	      ? by->b_url
			      : sip->sip_from ? sip->sip_from->a_url
					      : NULL;
	if (by_url) {
		isize_t n = url_e(by_str, sizeof(by_str), by_url);
		by_str[n > 0 && (size_t)n < sizeof(by_str) ? n : 0] = '\0';
	}
	if (c->stopping) {
		report(nh, ev, -ENOSPC);
		return;
	}
	handle(c, nh, call, sip, ev, by_str[0] ? by_str : NULL);
}

void sig_refer_on_notify_result(struct conference *c, nua_handle_t *nh,
				struct refer *rf, tagi_t tags[])
{
	(void)c;
	int substate = nua_substate_active;
	tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
	if (substate != nua_substate_terminated)
		return;
	nua_handle_bind(nh, NULL);
	nua_handle_destroy(nh);
	free(rf);
}
