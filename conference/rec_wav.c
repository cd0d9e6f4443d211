/* rec_wav.c: the WAV sink of a recording (rec_sink.h), 16-bit PCM mono at
 * the room rate, written with libsndfile. The header is rewritten after
 * every batch, so that the data size it states is always the file's own: a
 * reader of the file as it stands on disk sees every sample written so
 * far. Recording writer thread. */
#include "conference/rec_sink.h"

#include <errno.h>
#include <sndfile.h>
#include <stdlib.h>

struct rec_sink {
	SNDFILE *sf;
	int err; /* the first failure, kept */
};

static int wav_open(struct rec_sink **out, int fd, uint32_t rate_hz)
{
	struct rec_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	SF_INFO info = {.samplerate = (int)rate_hz,
			.channels = 1,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	s->sf = sf_open_fd(fd, SFM_WRITE, &info, SF_FALSE);
	if (!s->sf) {
		free(s);
		return -EIO;
	}
	sf_command(s->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	*out = s;
	return 0;
}

static int wav_write(struct rec_sink *s, const int16_t *pcm, size_t n)
{
	if (!s->err &&
	    sf_write_short(s->sf, pcm, (sf_count_t)n) != (sf_count_t)n)
		s->err = -EIO;
	return s->err;
}

static int wav_flush(struct rec_sink *s)
{
	sf_command(s->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	return s->err;
}

static int wav_close(struct rec_sink *s)
{
	if (!s)
		return 0;
	sf_command(s->sf, SFC_UPDATE_HEADER_NOW, NULL, 0);
	int rc = sf_close(s->sf);
	int err = s->err ? s->err : rc ? -EIO : 0;
	free(s);
	return err;
}

const struct rec_sink_ops rec_wav_ops = {
    .ext = ".wav",
    .open = wav_open,
    .write = wav_write,
    .flush = wav_flush,
    .close = wav_close,
};
