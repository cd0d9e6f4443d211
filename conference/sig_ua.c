/* sig_ua.c: the Sofia-SIP user agent of the focus and its event loop.
 *
 * One nua_t on one su_root, run by the signalling thread. Media is handled
 * by us, not by Sofia-SIP (NUTAG_MEDIA_ENABLE(0)): SDP arrives and leaves as
 * plain bodies. Three eventfds join the loop: ctl_fd (main asks us to
 * stop), media_fd (a mixer has events for us) and req_fd (a control
 * request is queued, ctl.c). Stopping is BYE to every call,
 * then nua_shutdown(), each bounded by a timer so that a peer that never
 * answers cannot hold the process. */
#include "conference/ivr.h"
#include "conference/sig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/tport_tag.h>

#define SIG_ALLOW                                                              \
	"INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, SUBSCRIBE, NOTIFY, "       \
	"REFER, MESSAGE, REGISTER, INFO"
#define BYE_GRACE_MS	  1500
#define SHUTDOWN_GRACE_MS 1500
/* A room's subscribers answer a change's NOTIFYs in a burst (sig_sub.c
 * keeps up to 256 unanswered): the default 208 KiB socket buffer drops
 * some of the 200s, each then costing a retransmission 500 ms later.
 * The kernel caps this at net.core.rmem_max. */
#define SIG_UDP_RMEM (2u << 20)
/* "timer" turns Sofia-SIP's session timers on (RFC 4028). */
#define SIG_SUPPORTED(o)                                                       \
	((o)->session_expires_s ? "timer, replaces" : "replaces")
/* Messages a transport may queue, e.g. while a TCP connection opens
 * (Sofia-SIP's default is 64). */
#define SIG_TPORT_QUEUE 1024
#define IVR_TICK_MS	100

static void on_stop_timer(struct conference *c, su_timer_t *t,
			  struct conference *arg);

static void start_nua_shutdown(struct conference *c)
{
	struct sig *s = c->sig;
	if (s->nua_shutdown_sent)
		return;
	s->nua_shutdown_sent = true;
	nua_shutdown(s->nua);
	su_timer_set_interval(s->stop_timer, on_stop_timer, c,
			      SHUTDOWN_GRACE_MS);
}

static void on_stop_timer(struct conference *c, su_timer_t *t,
			  struct conference *arg)
{
	(void)t;
	(void)arg;
	if (!c->sig->nua_shutdown_sent) {
		log_warn("sip", "calls still up after %d ms: shutting down",
			 BYE_GRACE_MS);
		start_nua_shutdown(c);
		return;
	}
	log_warn("sip", "SIP stack did not finish in %d ms: leaving",
		 SHUTDOWN_GRACE_MS);
	su_root_break(c->sig->root);
}

/* Called after each event while stopping: once the last call has gone,
 * Sofia-SIP may shut down. */
static void maybe_finish_stop(struct conference *c)
{
	if (c->stopping && sig_call_count(c) == 0 && sig_sub_count(c) == 0)
		start_nua_shutdown(c);
}

static int on_ctl(struct conference *c, su_wait_t *w, struct conference *arg)
{
	(void)w;
	(void)arg;
	uint64_t v;
	if (read(c->ctl_fd, &v, sizeof(v)) < 0 || c->stopping)
		return 0;
	c->stopping = true;
	log_info("sip", "stopping: hanging up %u calls", sig_call_count(c));
	sig_call_hangup_all(c);
	sig_sub_end_all(c);
	su_timer_set_interval(c->sig->stop_timer, on_stop_timer, c,
			      BYE_GRACE_MS);
	maybe_finish_stop(c);
	return 0;
}

static int on_media(struct conference *c, su_wait_t *w, struct conference *arg)
{
	(void)w;
	(void)arg;
	room_on_media_events(c);
	return 0;
}

static int on_req(struct conference *c, su_wait_t *w, struct conference *arg)
{
	(void)w;
	(void)arg;
	ctl_serve(c);
	return 0;
}

/* Requests outside any call (answered by Sofia-SIP with 405 or similar)
 * leave a handle behind that only we can destroy. */
static bool stray_request(nua_event_t event)
{
	switch (event) {
	case nua_i_info:
	case nua_i_method:
	case nua_i_publish:
	case nua_i_notify:
	case nua_i_chat:
		return true;
	default:
		return false;
	}
}

static void on_nua_event(nua_event_t event, int status, char const *phrase,
			 nua_t *nua, struct conference *c, nua_handle_t *nh,
			 struct sig_obj *obj, sip_t const *sip, tagi_t tags[])
{
	(void)nua;
	struct call *call = sig_obj_call(obj);
	struct sub *sub = sig_obj_sub(obj);
	switch (event) {
	case nua_i_invite:
		sig_call_on_invite(c, nh, call, sip);
		break;
	case nua_i_ack:
		sig_call_on_ack(c, call, sip);
		break;
	case nua_i_update:
		sig_call_on_update(c, nh, call, sip);
		break;
	case nua_i_subscribe:
		sig_sub_on_subscribe(c, nh, sub, sip, tags);
		break;
	case nua_r_notify:
		if (sig_obj_refer(obj))
			sig_refer_on_notify_result(c, nh, sig_obj_refer(obj),
						   tags);
		else if (!call)
			sig_sub_on_notify_result(c, nh, sub, status, tags);
		break;
	case nua_i_refer:
		sig_refer_on_refer(c, nh, obj, sip, tags);
		break;
	case nua_i_message:
		sig_msg_on_message(c, nh, call, sip);
		break;
	case nua_i_info:
		sig_info_on_info(c, nh, call, sip);
		break;
	case nua_r_invite:
		sig_dial_on_result(c, call, status, phrase, sip);
		break;
	case nua_i_register:
		sig_reg_on_register(c, nh, sip);
		if (!obj && nh) /* answered; out of any dialog of ours */
			nua_handle_destroy(nh);
		break;
	case nua_i_state: {
		int cs = nua_callstate_init;
		tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
		if (cs == nua_callstate_terminating)
			sig_call_on_stack_hangup(call);
		else if (cs == nua_callstate_terminated)
			sig_call_on_terminated(c, nh, call);
		break;
	}
	case nua_r_shutdown:
		if (status >= 200) {
			log_info("sip", "SIP stack stopped (%d %s)", status,
				 phrase);
			su_root_break(c->sig->root);
		}
		break;
	case nua_i_bye:
		if (call)
			call->bye_theirs = true;
		break; /* answered by Sofia-SIP; the state event follows */
	case nua_r_bye:
		/* a BYE we did not ask for: the session timer's */
		sig_call_on_stack_hangup(call);
		break; /* the state event follows */
	case nua_i_options:
	case nua_i_cancel:
		break; /* answered by Sofia-SIP; the state event follows */
	default:
		log_debug("sip", "event %s %d %s", nua_event_name(event),
			  status, phrase ? phrase : "");
		/* Requests outside any call of ours (MESSAGE, INFO...) have
		 * been answered; their handle is ours to destroy. */
		if (!obj && nh && stray_request(event))
			nua_handle_destroy(nh);
		break;
	}
	if (event == nua_i_options && !obj && nh)
		nua_handle_destroy(nh);
	maybe_finish_stop(c);
}

static void on_ivr_timer(struct conference *c, su_timer_t *t,
			 struct conference *arg)
{
	(void)t;
	(void)arg;
	ivr_tick(c, mono_now_ns());
}

static int register_fd(struct sig *s, su_wait_t *w, int fd, su_wakeup_f fn,
		       struct conference *c)
{
	if (su_wait_create(w, fd, SU_WAIT_IN) < 0)
		return -EIO;
	int index = su_root_register(s->root, w, fn, c, 0);
	return index < 0 ? -EIO : index;
}

static const char *bind_url(const char *scheme, const char *host, uint16_t port,
			    char *buf, size_t cap)
{
	if (!host[0])
		return NULL; /* no such transport: NUTAG_SIPS_URL(NULL) */
	bool v6 = strchr(host, ':') != NULL;
	snprintf(buf, cap, "%s:%s%s%s:%u", scheme, v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
	return buf;
}

int sig_start(struct conference *c)
{
	struct sig *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	c->sig = s;
	su_home_init(s->home);
	sig_trace_start();

	s->root = su_root_create(c);
	if (!s->root)
		return -ENOMEM;
	s->stop_timer = su_timer_create(su_root_task(s->root), 1000);
	s->ivr_timer = su_timer_create(su_root_task(s->root), IVR_TICK_MS);

	const struct options *o = c->opts;
	char url[128], sips[128], tls_dir[PATH_MAX] = "";
	if (o->sip_tls_listen[0] &&
	    sig_tls_dir_make(o, tls_dir, sizeof(tls_dir)))
		return -EINVAL;
	s->nua = nua_create(
	    s->root, on_nua_event, c,
	    NUTAG_URL(
		bind_url("sip", o->sip_host, o->sip_port, url, sizeof(url))),
	    TAG_IF(tls_dir[0], NUTAG_SIPS_URL(bind_url("sips", o->sip_tls_host,
						       o->sip_tls_port, sips,
						       sizeof(sips)))),
	    TAG_IF(tls_dir[0], TPTAG_CERTIFICATE(tls_dir)),
	    /* we ask no certificate of callers; TLS 1.2 and up, which
	     * OpenSSL's flexible method negotiates (1 would pin TLS 1.0) */
	    TAG_IF(tls_dir[0], TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_NONE)),
	    TAG_IF(tls_dir[0], TPTAG_TLS_VERSION(0)), NUTAG_MEDIA_ENABLE(0),
	    NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
	    NUTAG_APPL_METHOD("UPDATE, MESSAGE, INFO"),
	    NUTAG_M_FEATURES("isfocus"), NUTAG_ENABLEMESSAGE(1),
	    NUTAG_ENABLEMESSENGER(0), NUTAG_ALLOW_EVENTS("conference"),
	    NUTAG_SUB_EXPIRES(3600), SIPTAG_ALLOW_EVENTS_STR("conference"),
	    SIPTAG_ALLOW_STR(SIG_ALLOW), SIPTAG_ACCEPT_STR("application/sdp"),
	    SIPTAG_SUPPORTED_STR(SIG_SUPPORTED(c->opts)),
	    SIPTAG_USER_AGENT_STR("tutti/" TUTTI_VERSION),
	    TPTAG_UDP_RMEM(SIG_UDP_RMEM), TPTAG_QUEUESIZE(SIG_TPORT_QUEUE),
	    TPTAG_LOG(o->sip_trace), NTATAG_MAXSIZE(o->sip_max_size),
	    /* RFC 4028 when the peer supports it. The peer refreshes: our
	     * refresh would be an offer-less re-INVITE, which this
	     * signalling layer has no use for. A session the peer stops
	     * refreshing ends with the stack's BYE (sig_call_on_bye_result). */
	    NUTAG_SESSION_TIMER(o->session_expires_s),
	    NUTAG_MIN_SE(o->session_expires_s ? 90 : 0),
	    NUTAG_SESSION_REFRESHER(nua_remote_refresher),
	    NUTAG_UPDATE_REFRESH(1), TAG_END());
	sig_tls_dir_remove(tls_dir); /* loaded, or never will be */
	if (!s->nua) {
		log_error("sip",
			  "cannot listen on %s%s%s: address in use or not "
			  "available%s",
			  o->sip_listen, o->sip_tls_listen[0] ? " and " : "",
			  o->sip_tls_listen,
			  o->sip_tls_listen[0]
			      ? ", or the TLS certificate and key do not "
				"load or do not match"
			      : "");
		return -EADDRINUSE;
	}
	nua_set_params(s->nua, SIPTAG_ALLOW_STR(SIG_ALLOW),
		       NUTAG_M_FEATURES(";isfocus"),
		       SIPTAG_SUPPORTED_STR(SIG_SUPPORTED(c->opts)), TAG_END());

	int err = sig_sub_start(c);
	if (!err)
		err = sig_reg_start(c);
	if (!err)
		err = sig_limits_start(c);
	if (err)
		return err;
	s->ctl_index = register_fd(s, &s->ctl_wait, c->ctl_fd, on_ctl, c);
	s->media_index =
	    register_fd(s, &s->media_wait, c->media_fd, on_media, c);
	s->req_index = register_fd(s, &s->req_wait, c->req_fd, on_req, c);
	if (s->ctl_index < 0 || s->media_index < 0 || s->req_index < 0)
		return -EIO;
	if (!s->ivr_timer ||
	    su_timer_set_for_ever(s->ivr_timer, on_ivr_timer, c) < 0)
		return -EIO;
	log_info("sip", "listening on %s (UDP and TCP)", o->sip_listen);
	if (o->sip_tls_listen[0])
		log_info("sip", "listening on %s (TLS)", o->sip_tls_listen);
	if (o->sip_trace)
		log_info("sip", "tracing every SIP message (--sip-trace)");
	return 0;
}

void sig_run(struct conference *c)
{
	su_root_run(c->sig->root);
}

void sig_free(struct conference *c)
{
	struct sig *s = c->sig;
	if (!s)
		return;
	sig_sub_free(c);
	sig_reg_free(c);
	sig_limits_free(c);
	if (s->nua)
		nua_destroy(s->nua);
	if (s->stop_timer)
		su_timer_destroy(s->stop_timer);
	if (s->ivr_timer)
		su_timer_destroy(s->ivr_timer);
	if (s->root) {
		if (s->ctl_index > 0)
			su_root_deregister(s->root, s->ctl_index);
		if (s->media_index > 0)
			su_root_deregister(s->root, s->media_index);
		if (s->req_index > 0)
			su_root_deregister(s->root, s->req_index);
		su_root_destroy(s->root);
	}
	su_home_deinit(s->home);
	free(s);
	c->sig = NULL;
}
