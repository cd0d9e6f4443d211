/* sig.h: what sig_ua.c and sig_call.c share. Included only by sig_*.c, so
 * that Sofia-SIP's types stay inside them. Signalling thread only. */
#ifndef TUTTI_CONFERENCE_SIG_H
#define TUTTI_CONFERENCE_SIG_H

#define NUA_MAGIC_T	struct conference
#define NUA_HMAGIC_T	struct sig_obj
#define SU_ROOT_MAGIC_T struct conference
#define SU_WAKEUP_ARG_T struct conference
#define SU_TIMER_ARG_T	struct conference

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include "conference/focus.h"

/* What a nua handle of ours is bound to: the first member of each kind of
 * object, so that one event callback can tell them apart. */
enum sig_obj_kind {
	SIG_OBJ_CALL = 1, /* struct call, sig_call.c */
	SIG_OBJ_SUB,	  /* struct sub, sig_sub.c */
	SIG_OBJ_REFER,	  /* struct refer, sig_refer.c */
};

struct sig_obj {
	enum sig_obj_kind kind;
};

struct call;
struct sub;
struct refer;

struct sig {
	su_home_t home[1];
	su_root_t *root;
	nua_t *nua;
	su_wait_t ctl_wait, media_wait, req_wait;
	int ctl_index, media_index, req_index;
	su_timer_t *stop_timer;
	su_timer_t *ivr_timer; /* deadlines of the dial-in dialogue */
	bool nua_shutdown_sent;
	struct call *calls; /* every INVITE dialog we are in (sig_call.c) */
	unsigned n_calls;
	struct subs *subs;	/* conference subscriptions (sig_sub.c) */
	struct reg *reg;	/* the registrar's bindings (sig_reg.c) */
	struct ratelimit *rate; /* --sip-rate's buckets (sig_limits.c) */
};

static inline struct call *sig_obj_call(struct sig_obj *o)
{
	return o && o->kind == SIG_OBJ_CALL ? (struct call *)o : NULL;
}

static inline struct refer *sig_obj_refer(struct sig_obj *o)
{
	return o && o->kind == SIG_OBJ_REFER ? (struct refer *)o : NULL;
}

static inline struct sub *sig_obj_sub(struct sig_obj *o)
{
	return o && o->kind == SIG_OBJ_SUB ? (struct sub *)o : NULL;
}

/* sig_call.c: the INVITE dialog usage of one caller. */
struct call {
	struct sig_obj obj; /* SIG_OBJ_CALL: what our nua handle is bound to */
	struct call *next;
	struct call **pprev; /* what points at us: unlinked in O(1) */
	nua_handle_t *nh;
	struct participant *part;
	struct oa_local local;
	struct oa_result agreed;
	bool offered_srtp;	    /* our last offer was RTP/SAVP */
	struct sdes_crypto offered; /* with this key of ours */
	bool answered;		    /* our 2xx has been sent, or theirs came */
	bool bye_ours;		    /* we asked for the BYE (sig_call_bye) */
	bool bye_theirs;	    /* the peer's BYE came */
	bool acked;	/* the ACK to our 2xx came (or we sent ours) */
	bool dialing;	/* our INVITE is out (dial-out) */
	bool offer_out; /* our offer is out; the ACK brings the answer */
	char call_id[128];
	char room[ROOM_NAME_MAX + 1];
	char contact[256]; /* the conference URI with ;isfocus (RFC 4579) */
	enum ci_disconnection disc; /* how it will have ended */
	char disc_by[CI_URI_MAX];   /* the moderator who ended it, or "" */
	nua_handle_t *refer_nh;	    /* a REFER that asked for this dial-out */
	char refer_event[64];	    /* its Event, for the sipfrag NOTIFYs */
};

struct call *sig_call_new(nua_handle_t *nh, struct participant *p,
			  const sip_t *sip);
void sig_call_free(struct conference *c, struct call *call);
/* Our Contact for the call: the conference URI, ;isfocus (RFC 4579). */
/* The address the current request came from, as text. */
bool sig_request_source(nua_t *nua, char *out, size_t cap, bool *v6);
void sig_focus_contact(const struct options *o, const char *room,
		       const char *host, const sip_t *sip, char *out,
		       size_t cap);
void sig_call_make_contact(struct call *call, const struct options *o,
			   const sip_t *sip);
/* Where media should reach us, towards peer (an IP literal). */
int sig_call_local_addr(const struct options *o, const char *peer, bool v6,
			char *out, size_t cap);
const char *sig_call_bind_host(const struct options *o, bool v6);
/* The SDP body of a request or response: -ENODATA none, -EPROTO not SDP,
 * -EBADMSG malformed. */
int sig_call_request_sdp(const sip_t *sip, struct oa_desc *out);
/* The answer to our offer (in an ACK, or in the 2xx to our INVITE): media
 * starts, or the call ends with BYE when it is unusable. */
void sig_call_take_answer(struct call *call, const sip_t *sip);
/* Joins the call's media to the mix with what was agreed. */
int sig_call_start_media(struct call *call, const struct oa_desc *remote);

void sig_call_on_invite(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip);
void sig_call_on_ack(struct conference *c, struct call *call, const sip_t *sip);
void sig_call_on_update(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip);
/* The dialog ended (BYE, CANCEL, error): media leaves, handle destroyed. */
/* Our offer (late offer, dial-out): SRTP only when --srtp is mandatory,
 * as one m= line cannot offer both. Its length or -ENOSPC. */
int sig_call_render_offer(struct conference *c, struct call *call, char *sdp,
			  size_t cap);
/* Hangs up an answered call with BYE. */
void sig_call_bye(struct call *call);
/* The call is ending and neither side asked: the stack hangs up because
 * our 2xx was never ACKed (callstate terminating) or the session timer ran
 * out (RFC 4028; seen when its BYE is answered). */
void sig_call_on_stack_hangup(struct call *call);
void sig_call_on_terminated(struct conference *c, nua_handle_t *nh,
			    struct call *call);

/* sig_dial.c: calls the focus makes and ends. */
struct sig_dial_req {
	const char *room;
	const char *target;	 /* a sip: or sips: URI */
	const char *referred_by; /* for Referred-By, or NULL */
	nua_handle_t *refer_nh;	 /* the REFER to report progress to, or NULL */
	const sip_event_t *refer_event;
};
/* Adds target to the room as a dialing-out participant. -EINVAL bad
 * target, -ENOENT no such room or unregistered user of ours, -EPERM
 * locked, -EBUSY full, -ENOSPC no media port, -EMFILE --max-calls or
 * --max-rooms reached. */
int sig_dial(struct conference *c, const struct sig_dial_req *req,
	     uint32_t *part_id_out);
/* A response to our INVITE (nua_r_invite). */
void sig_dial_on_result(struct conference *c, struct call *call, int status,
			const char *phrase, const sip_t *sip);
/* Drops the call's link to the REFER that asked for it. */
void sig_dial_forget_refer(struct call *call);
/* Ends p's call (BYE, or CANCEL while it rings) as booted by `by`. */
int sig_dial_kick(struct conference *c, struct participant *p, const char *by);

/* sig_refer.c: REFER to the conference URI (RFC 4579 5.5, 5.8). */
void sig_refer_on_refer(struct conference *c, nua_handle_t *nh,
			struct sig_obj *obj, const sip_t *sip, tagi_t tags[]);
/* A NOTIFY of a REFER's implicit subscription was answered. */
void sig_refer_on_notify_result(struct conference *c, nua_handle_t *nh,
				struct refer *rf, tagi_t tags[]);

/* sig_info.c: INFO in a call: key presses (DTMF relay). */
void sig_info_on_info(struct conference *c, nua_handle_t *nh, struct call *call,
		      const sip_t *sip);

/* sig_msg.c: MESSAGE to the conference URI (RFC 3428), relayed. */
void sig_msg_on_message(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip);

/* sig_sub.c: SUBSCRIBE to Event: conference (RFC 6665, RFC 4575). */
int sig_sub_start(struct conference *c);
void sig_sub_free(struct conference *c);
void sig_sub_on_subscribe(struct conference *c, nua_handle_t *nh,
			  struct sub *sub, const sip_t *sip, tagi_t tags[]);
void sig_sub_on_notify_result(struct conference *c, nua_handle_t *nh,
			      struct sub *sub, int status, tagi_t tags[]);
/* Final NOTIFYs (reason=deactivated) to every subscriber, at shutdown. */
void sig_sub_end_all(struct conference *c);
unsigned sig_sub_count(const struct conference *c);

/* sig_limits.c: --sip-rate, --max-calls, --max-subscriptions. */
enum sig_limit { SIG_LIMIT_CALL, SIG_LIMIT_SUB };
int sig_limits_start(struct conference *c);
void sig_limits_free(struct conference *c);
/* For a new INVITE or SUBSCRIBE (the current request): 0 when it may go
 * on, else the seconds for Retry-After of a 503, with *why set. */
unsigned sig_limits_new_request(struct conference *c, enum sig_limit kind,
				const char **why);
/* The Retry-After value of a 503: retry_s, or a few seconds for 0. */
const char *sig_retry_after(unsigned retry_s, char buf[16]);

/* sig_trace.c: Sofia-SIP's log into ours; with TPTAG_LOG (--sip-trace)
 * or TPORT_LOG=1, every SIP message in and out under "trace". */
void sig_trace_start(void);
/* What Sofia-SIP logs, one fragment at a time (any thread). */
void sig_trace_feed(const char *fragment);

/* sig_tls.c: a private directory holding agent.pem (key, then
 * certificate) for Sofia-SIP's TPTAG_CERTIFICATE; removed once loaded. */
int sig_tls_dir_make(const struct options *o, char *dir, size_t cap);
void sig_tls_dir_remove(char *dir);

/* sig_reg.c: the registrar. Users REGISTER with digest credentials for
 * HA1 = MD5(user:SIG_REG_REALM:password), as kept in the store. */
#define SIG_REG_REALM "tutti"
int sig_reg_start(struct conference *c); /* after the nua is created */
void sig_reg_free(struct conference *c);
void sig_reg_on_register(struct conference *c, nua_handle_t *nh,
			 const sip_t *sip);
/* The most recent live contact registered for user ("alice"), as a URI
 * string into out; -ENOENT when none, -ENOSPC when cap is too small. */
int sig_reg_lookup(struct conference *c, const char *user, char *out,
		   size_t cap);

#endif
