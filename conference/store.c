/* store.c: opening, migrating and closing the room store, and the one place
 * where SQLite's result codes become errno values.
 *
 * The file is data_dir/tutti.db in WAL mode with synchronous=FULL, so that a
 * write acknowledged to the caller is in the log and fsync'd: it survives
 * kill -9 and power loss. The schema version lives in PRAGMA user_version;
 * migrations[] holds one SQL script per version and each runs in its own
 * transaction, so a crash mid-upgrade leaves the file at the last complete
 * version. A file from a newer tutti is refused before anything is written
 * to it (switching to WAL rewrites the header, so the version is read
 * first). Signalling thread only; see store.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conference/store_db.h"
#include "core/core.h"

#define DB_FILE		   "tutti.db"
#define BUSY_TIMEOUT_MS	   5000
#define MIN_SQLITE_VERSION 3037000 /* STRICT tables */

static const char *const migrations[] = {
    /* 1: rooms and SIP users. */
    "CREATE TABLE rooms ("
    " name TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),"
    " pin TEXT NOT NULL DEFAULT '' CHECK (length(pin) <= 32),"
    " moderator_pin TEXT NOT NULL DEFAULT ''"
    "  CHECK (length(moderator_pin) <= 32),"
    " max_participants INTEGER NOT NULL DEFAULT 0"
    "  CHECK (max_participants BETWEEN 0 AND 4294967295),"
    " locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),"
    " created_unix_ms INTEGER NOT NULL CHECK (created_unix_ms >= 0)"
    ") STRICT;"
    "CREATE TABLE users ("
    " user TEXT NOT NULL CHECK (length(user) BETWEEN 1 AND 64),"
    " realm TEXT NOT NULL CHECK (length(realm) BETWEEN 1 AND 128),"
    " ha1 TEXT NOT NULL CHECK (length(ha1) = 32),"
    " PRIMARY KEY (user, realm)"
    ") STRICT, WITHOUT ROWID;",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ROOM_COLS                                                              \
	"name, pin, moderator_pin, max_participants, locked, created_unix_ms"

static const char *const sq_text[SQ_COUNT] = {
    [SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_USER_VERSION] = "PRAGMA user_version",
    [SQ_ROOM_INSERT] =
	"INSERT INTO rooms (" ROOM_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_ROOM_UPDATE] = "UPDATE rooms SET pin = ?2, moderator_pin = ?3,"
		       " max_participants = ?4, locked = ?5 WHERE name = ?1",
    [SQ_ROOM_GET] = "SELECT " ROOM_COLS " FROM rooms WHERE name = ?1",
    [SQ_ROOM_DELETE] = "DELETE FROM rooms WHERE name = ?1",
    [SQ_ROOM_EACH] = "SELECT " ROOM_COLS " FROM rooms ORDER BY name",
    [SQ_USER_SET] =
	"INSERT INTO users (user, realm, ha1) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (user, realm) DO UPDATE SET ha1 = excluded.ha1",
    [SQ_USER_HA1] = "SELECT ha1 FROM users WHERE user = ?1 AND realm = ?2",
    [SQ_USER_DELETE] = "DELETE FROM users WHERE user = ?1",
    [SQ_USER_EACH] = "SELECT user, realm FROM users ORDER BY user, realm",
};

int store_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
		    rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT)
			return -EEXIST;
		return -EINVAL; /* CHECK, NOT NULL, DATATYPE: bad input */
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	default:
		return -EIO;
	}
}

int store_stmt_done(sqlite3_stmt *st, int err)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return err;
}

int store_change(struct store *s, sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int err = store_err(rc);
	if (!err && sqlite3_changes(s->db) == 0)
		err = -ENOENT;
	return store_stmt_done(st, err);
}

int store_each_row(sqlite3_stmt *st, store_row_fn *row, void *arg)
{
	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	int ret = 0, rc = SQLITE_DONE;
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = row(st, arg);
	if (!ret && rc != SQLITE_DONE)
		ret = store_err(rc);
	return store_stmt_done(st, ret);
}

int store_column_text(sqlite3_stmt *st, int col, char *buf, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	if (!t || n < 0 || (size_t)n >= size || memchr(t, '\0', (size_t)n))
		return -EIO;
	memcpy(buf, t, (size_t)n);
	buf[n] = '\0';
	return 0;
}

bool store_name_ok(const char *s)
{
	if (!s)
		return false;
	size_t n = strnlen(s, STORE_NAME_MAX + 1);
	if (n < 1 || n > STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static int exec(sqlite3 *db, const char *sql)
{
	return store_err(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

/* Runs a one-row, one-column statement (a PRAGMA) and returns its value. */
static int query_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*out = sqlite3_column_int(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -EIO : store_err(rc);
}

/* mkdir -p with mode 0750 for what is created; -ENOTDIR if path or one of
 * its parents exists but is not a directory. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = c;
	}
	struct stat sb;
	if (stat(path, &sb) != 0)
		return -errno;
	return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

/* Creates an empty database file with our mode, rather than SQLite's 0644,
 * and makes its directory entry durable. Leaves an existing file alone.
 * SQLite gives the -wal and -shm files the mode of the database. */
static int create_file(const char *dir, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	int err = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err ? err : -errno;
	if (fsync(dfd) != 0 && !err)
		err = -errno;
	close(dfd);
	return err;
}

/* The file's schema version, read without writing anything; -EPROTO when
 * it is newer than ours. */
static int check_version(sqlite3 *db)
{
	int v = 0;
	int err = query_int(db, "PRAGMA user_version", &v);
	if (err)
		return err;
	if (v < 0 || v > SCHEMA_VERSION) {
		log_debug("store", "schema version %d, newest known is %d", v,
			  SCHEMA_VERSION);
		return -EPROTO;
	}
	return 0;
}

static int set_pragmas(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc =
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	bool wal = rc == SQLITE_ROW &&
		   sqlite3_stricmp((const char *)sqlite3_column_text(st, 0),
				   "wal") == 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_err(rc);
	if (!wal)
		return -ENOTSUP; /* no shared memory on this file system */
	int err = exec(db, "PRAGMA synchronous = FULL");
	if (!err)
		err = exec(db, "PRAGMA foreign_keys = ON");
	return err;
}

/* Applies the migrations after the file's version, one transaction each.
 * The version is read again under the write lock, in case another process
 * migrated the file in the meantime. */
static int migrate(sqlite3 *db)
{
	for (;;) {
		int v = 0;
		int err = exec(db, "BEGIN IMMEDIATE");
		if (err)
			return err;
		err = query_int(db, "PRAGMA user_version", &v);
		if (!err && (v < 0 || v > SCHEMA_VERSION))
			err = -EPROTO;
		if (!err && v == SCHEMA_VERSION) {
			exec(db, "ROLLBACK");
			return 0;
		}
		if (!err)
			err = exec(db, migrations[v]);
		if (!err) {
			char sql[48];
			snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
				 v + 1);
			err = exec(db, sql);
		}
		if (!err)
			err = exec(db, "COMMIT");
		if (err) {
			exec(db, "ROLLBACK");
			return err;
		}
		log_debug("store", "schema migrated to version %d", v + 1);
	}
}

static int prepare_all(struct store *s)
{
	for (int i = 0; i < SQ_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, sq_text[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &s->sq[i], NULL);
		if (rc != SQLITE_OK) {
			log_debug("store", "prepare: %s",
				  sqlite3_errmsg(s->db));
			return store_err(rc);
		}
	}
	return 0;
}

static int open_db(struct store *s, const char *path)
{
	int rc =
	    sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
				SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			    NULL);
	if (rc != SQLITE_OK)
		return store_err(rc);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if (sqlite3_db_readonly(s->db, "main") != 0)
		return -EACCES;
	return 0;
}

int store_open(struct store **out, const char *data_dir)
{
	char path[PATH_MAX];
	if (!out || !data_dir || !*data_dir)
		return -EINVAL;
	if (sqlite3_libversion_number() < MIN_SQLITE_VERSION)
		return -ENOTSUP;
	int n = snprintf(path, sizeof(path), "%s/" DB_FILE, data_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	int err = make_dirs(data_dir);
	if (!err)
		err = create_file(data_dir, path);
	if (err)
		return err;

	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = open_db(s, path);
	if (!err)
		err = check_version(s->db);
	if (!err)
		err = set_pragmas(s->db);
	if (!err)
		err = migrate(s->db);
	if (!err)
		err = prepare_all(s);
	if (err)
		goto fail;
	*out = s;
	return 0;
fail:
	log_debug("store", "open %s: %s", path, strerror(-err));
	store_close(s);
	return err;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < SQ_COUNT; i++)
		sqlite3_finalize(s->sq[i]);
	sqlite3_close(s->db);
	free(s);
}

void store_set_busy_timeout_ms(struct store *s, unsigned ms)
{
	if (s)
		sqlite3_busy_timeout(s->db, ms > INT_MAX ? INT_MAX : (int)ms);
}

int store_check_writable(struct store *s)
{
	if (!s)
		return -EINVAL;
	if (sqlite3_db_readonly(s->db, "main") != 0)
		return -EACCES;
	if (!sqlite3_get_autocommit(s->db))
		return -EBUSY; /* a transaction is open: never between calls */
	int err = store_err(sqlite3_step(s->sq[SQ_BEGIN_IMMEDIATE]));
	store_stmt_done(s->sq[SQ_BEGIN_IMMEDIATE], 0);
	if (err)
		return err;
	int rb = store_err(sqlite3_step(s->sq[SQ_ROLLBACK]));
	return store_stmt_done(s->sq[SQ_ROLLBACK], rb);
}

int store_schema_version(struct store *s)
{
	if (!s)
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_USER_VERSION];
	int rc = sqlite3_step(st);
	int v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : store_err(rc);
	if (rc == SQLITE_DONE)
		v = -EIO;
	return store_stmt_done(st, v);
}

const char *store_sqlite_version(void)
{
	return sqlite3_libversion();
}
