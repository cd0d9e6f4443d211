/* focus.h: the focus's private state, shared by conference.c, room.c and
 * the Sofia-SIP files sig_ua.c and sig_call.c.
 *
 * Everything here belongs to the signalling thread; only the atomics in
 * struct conference are read by other threads. A room owns its
 * participants and its mixer; a participant's stream is inside the mixer
 * from room_admit() until the mixer hands it back (room_on_media_event). */
#ifndef TUTTI_CONFERENCE_FOCUS_H
#define TUTTI_CONFERENCE_FOCUS_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conference/conference.h"
#include "conference/confinfo.h"
#include "conference/oa.h"
#include "conference/part_index.h"
#include "core/core.h"
#include "mixer/mixer.h"
#include "rtp/rtp.h"

#define ROOM_NAME_MAX 64
/* The rate a room's mixer starts at; it moves to what its members need
 * when they join (mixer/rate.c). Clips are looked up at any rate. */
#define ROOM_RATE_HZ 8000

struct sig;   /* Sofia-SIP state, sig_ua.c */
struct store; /* the SQLite room store, store.h */

struct participant {
	struct participant *next;
	struct participant **pprev; /* what points at us: unlinked in O(1) */
	struct room *room;
	uint32_t id;
	void *call; /* struct call of sig_call.c; NULL once gone */
	char call_id[128];
	char uri[CI_URI_MAX]; /* the caller's AOR: its user entity */
	char display[CI_DISPLAY_MAX + 1];
	char entity[CI_URI_MAX]; /* its endpoint: Contact, unique in room */
	char referred_by[CI_URI_MAX]; /* who REFERred it here, "" if none */
	enum ci_status status; /* pending, dialing-out, alerting, connected */
	bool dialed_out;
	bool moderator;
	bool muted, deaf, talking;
	int gain_db;	    /* on what it says, MIXER_GAIN_MIN_DB..MAX */
	int listen_gain_db; /* on what it hears (its keypad) */
	/* The dial-in dialogue (ivr*.c). A caller who dialled in is not
	 * admitted until it has given the PIN: not seen by subscribers, the
	 * API or its events, and isolated: not heard, hearing only its
	 * prompts. Participants we dial out to are admitted from the start. */
	bool admitted;
	bool isolated;
	uint64_t admitted_ns;
	struct ivr *ivr;
	char moving_to[ROOM_NAME_MAX + 1]; /* leaving the lobby for it */
	enum oa_dir peer_dir; /* the direction the participant asked for */
	uint64_t
	    rx_expected_ns; /* since when it should be sending (sendrecv) */
	bool has_media;
	int64_t joined_unix_ms;
	int rtp_fd, rtcp_fd;
	uint16_t rtp_port;
	uint32_t ssrc;	       /* our SSRC towards it; its CSRC in the mix */
	struct stream *stream; /* owned here while not in the mixer */
	bool in_mixer;
	bool leaving; /* REMOVE posted, waiting for the stream */
	struct stream_params params;
	enum codec_id codec;
	uint64_t joined_ns;
	struct mixer_part_stats stats; /* as the mixer last sent them */
};

struct room {
	struct room *next;
	struct conference *conf;
	char name[ROOM_NAME_MAX + 1];
	struct mixer *mixer;
	struct participant *parts;
	unsigned n_parts;
	bool locked;
	unsigned max_participants; /* 0: no limit */
	bool on_demand;		   /* created by a call; ends when empty */
	/* A stored room (made by the API, kept in the store) exists from its
	 * creation, with no mixer until media joins and again once empty. */
	char pin[CONF_PIN_MAX + 1];
	char moderator_pin[CONF_PIN_MAX + 1];
	int64_t created_unix_ms;
	/* Deleted by the API: no longer found by name, its calls ending. */
	bool deleted;
	struct rec *rec; /* the recording, rec.c; NULL when none */
	/* The generic dial-in number's room (--dialin-number): callers wait
	 * here to say which room they want. Never found by name, listed or
	 * announced. */
	bool lobby;
	/* Participants leaving whose MIXER_REMOVE found the mixer's queue
	 * full: room_on_media_events() posts them again. */
	unsigned unposted_removes;
	/* The mixer's tick count when last looked at, and when it last
	 * moved (0: not yet looked at): room_stats_stalled(). */
	uint64_t watch_ticks, watch_ns;
};

/* A participant who left, kept for a while so that subscribers learn how
 * (RFC 4575 disconnection-method) even after its room has ended. */
struct departed {
	struct departed *next;
	char room[ROOM_NAME_MAX + 1];
	struct ci_endpoint ep;
	uint64_t gone_ns;
};

struct conference {
	const struct options *opts;
	pthread_t thread;
	sem_t ready;
	int start_err;
	int ctl_fd;	   /* eventfd: stop requested by main */
	int media_fd;	   /* eventfd: some mixer has events */
	int req_fd;	   /* eventfd: a control request is queued (ctlq.c) */
	struct ctlq *ctlq; /* any thread; see ctlq.h */
	struct evring *events; /* any thread; see events.h */
	atomic_bool alive;
	atomic_uint n_rooms, n_parts;
	atomic_uint_fast64_t calls_total;

	struct sig *sig;
	struct store *store;
	struct portpool *ports;
	struct room *rooms;
	struct departed *departed;
	char focus_host[80]; /* host[:port] of our conference URIs */
	char focus_addr[64]; /* the host alone, without brackets */
	uint32_t next_part_id;
	struct part_index parts_by_id; /* every room's participants */
	bool stopping;
	/* Of the mixers that have stopped, so that totals never go back. */
	struct mixer_stats retired_stats;
	struct recorder *recorder; /* the recordings' writer, rec.c */
	struct ivr_clips *clips;   /* prompts and tones, ivr_clips.c */
	struct mixpool *pool;	   /* workers the mixers share big ticks with */
	bool send_batch; /* --send-batch, and the kernel takes io_uring */
	/* --realtime, if the kernel allows it: the media threads' SCHED_FIFO
	 * priority; 0 when off or refused (mixer/rtsched.c). */
	unsigned rt_priority;
};

/* room.c */
bool room_name_valid(const char *name);
/* A live room by name; a deleted room is no longer found. */
struct room *room_find(struct conference *c, const char *name);
/* A room kept in the store, made live without a mixer (conference start,
 * CONF_ROOM_CREATE). */
int room_add_stored(struct conference *c, const struct conf_room_spec *spec,
		    int64_t created_unix_ms, struct room **out);
/* CONF_ROOM_DELETE: the room is no longer found by name, ends with its
 * last participant (at once when empty), and its subscribers are told. */
void room_delete(struct room *r);
/* The sum of the mixers' statistics, retired ones included. */
void room_mixer_totals(struct conference *c, struct mixer_stats *out);
/* Sends p's controls (muted, deaf, gain) to the mixer if it is inside. */
int room_set_controls(struct participant *p);
/* Finds or, when rooms are made on demand, creates the room.
 * -ENOENT: unknown and not created; -EMFILE: --max-rooms reached;
 * -ENOMEM, or a mixer start error. */
int room_get(struct conference *c, const char *name, struct room **out);
/* --max-rooms rooms exist (stored ones count; they are never refused). */
bool room_limit_reached(const struct conference *c);
/* The lobby of the generic dial-in number, made when first called. */
int room_lobby(struct conference *c, const char *number, struct room **out);
/* Moves p (its media and itself) to the room named to, once the mixer
 * has handed its stream back; then ivr_moved() says how it went. */
int room_move(struct participant *p, const char *to);
/* p is seen: admitted and not leaving. */
bool room_part_visible(const struct participant *p);
/* The participant of r with this id, or NULL. */
struct participant *room_find_part(struct room *r, uint32_t id);
/* -EPERM locked, -EBUSY full. */
int room_may_join(const struct room *r);
/* Ends an on-demand room that a refused call made and nobody joined. */
void room_release_if_empty(struct room *r);
/* A new participant with its media ports bound (-ENOSPC: none left). */
int room_participant_new(struct room *r, const char *bind_host,
			 struct participant **out);
/* Hands the participant's stream to the mixer. */
int room_admit(struct participant *p, const struct stream_params *sp);
/* New parameters for an admitted participant (re-INVITE, UPDATE). */
int room_update(struct participant *p, const struct stream_params *sp);
/* The call is gone: leaves the mix within a tick, freed when the mixer
 * hands the stream back. p->call is cleared. Subscribers learn that it
 * left by `how` (`by`: the moderator who acted, or NULL); CI_DISC_NONE for
 * a call refused before it was ever seen. */
void room_leave(struct participant *p, enum ci_disconnection how,
		const char *by);
/* Drains every mixer's events (media_fd fired). */
void room_on_media_events(struct conference *c);
/* Stops every mixer and frees every room (signalling thread, at exit). */
void room_destroy_all(struct conference *c);

/* room_stats.c: a participant's media figures. */
/* What the API shows of them. */
void room_stats_info(const struct participant *p, struct conf_media_stats *out);
/* The call has ended and its stream is back (p->stream): the last word
 * on its media, logged in one line. */
void room_stats_summary(struct participant *p);
/* After new figures: ends p's call when it has sent nothing for
 * --rtp-timeout while it should have (not on hold). */
void room_stats_check_timeout(struct participant *p);
/* t += st, for the figures that add up (not participants, not maxima). */
void room_stats_add(struct mixer_stats *t, const struct mixer_stats *st);
/* The running mixers whose tick count has not moved for stall_ns as far
 * as successive calls can tell (the first call for a mixer only takes the
 * baseline); now_ns is CLOCK_MONOTONIC. */
unsigned room_stats_stalled(struct conference *c, uint64_t now_ns,
			    uint64_t stall_ns);

/* room_state.c: what subscribers see of a room (RFC 4575). */
/* Something visible about the room changed: subscribers will hear. */
void room_changed(struct conference *c, const char *room);
/* The participant is leaving: remembered as disconnected by `how`
 * (`by`: the moderator's URI or NULL), and the room changes. */
void room_record_departure(struct participant *p, enum ci_disconnection how,
			   const char *by);
/* A snapshot of the room as it is now (also of a room that does not
 * exist yet: empty and inactive). Free with confinfo_room_clear(). */
int room_snapshot(struct conference *c, const char *room, struct ci_room *out);
void room_departed_free_all(struct conference *c);
/* Media is agreed and flowing (again), with the direction the
 * participant asked for: connected (or on hold), and the room changes
 * (once the participant is admitted). */
void room_participant_connected(struct participant *p, enum oa_dir peer_dir);
/* The dial-in dialogue let p in: it joins the room as others see it. */
void room_participant_admitted(struct participant *p);
/* Sets p->entity from its Contact, made unique within the room. */
void room_set_entity(struct participant *p, const char *contact);
/* Our conference URI for a room: sip:room@focus_host. */
void room_uri(const struct conference *c, const char *room, char *out,
	      size_t cap);
/* Works out focus_host from the options (conference start). */
void room_state_init(struct conference *c);
/* The wall clock in ms since 1970, for joined/created times. */
int64_t room_wall_ms(void);
/* p's RFC 4575 endpoint status as subscribers see it now. */
enum ci_status room_endpoint_status(const struct participant *p);
/* p as the control API and events describe it. */
void room_part_info(const struct participant *p, struct conf_part_info *out);

/* sig_sub.c, called by room code: the room's state changed. */
void sig_sub_room_changed(struct conference *c, const char *room);
/* The room was deleted: every subscription to it ends with a final NOTIFY
 * (reason=noresource). */
void sig_sub_room_deleted(struct conference *c, const char *room);

/* sig_call.c, called by room code: p sent nothing for secs seconds while
 * it should have (--rtp-timeout): BYE, disconnection failed. */
void sig_call_rtp_timeout(struct participant *p, unsigned secs);

/* sig_ua.c */
int sig_start(struct conference *c); /* in the signalling thread */
void sig_run(struct conference *c);  /* runs until shutdown completes */
void sig_free(struct conference *c);

/* events.c: events for the API, pushed by the signalling thread where
 * things happen (conference_events_wait() reads them). */
void events_room(struct conference *c, enum conf_event_kind k,
		 const char *room);
void events_part(struct conference *c, enum conf_event_kind k,
		 const struct participant *p);
/* recording.started / recording.stopped with the file's name. */
void events_rec(struct conference *c, enum conf_event_kind k, const char *room,
		const char *file);
void events_left(const struct participant *p, enum ci_disconnection how,
		 const char *by);
/* A chat MESSAGE from `from`: text (len bytes) is cut to valid UTF-8. */
void events_chat(struct conference *c, const struct participant *from,
		 const char *text, size_t len);

/* ctl_rooms.c: makes every room kept in the store live (start). */
int ctl_rooms_load(struct conference *c);
/* ctl.c: serves queued control requests (req_fd fired). */
void ctl_serve(struct conference *c);

/* rec_room.c: recording a room's mix (written by rec.c's writer thread). */
/* Starts recording the room's mix in format fmt; the file name (relative
 * to data_dir) into file_out. -EALREADY (also while a stop is finishing),
 * -ENOTCONN when the room has no mixer (no media), -ENOSPC (no disk, or
 * the mixer's queue is full), -EINVAL (unknown format), -EIO. */
int rec_start(struct conference *c, struct room *r, enum conf_rec_format fmt,
	      char *file_out, size_t cap);
/* Stops; the file is closed and renamed by the writer. -ENOENT when not
 * recording, -ENOSPC when the mixer's queue is full. */
int rec_stop(struct conference *c, struct room *r);
/* The file being recorded, as rec_start() named it ("" if none). */
const char *rec_file(const struct room *r, char *out, size_t cap);
bool rec_active(const struct room *r);
/* Stops every recording and the writer thread (conference stop): files
 * closed cleanly. */
void rec_shutdown(struct conference *c);
/* The mixer handed a recording queue back (MIXER_EV_REC_STOPPED, also
 * among the events mixer_poll() gives after mixer_stop()): the writer
 * finishes it. Called wherever room.c drains a mixer's events. */
void rec_on_mixer_stopped(struct conference *c, struct room *r);

/* sig_call.c, called by sig_ua.c's event dispatcher */
void sig_call_hangup_all(struct conference *c);
unsigned sig_call_count(const struct conference *c);

#endif
