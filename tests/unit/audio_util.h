/* audio_util.h: what the audio tests (test_stream.c, test_mixer.c,
 * test_codec.c, test_resamp.c) share: a sine generator, a Goertzel filter
 * to judge a tone as a listener would hear it, an RMS level, a loopback
 * UDP socket for a "phone", a phone's PCMU tone packet and a 20 ms pace.
 * Frequencies come before rates everywhere: (f_hz, rate_hz). Header-only; the
 * socket helper fails the test through CU_ASSERT_FATAL. */
#ifndef TUTTI_AUDIO_UTIL_H
#define TUTTI_AUDIO_UTIL_H

#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "rtp/rtp.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Fills pcm with n samples of amp * sin() at f_hz, sampled at rate_hz,
 * starting phase samples into the tone (rounded to the nearest integer). */
static inline void unit_sine(int16_t *pcm, size_t n, double f_hz,
			     double rate_hz, double amp, uint64_t phase)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)lrint(
		    amp * sin(2 * M_PI * f_hz * (double)(i + phase) / rate_hz));
}

/* Goertzel's estimate of the amplitude (peak, not RMS) of f_hz in the n
 * samples of pcm, sampled at rate_hz. */
static inline double unit_tone_amp(const int16_t *pcm, size_t n, double f_hz,
				   double rate_hz)
{
	double c = 2 * cos(2 * M_PI * f_hz / rate_hz), s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s0 = pcm[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double power = s1 * s1 + s2 * s2 - c * s1 * s2;
	return 2 * sqrt(power > 0 ? power : 0) / (double)n;
}

/* Root mean square level of n samples. */
static inline double unit_rms(const int16_t *pcm, size_t n)
{
	double e = 0;

	for (size_t i = 0; i < n; i++)
		e += (double)pcm[i] * pcm[i];
	return sqrt(e / (double)n);
}

/* A non-blocking UDP socket bound to 127.0.0.1 on a port of the kernel's
 * choosing; its address goes to addr. The caller closes it. */
static inline int unit_udp_socket(struct sockaddr_storage *addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, &sin, sizeof(sin));
	return fd;
}

/* Sends 20 ms of a PCMU tone (160 samples of f_hz at amp, from *sample
 * on) as one RTP packet from fd to *to, under ssrc; *sample, *seq and *ts
 * move on. enc is a PCMU encoder. */
static inline void
unit_send_pcmu_tone(int fd, const struct sockaddr_storage *to,
		    struct codec *enc, double f_hz, double amp, uint32_t ssrc,
		    uint64_t *sample, uint16_t *seq, uint32_t *ts)
{
	int16_t pcm[160];
	uint8_t pkt[200], payload[160];

	unit_sine(pcm, 160, f_hz, 8000, amp, *sample);
	*sample += 160;
	codec_encode(enc, pcm, 160, payload, sizeof(payload));
	struct rtppkt r = {.pt = 0,
			   .seq = (*seq)++,
			   .ts = *ts,
			   .ssrc = ssrc,
			   .payload = payload,
			   .payload_bytes = 160};
	*ts += 160;
	int len = rtppkt_build(pkt, sizeof(pkt), &r);
	sendto(fd, pkt, (size_t)len, 0, (const struct sockaddr *)to,
	       sizeof(struct sockaddr_in));
}

/* Calls each() every 20 ms of real time (absolute deadlines on
 * CLOCK_MONOTONIC) for ms. */
static inline void unit_every_20ms(int ms, void (*each)(void))
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	for (int k = 0; k < ms / 20; k++) {
		each();
		t.tv_nsec += 20000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_nsec -= 1000000000;
			t.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	}
}

/* Speech-like: a voice whose pitch glides between 90 and 230 Hz, its
 * harmonics shaped by three formants that move from vowel to vowel every
 * 150 ms, with short pauses. */
static inline void unit_speech_like(int16_t *pcm, size_t n, uint32_t rate_hz)
{
	static const double formants[][3] = {{730, 1090, 2440},
					     {270, 2290, 3010},
					     {300, 870, 2240},
					     {530, 1840, 2480},
					     {640, 1190, 2390}};
	double phase = 0;
	for (size_t i = 0; i < n; i++) {
		double t = (double)i / rate_hz;
		size_t v = (size_t)(t / 0.15) % 5;
		double f0 = 160 + 70 * sin(2 * M_PI * 1.3 * t);
		double x = 0;
		phase += 2 * M_PI * f0 / rate_hz;
		for (int h = 1; h * f0 < rate_hz / 2.0 && h < 40; h++) {
			double g = 0;
			for (int k = 0; k < 3; k++) {
				double d = (h * f0 - formants[v][k]) / 120;
				g += exp(-d * d) / (k + 1);
			}
			x += (g + 0.02) * sin(h * phase) / h;
		}
		bool pause = fmod(t, 0.9) > 0.75;
		pcm[i] = pause ? 0 : (int16_t)lrint(6000 * x);
	}
}

#endif
