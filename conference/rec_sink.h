/* rec_sink.h: the file formats a recording can be written in, each behind
 * the same table of functions, for rec.c. A sink encodes 16-bit mono PCM
 * into a file descriptor that rec.c opened and keeps: rec.c names, syncs,
 * renames and closes the file; the sink only decides the bytes.
 *
 * Both formats keep the file on disk playable while it grows, so that a
 * kill -9 leaves a recording that plays up to its last flush: WAV by
 * rewriting its header, Ogg by cutting pages that stand alone.
 *
 * Threads: a sink is opened on the signalling thread (the header is on disk
 * before rec_start() answers) and then used by the recording writer thread
 * alone. Library-like code: no logging above debug; errors are negative
 * errno values (-ENOMEM, -ENOSPC, -EIO) that rec.c logs with the file name. */
#ifndef TUTTI_CONFERENCE_REC_SINK_H
#define TUTTI_CONFERENCE_REC_SINK_H

#include <stddef.h>
#include <stdint.h>

struct rec_sink;

struct rec_sink_ops {
	const char *ext; /* of the file name: ".wav", ".ogg" */
	/* Starts the format's file on fd (empty, open for writing) and writes
	 * its header. */
	int (*open)(struct rec_sink **out, int fd, uint32_t rate_hz);
	/* Appends n samples at the rate given to open. */
	int (*write)(struct rec_sink *s, const int16_t *pcm, size_t n);
	/* Called after each batch of writes (about every 100 ms): makes the
	 * file on disk play what was written, as far as the format allows at
	 * little cost (the caller adds the fsync). */
	int (*flush)(struct rec_sink *s);
	/* Ends the file (complete header, or last page and end of stream) and
	 * frees s; the first error the sink ever met, or 0. NULL-safe. */
	int (*close)(struct rec_sink *s);
};

extern const struct rec_sink_ops rec_wav_ops; /* rec_wav.c, libsndfile */
extern const struct rec_sink_ops rec_ogg_ops; /* rec_ogg.c, libopusenc */

#endif
