/* prompt_wav.c: a build-time tool that turns what the speech synthesizer
 * (espeak-ng) wrote into the prompts tutti plays: mono, the silence at
 * both ends trimmed to PAD_MS, peaks brought to PEAK (-6 dBFS) so that
 * every prompt is as loud as the next, and resampled (SpeexDSP, through
 * rtp/resamp.c) to each rate a room may mix at.
 *
 *   prompt_wav IN.wav OUT-8000.wav OUT-16000.wav OUT-48000.wav
 *
 * The rate of each output is read from its name (the number after the
 * last '-'). Exit status 0, or 1 with a message on stderr. Run by meson
 * (prompts/meson.build); not part of the server. */
#include "rtp/rtp.h"

#include <errno.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEAK	      16384 /* -6 dBFS */
#define SILENCE_LEVEL 300   /* below this, a sample is silence */
#define PAD_MS	      60

static int16_t *read_mono(const char *path, size_t *n, uint32_t *rate)
{
	SF_INFO info = {0};
	SNDFILE *f = sf_open(path, SFM_READ, &info);
	if (!f || info.channels < 1 || info.frames <= 0 ||
	    info.frames > 48000 * 120) {
		fprintf(stderr, "prompt_wav: %s: %s\n", path,
			f ? "not a usable sound file" : sf_strerror(NULL));
		if (f)
			sf_close(f);
		return NULL;
	}
	size_t frames = (size_t)info.frames;
	int16_t *all = calloc(frames * (size_t)info.channels, sizeof(*all));
	int16_t *mono = calloc(frames, sizeof(*mono));
	sf_count_t got = all ? sf_readf_short(f, all, info.frames) : 0;
	sf_close(f);
	if (!all || !mono || got <= 0) {
		free(all);
		free(mono);
		return NULL;
	}
	for (size_t i = 0; i < (size_t)got; i++)
		mono[i] =
		    all[i * (size_t)info.channels]; /* the first channel */
	free(all);
	*n = (size_t)got;
	*rate = (uint32_t)info.samplerate;
	return mono;
}

/* Trims silence to PAD_MS at both ends and scales the peak to PEAK. */
static size_t shape(int16_t *pcm, size_t n, uint32_t rate)
{
	size_t first = 0, last = n;
	while (first < n && abs(pcm[first]) < SILENCE_LEVEL)
		first++;
	while (last > first && abs(pcm[last - 1]) < SILENCE_LEVEL)
		last--;
	size_t pad = rate / 1000 * PAD_MS;
	first = first > pad ? first - pad : 0;
	last = last + pad < n ? last + pad : n;
	int peak = 1;
	for (size_t i = first; i < last; i++)
		peak = abs(pcm[i]) > peak ? abs(pcm[i]) : peak;
	size_t len = last - first;
	for (size_t i = 0; i < len; i++)
		pcm[i] = (int16_t)((int32_t)pcm[first + i] * PEAK / peak);
	return len;
}

static int write_at(const char *path, const int16_t *pcm, size_t n,
		    uint32_t rate)
{
	const char *dash = strrchr(path, '-');
	unsigned long out_hz = dash ? strtoul(dash + 1, NULL, 10) : 0;
	if (out_hz != 8000 && out_hz != 16000 && out_hz != 48000) {
		fprintf(stderr, "prompt_wav: %s: no rate in the name\n", path);
		return -EINVAL;
	}
	int16_t *out;
	size_t out_n;
	int err = resamp_clip(pcm, n, rate, (uint32_t)out_hz, &out, &out_n);
	if (err) {
		fprintf(stderr, "prompt_wav: %s: %s\n", path, strerror(-err));
		return err;
	}
	SF_INFO info = {.samplerate = (int)out_hz,
			.channels = 1,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *f = sf_open(path, SFM_WRITE, &info);
	sf_count_t put = f ? sf_write_short(f, out, (sf_count_t)out_n) : 0;
	if (f)
		sf_close(f);
	free(out);
	if (!f || put != (sf_count_t)out_n) {
		fprintf(stderr, "prompt_wav: %s: cannot write\n", path);
		return -EIO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: prompt_wav IN.wav OUT-RATE.wav...\n");
		return 1;
	}
	size_t n;
	uint32_t rate;
	int16_t *pcm = read_mono(argv[1], &n, &rate);
	if (!pcm)
		return 1;
	n = shape(pcm, n, rate);
	int err = n ? 0 : -EINVAL;
	for (int i = 2; !err && i < argc; i++)
		err = write_at(argv[i], pcm, n, rate);
	free(pcm);
	return err ? 1 : 0;
}
