/* room.c: the registry of rooms and the life of a participant's media.
 *
 * A room is made on the first INVITE to its URI (unless rooms are not made
 * on demand) and, when it was made that way, ends with its last
 * participant, taking its mixer thread with it. A participant's sockets are
 * bound here from the port pool; its stream goes into the mixer on
 * room_admit() and comes back as a MIXER_EV_REMOVED event, after which the
 * ports return to the pool. A room created through the control API is
 * kept in the store and lives from its creation until it is deleted,
 * empty or not; it starts its mixer when media first joins and stops it
 * when its last participant has gone, so that idle rooms cost no thread.
 * Signalling thread only. */
#include "conference/focus.h"
#include "conference/ivr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

bool room_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > ROOM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') ||
			  (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
			  ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

struct room *room_find(struct conference *c, const char *name)
{
	for (struct room *r = c->rooms; r; r = r->next)
		if (!r->deleted && !r->lobby && strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

bool room_part_visible(const struct participant *p)
{
	return p->admitted && !p->leaving;
}

static int room_start_mixer(struct room *r)
{
	struct mixer_params mp = {.rate_hz = ROOM_RATE_HZ,
				  .notify_fd = r->conf->media_fd,
				  .max_speakers = r->conf->opts->max_speakers,
				  .pool = r->conf->pool,
				  .send_batch = r->conf->send_batch,
				  .rt_priority = r->conf->rt_priority};
	snprintf(mp.room, sizeof(mp.room), "%s", r->name);
	return mixer_start(&r->mixer, &mp);
}

/* Stops the room's mixer, keeping its totals (the room is empty). */
static void room_end_mixer(struct room *r)
{
	struct conference *c = r->conf;
	if (!r->mixer)
		return;
	mixer_stop(r->mixer);
	struct mixer_event ev;
	while (mixer_poll(r->mixer, &ev) == 0) {
		if (ev.kind == MIXER_EV_REMOVED)
			stream_free(ev.stream); /* none expected */
		else if (ev.kind == MIXER_EV_REC_STOPPED)
			rec_on_mixer_stopped(c, r); /* the file is closed */
	}
	struct mixer_stats st;
	mixer_get_stats(r->mixer, &st);
	room_stats_add(&c->retired_stats, &st);
	mixer_free(r->mixer);
	r->mixer = NULL;
	r->watch_ns = 0; /* the next mixer counts from 0 again */
}

static void room_link(struct conference *c, struct room *r)
{
	r->next = c->rooms;
	c->rooms = r;
	atomic_fetch_add(&c->n_rooms, 1);
}

/* The dial-in number's lobby is no conference (the API does not list
 * it): it takes no place among the --max-rooms, and a dial-in caller
 * still cannot make a room beyond them (arrive() is refused). */
bool room_limit_reached(const struct conference *c)
{
	unsigned max = c->opts->max_rooms;
	if (!max)
		return false;
	unsigned n = atomic_load(&c->n_rooms);
	for (const struct room *r = c->rooms; r; r = r->next)
		n -= r->lobby;
	return n >= max;
}

static int room_new(struct conference *c, const char *name, bool lobby,
		    struct room **out)
{
	if (!lobby && room_limit_reached(c))
		return -EMFILE;
	struct room *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->conf = c;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->max_participants = c->opts->max_participants;
	r->on_demand = true;
	r->lobby = lobby;
	r->created_unix_ms = room_wall_ms();

	int err = room_start_mixer(r);
	if (err) {
		free(r);
		return err;
	}
	room_link(c, r);
	log_info("room", "room=%s created%s", name, lobby ? " (lobby)" : "");
	if (!lobby)
		events_room(c, CONF_EV_ROOM_CREATED, name);
	*out = r;
	return 0;
}

int room_add_stored(struct conference *c, const struct conf_room_spec *spec,
		    int64_t created_unix_ms, struct room **out)
{
	struct room *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->conf = c;
	snprintf(r->name, sizeof(r->name), "%s", spec->name);
	snprintf(r->pin, sizeof(r->pin), "%s", spec->pin);
	snprintf(r->moderator_pin, sizeof(r->moderator_pin), "%s",
		 spec->moderator_pin);
	/* The room's own limit, else the bridge's. */
	r->max_participants = spec->max_participants
				  ? spec->max_participants
				  : c->opts->max_participants;
	r->locked = spec->locked;
	r->created_unix_ms = created_unix_ms;
	room_link(c, r);
	*out = r;
	return 0;
}

int room_get(struct conference *c, const char *name, struct room **out)
{
	struct room *r = room_find(c, name);
	if (r) {
		*out = r;
		return 0;
	}
	if (!c->opts->rooms_on_demand)
		return -ENOENT;
	return room_new(c, name, false, out);
}

int room_lobby(struct conference *c, const char *number, struct room **out)
{
	for (struct room *r = c->rooms; r; r = r->next) {
		if (r->lobby && strcmp(r->name, number) == 0) {
			*out = r;
			return 0;
		}
	}
	return room_new(c, number, true, out);
}

int room_may_join(const struct room *r)
{
	if (r->locked)
		return -EPERM;
	if (r->max_participants && r->n_parts >= r->max_participants)
		return -EBUSY;
	return 0;
}

static bool ssrc_taken(const struct room *r, uint32_t ssrc)
{
	for (const struct participant *p = r->parts; p; p = p->next)
		if (p->ssrc == ssrc)
			return true;
	return ssrc == 0;
}

static uint32_t new_ssrc(const struct room *r)
{
	uint32_t ssrc = 0;
	while (ssrc_taken(r, ssrc))
		if (getrandom(&ssrc, sizeof(ssrc), 0) != sizeof(ssrc))
			ssrc = (uint32_t)rand();
	return ssrc;
}

/* Puts p first in room r's list of participants. */
static void link_part(struct participant *p, struct room *r)
{
	p->next = r->parts;
	if (p->next)
		p->next->pprev = &p->next;
	p->pprev = &r->parts;
	r->parts = p;
	r->n_parts++;
}

/* Takes p out of its room's list of participants: a room of thousands
 * loses them all at its end, one by one. */
static void unlink_part(struct participant *p)
{
	*p->pprev = p->next;
	if (p->next)
		p->next->pprev = p->pprev;
	p->next = NULL;
	p->pprev = NULL;
	p->room->n_parts--;
}

int room_participant_new(struct room *r, const char *bind_host,
			 struct participant **out)
{
	struct participant *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int err = portpool_bind(r->conf->ports, bind_host, &p->rtp_fd,
				&p->rtcp_fd, &p->rtp_port);
	if (err) {
		free(p);
		return err;
	}
	p->room = r;
	p->id = ++r->conf->next_part_id;
	err = part_index_put(&r->conf->parts_by_id, p);
	if (err) {
		portpool_release(r->conf->ports, p->rtp_fd, p->rtcp_fd,
				 p->rtp_port);
		free(p);
		return err;
	}
	p->ssrc = new_ssrc(r);
	p->joined_ns = mono_now_ns();
	p->status = CI_PENDING;
	p->peer_dir = OA_SENDRECV;
	p->admitted = true; /* a dial-in call makes it wait (sig_call.c) */
	link_part(p, r);
	atomic_fetch_add(&r->conf->n_parts, 1);
	*out = p;
	return 0;
}

static struct mixer_controls controls_of(const struct participant *p)
{
	/* In the dial-in dialogue: neither heard nor hearing the room. */
	struct mixer_controls mc = {.muted = p->muted || p->isolated,
				    .deaf = p->deaf || p->isolated,
				    .talk_gain_db = (int8_t)p->gain_db,
				    .listen_gain_db =
					(int8_t)p->listen_gain_db};
	return mc;
}

int room_set_controls(struct participant *p)
{
	if (!p->in_mixer)
		return 0; /* MIXER_ADD will carry them */
	struct mixer_cmd cmd = {.kind = MIXER_CONTROL,
				.part_id = p->id,
				.controls = controls_of(p)};
	return mixer_post(p->room->mixer, &cmd);
}

int room_admit(struct participant *p, const struct stream_params *sp)
{
	if (p->in_mixer)
		return room_update(p, sp);
	int err = p->room->mixer ? 0 : room_start_mixer(p->room);
	if (err)
		return err;
	err = stream_new(&p->stream, p->rtp_fd, p->rtcp_fd, ROOM_RATE_HZ,
			 p->ssrc, sp);
	if (err)
		return err;
	struct mixer_cmd cmd = {.kind = MIXER_ADD,
				.part_id = p->id,
				.stream = p->stream,
				.controls = controls_of(p)};
	err = mixer_post(p->room->mixer, &cmd);
	if (err) {
		stream_free(p->stream);
		p->stream = NULL;
		return err;
	}
	p->stream = NULL; /* the mixer's now */
	p->in_mixer = true;
	p->params = *sp;
	p->codec = sp->codec;
	return 0;
}

int room_update(struct participant *p, const struct stream_params *sp)
{
	if (!p->in_mixer)
		return room_admit(p, sp);
	struct mixer_cmd cmd = {
	    .kind = MIXER_UPDATE, .part_id = p->id, .params = *sp};
	int err = mixer_post(p->room->mixer, &cmd);
	if (!err) {
		p->params = *sp;
		p->codec = sp->codec;
	}
	return err;
}

static void room_free(struct room *r)
{
	struct conference *c = r->conf;
	struct room **pp = &c->rooms;
	while (*pp && *pp != r)
		pp = &(*pp)->next;
	if (*pp)
		*pp = r->next;

	room_end_mixer(r);
	atomic_fetch_sub(&c->n_rooms, 1);
	log_info("room", "room=%s ended", r->name);
	/* A deleted room's event went out when it was deleted. */
	if (r->on_demand && !r->deleted && !r->lobby && !c->stopping)
		events_room(c, CONF_EV_ROOM_DELETED, r->name);
	free(r);
}

void room_release_if_empty(struct room *r)
{
	if (r->n_parts == 0 && r->on_demand && !r->conf->stopping)
		room_free(r);
}

static void participant_free(struct participant *p)
{
	struct room *r = p->room;
	unlink_part(p);
	part_index_del(&r->conf->parts_by_id, p->id);
	atomic_fetch_sub(&r->conf->n_parts, 1);

	room_stats_summary(p);
	stream_free(p->stream);
	portpool_release(r->conf->ports, p->rtp_fd, p->rtcp_fd, p->rtp_port);
	ivr_free(p);
	free(p);
	if (r->n_parts == 0 && !r->conf->stopping) {
		if (r->on_demand)
			room_free(r);
		else
			room_end_mixer(r); /* a stored room idles */
	}
}

void room_leave(struct participant *p, enum ci_disconnection how,
		const char *by)
{
	p->call = NULL;
	if (p->leaving)
		return;
	ivr_on_leave(p);
	p->leaving = true;
	if (how != CI_DISC_NONE)
		room_record_departure(p, how, by);
	if (!p->in_mixer) {
		participant_free(p);
		return;
	}
	struct mixer_cmd cmd = {.kind = MIXER_REMOVE, .part_id = p->id};
	/* A full queue is retried from room_on_media_events(). */
	if (mixer_post(p->room->mixer, &cmd) == 0)
		p->in_mixer = false;
	else
		p->room->unposted_removes++;
}

struct participant *room_find_part(struct room *r, uint32_t id)
{
	struct participant *p = part_index_get(&r->conf->parts_by_id, id);
	return p && p->room == r ? p : NULL;
}

/* Talking on or off: subscribers hear of it unless the participant is
 * already on its way out (its departure says enough) or not let in. */
static void on_talking(struct room *r, const struct mixer_event *ev)
{
	struct participant *p = room_find_part(r, ev->part_id);
	if (!p || p->talking == ev->talking)
		return;
	p->talking = ev->talking;
	log_debug("room", "room=%s part=%u %s talking (%d dBFS)", r->name,
		  p->id, ev->talking ? "started" : "stopped", ev->level_db);
	/* Not yet let in: nobody is told, but the state is right once it
	 * is (a caller who talks through its PIN prompt). */
	if (p->leaving || !p->admitted)
		return;
	room_changed(r->conf, r->name);
	events_part(r->conf,
		    p->talking ? CONF_EV_PART_TALKING
			       : CONF_EV_PART_STOPPED_TALKING,
		    p);
}

static void on_stats(struct room *r, const struct mixer_event *ev)
{
	struct participant *p = room_find_part(r, ev->part_id);
	if (p) {
		p->stats = ev->stats;
		room_stats_check_timeout(p);
	}
}

/* Hands p's stream (back from a mixer) to its room's mixer. */
static int media_rejoin(struct participant *p)
{
	int err = p->room->mixer ? 0 : room_start_mixer(p->room);
	struct mixer_cmd cmd = {.kind = MIXER_ADD,
				.part_id = p->id,
				.stream = p->stream,
				.controls = controls_of(p)};
	if (!err)
		err = mixer_post(p->room->mixer, &cmd);
	if (!err) {
		p->stream = NULL;
		p->in_mixer = true;
	}
	return err;
}

static void relink(struct participant *p, struct room *to)
{
	unlink_part(p);
	p->room = to;
	link_part(p, to);
	room_set_entity(p, p->entity);
}

/* The stream of p, moving out of the lobby, is back: into the room it
 * asked for (made now if on demand), else back into the lobby. True when
 * the lobby ended, empty, with it. */
static bool arrive(struct participant *p)
{
	struct room *from = p->room, *to = NULL;
	char name[ROOM_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", p->moving_to);
	p->moving_to[0] = '\0';
	int err = room_get(from->conf, name, &to);
	if (!err &&
	    (to == from || to->deleted ||
	     (to->max_participants && to->n_parts >= to->max_participants)))
		err = -EBUSY;
	if (!err)
		relink(p, to);
	if (media_rejoin(p) && !err) {
		relink(p, from); /* no mixer there: back to the lobby */
		err = media_rejoin(p);
	}
	if (to && to != p->room)
		room_release_if_empty(to);
	sig_call_moved(p);
	ivr_moved(p, !err && p->room == to);
	if (from != p->room && from->n_parts == 0 && !from->conf->stopping) {
		room_free(from);
		return true;
	}
	return false;
}

int room_move(struct participant *p, const char *to)
{
	if (!p->in_mixer || p->leaving || !room_name_valid(to))
		return -EINVAL;
	struct mixer_cmd cmd = {.kind = MIXER_REMOVE, .part_id = p->id};
	int err = mixer_post(p->room->mixer, &cmd);
	if (!err)
		snprintf(p->moving_to, sizeof(p->moving_to), "%s", to);
	return err;
}

/* Keys and prompts played out go to the dialogue of the participant. */
static void on_dialogue(struct room *r, const struct mixer_event *ev)
{
	struct participant *p = room_find_part(r, ev->part_id);
	if (!p)
		return;
	if (ev->kind == MIXER_EV_DTMF)
		ivr_on_digit(p, &ev->digit);
	else
		ivr_on_played(p, ev->tag);
}

static void room_drain(struct room *r)
{
	struct mixer_event ev;
	/* participant_free() may free the room with its last participant,
	 * or stop an idle stored room's mixer (then r->mixer is NULL). */
	while (r && mixer_poll(r->mixer, &ev) == 0) {
		if (ev.kind == MIXER_EV_TALKING) {
			on_talking(r, &ev);
			continue;
		}
		if (ev.kind == MIXER_EV_STATS) {
			on_stats(r, &ev);
			continue;
		}
		if (ev.kind == MIXER_EV_DTMF || ev.kind == MIXER_EV_PLAYED) {
			on_dialogue(r, &ev);
			continue;
		}
		if (ev.kind == MIXER_EV_REC_STOPPED)
			rec_on_mixer_stopped(r->conf, r);
		if (ev.kind != MIXER_EV_REMOVED)
			continue;
		struct participant *p = room_find_part(r, ev.part_id);
		if (!p) {
			stream_free(ev.stream);
			continue;
		}
		p->stream = ev.stream;
		p->in_mixer = false;
		if (p->moving_to[0] && !p->leaving) {
			if (arrive(p))
				r = NULL;
			continue;
		}
		/* The room ends with its last participant: stop using it. */
		bool room_ends =
		    r->n_parts == 1 && r->on_demand && !r->conf->stopping;
		participant_free(p);
		if (room_ends)
			r = NULL;
	}
}

static void retry_removes(struct room *r)
{
	if (!r->unposted_removes)
		return; /* the common case: no walk of a big room every tick */
	r->unposted_removes = 0;
	for (struct participant *p = r->parts; p; p = p->next) {
		if (!p->leaving || !p->in_mixer)
			continue;
		struct mixer_cmd cmd = {.kind = MIXER_REMOVE, .part_id = p->id};
		if (mixer_post(r->mixer, &cmd) == 0)
			p->in_mixer = false;
		else
			r->unposted_removes++;
	}
}

void room_on_media_events(struct conference *c)
{
	uint64_t v;
	if (read(c->media_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another wake-up already drained it. */
	}
	struct room *r = c->rooms;
	while (r) {
		struct room *next = r->next;
		retry_removes(r);
		room_drain(r);
		r = next;
	}
}

void room_delete(struct room *r)
{
	struct conference *c = r->conf;
	char name[ROOM_NAME_MAX + 1];
	snprintf(name, sizeof(name), "%s", r->name);
	r->deleted = true;
	r->locked = true;
	r->on_demand = true; /* ends with its last participant */
	log_info("room", "room=%s deleted", name);
	events_room(c, CONF_EV_ROOM_DELETED, name);
	sig_sub_room_deleted(c, name);
	if (r->n_parts == 0)
		room_free(r);
}

void room_mixer_totals(struct conference *c, struct mixer_stats *out)
{
	*out = c->retired_stats;
	for (const struct room *r = c->rooms; r; r = r->next) {
		if (!r->mixer)
			continue;
		struct mixer_stats st;
		mixer_get_stats(r->mixer, &st);
		room_stats_add(out, &st);
		out->participants += st.participants;
	}
}

void room_destroy_all(struct conference *c)
{
	while (c->rooms) {
		struct room *r = c->rooms;
		mixer_stop(r->mixer);
		struct mixer_event ev;
		while (mixer_poll(r->mixer, &ev) == 0) {
			if (ev.kind == MIXER_EV_REC_STOPPED)
				rec_on_mixer_stopped(c, r);
			if (ev.kind != MIXER_EV_REMOVED)
				continue;
			struct participant *p = room_find_part(r, ev.part_id);
			if (p) {
				p->stream = ev.stream;
				p->in_mixer = false;
			} else {
				stream_free(ev.stream);
			}
		}
		/* Free participants without ending the room under us. */
		r->on_demand = false;
		while (r->parts)
			participant_free(r->parts);
		room_free(r);
	}
	part_index_free(&c->parts_by_id); /* empty now: its table too */
}
