/* test_store.c: the SQLite room store: rooms and users, input checks,
 * persistence, schema versions and migration, durability when the writer is
 * SIGKILLed mid-stream, and lock contention. Every test works in its own
 * directory under /tmp and removes it at the end. The tests open the file
 * with SQLite directly where they need to look behind the store's back. */
#include "conference/store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conference/store_db.h"
#include "unit.h"

#define HA1_A "0123456789abcdef0123456789abcdef"
#define HA1_B "fedcba9876543210fedcba9876543210"

/* ---- helpers ------------------------------------------------------------ */

static void tmp_dir(char dir[64])
{
	strcpy(dir, "/tmp/tutti-store-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *dir)
{
	chmod(dir, 0700);
	CU_ASSERT_EQUAL(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void db_path(const char *dir, char path[128])
{
	snprintf(path, 128, "%s/tutti.db", dir);
}

static struct store *open_ok(const char *dir)
{
	struct store *s = NULL;
	int err = store_open(&s, dir);
	CU_ASSERT_EQUAL(err, 0);
	if (err) {
		fprintf(stderr, "store_open(%s): %s\n", dir, strerror(-err));
		exit(2);
	}
	return s;
}

static struct store_room room(const char *name, const char *pin, unsigned max,
			      bool locked)
{
	struct store_room r;
	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.pin, sizeof(r.pin), "%s", pin);
	r.max_participants = max;
	r.locked = locked;
	return r;
}

/* Runs SQL on the file with SQLite directly, bypassing the store. */
static int sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

/* The first column of the first row of sql, as text, into out. */
static int sql_text(const char *path, const char *sql, char *out, size_t n)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out, n, "%s",
			 (const char *)sqlite3_column_text(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

static bool integrity_ok(const char *path)
{
	char res[256] = "";
	int rc = sql_text(path, "PRAGMA integrity_check", res, sizeof(res));
	if (rc != SQLITE_OK || strcmp(res, "ok") != 0)
		fprintf(stderr, "integrity_check: rc %d, %s\n", rc, res);
	return rc == SQLITE_OK && strcmp(res, "ok") == 0;
}

/* The whole file into a malloc'd buffer; *len set. NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	return buf;
}

static bool file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct listing {
	int n, stop_at;
	char names[16][80];
};

static int list_room(void *arg, const struct store_room *r)
{
	struct listing *l = arg;
	if (l->n < 16)
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", r->name);
	l->n++;
	return l->n == l->stop_at ? 7 : 0;
}

static int list_user(void *arg, const char *user, const char *realm)
{
	struct listing *l = arg;
	if (l->n < 16)
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s@%s", user,
			 realm);
	l->n++;
	return l->n == l->stop_at ? 7 : 0;
}

static int count_rooms(struct store *s)
{
	struct listing l = {0};
	CU_ASSERT_EQUAL(store_room_each(s, list_room, &l), 0);
	return l.n;
}

static int count_users(struct store *s)
{
	struct listing l = {0};
	CU_ASSERT_EQUAL(store_user_each(s, list_user, &l), 0);
	return l.n;
}

/* ---- rooms -------------------------------------------------------------- */

static void test_rooms_crud(void)
{
	char dir[64];
	tmp_dir(dir);
	struct store *s = open_ok(dir);

	struct store_room r = room("alpha", "1234", 10, false), got;
	strcpy(r.moderator_pin, "9999");
	int64_t before = now_ms();
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	int64_t after = now_ms();
	CU_ASSERT_EQUAL(store_room_get(s, "alpha", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.name, "alpha");
	CU_ASSERT_STRING_EQUAL(got.pin, "1234");
	CU_ASSERT_STRING_EQUAL(got.moderator_pin, "9999");
	CU_ASSERT_EQUAL(got.max_participants, 10);
	CU_ASSERT_FALSE(got.locked);
	CU_ASSERT_TRUE(got.created_unix_ms >= before &&
		       got.created_unix_ms <= after);
	int64_t created = got.created_unix_ms;

	struct store_room u = room("alpha", "", 4000000000u, true);
	u.created_unix_ms = 5; /* ignored by update */
	CU_ASSERT_EQUAL(store_room_update(s, &u), 0);
	CU_ASSERT_EQUAL(store_room_get(s, "alpha", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.pin, "");
	CU_ASSERT_STRING_EQUAL(got.moderator_pin, "");
	CU_ASSERT_EQUAL(got.max_participants, 4000000000u);
	CU_ASSERT_TRUE(got.locked);
	CU_ASSERT_EQUAL(got.created_unix_ms, created);

	struct store_room b = room("beta", "", 0, false);
	b.created_unix_ms = 1234;
	CU_ASSERT_EQUAL(store_room_create(s, &b), 0);
	CU_ASSERT_EQUAL(store_room_get(s, "beta", &got), 0);
	CU_ASSERT_EQUAL(got.created_unix_ms, 1234);
	r = room("Gamma", "0", 0, false);
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	char longest[STORE_NAME_MAX + 1];
	memset(longest, 'z', STORE_NAME_MAX);
	longest[STORE_NAME_MAX] = '\0';
	r = room(longest, "12345678901234567890123456789012", 1, false);
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	r = room("a.b-c_d", "", 0, false);
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);

	struct listing l = {0};
	CU_ASSERT_EQUAL(store_room_each(s, list_room, &l), 0);
	CU_ASSERT_EQUAL(l.n, 5);
	CU_ASSERT_STRING_EQUAL(l.names[0], "Gamma"); /* byte order */
	CU_ASSERT_STRING_EQUAL(l.names[1], "a.b-c_d");
	CU_ASSERT_STRING_EQUAL(l.names[2], "alpha");
	CU_ASSERT_STRING_EQUAL(l.names[3], "beta");
	CU_ASSERT_STRING_EQUAL(l.names[4], longest);

	memset(&l, 0, sizeof(l));
	l.stop_at = 2;
	CU_ASSERT_EQUAL(store_room_each(s, list_room, &l), 7);
	CU_ASSERT_EQUAL(l.n, 2);

	CU_ASSERT_EQUAL(store_room_delete(s, "beta"), 0);
	CU_ASSERT_EQUAL(store_room_get(s, "beta", &got), -ENOENT);
	CU_ASSERT_EQUAL(count_rooms(s), 4);
	/* The walk is usable again after a stop. */
	CU_ASSERT_EQUAL(count_rooms(s), 4);

	store_close(s);
	store_close(NULL);
	rm_rf(dir);
}

static void test_rooms_errors(void)
{
	char dir[64];
	tmp_dir(dir);
	struct store *s = open_ok(dir);

	struct store_room r = room("alpha", "1234", 3, false), got;
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	struct store_room dup = room("alpha", "5555", 9, true);
	CU_ASSERT_EQUAL(store_room_create(s, &dup), -EEXIST);
	CU_ASSERT_EQUAL(store_room_get(s, "alpha", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.pin, "1234"); /* the first one stays */
	CU_ASSERT_EQUAL(got.max_participants, 3);

	struct store_room none = room("nobody", "", 0, false);
	CU_ASSERT_EQUAL(store_room_update(s, &none), -ENOENT);
	CU_ASSERT_EQUAL(store_room_delete(s, "nobody"), -ENOENT);
	memset(&got, 0xa5, sizeof(got));
	CU_ASSERT_EQUAL(store_room_get(s, "nobody", &got), -ENOENT);
	CU_ASSERT_EQUAL((unsigned char)got.name[0], 0xa5); /* untouched */

	static const char *const bad_names[] = {
	    "",
	    "a b",
	    "a/b",
	    "a:b",
	    "a\n",
	    "\xc3\xa4",
	    "a@b",
	    "a%2e",
	    "a\\b",
	    "65 chars: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	    NULL};
	for (int i = 0; bad_names[i]; i++) {
		struct store_room b;
		memset(&b, 0, sizeof(b));
		snprintf(b.name, sizeof(b.name), "%s", bad_names[i]);
		CU_ASSERT_EQUAL(store_room_create(s, &b), -EINVAL);
		CU_ASSERT_EQUAL(store_room_update(s, &b), -EINVAL);
		CU_ASSERT_EQUAL(store_room_get(s, bad_names[i], &got), -EINVAL);
		CU_ASSERT_EQUAL(store_room_delete(s, bad_names[i]), -EINVAL);
	}
	char name65[66];
	memset(name65, 'a', 65);
	name65[65] = '\0';
	CU_ASSERT_EQUAL(store_room_get(s, name65, &got), -EINVAL);
	CU_ASSERT_EQUAL(store_room_delete(s, name65), -EINVAL);
	struct store_room b = room("ok", "", 0, false);
	memset(b.name, 'a', sizeof(b.name)); /* no terminating NUL */
	CU_ASSERT_EQUAL(store_room_create(s, &b), -EINVAL);

	static const char *const bad_pins[] = {"12a", "-1",	  " 1",	 "1 ",
					       "+1",  "\xd9\xa1", "0x1", NULL};
	for (int i = 0; bad_pins[i]; i++) {
		b = room("ok", bad_pins[i], 0, false);
		CU_ASSERT_EQUAL(store_room_create(s, &b), -EINVAL);
		b = room("alpha", "", 0, false);
		snprintf(b.moderator_pin, sizeof(b.moderator_pin), "%s",
			 bad_pins[i]);
		CU_ASSERT_EQUAL(store_room_update(s, &b), -EINVAL);
	}
	b = room("ok", "", 0, false);
	memset(b.pin, '1', sizeof(b.pin)); /* 33 digits, no NUL */
	CU_ASSERT_EQUAL(store_room_create(s, &b), -EINVAL);
	b = room("ok", "", 0, false);
	b.created_unix_ms = -1;
	CU_ASSERT_EQUAL(store_room_create(s, &b), -EINVAL);

	CU_ASSERT_EQUAL(store_room_create(NULL, &r), -EINVAL);
	CU_ASSERT_EQUAL(store_room_create(s, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_room_update(s, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_room_get(s, NULL, &got), -EINVAL);
	CU_ASSERT_EQUAL(store_room_get(s, "alpha", NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_room_delete(s, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_room_each(s, NULL, NULL), -EINVAL);

	/* Nothing above was written. */
	CU_ASSERT_EQUAL(count_rooms(s), 1);
	CU_ASSERT_EQUAL(store_room_get(s, "alpha", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.pin, "1234");
	CU_ASSERT_FALSE(got.locked);

	store_close(s);
	rm_rf(dir);
}

struct reenter {
	struct store *s;
	int inner, got;
};

static int reenter_room(void *arg, const struct store_room *r)
{
	struct reenter *re = arg;
	struct store_room tmp;
	re->inner = store_room_each(re->s, list_room, &(struct listing){0});
	re->got = store_room_get(re->s, r->name, &tmp);
	return 0;
}

static void test_rooms_each_reentry(void)
{
	char dir[64];
	tmp_dir(dir);
	struct store *s = open_ok(dir);
	struct store_room r = room("one", "", 0, false);
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	struct reenter re = {s, 1, 1};
	CU_ASSERT_EQUAL(store_room_each(s, reenter_room, &re), 0);
	CU_ASSERT_EQUAL(re.inner, -EBUSY);
	CU_ASSERT_EQUAL(re.got, 0);
	store_close(s);
	rm_rf(dir);
}

/* ---- users -------------------------------------------------------------- */

struct reenter_user {
	struct store *s;
	int inner;
};

static int reenter_user(void *arg, const char *user, const char *realm)
{
	struct reenter_user *ru = arg;
	(void)user;
	(void)realm;
	ru->inner = store_user_each(ru->s, list_user, &(struct listing){0});
	return 0;
}

static void test_users(void)
{
	char dir[64];
	tmp_dir(dir);
	struct store *s = open_ok(dir);
	char ha1[STORE_HA1_LEN + 1];

	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", ha1), -ENOENT);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", HA1_A), 0);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", ha1), 0);
	CU_ASSERT_STRING_EQUAL(ha1, HA1_A);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", HA1_B), 0);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", ha1), 0);
	CU_ASSERT_STRING_EQUAL(ha1, HA1_B);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "example.org", HA1_A), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "bob", "tutti", HA1_A), 0);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "example.org", ha1), 0);
	CU_ASSERT_STRING_EQUAL(ha1, HA1_A);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "other", ha1), -ENOENT);

	struct listing l = {0};
	CU_ASSERT_EQUAL(store_user_each(s, list_user, &l), 0);
	CU_ASSERT_EQUAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.names[0], "alice@example.org");
	CU_ASSERT_STRING_EQUAL(l.names[1], "alice@tutti");
	CU_ASSERT_STRING_EQUAL(l.names[2], "bob@tutti");
	/* A callback stops the walk with its own value; the statement is
	 * reset, so that the next walk starts from the first user again. */
	struct listing part = {.stop_at = 2};
	CU_ASSERT_EQUAL(store_user_each(s, list_user, &part), 7);
	CU_ASSERT_EQUAL(part.n, 2);
	CU_ASSERT_EQUAL(count_users(s), 3);
	struct reenter_user ru = {s, 1};
	CU_ASSERT_EQUAL(store_user_each(s, reenter_user, &ru), 0);
	CU_ASSERT_EQUAL(ru.inner, -EBUSY);

	CU_ASSERT_EQUAL(store_user_delete(s, "alice"), 0); /* every realm */
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", ha1), -ENOENT);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "example.org", ha1),
			-ENOENT);
	CU_ASSERT_EQUAL(store_user_delete(s, "alice"), -ENOENT);
	CU_ASSERT_EQUAL(count_users(s), 1);

	store_close(s);
	rm_rf(dir);
}

static void test_users_errors(void)
{
	char dir[64];
	tmp_dir(dir);
	struct store *s = open_ok(dir);
	char ha1[STORE_HA1_LEN + 1];
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", HA1_A), 0);

	static const char *const bad_ha1[] = {
	    "",
	    "0123456789ABCDEF0123456789abcdef",	 /* upper case */
	    "0123456789abcdef0123456789abcde",	 /* 31 */
	    "0123456789abcdef0123456789abcdef0", /* 33 */
	    "0123456789abcdefg123456789abcdef",
	    "0123456789abcdef 123456789abcdef",
	    NULL};
	for (int i = 0; bad_ha1[i]; i++)
		CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", bad_ha1[i]),
				-EINVAL);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", NULL), -EINVAL);

	char realm129[130];
	memset(realm129, 'r', 129);
	realm129[129] = '\0';
	static const char *const bad_realms[] = {
	    "", "a\nb", "tab\there", "del\x7f", "\xc3\xa4", NULL};
	for (int i = 0; bad_realms[i]; i++) {
		CU_ASSERT_EQUAL(
		    store_user_set(s, "carol", bad_realms[i], HA1_A), -EINVAL);
		CU_ASSERT_EQUAL(store_user_ha1(s, "alice", bad_realms[i], ha1),
				-EINVAL);
	}
	CU_ASSERT_EQUAL(store_user_set(s, "carol", realm129, HA1_A), -EINVAL);
	CU_ASSERT_EQUAL(store_user_set(s, "carol", NULL, HA1_A), -EINVAL);
	realm129[128] = '\0'; /* 128 is the longest allowed */
	CU_ASSERT_EQUAL(store_user_set(s, "carol", realm129, HA1_A), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "carol", "sip realm \"x\": y", HA1_A),
			0);

	static const char *const bad_users[] = {"",    "a b",	   "al:ice",
						"a@b", "\xc3\xa4", NULL};
	for (int i = 0; bad_users[i]; i++) {
		CU_ASSERT_EQUAL(store_user_set(s, bad_users[i], "tutti", HA1_A),
				-EINVAL);
		CU_ASSERT_EQUAL(store_user_ha1(s, bad_users[i], "tutti", ha1),
				-EINVAL);
		CU_ASSERT_EQUAL(store_user_delete(s, bad_users[i]), -EINVAL);
	}
	CU_ASSERT_EQUAL(store_user_set(s, NULL, "tutti", HA1_A), -EINVAL);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_user_each(s, NULL, NULL), -EINVAL);

	CU_ASSERT_EQUAL(count_users(s), 3);
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", ha1), 0);
	CU_ASSERT_STRING_EQUAL(ha1, HA1_A);

	store_close(s);
	rm_rf(dir);
}

/* ---- files, versions, migrations ---------------------------------------- */

static void test_persistence_and_modes(void)
{
	char dir[64], sub[80], path[128];
	tmp_dir(dir);
	snprintf(sub, sizeof(sub), "%s/a/b/data", dir);
	mode_t old = umask(022);
	struct store *s = open_ok(sub);
	umask(old);

	struct store_room r = room("kept", "42", 7, true), got;
	strcpy(r.moderator_pin, "4242");
	r.created_unix_ms = 1700000000123;
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", HA1_A), 0);
	store_close(s);

	struct stat sb;
	CU_ASSERT_EQUAL(stat(sub, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0750);
	db_path(sub, path);
	CU_ASSERT_EQUAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_mode & 0777, 0640);

	s = open_ok(sub);
	CU_ASSERT_EQUAL(store_schema_version(s), 1);
	CU_ASSERT_EQUAL(store_room_get(s, "kept", &got), 0);
	CU_ASSERT_EQUAL(memcmp(&got, &r, sizeof(r)), 0);
	char ha1[STORE_HA1_LEN + 1];
	CU_ASSERT_EQUAL(store_user_ha1(s, "alice", "tutti", ha1), 0);
	CU_ASSERT_STRING_EQUAL(ha1, HA1_A);
	store_close(s);

	char mode[16] = "";
	CU_ASSERT_EQUAL(
	    sql_text(path, "PRAGMA journal_mode", mode, sizeof(mode)),
	    SQLITE_OK);
	CU_ASSERT_STRING_EQUAL(mode, "wal");
	rm_rf(dir);
}

static void test_open_errors(void)
{
	char dir[64], file[128];
	tmp_dir(dir);
	struct store *s = (struct store *)&s;
	CU_ASSERT_EQUAL(store_open(NULL, dir), -EINVAL);
	CU_ASSERT_EQUAL(store_open(&s, NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_open(&s, ""), -EINVAL);
	snprintf(file, sizeof(file), "%s/plain", dir);
	CU_ASSERT_EQUAL(sql_exec(file, "SELECT 1"), SQLITE_OK); /* a file */
	CU_ASSERT_EQUAL(store_open(&s, file), -ENOTDIR);
	CU_ASSERT_PTR_EQUAL(s, (struct store *)&s); /* untouched */
	CU_ASSERT_EQUAL(store_check_writable(NULL), -EINVAL);
	CU_ASSERT_EQUAL(store_schema_version(NULL), -EINVAL);
	rm_rf(dir);
}

static void test_newer_version_refused(void)
{
	char dir[64], path[128], wal[140];
	tmp_dir(dir);
	db_path(dir, path);
	CU_ASSERT_EQUAL(sql_exec(path, "CREATE TABLE future (x TEXT);"
				       "INSERT INTO future VALUES ('y');"
				       "PRAGMA user_version = 99;"),
			SQLITE_OK);
	size_t n0 = 0, n1 = 0;
	char *before = slurp(path, &n0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);

	struct store *s = NULL;
	CU_ASSERT_EQUAL(store_open(&s, dir), -EPROTO);
	CU_ASSERT_PTR_NULL(s);

	char *after = slurp(path, &n1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_EQUAL(n0, n1);
	CU_ASSERT_TRUE(n0 == n1 && memcmp(before, after, n0) == 0);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	CU_ASSERT_FALSE(file_exists(wal));
	char mode[16] = "";
	CU_ASSERT_EQUAL(
	    sql_text(path, "PRAGMA journal_mode", mode, sizeof(mode)),
	    SQLITE_OK);
	CU_ASSERT_STRING_EQUAL(mode, "delete");
	free(before);
	free(after);
	rm_rf(dir);
}

static void test_not_a_database(void)
{
	char dir[64], path[128];
	tmp_dir(dir);
	db_path(dir, path);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (int i = 0; i < 512; i++)
		fputs("not a database!\n", f);
	fclose(f);
	size_t n0 = 0, n1 = 0;
	char *before = slurp(path, &n0);
	struct store *s = NULL;
	CU_ASSERT_EQUAL(store_open(&s, dir), -EIO);
	CU_ASSERT_PTR_NULL(s);
	char *after = slurp(path, &n1);
	CU_ASSERT_TRUE(before && after && n0 == n1 &&
		       memcmp(before, after, n0) == 0);
	free(before);
	free(after);
	rm_rf(dir);
}

static void migrate_from(const char *dir)
{
	struct store *s = open_ok(dir);
	CU_ASSERT_EQUAL(store_schema_version(s), 1);
	struct store_room r = room("after-migration", "", 0, false);
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", HA1_A), 0);
	store_close(s);
	s = open_ok(dir); /* already current: nothing to do */
	CU_ASSERT_EQUAL(store_schema_version(s), 1);
	CU_ASSERT_EQUAL(count_rooms(s), 1);
	store_close(s);
}

static void test_migrate_old_version(void)
{
	char dir[64], path[128], v[16] = "";
	/* A version-0 database with a header and no tables. */
	tmp_dir(dir);
	db_path(dir, path);
	CU_ASSERT_EQUAL(sql_exec(path, "PRAGMA page_size = 1024;"
				       "CREATE TABLE t (x); DROP TABLE t;"),
			SQLITE_OK);
	CU_ASSERT_EQUAL(sql_text(path, "PRAGMA user_version", v, sizeof(v)),
			SQLITE_OK);
	CU_ASSERT_STRING_EQUAL(v, "0");
	migrate_from(dir);
	CU_ASSERT_EQUAL(sql_text(path, "PRAGMA user_version", v, sizeof(v)),
			SQLITE_OK);
	CU_ASSERT_STRING_EQUAL(v, "1");
	CU_ASSERT_TRUE(integrity_ok(path));
	rm_rf(dir);

	/* An empty file, as a crash right after creating it would leave. */
	tmp_dir(dir);
	db_path(dir, path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CU_ASSERT_TRUE(fd >= 0);
	close(fd);
	migrate_from(dir);
	CU_ASSERT_TRUE(integrity_ok(path));
	rm_rf(dir);
}

static void test_integrity_after_many_writes(void)
{
	char dir[64], path[128], name[32];
	tmp_dir(dir);
	db_path(dir, path);
	struct store *s = open_ok(dir);
	int expect = 0;
	for (int i = 0; i < 600; i++) {
		struct store_room r = room("", "", (unsigned)i, i % 2);
		snprintf(r.name, sizeof(r.name), "room-%04d", i);
		CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
		expect++;
		if (i % 2 == 0) {
			strcpy(r.pin, "777");
			CU_ASSERT_EQUAL(store_room_update(s, &r), 0);
		}
		if (i % 3 == 0) {
			CU_ASSERT_EQUAL(store_room_delete(s, r.name), 0);
			expect--;
		}
		snprintf(name, sizeof(name), "user%d", i % 50);
		CU_ASSERT_EQUAL(
		    store_user_set(s, name, "tutti", i % 2 ? HA1_A : HA1_B), 0);
	}
	CU_ASSERT_EQUAL(count_rooms(s), expect);
	CU_ASSERT_EQUAL(count_users(s), 50);
	CU_ASSERT_TRUE(integrity_ok(path)); /* while the store is open */
	store_close(s);
	CU_ASSERT_TRUE(integrity_ok(path));
	s = open_ok(dir);
	CU_ASSERT_EQUAL(count_rooms(s), expect);
	struct store_room got;
	CU_ASSERT_EQUAL(store_room_get(s, "room-0598", &got), 0);
	CU_ASSERT_STRING_EQUAL(got.pin, "777");
	CU_ASSERT_EQUAL(got.max_participants, 598);
	CU_ASSERT_EQUAL(store_room_get(s, "room-0597", &got), -ENOENT);
	store_close(s);
	rm_rf(dir);
}

/* ---- durability --------------------------------------------------------- */

#define CRASH_ROOMS   100000
#define CRASH_KILL_AT 150

/* The child: creates rooms one by one and reports each name on the pipe
 * only after store_room_create() returned 0. */
static void crash_child(const char *dir, int wfd)
{
	struct store *s = NULL;
	if (store_open(&s, dir) != 0)
		_exit(3);
	for (int i = 0; i < CRASH_ROOMS; i++) {
		struct store_room r = room("", "1234", 5, false);
		char line[80];
		snprintf(r.name, sizeof(r.name), "crash-%06d", i);
		if (store_room_create(s, &r) != 0)
			_exit(4);
		int n = snprintf(line, sizeof(line), "%s\n", r.name);
		if (write(wfd, line, (size_t)n) != n) /* atomic: < PIPE_BUF */
			_exit(5);
	}
	_exit(6);
}

static void test_crash_durability(void)
{
	char dir[64], path[128];
	tmp_dir(dir);
	db_path(dir, path);
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		crash_child(dir, p[1]);
	}
	close(p[1]);

	size_t cap = 1 << 22, len = 0;
	char *buf = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	int lines = 0;
	bool killed = false;
	for (;;) {
		ssize_t n = read(p[0], buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines += buf[len + (size_t)i] == '\n';
		len += (size_t)n;
		if (!killed && lines >= CRASH_KILL_AT) {
			kill(pid, SIGKILL);
			killed = true;
		}
	}
	close(p[0]);
	buf[len] = '\0';
	int status = 0;
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT_TRUE(lines >= CRASH_KILL_AT);

	struct store *s = open_ok(dir);
	int found = 0, missing = 0;
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		struct store_room got;
		if (store_room_get(s, line, &got) == 0 &&
		    strcmp(got.pin, "1234") == 0)
			found++;
		else
			missing++;
	}
	CU_ASSERT_EQUAL(missing, 0);
	CU_ASSERT_EQUAL(found, lines);
	/* At most the one create in flight at the kill may also be there. */
	int n = count_rooms(s);
	CU_ASSERT_TRUE(n == lines || n == lines + 1);
	store_close(s);
	CU_ASSERT_TRUE(integrity_ok(path));
	free(buf);
	rm_rf(dir);
}

/* ---- locks and health --------------------------------------------------- */

static void test_check_writable_busy(void)
{
	char dir[64], path[128];
	tmp_dir(dir);
	db_path(dir, path);
	struct store *s = open_ok(dir);
	CU_ASSERT_EQUAL(store_check_writable(s), 0);
	CU_ASSERT_EQUAL(count_rooms(s), 0); /* check wrote nothing */

	sqlite3 *other = NULL;
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &other), SQLITE_OK);
	/* A reader does not stop a writer in WAL mode. */
	CU_ASSERT_EQUAL(sqlite3_exec(other,
				     "BEGIN; SELECT count(*) FROM rooms;", NULL,
				     NULL, NULL),
			SQLITE_OK);
	CU_ASSERT_EQUAL(store_check_writable(s), 0);
	CU_ASSERT_EQUAL(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
			SQLITE_OK);

	/* A writer does, for as long as the busy timeout. */
	CU_ASSERT_EQUAL(
	    sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL),
	    SQLITE_OK);
	store_set_busy_timeout_ms(s, 200);
	int64_t t0 = now_ms();
	CU_ASSERT_EQUAL(store_check_writable(s), -EBUSY);
	int64_t waited = now_ms() - t0;
	CU_ASSERT_TRUE(waited >= 150 && waited < 3000);
	struct store_room r = room("blocked", "", 0, false);
	CU_ASSERT_EQUAL(store_room_create(s, &r), -EBUSY);
	CU_ASSERT_EQUAL(store_user_set(s, "alice", "tutti", HA1_A), -EBUSY);
	CU_ASSERT_EQUAL(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL),
			SQLITE_OK);
	sqlite3_close(other);

	CU_ASSERT_EQUAL(store_check_writable(s), 0);
	CU_ASSERT_EQUAL(store_room_create(s, &r), 0);
	CU_ASSERT_EQUAL(count_rooms(s), 1);
	store_close(s);
	rm_rf(dir);
}

static void test_read_only_dir(void)
{
	if (geteuid() == 0) {
		fprintf(stderr, "(skipped: root ignores permissions) ");
		return;
	}
	char dir[64], path[128];
	tmp_dir(dir);
	db_path(dir, path);
	struct store *s = open_ok(dir);
	store_close(s);
	CU_ASSERT_EQUAL(chmod(path, 0440), 0);
	CU_ASSERT_EQUAL(chmod(dir, 0550), 0);
	s = NULL;
	CU_ASSERT_EQUAL(store_open(&s, dir), -EACCES);
	CU_ASSERT_PTR_NULL(s);
	chmod(dir, 0750);
	chmod(path, 0640);
	rm_rf(dir);
}

static void test_versions_and_errors(void)
{
	const char *v = store_sqlite_version();
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(strncmp(v, "3.", 2), 0);
	CU_ASSERT_STRING_EQUAL(v, sqlite3_libversion());

	CU_ASSERT_EQUAL(store_err(SQLITE_OK), 0);
	CU_ASSERT_EQUAL(store_err(SQLITE_DONE), 0);
	CU_ASSERT_EQUAL(store_err(SQLITE_CONSTRAINT_PRIMARYKEY), -EEXIST);
	CU_ASSERT_EQUAL(store_err(SQLITE_CONSTRAINT_UNIQUE), -EEXIST);
	CU_ASSERT_EQUAL(store_err(SQLITE_CONSTRAINT_CHECK), -EINVAL);
	CU_ASSERT_EQUAL(store_err(SQLITE_BUSY), -EBUSY);
	CU_ASSERT_EQUAL(store_err(SQLITE_BUSY_SNAPSHOT), -EBUSY);
	CU_ASSERT_EQUAL(store_err(SQLITE_LOCKED), -EBUSY);
	CU_ASSERT_EQUAL(store_err(SQLITE_FULL), -ENOSPC);
	CU_ASSERT_EQUAL(store_err(SQLITE_CORRUPT), -EIO);
	CU_ASSERT_EQUAL(store_err(SQLITE_NOTADB), -EIO);
	CU_ASSERT_EQUAL(store_err(SQLITE_READONLY), -EACCES);
	CU_ASSERT_EQUAL(store_err(SQLITE_CANTOPEN), -EACCES);
	CU_ASSERT_EQUAL(store_err(SQLITE_PERM), -EACCES);
	CU_ASSERT_EQUAL(store_err(SQLITE_IOERR_FSYNC), -EIO);
	CU_ASSERT_EQUAL(store_err(SQLITE_ERROR), -EIO);
}

static const struct unit_test tests[] = {
    {"rooms: create, get, update, delete, list", test_rooms_crud},
    {"rooms: EEXIST, ENOENT, EINVAL", test_rooms_errors},
    {"rooms: walk re-entry", test_rooms_each_reentry},
    {"users: set, replace, get, delete, list", test_users},
    {"users: EINVAL", test_users_errors},
    {"persistence, file and directory modes", test_persistence_and_modes},
    {"open errors", test_open_errors},
    {"newer schema refused, file untouched", test_newer_version_refused},
    {"not a database", test_not_a_database},
    {"old schema migrated", test_migrate_old_version},
    {"integrity after many writes", test_integrity_after_many_writes},
    {"SIGKILL mid-stream loses no acknowledged room", test_crash_durability},
    {"check_writable and lock contention", test_check_writable_busy},
    {"read-only data dir", test_read_only_dir},
    {"versions and error mapping", test_versions_and_errors},
    {NULL, NULL},
};

UNIT_MAIN("store", tests)
