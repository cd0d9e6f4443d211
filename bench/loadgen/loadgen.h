/* loadgen.h: the load generator's parts (bench/loadgen, issue 5 item 9).
 *
 * loadgen puts N callers in R rooms of a real tutti through real SIP over
 * UDP, lets S speakers per room send speech (or tones) and the rest silence
 * or Opus DTX at an absolute 20 ms pace, and measures what comes back per
 * caller (rate, loss, jitter, added delay, tone levels) and what the server
 * spent (CPU from /proc, ticks from /metrics). In the same run it measures
 * two floors: a plain UDP echo of the same packet rate and libopus decode +
 * encode at tutti's settings.
 *
 * Threads: the main thread runs the phases (main.c); sip.c has one thread
 * for all signalling, media.c one sending and one receiving thread. A
 * caller's SIP fields belong to the SIP thread, its send fields to the
 * sending thread and its receive statistics to the receiving thread; the
 * main thread reads them only when those threads are stopped or through
 * the atomics marked below. Everything is freed by main.c at exit. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <netinet/in.h>
#include <opus.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TICK_NS	      20000000LL
#define MAX_TONES     8
#define MARKER_HZ     3000.0  /* the delay marker's tone */
#define MARKER_EVERY  50      /* frames between two markers (1 s) */
#define MARKER_FRAMES 3	      /* 60 ms of tone */
#define MARKER_AMPL   12000.0 /* peak of the marker tone */
#define MAX_MARKERS   4096

enum lg_codec { LG_PCMU, LG_OPUS };
enum lg_quiet {
	QUIET_SILENCE,
	QUIET_DTX,
	QUIET_NONE
}; /* what non-speakers send */

/* One encoded frame sequence, looped: speech, tone, silence or DTX. */
struct track {
	uint8_t **pkt;
	uint16_t *len;
	size_t n;
};

struct caller {
	int room, index; /* index within the room */
	bool speaker, marker, probe;
	int tone; /* -1, or which tone this speaker sends */
	int rtp_fd;
	uint16_t rtp_port;
	struct sockaddr_in
	    media; /* where we send: the answer's, or the echo's */
	uint8_t pt;
	/* SIP (sip.c thread) */
	int sip_state; /* enum in sip.c */
	char call_id[64], from_tag[24], to_tag[320], contact[320];
	int64_t next_retx_ns, retx_ns, deadline_ns;
	atomic_int up;	  /* 1 when the call is established, -1 failed */
	atomic_int ended; /* 1 when the BYE has its answer (or timed out) */
	/* sending (media.c tx thread) */
	uint16_t seq;
	uint32_t ts, ssrc;
	size_t offset; /* where in its track this caller starts */
	/* receiving (media.c rx thread) */
	uint64_t rx, rx_window;
	uint32_t base_seq, max_seq_ext;
	bool seen;
	double jitter; /* RFC 3550, timestamp units */
	int64_t last_transit;
	uint32_t clock_hz;
	OpusDecoder *dec; /* probes of Opus rooms */
	double tone_pow[MAX_TONES], noise_pow[MAX_TONES];
	uint64_t frames_analysed;
	size_t marker_next; /* the next marker this probe looks for */
};

struct room {
	int64_t marker_sent_ns[MAX_MARKERS]; /* written by tx before sending */
	atomic_uint markers_sent;
};

struct lg {
	/* options */
	enum lg_codec codec;
	enum lg_quiet quiet;
	int callers, rooms, speakers, probes, cps;
	bool tones, marker;
	/* the relay floor sends with sendto (--relay-sendto), else in
	 * io_uring batches as tutti does (rtp/sendq.c) where it can */
	bool relay_sendto, relay_batched;
	double warmup_s, window_s;
	const char *tutti_bin, *fixture8, *fixture48, *tutti_extra;
	char rtp_ports[32];
	pid_t server_pid;
	bool started_server;
	char server_host[64];
	uint16_t sip_port, http_port, local_sip_port;
	char tmpdir[128];
	/* state */
	struct caller *c;
	struct room *r;
	struct track speech, speech_marker, tone[MAX_TONES], tone_marker,
	    silent;
	double tone_hz[MAX_TONES];
	int ntones;
	atomic_bool measuring; /* rx counts rx_window while set */
	bool echo_phase;       /* media goes to the UDP echo, not tutti */
	atomic_bool stop;
	int sip_errors, sip_4xx;
	/* delays in ns, filled by rx, read after */
	int64_t *delays;
	size_t ndelays, cap_delays;
};

/* audio.c: fixtures and tones, encoded once up front; analysis. */
int audio_prepare(struct lg *g);
void audio_free(struct lg *g);
uint32_t audio_clock_hz(const struct lg *g);
size_t audio_decode(struct lg *g, struct caller *c, const uint8_t *pl,
		    size_t len, int16_t *pcm, size_t cap);
void audio_analyse(struct lg *g, struct caller *c, const int16_t *pcm, size_t n,
		   int64_t arrival_ns);
double goertzel_power(const int16_t *x, size_t n, double hz, double rate);
int16_t ulaw_decode(uint8_t u);

/* sip.c: one thread that sets the calls up, answers the server, hangs up. */
int sip_start(struct lg *g);
void sip_hangup_all(struct lg *g); /* asks for the BYEs */
void sip_stop(struct lg *g);

/* media.c: the 20 ms sender and the receiver. */
int media_start(struct lg *g);
void media_stop(struct lg *g);
int media_sockets(struct lg *g);

/* server.c: tutti itself, its CPU and its /metrics. */
int server_spawn(struct lg *g);
void server_stop(struct lg *g);
int64_t proc_cpu_ns(pid_t pid); /* utime+stime; -1 if unreadable */
struct metrics_snap {
	double ticks, late;
	double bucket[8]; /* cumulative, le 0.5,1,2,5,10,20,50 ms,+Inf */
	bool ok;
};
extern const double metrics_le_ms[8];
struct metrics_snap metrics_fetch(const struct lg *g);

/* floors.c */
/* Points every caller's media at it: a UDP echo, or (relay) a process that
 * sends every caller heard one packet every 20 ms (floors.c). */
pid_t echo_spawn(struct lg *g, bool relay);
void echo_stop(pid_t pid);
double opus_floor_us(const struct lg *g); /* decode + encode, one frame */

int64_t now_ns(void);

#endif
