/* fuzz_rtp.c: hostile datagrams through the RTP parser (rtp/rtppkt.c).
 *
 * Promises checked: the parser never reads outside the datagram (ASan),
 * a parsed payload lies inside it, at most 15 CSRCs come out, and what
 * parses builds back into a packet that parses to the same fields, its
 * header extension block included (padding is not rebuilt, so the
 * payload is compared, not the bytes). The RTCP test on the same bytes must
 * agree with the packet type it reads. The header extension (RFC 8285) lies
 * inside the datagram, before the payload; every element found in it
 * lies inside the extension, and a level read from it is 0..127. The
 * payload, read as Opus (whatever was negotiated, a peer may send
 * anything), gives a voice flag of -1, 0 or 1 and a FEC flag, reading
 * nothing outside it. */
#include "fuzz/fuzz.h"
#include "rtp/rtp.h"

#include <errno.h>
#include <string.h>

#define T "rtp"

static void round_trip(const struct rtppkt *p)
{
	static uint8_t
	    buf[12 + 4 * RTPPKT_MAX_CSRC + 4 + 4 * 65535 + RTPPKT_MAX_BYTES];
	struct rtppkt q;
	int n = rtppkt_build(buf, sizeof(buf), p);
	size_t ext = p->ext ? 4 + p->ext_bytes : 0;

	if (p->payload_bytes > RTPPKT_MAX_BYTES) {
		FUZZ_CHECK(T, n == -ENOSPC);
		return;
	}
	FUZZ_CHECK(T, n == (int)(12 + 4 * p->n_csrc + ext + p->payload_bytes));
	FUZZ_CHECK(T, rtppkt_parse(&q, buf, (size_t)n) == 0);
	FUZZ_CHECK(T, q.pt == p->pt && q.marker == p->marker &&
			  q.seq == p->seq && q.ts == p->ts &&
			  q.ssrc == p->ssrc && q.n_csrc == p->n_csrc);
	FUZZ_CHECK(T, !memcmp(q.csrc, p->csrc, sizeof(q.csrc)));
	FUZZ_CHECK(T, !q.ext == !p->ext && q.ext_bytes == p->ext_bytes &&
			  q.ext_profile == p->ext_profile);
	FUZZ_CHECK(T, !p->ext_bytes || !memcmp(q.ext, p->ext, p->ext_bytes));
	FUZZ_CHECK(T, q.payload_bytes == p->payload_bytes);
	FUZZ_CHECK(T, !p->payload_bytes ||
			  !memcmp(q.payload, p->payload, p->payload_bytes));
}

static void extension(const struct rtppkt *p)
{
	FUZZ_CHECK(T, !p->ext || (p->ext + p->ext_bytes <= p->payload));
	FUZZ_CHECK(T, p->ext || !p->ext_bytes);
	for (unsigned id = 1; id <= 255; id++) {
		const uint8_t *d = NULL;
		size_t len = 0;
		int err = rtpext_find(p, id, &d, &len);
		FUZZ_CHECK(T, err == 0 || err == -ENOENT || err == -EBADMSG);
		if (err)
			continue;
		FUZZ_CHECK(T, p->ext && d >= p->ext &&
				  d + len <= p->ext + p->ext_bytes);
		uint8_t level = 0xff;
		bool vad;
		err = rtpext_audio_level(p, id, &level, &vad);
		FUZZ_CHECK(T, err == (len ? 0 : -EBADMSG));
		FUZZ_CHECK(T, err || level <= 127);
	}
	FUZZ_CHECK(T, rtpext_find(p, 0, NULL, NULL) == -EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtppkt p;
	bool rtcp = rtppkt_is_rtcp(data, size);

	FUZZ_CHECK(T, !rtcp || (size >= 4 && data[1] >= 192 && data[1] <= 223));
	if (rtppkt_parse(&p, data, size) != 0)
		return 0;
	FUZZ_CHECK(T, p.n_csrc <= RTPPKT_MAX_CSRC && p.pt <= 0x7f);
	FUZZ_CHECK(T, p.payload >= data + 12 + 4 * p.n_csrc);
	FUZZ_CHECK(T, p.payload + p.payload_bytes <= data + size);
	extension(&p);
	round_trip(&p);
	int voice = codec_opus_voice(p.payload, p.payload_bytes);
	FUZZ_CHECK(T, voice >= -1 && voice <= 1);
	(void)codec_opus_has_fec(p.payload, p.payload_bytes);
	return 0;
}
