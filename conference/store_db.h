/* store_db.h: what store.c shares with store_rooms.c and store_users.c, the
 * only files that see SQLite. Not for use outside those three files.
 *
 * Every statement is prepared once in store_open() and kept for the life of
 * the store; a caller binds, steps and then hands the statement back to
 * store_stmt_done(), which resets it and clears its bindings, so that text
 * can be bound with SQLITE_STATIC. */
#ifndef TUTTI_CONFERENCE_STORE_DB_H
#define TUTTI_CONFERENCE_STORE_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "conference/store.h"

enum store_sq {
	SQ_BEGIN_IMMEDIATE,
	SQ_ROLLBACK,
	SQ_USER_VERSION,
	SQ_ROOM_INSERT,
	SQ_ROOM_UPDATE,
	SQ_ROOM_GET,
	SQ_ROOM_DELETE,
	SQ_ROOM_EACH,
	SQ_USER_SET,
	SQ_USER_HA1,
	SQ_USER_DELETE,
	SQ_USER_EACH,
	SQ_COUNT
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *sq[SQ_COUNT];
};

/* An SQLite result code (primary or extended) as a negative errno; 0 for
 * SQLITE_OK, SQLITE_ROW and SQLITE_DONE. */
int store_err(int rc);

/* Resets st and clears its bindings; returns err unchanged, so that a
 * function can end with "return store_stmt_done(st, err);". */
int store_stmt_done(sqlite3_stmt *st, int err);

/* Copies text column col into buf; -EIO when it is NULL or does not fit,
 * which only a file edited by hand can cause. */
int store_column_text(sqlite3_stmt *st, int col, char *buf, size_t size);

/* Runs st, a statement that changes rows, once its binding went well (rc,
 * the last bind's result, is SQLITE_OK): 0, -ENOENT when it changed no
 * row, or the SQLite error as an errno. Resets st. */
int store_change(struct store *s, sqlite3_stmt *st, int rc);

/* Called for each row of store_each_row(); a non-zero return stops the
 * walk and is returned. */
typedef int store_row_fn(sqlite3_stmt *st, void *arg);
/* Steps st over its rows, calling row on each: 0, row's first non-zero
 * return, or the SQLite error as an errno; -EBUSY when st is already being
 * stepped (a callback walking the same table again). Resets st. */
int store_each_row(sqlite3_stmt *st, store_row_fn *row, void *arg);

/* Room and user names: [A-Za-z0-9._-]{1,64}. Reads at most
 * STORE_NAME_MAX + 1 bytes of s, which may be NULL. */
bool store_name_ok(const char *s);

#endif
