/* route_rooms.c: /api/v1/rooms, /api/v1/rooms/{room} and its recording.
 * Each handler validates its body strictly (fields.c), asks the
 * signalling thread (api_ask) and shapes the reply. Connection threads. */
#include "api/api_priv.h"

#include <stdio.h>
#include <string.h>

#define MAX_PARTICIPANTS_LIMIT 100000

enum MHD_Result route_rooms_list(struct api_call *c)
{
	struct conf_req req = {.op = CONF_ROOM_LIST};
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	json_t *arr = json_array();
	for (size_t i = 0; i < rep.n_rooms; i++)
		json_array_append_new(arr, shape_room(&rep.rooms[i]));
	conference_reply_clear(&rep);
	return reply_json(c, MHD_HTTP_OK, arr, NULL, NULL);
}

int route_rooms_spec(json_t *j, struct conf_room_spec *s, bool with_name,
		     char *why, size_t whylen)
{
	long long max = 0;
	bool name_set = false;
	struct field f[] = {
	    {"pin", FIELD_PIN, false, 0, 0, s->pin, &s->set_pin},
	    {"moderator_pin", FIELD_PIN, false, 0, 0, s->moderator_pin,
	     &s->set_moderator_pin},
	    {"max_participants", FIELD_INT, false, 0, MAX_PARTICIPANTS_LIMIT,
	     &max, &s->set_max_participants},
	    {"locked", FIELD_BOOL, false, 0, 0, &s->locked, &s->set_locked},
	    {"name", FIELD_NAME, true, 0, 0, s->name, &name_set},
	};
	size_t n = sizeof(f) / sizeof(f[0]) - (with_name ? 0 : 1);
	int err = fields_parse(j, f, n, why, whylen);
	s->max_participants = (unsigned)max;
	return err;
}

enum MHD_Result route_rooms_create(struct api_call *c)
{
	enum MHD_Result ret;
	json_t *j = body_json(c, false, &ret);
	if (!j)
		return ret;
	struct conf_req req = {.op = CONF_ROOM_CREATE};
	char why[160];
	int err = route_rooms_spec(j, &req.room_spec, true, why, sizeof(why));
	json_decref(j);
	if (err)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	snprintf(req.room, sizeof(req.room), "%s", req.room_spec.name);
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	char where[96];
	snprintf(where, sizeof(where), "/api/v1/rooms/%s", req.room);
	json_t *body = shape_room(&rep.room_info);
	conference_reply_clear(&rep);
	log_info("api", "room=%s created", req.room);
	return reply_json(c, MHD_HTTP_CREATED, body, "Location", where);
}

enum MHD_Result route_rooms_get(struct api_call *c)
{
	struct conf_req req = {.op = CONF_ROOM_GET};
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	json_t *room = shape_room(&rep.room_info);
	json_t *arr = json_array();
	for (size_t i = 0; i < rep.n_parts; i++)
		json_array_append_new(arr, shape_part(&rep.parts[i]));
	json_object_set_new(room, "participant_list", arr);
	conference_reply_clear(&rep);
	return reply_json(c, MHD_HTTP_OK, room, NULL, NULL);
}

enum MHD_Result route_rooms_update(struct api_call *c)
{
	enum MHD_Result ret;
	json_t *j = body_json(c, false, &ret);
	if (!j)
		return ret;
	struct conf_req req = {.op = CONF_ROOM_UPDATE};
	char why[160];
	int err = route_rooms_spec(j, &req.room_spec, false, why, sizeof(why));
	json_decref(j);
	if (err)
		return reply_error(c, MHD_HTTP_BAD_REQUEST, "bad_request", why,
				   NULL);
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	snprintf(req.room_spec.name, sizeof(req.room_spec.name), "%s", c->room);
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	json_t *body = shape_room(&rep.room_info);
	conference_reply_clear(&rep);
	return reply_json(c, MHD_HTTP_OK, body, NULL, NULL);
}

/* The routes below take no body (one is ignored) and answer 204. */
static enum MHD_Result room_op(struct api_call *c, enum conf_op op)
{
	struct conf_req req = {.op = op};
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	enum MHD_Result ret;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	conference_reply_clear(&rep);
	return reply_empty(c, MHD_HTTP_NO_CONTENT);
}

enum MHD_Result route_rooms_delete(struct api_call *c)
{
	enum MHD_Result ret = room_op(c, CONF_ROOM_DELETE);
	log_info("api", "room=%s delete requested", c->room);
	return ret;
}

enum MHD_Result route_rooms_rec_stop(struct api_call *c)
{
	return room_op(c, CONF_REC_STOP);
}

enum MHD_Result route_rooms_rec_start(struct api_call *c)
{
	static const char *const formats[] = {
	    [CONF_REC_WAV] = "wav", [CONF_REC_OGG] = "ogg", NULL};
	struct field_choice format = {formats, CONF_REC_WAV};
	const struct field f[] = {
	    {"format", FIELD_CHOICE, false, 0, 0, &format, NULL},
	};
	enum MHD_Result ret;
	if (!body_fields(c, true, f, 1, &ret))
		return ret;
	struct conf_req req = {.op = CONF_REC_START,
			       .rec_format =
				   (enum conf_rec_format)format.index};
	snprintf(req.room, sizeof(req.room), "%s", c->room);
	struct conf_reply rep;
	if (!api_ask(c, &req, &rep, &ret))
		return ret;
	char where[96];
	snprintf(where, sizeof(where), "/api/v1/rooms/%s/recording", c->room);
	json_t *body = json_pack("{s:s}", "file", rep.file);
	conference_reply_clear(&rep);
	return reply_json(c, MHD_HTTP_CREATED, body, "Location", where);
}
