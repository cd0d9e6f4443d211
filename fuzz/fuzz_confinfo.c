/* fuzz_confinfo.c: conference-info documents (conference/confinfo_*.c)
 * built from snapshots full of hostile text: display names, AORs, contact
 * URIs and Referred-By values as a SIP peer may send them (any bytes:
 * markup, control characters, invalid UTF-8, maximal lengths).
 *
 * The input describes a room and its endpoints, then a list of changes
 * (joins, departures, removals, field changes) that give a second
 * snapshot. For both snapshots the full document, and from the first to
 * the second the partial one, is written, stamped with a version, parsed
 * by libxml2 and validated against RFC 4575's schema
 * (tests/data/conference-info.xsd). Promises checked: every document is
 * well-formed XML that the schema accepts, carries the version it was
 * stamped with, and -ENODATA (no document) is only said of a partial.
 *
 * Input layout (fuzz.h's reader; short inputs are padded with zeros):
 * room display, four AORs, four contacts, flags; n endpoints, each a
 * handful of bytes; then changes, one opcode byte each. */
#include "conference/confinfo.h"
#include "fuzz/fuzz.h"

#include <errno.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T	     "confinfo"
#define MAX_EPS	     16
#define POOL	     4
#define MAX_CHANGES  24
#define SCHEMA_FILE  TUTTI_TEST_DATA "/conference-info.xsd"
#define TIME_BASE_MS INT64_C(1795255200000)

static xmlSchemaPtr schema;

struct pools {
	char aor[POOL][CI_URI_MAX];
	char contact[POOL][CI_URI_MAX];
};

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
	xmlSchemaParserCtxtPtr p = xmlSchemaNewParserCtxt(SCHEMA_FILE);
	schema = p ? xmlSchemaParse(p) : NULL;
	xmlSchemaFreeParserCtxt(p);
	if (!schema)
		fuzz_fail(T, "cannot load " SCHEMA_FILE);
	/* Only our own checks speak; libxml2 reports through return codes. */
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

static void fill_ep(struct fuzz_in *in, const struct pools *pl,
		    struct ci_endpoint *e, uint32_t id)
{
	uint8_t f = fuzz_u8(in);

	memset(e, 0, sizeof(*e));
	e->id = id;
	memcpy(e->user, pl->aor[fuzz_below(in, POOL)], CI_URI_MAX);
	memcpy(e->entity, pl->contact[fuzz_below(in, POOL)], CI_URI_MAX);
	fuzz_str(in, e->user_display, sizeof(e->user_display));
	e->moderator = f & 1;
	e->has_media = f & 2;
	e->speaking = f & 4;
	e->status = (enum ci_status)fuzz_below(in, CI_DISCONNECTED + 1);
	e->joining = (enum ci_joining)(f >> 3 & 1);
	e->media_status = (enum ci_media_status)(f >> 4 & 3);
	e->src_id = fuzz_u32(in);
	e->joined_unix_ms = f & 0x40 ? TIME_BASE_MS + fuzz_u16(in) : 0;
	if (f & 0x80)
		fuzz_str(in, e->referred_by, sizeof(e->referred_by));
	if (e->status == CI_DISCONNECTED) {
		e->disconnection = (enum ci_disconnection)fuzz_below(in, 5);
		e->disconnected_unix_ms = TIME_BASE_MS + fuzz_u16(in) * 10;
		fuzz_str(in, e->disconnected_by, sizeof(e->disconnected_by));
	}
}

static void change(struct fuzz_in *in, const struct pools *pl,
		   struct ci_room *r, uint32_t *next_id)
{
	unsigned op = fuzz_below(in, 6);
	size_t i =
	    r->n_endpoints ? fuzz_below(in, (unsigned)r->n_endpoints) : 0;
	struct ci_endpoint *e = r->n_endpoints ? &r->endpoints[i] : NULL;

	if (op == 0 && r->n_endpoints < MAX_EPS) {
		fill_ep(in, pl, &r->endpoints[r->n_endpoints++], (*next_id)++);
	} else if (op == 1 && e) {
		/* Removed from the snapshot: the departure has expired. */
		r->endpoints[i] = r->endpoints[--r->n_endpoints];
	} else if (op == 2 && e) {
		e->status = CI_DISCONNECTED;
		e->disconnection =
		    (enum ci_disconnection)(1 + fuzz_below(in, 4));
		e->disconnected_unix_ms = TIME_BASE_MS + fuzz_u16(in);
	} else if (op == 3 && e) {
		/* The same participant with new fields. */
		fill_ep(in, pl, e, e->id);
	} else if (op == 4) {
		r->locked = !r->locked;
		r->max_users = fuzz_u8(in);
	} else if (op == 5) {
		fuzz_str(in, r->display, sizeof(r->display));
	}
}

static void check_doc(const struct ci_doc *doc, uint32_t version)
{
	size_t len = 0;
	char *xml = confinfo_doc_stamp(doc, version, &len);
	char want[16];

	FUZZ_CHECK(T, xml != NULL && len == strlen(xml));
	xmlDocPtr d = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
	if (!d)
		fprintf(stderr, "not well-formed:\n%s\n", xml);
	FUZZ_CHECK(T, d != NULL);
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema);
	FUZZ_CHECK(T, v != NULL);
	int rc = xmlSchemaValidateDoc(v, d);
	if (rc)
		fprintf(stderr, "not valid:\n%s\n", xml);
	FUZZ_CHECK(T, rc == 0);
	xmlSchemaFreeValidCtxt(v);
	snprintf(want, sizeof(want), "%u", version);
	xmlChar *got = xmlGetProp(xmlDocGetRootElement(d), BAD_CAST "version");
	FUZZ_CHECK(T, got && strcmp((char *)got, want) == 0);
	xmlFree(got);
	xmlFreeDoc(d);
	free(xml);
}

static void check_full(const struct ci_room *r, uint32_t version)
{
	struct ci_doc doc;

	FUZZ_CHECK(T, confinfo_full(r, &doc) == 0);
	check_doc(&doc, version);
	confinfo_doc_free(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pools pl;
	static struct ci_endpoint eps[MAX_EPS];
	struct ci_room old = {.entity = "sip:fuzz@127.0.0.1"}, now;
	struct fuzz_in in;
	struct ci_doc doc;
	uint32_t next_id = 1;
	int err;

	fuzz_in_init(&in, data, size);
	memset(&pl, 0, sizeof(pl));
	fuzz_str(&in, old.display, sizeof(old.display));
	for (int i = 0; i < POOL; i++) {
		fuzz_str(&in, pl.aor[i], sizeof(pl.aor[i]));
		fuzz_str(&in, pl.contact[i], sizeof(pl.contact[i]));
	}
	old.max_users = fuzz_u8(&in);
	old.locked = fuzz_u8(&in) & 1;
	old.endpoints = eps;
	old.n_endpoints = fuzz_below(&in, MAX_EPS + 1);
	for (size_t i = 0; i < old.n_endpoints; i++)
		fill_ep(&in, &pl, &eps[i], next_id++);
	for (size_t i = 0; i < old.n_endpoints; i++)
		old.active |= eps[i].status != CI_DISCONNECTED;

	FUZZ_CHECK(T, confinfo_room_copy(&now, &old) == 0);
	/* Room for joins: the copy holds exactly n endpoints. */
	struct ci_endpoint *grown = calloc(MAX_EPS, sizeof(*grown));
	FUZZ_CHECK(T, grown != NULL);
	if (now.n_endpoints)
		memcpy(grown, now.endpoints, now.n_endpoints * sizeof(*grown));
	free(now.endpoints);
	now.endpoints = grown;
	for (unsigned k = 0; k < MAX_CHANGES && !fuzz_in_empty(&in); k++)
		change(&in, &pl, &now, &next_id);
	now.active = false;
	for (size_t i = 0; i < now.n_endpoints; i++)
		now.active |= now.endpoints[i].status != CI_DISCONNECTED;

	check_full(&old, 1);
	check_full(&now, 4294967295u);
	err = confinfo_partial(&old, &now, &doc);
	FUZZ_CHECK(T, err == 0 || err == -ENODATA);
	if (err == 0) {
		check_doc(&doc, 2);
		confinfo_doc_free(&doc);
	}
	confinfo_room_clear(&now);
	return 0;
}
