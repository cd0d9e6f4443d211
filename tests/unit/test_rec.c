/* test_rec.c: the recording writer (conference/rec.c) and its two sinks
 * (rec_wav.c, rec_ogg.c). First the writer alone, fed by hand through its
 * queue, once per format: a 1 kHz tone for 2 s with five frames lost, read
 * back with libsndfile (which decodes Ogg/Opus too): rate, length, the
 * tone's frequency and level, silence in place of the lost frames, the
 * .part file playable while it grows and renamed on close. Names that
 * collide or are refused; a sink with no audio and one on a full disk.
 * Then a child that records and is killed with SIGKILL: the .part left
 * behind must open and hold its audio up to its last flush. Then the room
 * API with a real (empty) mixer: start, stop, the queue handed back, and
 * the conference shutdown path. Every wait is bounded. */
#include "conference/focus.h"
#include "conference/rec.h"
#include "conference/rec_sink.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RATE	48000
#define FRAME_N (RATE / 50)
#define TONE_HZ 1000.0
#define AMP	10000.0
#define STAMP	((time_t)1700000000) /* 2023-11-14 22:13:20 UTC */

static char top[64], dir[96];

static void dir_make(void)
{
	snprintf(top, sizeof(top), "/tmp/tutti-rec-XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(top) != NULL);
	snprintf(dir, sizeof(dir), "%s/recordings", top);
}

static void dir_remove(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(dir);
	rmdir(top);
}

static void push_tone(struct spscq *q, uint32_t seq)
{
	struct mixer_rec_frame fr = {.seq = seq, .n_samples = FRAME_N};
	unit_sine(fr.pcm, FRAME_N, TONE_HZ, RATE, AMP, (uint64_t)seq * FRAME_N);
	CU_ASSERT(spscq_push(q, &fr) == 0);
}

static int sf_format_of(enum conf_rec_format fmt)
{
	return fmt == CONF_REC_OGG ? SF_FORMAT_OGG | SF_FORMAT_OPUS
				   : SF_FORMAT_WAV | SF_FORMAT_PCM_16;
}

static const char *ext_of(enum conf_rec_format fmt)
{
	return fmt == CONF_REC_OGG ? ".ogg" : ".wav";
}

/* Reads a whole file of format fmt at RATE, mono, to its end (an Ogg file
 * cut short does not know its length); returns its frames or -1. */
static long read_audio(const char *path, enum conf_rec_format fmt,
		       int16_t **pcm)
{
	SF_INFO info = {0};
	*pcm = NULL;
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		return -1;
	CU_ASSERT_EQUAL(info.samplerate, RATE);
	CU_ASSERT_EQUAL(info.channels, 1);
	CU_ASSERT_EQUAL(info.format, sf_format_of(fmt));
	size_t cap = 10 * RATE, n = 0;
	*pcm = calloc(cap, sizeof(**pcm));
	CU_ASSERT_FATAL(*pcm != NULL);
	sf_count_t got;
	while (n < cap &&
	       (got = sf_readf_short(sf, *pcm + n, (sf_count_t)(cap - n))) > 0)
		n += (size_t)got;
	if (info.frames >= 0 && info.frames < (sf_count_t)cap)
		CU_ASSERT_EQUAL((sf_count_t)n, info.frames);
	sf_close(sf);
	return (long)n;
}

/* The frames a reader gets from path now, without judging the file: for
 * waiting until the writer has got that far. */
static long frames_in(const char *path)
{
	SF_INFO info = {0};
	static int16_t buf[4096];
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	long n = 0;
	sf_count_t got;
	if (!sf)
		return -1;
	while ((got = sf_readf_short(sf, buf, 4096)) > 0)
		n += (long)got;
	sf_close(sf);
	return n;
}

/* The frequency from 500 to 1500 Hz, in 5 Hz steps, that is strongest in
 * pcm: the tone a listener hears. */
static double peak_hz(const int16_t *pcm, size_t n)
{
	double best = 0, best_amp = -1;
	for (double f = 500; f <= 1500; f += 5) {
		double a = unit_tone_amp(pcm, n, f, RATE);
		if (a > best_amp) {
			best_amp = a;
			best = f;
		}
	}
	return best;
}

/* The 1 kHz tone is there, at its level (Opus within 1 dB). */
static void check_tone(const int16_t *pcm, size_t n, enum conf_rec_format fmt)
{
	double want = fmt == CONF_REC_OGG ? 0.89 * AMP : 0.95 * AMP;
	CU_ASSERT(unit_tone_amp(pcm, n, TONE_HZ, RATE) > want);
	CU_ASSERT(fabs(peak_hz(pcm, n) - TONE_HZ) <= 5);
}

static void part_path(const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s.part", dir, name);
}

static void writer_round(enum conf_rec_format fmt)
{
	struct recorder *w;
	struct rec *f;
	char name[128], want[128], path[256];
	int16_t *pcm = NULL;

	dir_make();
	CU_ASSERT_FATAL(rec_writer_new(&w) == 0);
	CU_ASSERT_FATAL(rec_file_open(&f, dir, "room-1", fmt, RATE, STAMP, name,
				      sizeof(name)) == 0);
	snprintf(want, sizeof(want), "room-1-20231114T221320Z%s", ext_of(fmt));
	CU_ASSERT_STRING_EQUAL(name, want);
	CU_ASSERT_STRING_EQUAL(rec_file_name(f), want);
	rec_writer_add(w, f);
	for (uint32_t seq = 0; seq < 60; seq++)
		if (seq < 40 || seq >= 45) /* 40..44 lost by the mixer */
			push_tone(rec_file_queue(f), seq);
	/* The file on disk comes to play what went in before the file is
	 * closed: all of it for WAV, for Ogg all but the frame the encoder
	 * holds (and its pre-skip), since more than a second went in and a
	 * page was cut. The writer drains every 100 ms; a loaded machine
	 * (ASan, parallel tests) may take a few rounds: bounded wait. */
	part_path(name, path, sizeof(path));
	for (int tries = 0; tries < 100; tries++) {
		usleep(100 * 1000);
		if (frames_in(path) >=
		    (fmt == CONF_REC_WAV ? 60 : 58) * FRAME_N)
			break;
	}
	long n = read_audio(path, fmt, &pcm);
	if (fmt == CONF_REC_WAV) {
		CU_ASSERT(n == 60 * FRAME_N);
	} else {
		CU_ASSERT(n >= 58 * FRAME_N && n <= 60 * FRAME_N);
	}
	free(pcm);
	for (uint32_t seq = 60; seq < 100; seq++)
		push_tone(rec_file_queue(f), seq);
	rec_writer_finish(w, f);
	rec_writer_free(w);

	CU_ASSERT(access(path, F_OK) < 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = read_audio(path, fmt, &pcm);
	CU_ASSERT_FATAL(n >= 0);
	CU_ASSERT(labs(n - 2 * RATE) <= (fmt == CONF_REC_WAV ? 0 : FRAME_N));
	check_tone(pcm, RATE / 2, fmt);
	check_tone(pcm + n - RATE / 2, RATE / 2, fmt);
	/* The five lost frames are silence (Opus: but for a little ringing
	 * where the tone stops and starts, so judge the middle three). */
	if (fmt == CONF_REC_WAV) {
		CU_ASSERT(unit_rms(pcm + 40 * FRAME_N, 5 * FRAME_N) == 0);
	} else {
		CU_ASSERT(unit_rms(pcm + 41 * FRAME_N, 3 * FRAME_N) <
			  0.01 * AMP);
	}
	free(pcm);
	dir_remove();
}

static void test_writer_wav(void)
{
	writer_round(CONF_REC_WAV);
}

static void test_writer_ogg(void)
{
	writer_round(CONF_REC_OGG);
}

/* A sink that never got audio closes into a file that opens; one whose
 * disk is full says so (-ENOSPC) and leaks nothing. */
static void test_sinks_edges(void)
{
	struct rec_sink *s;
	char path[256];
	int16_t *pcm = NULL;

	dir_make();
	CU_ASSERT_FATAL(mkdir(dir, 0750) == 0);
	snprintf(path, sizeof(path), "%s/empty.wav", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(rec_wav_ops.open(&s, fd, RATE) == 0);
	CU_ASSERT(rec_wav_ops.flush(s) == 0);
	CU_ASSERT(rec_wav_ops.close(s) == 0);
	close(fd);
	CU_ASSERT(read_audio(path, CONF_REC_WAV, &pcm) == 0);
	free(pcm);

	snprintf(path, sizeof(path), "%s/empty.ogg", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(rec_ogg_ops.open(&s, fd, RATE) == 0);
	CU_ASSERT(rec_ogg_ops.flush(s) == 0);
	CU_ASSERT(rec_ogg_ops.close(s) == 0);
	close(fd);
	long n = read_audio(path, CONF_REC_OGG, &pcm);
	CU_ASSERT(n >= 0 && n <= FRAME_N);
	free(pcm);
	CU_ASSERT(rec_ogg_ops.close(NULL) == 0);
	CU_ASSERT(rec_wav_ops.close(NULL) == 0);

	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		CU_ASSERT(rec_ogg_ops.open(&s, fd, RATE) == -ENOSPC);
		close(fd);
	}
	dir_remove();
}

static void test_names(void)
{
	struct rec *a, *b, *c, *x;
	char na[128], nb[128], nc[128];

	dir_make();
	CU_ASSERT_FATAL(rec_file_open(&a, dir, "r", CONF_REC_WAV, RATE, STAMP,
				      na, sizeof(na)) == 0);
	CU_ASSERT_FATAL(rec_file_open(&b, dir, "r", CONF_REC_WAV, RATE, STAMP,
				      nb, sizeof(nb)) == 0);
	CU_ASSERT_STRING_EQUAL(na, "r-20231114T221320Z.wav");
	CU_ASSERT_STRING_EQUAL(nb, "r-20231114T221320Z-1.wav");
	/* Another format is another name: no number needed. */
	CU_ASSERT_FATAL(rec_file_open(&c, dir, "r", CONF_REC_OGG, RATE, STAMP,
				      nc, sizeof(nc)) == 0);
	CU_ASSERT_STRING_EQUAL(nc, "r-20231114T221320Z.ogg");
	const char *bad[] = {"", ".", "..", "a/b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CU_ASSERT(rec_file_open(&x, dir, bad[i], CONF_REC_WAV, RATE,
					STAMP, na, sizeof(na)) == -EINVAL);
	CU_ASSERT(rec_file_open(&x, dir, "r", CONF_REC_WAV, RATE, STAMP, na,
				8) == -EINVAL);
	CU_ASSERT(rec_file_open(&x, dir, "r", (enum conf_rec_format)7, RATE,
				STAMP, na, sizeof(na)) == -EINVAL);
	rec_file_discard(a);
	rec_file_discard(b);
	rec_file_discard(c);
	DIR *d = opendir(dir);
	int left = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		left += e->d_name[0] != '.';
	closedir(d);
	CU_ASSERT_EQUAL(left, 0);
	dir_remove();
}

/* The child records in real time until it is killed. */
static void child_record(enum conf_rec_format fmt)
{
	struct recorder *w;
	struct rec *f;
	char name[128];
	struct timespec t;

	if (rec_writer_new(&w) < 0 ||
	    rec_file_open(&f, dir, "crash", fmt, RATE, time(NULL), name,
			  sizeof(name)) < 0)
		_exit(1);
	rec_writer_add(w, f);
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (uint32_t seq = 0;; seq++) {
		struct mixer_rec_frame fr = {.seq = seq, .n_samples = FRAME_N};
		unit_sine(fr.pcm, FRAME_N, TONE_HZ, RATE, AMP,
			  (uint64_t)seq * FRAME_N);
		spscq_push(rec_file_queue(f), &fr);
		t.tv_nsec += 20000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
}

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Killed 2.5 s in, the child leaves a .part that plays its tone up to its
 * last flush: every batch for WAV, at least every second for Ogg, so at
 * most about 1.2 s (the second, a 100 ms batch and the encoder's frame)
 * is missing however late the kill comes. */
static void kill9_round(enum conf_rec_format fmt)
{
	char path[512] = "", suffix[16];
	int16_t *pcm = NULL;
	int status;

	dir_make();
	snprintf(suffix, sizeof(suffix), "%s.part", ext_of(fmt));
	int64_t t0 = mono_ms();
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		child_record(fmt);
	usleep(2500 * 1000);
	CU_ASSERT(kill(pid, SIGKILL) == 0);
	int64_t lived_ms = mono_ms() - t0;
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	DIR *d = opendir(dir);
	CU_ASSERT_FATAL(d != NULL);
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name), k = strlen(suffix);
		if (n > k && !strcmp(e->d_name + n - k, suffix))
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	}
	closedir(d);
	CU_ASSERT_FATAL(path[0] != '\0');
	long n = read_audio(path, fmt, &pcm);
	long want = (long)(lived_ms - 1200) * (RATE / 1000);
	CU_ASSERT(n >= want && n >= RATE);
	CU_ASSERT(n <= (long)lived_ms * (RATE / 1000));
	if (n >= RATE)
		check_tone(pcm + n - RATE / 2, RATE / 2, fmt);
	free(pcm);
	dir_remove();
}

static void test_kill9_wav(void)
{
	kill9_round(CONF_REC_WAV);
}

static void test_kill9_ogg(void)
{
	kill9_round(CONF_REC_OGG);
}

/* Takes mixer events until MIXER_EV_REC_STOPPED (bounded). */
static bool wait_rec_stopped(struct mixer *m, int efd)
{
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	struct mixer_event ev;
	uint64_t v;

	for (int i = 0; i < 50; i++) {
		while (mixer_poll(m, &ev) == 0)
			if (ev.kind == MIXER_EV_REC_STOPPED)
				return true;
		if (poll(&pfd, 1, 20) == 1)
			CU_ASSERT(read(efd, &v, sizeof(v)) == sizeof(v));
	}
	return false;
}

static void room_setup(struct conference *c, struct options *o, struct room *r,
		       int *efd)
{
	dir_make();
	memset(o, 0, sizeof(*o));
	snprintf(o->data_dir, sizeof(o->data_dir), "%s", top);
	memset(c, 0, sizeof(*c));
	c->opts = o;
	memset(r, 0, sizeof(*r));
	r->conf = c;
	snprintf(r->name, sizeof(r->name), "lobby");
	*efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct mixer_params mp = {
	    .room = "lobby", .rate_hz = RATE, .notify_fd = *efd};
	CU_ASSERT_FATAL(mixer_start(&r->mixer, &mp) == 0);
}

static void room_api_round(enum conf_rec_format fmt)
{
	struct conference c;
	struct options o;
	struct room r;
	int efd;
	char file[160], path[512];
	int16_t *pcm = NULL;

	room_setup(&c, &o, &r, &efd);
	CU_ASSERT(rec_stop(&c, &r) == -ENOENT);
	CU_ASSERT(rec_start(&c, &r, (enum conf_rec_format)7, file,
			    sizeof(file)) == -EINVAL);
	CU_ASSERT(r.rec == NULL);
	CU_ASSERT_FATAL(rec_start(&c, &r, fmt, file, sizeof(file)) == 0);
	CU_ASSERT(strncmp(file, "recordings/lobby-", 17) == 0);
	size_t len = strlen(file);
	CU_ASSERT(len > 4 && !strcmp(file + len - 4, ext_of(fmt)));
	CU_ASSERT(rec_active(&r));
	CU_ASSERT(rec_start(&c, &r, fmt, file, sizeof(file)) == -EALREADY);
	usleep(500 * 1000);
	CU_ASSERT(rec_stop(&c, &r) == 0);
	CU_ASSERT(!rec_active(&r));
	CU_ASSERT(rec_stop(&c, &r) == -ENOENT);
	CU_ASSERT(rec_start(&c, &r, fmt, file, sizeof(file)) == -EALREADY);
	CU_ASSERT_FATAL(wait_rec_stopped(r.mixer, efd));
	rec_on_mixer_stopped(&c, &r);
	CU_ASSERT(r.rec == NULL);
	rec_shutdown(&c);

	/* An empty room's mix is silence, in real time. */
	snprintf(path, sizeof(path), "%s/%s", top, file);
	long n = read_audio(path, fmt, &pcm);
	CU_ASSERT(n >= RATE * 35 / 100 && n <= RATE * 8 / 10);
	CU_ASSERT(n > 0 && unit_rms(pcm, (size_t)n) < 1.0);
	free(pcm);

	mixer_free(r.mixer);
	close(efd);
	dir_remove();
}

static void test_room_api_wav(void)
{
	room_api_round(CONF_REC_WAV);
}

static void test_room_api_ogg(void)
{
	room_api_round(CONF_REC_OGG);
}

/* The conference stops: files are closed before the mixers stop, and the
 * queue comes back afterwards among the mixer's last events. */
static void test_room_shutdown(void)
{
	struct conference c;
	struct options o;
	struct room r;
	int efd;
	char file[160], path[512];
	int16_t *pcm = NULL;

	room_setup(&c, &o, &r, &efd);
	c.rooms = &r;
	CU_ASSERT_FATAL(rec_start(&c, &r, CONF_REC_OGG, file, sizeof(file)) ==
			0);
	usleep(300 * 1000);
	c.stopping = true;
	rec_shutdown(&c);
	CU_ASSERT(c.recorder == NULL);
	snprintf(path, sizeof(path), "%s/%s", top, file);
	CU_ASSERT(access(path, F_OK) == 0);

	mixer_stop(r.mixer);
	struct mixer_event ev;
	int stopped = 0;
	while (mixer_poll(r.mixer, &ev) == 0)
		if (ev.kind == MIXER_EV_REC_STOPPED) {
			stopped++;
			rec_on_mixer_stopped(&c, &r);
		}
	CU_ASSERT_EQUAL(stopped, 1);
	CU_ASSERT(r.rec == NULL);
	CU_ASSERT(read_audio(path, CONF_REC_OGG, &pcm) >= RATE / 10);
	free(pcm);

	/* A room without a mixer (nobody in it) has nothing to record. */
	c.stopping = false;
	struct mixer *m = r.mixer;
	r.mixer = NULL;
	CU_ASSERT(rec_start(&c, &r, CONF_REC_WAV, file, sizeof(file)) ==
		  -ENOTCONN);
	mixer_free(m);
	close(efd);
	dir_remove();
}

static void test_start_unapplied(void)
{
	struct conference c;
	struct options o;
	struct room r;
	int efd;
	char file[160];

	room_setup(&c, &o, &r, &efd);
	CU_ASSERT_FATAL(rec_start(&c, &r, CONF_REC_OGG, file, sizeof(file)) ==
			0);
	mixer_stop(r.mixer); /* perhaps before it applied the start */
	struct mixer_event ev;
	int stopped = 0;
	while (mixer_poll(r.mixer, &ev) == 0)
		if (ev.kind == MIXER_EV_REC_STOPPED) {
			stopped++;
			rec_on_mixer_stopped(&c, &r);
		}
	CU_ASSERT_EQUAL(stopped, 1);
	rec_shutdown(&c);
	mixer_free(r.mixer);
	close(efd);
	dir_remove();
}

static const struct unit_test tests[] = {
    {"writer, wav: tone, lost frames as silence, rename", test_writer_wav},
    {"writer, ogg: tone, lost frames as silence, rename", test_writer_ogg},
    {"sinks: no audio, a full disk", test_sinks_edges},
    {"names: collisions, formats, refused rooms", test_names},
    {"kill -9, wav: the .part file plays", test_kill9_wav},
    {"kill -9, ogg: the .part file plays to its last flush", test_kill9_ogg},
    {"room api, wav: start, stop, handed back", test_room_api_wav},
    {"room api, ogg: start, stop, handed back", test_room_api_ogg},
    {"room api: conference shutdown", test_room_shutdown},
    {"room api: a start never applied", test_start_unapplied},
    {NULL, NULL},
};

UNIT_MAIN_APART("rec", tests)
