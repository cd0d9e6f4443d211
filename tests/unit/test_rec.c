/* test_rec.c: the recording writer (conference/rec.c). First the writer
 * alone, fed by hand through its queue: a 1 kHz tone for 2 s with five
 * frames lost, read back with libsndfile (rate, length, the tone, silence
 * in place of the lost frames), the .wav.part renamed on close, names that
 * collide or are refused. Then a child that records and is killed with
 * SIGKILL: the .wav.part left behind must open and hold its audio. Then
 * the room API with a real (empty) mixer: start, stop, the queue handed
 * back, and the conference shutdown path. Every wait is bounded. */
#include "conference/focus.h"
#include "conference/rec.h"

#include "tests/unit/audio_util.h"
#include "tests/unit/unit.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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

/* Reads a whole file at RATE, mono; returns its frames or -1. */
static long read_wav(const char *path, int16_t **pcm)
{
	SF_INFO info = {0};
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	if (!sf)
		return -1;
	CU_ASSERT_EQUAL(info.samplerate, RATE);
	CU_ASSERT_EQUAL(info.channels, 1);
	CU_ASSERT_EQUAL(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
	*pcm = calloc((size_t)info.frames + 1, sizeof(**pcm));
	CU_ASSERT_FATAL(*pcm != NULL);
	sf_count_t got = sf_readf_short(sf, *pcm, info.frames);
	CU_ASSERT_EQUAL(got, info.frames);
	sf_close(sf);
	return (long)info.frames;
}

static void test_writer(void)
{
	struct recorder *w;
	struct rec *f;
	char name[128], path[256];
	int16_t *pcm = NULL;

	dir_make();
	CU_ASSERT_FATAL(rec_writer_new(&w) == 0);
	CU_ASSERT_FATAL(rec_file_open(&f, dir, "room-1", RATE, STAMP, name,
				      sizeof(name)) == 0);
	CU_ASSERT_STRING_EQUAL(name, "room-1-20231114T221320Z.wav");
	rec_writer_add(w, f);
	for (uint32_t seq = 0; seq < 50; seq++)
		if (seq < 40 || seq >= 45) /* 40..44 lost by the mixer */
			push_tone(rec_file_queue(f), seq);
	usleep(300 * 1000);
	/* The header on disk is already up to date. */
	snprintf(path, sizeof(path), "%s/%s.part", dir, name);
	CU_ASSERT(read_wav(path, &pcm) == 50 * FRAME_N);
	free(pcm);
	for (uint32_t seq = 50; seq < 100; seq++)
		push_tone(rec_file_queue(f), seq);
	rec_writer_finish(w, f);
	rec_writer_free(w);

	CU_ASSERT(access(path, F_OK) < 0);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	long n = read_wav(path, &pcm);
	CU_ASSERT_FATAL(n >= 0);
	CU_ASSERT(labs(n - 2 * RATE) <= FRAME_N);
	CU_ASSERT(unit_tone_amp(pcm, RATE / 2, TONE_HZ, RATE) > 0.95 * AMP);
	CU_ASSERT(unit_tone_amp(pcm + n - RATE / 2, RATE / 2, TONE_HZ, RATE) >
		  0.95 * AMP);
	CU_ASSERT(unit_rms(pcm + 40 * FRAME_N, 5 * FRAME_N) == 0);
	free(pcm);
	dir_remove();
}

static void test_names(void)
{
	struct rec *a, *b, *x;
	char na[128], nb[128];

	dir_make();
	CU_ASSERT_FATAL(
	    rec_file_open(&a, dir, "r", RATE, STAMP, na, sizeof(na)) == 0);
	CU_ASSERT_FATAL(
	    rec_file_open(&b, dir, "r", RATE, STAMP, nb, sizeof(nb)) == 0);
	CU_ASSERT_STRING_EQUAL(na, "r-20231114T221320Z.wav");
	CU_ASSERT_STRING_EQUAL(nb, "r-20231114T221320Z-1.wav");
	const char *bad[] = {"", ".", "..", "a/b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CU_ASSERT(rec_file_open(&x, dir, bad[i], RATE, STAMP, na,
					sizeof(na)) == -EINVAL);
	CU_ASSERT(rec_file_open(&x, dir, "r", RATE, STAMP, na, 8) == -EINVAL);
	rec_file_discard(a);
	rec_file_discard(b);
	DIR *d = opendir(dir);
	int left = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		left += e->d_name[0] != '.';
	closedir(d);
	CU_ASSERT_EQUAL(left, 0);
	dir_remove();
}

/* The child records in real time until it is killed. */
static void child_record(void)
{
	struct recorder *w;
	struct rec *f;
	char name[128];
	struct timespec t;

	if (rec_writer_new(&w) < 0 ||
	    rec_file_open(&f, dir, "crash", RATE, time(NULL), name,
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

static void test_kill9(void)
{
	char path[512] = "";
	int16_t *pcm = NULL;
	int status;

	dir_make();
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0)
		child_record();
	usleep(1500 * 1000);
	CU_ASSERT(kill(pid, SIGKILL) == 0);
	CU_ASSERT(waitpid(pid, &status, 0) == pid);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	DIR *d = opendir(dir);
	CU_ASSERT_FATAL(d != NULL);
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n > 9 && !strcmp(e->d_name + n - 9, ".wav.part"))
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	}
	closedir(d);
	CU_ASSERT_FATAL(path[0] != '\0');
	long n = read_wav(path, &pcm);
	CU_ASSERT(n >= RATE);
	if (n >= RATE)
		CU_ASSERT(unit_tone_amp(pcm + n - RATE, RATE, TONE_HZ, RATE) >
			  0.95 * AMP);
	free(pcm);
	dir_remove();
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

static void test_room_api(void)
{
	struct conference c;
	struct options o;
	struct room r;
	int efd;
	char file[160], path[512];
	int16_t *pcm = NULL;

	room_setup(&c, &o, &r, &efd);
	CU_ASSERT(rec_stop(&c, &r) == -ENOENT);
	CU_ASSERT_FATAL(rec_start(&c, &r, file, sizeof(file)) == 0);
	CU_ASSERT(strncmp(file, "recordings/lobby-", 17) == 0);
	CU_ASSERT(rec_active(&r));
	CU_ASSERT(rec_start(&c, &r, file, sizeof(file)) == -EALREADY);
	usleep(500 * 1000);
	CU_ASSERT(rec_stop(&c, &r) == 0);
	CU_ASSERT(!rec_active(&r));
	CU_ASSERT(rec_stop(&c, &r) == -ENOENT);
	CU_ASSERT(rec_start(&c, &r, file, sizeof(file)) == -EALREADY);
	CU_ASSERT_FATAL(wait_rec_stopped(r.mixer, efd));
	rec_on_mixer_stopped(&c, &r);
	CU_ASSERT(r.rec == NULL);
	rec_shutdown(&c);

	/* An empty room's mix is silence, in real time. */
	snprintf(path, sizeof(path), "%s/%s", top, file);
	long n = read_wav(path, &pcm);
	CU_ASSERT(n >= RATE * 4 / 10 && n <= RATE * 8 / 10);
	CU_ASSERT(n > 0 && unit_rms(pcm, (size_t)n) == 0);
	free(pcm);

	mixer_free(r.mixer);
	close(efd);
	dir_remove();
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
	CU_ASSERT_FATAL(rec_start(&c, &r, file, sizeof(file)) == 0);
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
	CU_ASSERT(read_wav(path, &pcm) >= RATE / 10);
	free(pcm);

	/* A room without a mixer (nobody in it) has nothing to record. */
	c.stopping = false;
	struct mixer *m = r.mixer;
	r.mixer = NULL;
	CU_ASSERT(rec_start(&c, &r, file, sizeof(file)) == -ENOTCONN);
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
	CU_ASSERT_FATAL(rec_start(&c, &r, file, sizeof(file)) == 0);
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
    {"writer: tone, lost frames as silence, rename", test_writer},
    {"names: collisions, refused rooms", test_names},
    {"kill -9: the .part file plays", test_kill9},
    {"room api: start, stop, handed back", test_room_api},
    {"room api: conference shutdown", test_room_shutdown},
    {"room api: a start never applied", test_start_unapplied},
    {NULL, NULL},
};

UNIT_MAIN("rec", tests)
