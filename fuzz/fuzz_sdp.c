/* fuzz_sdp.c: hostile SDP through the focus's offer/answer path: Sofia-SIP's
 * parser as conference/sig_sdp.c uses it, then conference/oa.c's choice,
 * the answer it writes and the stream parameters it derives, as
 * conference/sig_call.c does with an INVITE's body.
 *
 * Promises checked: a description that parses names a literal address of
 * its type and at most OA_MAX_FORMATS formats and OA_MAX_MEDIA m= lines;
 * an agreed codec is one we support with a payload type from the offer;
 * the answer we write (in sig_call.c's 4 KiB) is SDP that we parse
 * ourselves, with one m= line per offered one, our port on the audio line
 * only, the agreed payload type and the mirrored direction; the same
 * bytes read as an answer to our offer agree on a codec of ours or none.
 * Silence: the audio level's extension id is one RFC 8285 allows and our
 * answer repeats it; CN is answered only as offered beside an 8 kHz codec,
 * DTX only for Opus. */
#include "conference/oa.h"
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <string.h>

#define T	      "sdp"
#define SDP_MAX_BYTES 4096 /* sig_call.c's buffer for what we send */

static const struct oa_local local = {
    .addr = "127.0.0.1",
    .port = 40000,
    .sess_id = 1,
    .sess_version = 2,
};

static void check_result(const struct oa_desc *d, const struct oa_result *r)
{
	bool from_offer = false;

	FUZZ_CHECK(T, codec_by_id(r->codec) != NULL);
	FUZZ_CHECK(T, r->pt >= 0 && r->pt <= 127);
	for (unsigned i = 0; i < d->n_formats; i++)
		from_offer |= d->fmt[i].pt == r->pt;
	FUZZ_CHECK(T, from_offer);
	FUZZ_CHECK(T, r->ptime_ms >= 10 && r->ptime_ms <= 60);
	/* silence: an audio level id RFC 8285 allows, CN from the offer
	 * beside an 8 kHz codec, DTX for Opus only */
	FUZZ_CHECK(T,
		   r->level_ext_id == d->level_ext_id && r->level_ext_id != 15);
	bool cn_offered = false;
	for (unsigned i = 0; i < d->n_formats; i++)
		cn_offered |= r->cn_pt && d->fmt[i].pt == r->cn_pt;
	FUZZ_CHECK(T,
		   !r->cn_pt || (cn_offered && r->cn_pt != r->pt &&
				 codec_by_id(r->codec)->rtp_clock_hz == 8000));
	FUZZ_CHECK(T, !r->dtx || r->codec == CODEC_OPUS);
}

static void check_answer(const struct oa_desc *offer, const struct oa_result *r,
			 const char *sdp, int n)
{
	struct oa_desc a;

	FUZZ_CHECK(T, n > 0 && n < SDP_MAX_BYTES && (size_t)n == strlen(sdp));
	if (sig_sdp_parse(&a, sdp, (size_t)n) != 0)
		fprintf(stderr, "our answer does not parse:\n%s\n", sdp);
	FUZZ_CHECK(T, sig_sdp_parse(&a, sdp, (size_t)n) == 0);
	FUZZ_CHECK(T, a.n_media == offer->n_media);
	FUZZ_CHECK(T, a.audio_index == offer->audio_index);
	FUZZ_CHECK(T, a.has_audio && a.port == local.port);
	FUZZ_CHECK(T, a.dir == r->our_dir);
	FUZZ_CHECK(T, a.n_formats >= 1 && a.fmt[0].pt == r->pt);
	FUZZ_CHECK(T, a.level_ext_id == r->level_ext_id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oa_desc d;
	struct oa_result r;
	struct stream_params sp;
	char sdp[SDP_MAX_BYTES];
	int n;

	if (sig_sdp_parse(&d, (const char *)data, size) != 0)
		return 0;
	FUZZ_CHECK(T, d.n_formats <= OA_MAX_FORMATS);
	FUZZ_CHECK(T, d.n_media <= OA_MAX_MEDIA);
	FUZZ_CHECK(T, d.n_media == 0 || d.audio_index < d.n_media);
	FUZZ_CHECK(T, memchr(d.addr, '\0', sizeof(d.addr)) != NULL);

	/* as an answer to our plain offer, then to our SRTP offer */
	struct sdes_crypto ours = {.tag = 1,
				   .suite = SRTP_AES_CM_128_HMAC_SHA1_80};
	if (oa_accept_answer(&d, NULL, &r) == 0) {
		check_result(&d, &r);
		FUZZ_CHECK(T, oa_stream_params(&d, &r, &sp) == 0);
	}
	if (oa_accept_answer(&d, &ours, &r) == 0) {
		FUZZ_CHECK(T, r.srtp);
		check_result(&d, &r);
		FUZZ_CHECK(T, oa_stream_params(&d, &r, &sp) == 0);
	}
	/* every policy; optional (the default) goes on */
	(void)oa_answer(&d, OA_SRTP_OFF, &r);
	(void)oa_answer(&d, OA_SRTP_MANDATORY, &r);
	if (oa_answer(&d, OA_SRTP_OPTIONAL, &r) != 0)
		return 0;
	FUZZ_CHECK(T, r.srtp == d.secure);
	check_result(&d, &r);
	FUZZ_CHECK(T, d.has_audio && d.addr[0]);
	/* The address was checked as a literal of its type when parsed. */
	FUZZ_CHECK(T, oa_stream_params(&d, &r, &sp) == 0);
	FUZZ_CHECK(T, sp.pt == r.pt && sp.codec == r.codec);
	/* At most OA_MAX_MEDIA short lines: the answer always fits. */
	n = oa_render_answer(sdp, sizeof(sdp), &local, &d, &r);
	check_answer(&d, &r, sdp, n);
	return 0;
}
