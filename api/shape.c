/* shape.c: the conference's plain C structs as the JSON objects of
 * docs/api.md. Rooms never show their PINs, only whether they have one.
 * Times are ISO 8601 UTC with milliseconds ("2025-01-31T12:00:00.250Z").
 * Pure functions, any thread; the caller owns what they return. */
#include "api/api_priv.h"

#include <stdio.h>
#include <time.h>

json_t *shape_time(int64_t unix_ms)
{
	if (unix_ms <= 0)
		return json_null();
	time_t s = (time_t)(unix_ms / 1000);
	struct tm tm;
	if (!gmtime_r(&s, &tm))
		return json_null();
	char buf[48];
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
	return json_string(buf);
}

/* Text from SIP peers may not be UTF-8: such bytes become '?'. */
static json_t *safe_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char buf[1100];
	size_t i = 0;
	for (; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	buf[i] = '\0';
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? safe_text(s) : json_null();
}

json_t *shape_room(const struct conf_room_info *r)
{
	return json_pack(
	    "{s:s,s:I,s:b,s:b,s:I,s:b,s:b,s:b,s:o,s:o}", "name", r->name,
	    "participants", (json_int_t)r->participants, "locked", r->locked,
	    "recording", r->recording, "max_participants",
	    (json_int_t)r->max_participants, "persistent", r->persistent,
	    "has_pin", r->has_pin, "has_moderator_pin", r->has_moderator_pin,
	    "created_at", shape_time(r->created_unix_ms), "rate_hz",
	    r->rate_hz ? json_integer(r->rate_hz) : json_null());
}

/* Percent and milliseconds to one decimal: more would be noise. */
static json_t *tenths(double v)
{
	return json_real((double)(int64_t)(v * 10 + 0.5) / 10);
}

static json_t *shape_stats(const struct conf_media_stats *s)
{
	return json_pack(
	    "{s:I,s:I,s:I,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "packets_in", (json_int_t)s->packets_in, "packets_out",
	    (json_int_t)s->packets_out, "packets_lost", (json_int_t)s->lost,
	    "loss_percent", tenths(s->loss_percent), "jitter_ms",
	    tenths(s->jitter_ms), "late", (json_int_t)s->late, "discarded",
	    (json_int_t)s->discarded, "concealed_frames",
	    (json_int_t)s->concealed, "fec_recovered_frames",
	    (json_int_t)s->fec_recovered, "foreign_dropped",
	    (json_int_t)s->foreign, "srtp_failed", (json_int_t)s->srtp_failed,
	    "latched", (json_int_t)s->latched, "undecoded_silence",
	    (json_int_t)s->undecoded, "fec_loss_percent",
	    (json_int_t)s->fec_loss_pct);
}

json_t *shape_part(const struct conf_part_info *p)
{
	json_t *j = json_pack(
	    "{s:I,s:o,s:o,s:o,s:o,s:b,s:b,s:b,s:b,s:I,s:b,s:I,s:o,s:o}", "id",
	    (json_int_t)p->id, "uri", safe_text(p->uri), "display_name",
	    str_or_null(p->display_name), "codec", str_or_null(p->codec),
	    "status", safe_text(p->status), "muted", p->muted, "deaf", p->deaf,
	    "talking", p->talking, "moderator", p->moderator, "gain_db",
	    (json_int_t)p->gain_db, "dialed_out", p->dialed_out, "ssrc",
	    (json_int_t)p->ssrc, "joined_at", shape_time(p->joined_unix_ms),
	    "stats", shape_stats(&p->stats));
	return j;
}

static bool is_part_event(enum conf_event_kind k)
{
	switch (k) {
	case CONF_EV_PART_JOINED:
	case CONF_EV_PART_LEFT:
	case CONF_EV_PART_MUTED:
	case CONF_EV_PART_UNMUTED:
	case CONF_EV_PART_TALKING:
	case CONF_EV_PART_STOPPED_TALKING:
	case CONF_EV_PART_UPDATED:
		return true;
	default:
		return false;
	}
}

json_t *shape_event(const struct conf_event *e)
{
	json_t *j =
	    json_pack("{s:I,s:o,s:o}", "id", (json_int_t)e->id, "room",
		      safe_text(e->room), "time", shape_time(e->unix_ms));
	if (!j)
		return NULL;
	bool chat = e->kind == CONF_EV_CHAT_MESSAGE;
	if (is_part_event(e->kind) || (chat && e->part.id))
		json_object_set_new(j, "participant", shape_part(&e->part));
	if (e->kind == CONF_EV_PART_LEFT && e->reason[0])
		json_object_set_new(j, "reason", safe_text(e->reason));
	if (e->by[0])
		json_object_set_new(j, "by", safe_text(e->by));
	if (e->file[0])
		json_object_set_new(j, "file", safe_text(e->file));
	if (chat)
		json_object_set_new(j, "text", safe_text(e->text));
	return j;
}
