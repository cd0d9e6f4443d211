/* store.h: the room store, an SQLite database at <data_dir>/tutti.db that
 * keeps the rooms created through the API and the SIP users allowed to
 * REGISTER, so that both survive a restart and a crash.
 *
 * Call only from the signalling thread, never from a mixer thread: every
 * write is a transaction that waits for fsync (synchronous=FULL in WAL
 * mode), and a call may wait up to the busy timeout for another connection's
 * lock. The caller owns the struct store and frees it with store_close().
 * Every function validates its input and returns -EINVAL, touching nothing,
 * when it is malformed; outputs are written only on success. Errors are
 * negative errno values: -EBUSY when the database stays locked past the busy
 * timeout, -ENOSPC when the disk is full, -EACCES when the file or the
 * directory cannot be written, -EIO for a corrupt file or anything else. */
#ifndef TUTTI_CONFERENCE_STORE_H
#define TUTTI_CONFERENCE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#define STORE_NAME_MAX	64  /* room and user names: [A-Za-z0-9._-]{1,64} */
#define STORE_PIN_MAX	32  /* PINs: "" (none) or 1..32 digits */
#define STORE_REALM_MAX 128 /* realms: 1..128 printable ASCII characters */
#define STORE_HA1_LEN	32  /* MD5 in lowercase hex */

struct store;

struct store_room {
	char name[STORE_NAME_MAX + 1];
	char pin[STORE_PIN_MAX + 1]; /* "" = none */
	char moderator_pin[STORE_PIN_MAX + 1];
	unsigned max_participants; /* 0 = no limit */
	bool locked;
	int64_t created_unix_ms; /* wall clock; 0 on create means "now" */
};

/* ---- lifecycle (store.c) ------------------------------------------------ */

/* Creates data_dir (and its parents, mode 0750) if absent, opens or creates
 * data_dir/tutti.db (mode 0640 before umask) and brings its schema up to
 * date, one transaction per migration. -EPROTO, with the file untouched,
 * when the file was written by a newer tutti (schema version above ours);
 * -EACCES when it cannot be opened for writing; -EIO when it is not an
 * SQLite database. */
int store_open(struct store **out, const char *data_dir);
void store_close(struct store *s); /* NULL-safe */

/* How long a call waits for another connection's lock before -EBUSY.
 * store_open() sets a few seconds; tests shorten it. */
void store_set_busy_timeout_ms(struct store *s, unsigned ms);

/* For /healthz: 0 when a write transaction can be taken now (BEGIN
 * IMMEDIATE, then ROLLBACK); may wait up to the busy timeout. */
int store_check_writable(struct store *s);
/* The schema version of the open file (>= 1), or a negative errno. */
int store_schema_version(struct store *s);
/* The version of the SQLite library in use, e.g. "3.40.1". */
const char *store_sqlite_version(void);

/* ---- rooms (store_rooms.c) ---------------------------------------------- */

/* -EEXIST if a room of that name exists; the existing one is kept. */
int store_room_create(struct store *s, const struct store_room *r);
/* Replaces pin, moderator_pin, max_participants and locked of the room
 * r->name; created_unix_ms is kept as it was. -ENOENT if there is none. */
int store_room_update(struct store *s, const struct store_room *r);
/* -ENOENT if there is no room of that name. */
int store_room_get(struct store *s, const char *name, struct store_room *out);
int store_room_delete(struct store *s, const char *name);

/* Calls fn for every room, in order of name. A nonzero return from fn stops
 * the walk and is returned. fn may call other store functions, but not
 * store_room_each() again (-EBUSY). */
typedef int (*store_room_fn)(void *arg, const struct store_room *r);
int store_room_each(struct store *s, store_room_fn fn, void *arg);

/* ---- SIP users (store_users.c) ------------------------------------------ */

/* Only HA1 = MD5(user:realm:password), in lowercase hex, is kept; a user
 * may have one per realm. */
int store_user_set(struct store *s, const char *user, const char *realm,
		   const char *ha1_hex); /* inserts or replaces */
int store_user_ha1(struct store *s, const char *user, const char *realm,
		   char out[STORE_HA1_LEN + 1]); /* -ENOENT */
/* Deletes the user in every realm; -ENOENT if there was none. */
int store_user_delete(struct store *s, const char *user);

/* Calls fn for every (user, realm), ordered by user then realm; the same
 * rules as store_room_each(). */
typedef int (*store_user_fn)(void *arg, const char *user, const char *realm);
int store_user_each(struct store *s, store_user_fn fn, void *arg);

#endif
