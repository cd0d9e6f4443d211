/* confinfo_int.h: what the files of the conference-info module share, and
 * nothing outside them includes.
 *
 * A snapshot (struct ci_room) is first turned into a view: every string
 * made safe to write, the endpoints that a document shows grouped by user
 * and sorted, endpoint entities made unique within their user, and what a
 * document does not show zeroed, so that two views can be compared field
 * by field (confinfo_view.c). confinfo_xml.c writes views as full
 * documents and owns the xmlwriter; confinfo_diff.c writes the partial
 * document between two views with the same element writers. */
#ifndef TUTTI_CONFERENCE_CONFINFO_INT_H
#define TUTTI_CONFERENCE_CONFINFO_INT_H

#include <libxml/xmlwriter.h>

#include "conference/confinfo.h"

/* Room for ";tutti-id=4294967295" after the longest contact URI. */
#define CI_ENTITY_MAX (CI_URI_MAX + 24)

/* One endpoint as documents show it. */
struct ci_ep {
	uint32_t id;
	bool moderator, has_media, speaking;
	enum ci_status status;
	enum ci_joining joining;
	enum ci_disconnection disconnection;
	enum ci_media_status media_status;
	uint32_t src_id;	    /* 0 without media */
	int64_t joined_ms, disc_ms; /* 0: not written */
	char user[CI_URI_MAX];
	char display[CI_DISPLAY_MAX + 1];
	char entity[CI_ENTITY_MAX]; /* unique within its user */
	char referred_by[CI_URI_MAX];
	char disc_by[CI_URI_MAX];
};

struct ci_user {
	const struct ci_ep *eps;	/* id order; eps[0] speaks for it */
	struct ci_ep *const *by_entity; /* the same endpoints, entity order */
	size_t n;
};

struct ci_view {
	char entity[CI_URI_MAX];
	char display[CI_DISPLAY_MAX + 1];
	unsigned max_users;
	bool active, locked;
	size_t n_eps, n_gone, n_users;
	struct ci_ep *eps; /* shown endpoints by (user, id), then gone ones */
	const struct ci_ep *gone; /* disconnected endpoints, by id */
	struct ci_ep **by_entity; /* shown ones by (user, entity, id) */
	struct ci_user *users;	  /* by user entity */
};

/* confinfo_text.c */
/* Copies the well-formed, printable characters of src (at most src_cap
 * bytes, NUL or not) into dst, at most max_bytes of them, cut on a
 * character boundary. dst holds max_bytes + 1. Returns the length. */
size_t confinfo_text_clean(char *dst, size_t max_bytes, const char *src,
			   size_t src_cap);
/* The same for a value typed xs:anyURI: one that libxml2's validator
 * refuses is percent-encoded until it is a valid URI reference. max_bytes
 * is at most CI_URI_MAX - 1. */
size_t confinfo_text_uri(char *dst, size_t max_bytes, const char *src,
			 size_t src_cap);

/* confinfo_view.c */
/* -EINVAL (endpoints missing) or -ENOMEM. */
int confinfo_view_build(struct ci_view *v, const struct ci_room *room);
void confinfo_view_free(struct ci_view *v);
/* The disconnected endpoint with this id in v, or NULL. */
const struct ci_ep *confinfo_view_gone(const struct ci_view *v, uint32_t id);
/* Whether two endpoints with the same entity look the same. */
bool confinfo_view_ep_same(const struct ci_ep *a, const struct ci_ep *b);

/* confinfo_xml.c: a document being written. Element writers do nothing
 * once an error is recorded; confinfo_xml_finish() reports it. */
struct ci_writer {
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
	size_t version_at;
	int err;
};

/* Starts a document whose root has state (full, partial). */
int confinfo_xml_begin(struct ci_writer *cw, const struct ci_view *v,
		       const char *state);
/* Ends the document into *out; frees the writer either way. */
int confinfo_xml_finish(struct ci_writer *cw, struct ci_doc *out);
void confinfo_xml_abort(struct ci_writer *cw);

void confinfo_xml_start(struct ci_writer *cw, const char *name,
			const char *state); /* state NULL: no attribute */
void confinfo_xml_end(struct ci_writer *cw);
void confinfo_xml_text(struct ci_writer *cw, const char *name,
		       const char *text);
void confinfo_xml_uint(struct ci_writer *cw, const char *name, uint64_t n);
void confinfo_xml_bool(struct ci_writer *cw, const char *name, bool b);

/* A whole user (all its endpoints) with state (full). */
void confinfo_xml_user(struct ci_writer *cw, const struct ci_user *u,
		       const char *state);
/* The start of <user entity= state=>, to be ended by confinfo_xml_end(). */
void confinfo_xml_user_start(struct ci_writer *cw, const struct ci_user *u,
			     const char *state);
void confinfo_xml_endpoint(struct ci_writer *cw, const struct ci_ep *e);
/* <endpoint state="deleted"> under the entity it had, with how it left
 * when gone (its disconnected self in the newer view) is known. */
void confinfo_xml_departed(struct ci_writer *cw, const struct ci_ep *e,
			   const struct ci_ep *gone);
int confinfo_xml_full_view(const struct ci_view *v, struct ci_doc *out);

#endif
