/* rec.c: the recording writer: one thread per conference that writes
 * rooms' mixes to files, never the mixer (ARCHITECTURE.md, "Data that must
 * not be lost"). What bytes go into a file is its format's business
 * (rec_sink.h: rec_wav.c, rec_ogg.c); this file names, feeds, syncs and
 * closes the files.
 *
 * The room's mixer pushes one struct mixer_rec_frame per tick into a
 * bounded queue and never waits: a full queue loses the frame, and the
 * frame's sequence number tells the writer how many went missing, so that
 * it writes as much silence in their place and the file keeps real time.
 * The writer wakes about every 100 ms, drains every file's queue into its
 * sink and flushes the sink after each batch, so that the file as it stands
 * on disk always plays: a kill -9 leaves a playable <name>.part. It calls
 * fsync once a second and, when the recording ends, closes the sink (final
 * header, end of stream), fsyncs and renames the file to <name>.
 *
 * Threads: the writer thread owns the files it drains; the signalling
 * thread hands them over under the writer's mutex, and a file whose queue
 * the producer has let go of belongs to the writer alone, which frees it
 * (rec.h). The room API on top is rec_room.c. */
#include "conference/rec.h"
#include "conference/focus.h"
#include "conference/monocv.h"
#include "conference/rec_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PATH_CAP (PATH_MAX + REC_NAME_CAP + 8)
#define WAKE_MS	 100u
#define FSYNC_NS (1000 * 1000000ull)

struct rec {
	struct rec *next; /* in the writer's lists */
	struct spscq *q;
	const struct rec_sink_ops *ops;
	struct rec_sink *sink; /* NULL once closed */
	int fd;		       /* the file's, for fsync; -1 once closed */
	char dir[PATH_MAX];
	char name[REC_NAME_CAP];
	uint32_t next_seq;
	uint64_t frames, silent_frames;
	bool failed;	    /* a write failed: the rest is dropped */
	atomic_bool finish; /* the producer let go (rec_writer_finish) */
	bool stopping;	    /* the owner's: rec_file_mark_stopping() */
	struct mixer_rec_frame frame; /* writer's scratch */
};

struct recorder {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct rec *incoming; /* under lock: added, not yet adopted */
	bool stop, kick;      /* under lock */
	struct rec *files;    /* writer thread */
};

static const int16_t silence[MIXER_REC_MAX_SAMPLES];

static const struct rec_sink_ops *const formats[] = {
    [CONF_REC_WAV] = &rec_wav_ops,
    [CONF_REC_OGG] = &rec_ogg_ops,
};

static void path_of(const struct rec *f, bool part, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s%s", f->dir, f->name, part ? ".part" : "");
}

static void failed(struct rec *f, int err)
{
	if (!err || f->failed)
		return;
	f->failed = true;
	log_error("rec", "file=%s write failed: %s; the rest is dropped",
		  f->name, strerror(-err));
}

static void write_frames(struct rec *f, const int16_t *pcm, size_t n)
{
	if (!f->failed)
		failed(f, f->ops->write(f->sink, pcm, n));
}

/* Writes what the queue holds, silence in place of lost frames; true if
 * anything was written. */
static bool drain(struct rec *f)
{
	struct mixer_rec_frame *fr = &f->frame;
	bool wrote = false;

	while (spscq_pop(f->q, fr) == 0) {
		size_t n = fr->n_samples <= MIXER_REC_MAX_SAMPLES
			       ? fr->n_samples
			       : MIXER_REC_MAX_SAMPLES;
		for (; f->next_seq < fr->seq; f->next_seq++) {
			write_frames(f, silence, n);
			f->silent_frames++;
		}
		write_frames(f, fr->pcm, n);
		f->next_seq = fr->seq + 1;
		f->frames++;
		wrote = true;
	}
	return wrote;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Drains, ends the format's file, closes and renames it. */
static void file_close(struct rec *f)
{
	if (!f->sink)
		return;
	drain(f);
	int err = f->ops->close(f->sink);
	f->sink = NULL;
	failed(f, err);
	fsync(f->fd);
	close(f->fd);
	f->fd = -1;
	char part[PATH_CAP], done[PATH_CAP];
	path_of(f, true, part, sizeof(part));
	path_of(f, false, done, sizeof(done));
	if (rename(part, done) < 0)
		log_error("rec", "file=%s cannot rename: %s", f->name,
			  strerror(errno));
	fsync_dir(f->dir);
	log_info("rec", "file=%s closed: %llu frames, %llu filled with silence",
		 f->name, (unsigned long long)(f->frames + f->silent_frames),
		 (unsigned long long)f->silent_frames);
}

static void file_free(struct rec *f)
{
	spscq_free(f->q);
	free(f);
}

/* Creates <name>.part unless it or <name> exists (-EEXIST). */
static int open_fd(const struct rec *f)
{
	char part[PATH_CAP], done[PATH_CAP];
	path_of(f, true, part, sizeof(part));
	path_of(f, false, done, sizeof(done));
	if (access(done, F_OK) == 0)
		return -EEXIST;
	int fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

/* Opens the first free name: <room>-<stamp><ext>, then -1, -2... */
static int open_named(struct rec *f, const char *room, time_t now,
		      uint32_t rate_hz)
{
	char stamp[32], n[8] = "";
	struct tm tm;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	int fd = -EEXIST;
	for (int i = 0; i < 100 && fd == -EEXIST; i++) {
		if (i)
			snprintf(n, sizeof(n), "-%d", i);
		snprintf(f->name, sizeof(f->name), "%s-%s%s%s", room, stamp, n,
			 f->ops->ext);
		fd = open_fd(f);
	}
	if (fd < 0)
		return fd == -ENOSPC || fd == -EDQUOT ? -ENOSPC : -EIO;
	f->fd = fd;
	int err = f->ops->open(&f->sink, fd, rate_hz);
	return err == -ENOSPC ? err : err ? -EIO : 0; /* discarded on error */
}

static int disk_check(const char *dir)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return errno == ENOSPC || errno == EDQUOT ? -ENOSPC : -EIO;
	struct statvfs st;
	if (statvfs(dir, &st) < 0)
		return -EIO;
	if ((uint64_t)st.f_bavail * st.f_frsize < REC_MIN_FREE_BYTES)
		return -ENOSPC;
	return 0;
}

int rec_file_open(struct rec **out, const char *dir, const char *room,
		  enum conf_rec_format fmt, uint32_t rate_hz, time_t now,
		  char *name_out, size_t cap)
{
	if (!room || !*room || strlen(room) > CONF_NAME_MAX ||
	    strchr(room, '/') || !strcmp(room, ".") || !strcmp(room, "..") ||
	    strlen(dir) >= PATH_MAX || cap < REC_NAME_CAP ||
	    (unsigned)fmt >= sizeof(formats) / sizeof(formats[0]))
		return -EINVAL;
	int err = disk_check(dir);
	if (err)
		return err;
	struct rec *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->ops = formats[fmt];
	atomic_init(&f->finish, false);
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	err =
	    spscq_new(&f->q, REC_QUEUE_FRAMES, sizeof(struct mixer_rec_frame));
	if (!err)
		err = open_named(f, room, now, rate_hz);
	if (err) {
		rec_file_discard(f);
		return err;
	}
	snprintf(name_out, cap, "%s", f->name);
	*out = f;
	return 0;
}

struct spscq *rec_file_queue(struct rec *f)
{
	return f->q;
}

const char *rec_file_name(const struct rec *f)
{
	return f->name;
}

void rec_file_mark_stopping(struct rec *f)
{
	f->stopping = true;
}

bool rec_file_stopping(const struct rec *f)
{
	return f->stopping;
}

void rec_file_discard(struct rec *f)
{
	if (!f)
		return;
	f->ops->close(f->sink);
	if (f->fd >= 0) {
		char part[PATH_CAP];
		path_of(f, true, part, sizeof(part));
		close(f->fd);
		unlink(part);
	}
	file_free(f);
}

void rec_file_free(struct rec *f)
{
	if (!f)
		return;
	file_close(f);
	file_free(f);
}

/* One pass over a file: true when it is done with (closed; freed if its
 * producer had let go). */
static bool service(struct rec *f, bool closing, bool sync)
{
	bool done = atomic_load_explicit(&f->finish, memory_order_acquire);
	if (done || closing) {
		file_close(f);
		if (done)
			file_free(f);
		return true;
	}
	if (drain(f)) /* after a failure too: a WAV header still counts */
		failed(f, f->ops->flush(f->sink));
	if (sync)
		fsync(f->fd);
	return false;
}

/* Takes the files added since the last pass; returns whether to stop. */
static bool adopt(struct recorder *w)
{
	pthread_mutex_lock(&w->lock);
	if (!w->stop && !w->kick && !w->incoming) {
		struct timespec dl = monocv_deadline(WAKE_MS);
		monocv_wait(&w->wake, &w->lock, &dl);
	}
	w->kick = false;
	while (w->incoming) {
		struct rec *f = w->incoming;
		w->incoming = f->next;
		f->next = w->files;
		w->files = f;
	}
	bool stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}

static void *writer_main(void *arg)
{
	struct recorder *w = arg;
	uint64_t synced_ns = mono_now_ns();
	bool stop = false;

	while (!stop) {
		stop = adopt(w);
		uint64_t now = mono_now_ns();
		bool sync = now - synced_ns >= FSYNC_NS;
		if (sync)
			synced_ns = now;
		for (struct rec **pp = &w->files; *pp;) {
			struct rec *f = *pp, *next = f->next;
			if (service(f, stop, sync)) /* f may be freed */
				*pp = next;
			else
				pp = &f->next;
		}
	}
	return NULL;
}

int rec_writer_new(struct recorder **out)
{
	struct recorder *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	int err = monocv_init(&w->wake);
	if (err) {
		free(w);
		return err;
	}
	pthread_mutex_init(&w->lock, NULL);

	/* The thread blocks every signal: they belong to the main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -err;
	}
	*out = w;
	return 0;
}

void rec_writer_free(struct recorder *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

void rec_writer_add(struct recorder *w, struct rec *f)
{
	pthread_mutex_lock(&w->lock);
	f->next = w->incoming;
	w->incoming = f;
	pthread_mutex_unlock(&w->lock);
}

void rec_writer_finish(struct recorder *w, struct rec *f)
{
	pthread_mutex_lock(&w->lock);
	atomic_store_explicit(&f->finish, true, memory_order_release);
	w->kick = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}
