/* sig_digest.c: Digest authentication for the registrar (RFC 2617 /
 * RFC 7616, MD5, qop=auth).
 *
 * Digest is checked here with Sofia-SIP's parser for the Authorization
 * header (auth_digest.h) and its su_md5, but not with its auth_module: in
 * the Sofia-SIP we link (1.12.11) the nonce's HMAC hashes one byte of the
 * inner digest, so that a nonce carries one of only 256 MACs and can be
 * forged; the module keeps no nonce counts, so a captured request can be
 * replayed for as long as its nonce lives; and its response code logs
 * HA1s at debug level. Our nonce is hex(issued seconds, serial, HMAC-MD5
 * of both under a key drawn at start): it cannot be forged, it goes stale
 * after DIGEST_NONCE_LIFETIME_S (401 with stale=true, and the phone
 * retries without asking its user), and every nonce that authenticated a
 * request keeps the highest nonce count it saw, so that a replay is
 * refused as stale. That table is bounded: when it is full, the oldest
 * nonce is dropped and every nonce issued no later than it turns stale. A
 * user who does not exist gets the same 401 as a wrong password, computed
 * against a random HA1.
 *
 * Signalling thread only. The registrar owns the struct sig_digest. */
#include "conference/sig_digest.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/su_md5.h>
#include <sofia-sip/url.h>

#define DIGEST_NONCE_LIFETIME_S 300 /* then stale=true */
#define DIGEST_USED_NONCES	1024
#define DIGEST_KEY_BYTES	64 /* one MD5 block: the HMAC key as is */
#define NONCE_HEX		64 /* 8 + 8 + 16 bytes in hex */
#define NS_PER_S		1000000000ull

/* A nonce that has authenticated a request, and the highest nc it had. */
struct used_nonce {
	uint64_t serial, issued_s;
	uint32_t nc;
};

struct sig_digest {
	uint8_t key[DIGEST_KEY_BYTES];
	char dummy_ha1[STORE_HA1_LEN + 1];
	uint64_t next_serial;
	uint64_t floor_s; /* nonces issued before this are stale */
	struct used_nonce used[DIGEST_USED_NONCES];
	unsigned n_used;
};

static uint64_t now_s(void)
{
	return mono_now_ns() / NS_PER_S;
}

/* ---- nonces -------------------------------------------------------------- */

/* HMAC-MD5 (RFC 2104) with a key of exactly one block. */
static void hmac_md5(const uint8_t key[DIGEST_KEY_BYTES], const void *msg,
		     size_t len, uint8_t out[SU_MD5_DIGEST_SIZE])
{
	uint8_t pad[DIGEST_KEY_BYTES], inner[SU_MD5_DIGEST_SIZE];
	su_md5_t md5;
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = key[i] ^ 0x36;
	su_md5_init(&md5);
	su_md5_update(&md5, pad, sizeof(pad));
	su_md5_update(&md5, msg, len);
	su_md5_digest(&md5, inner);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = key[i] ^ 0x5c;
	su_md5_init(&md5);
	su_md5_update(&md5, pad, sizeof(pad));
	su_md5_update(&md5, inner, sizeof(inner));
	su_md5_digest(&md5, out);
}

static void nonce_mac(const struct sig_digest *d, uint64_t issued_s,
		      uint64_t serial, uint8_t mac[SU_MD5_DIGEST_SIZE])
{
	uint64_t msg[2] = {issued_s, serial};
	hmac_md5(d->key, msg, sizeof(msg), mac);
}

static void nonce_make(struct sig_digest *d, char out[NONCE_HEX + 1])
{
	uint64_t issued = now_s(), serial = d->next_serial++;
	uint8_t mac[SU_MD5_DIGEST_SIZE];
	nonce_mac(d, issued, serial, mac);
	int n = snprintf(out, NONCE_HEX + 1, "%016" PRIx64 "%016" PRIx64,
			 issued, serial);
	for (size_t i = 0; i < sizeof(mac); i++)
		n += snprintf(out + n, NONCE_HEX + 1 - (size_t)n, "%02x",
			      mac[i]);
}

static bool ct_equal(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

static bool hex_field(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int d = ch >= '0' && ch <= '9'	 ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
						 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* -EBADMSG: not one of ours (forged, garbled, from an earlier run);
 * -ETIMEDOUT: ours but past its lifetime or below the floor. */
static int nonce_check(const struct sig_digest *d, const char *nonce,
		       uint64_t *serial_out, uint64_t *issued_out)
{
	uint64_t issued, serial, w;
	uint8_t mac[SU_MD5_DIGEST_SIZE], want[SU_MD5_DIGEST_SIZE];
	if (strlen(nonce) != NONCE_HEX || !hex_field(nonce, 16, &issued) ||
	    !hex_field(nonce + 16, 16, &serial))
		return -EBADMSG;
	for (size_t i = 0; i < sizeof(mac); i++) {
		if (!hex_field(nonce + 32 + 2 * i, 2, &w))
			return -EBADMSG;
		mac[i] = (uint8_t)w;
	}
	nonce_mac(d, issued, serial, want);
	if (!ct_equal(mac, want, sizeof(mac)))
		return -EBADMSG;
	*serial_out = serial;
	*issued_out = issued;
	uint64_t now = now_s();
	if (issued > now || now - issued > DIGEST_NONCE_LIFETIME_S ||
	    issued < d->floor_s)
		return -ETIMEDOUT;
	return 0;
}

/* Records nc for the nonce; false when nc is not above the last one seen
 * (a replay). */
static bool nonce_count(struct sig_digest *d, uint64_t serial, uint64_t issued,
			uint32_t nc)
{
	uint64_t now = now_s();
	for (unsigned i = 0; i < d->n_used;) /* forget expired nonces */
		if (now - d->used[i].issued_s > DIGEST_NONCE_LIFETIME_S)
			d->used[i] = d->used[--d->n_used];
		else
			i++;
	unsigned oldest = 0;
	for (unsigned i = 0; i < d->n_used; i++) {
		struct used_nonce *u = &d->used[i];
		if (u->serial == serial) {
			if (nc <= u->nc)
				return false;
			u->nc = nc;
			return true;
		}
		if (u->issued_s < d->used[oldest].issued_s)
			oldest = i;
	}
	if (d->n_used == DIGEST_USED_NONCES) {
		d->floor_s = d->used[oldest].issued_s + 1;
		d->used[oldest] = d->used[--d->n_used];
		if (issued < d->floor_s)
			return false;
	}
	d->used[d->n_used++] = (struct used_nonce){serial, issued, nc};
	return true;
}

/* ---- digest -------------------------------------------------------------- */

static void md5_hex(char out[33], const char *const parts[], size_t n)
{
	su_md5_t md5;
	su_md5_init(&md5);
	for (size_t i = 0; i < n; i++) {
		if (i)
			su_md5_update(&md5, ":", 1);
		su_md5_strupdate(&md5, parts[i]);
	}
	su_md5_hexdigest(&md5, out);
}

/* The Digest credentials for our realm, parsed into ar (strings in home);
 * -ENOENT when there are none, -EBADMSG when they cannot be parsed. */
static int find_credentials(su_home_t *home, const sip_t *sip,
			    auth_response_t *ar)
{
	for (msg_auth_t *au = sip->sip_authorization; au; au = au->au_next) {
		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") ||
		    !au->au_params)
			continue;
		auth_response_t one = {.ar_size = sizeof(one)};
		if (auth_digest_response_get(home, &one, au->au_params) < 0)
			return -EBADMSG;
		if (one.ar_realm && strcmp(one.ar_realm, SIG_REG_REALM) == 0) {
			*ar = one;
			return 0;
		}
	}
	return -ENOENT;
}

/* The fields RFC 2617 3.2.2 requires, for MD5 and qop absent or auth, and
 * a digest-uri that names the Request-URI. */
static bool credentials_ok(su_home_t *home, const sip_t *sip,
			   const auth_response_t *ar, uint32_t *nc)
{
	uint64_t v = 1;
	if (!ar->ar_username || !ar->ar_nonce || !ar->ar_uri ||
	    !ar->ar_response || strlen(ar->ar_response) != 32)
		return false;
	if (ar->ar_algorithm && strcasecmp(ar->ar_algorithm, "MD5"))
		return false;
	if (ar->ar_qop) {
		if (strcasecmp(ar->ar_qop, "auth") || !ar->ar_cnonce ||
		    !ar->ar_nc || strlen(ar->ar_nc) != 8 ||
		    !hex_field(ar->ar_nc, 8, &v) || v == 0)
			return false;
	}
	*nc = (uint32_t)v; /* without qop, a nonce serves once */
	url_t *u = url_make(home, ar->ar_uri);
	return u && u->url_type != url_any && sip->sip_request &&
	       url_cmp(u, sip->sip_request->rq_url) == 0;
}

void sig_digest_challenge(struct sig_digest *d, bool stale,
			  char out[SIG_DIGEST_CHALLENGE_MAX])
{
	char nonce[NONCE_HEX + 1];
	nonce_make(d, nonce);
	snprintf(out, SIG_DIGEST_CHALLENGE_MAX,
		 "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
		 "qop=\"auth\"%s",
		 SIG_REG_REALM, nonce, stale ? ", stale=true" : "");
}

enum sig_digest_result sig_digest_verify(struct sig_digest *d,
					 struct store *store, const sip_t *sip,
					 char user[STORE_NAME_MAX + 1])
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	auth_response_t ar = {.ar_size = sizeof(ar)};
	enum sig_digest_result res = SIG_DIGEST_CHALLENGE;
	uint64_t serial = 0, issued = 0;
	uint32_t nc = 0;
	int err = find_credentials(home, sip, &ar);
	if (err) {
		res = err == -ENOENT ? SIG_DIGEST_CHALLENGE : SIG_DIGEST_BAD;
		goto out;
	}
	if (!credentials_ok(home, sip, &ar, &nc)) {
		res = SIG_DIGEST_BAD;
		goto out;
	}
	err = nonce_check(d, ar.ar_nonce, &serial, &issued);
	if (err == -EBADMSG)
		goto out; /* a fresh challenge */

	char ha1[STORE_HA1_LEN + 1], resp[33], ha2[33], given[33];
	bool named = room_name_valid(ar.ar_username), known = false;
	if (named && store)
		known =
		    !store_user_ha1(store, ar.ar_username, SIG_REG_REALM, ha1);
	if (!known) /* the same work, bound to fail */
		memcpy(ha1, d->dummy_ha1, sizeof(ha1));
	const char *a2[] = {sip->sip_request->rq_method_name, ar.ar_uri};
	md5_hex(ha2, a2, 2);
	const char *with_qop[] = {ha1,		ar.ar_nonce, ar.ar_nc,
				  ar.ar_cnonce, "auth",	     ha2};
	const char *without[] = {ha1, ar.ar_nonce, ha2};
	if (ar.ar_qop)
		md5_hex(resp, with_qop, 6);
	else
		md5_hex(resp, without, 3);
	for (size_t i = 0; i < 33; i++)
		given[i] = (char)tolower((unsigned char)ar.ar_response[i]);
	if (!ct_equal(resp, given, 32) || !known) {
		log_info("reg", "user=%s call=%s: wrong credentials",
			 named ? ar.ar_username : "?", sip->sip_call_id->i_id);
		goto out;
	}
	if (err == -ETIMEDOUT || !nonce_count(d, serial, issued, nc)) {
		res = SIG_DIGEST_STALE;
		goto out;
	}
	snprintf(user, STORE_NAME_MAX + 1, "%s", ar.ar_username);
	res = SIG_DIGEST_OK;
out:
	su_home_deinit(home);
	return res;
}

/* ---- lifecycle ----------------------------------------------------------- */

int sig_digest_new(struct sig_digest **out)
{
	struct sig_digest *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	uint8_t dummy[16];
	if (getrandom(d->key, sizeof(d->key), 0) != sizeof(d->key) ||
	    getrandom(&d->next_serial, sizeof(d->next_serial), 0) !=
		sizeof(d->next_serial) ||
	    getrandom(dummy, sizeof(dummy), 0) != sizeof(dummy)) {
		sig_digest_free(d);
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(dummy); i++)
		snprintf(d->dummy_ha1 + 2 * i, 3, "%02x", dummy[i]);
	*out = d;
	return 0;
}

void sig_digest_free(struct sig_digest *d)
{
	if (!d)
		return;
	explicit_bzero(d->key, sizeof(d->key));
	free(d);
}
