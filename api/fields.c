/* fields.c: strict validation of the JSON objects the API accepts.
 *
 * A route lists the fields it knows; anything else in the object is an
 * error (so that a typo such as "lockd" is not silently ignored), as is a
 * wrong type, a number out of range, a real where an integer is expected or
 * a missing required field. Pure functions, any thread. */
#include "api/api_priv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int fields_quote_len(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	for (size_t cut = 0; cut < 4 && cut <= n; cut++) {
		json_t *j = json_stringn(s, n - cut);
		if (j) {
			json_decref(j);
			return (int)(n - cut);
		}
	}
	return 0;
}

bool fields_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool ok = (ch >= 'A' && ch <= 'Z') ||
			  (ch >= 'a' && ch <= 'z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
			  ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

static bool pin_ok(const char *s)
{
	size_t n = strlen(s);
	if (n > CONF_PIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool sipuri_ok(const char *s)
{
	size_t n = strlen(s);
	if (n >= CONF_URI_MAX || strpbrk(s, " \t\r\n<>\""))
		return false;
	return (strncmp(s, "sip:", 4) == 0 && n > 4) ||
	       (strncmp(s, "sips:", 5) == 0 && n > 5);
}

static int take_string(const struct field *f, json_t *v, char *why,
		       size_t whylen)
{
	if (!json_is_string(v)) {
		snprintf(why, whylen, "\"%s\" must be a string", f->key);
		return -EINVAL;
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	bool ok;
	size_t cap;
	switch (f->type) {
	case FIELD_NAME:
		ok = strlen(s) == n && fields_name_ok(s);
		cap = CONF_NAME_MAX + 1;
		break;
	case FIELD_PIN:
		ok = strlen(s) == n && pin_ok(s);
		cap = CONF_PIN_MAX + 1;
		break;
	case FIELD_SIPURI:
		ok = strlen(s) == n && sipuri_ok(s);
		cap = CONF_URI_MAX;
		break;
	default:
		ok = strlen(s) == n && n >= 1 && n <= (size_t)f->max;
		cap = (size_t)f->max + 1;
		break;
	}
	if (!ok) {
		static const char *const what[] = {
		    [FIELD_NAME] = "a name of 1 to 64 of A-Z a-z 0-9 . _ -",
		    [FIELD_PIN] = "a string of 0 to 32 digits",
		    [FIELD_SIPURI] = "a sip: or sips: URI",
		    [FIELD_TEXT] = "a non-empty string, not too long",
		};
		snprintf(why, whylen, "\"%s\" must be %s", f->key,
			 what[f->type] ? what[f->type] : "valid");
		return -EINVAL;
	}
	snprintf(f->out, cap, "%s", s);
	return 0;
}

/* A string that must be one of the names of a struct field_choice. */
static int take_choice(const struct field *f, json_t *v, char *why,
		       size_t whylen)
{
	struct field_choice *ch = f->out;
	const char *s = json_string_value(v);
	for (int i = 0; s && ch->names[i]; i++)
		if (strlen(s) == json_string_length(v) &&
		    strcmp(s, ch->names[i]) == 0) {
			ch->index = i;
			return 0;
		}
	int n = snprintf(why, whylen, "\"%s\" must be one of", f->key);
	for (int i = 0; ch->names[i] && n >= 0 && (size_t)n < whylen; i++)
		n += snprintf(why + n, whylen - (size_t)n, "%s \"%s\"",
			      i ? "," : "", ch->names[i]);
	return -EINVAL;
}

static int take(const struct field *f, json_t *v, char *why, size_t whylen)
{
	switch (f->type) {
	case FIELD_CHOICE:
		return take_choice(f, v, why, whylen);
	case FIELD_BOOL:
		if (!json_is_boolean(v)) {
			snprintf(why, whylen, "\"%s\" must be true or false",
				 f->key);
			return -EINVAL;
		}
		*(bool *)f->out = json_is_true(v);
		return 0;
	case FIELD_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max) {
			snprintf(why, whylen,
				 "\"%s\" must be an integer from %lld to %lld",
				 f->key, f->min, f->max);
			return -EINVAL;
		}
		*(long long *)f->out = json_integer_value(v);
		return 0;
	default:
		return take_string(f, v, why, whylen);
	}
}

int fields_parse(json_t *obj, const struct field *f, size_t n, char *why,
		 size_t whylen)
{
	if (!json_is_object(obj)) {
		snprintf(why, whylen, "the body must be a JSON object");
		return -EINVAL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (i < n && strcmp(f[i].key, key) != 0)
			i++;
		if (i == n) {
			snprintf(why, whylen, "unknown field \"%.*s\"",
				 fields_quote_len(key, 64), key);
			return -EINVAL;
		}
		if (take(&f[i], v, why, whylen))
			return -EINVAL;
		if (f[i].present)
			*f[i].present = true;
	}
	for (size_t i = 0; i < n; i++) {
		if (f[i].required && !json_object_get(obj, f[i].key)) {
			snprintf(why, whylen, "\"%s\" is required", f[i].key);
			return -EINVAL;
		}
	}
	return 0;
}
