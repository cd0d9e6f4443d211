/* sig_call.c: one caller's INVITE dialog, from the first INVITE to the end.
 *
 * INVITE with an offer is answered at once (200 with our answer) and the
 * caller's media joins the room's mixer; an INVITE without one (late offer)
 * gets our offer in the 200 and joins when the ACK brings the answer.
 * re-INVITE and UPDATE change direction (hold, resume), codec or address
 * of a call that is already in the mix. Sofia-SIP answers BYE and CANCEL
 * itself; we see the dialog end as nua_callstate_terminated and let the
 * participant leave the mix. Signalling thread only. */
#include "conference/ivr.h"
#include "conference/sig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/url.h>

#define SDP_MAX_BYTES 4096

unsigned sig_call_count(const struct conference *c)
{
	return c->sig->n_calls;
}

static const char *dialog_id(const sip_t *sip, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s",
		 sip && sip->sip_call_id && sip->sip_call_id->i_id
		     ? sip->sip_call_id->i_id
		     : "-");
	return buf;
}

static void respond_sdp(const struct call *call, nua_t *nua, bool with_this,
			const char *sdp)
{
	nua_respond(call->nh, SIP_200_OK,
		    TAG_IF(with_this, NUTAG_WITH_THIS(nua)),
		    SIPTAG_CONTACT_STR(call->contact),
		    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), TAG_END());
}

/* Our Contact for a dialog with room: the conference URI at host, by the
 * transport the request came over (its top Via), marked as the focus
 * (RFC 4579 5.1). Over TLS: a sips: URI at the TLS port when the caller
 * used one, else sip: with transport=tls, which phones that dial sip:
 * (baresip 1.0 among them) can reach for their ACK and BYE. */
void sig_focus_contact(const struct options *o, const char *room,
		       const char *host, const sip_t *sip, char *out,
		       size_t cap)
{
	bool v6 = strchr(host, ':') != NULL;
	const char *proto =
	    sip && sip->sip_via ? sip->sip_via->v_protocol : NULL;
	bool tls = proto && strcasestr(proto, "TLS") != NULL;
	bool tcp = !tls && proto && strcasestr(proto, "TCP") != NULL;
	bool sips = tls && sip->sip_request &&
		    sip->sip_request->rq_url->url_type == url_sips;
	snprintf(out, cap, "<%s:%s@%s%s%s:%u%s>;isfocus", sips ? "sips" : "sip",
		 room, v6 ? "[" : "", host, v6 ? "]" : "",
		 tls ? o->sip_tls_port : o->sip_port,
		 tcp		? ";transport=tcp"
		 : tls && !sips ? ";transport=tls"
				: "");
}

/* The call's Contact: at the address the caller reached, unless the
 * options name one. */
void sig_call_make_contact(struct call *call, const struct options *o,
			   const sip_t *sip)
{
	const char *host =
	    o->public_addr[0] ? o->public_addr
	    : (strcmp(o->sip_host, "0.0.0.0") && strcmp(o->sip_host, "::"))
		? o->sip_host
		: call->local.addr;
	sig_focus_contact(o, call->room, host, sip, call->contact,
			  sizeof(call->contact));
}

/* The SDP body of a request, -ENODATA when there is none, -EBADMSG when
 * it is not SDP or not parseable. */
int sig_call_request_sdp(const sip_t *sip, struct oa_desc *out)
{
	if (!sip->sip_payload || sip->sip_payload->pl_len == 0)
		return -ENODATA;
	if (sip->sip_content_type && sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)
		return -EPROTO;
	return sig_sdp_parse(out, sip->sip_payload->pl_data,
			     sip->sip_payload->pl_len);
}

/* Where media should reach us, as written in our SDP: --public-addr, else
 * the address we listen on, else the local address the kernel would use to
 * reach the peer. */
int sig_call_local_addr(const struct options *o, const char *peer, bool v6,
			char *out, size_t cap)
{
	if (o->public_addr[0]) {
		snprintf(out, cap, "%s", o->public_addr);
		return 0;
	}
	if (strcmp(o->sip_host, "0.0.0.0") != 0 && strcmp(o->sip_host, "::")) {
		snprintf(out, cap, "%s", o->sip_host);
		return 0;
	}
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(9);
		if (inet_pton(AF_INET6, peer, &a->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(9);
		if (inet_pton(AF_INET, peer, &a->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int err = 0;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	const void *src =
	    v6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
	       : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
	return inet_ntop(ss.ss_family, src, out, (socklen_t)cap) ? 0 : -EINVAL;
}

/* The request's source address, for a late offer that names no peer. */
bool sig_request_source(nua_t *nua, char *out, size_t cap, bool *v6)
{
	msg_t *msg = nua_current_request(nua);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	if (!ai || !ai->ai_addr)
		return false;
	*v6 = ai->ai_addr->sa_family == AF_INET6;
	const void *src =
	    *v6 ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
		: (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
	return inet_ntop(ai->ai_addr->sa_family, src, out, (socklen_t)cap);
}

const char *sig_call_bind_host(const struct options *o, bool v6)
{
	if (strcmp(o->sip_host, "0.0.0.0") == 0 ||
	    strcmp(o->sip_host, "::") == 0)
		return v6 ? "::" : "0.0.0.0";
	return o->sip_host;
}

static void describe_caller(struct participant *p, const sip_t *sip)
{
	const sip_from_t *f = sip->sip_from;
	if (f) {
		char buf[sizeof(p->uri)];
		isize_t n = url_e(buf, sizeof(buf), f->a_url);
		if (n > 0 && (size_t)n < sizeof(buf)) {
			buf[n] = '\0';
			snprintf(p->uri, sizeof(p->uri), "%s", buf);
		}
	}
	if (f && f->a_display)
		snprintf(p->display, sizeof(p->display), "%s", f->a_display);
	dialog_id(sip, p->call_id, sizeof(p->call_id));
	char contact[CI_URI_MAX] = "";
	if (sip->sip_contact) {
		isize_t n =
		    url_e(contact, sizeof(contact), sip->sip_contact->m_url);
		if (n <= 0 || (size_t)n >= sizeof(contact))
			contact[0] = '\0';
		else
			contact[n] = '\0';
	}
	room_set_entity(p, contact);
}

struct call *sig_call_new(nua_handle_t *nh, struct participant *p,
			  const sip_t *sip)
{
	struct call *call = calloc(1, sizeof(*call));
	if (!call)
		return NULL;
	call->obj.kind = SIG_OBJ_CALL;
	call->disc = CI_DEPARTED;
	call->nh = nh;
	call->part = p;
	p->call = call;
	snprintf(call->room, sizeof(call->room), "%s", p->room->name);
	dialog_id(sip, call->call_id, sizeof(call->call_id));
	if (getrandom(&call->local.sess_id, sizeof(call->local.sess_id), 0) < 0)
		call->local.sess_id = mono_now_ns();
	call->local.sess_id &= 0x7fffffffffffffffull;
	call->local.sess_version = 1;
	call->local.port = p->rtp_port;
	struct sig *s = p->room->conf->sig;
	call->next = s->calls;
	if (call->next)
		call->next->pprev = &call->next;
	call->pprev = &s->calls;
	s->calls = call;
	s->n_calls++;
	atomic_fetch_add(&p->room->conf->calls_total, 1);
	nua_handle_bind(nh, &call->obj);
	return call;
}

void sig_call_free(struct conference *c, struct call *call)
{
	sig_dial_forget_refer(call);
	if (call->pprev) { /* in the list (a thousand hang up at once) */
		*call->pprev = call->next;
		if (call->next)
			call->next->pprev = call->pprev;
		c->sig->n_calls--;
	}
	free(call);
}

/* A refusal; a 503 says when to come back (Retry-After, RFC 3261
 * 21.5.4): retry_s, or a few seconds when the caller gives none. */
static void refuse_retry(nua_handle_t *nh, const char *call_id,
			 const char *room, int status, const char *phrase,
			 const char *why, unsigned retry_s)
{
	log_info("sip", "room=%s call=%s refused %d: %s", room, call_id, status,
		 why);
	char retry[16];
	nua_respond(nh, status, phrase,
		    TAG_IF(status == 503, SIPTAG_RETRY_AFTER_STR(
					      sig_retry_after(retry_s, retry))),
		    TAG_END());
}

static void refuse(nua_handle_t *nh, const char *call_id, const char *room,
		   int status, const char *phrase, const char *why)
{
	refuse_retry(nh, call_id, room, status, phrase, why, 0);
}

/* Checks the offer before anything is made for the call. */
/* SDES keys travel in the SDP: over UDP or TCP anyone on the path reads
 * them (RFC 4568 8.3). We take them, as phones do, and say so. */
static void warn_clear_keys(const sip_t *sip, const struct oa_desc *offer)
{
	const char *proto =
	    sip && sip->sip_via ? sip->sip_via->v_protocol : NULL;
	if (!offer->secure || (proto && strcasestr(proto, "TLS")))
		return;
	log_warn("sip",
		 "call=%s SRTP keys (a=crypto) came over %s, not TLS: "
		 "anyone on the path can read them",
		 sip->sip_call_id ? sip->sip_call_id->i_id : "-",
		 proto ? proto : "an unknown transport");
}

static int vet_offer(struct conference *c, const sip_t *sip,
		     struct oa_desc *offer, struct oa_result *agreed,
		     int *status, const char **phrase, const char **why)
{
	int err = sig_call_request_sdp(sip, offer);
	if (err == -ENODATA)
		return -ENODATA; /* late offer */
	if (err == -EPROTO) {
		*status = 415, *phrase = "Unsupported Media Type";
		*why = "body is not application/sdp";
		return err;
	}
	if (err) {
		*status = 400, *phrase = "Bad Request";
		*why = "malformed SDP";
		return err;
	}
	enum oa_srtp policy = (enum oa_srtp)c->opts->srtp;
	err = oa_answer(offer, policy, agreed);
	if (err) {
		*status = 488, *phrase = "Not Acceptable Here";
		*why = err == -EACCES	? "plain RTP offered, SRTP mandatory"
		       : !offer->secure ? "no common codec"
		       : policy == OA_SRTP_OFF ? "SRTP offered, SRTP off"
		       : offer->n_crypto == 0
			   ? "SRTP offered, no a=crypto we take"
			   : "no common codec";
		return err;
	}
	warn_clear_keys(sip, offer);
	return 0;
}

static int admit_room(struct conference *c, const char *name, struct room **out,
		      int *status, const char **phrase, const char **why)
{
	const char *number = c->opts->ivr.dialin_number;
	int err = number[0] && strcmp(name, number) == 0
		      ? room_lobby(c, name, out)
		      : room_get(c, name, out);
	if (err == -ENOENT) {
		*status = 404, *phrase = "Not Found", *why = "no such room";
		return err;
	}
	if (err == -EMFILE) {
		*status = 503, *phrase = "Service Unavailable";
		*why = "too many rooms (--max-rooms)";
		return err;
	}
	if (err) {
		*status = 500, *phrase = "Server Internal Error";
		*why = "cannot start the room's mixer";
		return err;
	}
	err = room_may_join(*out);
	if (err == -EPERM)
		*status = 403, *phrase = "Forbidden", *why = "room locked";
	else if (err == -EBUSY)
		*status = 486, *phrase = "Busy Here", *why = "room full";
	return err;
}

static int send_answer(nua_t *nua, struct call *call,
		       const struct oa_desc *offer, bool with_this)
{
	char sdp[SDP_MAX_BYTES];
	int n = oa_render_answer(sdp, sizeof(sdp), &call->local, offer,
				 &call->agreed);
	if (n < 0)
		return n;
	respond_sdp(call, nua, with_this, sdp);
	return 0;
}

int sig_call_render_offer(struct conference *c, struct call *call, char *sdp,
			  size_t cap)
{
	call->offered_srtp = c->opts->srtp == OA_SRTP_MANDATORY;
	if (call->offered_srtp) {
		call->offered.tag = 1;
		call->offered.suite = SRTP_AES_CM_128_HMAC_SHA1_80;
		if (sdes_new_key(call->offered.key))
			return -EIO;
	}
	return oa_render_offer(sdp, cap, &call->local, OA_SENDRECV,
			       call->offered_srtp ? &call->offered : NULL);
}

static int send_offer(struct conference *c, nua_t *nua, struct call *call,
		      bool with_this)
{
	char sdp[SDP_MAX_BYTES];
	int n = sig_call_render_offer(c, call, sdp, sizeof(sdp));
	if (n < 0)
		return n;
	call->offer_out = true;
	respond_sdp(call, nua, with_this, sdp);
	return 0;
}

/* Joins the caller's media to the mix with what was agreed. */
int sig_call_start_media(struct call *call, const struct oa_desc *remote)
{
	struct stream_params sp;
	int err = oa_stream_params(remote, &call->agreed, &sp);
	if (!err)
		err = room_admit(call->part, &sp);
	if (!err)
		room_participant_connected(call->part, call->agreed.peer_dir);
	if (!err)
		log_info("sip",
			 "room=%s call=%s joined uri=%s codec=%s dir=%s "
			 "rtp=%u srtp=%s",
			 call->room, call->call_id, call->part->uri,
			 codec_by_id(call->agreed.codec)->name,
			 oa_dir_name(call->agreed.peer_dir), call->local.port,
			 call->agreed.srtp
			     ? sdes_suite_name(call->agreed.crypto_peer.suite)
			     : "no");
	if (!err)
		ivr_start(call->part); /* the PIN, prompts, the keypad */
	return err;
}

static void new_call(struct conference *c, nua_handle_t *nh, const sip_t *sip)
{
	nua_t *nua = c->sig->nua;
	char cid[128];
	dialog_id(sip, cid, sizeof(cid));
	const char *name = sip->sip_request->rq_url->url_user;
	int status = 0;
	const char *phrase = NULL, *why = NULL;

	if (c->stopping) {
		refuse(nh, cid, "-", 503, "Service Unavailable",
		       "shutting down");
		return;
	}
	if (!room_name_valid(name)) {
		refuse(nh, cid, "-", 404, "Not Found", "not a conference URI");
		return;
	}
	unsigned retry = sig_limits_new_request(c, SIG_LIMIT_CALL, &why);
	if (retry) {
		refuse_retry(nh, cid, name, 503, "Service Unavailable", why,
			     retry);
		return;
	}

	struct oa_desc *offer = calloc(1, sizeof(*offer));
	if (!offer) {
		refuse(nh, cid, name, 500, "Server Internal Error",
		       "out of memory");
		return;
	}
	struct oa_result agreed;
	int err = vet_offer(c, sip, offer, &agreed, &status, &phrase, &why);
	bool late = err == -ENODATA;
	struct room *room = NULL;
	if (!err || late)
		err = admit_room(c, name, &room, &status, &phrase, &why);

	char peer[64];
	bool v6 = offer->ipv6;
	snprintf(peer, sizeof(peer), "%s", offer->addr);
	if (!err && late && !sig_request_source(nua, peer, sizeof(peer), &v6))
		snprintf(peer, sizeof(peer), "127.0.0.1");

	struct participant *p = NULL;
	if (!err) {
		err = room_participant_new(room,
					   sig_call_bind_host(c->opts, v6), &p);
		if (err)
			status = 503, phrase = "Service Unavailable",
			why = "no media port free";
	}
	struct call *call = NULL;
	if (!err) {
		/* Not in the room until the dial-in dialogue lets it in. */
		p->admitted = false;
		p->isolated = true;
		describe_caller(p, sip);
		call = sig_call_new(nh, p, sip);
		if (!call)
			err = -ENOMEM, status = 500,
			phrase = "Server Internal Error", why = "out of memory";
	}
	if (!err) {
		err = sig_call_local_addr(c->opts, peer, v6, call->local.addr,
					  sizeof(call->local.addr));
		call->local.ipv6 = strchr(call->local.addr, ':') != NULL;
		sig_call_make_contact(call, c->opts, sip);
		if (err)
			status = 500, phrase = "Server Internal Error",
			why = "no local address towards the caller";
	}
	if (!err && !late) {
		call->agreed = agreed;
		err = sig_call_start_media(call, offer);
		if (!err)
			err = send_answer(nua, call, offer, false);
		if (err)
			status = 500, phrase = "Server Internal Error",
			why = "cannot start media";
	} else if (!err) {
		err = send_offer(c, nua, call, false);
		if (err)
			status = 500, phrase = "Server Internal Error",
			why = "cannot write our offer";
	}
	free(offer);

	if (!err) {
		call->answered = true;
		return;
	}
	refuse(nh, cid, name, status, phrase, why);
	if (call) {
		nua_handle_bind(nh, NULL);
		sig_call_free(c, call);
	}
	if (p)
		room_leave(p, CI_DISC_NONE, NULL);
	else if (room)
		room_release_if_empty(room);
}

/* An offer inside the dialog (re-INVITE or UPDATE). */
static void modify_call(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip, bool is_update)
{
	nua_t *nua = c->sig->nua;
	struct oa_desc *offer = calloc(1, sizeof(*offer));
	if (!offer) {
		nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR,
			    TAG_IF(is_update, NUTAG_WITH_THIS(nua)), TAG_END());
		return;
	}
	struct oa_result agreed;
	int status = 0;
	const char *phrase = NULL, *why = NULL;
	int err = vet_offer(c, sip, offer, &agreed, &status, &phrase, &why);
	if (err == -ENODATA) {
		/* No offer: UPDATE just refreshes; re-INVITE asks for ours. */
		if (is_update)
			nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua),
				    SIPTAG_CONTACT_STR(call->contact),
				    TAG_END());
		else
			send_offer(c, nua, call, false);
		free(offer);
		return;
	}
	if (!err) {
		struct stream_params sp;
		err = oa_stream_params(offer, &agreed, &sp);
		if (!err && call->part)
			err = room_update(call->part, &sp);
		if (!err && call->part)
			room_participant_connected(call->part, agreed.peer_dir);
		if (err)
			status = 500, phrase = "Server Internal Error",
			why = "cannot apply the new media";
	}
	if (err) {
		/* The session goes on as it was (RFC 3261 14.2). */
		log_info("sip", "room=%s call=%s modify refused %d: %s",
			 call->room, call->call_id, status, why);
		nua_respond(nh, status, phrase,
			    TAG_IF(is_update, NUTAG_WITH_THIS(nua)), TAG_END());
		free(offer);
		return;
	}
	call->agreed = agreed;
	call->local.sess_version++;
	log_info("sip", "room=%s call=%s %s codec=%s dir=%s", call->room,
		 call->call_id, is_update ? "update" : "re-invite",
		 codec_by_id(agreed.codec)->name, oa_dir_name(agreed.peer_dir));
	send_answer(nua, call, offer, is_update);
	free(offer);
}

void sig_call_on_invite(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip)
{
	if (!sip || !sip->sip_request)
		return;
	if (call)
		modify_call(c, nh, call, sip, false);
	else
		new_call(c, nh, sip);
}

void sig_call_on_update(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip)
{
	if (!call || !sip) {
		nua_respond(nh, 481, "Call/Transaction Does Not Exist",
			    NUTAG_WITH_THIS(c->sig->nua), TAG_END());
		if (!call)
			nua_handle_destroy(nh);
		return;
	}
	modify_call(c, nh, call, sip, true);
}

void sig_call_take_answer(struct call *call, const sip_t *sip)
{
	call->offer_out = false;
	struct oa_desc *answer = calloc(1, sizeof(*answer));
	int err = answer ? sig_call_request_sdp(sip, answer) : -ENOMEM;
	if (!err)
		err = oa_accept_answer(
		    answer, call->offered_srtp ? &call->offered : NULL,
		    &call->agreed);
	if (!err)
		err = sig_call_start_media(call, answer);
	free(answer);
	if (err) {
		log_info("sip", "room=%s call=%s no usable answer: hanging up",
			 call->room, call->call_id);
		call->disc = CI_FAILED;
		sig_call_bye(call);
	}
}

void sig_call_on_ack(struct conference *c, struct call *call, const sip_t *sip)
{
	(void)c;
	if (call)
		call->acked = true;
	if (call && call->offer_out && sip)
		sig_call_take_answer(call, sip);
}

void sig_call_bye(struct call *call)
{
	call->bye_ours = true;
	nua_bye(call->nh, TAG_END());
}

void sig_call_rtp_timeout(struct participant *p, unsigned secs)
{
	struct call *call = p->call;
	/* a call never ACKed is the ACK timer's (sig_call_on_stack_hangup) */
	if (!call || !call->answered || !call->acked || call->bye_ours ||
	    call->bye_theirs)
		return;
	log_info("sip",
		 "room=%s call=%s no RTP for %u s (--rtp-timeout): hung up",
		 call->room, call->call_id, secs);
	call->disc = CI_FAILED;
	sig_call_bye(call);
}

void sig_call_on_stack_hangup(struct call *call)
{
	if (!call || call->bye_ours || call->bye_theirs || !call->part)
		return;
	call->bye_ours = true;
	call->disc = CI_FAILED;
	log_info("sip", "room=%s call=%s %s: hung up", call->room,
		 call->call_id,
		 call->acked ? "session timer expired without a refresh"
			     : "no ACK for our 200 OK");
	/* out of the room now, not when the BYE is answered: a caller who
	 * is gone would not answer it for another 32 s */
	room_leave(call->part, CI_FAILED, NULL);
	call->part = NULL;
}

void sig_call_on_terminated(struct conference *c, nua_handle_t *nh,
			    struct call *call)
{
	if (call) {
		if (call->part) {
			log_info("sip", "room=%s call=%s left", call->room,
				 call->call_id);
			room_leave(call->part, call->disc,
				   call->disc_by[0] ? call->disc_by : NULL);
		}
		nua_handle_bind(nh, NULL);
		sig_call_free(c, call);
	}
	nua_handle_destroy(nh);
}

void sig_call_hangup_all(struct conference *c)
{
	for (struct call *call = c->sig->calls; call; call = call->next)
		if (call->answered)
			sig_call_bye(call);
}

int sig_call_hangup(struct participant *p, enum ci_disconnection how,
		    const char *by)
{
	struct call *call = p->call;
	if (!call || !call->answered)
		return -ENOENT;
	call->disc = how;
	snprintf(call->disc_by, sizeof(call->disc_by), "%s", by ? by : "");
	nua_bye(call->nh, TAG_END());
	return 0;
}

void sig_call_moved(struct participant *p)
{
	struct call *call = p->call;
	if (call)
		snprintf(call->room, sizeof(call->room), "%s", p->room->name);
}
