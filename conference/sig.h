/* sig.h: what sig_ua.c and sig_call.c share. Included only by sig_*.c, so
 * that Sofia-SIP's types stay inside them. Signalling thread only. */
#ifndef TUTTI_CONFERENCE_SIG_H
#define TUTTI_CONFERENCE_SIG_H

#define NUA_MAGIC_T	struct conference
#define NUA_HMAGIC_T	struct call
#define SU_ROOT_MAGIC_T struct conference
#define SU_WAKEUP_ARG_T struct conference
#define SU_TIMER_ARG_T	struct conference

#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include "conference/focus.h"

struct call;

struct sig {
	su_home_t home[1];
	su_root_t *root;
	nua_t *nua;
	su_wait_t ctl_wait, media_wait;
	int ctl_index, media_index;
	su_timer_t *stop_timer;
	bool nua_shutdown_sent;
	struct call *calls; /* every INVITE dialog we are in (sig_call.c) */
	unsigned n_calls;
};

/* sig_call.c: the INVITE dialog usage of one caller. */
void sig_call_on_invite(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip);
void sig_call_on_ack(struct conference *c, struct call *call, const sip_t *sip);
void sig_call_on_update(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip);
/* The dialog ended (BYE, CANCEL, error): media leaves, handle destroyed. */
void sig_call_on_terminated(struct conference *c, nua_handle_t *nh,
			    struct call *call);

#endif
