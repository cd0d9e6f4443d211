/* cn.c: comfort noise (RFC 3389) and silence in what we send.
 *
 * What we hear: a CN packet's first byte is the noise level in -dBov; the
 * spectral coefficients after it are not used: the mixer takes CN as
 * silence at that level, never decoded and never malformed.
 *
 * What we send a G.711 listener who negotiated CN while it hears silence
 * (nobody speaks, or only itself): one CN packet with the level when the
 * silence starts, then one every CN_REFRESH_MS (RFC 3389 leaves the
 * interval to the sender; a receiver that heard nothing for a while may
 * think the call dead), and nothing in between. The first audio packet
 * after it carries the marker bit (RFC 3551 4.1). "Silence" is a packet
 * time whose level is CN_SILENT_DBOV or quieter: the mix of a silent room
 * is exactly zero, and a level that low is inaudible anyway.
 *
 * Plain data and functions: the owner of a struct cn_tx (an encoder) may
 * call them from its thread. */
#include "rtp/rtp.h"

#include <errno.h>
#include <math.h>

#define CN_SILENT_DBOV 90
#define CN_REFRESH_MS  400

uint8_t cn_level_dbov(const int16_t *pcm, size_t n)
{
	int64_t e = 0;

	for (size_t i = 0; i < n; i++)
		e += (int32_t)pcm[i] * pcm[i];
	if (!n || !e)
		return CN_MAX_DBOV;
	/* RFC 3389 3: relative to the overload point of a full-scale
	 * square wave, which is what -dBov means for 16-bit PCM. */
	double db = 10 * log10((double)e / (double)n / (32767.0 * 32767.0));
	if (db <= -CN_MAX_DBOV)
		return CN_MAX_DBOV;
	return db >= 0 ? 0 : (uint8_t)lrint(-db);
}

uint8_t cn_rx_level(const uint8_t *payload, size_t len)
{
	/* An empty payload says nothing more than silence. */
	return len && payload ? payload[0] & CN_MAX_DBOV : CN_MAX_DBOV;
}

int cn_tx_step(struct cn_tx *t, const int16_t *pcm, size_t n, uint32_t ptime_ms,
	       uint8_t *out, size_t cap, bool *marker)
{
	uint8_t level = cn_level_dbov(pcm, n);

	*marker = false;
	if (level < CN_SILENT_DBOV) {
		*marker = t->silent; /* first audio after CN */
		t->silent = false;
		return -1;
	}
	if (t->silent && t->since_ms + ptime_ms < CN_REFRESH_MS) {
		t->since_ms += ptime_ms;
		return 0;
	}
	if (cap < 1)
		return -ENOSPC;
	t->silent = true;
	t->since_ms = 0;
	out[0] = level;
	return 1;
}

void cn_tx_reset(struct cn_tx *t)
{
	t->silent = false;
	t->since_ms = 0;
}
