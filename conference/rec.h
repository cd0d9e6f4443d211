/* rec.h: the recording writer inside conference/, below the room API of
 * focus.h (rec_start() and friends, rec_room.c). Not for other folders;
 * the unit test drives it without a mixer.
 *
 * A struct rec is one file being written (WAV or Ogg/Opus, rec_sink.h) and
 * the queue of struct mixer_rec_frame that feeds it. A struct recorder is
 * one writer thread that drains every file added to it about every
 * 100 ms. The signalling thread opens a file, hands its queue to a
 * producer (the room's mixer), adds the file to the writer, and calls
 * rec_writer_finish() once the producer has let go of the queue: from then
 * on the writer owns the file, drains what is left, closes it, renames it
 * from <name>.part to <name> and frees it. rec_writer_free() closes every
 * file still in the writer; a file whose producer had not let go stays
 * allocated, closed, for its owner to free with rec_file_free() once the
 * producer has let go. */
#ifndef TUTTI_CONFERENCE_REC_H
#define TUTTI_CONFERENCE_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conference/conference.h"

struct rec;
struct recorder;
struct spscq;

#define REC_QUEUE_FRAMES   128			/* 2.56 s of 20 ms frames */
#define REC_NAME_CAP	   (CONF_NAME_MAX + 40) /* <room>-<stamp>[-n].wav */
#define REC_MIN_FREE_BYTES (16u << 20)

/* Starts a writer thread. -ENOMEM, or a pthread error. */
int rec_writer_new(struct recorder **out);
/* Closes every file the writer holds (after a last drain), frees those
 * already finished and joins the thread. NULL-safe. */
void rec_writer_free(struct recorder *w);

/* Creates dir if needed and opens dir/<room>-<yyyymmddThhmmssZ>.wav.part
 * (16-bit PCM mono at rate_hz) or .ogg.part (Opus, mono) with its header
 * written and its empty queue; the final name, without dir, goes to
 * name_out. -EINVAL for a bad room name ("", ".", "..", a '/'), an
 * unknown format or a short name_out, -ENOSPC when the disk is (nearly)
 * full, -EIO otherwise. Any thread; no audio is written yet. */
int rec_file_open(struct rec **out, const char *dir, const char *room,
		  enum conf_rec_format fmt, uint32_t rate_hz, time_t now,
		  char *name_out, size_t cap);
/* The queue that feeds the file; its producer is the caller's to choose. */
struct spscq *rec_file_queue(struct rec *f);
/* The final name, without dir, as rec_file_open() gave it. */
const char *rec_file_name(const struct rec *f);
/* The owner's mark that it asked the producer to let go (a stop is under
 * way); the writer does not look at it. */
void rec_file_mark_stopping(struct rec *f);
bool rec_file_stopping(const struct rec *f);
/* A file never added to a writer: closes it, deletes it and frees it. */
void rec_file_discard(struct rec *f);
/* The producer has let go: drains what the queue holds, closes the file
 * if still open (renaming it), frees it. Not while a writer holds it. */
void rec_file_free(struct rec *f);

/* The writer drains the file from now on. */
void rec_writer_add(struct recorder *w, struct rec *f);
/* The producer has let go of the file's queue: the writer drains the rest,
 * closes, renames and frees the file. The caller must not touch f again. */
void rec_writer_finish(struct recorder *w, struct rec *f);

#endif
