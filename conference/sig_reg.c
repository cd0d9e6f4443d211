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
 * Digest authentication (nonces, HA1 check, replay and stale nonces) is
 * sig_digest.c's; it says why Sofia-SIP's auth_module is not used.
 *
 * Signalling thread only. struct reg belongs to c->sig and is freed by
 * sig_reg_free(). */
#include "conference/sig.h"
#include "conference/sig_digest.h"
#include "conference/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/url.h>

#define REG_MIN_EXPIRES_S     60
#define REG_MAX_EXPIRES_S     3600
#define REG_DEFAULT_EXPIRES_S 3600
#define REG_MAX_BINDINGS      8 /* contacts per user */
#define REG_URI_MAX	      256
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

struct reg {
	struct aor *aors;
	su_timer_t *timer;
	struct sig_digest *digest;
};

/* What one Contact of a REGISTER asks for. */
struct want {
	char uri[REG_URI_MAX];
	const url_t *url;
	uint32_t expires_s; /* 0: remove */
};

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
	char hdr[SIG_DIGEST_CHALLENGE_MAX];
	sig_digest_challenge(c->sig->reg->digest, stale, hdr);
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
	switch (sig_digest_verify(c->sig->reg->digest, c->store, sip, user)) {
	case SIG_DIGEST_OK:
		break;
	case SIG_DIGEST_CHALLENGE:
		challenge(c, nh, false);
		return;
	case SIG_DIGEST_STALE:
		challenge(c, nh, true);
		return;
	case SIG_DIGEST_BAD:
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
	int err = sig_digest_new(&r->digest);
	if (err) {
		free(r);
		return err;
	}
	r->timer = su_timer_create(su_root_task(c->sig->root), 1000);
	if (!r->timer) {
		sig_digest_free(r->digest);
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
	sig_digest_free(r->digest);
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
