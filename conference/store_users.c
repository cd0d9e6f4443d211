/* store_users.c: the SIP users allowed to REGISTER, for digest
 * authentication. Only HA1 = MD5(user:realm:password) is kept, never the
 * password; a user may have one HA1 per realm. Signalling thread only; see
 * store.h. */
#include <errno.h>
#include <string.h>

#include "conference/store_db.h"

/* 1..128 printable ASCII characters. */
static bool realm_ok(const char *s)
{
	if (!s)
		return false;
	size_t n = strnlen(s, STORE_REALM_MAX + 1);
	if (n < 1 || n > STORE_REALM_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* Exactly 32 lowercase hex digits. */
static bool ha1_ok(const char *s)
{
	if (!s || strnlen(s, STORE_HA1_LEN + 1) != STORE_HA1_LEN)
		return false;
	for (size_t i = 0; i < STORE_HA1_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int store_user_set(struct store *s, const char *user, const char *realm,
		   const char *ha1_hex)
{
	if (!s || !store_name_ok(user) || !realm_ok(realm) || !ha1_ok(ha1_hex))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_USER_SET];
	int rc = sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, realm, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, ha1_hex, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return store_stmt_done(st, store_err(rc));
}

int store_user_ha1(struct store *s, const char *user, const char *realm,
		   char out[STORE_HA1_LEN + 1])
{
	if (!s || !out || !store_name_ok(user) || !realm_ok(realm))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_USER_HA1];
	char ha1[STORE_HA1_LEN + 1];
	int rc = sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, realm, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int err = rc == SQLITE_ROW ? store_column_text(st, 0, ha1, sizeof(ha1))
		  : rc == SQLITE_DONE ? -ENOENT
				      : store_err(rc);
	if (!err && !ha1_ok(ha1))
		err = -EIO;
	if (!err)
		memcpy(out, ha1, sizeof(ha1));
	return store_stmt_done(st, err);
}

int store_user_delete(struct store *s, const char *user)
{
	if (!s || !store_name_ok(user))
		return -EINVAL;
	sqlite3_stmt *st = s->sq[SQ_USER_DELETE];
	return store_change(s, st,
			    sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC));
}

struct user_walk {
	store_user_fn fn;
	void *arg;
};

static int user_row(sqlite3_stmt *st, void *arg)
{
	struct user_walk *w = arg;
	char user[STORE_NAME_MAX + 1], realm[STORE_REALM_MAX + 1];
	int err = store_column_text(st, 0, user, sizeof(user));
	if (!err)
		err = store_column_text(st, 1, realm, sizeof(realm));
	return err ? err : w->fn(w->arg, user, realm);
}

int store_user_each(struct store *s, store_user_fn fn, void *arg)
{
	if (!s || !fn)
		return -EINVAL;
	struct user_walk w = {fn, arg};
	return store_each_row(s->sq[SQ_USER_EACH], user_row, &w);
}
