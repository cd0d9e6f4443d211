/* room_state.c: a room as its subscribers see it (RFC 4575).
 *
 * The focus's live state (rooms, participants) is turned into a plain
 * struct ci_room snapshot here; confinfo_xml.c renders snapshots and
 * sig_sub.c decides who gets which document when. Participants who left
 * are kept for a short while in a list of departures, so that a partial
 * document can say how they left (departed, booted, failed, busy) even
 * when their room ended with them. Signalling thread only. */
#include "conference/focus.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Long enough for any subscriber held back by --notify-interval. */
#define DEPARTED_KEEP_MIN_NS (10ull * 1000000000ull)

int64_t room_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The address this host would use to reach the world, without sending
 * anything: a connected UDP socket tells. */
static bool default_local_addr(char *out, size_t cap)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	socklen_t len = sizeof(a);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0 &&
		  inet_ntop(AF_INET, &a.sin_addr, out, (socklen_t)cap);
	close(fd);
	return ok;
}

void room_state_init(struct conference *c)
{
	const struct options *o = c->opts;
	char host[64] = "127.0.0.1";
	if (o->public_addr[0])
		snprintf(host, sizeof(host), "%s", o->public_addr);
	else if (strcmp(o->sip_host, "0.0.0.0") && strcmp(o->sip_host, "::"))
		snprintf(host, sizeof(host), "%s", o->sip_host);
	else if (!default_local_addr(host, sizeof(host)))
		snprintf(host, sizeof(host), "127.0.0.1");
	snprintf(c->focus_addr, sizeof(c->focus_addr), "%s", host);
	bool v6 = strchr(host, ':') != NULL;
	if (o->sip_port == 5060)
		snprintf(c->focus_host, sizeof(c->focus_host), "%s%s%s",
			 v6 ? "[" : "", host, v6 ? "]" : "");
	else
		snprintf(c->focus_host, sizeof(c->focus_host), "%s%s%s:%u",
			 v6 ? "[" : "", host, v6 ? "]" : "", o->sip_port);
}

void room_uri(const struct conference *c, const char *room, char *out,
	      size_t cap)
{
	snprintf(out, cap, "sip:%s@%s", room, c->focus_host);
}

void room_changed(struct conference *c, const char *room)
{
	sig_sub_room_changed(c, room);
}

static enum ci_media_status media_status(const struct participant *p)
{
	bool sends = p->params.recv && !p->muted;
	bool hears = p->params.send && !p->deaf;
	if (sends && hears)
		return CI_SENDRECV;
	if (sends)
		return CI_SENDONLY;
	return hears ? CI_RECVONLY : CI_INACTIVE;
}

enum ci_status room_endpoint_status(const struct participant *p)
{
	if (p->status != CI_CONNECTED)
		return p->status;
	if (p->peer_dir == OA_SENDONLY || p->peer_dir == OA_INACTIVE)
		return CI_ON_HOLD;
	return p->muted ? CI_MUTED_VIA_FOCUS : CI_CONNECTED;
}

static void describe(const struct participant *p, struct ci_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->id = p->id;
	snprintf(ep->user, sizeof(ep->user), "%s", p->uri);
	snprintf(ep->user_display, sizeof(ep->user_display), "%s", p->display);
	ep->moderator = p->moderator;
	snprintf(ep->entity, sizeof(ep->entity), "%s",
		 p->entity[0] ? p->entity : p->uri);
	ep->status = room_endpoint_status(p);
	ep->joining = p->dialed_out ? CI_DIALED_OUT : CI_DIALED_IN;
	ep->joined_unix_ms = p->joined_unix_ms;
	snprintf(ep->referred_by, sizeof(ep->referred_by), "%s",
		 p->referred_by);
	ep->has_media = p->has_media;
	ep->media_status = media_status(p);
	ep->src_id = p->ssrc;
	ep->speaking = p->talking && !p->muted;
}

void room_part_info(const struct participant *p, struct conf_part_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = p->id;
	snprintf(out->uri, sizeof(out->uri), "%s", p->uri);
	snprintf(out->display_name, sizeof(out->display_name), "%s",
		 p->display);
	if (p->has_media)
		snprintf(out->codec, sizeof(out->codec), "%s",
			 codec_by_id(p->codec)->name);
	const char *st = confinfo_status_name(room_endpoint_status(p));
	snprintf(out->status, sizeof(out->status), "%s", st ? st : "");
	out->dialed_out = p->dialed_out;
	out->muted = p->muted;
	out->deaf = p->deaf;
	out->talking = p->talking;
	out->moderator = p->moderator;
	out->gain_db = p->gain_db;
	out->joined_unix_ms = p->joined_unix_ms;
	out->ssrc = p->ssrc;
	room_stats_info(p, &out->stats);
}

void room_record_departure(struct participant *p, enum ci_disconnection how,
			   const char *by)
{
	struct conference *c = p->room->conf;
	if (!p->admitted)
		return; /* never seen: a caller who did not get in */
	events_left(p, how, by);
	if (p->room->deleted)
		return; /* its subscriptions have ended */
	struct departed *d = calloc(1, sizeof(*d));
	if (d) {
		snprintf(d->room, sizeof(d->room), "%s", p->room->name);
		describe(p, &d->ep);
		d->ep.status = CI_DISCONNECTED;
		d->ep.disconnection = how;
		d->ep.disconnected_unix_ms = room_wall_ms();
		d->ep.speaking = false;
		if (by)
			snprintf(d->ep.disconnected_by,
				 sizeof(d->ep.disconnected_by), "%s", by);
		d->gone_ns = mono_now_ns();
		d->next = c->departed;
		c->departed = d;
	}
	room_changed(c, p->room->name);
}

static void prune_departed(struct conference *c)
{
	uint64_t keep = 3ull * c->opts->notify_interval_ms * 1000000ull;
	if (keep < DEPARTED_KEEP_MIN_NS)
		keep = DEPARTED_KEEP_MIN_NS;
	uint64_t now = mono_now_ns();
	struct departed **pp = &c->departed;
	while (*pp) {
		struct departed *d = *pp;
		if (now - d->gone_ns > keep) {
			*pp = d->next;
			free(d);
		} else {
			pp = &d->next;
		}
	}
}

void room_departed_free_all(struct conference *c)
{
	while (c->departed) {
		struct departed *d = c->departed;
		c->departed = d->next;
		free(d);
	}
}

int room_snapshot(struct conference *c, const char *name, struct ci_room *out)
{
	prune_departed(c);
	memset(out, 0, sizeof(*out));
	room_uri(c, name, out->entity, sizeof(out->entity));
	snprintf(out->display, sizeof(out->display), "%s", name);
	out->max_users = c->opts->max_participants;

	const struct room *r = room_find(c, name);
	size_t n = 0;
	if (r)
		n += r->n_parts;
	for (const struct departed *d = c->departed; d; d = d->next)
		n += strcmp(d->room, name) == 0;
	if (n) {
		out->endpoints = calloc(n, sizeof(*out->endpoints));
		if (!out->endpoints)
			return -ENOMEM;
	}
	size_t i = 0;
	if (r) {
		out->max_users = r->max_participants;
		out->locked = r->locked;
		for (const struct participant *p = r->parts; p; p = p->next)
			if (room_part_visible(p) && i < n)
				describe(p, &out->endpoints[i++]);
	}
	for (const struct departed *d = c->departed; d && i < n; d = d->next)
		if (strcmp(d->room, name) == 0)
			out->endpoints[i++] = d->ep;
	out->n_endpoints = i;
	for (size_t k = 0; k < i; k++)
		if (out->endpoints[k].status != CI_DISCONNECTED)
			out->active = true;
	return 0;
}

void room_set_entity(struct participant *p, const char *contact)
{
	const char *base = contact && contact[0] ? contact : p->uri;
	snprintf(p->entity, sizeof(p->entity), "%s", base);
	for (const struct participant *o = p->room->parts; o; o = o->next) {
		if (o != p && strcmp(o->entity, p->entity) == 0) {
			/* The same device twice: tell its calls apart. */
			char tail[32];
			int n =
			    snprintf(tail, sizeof(tail), ";tutti-id=%u", p->id);
			size_t room_left = sizeof(p->entity) - (size_t)n - 1;
			snprintf(p->entity, sizeof(p->entity), "%.*s%s",
				 (int)room_left, base, tail);
			return;
		}
	}
}

void room_participant_connected(struct participant *p, enum oa_dir peer_dir)
{
	bool first = p->status != CI_CONNECTED;
	enum ci_status was = room_endpoint_status(p);
	p->status = CI_CONNECTED;
	p->has_media = true;
	if (peer_dir == OA_SENDRECV &&
	    (p->peer_dir != OA_SENDRECV || !p->rx_expected_ns))
		p->rx_expected_ns = mono_now_ns(); /* joined or resumed */
	p->peer_dir = peer_dir;
	if (!p->admitted)
		return; /* the room learns of it when it is let in */
	if (first)
		p->joined_unix_ms = room_wall_ms();
	room_changed(p->room->conf, p->room->name);
	if (first)
		events_part(p->room->conf, CONF_EV_PART_JOINED, p);
	else if (room_endpoint_status(p) != was)
		events_part(p->room->conf, CONF_EV_PART_UPDATED, p);
}

void room_participant_admitted(struct participant *p)
{
	p->admitted = true;
	p->admitted_ns = mono_now_ns();
	p->joined_unix_ms = room_wall_ms();
	room_changed(p->room->conf, p->room->name);
	events_part(p->room->conf, CONF_EV_PART_JOINED, p);
}
