/* route_parts.c: /api/v1/rooms/{room}/participants[/{id}]: list, look at,
 * dial out, mute/deafen/gain, promote to moderator and kick. Dialling out
 * answers 202 at once with the new participant's id; how the call goes arrives
 * as events. Connection threads. */
#include "api/api_priv.h"

#include <stdio.h>
#include <string.h>

static bool ask_parts(struct api_call *c, struct conf_reply *rep,
		      enum MHD_Result *ret)
{
	struct conf_req req = {.op = CONF_PART_LIST};
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	return api_ask(c, &req, rep, ret);
}

enum MHD_Result route_parts_list(struct api_call *c)
{
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!ask_parts(c, &rep, &ret))
		return ret;
	json_t *arr = json_array();
	for (size_t i = 0; i < rep.n_parts; i++)
		json_array_append_new(arr, shape_part(&rep.parts[i]));
	conference_reply_clear(&rep);
	return reply_json(c, MHD_HTTP_OK, arr, NULL, NULL);
}

enum MHD_Result route_parts_get(struct api_call *c)
{
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!ask_parts(c, &rep, &ret))
		return ret;
	json_t *body = NULL;
	for (size_t i = 0; i < rep.n_parts && !body; i++)
		if (rep.parts[i].id == c->part_id)
			body = shape_part(&rep.parts[i]);
	conference_reply_clear(&rep);
	if (!body)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "not_found",
				   "no such participant", NULL);
	return reply_json(c, MHD_HTTP_OK, body, NULL, NULL);
}

int route_parts_dial_body(json_t *j, char *uri, char *why, size_t whylen)
{
	struct field f[] = {
	    {"uri", FIELD_SIPURI, true, 0, 0, uri, NULL},
	};
	return fields_parse(j, f, 1, why, whylen);
}

enum MHD_Result route_parts_dial(struct api_call *c)
{
	enum MHD_Result ret;
	json_t *j = body_json(c, false, &ret);
	if (!j)
		return ret;
	struct conf_req req = {.op = CONF_PART_DIAL};
	char why[160];
	int err = route_parts_dial_body(j, req.uri, why, sizeof(why));
	json_decref(j);
	if (err)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	uint32_t id = rep.part_id;
	conference_reply_clear(&rep);
	char where[128];
	snprintf(where, sizeof(where), "/api/v1/rooms/%s/participants/%u",
		 c->room, id);
	log_info("api", "room=%s dial-out participant %u", c->room, id);
	return reply_json(c, MHD_HTTP_ACCEPTED,
			  json_pack("{s:I}", "id", (json_int_t)id), "Location",
			  where);
}

int route_parts_update_body(json_t *j, struct conf_part_spec *s, char *why,
			    size_t whylen)
{
	long long gain = 0;
	struct field f[] = {
	    {"muted", FIELD_BOOL, false, 0, 0, &s->muted, &s->set_muted},
	    {"deaf", FIELD_BOOL, false, 0, 0, &s->deaf, &s->set_deaf},
	    {"gain_db", FIELD_INT, false, -24, 24, &gain, &s->set_gain_db},
	    {"moderator", FIELD_BOOL, false, 0, 0, &s->moderator,
	     &s->set_moderator},
	};
	int err = fields_parse(j, f, 4, why, whylen);
	s->gain_db = (int)gain;
	return err;
}

enum MHD_Result route_parts_update(struct api_call *c)
{
	enum MHD_Result ret;
	json_t *j = body_json(c, false, &ret);
	if (!j)
		return ret;
	struct conf_req req = {.op = CONF_PART_UPDATE};
	char why[160];
	int err = route_parts_update_body(j, &req.part_spec, why, sizeof(why));
	json_decref(j);
	if (err)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	req.part_id = c->part_id;
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	json_t *body = rep.n_parts ? shape_part(&rep.parts[0]) : NULL;
	conference_reply_clear(&rep);
	if (!body)
		return reply_empty(c, MHD_HTTP_NO_CONTENT);
	return reply_json(c, MHD_HTTP_OK, body, NULL, NULL);
}

enum MHD_Result route_parts_kick(struct api_call *c)
{
	struct conf_req req = {.op = CONF_PART_KICK, .part_id = c->part_id};
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	conference_reply_clear(&rep);
	log_info("api", "room=%s participant %u kicked", c->room, c->part_id);
	return reply_empty(c, MHD_HTTP_NO_CONTENT);
}

int route_parts_mute_body(json_t *j, struct conf_part_spec *s, char *why,
			  size_t whylen)
{
	s->muted = true;
	struct field f[] = {
	    {"muted", FIELD_BOOL, false, 0, 0, &s->muted, &s->set_muted},
	};
	return fields_parse(j, f, 1, why, whylen);
}

/* POST /rooms/{room}/mute {"muted"?: true}: everyone but moderators. */
enum MHD_Result route_parts_mute_all(struct api_call *c)
{
	enum MHD_Result ret;
	json_t *j = body_json(c, true, &ret);
	if (!j)
		return ret;
	struct conf_req req = {.op = CONF_PART_MUTE_ALL};
	struct conf_part_spec *s = &req.part_spec;
	char why[160];
	int err = route_parts_mute_body(j, s, why, sizeof(why));
	json_decref(j);
	if (err)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	json_t *arr = json_array();
	for (size_t i = 0; i < rep.n_parts; i++)
		json_array_append_new(arr, shape_part(&rep.parts[i]));
	conference_reply_clear(&rep);
	log_info("api", "room=%s all but moderators %s", c->room,
		 s->muted ? "muted" : "unmuted");
	return reply_json(c, MHD_HTTP_OK, arr, NULL, NULL);
}
