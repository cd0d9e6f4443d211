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

enum MHD_Result route_parts_dial(struct api_call *c)
{
	struct conf_req req = {.op = CONF_PART_DIAL};
	const struct field f[] = {
	    {"uri", FIELD_SIPURI, true, 0, 0, req.uri, NULL},
	};
	enum MHD_Result ret;
	if (!body_fields(c, false, f, 1, &ret))
		return ret;
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	uint32_t id = rep.part_id;
	conference_reply_clear(&rep);
	char where[128];
	snprintf(where, sizeof(where), "/api/v1/rooms/%s/participants/%u",
		 c->room, id);
	log_info("api", "room=%s part=%u dialing out", c->room, id);
	return reply_json(c, MHD_HTTP_ACCEPTED,
			  json_pack("{s:I}", "id", (json_int_t)id), "Location",
			  where);
}

enum MHD_Result route_parts_update(struct api_call *c)
{
	struct conf_req req = {.op = CONF_PART_UPDATE};
	struct conf_part_spec *s = &req.part_spec;
	long long gain = 0;
	const struct field f[] = {
	    {"muted", FIELD_BOOL, false, 0, 0, &s->muted, &s->set_muted},
	    {"deaf", FIELD_BOOL, false, 0, 0, &s->deaf, &s->set_deaf},
	    {"gain_db", FIELD_INT, false, -24, 24, &gain, &s->set_gain_db},
	    {"moderator", FIELD_BOOL, false, 0, 0, &s->moderator,
	     &s->set_moderator},
	};
	enum MHD_Result ret;
	if (!body_fields(c, false, f, 4, &ret))
		return ret;
	s->gain_db = (int)gain;
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
	enum MHD_Result ret;
	if (api_ask_no_content(c, &req, &ret))
		log_info("api", "room=%s part=%u kicked", c->room, c->part_id);
	return ret;
}

/* POST /rooms/{room}/mute {"muted"?: true}: everyone but moderators. */
enum MHD_Result route_parts_mute_all(struct api_call *c)
{
	struct conf_req req = {.op = CONF_PART_MUTE_ALL};
	struct conf_part_spec *s = &req.part_spec;
	s->muted = true;
	const struct field f[] = {
	    {"muted", FIELD_BOOL, false, 0, 0, &s->muted, &s->set_muted},
	};
	enum MHD_Result ret;
	if (!body_fields(c, true, f, 1, &ret))
		return ret;
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
