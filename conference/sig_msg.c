/* sig_msg.c: chat in a room, by SIP MESSAGE (RFC 3428).
 *
 * A MESSAGE to the conference URI, inside a participant's call dialog or
 * outside any (then its From must be a participant of the room: the room
 * is not a relay for strangers), is sent on to every other participant
 * inside their call dialogs, with its body and Content-Type unchanged and
 * the sender named in Referred-By. Text and CPIM bodies only, at most
 * MSG_MAX_BYTES. The API hears of it as a chat.message event, its text cut
 * to valid UTF-8. Signalling thread only. */
#include "conference/sig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/url.h>

#define MSG_MAX_BYTES 16384

static bool acceptable_type(const sip_t *sip)
{
	const char *t = sip->sip_content_type && sip->sip_content_type->c_type
			    ? sip->sip_content_type->c_type
			    : "text/plain";
	return strncasecmp(t, "text/", 5) == 0 ||
	       strcasecmp(t, "message/cpim") == 0;
}

static struct participant *find_sender(struct room *r, const url_t *from)
{
	char aor[CI_URI_MAX];
	isize_t n = url_e(aor, sizeof(aor), from);
	if (n <= 0 || (size_t)n >= sizeof(aor))
		return NULL;
	aor[n] = '\0';
	for (struct participant *p = r->parts; p; p = p->next)
		if (room_part_visible(p) && strcmp(p->uri, aor) == 0)
			return p;
	return NULL;
}

static unsigned relay(struct room *r, const struct participant *sender,
		      const sip_t *sip)
{
	char by[CI_URI_MAX + 2];
	snprintf(by, sizeof(by), "<%s>", sender->uri);
	const char *ctype =
	    sip->sip_content_type && sip->sip_content_type->c_type
		? sip->sip_content_type->c_type
		: "text/plain";
	unsigned n = 0;
	for (struct participant *p = r->parts; p; p = p->next) {
		struct call *call = p->call;
		if (p == sender || !room_part_visible(p) || !call ||
		    !call->answered || call->dialing)
			continue;
		nua_message(call->nh, SIPTAG_CONTENT_TYPE_STR(ctype),
			    SIPTAG_REFERRED_BY_STR(by),
			    SIPTAG_PAYLOAD(sip->sip_payload), TAG_END());
		n++;
	}
	return n;
}

void sig_msg_on_message(struct conference *c, nua_handle_t *nh,
			struct call *call, const sip_t *sip)
{
	nua_t *nua = c->sig->nua;
	if (!sip || !sip->sip_request)
		return;
	const char *name =
	    call ? call->room : sip->sip_request->rq_url->url_user;
	struct room *r = room_name_valid(name) ? room_find(c, name) : NULL;
	struct participant *sender = call ? call->part
				     : r && sip->sip_from
					 ? find_sender(r, sip->sip_from->a_url)
					 : NULL;
	size_t len = sip->sip_payload ? sip->sip_payload->pl_len : 0;
	const char *cid = sip->sip_call_id ? sip->sip_call_id->i_id : "-";

	int status = 200;
	const char *phrase = "OK";
	if (!r)
		status = 404, phrase = "Not Found";
	else if (!sender || !room_part_visible(sender))
		status = 403, phrase = "Forbidden"; /* or not let in yet */
	else if (len == 0)
		status = 400, phrase = "Bad Request";
	else if (len > MSG_MAX_BYTES)
		status = 413, phrase = "Request Entity Too Large";
	else if (!acceptable_type(sip))
		status = 415, phrase = "Unsupported Media Type";

	unsigned sent = 0;
	if (status == 200) {
		sent = relay(r, sender, sip);
		events_chat(c, sender, sip->sip_payload->pl_data, len);
	}
	nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua),
		    TAG_IF(status == 415,
			   SIPTAG_ACCEPT_STR("text/plain, message/cpim")),
		    TAG_END());
	if (status == 200)
		log_info("chat",
			 "room=%s call=%s from=%s bytes=%zu relayed to %u",
			 name, cid, sender->uri, len, sent);
	else
		log_info("chat", "room=%s call=%s MESSAGE refused %d %s",
			 room_name_valid(name) ? name : "-", cid, status,
			 phrase);
	if (!call)
		nua_handle_destroy(nh);
}
