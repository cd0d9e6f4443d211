/* confinfo_diff.c: the partial conference-info document that takes a
 * subscriber from one snapshot to the next (RFC 4575 4.6).
 *
 * Both snapshots become views (confinfo_view.c), whose users are sorted by
 * entity and whose endpoints are sorted by entity within their user, so
 * the two are walked side by side like a merge: O(n log n) for the sorts,
 * O(n) for the walk, whatever the size of the room. Containers
 * (<users>, a partial <user>) are opened only when a first change below
 * them is found; a walk that writes nothing means -ENODATA. What a partial
 * document cannot say (a new room entity, a lifted user limit) is sent as
 * a full document. No state; any thread. */
#include "conference/confinfo_int.h"

#include <errno.h>
#include <string.h>

struct diff {
	struct ci_writer *cw;
	const struct ci_view *a, *b; /* old, now */
	bool users_open, changed;
};

static bool need_full(const struct ci_view *a, const struct ci_view *b)
{
	return strcmp(a->entity, b->entity) != 0 ||
	       (a->max_users && !b->max_users);
}

static void description(struct diff *d)
{
	bool display = strcmp(d->a->display, d->b->display) != 0;
	bool max = d->a->max_users != d->b->max_users;
	if (!display && !max)
		return;
	confinfo_xml_start(d->cw, "conference-description", NULL);
	if (display)
		confinfo_xml_text(d->cw, "display-text", d->b->display);
	if (max)
		confinfo_xml_uint(d->cw, "maximum-user-count", d->b->max_users);
	confinfo_xml_end(d->cw);
	d->changed = true;
}

static void state(struct diff *d)
{
	bool count = d->a->n_users != d->b->n_users;
	bool active = d->a->active != d->b->active;
	bool locked = d->a->locked != d->b->locked;
	if (!count && !active && !locked)
		return;
	confinfo_xml_start(d->cw, "conference-state", NULL);
	if (count)
		confinfo_xml_uint(d->cw, "user-count", d->b->n_users);
	if (active)
		confinfo_xml_bool(d->cw, "active", d->b->active);
	if (locked)
		confinfo_xml_bool(d->cw, "locked", d->b->locked);
	confinfo_xml_end(d->cw);
	d->changed = true;
}

static void open_users(struct diff *d)
{
	if (d->users_open)
		return;
	confinfo_xml_start(d->cw, "users", "partial");
	d->users_open = d->changed = true;
}

/* A user's own fields are those of its lowest-id endpoint. */
static bool user_same(const struct ci_user *u, const struct ci_user *v)
{
	return strcmp(u->eps[0].display, v->eps[0].display) == 0 &&
	       u->eps[0].moderator == v->eps[0].moderator;
}

static void user_deleted(struct diff *d, const struct ci_user *u)
{
	open_users(d);
	confinfo_xml_user_start(d->cw, u, "deleted");
	for (size_t i = 0; i < u->n; i++)
		confinfo_xml_departed(d->cw, &u->eps[i],
				      confinfo_view_gone(d->b, u->eps[i].id));
	confinfo_xml_end(d->cw);
}

static void open_user(struct diff *d, const struct ci_user *v, bool *open)
{
	if (*open)
		return;
	open_users(d);
	confinfo_xml_user_start(d->cw, v, "partial");
	*open = true;
}

/* u (old) and v (now) have the same entity. */
static void user_changed(struct diff *d, const struct ci_user *u,
			 const struct ci_user *v)
{
	if (!user_same(u, v)) {
		open_users(d);
		confinfo_xml_user(d->cw, v, "full");
		return;
	}
	bool open = false;
	for (size_t i = 0, j = 0; i < u->n || j < v->n;) {
		const struct ci_ep *e = i < u->n ? u->by_entity[i] : NULL;
		const struct ci_ep *f = j < v->n ? v->by_entity[j] : NULL;
		int c = !e ? 1 : !f ? -1 : strcmp(e->entity, f->entity);
		if (c < 0) {
			open_user(d, v, &open);
			confinfo_xml_departed(d->cw, e,
					      confinfo_view_gone(d->b, e->id));
		} else if (c > 0 || !confinfo_view_ep_same(e, f)) {
			open_user(d, v, &open);
			confinfo_xml_endpoint(d->cw, f);
		}
		i += c <= 0;
		j += c >= 0;
	}
	if (open)
		confinfo_xml_end(d->cw);
}

static void users(struct diff *d)
{
	const struct ci_view *a = d->a, *b = d->b;
	for (size_t i = 0, j = 0; i < a->n_users || j < b->n_users;) {
		const struct ci_user *u = i < a->n_users ? &a->users[i] : NULL;
		const struct ci_user *v = j < b->n_users ? &b->users[j] : NULL;
		int c = !u   ? 1
			: !v ? -1
			     : strcmp(u->eps[0].user, v->eps[0].user);
		if (c < 0) {
			user_deleted(d, u);
		} else if (c > 0) {
			open_users(d);
			confinfo_xml_user(d->cw, v, "full");
		} else {
			user_changed(d, u, v);
		}
		i += c <= 0;
		j += c >= 0;
	}
	if (d->users_open)
		confinfo_xml_end(d->cw);
}

static int write_partial(const struct ci_view *a, const struct ci_view *b,
			 struct ci_doc *out)
{
	struct ci_writer cw;
	int err = confinfo_xml_begin(&cw, b, "partial");
	if (err)
		return err;
	struct diff d = {.cw = &cw, .a = a, .b = b};
	description(&d);
	state(&d);
	users(&d);
	if (!d.changed) {
		confinfo_xml_abort(&cw);
		return -ENODATA;
	}
	return confinfo_xml_finish(&cw, out);
}

int confinfo_partial(const struct ci_room *old, const struct ci_room *now,
		     struct ci_doc *out)
{
	struct ci_view a, b;
	int err = confinfo_view_build(&a, old);
	if (err)
		return err;
	err = confinfo_view_build(&b, now);
	if (err == 0)
		err = need_full(&a, &b) ? confinfo_xml_full_view(&b, out)
					: write_partial(&a, &b, out);
	confinfo_view_free(&a);
	confinfo_view_free(&b);
	return err;
}
