/* rec_room.c: recording a room's mix, the room API of focus.h on top of
 * the writer (rec.h). A recording is the room's struct rec: started here,
 * its queue handed to the room's mixer (MIXER_REC_START), stopped by asking
 * the mixer to let go (MIXER_REC_STOP); when the queue comes back
 * (MIXER_EV_REC_STOPPED, rec_on_mixer_stopped) the writer finishes the file.
 * Signalling thread only. */
#include "conference/focus.h"
#include "conference/rec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

int rec_start(struct conference *c, struct room *r, enum conf_rec_format fmt,
	      char *file_out, size_t cap)
{
	if (r->rec)
		return -EALREADY;
	if (!r->mixer)
		return -ENOTCONN;
	if (c->stopping)
		return -EIO;
	char dir[PATH_MAX], name[REC_NAME_CAP];
	if (cap < sizeof("recordings/") + sizeof(name))
		return -EINVAL;
	if (snprintf(dir, sizeof(dir), "%s/recordings", c->opts->data_dir) >=
	    (int)sizeof(dir))
		return -EIO;
	if (!c->recorder && rec_writer_new(&c->recorder) < 0)
		return -EIO;
	struct rec *f;
	int err = rec_file_open(&f, dir, r->name, fmt, MIXER_REC_RATE_HZ,
				time(NULL), name, sizeof(name));
	if (err)
		return err;
	struct mixer_cmd cmd = {.kind = MIXER_REC_START,
				.rec = rec_file_queue(f)};
	if (mixer_post(r->mixer, &cmd) < 0) {
		rec_file_discard(f);
		return -ENOSPC;
	}
	rec_writer_add(c->recorder, f);
	r->rec = f;
	snprintf(file_out, cap, "recordings/%s", name);
	log_info("rec", "room=%s recording to %s", r->name, file_out);
	return 0;
}

int rec_stop(struct conference *c, struct room *r)
{
	(void)c;
	if (!rec_active(r))
		return -ENOENT;
	struct mixer_cmd cmd = {.kind = MIXER_REC_STOP};
	int err = mixer_post(r->mixer, &cmd);
	if (err)
		return err;
	rec_file_mark_stopping(r->rec);
	log_info("rec", "room=%s recording stops", r->name);
	return 0;
}

bool rec_active(const struct room *r)
{
	return r->rec && !rec_file_stopping(r->rec);
}

const char *rec_file(const struct room *r, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", r->rec ? "recordings/" : "",
		 r->rec ? rec_file_name(r->rec) : "");
	return out;
}

void rec_on_mixer_stopped(struct conference *c, struct room *r)
{
	struct rec *f = r->rec;
	if (!f)
		return;
	r->rec = NULL;
	if (c->recorder)
		rec_writer_finish(c->recorder, f);
	else
		rec_file_free(f); /* closed by rec_shutdown() */
}

void rec_shutdown(struct conference *c)
{
	if (!c->recorder)
		return;
	for (struct room *r = c->rooms; r; r = r->next) {
		if (!rec_active(r))
			continue;
		struct mixer_cmd cmd = {.kind = MIXER_REC_STOP};
		if (mixer_post(r->mixer, &cmd) == 0)
			rec_file_mark_stopping(r->rec);
	}
	/* Closes every file; those the mixers still hold are freed when
	 * their MIXER_EV_REC_STOPPED comes (rec_on_mixer_stopped). */
	rec_writer_free(c->recorder);
	c->recorder = NULL;
}
