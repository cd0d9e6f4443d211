/* sig_dial.c: calls the focus makes (RFC 4579 dial-out) and calls it ends.
 *
 * A dial-out is a participant from the start: it shows as dialing-out,
 * then alerting on a 180/183, then connected when the 2xx brings the
 * answer to the offer our INVITE carried (Sofia-SIP sends the ACK). A
 * failure ends it as busy (486, 600) or failed (anything else), which
 * subscribers see as the disconnection-method. When a REFER asked for
 * the call, its progress and real final status go to the referrer as
 * message/sipfrag NOTIFYs (sent here: Sofia-SIP's own NUTAG_NOTIFY_REFER
 * reports every failure as 503).
 *
 * A target on the bridge itself (sip:user@<our host>) is a registered
 * user: the INVITE goes to the contact it registered. Kicking a
 * participant is a BYE with the moderator remembered as who booted it.
 * Signalling thread only. */
#include "conference/sig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/url.h>

#define SDP_MAX_BYTES 4096

static bool is_our_host(const struct conference *c, const char *host)
{
	const struct options *o = c->opts;
	size_t n = strcspn(c->focus_host, ":");
	if (c->focus_host[0] == '[')
		n = strcspn(c->focus_host, "]") + 1;
	return (strlen(host) == n &&
		strncasecmp(host, c->focus_host, n) == 0) ||
	       strcasecmp(host, o->sip_host) == 0 ||
	       (o->public_addr[0] && strcasecmp(host, o->public_addr) == 0) ||
	       strcasecmp(host, "localhost") == 0;
}

/* The Request-URI for target: its registered contact when it names a user
 * of ours, else the target itself. -ENOENT: a user of ours who is not
 * registered. */
static int request_uri(struct conference *c, const url_t *u, const char *target,
		       char *out, size_t cap)
{
	unsigned long port = u->url_port
				 ? strtoul(u->url_port, NULL, 10)
				 : (u->url_type == url_sips ? 5061 : 5060);
	if (u->url_user && u->url_host && is_our_host(c, u->url_host) &&
	    port == c->opts->sip_port && !room_find(c, u->url_user)) {
		int err = sig_reg_lookup(c, u->url_user, out, cap);
		if (err)
			return err;
		return 0;
	}
	snprintf(out, cap, "%s", target);
	return 0;
}

/* Our media address towards the host of ruri (a name resolves later in
 * Sofia-SIP; then the address we listen on stands in). */
static int media_addr(struct conference *c, const char *ruri, char *out,
		      size_t cap, bool *v6)
{
	char buf[CI_URI_MAX];
	snprintf(buf, sizeof(buf), "%s", ruri);
	url_t u[1];
	if (url_d(u, buf) < 0 || !u->url_host)
		return -EINVAL;
	const char *host = u->url_host;
	char lit[64];
	unsigned char tmp[16];
	snprintf(lit, sizeof(lit), "%s", host);
	if (lit[0] == '[') {
		memmove(lit, lit + 1, strlen(lit));
		lit[strcspn(lit, "]")] = '\0';
	}
	*v6 = inet_pton(AF_INET6, lit, tmp) == 1;
	if (!*v6 && inet_pton(AF_INET, lit, tmp) != 1)
		snprintf(lit, sizeof(lit), "%s",
			 strcmp(c->opts->sip_host, "0.0.0.0")
			     ? c->opts->sip_host
			     : "127.0.0.1");
	return sig_call_local_addr(c->opts, lit, *v6, out, cap);
}

static void describe_target(struct participant *p, const char *target,
			    const char *referred_by)
{
	snprintf(p->uri, sizeof(p->uri), "%s", target);
	p->dialed_out = true;
	p->status = CI_DIALING_OUT;
	if (referred_by)
		snprintf(p->referred_by, sizeof(p->referred_by), "%s",
			 referred_by);
	room_set_entity(p, target);
}

static int send_invite(struct conference *c, struct call *call,
		       const char *ruri, const char *referred_by,
		       nua_handle_t *refer_nh, const sip_event_t *refer_event)
{
	char sdp[SDP_MAX_BYTES];
	int n = sig_call_render_offer(c, call, sdp, sizeof(sdp));
	if (n < 0)
		return n;
	call->offer_out = true;
	call->dialing = true;
	char from[CI_URI_MAX + 16], by[CI_URI_MAX + 2];
	snprintf(from, sizeof(from), "<sip:%s@%s>", call->room, c->focus_host);
	snprintf(by, sizeof(by), "<%s>", referred_by ? referred_by : "");
	nua_invite(call->nh, NUTAG_URL(ruri), SIPTAG_FROM_STR(from),
		   SIPTAG_CONTACT_STR(call->contact),
		   SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp),
		   TAG_IF(referred_by, SIPTAG_REFERRED_BY_STR(by)), TAG_END());
	if (refer_nh && refer_event) {
		su_home_t home[1] = {SU_HOME_INIT(home)};
		char *ev = sip_header_as_string(
		    home, (const sip_header_t *)refer_event);
		if (ev) {
			snprintf(call->refer_event, sizeof(call->refer_event),
				 "%s", ev);
			call->refer_nh = nua_handle_ref(refer_nh);
		}
		su_home_deinit(home);
	}
	return 0;
}

int sig_dial(struct conference *c, const struct sig_dial_req *req,
	     uint32_t *part_id_out)
{
	char target[CI_URI_MAX];
	snprintf(target, sizeof(target), "%s", req->target);
	url_t u[1];
	if (url_d(u, target) < 0 ||
	    (u->url_type != url_sip && u->url_type != url_sips) || !u->url_host)
		return -EINVAL;
	char ruri[CI_URI_MAX];
	int err = request_uri(c, u, req->target, ruri, sizeof(ruri));
	if (err)
		return err;
	if (c->opts->max_calls && sig_call_count(c) >= c->opts->max_calls)
		return -EMFILE;

	struct room *room = NULL;
	err = room_get(c, req->room, &room);
	if (!err)
		err = room_may_join(room);
	if (err) {
		if (room)
			room_release_if_empty(room);
		return err;
	}
	bool v6 = false;
	char addr[64];
	err = media_addr(c, ruri, addr, sizeof(addr), &v6);
	struct participant *p = NULL;
	if (!err)
		err = room_participant_new(room,
					   sig_call_bind_host(c->opts, v6), &p);
	if (err) {
		room_release_if_empty(room);
		return err;
	}
	describe_target(p, req->target, req->referred_by);

	nua_handle_t *nh = nua_handle(c->sig->nua, NULL,
				      SIPTAG_TO_STR(req->target), TAG_END());
	struct call *call = nh ? sig_call_new(nh, p, NULL) : NULL;
	if (!call) {
		if (nh)
			nua_handle_destroy(nh);
		room_leave(p, CI_DISC_NONE, NULL);
		return -ENOMEM;
	}
	snprintf(call->local.addr, sizeof(call->local.addr), "%s", addr);
	call->local.ipv6 = v6;
	sig_call_make_contact(call, c->opts, NULL);
	err = send_invite(c, call, ruri, req->referred_by, req->refer_nh,
			  req->refer_event);
	if (err) {
		nua_handle_bind(nh, NULL);
		nua_handle_destroy(nh);
		sig_call_free(c, call);
		room_leave(p, CI_DISC_NONE, NULL);
		return err;
	}
	log_info("sip", "room=%s part=%u dialing out to %s%s%s", call->room,
		 p->id, req->target, strcmp(ruri, req->target) ? " at " : "",
		 strcmp(ruri, req->target) ? ruri : "");
	room_changed(c, call->room);
	events_part(c, CONF_EV_PART_UPDATED, p); /* dialing-out */
	if (part_id_out)
		*part_id_out = p->id;
	return 0;
}

/* Tells the referrer how its REFER is doing (RFC 3515 2.4.5). */
static void report_progress(struct call *call, int status, const char *phrase)
{
	if (!call->refer_nh)
		return;
	char frag[128];
	snprintf(frag, sizeof(frag), "SIP/2.0 %03d %s\r\n", status,
		 phrase ? phrase : "");
	bool final = status >= 200;
	nua_notify(call->refer_nh, SIPTAG_EVENT_STR(call->refer_event),
		   SIPTAG_CONTENT_TYPE_STR("message/sipfrag"),
		   SIPTAG_PAYLOAD_STR(frag),
		   NUTAG_SUBSTATE(final ? nua_substate_terminated
					: nua_substate_active),
		   TAG_IF(final, SIPTAG_SUBSCRIPTION_STATE_STR(
				     "terminated;reason=noresource")),
		   TAG_END());
	if (final)
		sig_dial_forget_refer(call);
}

void sig_dial_forget_refer(struct call *call)
{
	if (call->refer_nh)
		nua_handle_unref(call->refer_nh);
	call->refer_nh = NULL;
}

void sig_dial_on_result(struct conference *c, struct call *call, int status,
			const char *phrase, const sip_t *sip)
{
	if (!call || !call->dialing)
		return;
	if (status > 100)
		report_progress(call, status, phrase);
	if (sip && sip->sip_call_id && call->call_id[0] == '-')
		snprintf(call->call_id, sizeof(call->call_id), "%s",
			 sip->sip_call_id->i_id);
	struct participant *p = call->part;
	if (status == 180 || status == 183) {
		if (p && p->status == CI_DIALING_OUT) {
			p->status = CI_ALERTING;
			room_changed(c, call->room);
			events_part(c, CONF_EV_PART_UPDATED, p);
		}
		return;
	}
	if (status < 200)
		return;
	call->dialing = false;
	if (status < 300) {
		call->answered = true;
		call->acked = true; /* NUTAG_AUTOACK sends ours */
		if (p)
			sig_call_take_answer(call, sip);
		return;
	}
	call->disc = (status == 486 || status == 600) ? CI_BUSY : CI_FAILED;
	log_info("sip", "room=%s call=%s dial-out answered %d", call->room,
		 call->call_id, status);
}

int sig_dial_kick(struct conference *c, struct participant *p, const char *by)
{
	struct call *call = p->call;
	if (!call)
		return -ENOENT;
	call->disc = CI_BOOTED;
	snprintf(call->disc_by, sizeof(call->disc_by), "%s", by ? by : "");
	log_info("sip", "room=%s call=%s removed by %s", call->room,
		 call->call_id, by ? by : "the focus");
	if (call->answered)
		sig_call_bye(call);
	else if (call->dialing)
		nua_cancel(call->nh, TAG_END());
	else
		nua_respond(call->nh, SIP_480_TEMPORARILY_UNAVAILABLE,
			    TAG_END());
	(void)c;
	return 0;
}
