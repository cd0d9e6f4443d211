/* sig_info.c: SIP INFO inside a call: key presses sent as
 * application/dtmf-relay or application/dtmf bodies (the parser is
 * rtp/dtmfinfo.c). A key goes to the caller's dialogue (conference/ivr.c)
 * as a key from RTP would.
 *
 * Answers: 200 for a key (and for a well-formed hook flash, which is no
 * key); 415 with Accept for any other body type; 400 for a malformed
 * body; 481 outside a call of ours. Signalling thread only. */
#include "conference/ivr.h"
#include "conference/sig.h"

#include <errno.h>
#include <string.h>

#define INFO_ACCEPT "application/dtmf-relay, application/dtmf"

void sig_info_on_info(struct conference *c, nua_handle_t *nh, struct call *call,
		      const sip_t *sip)
{
	nua_t *nua = c->sig->nua;
	struct participant *p = call ? call->part : NULL;
	if (!p || !sip) {
		nua_respond(nh, 481, "Call/Transaction Does Not Exist",
			    NUTAG_WITH_THIS(nua), TAG_END());
		if (!call)
			nua_handle_destroy(nh);
		return;
	}
	const char *type =
	    sip->sip_content_type ? sip->sip_content_type->c_type : NULL;
	const char *body = sip->sip_payload ? sip->sip_payload->pl_data : NULL;
	size_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
	struct digit d;
	int err = dtmfinfo_parse(type, body, len, &d);
	if (err == -EPROTO) {
		nua_respond(nh, 415, "Unsupported Media Type",
			    NUTAG_WITH_THIS(nua),
			    SIPTAG_ACCEPT_STR(INFO_ACCEPT), TAG_END());
		log_info("sip", "room=%s call=%s INFO of type %s: 415",
			 call->room, call->call_id, type ? type : "(none)");
		return;
	}
	if (err == -EBADMSG) {
		nua_respond(nh, 400, "Bad Request", NUTAG_WITH_THIS(nua),
			    TAG_END());
		log_info("sip", "room=%s call=%s INFO body malformed: 400",
			 call->room, call->call_id);
		return;
	}
	nua_respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
	if (err == 0)
		ivr_on_digit(p, &d);
}
