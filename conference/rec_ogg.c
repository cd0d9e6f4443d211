/* rec_ogg.c: the Ogg/Opus sink of a recording (rec_sink.h), mono, encoded
 * with libopusenc at REC_OGG_BITRATE (32 kb/s, 4 KB a second for a
 * fullband speech mix: a twenty-fourth of the 768 kb/s of a 48 kHz WAV).
 *
 * An Ogg file is a row of pages that each stand alone (capture pattern,
 * CRC, granule position), so the file on disk plays up to its last whole
 * page even when the bridge is killed in the middle of the next one; an
 * end-of-stream page is written only on close. What decides how much a
 * kill -9 loses is how long audio waits in the encoder and the page
 * being filled, so:
 *   - OPE_SET_DECISION_DELAY(0): libopusenc would otherwise hold up to 2 s
 *     of input as lookahead; now a 20 ms frame is encoded once the next
 *     one starts;
 *   - pages are pulled (ope_encoder_create_pull) and written with write(2)
 *     at once, and flush() cuts the page being filled once a second of
 *     audio has gone in since the last cut (OPE_SET_MUXING_DELAY(1 s)
 *     bounds a page the same way should the writer fall behind).
 * So at most about a second of audio, plus the writer's 100 ms batch, is
 * not yet in the file when the process dies.
 *
 * Recording writer thread (rec_sink.h). */
#include "conference/rec_sink.h"

#include <errno.h>
#include <opusenc.h>
#include <stdlib.h>
#include <unistd.h>

#define REC_OGG_BITRATE 32000 /* bit/s, mono */
/* As the calls' encoders (rtp/codec.c): two thirds of the CPU of
 * libopus's default 10, for a writer thread that encodes every room being
 * recorded (bench/recbench, docs/benchmarks.md). */
#define REC_OGG_COMPLEXITY 5
#define REC_OGG_GRANULE_HZ 48000 /* Ogg Opus granules are 48 kHz samples */
#define REC_OGG_MAX_DELAY  REC_OGG_GRANULE_HZ /* 1 s: see above */

struct rec_sink {
	OggOpusEnc *enc;
	OggOpusComments *comments;
	int fd;
	uint32_t rate_hz;
	uint64_t since_cut; /* samples written since the last page cut */
	int err;	    /* the first failure, kept */
};

static int errno_of_ope(int ope)
{
	return ope == OPE_ALLOC_FAIL ? -ENOMEM : -EIO;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errno == ENOSPC || errno == EDQUOT ? -ENOSPC
								  : -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Writes the pages the encoder has ready; with cut, the one being filled
 * too. After a failure nothing more is written. */
static int put_pages(struct rec_sink *s, int cut)
{
	unsigned char *page;
	opus_int32 len;
	while (!s->err && ope_encoder_get_page(s->enc, &page, &len, cut))
		s->err = write_all(s->fd, page, (size_t)len);
	return s->err;
}

static void ogg_free(struct rec_sink *s)
{
	if (s->enc)
		ope_encoder_destroy(s->enc);
	if (s->comments)
		ope_comments_destroy(s->comments);
	free(s);
}

static int ogg_open(struct rec_sink **out, int fd, uint32_t rate_hz)
{
	struct rec_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->rate_hz = rate_hz;
	int ope = OPE_ALLOC_FAIL;
	s->comments = ope_comments_create();
	if (s->comments)
		s->enc = ope_encoder_create_pull(
		    s->comments, (opus_int32)rate_hz, 1, 0, &ope);
	if (s->enc)
		ope = ope_encoder_ctl(s->enc, OPE_SET_DECISION_DELAY(0));
	if (s->enc && ope == OPE_OK)
		ope = ope_encoder_ctl(s->enc,
				      OPE_SET_MUXING_DELAY(REC_OGG_MAX_DELAY));
	if (s->enc && ope == OPE_OK)
		ope =
		    ope_encoder_ctl(s->enc, OPUS_SET_BITRATE(REC_OGG_BITRATE));
	if (s->enc && ope == OPE_OK)
		ope = ope_encoder_ctl(s->enc,
				      OPUS_SET_COMPLEXITY(REC_OGG_COMPLEXITY));
	if (s->enc && ope == OPE_OK)
		ope = ope_encoder_flush_header(s->enc);
	/* libopusenc 0.2.1 sets a stream's end granule on the first write
	 * only: drained without audio, the last page's granule position is
	 * whatever the heap held and readers refuse the file (seen under
	 * ASan; xiph/libopusenc#24). A write of no samples sets it to 0. */
	static const opus_int16 none[1];
	if (s->enc && ope == OPE_OK)
		ope = ope_encoder_write(s->enc, none, 0);
	int err =
	    !s->enc || ope != OPE_OK ? errno_of_ope(ope) : put_pages(s, 0);
	if (err) {
		ogg_free(s);
		return err;
	}
	*out = s;
	return 0;
}

static int ogg_write(struct rec_sink *s, const int16_t *pcm, size_t n)
{
	if (s->err)
		return s->err;
	int ope = ope_encoder_write(s->enc, pcm, (int)n);
	if (ope != OPE_OK)
		s->err = errno_of_ope(ope);
	s->since_cut += n;
	return put_pages(s, 0);
}

static int ogg_flush(struct rec_sink *s)
{
	if (s->since_cut < s->rate_hz)
		return s->err;
	s->since_cut = 0;
	return put_pages(s, 1);
}

static int ogg_close(struct rec_sink *s)
{
	if (!s)
		return 0;
	if (!s->err) {
		int ope = ope_encoder_drain(s->enc);
		if (ope != OPE_OK)
			s->err = errno_of_ope(ope);
		put_pages(s, 1);
	}
	int err = s->err;
	ogg_free(s);
	return err;
}

const struct rec_sink_ops rec_ogg_ops = {
    .ext = ".ogg",
    .open = ogg_open,
    .write = ogg_write,
    .flush = ogg_flush,
    .close = ogg_close,
};
