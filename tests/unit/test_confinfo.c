/* test_confinfo.c: RFC 4575 conference-info documents. Every document made
 * here is validated against the RFC's schema (tests/data), and partial
 * documents are judged by what a subscriber makes of them: a small RFC 4575
 * 4.6 merge applied to the previous state must give the full document of
 * the new one. Hostile names, version stamps, departures and large rooms. */
#include "conference/confinfo.h"
#include "conference/confinfo_int.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#define CI_NS "urn:ietf:params:xml:ns:conference-info"
#define T0_MS INT64_C(1795255200123) /* 2026-11-21T10:00:00.123Z */

/* ---- documents: stamp, parse, validate, query ---- */

static xmlSchemaPtr schema(void)
{
	static xmlSchemaPtr s;
	if (!s) {
		xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
		xmlSchemaParserCtxtPtr p = xmlSchemaNewParserCtxt(
		    TUTTI_TEST_DATA "/conference-info.xsd");
		s = p ? xmlSchemaParse(p) : NULL;
		xmlSchemaFreeParserCtxt(p);
	}
	return s;
}

/* Stamps doc with version, parses and validates it; NULL if it does not
 * parse. */
static xmlDocPtr load(const struct ci_doc *doc, uint32_t version)
{
	size_t len = 0;
	char *xml = confinfo_doc_stamp(doc, version, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	CU_ASSERT_EQUAL(len, strlen(xml));
	xmlDocPtr d = xmlReadMemory(xml, (int)len, NULL, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	CU_ASSERT_PTR_NOT_NULL(d);
	if (d) {
		xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema());
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		int rc = xmlSchemaValidateDoc(v, d);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc)
			fprintf(stderr, "invalid:\n%s\n", xml);
		xmlSchemaFreeValidCtxt(v);
		char want[16];
		snprintf(want, sizeof(want), "%" PRIu32, version);
		xmlChar *got =
		    xmlGetProp(xmlDocGetRootElement(d), BAD_CAST "version");
		CU_ASSERT_STRING_EQUAL(got ? (char *)got : "", want);
		xmlFree(got);
	}
	free(xml);
	return d;
}

static xmlDocPtr full_doc(const struct ci_room *r)
{
	struct ci_doc doc;
	CU_ASSERT_EQUAL_FATAL(confinfo_full(r, &doc), 0);
	xmlDocPtr d = load(&doc, 1);
	confinfo_doc_free(&doc);
	return d;
}

/* NULL when confinfo_partial() says -ENODATA. */
static xmlDocPtr partial_doc(const struct ci_room *old,
			     const struct ci_room *now)
{
	struct ci_doc doc;
	int err = confinfo_partial(old, now, &doc);
	if (err == -ENODATA)
		return NULL;
	CU_ASSERT_EQUAL_FATAL(err, 0);
	xmlDocPtr d = load(&doc, 2);
	confinfo_doc_free(&doc);
	return d;
}

static char *xp(xmlDocPtr d, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(d);
	xmlXPathRegisterNs(ctx, BAD_CAST "c", BAD_CAST CI_NS);
	xmlXPathRegisterNs(ctx, BAD_CAST "t", BAD_CAST CI_TUTTI_NS);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlChar *s = o ? xmlXPathCastToString(o) : NULL;
	char *r = strdup(s ? (const char *)s : "(xpath error)");
	xmlFree(s);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	return r;
}

#define XP(doc, expr, want)                                                    \
	do {                                                                   \
		char *got_ = xp(doc, expr);                                    \
		CU_ASSERT_STRING_EQUAL(got_, want);                            \
		if (strcmp(got_, want) != 0)                                   \
			fprintf(stderr, "%s: '%s', not '%s'\n", expr, got_,    \
				want);                                         \
		free(got_);                                                    \
	} while (0)

/* ---- rooms ---- */

static void room_new(struct ci_room *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->entity, sizeof(r->entity), "sip:blue@example.com");
	snprintf(r->display, sizeof(r->display), "blue");
	r->endpoints = calloc(cap, sizeof(*r->endpoints));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->endpoints);
}

static struct ci_endpoint *join(struct ci_room *r, uint32_t id, const char *aor,
				const char *contact)
{
	struct ci_endpoint *e = &r->endpoints[r->n_endpoints++];
	memset(e, 0, sizeof(*e));
	e->id = id;
	snprintf(e->user, sizeof(e->user), "%s", aor);
	snprintf(e->entity, sizeof(e->entity), "%s", contact);
	snprintf(e->user_display, sizeof(e->user_display), "User %u", id);
	e->status = CI_CONNECTED;
	e->joined_unix_ms = T0_MS + id * 1000;
	e->has_media = true;
	e->media_status = CI_SENDRECV;
	e->src_id = 0x1000 + id;
	r->active = true;
	return e;
}

static struct ci_endpoint *find(struct ci_room *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_endpoints; i++)
		if (r->endpoints[i].id == id)
			return &r->endpoints[i];
	return NULL;
}

static void leave(struct ci_endpoint *e, enum ci_disconnection how,
		  const char *by)
{
	e->status = CI_DISCONNECTED;
	e->disconnection = how;
	e->disconnected_unix_ms = T0_MS + 3600000;
	snprintf(e->disconnected_by, sizeof(e->disconnected_by), "%s", by);
	e->speaking = false;
}

static void drop(struct ci_room *r, size_t i)
{
	r->endpoints[i] = r->endpoints[--r->n_endpoints];
}

/* ---- a subscriber's merge (RFC 4575 4.6) ---- */

struct kv {
	char *k, *v;
};
struct kvs {
	struct kv *a;
	size_t n;
};
struct muser {
	char *entity;
	struct kvs own, eps; /* child name -> XML; endpoint entity -> XML */
};
struct model {
	struct kvs desc, state;
	struct muser *u;
	size_t n;
};

static struct kv *kvs_find(const struct kvs *m, const char *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->a[i].k, k) == 0)
			return &m->a[i];
	return NULL;
}

static void kvs_set(struct kvs *m, const char *k, char *v)
{
	struct kv *e = kvs_find(m, k);
	if (e) {
		free(e->v);
		e->v = v;
		return;
	}
	m->a = realloc(m->a, (m->n + 1) * sizeof(*m->a));
	m->a[m->n++] = (struct kv){strdup(k), v};
}

static void kvs_del(struct kvs *m, const char *k)
{
	struct kv *e = kvs_find(m, k);
	CU_ASSERT_PTR_NOT_NULL(e);
	if (!e)
		return;
	free(e->k);
	free(e->v);
	*e = m->a[--m->n];
}

static void kvs_free(struct kvs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->a[i].k);
		free(m->a[i].v);
	}
	free(m->a);
	*m = (struct kvs){0};
}

static bool kvs_eq(const struct kvs *a, const struct kvs *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		struct kv *e = kvs_find(b, a->a[i].k);
		if (!e || strcmp(e->v, a->a[i].v) != 0)
			return false;
	}
	return true;
}

static char *prop(xmlNodePtr n, const char *name, const char *dflt)
{
	xmlChar *p = xmlGetProp(n, BAD_CAST name);
	char *s = strdup(p ? (const char *)p : dflt);
	xmlFree(p);
	return s;
}

static bool named(xmlNodePtr n, const char *name)
{
	return strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr next_element(xmlNodePtr n)
{
	while (n && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

static xmlNodePtr first_child(xmlNodePtr n)
{
	return next_element(n ? n->children : NULL);
}

/* The element, or its child elements one after the other, as XML. */
static char *dump(xmlNodePtr n, bool children_only)
{
	xmlBufferPtr b = xmlBufferCreate();
	if (!children_only)
		xmlNodeDump(b, n->doc, n, 0, 0);
	else
		for (xmlNodePtr c = first_child(n); c;
		     c = next_element(c->next)) {
			xmlNodeDump(b, n->doc, c, 0, 0);
		}
	char *s = strdup((const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	return s;
}

static struct muser *find_user(struct model *m, const char *entity)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->u[i].entity, entity) == 0)
			return &m->u[i];
	return NULL;
}

static void del_user(struct model *m, struct muser *u)
{
	free(u->entity);
	kvs_free(&u->own);
	kvs_free(&u->eps);
	*u = m->u[--m->n];
}

static void model_free(struct model *m)
{
	while (m->n)
		del_user(m, &m->u[0]);
	free(m->u);
	kvs_free(&m->desc);
	kvs_free(&m->state);
	*m = (struct model){0};
}

static void apply_endpoint(struct muser *u, xmlNodePtr n)
{
	char *ent = prop(n, "entity", ""), *st = prop(n, "state", "full");
	if (strcmp(st, "deleted") == 0)
		kvs_del(&u->eps, ent);
	else if (strcmp(st, "full") == 0)
		kvs_set(&u->eps, ent, dump(n, true));
	else
		CU_FAIL("partial endpoint: not made by confinfo");
	free(ent);
	free(st);
}

static void apply_user(struct model *m, xmlNodePtr n)
{
	char *ent = prop(n, "entity", ""), *st = prop(n, "state", "full");
	struct muser *u = find_user(m, ent);
	if (strcmp(st, "full") == 0 || strcmp(st, "deleted") == 0) {
		CU_ASSERT(strcmp(st, "full") == 0 || u != NULL);
		if (u)
			del_user(m, u);
		u = NULL;
		if (strcmp(st, "full") == 0) {
			m->u = realloc(m->u, (m->n + 1) * sizeof(*m->u));
			u = &m->u[m->n++];
			*u = (struct muser){.entity = strdup(ent)};
		}
	}
	CU_ASSERT(u != NULL || strcmp(st, "deleted") == 0);
	for (xmlNodePtr c = first_child(u ? n : NULL); c;
	     c = next_element(c->next)) {
		if (named(c, "endpoint"))
			apply_endpoint(u, c);
		else
			kvs_set(&u->own, (const char *)c->name, dump(c, false));
	}
	free(ent);
	free(st);
}

static void apply_users(struct model *m, xmlNodePtr n)
{
	char *st = prop(n, "state", "full");
	while (strcmp(st, "full") == 0 && m->n)
		del_user(m, &m->u[0]);
	free(st);
	for (xmlNodePtr u = first_child(n); u; u = next_element(u->next)) {
		apply_user(m, u);
	}
}

static void apply(struct model *m, xmlDocPtr d)
{
	xmlNodePtr root = xmlDocGetRootElement(d);
	char *st = prop(root, "state", "full");
	if (strcmp(st, "full") == 0)
		model_free(m);
	free(st);
	for (xmlNodePtr c = first_child(root); c; c = next_element(c->next)) {
		struct kvs *kv = NULL;
		if (named(c, "conference-description"))
			kv = &m->desc;
		else if (named(c, "conference-state"))
			kv = &m->state;
		else if (named(c, "users"))
			apply_users(m, c);
		for (xmlNodePtr k = first_child(kv ? c : NULL); k;
		     k = next_element(k->next)) {
			kvs_set(kv, (const char *)k->name, dump(k, false));
		}
	}
}

static bool model_eq(struct model *a, struct model *b)
{
	if (!kvs_eq(&a->desc, &b->desc) || !kvs_eq(&a->state, &b->state) ||
	    a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		struct muser *u = find_user(b, a->u[i].entity);
		if (!u || !kvs_eq(&u->own, &a->u[i].own) ||
		    !kvs_eq(&u->eps, &a->u[i].eps))
			return false;
	}
	return true;
}

struct tally {
	unsigned partial, full, nodata;
};

/* One change seen by a subscriber who holds m (the state of old). */
static void step(const struct ci_room *old, const struct ci_room *now,
		 struct model *m, struct tally *t)
{
	xmlDocPtr want_doc = full_doc(now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want_doc);
	struct model want = {0};
	apply(&want, want_doc);
	xmlDocPtr p = partial_doc(old, now);
	if (p) {
		char *st = xp(p, "string(/c:conference-info/@state)");
		t->partial += strcmp(st, "partial") == 0;
		t->full += strcmp(st, "full") == 0;
		free(st);
		apply(m, p);
	} else {
		struct ci_doc a, b;
		CU_ASSERT_EQUAL_FATAL(confinfo_full(old, &a), 0);
		CU_ASSERT_EQUAL_FATAL(confinfo_full(now, &b), 0);
		CU_ASSERT_STRING_EQUAL(a.xml, b.xml);
		confinfo_doc_free(&a);
		confinfo_doc_free(&b);
		t->nodata++;
	}
	bool same = model_eq(m, &want);
	CU_ASSERT_TRUE(same);
	if (!same && p)
		xmlDocDump(stderr, p);
	xmlFreeDoc(p);
	xmlFreeDoc(want_doc);
	model_free(&want);
}

/* ---- tests ---- */

static void test_schema_loads(void)
{
	CU_ASSERT_PTR_NOT_NULL_FATAL(schema());
}

static void test_empty_room(void)
{
	struct ci_room r;
	room_new(&r, 1);
	xmlDocPtr d = full_doc(&r);
	XP(d, "string(/c:conference-info/@entity)", "sip:blue@example.com");
	XP(d, "string(/c:conference-info/@state)", "full");
	XP(d, "string(//c:conference-state/c:user-count)", "0");
	XP(d, "string(//c:conference-state/c:active)", "false");
	XP(d, "string(//c:conf-uris/c:entry/c:uri)", "sip:blue@example.com");
	XP(d, "count(//c:maximum-user-count)", "0");
	XP(d, "count(//c:users/c:user)", "0");
	xmlFreeDoc(d);
	confinfo_room_clear(&r);
}

/* A scripted evening in a room: every state is validated, full and as a
 * partial from the state before, and merged. */
static void test_scenario(void)
{
	struct ci_room r, old;
	struct model m = {0};
	struct tally t = {0};
	room_new(&r, 64);
	xmlDocPtr d = full_doc(&r);
	apply(&m, d);
	xmlFreeDoc(d);
	for (int s = 0; s < 17; s++) {
		CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &r), 0);
		struct ci_endpoint *e;
		switch (s) {
		case 0:
			join(&r, 1, "sip:alice@example.com", "sip:a@192.0.2.1");
			break;
		case 1: /* a second call from the same AOR */
			join(&r, 2, "sip:alice@example.com", "sip:a@192.0.2.2");
			break;
		case 2: /* and a third from the same contact as the first */
			join(&r, 3, "sip:alice@example.com", "sip:a@192.0.2.1");
			break;
		case 3:
			r.locked = true;
			r.max_users = 10;
			break;
		case 4:
			e = join(&r, 4, "sip:bob@example.net", "sip:bob@pc");
			e->status = CI_DIALING_OUT;
			e->joining = CI_DIALED_OUT;
			e->joined_unix_ms = 0;
			e->has_media = false;
			break;
		case 5:
			find(&r, 4)->status = CI_ALERTING;
			break;
		case 6:
			e = find(&r, 4);
			e->status = CI_CONNECTED;
			e->has_media = true;
			e->joined_unix_ms = T0_MS;
			break;
		case 7:
			find(&r, 1)->status = CI_ON_HOLD;
			find(&r, 1)->media_status = CI_SENDONLY;
			break;
		case 8:
			find(&r, 2)->status = CI_MUTED_VIA_FOCUS;
			find(&r, 2)->media_status = CI_RECVONLY;
			break;
		case 9:
			find(&r, 4)->speaking = true;
			break;
		case 10:
			e = join(&r, 5, "sip:carol@example.org", "sip:c@h");
			snprintf(e->referred_by, sizeof(e->referred_by),
				 "sip:bob@example.net");
			break;
		case 11:
			leave(find(&r, 4), CI_BOOTED, "sip:alice@example.com");
			break;
		case 12:
			drop(&r, (size_t)(find(&r, 4) - r.endpoints));
			break;
		case 13:
			for (uint32_t id = 10; id < 57; id++) {
				char aor[64];
				snprintf(aor, sizeof(aor), "sip:u%u@x.org", id);
				join(&r, id, aor, aor);
			}
			break;
		case 14:
			for (size_t i = 0; i < r.n_endpoints; i++)
				leave(&r.endpoints[i], CI_DEPARTED, "");
			r.active = false;
			break;
		case 15:
			r.n_endpoints = 0;
			break;
		case 16:
			r.locked = false;
			r.max_users = 0;
			break;
		}
		step(&old, &r, &m, &t);
		confinfo_room_clear(&old);
	}
	CU_ASSERT_EQUAL(t.nodata, 2); /* 12, 15: only departed ones went */
	CU_ASSERT_EQUAL(t.full, 1);   /* 16: the user limit was lifted */
	model_free(&m);
	confinfo_room_clear(&r);
}

static void test_endpoint_details(void)
{
	struct ci_room r;
	room_new(&r, 8);
	r.max_users = 7;
	struct ci_endpoint *e = join(&r, 9, "sip:bob@example.net", "sip:b@pc");
	e->status = CI_DIALING_OUT;
	e->joining = CI_DIALED_OUT;
	e->has_media = false;
	e->speaking = true;
	snprintf(e->referred_by, sizeof(e->referred_by), "sip:x@y");
	e = join(&r, 3, "sip:amy@example.net", "sip:amy@pc");
	e->moderator = true;
	e->media_status = CI_RECVONLY;
	e->status = CI_MUTED_VIA_FOCUS;
	e->user_display[0] = '\0';
	xmlDocPtr d = full_doc(&r);
	XP(d, "string(//c:maximum-user-count)", "7");
	XP(d, "string(//c:user[1]/@entity)", "sip:amy@example.net");
	XP(d, "count(//c:user[1]/c:display-text)", "0");
	XP(d, "string(//c:user[1]/c:roles/c:entry)", "moderator");
	XP(d, "string(//c:user[2]/c:roles/c:entry)", "participant");
	XP(d, "string(//c:user[2]/c:display-text)", "User 9");
	XP(d, "string(//c:user[1]/c:endpoint/c:status)", "muted-via-focus");
	XP(d, "string(//c:user[1]/c:endpoint/c:joining-info/c:when)",
	   "2026-11-21T10:00:03.123Z");
	XP(d, "string(//c:user[1]//c:media/@id)", "audio");
	XP(d, "string(//c:user[1]//c:media/c:src-id)", "4099");
	XP(d, "string(//c:user[1]//c:media/c:status)", "recvonly");
	XP(d, "string(//c:user[1]/c:endpoint/t:speaking)", "false");
	XP(d, "string(//c:user[2]/c:endpoint/c:status)", "dialing-out");
	XP(d, "string(//c:user[2]/c:endpoint/c:joining-method)", "dialed-out");
	XP(d, "string(//c:user[2]/c:endpoint/c:referred/c:by)", "sip:x@y");
	XP(d, "count(//c:user[2]//c:media)", "0");
	XP(d, "string(//c:user[2]/c:endpoint/*[last()]/self::t:speaking)",
	   "true");
	xmlFreeDoc(d);
	confinfo_room_clear(&r);
}

/* AORs that Sofia-SIP takes but xs:anyURI does not (found by
 * fuzz/fuzz_confinfo.c): percent-encoded until the document is valid (load()
 * validates it), valid ones unchanged. */
static void test_hostile_uris(void)
{
	struct ci_room r, old;
	room_new(&r, 8);
	join(&r, 1, "si~:alice@x", "sip:a@pc");
	join(&r, 2, "sip:bob@[2001:db8::1]:5060", "sip:b@pc");
	struct ci_endpoint *e = join(&r, 3, "sip:cy@x;transport=tcp", "c");
	snprintf(e->referred_by, sizeof(e->referred_by), "a:#b#c");
	e = join(&r, 4, "sip:dee@x", "d");
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &r), 0);
	leave(e, CI_BOOTED, "1ab:c@d");
	xmlDocPtr d = full_doc(&r);
	/* Users come in entity order: the encoded ones sort differently. */
	XP(d, "string(//c:user[1]/@entity)", "sip:bob@%5B2001:db8::1%5D:5060");
	XP(d, "string(//c:user[2]/@entity)", "sip:cy@x;transport=tcp");
	XP(d, "string(//c:user[2]//c:referred/c:by)", "a:%23b%23c");
	XP(d, "string(//c:user[3]/@entity)", "si~%3Aalice%40x");
	xmlFreeDoc(d);
	d = partial_doc(&old, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	XP(d, "string(//c:disconnection-info/c:by)", "1ab%3Ac%40d");
	xmlFreeDoc(d);
	confinfo_room_clear(&old);
	confinfo_room_clear(&r);
}

/* Endpoints of one AOR share a <user>; the lowest id speaks for it; two
 * calls from one contact get distinct entities. */
static void test_shared_aor(void)
{
	struct ci_room r;
	room_new(&r, 8);
	join(&r, 7, "sip:al@x", "sip:al@h")->moderator = true;
	join(&r, 5, "sip:al@x", "sip:al@h");
	join(&r, 6, "sip:bo@x", "sip:bo@h");
	leave(join(&r, 2, "sip:al@x", "sip:al@h"), CI_DEPARTED, "");
	leave(join(&r, 1, "sip:cy@x", "sip:cy@h"), CI_DEPARTED, "");
	xmlDocPtr d = full_doc(&r);
	XP(d, "string(//c:user-count)", "2");
	XP(d, "count(//c:user)", "2");
	XP(d, "count(//c:user[@entity='sip:al@x']/c:endpoint)", "2");
	XP(d, "string(//c:user[@entity='sip:al@x']/c:endpoint[1]/@entity)",
	   "sip:al@h");
	XP(d, "string(//c:user[@entity='sip:al@x']/c:endpoint[2]/@entity)",
	   "sip:al@h;tutti-id=7");
	XP(d, "string(//c:user[@entity='sip:al@x']/c:display-text)", "User 5");
	XP(d, "string(//c:user[@entity='sip:al@x']/c:roles/c:entry)",
	   "participant");
	xmlFreeDoc(d);
	confinfo_room_clear(&r);
}

/* The header's rules for departures, one by one. */
static void test_departures(void)
{
	struct ci_room old, now;
	room_new(&now, 8);
	join(&now, 1, "sip:al@x", "sip:al@h1");
	join(&now, 2, "sip:al@x", "sip:al@h2");
	join(&now, 3, "sip:bo@x", "sip:bo@h");
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &now), 0);
	leave(find(&now, 2), CI_BOOTED, "sip:mod@x");
	drop(&now, (size_t)(find(&now, 3) - now.endpoints));
	xmlDocPtr d = partial_doc(&old, &now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	XP(d, "string(//c:users/@state)", "partial");
	XP(d, "string(//c:user-count)", "1");
	XP(d, "string(//c:user[@entity='sip:al@x']/@state)", "partial");
	XP(d, "count(//c:user[@entity='sip:al@x']/*)", "1");
	XP(d, "string(//c:endpoint[@entity='sip:al@h2']/@state)", "deleted");
	XP(d, "string(//c:endpoint[@entity='sip:al@h2']/c:status)",
	   "disconnected");
	XP(d,
	   "string(//c:endpoint[@entity='sip:al@h2']/c:disconnection-method)",
	   "booted");
	XP(d, "string(//c:endpoint[@entity='sip:al@h2']//c:by)", "sip:mod@x");
	XP(d, "string(//c:endpoint[@entity='sip:al@h2']//c:when)",
	   "2026-11-21T11:00:00.123Z");
	XP(d, "string(//c:user[@entity='sip:bo@x']/@state)", "deleted");
	XP(d, "string(//c:endpoint[@entity='sip:bo@h']/@state)", "deleted");
	XP(d, "count(//c:endpoint[@entity='sip:bo@h']/*)", "0");
	xmlFreeDoc(d);
	d = full_doc(&now);
	XP(d, "count(//c:endpoint)", "1");
	xmlFreeDoc(d);

	/* The last endpoint of a user leaves: the user goes, with the facts. */
	confinfo_room_clear(&old);
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &now), 0);
	leave(find(&now, 1), CI_FAILED, "");
	d = partial_doc(&old, &now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	XP(d, "string(//c:user[@entity='sip:al@x']/@state)", "deleted");
	XP(d, "string(//c:endpoint[@entity='sip:al@h1']/@state)", "deleted");
	XP(d,
	   "string(//c:endpoint[@entity='sip:al@h1']/c:disconnection-method)",
	   "failed");
	XP(d, "count(//c:endpoint[@entity='sip:al@h1']//c:by)", "0");
	XP(d, "string(//c:user-count)", "0");
	xmlFreeDoc(d);

	/* Disconnected in both, however it changed: nothing to say. */
	confinfo_room_clear(&old);
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &now), 0);
	leave(find(&now, 1), CI_BUSY, "sip:z@z");
	struct ci_doc doc = {0};
	CU_ASSERT_EQUAL(confinfo_partial(&old, &now, &doc), -ENODATA);
	CU_ASSERT_PTR_NULL(doc.xml);
	confinfo_room_clear(&old);
	confinfo_room_clear(&now);
}

/* A randomised walk; after each change the subscriber's merged state must
 * be the full document of the room. */
static uint32_t rnd_state = 0x2545f491;
static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state % n;
}

static struct ci_endpoint *pick_live(struct ci_room *r)
{
	for (int tries = 0; r->n_endpoints && tries < 8; tries++) {
		struct ci_endpoint *e = &r->endpoints[rnd(r->n_endpoints)];
		if (e->status != CI_DISCONNECTED)
			return e;
	}
	return NULL;
}

static void mutate(struct ci_room *r, size_t cap, uint32_t *next_id)
{
	static const char *const names[] = {"Alice", "Bob Ä", "", "<x&y>",
					    "Zoë \xf0\x9f\x98\x80"};
	char aor[32], contact[48];
	struct ci_endpoint *e = pick_live(r);
	uint32_t k = rnd(15);
	if (k <= 2 && r->n_endpoints < cap) {
		uint32_t who = rnd(5);
		snprintf(aor, sizeof(aor), "sip:u%u@example.com", who);
		snprintf(contact, sizeof(contact), "sip:u%u@192.0.2.%u", who,
			 rnd(2));
		e = join(r, (*next_id)++, aor, contact);
		snprintf(e->user_display, sizeof(e->user_display), "%s",
			 names[who]);
		if (rnd(3) == 0) {
			e->status = CI_DIALING_OUT;
			e->joining = CI_DIALED_OUT;
			e->has_media = false;
		}
	} else if (k == 3 && e) {
		leave(e, (enum ci_disconnection)(1 + rnd(4)),
		      rnd(2) ? "sip:mod@example.com" : "");
	} else if (k == 4 && r->n_endpoints) {
		drop(r, rnd(r->n_endpoints));
	} else if (k == 5 && e) {
		e->status = e->status == CI_ON_HOLD ? CI_CONNECTED : CI_ON_HOLD;
		e->media_status =
		    e->status == CI_ON_HOLD ? CI_SENDONLY : CI_SENDRECV;
	} else if (k == 6 && e) {
		bool mute = e->status != CI_MUTED_VIA_FOCUS;
		e->status = mute ? CI_MUTED_VIA_FOCUS : CI_CONNECTED;
		e->media_status = mute ? CI_RECVONLY : CI_SENDRECV;
	} else if ((k == 7 || k == 8) && e) {
		e->speaking = !e->speaking;
	} else if (k == 9) {
		r->locked = !r->locked;
	} else if (k == 10 && e) {
		snprintf(e->user_display, sizeof(e->user_display), "%s",
			 names[rnd(5)]);
	} else if (k == 11 && e) {
		e->moderator = !e->moderator;
	} else if (k == 12) {
		if (rnd(4) == 0)
			r->max_users = rnd(4) * 5;
		else
			snprintf(r->display, sizeof(r->display), "%s",
				 names[rnd(5)]);
	} else if (k == 13 && e && !e->has_media) {
		e->status =
		    e->status == CI_DIALING_OUT ? CI_ALERTING : CI_CONNECTED;
		e->has_media = e->status == CI_CONNECTED;
		e->joined_unix_ms = T0_MS + rnd(100000);
	} else if (k == 14 && e) {
		snprintf(e->referred_by, sizeof(e->referred_by), "%s",
			 rnd(2) ? "sip:ref@example.com" : "");
	}
	r->active = false;
	for (size_t i = 0; i < r->n_endpoints; i++)
		r->active |= r->endpoints[i].status != CI_DISCONNECTED;
}

static void test_random_merge(void)
{
	const size_t cap = 24;
	struct ci_room r, old;
	struct model m = {0};
	struct tally t = {0};
	uint32_t next_id = 1;
	room_new(&r, cap);
	join(&r, next_id++, "sip:u0@example.com", "sip:u0@192.0.2.0");
	join(&r, next_id++, "sip:u0@example.com", "sip:u0@192.0.2.1");
	xmlDocPtr d = full_doc(&r);
	apply(&m, d);
	xmlFreeDoc(d);
	for (int s = 0; s < 400; s++) {
		CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &r), 0);
		for (uint32_t n = 1 + rnd(3); n; n--)
			mutate(&r, cap, &next_id);
		step(&old, &r, &m, &t);
		confinfo_room_clear(&old);
	}
	printf("\n  %u partial, %u full, %u unchanged\n", t.partial, t.full,
	       t.nodata);
	CU_ASSERT(t.partial > 250);
	CU_ASSERT(t.nodata > 0);
	model_free(&m);
	confinfo_room_clear(&r);
}

static void test_version_stamp(void)
{
	struct ci_room r;
	room_new(&r, 1);
	struct ci_doc doc;
	CU_ASSERT_EQUAL_FATAL(confinfo_full(&r, &doc), 0);
	CU_ASSERT_EQUAL(doc.len, strlen(doc.xml));
	CU_ASSERT(strncmp(doc.xml + doc.version_at - 9, "version=\"0\"", 11) ==
		  0);
	static const uint32_t v[] = {1, 2, 10, 4294967295u};
	for (size_t i = 0; i < 4; i++)
		xmlFreeDoc(load(&doc, v[i]));
	size_t len = 0;
	char *s = confinfo_doc_stamp(&doc, 4294967295u, &len);
	CU_ASSERT_EQUAL(len, doc.len + 9);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, " version=\"4294967295\">"));
	free(s);
	struct ci_doc bad = doc;
	bad.version_at++;
	CU_ASSERT_PTR_NULL(confinfo_doc_stamp(&bad, 1, NULL));
	CU_ASSERT_PTR_NULL(confinfo_doc_stamp(NULL, 1, NULL));
	confinfo_doc_free(&doc);
	CU_ASSERT_PTR_NULL(doc.xml);
	confinfo_doc_free(&doc);
	confinfo_doc_free(NULL);
	confinfo_room_clear(&r);
}

static bool utf8_ok(const char *s)
{
	return xmlCheckUTF8(BAD_CAST s) != 0;
}

static void test_clean_text(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"\xff\xfe"
	     "Al\x80ice\xc3",
	     "Alice"},
	    {"a\xc0\xaf"
	     "b\xe0\x80\xaf"
	     "c\xf0\x80\x80\xaf"
	     "d",
	     "abcd"}, /* overlong '/' */
	    {"x\xed\xa0\x80y\xf4\x90\x80\x80z",
	     "xyz"}, /* surrogate, >U+10FFFF */
	    {"A\tB\nC\x01"
	     "D\x7f"
	     "E\xc2\x85"
	     "F\x1b[31m",
	     "ABCDEF[31m"},
	    {"\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd", "\xef\xbf\xbd"},
	    {"<b>&amp;\"'</b> ]]>", "<b>&amp;\"'</b> ]]>"},
	    {"Zo\xc3\xab \xf0\x9f\x98\x80", "Zo\xc3\xab \xf0\x9f\x98\x80"},
	};
	char out[CI_DISPLAY_MAX + 1];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		confinfo_text_clean(out, CI_DISPLAY_MAX, cases[i].in,
				    strlen(cases[i].in) + 1);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
	}
	/* 10 KB of three-byte characters: cut on a character boundary. */
	size_t big = 10240;
	char *s = malloc(big + 1);
	for (size_t i = 0; i < big; i += 3)
		memcpy(s + i, "\xe2\x82\xac", big - i < 3 ? big - i : 3);
	s[big] = '\0';
	CU_ASSERT_EQUAL(confinfo_text_clean(out, CI_DISPLAY_MAX, s, big + 1),
			126);
	CU_ASSERT_TRUE(utf8_ok(out));
	free(s);
}

static void set_raw(char *field, size_t cap, const char *s, size_t len)
{
	memset(field, 0, cap);
	memcpy(field, s, len < cap ? len : cap);
}

/* Hostile names make valid documents with valid, bounded display texts. */
static void test_hostile_names(void)
{
	static const char *const names[] = {
	    "\xff\xfeMallory\xc3",
	    "a\xc0\xaf\xe0\x80\xaf\xf0\x80\x80\xaf",
	    "tab\there\nnl\x01\x1b[0m\x7f",
	    "<script>&amp;\"'</script> ]]> <![CDATA[x]]>",
	    "\xef\xbf\xbe\xef\xbf\xbf\xed\xa0\x80",
	};
	struct ci_room r;
	room_new(&r, 16);
	uint32_t id = 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char aor[64];
		snprintf(aor, sizeof(aor), "sip:h%zu@example.com", i);
		struct ci_endpoint *e = join(&r, id++, aor, "sip:<&\">@h\x01");
		snprintf(e->user_display, sizeof(e->user_display), "%s",
			 names[i]);
		snprintf(e->referred_by, sizeof(e->referred_by), "%s",
			 "sip:\xc3\xa9&<x>@h\xff");
	}
	/* Fields filled to the last byte, no NUL: an emoji across the cut. */
	char emoji[CI_DISPLAY_MAX + 8];
	memset(emoji, 'a', sizeof(emoji));
	memcpy(emoji + 125, "\xf0\x9f\x98\x80", 4); /* bytes 125..128 */
	set_raw(join(&r, id++, "sip:e1@x", "sip:e1@h")->user_display,
		CI_DISPLAY_MAX + 1, emoji, sizeof(emoji));
	memcpy(emoji + 124, "\xf0\x9f\x98\x80", 4); /* bytes 124..127 */
	set_raw(join(&r, id++, "sip:e2@x", "sip:e2@h")->user_display,
		CI_DISPLAY_MAX + 1, emoji, sizeof(emoji));
	set_raw(r.display, sizeof(r.display), emoji, sizeof(emoji));
	set_raw(join(&r, id++, "", "sip:<&\">@h\x01")->user, CI_URI_MAX, emoji,
		sizeof(emoji));

	xmlDocPtr d = full_doc(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	XP(d, "string(//c:user[@entity='sip:h3@example.com']/c:display-text)",
	   names[3]);
	XP(d, "string(//c:user[@entity='sip:h0@example.com']/c:display-text)",
	   "Mallory");
	XP(d, "string(//c:user[@entity='sip:h2@example.com']/c:display-text)",
	   "tabherenl[0m");
	XP(d, "count(//c:user[@entity='sip:h4@example.com']/c:display-text)",
	   "0");
	XP(d, "string(//c:endpoint[1]/@entity)", "sip:<&\">@h");
	XP(d, "string(//c:endpoint[1]/c:referred/c:by)", "sip:\xc3\xa9&<x>@h");
	char want[CI_DISPLAY_MAX + 1];
	memset(want, 'a', 124);
	memcpy(want + 124, "\xf0\x9f\x98\x80", 5);
	XP(d, "string(//c:user[@entity='sip:e2@x']/c:display-text)", want);
	want[124] = 'a';
	want[125] = '\0';
	XP(d, "string(//c:user[@entity='sip:e1@x']/c:display-text)", want);
	xmlXPathContextPtr ctx = xmlXPathNewContext(d);
	xmlXPathRegisterNs(ctx, BAD_CAST "c", BAD_CAST CI_NS);
	xmlXPathObjectPtr o =
	    xmlXPathEvalExpression(BAD_CAST "//c:display-text", ctx);
	CU_ASSERT_EQUAL(o->nodesetval->nodeNr, 8);
	for (int i = 0; i < o->nodesetval->nodeNr; i++) {
		xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
		CU_ASSERT_TRUE(utf8_ok((const char *)t));
		CU_ASSERT(strlen((const char *)t) <= CI_DISPLAY_MAX);
		xmlFree(t);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(d);

	/* The same names as changes: a partial with every user renamed. */
	struct ci_room old;
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &r), 0);
	for (size_t i = 0; i < r.n_endpoints; i++)
		set_raw(r.endpoints[i].user_display, CI_DISPLAY_MAX + 1,
			names[(i + 1) % 5], strlen(names[(i + 1) % 5]));
	d = partial_doc(&old, &r);
	CU_ASSERT_PTR_NOT_NULL(d);
	xmlFreeDoc(d);
	confinfo_room_clear(&old);
	confinfo_room_clear(&r);
}

/* Changes nobody can see make no document. */
static void test_nodata(void)
{
	struct ci_room r, old;
	room_new(&r, 4);
	struct ci_endpoint *e = join(&r, 1, "sip:a@x", "sip:a@h");
	e->has_media = false;
	join(&r, 2, "sip:b@x", "sip:b@h");
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &r), 0);
	struct ci_doc doc = {0};
	CU_ASSERT_EQUAL(confinfo_partial(&old, &r, &doc), -ENODATA);
	e->src_id = 77; /* no media: not shown */
	e->media_status = CI_INACTIVE;
	e->disconnected_by[0] = 'x'; /* not disconnected: not shown */
	e->disconnected_unix_ms = 5;
	snprintf(e->user_display, sizeof(e->user_display), "User\x01 1\x7f");
	r.endpoints[1].joined_unix_ms = INT64_C(1) << 62; /* beyond 9999 */
	old.endpoints[1].joined_unix_ms = -5;
	CU_ASSERT_EQUAL(confinfo_partial(&old, &r, &doc), -ENODATA);
	CU_ASSERT_PTR_NULL(doc.xml);
	e->speaking = true;
	CU_ASSERT_EQUAL(confinfo_partial(&old, &r, &doc), 0);
	confinfo_doc_free(&doc);
	confinfo_room_clear(&old);
	confinfo_room_clear(&r);
}

static void test_copy_clear(void)
{
	struct ci_room r, c, empty;
	room_new(&r, 3);
	join(&r, 1, "sip:a@x", "sip:a@h");
	join(&r, 2, "sip:b@x", "sip:b@h");
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&c, &r), 0);
	CU_ASSERT_PTR_NOT_EQUAL(c.endpoints, r.endpoints);
	CU_ASSERT_EQUAL(c.n_endpoints, 2);
	CU_ASSERT_EQUAL(
	    memcmp(c.endpoints, r.endpoints, 2 * sizeof(*r.endpoints)), 0);
	CU_ASSERT_STRING_EQUAL(c.entity, r.entity);
	confinfo_room_clear(&c);
	CU_ASSERT_PTR_NULL(c.endpoints);
	CU_ASSERT_EQUAL(c.n_endpoints, 0);
	confinfo_room_clear(&c);
	confinfo_room_clear(NULL);
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&empty, &c), 0);
	CU_ASSERT_PTR_NULL(empty.endpoints);
	struct ci_room broken = r;
	broken.endpoints = NULL;
	memset(&c, 0x5a, sizeof(c));
	CU_ASSERT_EQUAL(confinfo_room_copy(&c, &broken), -EINVAL);
	CU_ASSERT_EQUAL(c.n_endpoints, (size_t)0x5a5a5a5a5a5a5a5aull);
	struct ci_doc doc;
	CU_ASSERT_EQUAL(confinfo_full(&broken, &doc), -EINVAL);
	CU_ASSERT_EQUAL(confinfo_partial(&r, &broken, &doc), -EINVAL);
	CU_ASSERT_EQUAL(confinfo_partial(&broken, &r, &doc), -EINVAL);
	CU_ASSERT_STRING_EQUAL(confinfo_status_name(CI_ON_HOLD), "on-hold");
	CU_ASSERT_STRING_EQUAL(confinfo_status_name(CI_DIALING_OUT),
			       "dialing-out");
	CU_ASSERT_PTR_NULL(confinfo_status_name((enum ci_status)99));
	confinfo_room_clear(&r);
}

/* A thousand endpoints; one starts speaking; the partial names just it. */
static void test_large_room(void)
{
	struct ci_room r, old;
	room_new(&r, 1000);
	for (uint32_t id = 1000; id > 0; id--) {
		char aor[48], contact[48];
		snprintf(aor, sizeof(aor), "sip:u%u@example.com", id % 700);
		snprintf(contact, sizeof(contact), "sip:c%u@192.0.2.1", id);
		join(&r, id, aor, contact);
	}
	xmlDocPtr d = full_doc(&r);
	XP(d, "count(//c:endpoint)", "1000");
	XP(d, "string(//c:user-count)", "700");
	xmlFreeDoc(d);
	CU_ASSERT_EQUAL_FATAL(confinfo_room_copy(&old, &r), 0);
	find(&r, 333)->speaking = true;
	d = partial_doc(&old, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	XP(d, "count(//c:user)", "1");
	XP(d, "count(//c:endpoint)", "1");
	XP(d, "string(//c:endpoint/@entity)", "sip:c333@192.0.2.1");
	XP(d, "string(//c:endpoint/t:speaking)", "true");
	XP(d, "count(/c:conference-info/*)", "1");
	xmlFreeDoc(d);
	confinfo_room_clear(&old);
	confinfo_room_clear(&r);
}

static const struct unit_test tests[] = {
    {"schema loads", test_schema_loads},
    {"empty room", test_empty_room},
    {"scripted changes validate and merge", test_scenario},
    {"endpoint details", test_endpoint_details},
    {"hostile URIs", test_hostile_uris},
    {"shared AOR", test_shared_aor},
    {"departures", test_departures},
    {"random changes merge to the full state", test_random_merge},
    {"version stamp", test_version_stamp},
    {"text cleaning", test_clean_text},
    {"hostile names", test_hostile_names},
    {"invisible changes: -ENODATA", test_nodata},
    {"copy and clear", test_copy_clear},
    {"large room", test_large_room},
    {NULL, NULL},
};

UNIT_MAIN("confinfo", tests)
