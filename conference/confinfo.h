/* confinfo.h: RFC 4575 conference-info documents, built from snapshots.
 *
 * The focus describes a room as a struct ci_room (a plain snapshot, no
 * pointers into live state) and this module turns it into XML with
 * libxml2's xmlwriter: a full document, or the partial document that takes
 * a subscriber who holds one snapshot to the next. Plain functions with no
 * state of their own, safe from any thread; the signalling thread is the
 * one that uses them.
 *
 * A room's members are a flat list of endpoints; endpoints that share a
 * user entity (the caller's AOR) are grouped under one <user>. Every
 * string is treated as hostile input: control characters and invalid
 * UTF-8 are dropped and display texts are cut to CI_DISPLAY_MAX bytes on a
 * character boundary before they are written (xmlwriter escapes the rest).
 *
 * Partial documents follow RFC 4575 4.6 with explicit state attributes:
 * <users state="partial">; a new user or one whose own fields changed is
 * sent whole (state="full"); a user whose endpoints changed is
 * state="partial" with only those endpoints (state="full", or
 * state="deleted" for one that left); a user whose last endpoint left is
 * <user state="deleted"> and carries, for the record, the departed
 * endpoint with status disconnected and its disconnection-method and
 * disconnection-info.
 *
 * Departures: the focus keeps a departed endpoint in its snapshots for a
 * while with status CI_DISCONNECTED and its disconnection fields. A full
 * document leaves disconnected endpoints out (and users left with none);
 * a partial one sends an endpoint that is disconnected in `now` but was
 * present in `old` as deleted, with those facts inside; an endpoint that
 * is simply absent from `now` is deleted without them; one disconnected
 * in both is not mentioned. <conference-state> and <conference-description>
 * appear only when changed, with only their changed children (RFC 4575
 * 6.3's example). The two changes a partial document cannot say (the
 * room's entity changed, or its maximum-user-count was lifted) give a
 * full document instead.
 *
 * An endpoint's entity is the key subscribers merge on, so it must be
 * unique within its user; two calls from one contact URI would share it.
 * All but one of them (the lowest id) are written with ";tutti-id=<id>"
 * appended. */
#ifndef TUTTI_CONFERENCE_CONFINFO_H
#define TUTTI_CONFERENCE_CONFINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CI_URI_MAX     256
#define CI_DISPLAY_MAX 128
/* Our namespace for what RFC 4575 has no element for (speaking). */
#define CI_TUTTI_NS "urn:x-tutti:params:xml:ns:conference-info"

enum ci_status {
	CI_PENDING,
	CI_DIALING_OUT,
	CI_ALERTING,
	CI_CONNECTED,
	CI_ON_HOLD,
	CI_MUTED_VIA_FOCUS,
	CI_DISCONNECTED,
};

enum ci_joining {
	CI_DIALED_IN,
	CI_DIALED_OUT,
};

enum ci_disconnection {
	CI_DISC_NONE,
	CI_DEPARTED,
	CI_BOOTED,
	CI_FAILED,
	CI_BUSY,
};

/* The participant's media, seen from the participant: sendrecv normally,
 * sendonly on hold or deaf, recvonly when muted by the focus. */
enum ci_media_status {
	CI_INACTIVE,
	CI_SENDONLY,
	CI_RECVONLY,
	CI_SENDRECV,
};

struct ci_endpoint {
	uint32_t id;	       /* participant id: the stable key */
	char user[CI_URI_MAX]; /* user entity: the caller's AOR */
	char user_display[CI_DISPLAY_MAX + 1]; /* raw From display name */
	bool moderator;		 /* role "moderator", else "participant" */
	char entity[CI_URI_MAX]; /* endpoint entity: its contact URI */
	enum ci_status status;
	enum ci_joining joining;
	int64_t joined_unix_ms;	      /* joining-info/when; 0: not yet joined */
	char referred_by[CI_URI_MAX]; /* REFER's Referred-By, "" if none */
	enum ci_disconnection disconnection;
	int64_t disconnected_unix_ms;
	char disconnected_by[CI_URI_MAX]; /* the moderator who acted, or "" */
	bool has_media;			  /* false before media is agreed */
	enum ci_media_status media_status;
	uint32_t src_id; /* our SSRC for it: its CSRC in the mix */
	bool speaking;
};

struct ci_room {
	char entity[CI_URI_MAX];	  /* sip:room@host */
	char display[CI_DISPLAY_MAX + 1]; /* the room's name */
	unsigned max_users;		  /* 0: no limit, element omitted */
	bool active, locked;
	size_t n_endpoints;
	struct ci_endpoint *endpoints; /* any order; ids unique */
};

/* A rendered document whose version attribute is filled in per
 * subscriber by confinfo_doc_stamp(), so that one rendering serves every
 * subscriber who needs the same change. */
struct ci_doc {
	char *xml; /* NUL-terminated, with "version=\"0\"" at version_at */
	size_t len;
	size_t version_at; /* offset of the digit 0 of version="0" */
};

/* A full document. -EINVAL (endpoints missing), -ENOMEM, or -EIO when
 * libxml2 fails. Free *out with confinfo_doc_free(). */
int confinfo_full(const struct ci_room *room, struct ci_doc *out);
/* The partial document from old to now (a full one for the changes named
 * above). -ENODATA when nothing visible differs (no document is made
 * then); otherwise as confinfo_full(). */
int confinfo_partial(const struct ci_room *old, const struct ci_room *now,
		     struct ci_doc *out);
/* Writes the document with its version attribute set to version into a
 * new malloc'd NUL-terminated string (length in *len_out); NULL on
 * failure. */
char *confinfo_doc_stamp(const struct ci_doc *doc, uint32_t version,
			 size_t *len_out);
void confinfo_doc_free(struct ci_doc *doc); /* NULL-safe, frees xml */

/* Deep copies and frees of snapshots, for keeping what a subscriber holds.
 * The copy overwrites *dst (on success only) without freeing what it
 * held: clear it first. -EINVAL, -ENOMEM. */
int confinfo_room_copy(struct ci_room *dst, const struct ci_room *src);
/* Frees the endpoints; the room is left with none. NULL-safe. */
void confinfo_room_clear(struct ci_room *room);

/* RFC 4575's name ("dialing-out", "on-hold"...); NULL when out of range. */
const char *confinfo_status_name(enum ci_status s);

#endif
