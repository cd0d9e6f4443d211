/* conference.h: the focus (RFC 4579's word for the bridge's SIP side):
 * the signalling thread with its Sofia-SIP user agent, the rooms and their
 * participants.
 *
 * main() calls these from its own thread. conference_start() returns once
 * SIP is listening (or failed to), conference_stop() hangs up every call
 * with BYE and returns within a few seconds. Statistics may be read from any
 * thread. The conference owns every room, call and mixer. */
#ifndef TUTTI_CONFERENCE_H
#define TUTTI_CONFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

struct conference;

struct conference_stats {
	unsigned rooms;
	unsigned participants;
	uint64_t calls_total;
};

/* o must outlive the conference. -EADDRINUSE or -EINVAL (with a log line)
 * when SIP cannot listen. */
int conference_start(struct conference **out, const struct options *o);
/* BYE to every call, then stops the signalling thread and every mixer. */
void conference_stop(struct conference *c);
void conference_free(struct conference *c); /* NULL-safe, after stop */

void conference_get_stats(const struct conference *c,
			  struct conference_stats *out);
/* False once the signalling thread has stopped answering. */
bool conference_alive(const struct conference *c);

/* The versions of the libraries the focus links, for --version. */
void conference_print_versions(FILE *f);

/* ---- control: what moderators and programs ask (conference/ctl*.c) -------
 *
 * Any thread (the HTTP API's) may call conference_request(): the request is
 * copied to the signalling thread, which alone touches rooms, and the
 * caller waits (bounded) for its reply. Plain C structs both ways; the API
 * turns them into JSON. */

#define CONF_NAME_MAX 64 /* room and user names: [A-Za-z0-9._-]{1,64} */
#define CONF_PIN_MAX  32 /* PINs: digits */
#define CONF_URI_MAX  256

enum conf_op {
	CONF_ROOM_LIST,	  /* -> rooms */
	CONF_ROOM_GET,	  /* room -> room_info, parts */
	CONF_ROOM_CREATE, /* room_spec -> room_info; kept in the store */
	CONF_ROOM_UPDATE, /* room, room_spec (set_* fields) -> room_info */
	CONF_ROOM_DELETE, /* room: BYE to all, subscriptions end, forgotten */
	CONF_PART_LIST,	  /* room -> parts */
	CONF_PART_DIAL,	  /* room, uri -> part_id (outcome arrives as events) */
	CONF_PART_UPDATE, /* room, part_id, part_spec -> parts[0] */
	CONF_PART_KICK,	  /* room, part_id: BYE, disconnection booted */
	CONF_PART_MUTE_ALL, /* room, part_spec.muted: all but moderators
			       -> parts */
	CONF_REC_START,	    /* room, rec_format -> file */
	CONF_REC_STOP,	    /* room */
	CONF_USER_SET,	    /* user, password: a SIP user who may REGISTER */
	CONF_USER_DELETE,   /* user */
	CONF_METRICS,	    /* -> metrics */
};

struct conf_room_spec {
	char name[CONF_NAME_MAX + 1];
	char pin[CONF_PIN_MAX + 1]; /* "" = none */
	char moderator_pin[CONF_PIN_MAX + 1];
	unsigned max_participants; /* 0 = no limit */
	bool locked;
	/* CONF_ROOM_UPDATE changes only what is set */
	bool set_pin, set_moderator_pin, set_max_participants, set_locked;
};

struct conf_part_spec {
	bool set_muted, muted;
	bool set_deaf, deaf;
	bool set_gain_db;
	int gain_db;		       /* what it says, -24..+24 */
	bool set_moderator, moderator; /* promote or demote */
};

struct conf_room_info {
	char name[CONF_NAME_MAX + 1];
	unsigned participants;
	unsigned max_participants;
	bool locked, recording;
	bool persistent; /* created by the API, kept in the store */
	bool has_pin, has_moderator_pin;
	int64_t created_unix_ms;
	uint32_t rate_hz; /* the rate its mixer mixes at; 0: no media yet */
};

/* A participant's media since it joined, as the mixer last sent it (about
 * each second). lost: RFC 3550's cumulative count; loss_percent: lost out
 * of lost + received; late: after their time was played; discarded:
 * duplicates, out of the jitter buffer's reach, malformed; concealed:
 * packets' worth of audio made up; fec_recovered: lost packets decoded
 * from the next packet's in-band FEC (Opus) instead; jitter: RFC 3550
 * interarrival jitter. */
struct conf_media_stats {
	uint64_t packets_in, packets_out, lost, late, discarded, concealed;
	uint64_t fec_recovered;
	double loss_percent, jitter_ms;
	uint64_t foreign, srtp_failed, latched;
	uint64_t
	    undecoded; /* silence taken without a decode (DTX, CN, levels) */
	unsigned fec_loss_pct; /* Opus FEC coded for this % of loss; 0: none */
};

struct conf_part_info {
	uint32_t id;
	char uri[CONF_URI_MAX];
	char display_name[129];
	char codec[16];	 /* "PCMU", "opus"...; "" before media */
	char status[16]; /* RFC 4575 endpoint status: connected, on-hold... */
	bool dialed_out;
	bool muted, deaf, talking, moderator;
	int gain_db;
	int64_t joined_unix_ms; /* 0 until connected */
	uint32_t ssrc;		/* its CSRC in the mix, src-id in RFC 4575 */
	struct conf_media_stats stats;
};

struct conf_metrics {
	uint64_t calls_total, subscriptions;
	unsigned rooms, participants;
	uint64_t ticks, late_ticks, missed_ticks; /* as in mixer_stats */
	uint64_t tick_hist[8]; /* tick durations: <=0.5, 1, 2, 5, 10, 20, 50 ms,
				  more */
	uint64_t tick_ns_sum;
	uint64_t packets_in, packets_out, packets_lost, concealed;
	uint64_t fec_recovered;
	uint64_t undecoded; /* silence taken without a decode */
	/* dropped unheard: a stranger's, unauthenticated SRTP, malformed */
	uint64_t dropped_foreign, dropped_srtp, dropped_malformed;
	uint64_t encodes; /* speakers' own mixes, one per format for the rest */
	uint64_t fanned_ticks; /* shared with the mixer workers */
	uint64_t send_batches, batched_packets; /* io_uring, rtp/sendq.c */
	unsigned media_rt_priority; /* SCHED_FIFO; 0: off or refused */
	bool store_writable;
	/* Running mixers that have not ticked for CONF_MIXER_STALL_MS, as far
	 * as CONF_METRICS requests (/metrics, /healthz, the watchdog) have
	 * seen: a hung mixer thread. */
	unsigned mixers_stalled;
};

#define CONF_MIXER_STALL_MS 1000

/* The file format of a recording (CONF_REC_START); 0 is WAV. */
enum conf_rec_format {
	CONF_REC_WAV, /* 16-bit PCM, mono, at the room rate */
	CONF_REC_OGG, /* Ogg/Opus, mono */
};

struct conf_req {
	enum conf_op op;
	char room[CONF_NAME_MAX + 1];
	uint32_t part_id;
	char uri[CONF_URI_MAX];
	char user[CONF_NAME_MAX + 1];
	char password[129];
	struct conf_room_spec room_spec;
	struct conf_part_spec part_spec;
	enum conf_rec_format rec_format;
};

struct conf_reply {
	/* 0; -ENOENT no such room/participant; -EEXIST; -EINVAL (message
	 * says why); -EPERM locked; -EBUSY full; -ENOSPC no ports;
	 * -ETIMEDOUT the signalling thread did not answer in time; -EIO
	 * store failure; -ESHUTDOWN stopping; -EAGAIN too many requests
	 * pending, or the room's mixer queue was full (try again);
	 * -ENOTSUP recording not available. */
	int err;
	char message[160];
	struct conf_room_info room_info;
	struct conf_room_info *rooms; /* malloc'd; conference_reply_clear() */
	size_t n_rooms;
	struct conf_part_info *parts; /* malloc'd */
	size_t n_parts;
	uint32_t part_id;
	char file[CONF_URI_MAX]; /* recording file name */
	struct conf_metrics metrics;
};

/* Any thread. Copies req, waits at most timeout_ms for the reply (which
 * the caller frees with conference_reply_clear). Returns rep->err. */
int conference_request(struct conference *c, const struct conf_req *req,
		       struct conf_reply *rep, unsigned timeout_ms);
void conference_reply_clear(struct conf_reply *rep);

/* ---- events: what changed, for the API's Server-Sent Events ------------- */

enum conf_event_kind {
	CONF_EV_ROOM_CREATED,
	CONF_EV_ROOM_DELETED,
	CONF_EV_PART_JOINED,
	CONF_EV_PART_LEFT,
	CONF_EV_PART_MUTED,
	CONF_EV_PART_UNMUTED,
	CONF_EV_PART_TALKING,
	CONF_EV_PART_STOPPED_TALKING,
	CONF_EV_PART_UPDATED, /* status changed: alerting, on hold, resumed */
	CONF_EV_REC_STARTED,
	CONF_EV_REC_STOPPED,
	CONF_EV_CHAT_MESSAGE,
};

struct conf_event {
	uint64_t id; /* 1, 2, 3... for the life of the process */
	int64_t unix_ms;
	enum conf_event_kind kind;
	char room[CONF_NAME_MAX + 1];
	struct conf_part_info part; /* participant events */
	char reason[16];	    /* left: departed, booted, failed, busy */
	char by[CONF_URI_MAX];	    /* left: the moderator who acted */
	char file[CONF_URI_MAX];    /* recording events */
	char text[1024];	    /* chat: the message (UTF-8 text, cut) */
};

/* "room.created", "participant.joined"... */
const char *conference_event_name(enum conf_event_kind k);
/* Any thread. Copies up to cap events with id > after_id, oldest first,
 * waiting up to timeout_ms for one to exist. *gap is set when events after
 * after_id have already left the bounded ring (a resume came too late),
 * and also when after_id is beyond the newest id (an id from an earlier
 * run): then the oldest kept events are copied. Returns the number copied
 * (0 on timeout or once the conference stops). */
size_t conference_events_wait(struct conference *c, uint64_t after_id,
			      struct conf_event *out, size_t cap,
			      unsigned timeout_ms, bool *gap);
/* The id of the newest event (0 when none yet). */
uint64_t conference_events_last_id(struct conference *c);

#endif
