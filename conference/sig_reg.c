/* sig_reg.c: the registrar (RFC 3261 10.3), so that dial-out and REFER can
 * reach sip:user@bridge at the contact its user registered.
 *
 * Sofia-SIP's nua hands us each REGISTER as nua_i_register because
 * sig_reg_start() makes REGISTER an application method; sig_ua.c lists it
 * in Allow and destroys the handle once we have answered. Users and their
 * HA1 = MD5(user:realm:password) live in the store. The realm is the fixed
 * string SIG_REG_REALM, not our host name: an HA1 binds the realm, and a
 * bridge that moves to another address or name must not lose its users.
 * The bindings (user -> up to REG_MAX_BINDINGS contacts with an expiry)
 * live only in memory, like any location service that a restart may
 * forget: phones register again within their refresh interval. Any host
 * in the Request-URI and To is accepted: the bridge serves one domain,
 * whatever name or address its users dial it by. A REGISTER is
 * authenticated first, then its To user must be the authenticated user
 * (403 otherwise); a user's bindings are kept, refreshed and removed as
 * RFC 3261 10.3 says, and the 200 lists them all with their expiry.
 *
 * Digest (RFC 2617 / RFC 7616, MD5, qop=auth) is checked here with
 * Sofia-SIP's parser for the Authorization header (auth_digest.h) and its
 * su_md5, but not with its auth_module: in the Sofia-SIP we link (1.12.11)
 * the nonce's HMAC hashes one byte of the inner digest, so that a nonce
 * carries one of only 256 MACs and can be forged; the module keeps no
 * nonce counts, so a captured request can be replayed for as long as its
 * nonce lives; and its response code logs HA1s at debug level. Our nonce
 * is hex(issued seconds, serial, HMAC-MD5 of both under a key drawn at
 * start): it cannot be forged, it goes stale after REG_NONCE_LIFETIME_S
 * (401 with stale=true, and the phone retries without asking its user),
 * and every nonce that authenticated a request keeps the highest nonce
 * count it saw, so that a replay is refused as stale. That table is
 * bounded: when it is full, the oldest nonce is dropped and every nonce
 * issued no later than it turns stale. A user who does not exist gets the
 * same 401 as a wrong password, computed against a random HA1.
 *
 * Signalling thread only. struct reg belongs to c->sig and is freed by
 * sig_reg_free(). */
#include "conference/sig.h"
#include "conference/store.h"

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

#define REG_MIN_EXPIRES_S     60
#define REG_MAX_EXPIRES_S     3600
#define REG_DEFAULT_EXPIRES_S 3600
#define REG_MAX_BINDINGS      8	  /* contacts per user */
#define REG_NONCE_LIFETIME_S  300 /* then stale=true */
#define REG_USED_NONCES	      1024
#define REG_URI_MAX	      256
#define REG_KEY_BYTES	      64 /* one MD5 block: the HMAC key as is */
#define NONCE_HEX	      64 /* 8 + 8 + 16 bytes in hex */
#define NS_PER_S	      1000000000ull
#define STR_(x)		      #x
#define STR(x)		      STR_(x)

struct binding {
	char uri[REG_URI_MAX];
	char call_id[128];
	uint32_t cseq;
	uint64_t expires_ns, updated_ns;
};

struct aor {
	struct aor *next;
	char user[STORE_NAME_MAX + 1];
	struct binding b[REG_MAX_BINDINGS];
	unsigned n;
};

/* A nonce that has authenticated a request, and the highest nc it had. */
struct used_nonce {
	uint64_t serial, issued_s;
	uint32_t nc;
};

struct reg {
	struct aor *aors;
	su_timer_t *timer;
	uint8_t key[REG_KEY_BYTES];
	char dummy_ha1[STORE_HA1_LEN + 1];
	uint64_t next_serial;
	uint64_t floor_s; /* nonces issued before this are stale */
	struct used_nonce used[REG_USED_NONCES];
	unsigned n_used;
};

enum auth_result {
	AUTH_OK,
	AUTH_CHALLENGE, /* no or wrong credentials: 401 with a fresh nonce */
	AUTH_STALE,	/* right credentials, old or reused nonce */
	AUTH_BAD,	/* malformed credentials: 400 */
};

/* What one Contact of a REGISTER asks for. */
struct want {
	char uri[REG_URI_MAX];
	const url_t *url;
	uint32_t expires_s; /* 0: remove */
};

static uint64_t now_s(void)
{
	return mono_now_ns() / NS_PER_S;
}

/* ---- nonces -------------------------------------------------------------- */

/* HMAC-MD5 (RFC 2104) with a key of exactly one block. */
static void hmac_md5(const uint8_t key[REG_KEY_BYTES], const void *msg,
		     size_t len, uint8_t out[SU_MD5_DIGEST_SIZE])
{
	uint8_t pad[REG_KEY_BYTES], inner[SU_MD5_DIGEST_SIZE];
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

static void nonce_mac(const struct reg *r, uint64_t issued_s, uint64_t serial,
		      uint8_t mac[SU_MD5_DIGEST_SIZE])
{
	uint64_t msg[2] = {issued_s, serial};
	hmac_md5(r->key, msg, sizeof(msg), mac);
}

static void nonce_make(struct reg *r, char out[NONCE_HEX + 1])
{
	uint64_t issued = now_s(), serial = r->next_serial++;
	uint8_t mac[SU_MD5_DIGEST_SIZE];
	nonce_mac(r, issued, serial, mac);
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
static int nonce_check(const struct reg *r, const char *nonce,
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
	nonce_mac(r, issued, serial, want);
	if (!ct_equal(mac, want, sizeof(mac)))
		return -EBADMSG;
	*serial_out = serial;
	*issued_out = issued;
	uint64_t now = now_s();
	if (issued > now || now - issued > REG_NONCE_LIFETIME_S ||
	    issued < r->floor_s)
		return -ETIMEDOUT;
	return 0;
}

/* Records nc for the nonce; false when nc is not above the last one seen
 * (a replay). */
static bool nonce_count(struct reg *r, uint64_t serial, uint64_t issued,
			uint32_t nc)
{
	uint64_t now = now_s();
	for (unsigned i = 0; i < r->n_used;) /* forget expired nonces */
		if (now - r->used[i].issued_s > REG_NONCE_LIFETIME_S)
			r->used[i] = r->used[--r->n_used];
		else
			i++;
	unsigned oldest = 0;
	for (unsigned i = 0; i < r->n_used; i++) {
		struct used_nonce *u = &r->used[i];
		if (u->serial == serial) {
			if (nc <= u->nc)
				return false;
			u->nc = nc;
			return true;
		}
		if (u->issued_s < r->used[oldest].issued_s)
			oldest = i;
	}
	if (r->n_used == REG_USED_NONCES) {
		r->floor_s = r->used[oldest].issued_s + 1;
		r->used[oldest] = r->used[--r->n_used];
		if (issued < r->floor_s)
			return false;
	}
	r->used[r->n_used++] = (struct used_nonce){serial, issued, nc};
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

static enum auth_result digest_verify(struct conference *c, const sip_t *sip,
				      char user[STORE_NAME_MAX + 1])
{
	struct reg *r = c->sig->reg;
	su_home_t home[1] = {SU_HOME_INIT(home)};
	auth_response_t ar = {.ar_size = sizeof(ar)};
	enum auth_result res = AUTH_CHALLENGE;
	uint64_t serial = 0, issued = 0;
	uint32_t nc = 0;
	int err = find_credentials(home, sip, &ar);
	if (err) {
		res = err == -ENOENT ? AUTH_CHALLENGE : AUTH_BAD;
		goto out;
	}
	if (!credentials_ok(home, sip, &ar, &nc)) {
		res = AUTH_BAD;
		goto out;
	}
	err = nonce_check(r, ar.ar_nonce, &serial, &issued);
	if (err == -EBADMSG)
		goto out; /* a fresh challenge */

	char ha1[STORE_HA1_LEN + 1], resp[33], ha2[33], given[33];
	bool named = room_name_valid(ar.ar_username), known = false;
	if (named && c->store)
		known = !store_user_ha1(c->store, ar.ar_username, SIG_REG_REALM,
					ha1);
	if (!known) /* the same work, bound to fail */
		memcpy(ha1, r->dummy_ha1, sizeof(ha1));
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
	if (err == -ETIMEDOUT || !nonce_count(r, serial, issued, nc)) {
		res = AUTH_STALE;
		goto out;
	}
	snprintf(user, STORE_NAME_MAX + 1, "%s", ar.ar_username);
	res = AUTH_OK;
out:
	su_home_deinit(home);
	return res;
}

/* ---- bindings ------------------------------------------------------------ */

static struct aor *aor_find(struct reg *r, const char *user)
{
	for (struct aor *a = r->aors; a; a = a->next)
		if (strcmp(a->user, user) == 0)
			return a;
	return NULL;
}

static void aor_remove_binding(struct aor *a, unsigned i)
{
	a->b[i] = a->b[--a->n];
}

/* Frees the users left without bindings. */
static void aors_prune(struct reg *r)
{
	for (struct aor **pp = &r->aors; *pp;) {
		struct aor *a = *pp;
		if (a->n == 0) {
			*pp = a->next;
			free(a);
		} else {
			pp = &a->next;
		}
	}
}

static void on_expiry(struct conference *c, su_timer_t *t,
		      struct conference *arg);

static void timer_arm(struct conference *c)
{
	struct reg *r = c->sig->reg;
	uint64_t next = UINT64_MAX, now = mono_now_ns();
	for (struct aor *a = r->aors; a; a = a->next)
		for (unsigned i = 0; i < a->n; i++)
			if (a->b[i].expires_ns < next)
				next = a->b[i].expires_ns;
	if (next == UINT64_MAX) {
		su_timer_reset(r->timer);
		return;
	}
	uint64_t ms = next > now ? (next - now) / 1000000 + 1 : 1;
	su_timer_set_interval(r->timer, on_expiry, c, (su_duration_t)ms);
}

static void on_expiry(struct conference *c, su_timer_t *t,
		      struct conference *arg)
{
	(void)t;
	(void)arg;
	struct reg *r = c->sig->reg;
	uint64_t now = mono_now_ns();
	for (struct aor *a = r->aors; a; a = a->next)
		for (unsigned i = 0; i < a->n;) {
			if (a->b[i].expires_ns > now) {
				i++;
				continue;
			}
			log_info("reg", "user=%s contact=%s expired", a->user,
				 a->b[i].uri);
			aor_remove_binding(a, i);
		}
	aors_prune(r);
	timer_arm(c);
}

/* A binding's Contact matches a request's by RFC 3261 19.1.4 as Sofia-SIP
 * reads it (url_cmp_all: every part, parameters included). */
static int binding_find(const struct aor *a, const url_t *url)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	int found = -1;
	for (unsigned i = 0; a && i < a->n && found < 0; i++) {
		url_t *u = url_make(home, a->b[i].uri);
		if (u && url_cmp_all(u, url) == 0)
			found = (int)i;
	}
	su_home_deinit(home);
	return found;
}

/* RFC 3261 10.3 step 7: a binding of the same Call-ID only moves forward. */
static bool cseq_ok(const struct binding *b, const sip_t *sip)
{
	return strcmp(b->call_id, sip->sip_call_id->i_id) != 0 ||
	       sip->sip_cseq->cs_seq > b->cseq;
}

static void binding_set(struct binding *b, const struct want *w,
			const sip_t *sip, uint64_t now)
{
	_Static_assert(sizeof(b->uri) == sizeof(w->uri), "same URI size");
	memcpy(b->uri, w->uri, sizeof(b->uri));
	snprintf(b->call_id, sizeof(b->call_id), "%s", sip->sip_call_id->i_id);
	b->cseq = sip->sip_cseq->cs_seq;
	b->expires_ns = now + (uint64_t)w->expires_s * NS_PER_S;
	b->updated_ns = now;
}

/* Applies validated wants to the user's bindings; -ENOMEM, or -EPROTO
 * when a CSeq is out of order (nothing changed then). */
static int bindings_apply(struct reg *r, const char *user, const struct want *w,
			  unsigned n, const sip_t *sip)
{
	struct aor *a = aor_find(r, user);
	for (unsigned i = 0; a && i < n; i++) {
		int k = binding_find(a, w[i].url);
		if (k >= 0 && !cseq_ok(&a->b[k], sip))
			return -EPROTO;
	}
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		snprintf(a->user, sizeof(a->user), "%s", user);
		a->next = r->aors;
		r->aors = a;
	}
	uint64_t now = mono_now_ns();
	for (unsigned i = 0; i < n; i++) {
		int k = binding_find(a, w[i].url);
		if (k >= 0 && w[i].expires_s == 0) {
			log_info("reg", "user=%s contact=%s removed", user,
				 a->b[k].uri);
			aor_remove_binding(a, (unsigned)k);
			continue;
		}
		if (w[i].expires_s == 0)
			continue;
		if (k < 0 && a->n == REG_MAX_BINDINGS) {
			unsigned old = 0; /* make room: the soonest to expire */
			for (unsigned j = 1; j < a->n; j++)
				if (a->b[j].expires_ns < a->b[old].expires_ns)
					old = j;
			log_info("reg", "user=%s contact=%s dropped: full",
				 user, a->b[old].uri);
			aor_remove_binding(a, old);
		}
		if (k < 0)
			k = (int)a->n++;
		binding_set(&a->b[k], &w[i], sip, now);
		log_info("reg", "user=%s contact=%s expires=%u", user, w[i].uri,
			 w[i].expires_s);
	}
	return 0;
}

/* Removes every binding of the user (Contact: *); -EPROTO as above. */
static int bindings_clear(struct reg *r, const char *user, const sip_t *sip)
{
	struct aor *a = aor_find(r, user);
	for (unsigned i = 0; a && i < a->n; i++)
		if (!cseq_ok(&a->b[i], sip))
			return -EPROTO;
	if (a) {
		log_info("reg", "user=%s all %u contacts removed", user, a->n);
		a->n = 0;
	}
	return 0;
}

/* The Contact header of our 200: every binding with its expires. */
static void bindings_list(struct reg *r, const char *user, char *out,
			  size_t cap)
{
	struct aor *a = aor_find(r, user);
	uint64_t now = mono_now_ns();
	size_t len = 0;
	out[0] = '\0';
	for (unsigned i = 0; a && i < a->n && len < cap; i++) {
		uint64_t left =
		    a->b[i].expires_ns > now
			? (a->b[i].expires_ns - now + NS_PER_S - 1) / NS_PER_S
			: 0;
		int n =
		    snprintf(out + len, cap - len, "%s<%s>;expires=%" PRIu64,
			     len ? ", " : "", a->b[i].uri, left);
		if (n < 0 || (size_t)n >= cap - len) {
			out[len] = '\0'; /* cannot happen with our limits */
			break;
		}
		len += (size_t)n;
	}
}

/* ---- REGISTER ------------------------------------------------------------ */

static void respond(struct conference *c, nua_handle_t *nh, int status,
		    const char *phrase, const char *www_auth,
		    const char *contacts, bool min_expires)
{
	nua_respond(
	    nh, status, phrase, NUTAG_WITH_THIS(c->sig->nua),
	    TAG_IF(www_auth, SIPTAG_WWW_AUTHENTICATE_STR(www_auth)),
	    TAG_IF(contacts && contacts[0], SIPTAG_CONTACT_STR(contacts)),
	    TAG_IF(min_expires, SIPTAG_MIN_EXPIRES_STR(STR(REG_MIN_EXPIRES_S))),
	    TAG_END());
}

static void challenge(struct conference *c, nua_handle_t *nh, bool stale)
{
	char nonce[NONCE_HEX + 1], hdr[256];
	nonce_make(c->sig->reg, nonce);
	snprintf(hdr, sizeof(hdr),
		 "Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
		 "qop=\"auth\"%s",
		 SIG_REG_REALM, nonce, stale ? ", stale=true" : "");
	respond(c, nh, SIP_401_UNAUTHORIZED, hdr, NULL, false);
}

/* The expiry a Contact asks for (10.3 step 7), in seconds, uncapped;
 * -EBADMSG when its expires parameter is not a number. */
static int64_t contact_expires(const sip_t *sip, const sip_contact_t *m)
{
	if (m->m_expires) {
		char *end;
		unsigned long long v = strtoull(m->m_expires, &end, 10);
		if (end == m->m_expires || *end || m->m_expires[0] == '-')
			return -EBADMSG;
		return v > UINT32_MAX ? UINT32_MAX : (int64_t)v;
	}
	if (!sip->sip_expires)
		return REG_DEFAULT_EXPIRES_S;
	if (sip->sip_expires->ex_date) {
		sip_time_t now = sip_now();
		return sip->sip_expires->ex_date > now
			   ? (int64_t)(sip->sip_expires->ex_date - now)
			   : 0;
	}
	return (int64_t)sip->sip_expires->ex_delta;
}

/* Reads the Contacts into w[]; returns their number, or the status to
 * answer with (400, 403, 423) negated. *wildcard for Contact: *. */
static int read_contacts(const sip_t *sip, struct want *w, bool *wildcard)
{
	unsigned n = 0;
	*wildcard = false;
	for (const sip_contact_t *m = sip->sip_contact; m; m = m->m_next) {
		if (m->m_url->url_type == url_any) {
			bool zero = sip->sip_expires &&
				    !sip->sip_expires->ex_date &&
				    sip->sip_expires->ex_delta == 0;
			if (m != sip->sip_contact || m->m_next || !zero)
				return -400;
			*wildcard = true;
			return 0;
		}
		if (m->m_url->url_type != url_sip &&
		    m->m_url->url_type != url_sips)
			return -400;
		if (n == REG_MAX_BINDINGS)
			return -403;
		int64_t e = contact_expires(sip, m);
		if (e < 0)
			return -400;
		if (e > 0 && e < REG_MIN_EXPIRES_S)
			return -423;
		if (url_e(w[n].uri, sizeof(w[n].uri), m->m_url) >=
		    (issize_t)sizeof(w[n].uri))
			return -400;
		w[n].url = m->m_url;
		w[n].expires_s =
		    e > REG_MAX_EXPIRES_S ? REG_MAX_EXPIRES_S : (uint32_t)e;
		n++;
	}
	return (int)n;
}

/* Authenticated as user: the bindings change as asked, and the 200 lists
 * them all (10.3 steps 6 to 8). */
static void update_bindings(struct conference *c, nua_handle_t *nh,
			    const sip_t *sip, const char *user)
{
	struct reg *r = c->sig->reg;
	struct want w[REG_MAX_BINDINGS];
	bool wildcard;
	int n = read_contacts(sip, w, &wildcard);
	if (n == -423) {
		log_info("reg", "user=%s refused 423: expires below %d", user,
			 REG_MIN_EXPIRES_S);
		respond(c, nh, SIP_423_INTERVAL_TOO_BRIEF, NULL, NULL, true);
		return;
	}
	if (n < 0) {
		log_info("reg", "user=%s refused %d: bad Contact", user, -n);
		respond(c, nh, -n,
			n == -403 ? "Too Many Contacts" : "Bad Contact", NULL,
			NULL, false);
		return;
	}
	int err = wildcard ? bindings_clear(r, user, sip)
			   : bindings_apply(r, user, w, (unsigned)n, sip);
	aors_prune(r);
	timer_arm(c);
	if (err) {
		log_info("reg", "user=%s refused 500: %s", user,
			 err == -EPROTO ? "CSeq out of order" : strerror(-err));
		respond(c, nh, 500,
			err == -EPROTO ? "Out of Order CSeq" : "No Memory",
			NULL, NULL, false);
		return;
	}
	char list[REG_MAX_BINDINGS * (REG_URI_MAX + 24)];
	bindings_list(r, user, list, sizeof(list));
	respond(c, nh, SIP_200_OK, NULL, list, false);
}

void sig_reg_on_register(struct conference *c, nua_handle_t *nh,
			 const sip_t *sip)
{
	if (!c->sig->reg || !sip || !sip->sip_request || !sip->sip_call_id ||
	    !sip->sip_cseq || !sip->sip_to) {
		respond(c, nh, SIP_500_INTERNAL_SERVER_ERROR, NULL, NULL,
			false);
		return;
	}
	const char *call_id = sip->sip_call_id->i_id;
	char user[STORE_NAME_MAX + 1];
	switch (digest_verify(c, sip, user)) {
	case AUTH_OK:
		break;
	case AUTH_CHALLENGE:
		challenge(c, nh, false);
		return;
	case AUTH_STALE:
		challenge(c, nh, true);
		return;
	case AUTH_BAD:
		log_info("reg", "call=%s refused 400: bad credentials",
			 call_id);
		respond(c, nh, 400, "Bad Authorization", NULL, NULL, false);
		return;
	}
	const char *to_user = sip->sip_to->a_url->url_user;
	if (!to_user || strcmp(to_user, user) != 0) {
		log_info("reg",
			 "user=%s call=%s refused 403: To is another user",
			 user, call_id);
		respond(c, nh, SIP_403_FORBIDDEN, NULL, NULL, false);
		return;
	}
	update_bindings(c, nh, sip, user);
}

/* ---- lifecycle and lookup ------------------------------------------------ */

int sig_reg_start(struct conference *c)
{
	struct reg *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	uint8_t dummy[16];
	if (getrandom(r->key, sizeof(r->key), 0) != sizeof(r->key) ||
	    getrandom(&r->next_serial, sizeof(r->next_serial), 0) !=
		sizeof(r->next_serial) ||
	    getrandom(dummy, sizeof(dummy), 0) != sizeof(dummy)) {
		free(r);
		return -EIO;
	}
	for (size_t i = 0; i < sizeof(dummy); i++)
		snprintf(r->dummy_ha1 + 2 * i, 3, "%02x", dummy[i]);
	r->timer = su_timer_create(su_root_task(c->sig->root), 1000);
	if (!r->timer) {
		free(r);
		return -ENOMEM;
	}
	c->sig->reg = r;
	nua_set_params(c->sig->nua, NUTAG_APPL_METHOD("REGISTER"), TAG_END());
	return 0;
}

void sig_reg_free(struct conference *c)
{
	struct reg *r = c->sig ? c->sig->reg : NULL;
	if (!r)
		return;
	while (r->aors) {
		struct aor *a = r->aors;
		r->aors = a->next;
		free(a);
	}
	su_timer_destroy(r->timer);
	explicit_bzero(r->key, sizeof(r->key));
	free(r);
	c->sig->reg = NULL;
}

int sig_reg_lookup(struct conference *c, const char *user, char *out,
		   size_t cap)
{
	if (!c || !c->sig || !c->sig->reg || !user || !out || !cap)
		return -EINVAL;
	struct aor *a = aor_find(c->sig->reg, user);
	uint64_t now = mono_now_ns();
	const struct binding *best = NULL;
	for (unsigned i = 0; a && i < a->n; i++)
		if (a->b[i].expires_ns > now &&
		    (!best || a->b[i].updated_ns > best->updated_ns))
			best = &a->b[i];
	if (!best)
		return -ENOENT;
	if (strlen(best->uri) >= cap)
		return -ENOSPC;
	memcpy(out, best->uri, strlen(best->uri) + 1);
	return 0;
}
