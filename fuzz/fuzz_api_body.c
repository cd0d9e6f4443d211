/* fuzz_api_body.c: hostile request bodies through the API's own parse
 * path: api/body.c's JSON reading (jansson, duplicates refused), then the
 * field table of every route that takes a body (api/route_*.c), each of
 * which the same bytes may be sent to.
 *
 * Promises checked: a body is either an object or refused with a reason;
 * a reason, refused body or refused fields, fits the 400's JSON message
 * (valid UTF-8: reply_error() builds the answer with jansson, which
 * takes nothing else, and would otherwise send no answer at all); what a
 * table accepts is what the API documents (docs/api.md): names of 1 to 64
 * of [A-Za-z0-9._-], PINs of 0 to 32 digits, sip:/sips: URIs without
 * spaces or brackets, gains in -24..24 dB, passwords of 1 to 128 bytes. */
#include "api/api_priv.h"
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <string.h>

#define T "api_body"

static void check_why(const char *why)
{
	json_t *s;

	FUZZ_CHECK(T, why[0] != '\0');
	s = json_string(why);
	if (!s)
		fprintf(stderr, "message not UTF-8: %s\n", why);
	FUZZ_CHECK(T, s != NULL);
	json_decref(s);
}

static bool digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n <= max && strspn(s, "0123456789") == n;
}

static void room_spec(json_t *j, bool with_name)
{
	struct conf_room_spec s;
	char why[160];

	memset(&s, 0, sizeof(s));
	if (route_rooms_spec(j, &s, with_name, why, sizeof(why))) {
		check_why(why);
		return;
	}
	if (with_name)
		FUZZ_CHECK(T, fields_name_ok(s.name));
	FUZZ_CHECK(T, digits(s.pin, CONF_PIN_MAX));
	FUZZ_CHECK(T, digits(s.moderator_pin, CONF_PIN_MAX));
	FUZZ_CHECK(T, s.max_participants <= 100000);
}

static void dial(json_t *j)
{
	char uri[CONF_URI_MAX], why[160];

	memset(uri, 0, sizeof(uri));
	if (route_parts_dial_body(j, uri, why, sizeof(why))) {
		check_why(why);
		return;
	}
	FUZZ_CHECK(T, !strncmp(uri, "sip:", 4) || !strncmp(uri, "sips:", 5));
	FUZZ_CHECK(T, strlen(uri) < CONF_URI_MAX && !strpbrk(uri, " <>\"\r\n"));
}

static void part_update(json_t *j)
{
	struct conf_part_spec s;
	char why[160];

	memset(&s, 0, sizeof(s));
	if (route_parts_update_body(j, &s, why, sizeof(why))) {
		check_why(why);
		return;
	}
	FUZZ_CHECK(T, s.gain_db >= -24 && s.gain_db <= 24);
	FUZZ_CHECK(T, s.set_gain_db || s.gain_db == 0);
}

static void mute_all(json_t *j)
{
	struct conf_part_spec s;
	char why[160];

	memset(&s, 0, sizeof(s));
	if (route_parts_mute_body(j, &s, why, sizeof(why))) {
		check_why(why);
		return;
	}
	FUZZ_CHECK(T, s.set_muted || s.muted);
}

static void user(json_t *j)
{
	struct conf_req req;
	char why[160];

	memset(&req, 0, sizeof(req));
	if (route_users_body(j, req.password, sizeof(req.password), why,
			     sizeof(why))) {
		check_why(why);
		return;
	}
	FUZZ_CHECK(T, strlen(req.password) >= 1 &&
			  strlen(req.password) < sizeof(req.password));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	json_t *j;

	if (size > API_BODY_MAX_BYTES)
		return 0; /* answered 413 before it is parsed */
	j = body_parse((const char *)data, size, why, sizeof(why));
	if (!j) {
		check_why(why);
		return 0;
	}
	FUZZ_CHECK(T, json_is_object(j));
	room_spec(j, true);
	room_spec(j, false);
	dial(j);
	part_update(j);
	mute_all(j);
	user(j);
	/* POST .../recording takes no fields at all. */
	if (fields_parse(j, NULL, 0, why, sizeof(why)))
		check_why(why);
	else
		FUZZ_CHECK(T, json_object_size(j) == 0);
	json_decref(j);
	return 0;
}
