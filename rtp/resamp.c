/* resamp.c: mono sample-rate conversion through SpeexDSP's resampler.
 *
 * Quality 3 is SpeexDSP's VoIP setting: clean enough for speech, cheap
 * enough to run for every participant on every tick. The converter keeps
 * its filter history between calls, so a stream of 20 ms frames converts
 * without clicks at the joins, and it emits exactly in_n * out / in samples
 * per call when the ratio is whole (8 <-> 16 <-> 48 kHz); its filter delay
 * (a few samples) shows as leading output, never as a short frame. Equal
 * rates are a plain copy. A reset forgets the history, for audio that
 * starts again after a gap (a speaker selected again).
 *
 * A room changes rate when its members change (8, 16 or 48 kHz), and the
 * converters between each codec and the room change with it. Each
 * converter's delay differs (SpeexDSP's filter is centred: 3 ms for
 * 8 <-> 48 kHz, none for a copy), so a plain swap would move the audio in
 * time, which a listener hears as a click. resamp_new_room() therefore
 * adds a delay line on the input side that makes up the difference to the
 * slowest room rate the codec can meet: the audio then takes the same time
 * through the room at any rate, and a converter swapped at a frame's
 * boundary, once its history is filled (the mixer feeds it one frame
 * ahead), carries on where the old one left off.
 *
 * A struct resamp belongs to its creator (a stream, thus a mixer thread)
 * and is not thread-safe. */
#include "rtp/rtp.h"

#include <errno.h>
#include <limits.h>
#include <speex/speex_resampler.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RESAMP_QUALITY 3
#define LINE_CHUNK     960 /* input samples through the delay line at once */

static const uint32_t room_rates[] = {8000, 16000, 48000};
#define N_ROOM_RATES (sizeof(room_rates) / sizeof(room_rates[0]))

struct resamp {
	uint32_t in_hz, out_hz;
	SpeexResamplerState *st; /* NULL when the rates are equal */
	int16_t *line;		 /* delay line at in_hz; NULL when none */
	size_t line_n;
	int16_t *scratch; /* line_n + LINE_CHUNK */
};

int resamp_new(struct resamp **out, uint32_t in_hz, uint32_t out_hz)
{
	return resamp_new_quality(out, in_hz, out_hz, RESAMP_QUALITY);
}

int resamp_new_quality(struct resamp **out, uint32_t in_hz, uint32_t out_hz,
		       int quality)
{
	struct resamp *r;
	int err;

	if (!out || !in_hz || !out_hz || in_hz > INT_MAX || out_hz > INT_MAX ||
	    quality < 0 || quality > 10)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->in_hz = in_hz;
	r->out_hz = out_hz;
	if (in_hz != out_hz) {
		r->st = speex_resampler_init(1, in_hz, out_hz, quality, &err);
		if (!r->st) {
			err = err == RESAMPLER_ERR_ALLOC_FAILED ? -ENOMEM
								: -EINVAL;
			goto fail;
		}
	}
	*out = r;
	return 0;
fail:
	resamp_free(r);
	return err;
}

void resamp_free(struct resamp *r)
{
	if (!r)
		return;
	if (r->st)
		speex_resampler_destroy(r->st);
	free(r->line);
	free(r->scratch);
	free(r);
}

/* The delay of SpeexDSP's converter from in_hz to out_hz: half its filter,
 * counted at the input rate. Computed once per pair of room rates. */
static uint32_t speex_latency_ns(uint32_t in_hz, uint32_t out_hz)
{
	static _Atomic uint32_t cache[N_ROOM_RATES][N_ROOM_RATES];
	size_t i = N_ROOM_RATES, o = N_ROOM_RATES;
	int err;

	if (in_hz == out_hz)
		return 0;
	for (size_t k = 0; k < N_ROOM_RATES; k++) {
		i = room_rates[k] == in_hz ? k : i;
		o = room_rates[k] == out_hz ? k : o;
	}
	if (i < N_ROOM_RATES && o < N_ROOM_RATES && atomic_load(&cache[i][o]))
		return atomic_load(&cache[i][o]) - 1;
	SpeexResamplerState *st =
	    speex_resampler_init(1, in_hz, out_hz, RESAMP_QUALITY, &err);
	if (!st)
		return 0;
	uint64_t ns = (uint64_t)speex_resampler_get_input_latency(st) *
		      1000000000ull / in_hz;
	speex_resampler_destroy(st);
	if (i < N_ROOM_RATES && o < N_ROOM_RATES)
		atomic_store(&cache[i][o], (uint32_t)ns + 1);
	return (uint32_t)ns;
}

int resamp_new_room(struct resamp **out, uint32_t codec_hz, uint32_t room_hz,
		    bool to_room, uint32_t floor_hz)
{
	uint32_t in = to_room ? codec_hz : room_hz;
	uint32_t o = to_room ? room_hz : codec_hz;
	uint32_t worst = 0;

	if (!out || !codec_hz || !room_hz || codec_hz > 192000 ||
	    room_hz > 192000)
		return -EINVAL;
	for (size_t k = 0; k < N_ROOM_RATES; k++) {
		uint32_t r = room_rates[k];
		uint32_t ns = r < floor_hz ? 0
			      : to_room	   ? speex_latency_ns(codec_hz, r)
					   : speex_latency_ns(r, codec_hz);
		worst = ns > worst ? ns : worst;
	}
	uint32_t own = speex_latency_ns(in, o);
	uint64_t pad_ns = worst > own ? worst - own : 0;
	size_t line_n = (size_t)((pad_ns * in + 500000000ull) / 1000000000ull);
	if (in == o && !line_n) {
		*out = NULL; /* a plain copy */
		return 0;
	}
	struct resamp *r;
	int err = resamp_new(&r, in, o);
	if (err || !line_n)
		goto done;
	r->line = calloc(line_n, sizeof(*r->line));
	r->scratch = calloc(line_n + LINE_CHUNK, sizeof(*r->scratch));
	r->line_n = line_n;
	if (!r->line || !r->scratch) {
		resamp_free(r);
		err = -ENOMEM;
	}
done:
	if (!err)
		*out = r;
	return err;
}

void resamp_take(struct resamp **to, struct resamp **from)
{
	resamp_free(*to);
	*to = *from;
	*from = NULL;
}

uint32_t resamp_latency_ns(const struct resamp *r)
{
	if (!r)
		return 0;
	return speex_latency_ns(r->in_hz, r->out_hz) +
	       (uint32_t)((uint64_t)r->line_n * 1000000000ull / r->in_hz);
}

void resamp_exact(struct resamp *r, const int16_t *in, size_t in_n,
		  int16_t *out, size_t out_n)
{
	int got = (int)(in_n < out_n ? in_n : out_n);
	if (r)
		got = resamp_run(r, in, in_n, out, out_n);
	else
		memcpy(out, in, (size_t)got * sizeof(*out));
	if (got < 0)
		got = 0;
	if ((size_t)got < out_n)
		memset(out + got, 0, (out_n - (size_t)got) * sizeof(*out));
}

void resamp_reset(struct resamp *r)
{
	if (!r)
		return;
	if (r->line)
		memset(r->line, 0, r->line_n * sizeof(*r->line));
	if (r->st)
		speex_resampler_reset_mem(r->st); /* a new converter's state */
}

/* Returns -ENOSPC before touching the state when cap cannot hold the
 * output, so no input is ever half consumed. */
static int convert(struct resamp *r, const int16_t *in, size_t in_n,
		   int16_t *out, size_t cap)
{
	spx_uint32_t in_len, out_len;
	uint64_t need;

	if (!r->st) {
		if (cap < in_n)
			return -ENOSPC;
		if (in_n)
			memcpy(out, in, in_n * sizeof(*in));
		return (int)in_n;
	}
	need = ((uint64_t)in_n * r->out_hz + r->in_hz - 1) / r->in_hz;
	if (need > cap || need > INT_MAX)
		return -ENOSPC;
	in_len = (spx_uint32_t)in_n;
	out_len = (spx_uint32_t)(cap > INT_MAX ? INT_MAX : cap);
	if (speex_resampler_process_int(r->st, 0, in, &in_len, out, &out_len))
		return -EINVAL;
	return (int)out_len;
}

/* Through the delay line first: what comes out of it is the line's
 * oldest samples, then the input's. */
int resamp_run(struct resamp *r, const int16_t *in, size_t in_n, int16_t *out,
	       size_t cap)
{
	size_t done = 0;

	if (!r || (!in && in_n) || !out || in_n > INT_MAX / 8)
		return -EINVAL;
	if (!r->line)
		return convert(r, in, in_n, out, cap);
	uint64_t need = ((uint64_t)in_n * r->out_hz + r->in_hz - 1) / r->in_hz;
	if (need > cap)
		return -ENOSPC;
	for (size_t at = 0; at < in_n; at += LINE_CHUNK) {
		size_t n = in_n - at < LINE_CHUNK ? in_n - at : LINE_CHUNK;
		memcpy(r->scratch, r->line, r->line_n * sizeof(*r->line));
		memcpy(r->scratch + r->line_n, in + at, n * sizeof(*in));
		memcpy(r->line, r->scratch + n, r->line_n * sizeof(*r->line));
		int got = convert(r, r->scratch, n, out + done, cap - done);
		if (got < 0)
			return got;
		done += (size_t)got;
	}
	return (int)done;
}

/* A whole clip at once (prompts): the converter's filter delay is flushed
 * with silence, and the result has exactly in_n * out / in samples. */
int resamp_clip(const int16_t *in, size_t in_n, uint32_t in_hz, uint32_t out_hz,
		int16_t **out, size_t *out_n)
{
	enum { CHUNK = 4800, FLUSH = 480 };
	static const int16_t zeros[FLUSH];
	struct resamp *r = NULL;

	if (!in || !in_n || !out || !out_n || in_n > INT_MAX / 8 ||
	    in_hz > 192000 || out_hz > 192000)
		return -EINVAL;
	uint64_t want = (uint64_t)in_n * out_hz / (in_hz ? in_hz : 1);
	int err = resamp_new(&r, in_hz, out_hz);
	if (err)
		return err;
	size_t cap = (size_t)want + (size_t)FLUSH * out_hz / in_hz + CHUNK * 8;
	int16_t *buf = malloc(cap * sizeof(*buf));
	size_t n = 0;
	err = buf && want ? 0 : -ENOMEM;
	for (size_t at = 0; !err && at < in_n + FLUSH; at += CHUNK) {
		const int16_t *src = at < in_n ? in + at : zeros;
		size_t len = at < in_n ? in_n - at : FLUSH;
		len = len < CHUNK ? len : CHUNK;
		int got = resamp_run(r, src, len, buf + n, cap - n);
		if (got < 0)
			err = got;
		else
			n += (size_t)got;
	}
	resamp_free(r);
	if (!err && n < want)
		memset(buf + n, 0, (size_t)(want - n) * sizeof(*buf));
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	*out_n = (size_t)want;
	return 0;
}
