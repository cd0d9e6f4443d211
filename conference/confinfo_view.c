/* confinfo_view.c: a snapshot as conference-info documents show it.
 *
 * Building a view copies every string of the snapshot through
 * confinfo_text_clean(), zeroes the fields a document leaves out (media of
 * an endpoint without media, times that xs:dateTime cannot hold) so that
 * comparing two views compares what subscribers see, and sorts: shown
 * endpoints by (user, id) and by (user, entity), disconnected ones (never
 * shown) by id. Sorting makes the documents deterministic and lets
 * confinfo_diff.c walk two views side by side in O(n log n) for rooms of
 * a thousand. No state; any thread. */
#include "conference/confinfo_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 10000-01-01T00:00:00Z: later times need a five-digit year. */
#define MS_YEAR_10000 INT64_C(253402300800000)

static int64_t shown_ms(int64_t ms)
{
	return ms > 0 && ms < MS_YEAR_10000 ? ms : 0;
}

static bool gone(const struct ci_ep *e)
{
	return e->status == CI_DISCONNECTED;
}

static void clean_ep(struct ci_ep *e, const struct ci_endpoint *s)
{
	memset(e, 0, sizeof(*e));
	e->id = s->id;
	e->moderator = s->moderator;
	e->speaking = s->speaking;
	e->status = s->status;
	e->joining = s->joining;
	e->joined_ms = shown_ms(s->joined_unix_ms);
	if (s->has_media) {
		e->has_media = true;
		e->media_status = s->media_status;
		e->src_id = s->src_id;
	}
	if (s->disconnection != CI_DISC_NONE) {
		e->disconnection = s->disconnection;
		e->disc_ms = shown_ms(s->disconnected_unix_ms);
		confinfo_text_uri(e->disc_by, CI_URI_MAX - 1,
				  s->disconnected_by, CI_URI_MAX);
	}
	confinfo_text_uri(e->user, CI_URI_MAX - 1, s->user, CI_URI_MAX);
	confinfo_text_clean(e->display, CI_DISPLAY_MAX, s->user_display,
			    CI_DISPLAY_MAX + 1);
	confinfo_text_clean(e->entity, CI_URI_MAX - 1, s->entity, CI_URI_MAX);
	confinfo_text_uri(e->referred_by, CI_URI_MAX - 1, s->referred_by,
			  CI_URI_MAX);
}

static int cmp_id(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

/* Shown endpoints by (user, id), then disconnected ones by id. */
static int cmp_user_id(const void *pa, const void *pb)
{
	const struct ci_ep *a = pa, *b = pb;
	if (gone(a) != gone(b))
		return gone(a) - gone(b);
	int c = gone(a) ? 0 : strcmp(a->user, b->user);
	return c ? c : cmp_id(a->id, b->id);
}

static int cmp_user_entity_id(const void *pa, const void *pb)
{
	const struct ci_ep *a = *(struct ci_ep *const *)pa;
	const struct ci_ep *b = *(struct ci_ep *const *)pb;
	int c = strcmp(a->user, b->user);
	if (c == 0)
		c = strcmp(a->entity, b->entity);
	return c ? c : cmp_id(a->id, b->id);
}

/* Endpoints of one user with one contact URI: all but the lowest id get
 * their id appended. p is sorted by (user, entity, id) and is again after. */
static void make_unique(struct ci_ep **p, size_t n)
{
	bool changed = false;
	for (size_t i = 1, lead = 0; i < n; i++) {
		if (strcmp(p[i]->user, p[lead]->user) != 0 ||
		    strcmp(p[i]->entity, p[lead]->entity) != 0) {
			lead = i;
			continue;
		}
		char *ent = p[i]->entity;
		size_t len = strlen(ent);
		snprintf(ent + len, CI_ENTITY_MAX - len, ";tutti-id=%" PRIu32,
			 p[i]->id);
		changed = true;
	}
	if (changed)
		qsort(p, n, sizeof(*p), cmp_user_entity_id);
}

static void group_users(struct ci_view *v)
{
	for (size_t i = 0, j; i < v->n_eps; i = j) {
		for (j = i + 1; j < v->n_eps; j++)
			if (strcmp(v->eps[j].user, v->eps[i].user) != 0)
				break;
		v->users[v->n_users++] =
		    (struct ci_user){.eps = v->eps + i,
				     .by_entity = v->by_entity + i,
				     .n = j - i};
	}
}

int confinfo_view_build(struct ci_view *v, const struct ci_room *room)
{
	memset(v, 0, sizeof(*v)); /* confinfo_view_free() may follow */
	if (!room || (room->n_endpoints && !room->endpoints))
		return -EINVAL;
	size_t n = room->n_endpoints;
	confinfo_text_uri(v->entity, CI_URI_MAX - 1, room->entity, CI_URI_MAX);
	confinfo_text_clean(v->display, CI_DISPLAY_MAX, room->display,
			    CI_DISPLAY_MAX + 1);
	v->max_users = room->max_users;
	v->active = room->active;
	v->locked = room->locked;
	if (n == 0)
		return 0;
	v->eps = calloc(n, sizeof(*v->eps));
	v->by_entity = calloc(n, sizeof(*v->by_entity));
	v->users = calloc(n, sizeof(*v->users));
	if (!v->eps || !v->by_entity || !v->users) {
		confinfo_view_free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		clean_ep(&v->eps[i], &room->endpoints[i]);
		v->n_eps += !gone(&v->eps[i]);
	}
	qsort(v->eps, n, sizeof(*v->eps), cmp_user_id);
	v->gone = v->eps + v->n_eps;
	v->n_gone = n - v->n_eps;
	for (size_t i = 0; i < v->n_eps; i++)
		v->by_entity[i] = &v->eps[i];
	qsort(v->by_entity, v->n_eps, sizeof(*v->by_entity),
	      cmp_user_entity_id);
	make_unique(v->by_entity, v->n_eps);
	group_users(v);
	return 0;
}

void confinfo_view_free(struct ci_view *v)
{
	if (!v)
		return;
	free(v->eps);
	free(v->by_entity);
	free(v->users);
	v->eps = NULL;
	v->by_entity = NULL;
	v->users = NULL;
	v->gone = NULL;
	v->n_eps = v->n_gone = v->n_users = 0;
}

const struct ci_ep *confinfo_view_gone(const struct ci_view *v, uint32_t id)
{
	size_t lo = 0, hi = v->n_gone;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->gone[mid].id == id)
			return &v->gone[mid];
		if (v->gone[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool confinfo_view_ep_same(const struct ci_ep *a, const struct ci_ep *b)
{
	return a->status == b->status && a->joining == b->joining &&
	       a->joined_ms == b->joined_ms &&
	       a->disconnection == b->disconnection &&
	       a->disc_ms == b->disc_ms && a->has_media == b->has_media &&
	       a->media_status == b->media_status && a->src_id == b->src_id &&
	       a->speaking == b->speaking &&
	       strcmp(a->referred_by, b->referred_by) == 0 &&
	       strcmp(a->disc_by, b->disc_by) == 0;
}
