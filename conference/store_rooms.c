/* store_rooms.c: the rooms table of the room store, one row per room
 * created through the API. Each call is one statement in its own implicit
 * transaction, durable when it returns. Signalling thread only; see
 * store.h. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "conference/store_db.h"

/* "" or 1..32 ASCII digits, within the field's bytes. */
static bool pin_ok(const char *p)
{
	size_t n = strnlen(p, STORE_PIN_MAX + 1);
	if (n > STORE_PIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

static bool room_ok(const struct store_room *r)
{
	return r && store_name_ok(r->name) && pin_ok(r->pin) &&
	       pin_ok(r->moderator_pin) && r->created_unix_ms >= 0;
}

static int64_t now_unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Binds ?1..?5: name, pin, moderator_pin, max_participants, locked. */
static int bind_room(sqlite3_stmt *st, const struct store_room *r)
{
	int rc = sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, r->pin, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, r->moderator_pin, -1,
				       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, r->max_participants);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 5, r->locked ? 1 : 0);
	return rc;
}

/* Reads the row st stands on (the columns of ROOM_COLS, in order). */
static int read_room(sqlite3_stmt *st, struct store_room *r)
{
	memset(r, 0, sizeof(*r));
	int err = store_column_text(st, 0, r->name, sizeof(r->name));
	if (!err)
		err = store_column_text(st, 1, r->pin, sizeof(r->pin));
	if (!err)
		err = store_column_text(st, 2, r->moderator_pin,
					sizeof(r->moderator_pin));
	if (err)
		return err;
	sqlite3_int64 max = sqlite3_column_int64(st, 3);
	if (max < 0 || max > UINT_MAX)
		return -EIO;
	r->max_participants = (unsigned)max;
	r->locked = sqlite3_column_int(st, 4) != 0;
	r->created_unix_ms = sqlite3_column_int64(st, 5);
	return 0;
}

int store_room_create(struct store *s, const struct store_room *r)
{
	if (!s || !room_ok(r))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_ROOM_INSERT];
	int64_t created =
	    r->created_unix_ms ? r->created_unix_ms : now_unix_ms();
	int rc = bind_room(st, r);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, created);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return store_stmt_done(st, store_err(rc));
}

int store_room_update(struct store *s, const struct store_room *r)
{
	if (!s || !room_ok(r))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_ROOM_UPDATE];
	return store_change(s, st, bind_room(st, r));
}

int store_room_get(struct store *s, const char *name, struct store_room *out)
{
	if (!s || !out || !store_name_ok(name))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_ROOM_GET];
	struct store_room r;
	int rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int err = rc == SQLITE_ROW    ? read_room(st, &r)
		  : rc == SQLITE_DONE ? -ENOENT
				      : store_err(rc);
	if (!err)
		*out = r;
	return store_stmt_done(st, err);
}

int store_room_delete(struct store *s, const char *name)
{
	if (!s || !store_name_ok(name))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_ROOM_DELETE];
	return store_change(s, st,
			    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC));
}

struct room_walk {
	store_room_fn fn;
	void *arg;
};

static int room_row(sqlite3_stmt *st, void *arg)
{
	struct room_walk *w = arg;
	struct store_room r;
	int err = read_room(st, &r);
	return err ? err : w->fn(w->arg, &r);
}

int store_room_each(struct store *s, store_room_fn fn, void *arg)
{
	if (!s || !fn)
		return -EINVAL;
	struct room_walk w = {fn, arg};
	return store_each_row(s->sq[SQ_ROOM_EACH], room_row, &w);
}
