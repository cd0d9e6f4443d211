/* confinfo_xml.c: RFC 4575 conference-info documents written with
 * libxml2's xmlwriter, and the small things around them (version stamps,
 * snapshot copies).
 *
 * Element writers record the first libxml2 failure in the writer and do
 * nothing after it, so that documents read as a list of elements and the
 * error is checked once, when the document is finished. The root's version
 * is written as "0" and its offset remembered: confinfo_doc_stamp() then
 * splices in each subscriber's number without rendering again. The XML
 * declaration is written as raw text (no encoding handler is looked up)
 * and nothing here parses, so libxml2 needs no global initialisation and
 * any thread may call. With no document encoding set, the writer puts
 * non-ASCII characters of attribute values (entities) as character
 * references; element text stays plain UTF-8. */
#include "conference/confinfo_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define CI_NS	 "urn:ietf:params:xml:ns:conference-info"

static const char *const status_names[] = {
    [CI_PENDING] = "pending",
    [CI_DIALING_OUT] = "dialing-out",
    [CI_ALERTING] = "alerting",
    [CI_CONNECTED] = "connected",
    [CI_ON_HOLD] = "on-hold",
    [CI_MUTED_VIA_FOCUS] = "muted-via-focus",
    [CI_DISCONNECTED] = "disconnected",
};
static const char *const joining_names[] = {
    [CI_DIALED_IN] = "dialed-in",
    [CI_DIALED_OUT] = "dialed-out",
};
static const char *const disc_names[] = {
    [CI_DEPARTED] = "departed",
    [CI_BOOTED] = "booted",
    [CI_FAILED] = "failed",
    [CI_BUSY] = "busy",
}; /* CI_DISC_NONE: no disconnection-method */
static const char *const media_names[] = {
    [CI_INACTIVE] = "inactive",
    [CI_SENDONLY] = "sendonly",
    [CI_RECVONLY] = "recvonly",
    [CI_SENDRECV] = "sendrecv",
};

#define NAME(table, v)                                                         \
	((unsigned)(v) < sizeof(table) / sizeof(table[0]) ? table[v] : NULL)

const char *confinfo_status_name(enum ci_status s)
{
	return NAME(status_names, s);
}

/* libxml2's writer returns -1 on any failure: one code for all of them. */
static void check(struct ci_writer *cw, int rc)
{
	if (rc < 0 && cw->err == 0)
		cw->err = -EIO;
}

static void attr(struct ci_writer *cw, const char *name, const char *value)
{
	if (cw->err == 0)
		check(cw, xmlTextWriterWriteAttribute(cw->w, BAD_CAST name,
						      BAD_CAST value));
}

void confinfo_xml_start(struct ci_writer *cw, const char *name,
			const char *state)
{
	if (cw->err == 0)
		check(cw, xmlTextWriterStartElement(cw->w, BAD_CAST name));
	if (state)
		attr(cw, "state", state);
}

static void start_keyed(struct ci_writer *cw, const char *name,
			const char *entity, const char *state)
{
	confinfo_xml_start(cw, name, NULL);
	attr(cw, "entity", entity);
	attr(cw, "state", state);
}

void confinfo_xml_end(struct ci_writer *cw)
{
	if (cw->err == 0)
		check(cw, xmlTextWriterEndElement(cw->w));
}

void confinfo_xml_text(struct ci_writer *cw, const char *name, const char *text)
{
	if (cw->err == 0 && text)
		check(cw, xmlTextWriterWriteElement(cw->w, BAD_CAST name,
						    BAD_CAST text));
}

void confinfo_xml_uint(struct ci_writer *cw, const char *name, uint64_t n)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, n);
	confinfo_xml_text(cw, name, buf);
}

void confinfo_xml_bool(struct ci_writer *cw, const char *name, bool b)
{
	confinfo_xml_text(cw, name, b ? "true" : "false");
}

/* xs:dateTime in UTC with milliseconds; the view keeps ms in years
 * 1970 to 9999. */
static void write_time(struct ci_writer *cw, const char *name, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char buf[64];
	if (!gmtime_r(&s, &tm))
		return;
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	confinfo_xml_text(cw, name, buf);
}

int confinfo_xml_begin(struct ci_writer *cw, const struct ci_view *v,
		       const char *state)
{
	memset(cw, 0, sizeof(*cw));
	cw->buf = xmlBufferCreate();
	if (!cw->buf)
		return -ENOMEM;
	xmlBufferSetAllocationScheme(cw->buf, XML_BUFFER_ALLOC_DOUBLEIT);
	cw->w = xmlNewTextWriterMemory(cw->buf, 0);
	if (!cw->w) {
		confinfo_xml_abort(cw);
		return -ENOMEM;
	}
	check(cw, xmlTextWriterWriteRaw(cw->w, BAD_CAST XML_DECL));
	confinfo_xml_start(cw, "conference-info", NULL);
	attr(cw, "xmlns", CI_NS);
	attr(cw, "xmlns:tutti", CI_TUTTI_NS);
	attr(cw, "entity", v->entity);
	attr(cw, "state", state);
	attr(cw, "version", "0");
	if (cw->err == 0)
		check(cw, xmlTextWriterFlush(cw->w));
	size_t len = (size_t)xmlBufferLength(cw->buf);
	const xmlChar *text = xmlBufferContent(cw->buf);
	if (cw->err == 0 && (len < 2 || memcmp(text + len - 2, "0\"", 2)))
		cw->err = -EIO;
	if (cw->err) {
		int err = cw->err;
		confinfo_xml_abort(cw);
		return err;
	}
	cw->version_at = len - 2;
	return 0;
}

int confinfo_xml_finish(struct ci_writer *cw, struct ci_doc *out)
{
	if (cw->err == 0)
		check(cw, xmlTextWriterEndDocument(cw->w));
	xmlFreeTextWriter(cw->w);
	cw->w = NULL;
	int err = cw->err;
	size_t len = (size_t)xmlBufferLength(cw->buf);
	char *xml = err ? NULL : (char *)xmlBufferDetach(cw->buf);
	confinfo_xml_abort(cw);
	if (err)
		return err;
	if (!xml)
		return -ENOMEM;
	*out = (struct ci_doc){
	    .xml = xml, .len = len, .version_at = cw->version_at};
	return 0;
}

void confinfo_xml_abort(struct ci_writer *cw)
{
	if (cw->w)
		xmlFreeTextWriter(cw->w);
	if (cw->buf)
		xmlBufferFree(cw->buf);
	cw->w = NULL;
	cw->buf = NULL;
}

static void write_disconnection(struct ci_writer *cw, const struct ci_ep *e)
{
	const char *how = NAME(disc_names, e->disconnection);
	if (!how)
		return;
	confinfo_xml_text(cw, "disconnection-method", how);
	if (e->disc_ms == 0 && e->disc_by[0] == '\0')
		return;
	confinfo_xml_start(cw, "disconnection-info", NULL);
	if (e->disc_ms)
		write_time(cw, "when", e->disc_ms);
	if (e->disc_by[0])
		confinfo_xml_text(cw, "by", e->disc_by);
	confinfo_xml_end(cw);
}

/* The id attribute is unique within the endpoint, which has one medium. */
static void write_media(struct ci_writer *cw, const struct ci_ep *e)
{
	confinfo_xml_start(cw, "media", NULL);
	attr(cw, "id", "audio");
	confinfo_xml_text(cw, "type", "audio");
	confinfo_xml_text(cw, "label", "audio");
	confinfo_xml_uint(cw, "src-id", e->src_id);
	confinfo_xml_text(cw, "status", NAME(media_names, e->media_status));
	confinfo_xml_end(cw);
}

void confinfo_xml_endpoint(struct ci_writer *cw, const struct ci_ep *e)
{
	start_keyed(cw, "endpoint", e->entity, "full");
	if (e->referred_by[0]) {
		confinfo_xml_start(cw, "referred", NULL);
		confinfo_xml_text(cw, "by", e->referred_by);
		confinfo_xml_end(cw);
	}
	confinfo_xml_text(cw, "status", confinfo_status_name(e->status));
	confinfo_xml_text(cw, "joining-method",
			  NAME(joining_names, e->joining));
	if (e->joined_ms) {
		confinfo_xml_start(cw, "joining-info", NULL);
		write_time(cw, "when", e->joined_ms);
		confinfo_xml_end(cw);
	}
	write_disconnection(cw, e);
	if (e->has_media)
		write_media(cw, e);
	confinfo_xml_bool(cw, "tutti:speaking", e->speaking);
	confinfo_xml_end(cw);
}

void confinfo_xml_departed(struct ci_writer *cw, const struct ci_ep *e,
			   const struct ci_ep *gone)
{
	start_keyed(cw, "endpoint", e->entity, "deleted");
	if (gone) {
		confinfo_xml_text(cw, "status", "disconnected");
		write_disconnection(cw, gone);
	}
	confinfo_xml_end(cw);
}

void confinfo_xml_user_start(struct ci_writer *cw, const struct ci_user *u,
			     const char *state)
{
	start_keyed(cw, "user", u->eps[0].user, state);
}

void confinfo_xml_user(struct ci_writer *cw, const struct ci_user *u,
		       const char *state)
{
	const struct ci_ep *lead = &u->eps[0];
	confinfo_xml_user_start(cw, u, state);
	if (lead->display[0])
		confinfo_xml_text(cw, "display-text", lead->display);
	confinfo_xml_start(cw, "roles", NULL);
	confinfo_xml_text(cw, "entry",
			  lead->moderator ? "moderator" : "participant");
	confinfo_xml_end(cw);
	for (size_t i = 0; i < u->n; i++)
		confinfo_xml_endpoint(cw, &u->eps[i]);
	confinfo_xml_end(cw);
}

static void write_description(struct ci_writer *cw, const struct ci_view *v)
{
	confinfo_xml_start(cw, "conference-description", NULL);
	confinfo_xml_text(cw, "display-text", v->display);
	confinfo_xml_start(cw, "conf-uris", NULL);
	confinfo_xml_start(cw, "entry", NULL);
	confinfo_xml_text(cw, "uri", v->entity);
	confinfo_xml_text(cw, "purpose", "participation");
	confinfo_xml_end(cw);
	confinfo_xml_end(cw);
	if (v->max_users)
		confinfo_xml_uint(cw, "maximum-user-count", v->max_users);
	confinfo_xml_start(cw, "available-media", NULL);
	confinfo_xml_start(cw, "entry", NULL);
	attr(cw, "label", "audio");
	confinfo_xml_text(cw, "type", "audio");
	confinfo_xml_text(cw, "status", "sendrecv");
	confinfo_xml_end(cw);
	confinfo_xml_end(cw);
	confinfo_xml_end(cw);
}

int confinfo_xml_full_view(const struct ci_view *v, struct ci_doc *out)
{
	struct ci_writer cw;
	int err = confinfo_xml_begin(&cw, v, "full");
	if (err)
		return err;
	write_description(&cw, v);
	confinfo_xml_start(&cw, "conference-state", NULL);
	confinfo_xml_uint(&cw, "user-count", v->n_users);
	confinfo_xml_bool(&cw, "active", v->active);
	confinfo_xml_bool(&cw, "locked", v->locked);
	confinfo_xml_end(&cw);
	confinfo_xml_start(&cw, "users", "full");
	for (size_t i = 0; i < v->n_users; i++)
		confinfo_xml_user(&cw, &v->users[i], "full");
	confinfo_xml_end(&cw);
	return confinfo_xml_finish(&cw, out);
}

int confinfo_full(const struct ci_room *room, struct ci_doc *out)
{
	struct ci_view v;
	int err = confinfo_view_build(&v, room);
	if (err)
		return err;
	err = confinfo_xml_full_view(&v, out);
	confinfo_view_free(&v);
	return err;
}

char *confinfo_doc_stamp(const struct ci_doc *doc, uint32_t version,
			 size_t *len_out)
{
	if (!doc || !doc->xml || doc->version_at >= doc->len ||
	    doc->xml[doc->version_at] != '0')
		return NULL;
	char digits[16];
	int n = snprintf(digits, sizeof(digits), "%" PRIu32, version);
	size_t at = doc->version_at, len = doc->len - 1 + (size_t)n;
	char *s = malloc(len + 1);
	if (!s)
		return NULL;
	memcpy(s, doc->xml, at);
	memcpy(s + at, digits, (size_t)n);
	memcpy(s + at + n, doc->xml + at + 1, doc->len - at); /* and NUL */
	if (len_out)
		*len_out = len;
	return s;
}

void confinfo_doc_free(struct ci_doc *doc)
{
	if (!doc)
		return;
	xmlFree(doc->xml); /* xmlwriter's buffer, handed over as is */
	doc->xml = NULL;
	doc->len = doc->version_at = 0;
}

int confinfo_room_copy(struct ci_room *dst, const struct ci_room *src)
{
	if (!dst || !src || (src->n_endpoints && !src->endpoints))
		return -EINVAL;
	struct ci_endpoint *eps = NULL;
	size_t n = src->n_endpoints;
	if (n) {
		eps = calloc(n, sizeof(*eps));
		if (!eps)
			return -ENOMEM;
		memcpy(eps, src->endpoints, n * sizeof(*eps));
	}
	*dst = *src;
	dst->endpoints = eps;
	return 0;
}

void confinfo_room_clear(struct ci_room *room)
{
	if (!room)
		return;
	free(room->endpoints);
	room->endpoints = NULL;
	room->n_endpoints = 0;
}
