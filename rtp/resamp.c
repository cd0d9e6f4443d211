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
 * A struct resamp belongs to its creator (a stream, thus a mixer thread)
 * and is not thread-safe. */
#include "rtp/rtp.h"

#include <errno.h>
#include <limits.h>
#include <speex/speex_resampler.h>
#include <stdlib.h>
#include <string.h>

#define RESAMP_QUALITY 3

struct resamp {
	uint32_t in_hz, out_hz;
	SpeexResamplerState *st; /* NULL when the rates are equal */
};

int resamp_new(struct resamp **out, uint32_t in_hz, uint32_t out_hz)
{
	struct resamp *r;
	int err;

	if (!out || !in_hz || !out_hz || in_hz > INT_MAX || out_hz > INT_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->in_hz = in_hz;
	r->out_hz = out_hz;
	if (in_hz != out_hz) {
		r->st = speex_resampler_init(1, in_hz, out_hz, RESAMP_QUALITY,
					     &err);
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
	free(r);
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
	if (!r || !r->st)
		return;
	speex_resampler_reset_mem(r->st); /* the state of a new converter */
}

/* Returns -ENOSPC before touching the state when cap cannot hold the
 * output, so no input is ever half consumed. */
int resamp_run(struct resamp *r, const int16_t *in, size_t in_n, int16_t *out,
	       size_t cap)
{
	spx_uint32_t in_len, out_len;
	uint64_t need;

	if (!r || (!in && in_n) || !out || in_n > INT_MAX / 8)
		return -EINVAL;
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
