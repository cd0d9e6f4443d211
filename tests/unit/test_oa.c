/* test_oa.c: SDP offer/answer: parsing hostile and ordinary offers, the
 * codec choice matrix, directions, the header extensions we take (RFC
 * 6464) and send (RFC 6465), and the SDP we write. */
#include "conference/oa.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"

#define HDR                                                                    \
	"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"     \
	"t=0 0\r\n"

static int parse(const char *sdp, struct oa_desc *d)
{
	memset(d, 0xa5, sizeof(*d)); /* must be fully written on success */
	return sig_sdp_parse(d, sdp, strlen(sdp));
}

static int answer_for(const char *sdp, struct oa_result *r)
{
	struct oa_desc d;
	int err = parse(sdp, &d);
	return err ? err : oa_answer(&d, OA_SRTP_OPTIONAL, r);
}

static void test_parse_basic(void)
{
	struct oa_desc d;
	CU_ASSERT_EQUAL(parse(HDR "m=audio 4000 RTP/AVP 0 8 101\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=ptime:20\r\na=sendonly\r\n",
			      &d),
			0);
	CU_ASSERT_STRING_EQUAL(d.addr, "127.0.0.1");
	CU_ASSERT_EQUAL(d.port, 4000);
	CU_ASSERT_EQUAL(d.rtcp_port, 4001);
	CU_ASSERT_TRUE(d.has_audio);
	CU_ASSERT_FALSE(d.ipv6);
	CU_ASSERT_EQUAL(d.dir, OA_SENDONLY);
	CU_ASSERT_EQUAL(d.ptime_ms, 20);
	CU_ASSERT_EQUAL(d.n_formats, 3);
	CU_ASSERT_EQUAL(d.n_media, 1);
}

static void test_parse_media_level_c_and_rtcp(void)
{
	struct oa_desc d;
	CU_ASSERT_EQUAL(parse("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\n"
			      "m=audio 5000 RTP/AVP 0\r\nc=IN IP6 ::1\r\n"
			      "a=rtcp:6001\r\na=rtcp-mux\r\n",
			      &d),
			0);
	CU_ASSERT_TRUE(d.ipv6);
	CU_ASSERT_STRING_EQUAL(d.addr, "::1");
	CU_ASSERT_EQUAL(d.rtcp_port, 6001);
	CU_ASSERT_TRUE(d.rtcp_mux);
}

static void test_parse_malformed(void)
{
	static const char *const bad[] = {
	    "",
	    "garbage",
	    "v=0\r\n",
	    HDR "m=audio notaport RTP/AVP 0\r\n",
	    HDR "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/0\r\n",
	    HDR "m=audio 4000 RTP/AVP 0\r\na=rtcp:99999\r\n",
	    HDR "m=audio 70000 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
	    "c=IN IP4 300.1.2.3\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
	    "c=IN IP4 ::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	    "m=audio 4000 RTP/AVP 0\r\n", /* no c= anywhere */
	    NULL};
	for (int i = 0; bad[i]; i++) {
		struct oa_desc d;
		int err = sig_sdp_parse(&d, bad[i], strlen(bad[i]));
		if (err != -EBADMSG)
			printf("\n  accepted bad SDP #%d\n", i);
		CU_ASSERT_EQUAL(err, -EBADMSG);
	}
	struct oa_desc d;
	CU_ASSERT_EQUAL(sig_sdp_parse(&d, NULL, 0), -EBADMSG);
}

/* m= lines outside RFC 4566's grammar: Sofia-SIP's parser never returns
 * from some of them (a format that is not a token after a non-RTP
 * profile), so they are refused before it sees them. Ordinary non-RTP
 * lines still parse and are answered with port 0. */
static void test_parse_media_grammar(void)
{
	static const char *const bad[] = {
	    HDR "m=audio 4000 RTP/AVP 0\r\nm=application 9 UDP/BFCP a /b\r\n",
	    HDR "m=audio 0 R\xae\xaf/AVP 0\r\n",
	    HDR "m=audio 4000 RTP/AVP 0 8:\r\n",
	    HDR "m=audio\r\n",
	    HDR "m=audio  4000 RTP/AVP 0\r\n",
	    HDR "m=au<dio 4000 RTP/AVP 0\r\n",
	    HDR "m=audio 0 RTP/'AVP \t\r\n",
	    HDR "m=audio 4000 RTP/AVP 0 \r\n",
	    HDR "m=audio 4000!0 RTP'AVP/ 111 9 a/b\r\n",
	    HDR "m=audio 4000/ RTP/AVP 0\r\n",
	    HDR "m=audio 40/00 /TPAV\r\n",
	    HDR "m=audio 4000 RTP//AVP 0\r\n",
	    HDR "m=audio 4000 RTP/AVP 0\r\n"
		"m=application 9 UDP/TLS/RTP/SAVPF/AND/MORE/THAN/32 0\r\n",
	    HDR "m=audio 4000 RTP/AVP 0\r\n"
		"m=application 9 UDP/BFCP a-format-of-16ch\r\n",
	    NULL};
	for (int i = 0; bad[i]; i++) {
		struct oa_desc d;
		CU_ASSERT_EQUAL(sig_sdp_parse(&d, bad[i], strlen(bad[i])),
				-EBADMSG);
	}
	struct oa_desc d;
	CU_ASSERT_EQUAL(parse(HDR "m=audio 4000 RTP/AVP 0 8\r\n"
				  "m=application 9 UDP/BFCP *\r\n"
				  "m=video 0/2 RTP/AVP 96\t97\r\n",
			      &d),
			0);
	CU_ASSERT_EQUAL(d.n_media, 3);
	CU_ASSERT_STRING_EQUAL(d.media[1].fmt, "*");
}

/* Which codec we answer, for each offer: our preference decides. */
static void test_codec_matrix(void)
{
	static const struct {
		const char *m;
		enum codec_id want;
		int pt;
	} cases[] = {
	    {"m=audio 4000 RTP/AVP 0\r\n", CODEC_PCMU, 0},
	    {"m=audio 4000 RTP/AVP 8\r\n", CODEC_PCMA, 8},
	    {"m=audio 4000 RTP/AVP 8 0\r\n", CODEC_PCMU, 0},
	    {"m=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000/2\r\n",
	     CODEC_OPUS, 96},
	    {"m=audio 4000 RTP/AVP 0 111\r\na=rtpmap:111 OPUS/48000/2\r\n",
	     CODEC_OPUS, 111},
	    /* G.722 (static 9) before G.711, after Opus (SPEC 3) */
	    {"m=audio 4000 RTP/AVP 9 8\r\n", CODEC_G722, 9},
	    {"m=audio 4000 RTP/AVP 0 8 9\r\n", CODEC_G722, 9},
	    {"m=audio 4000 RTP/AVP 0 9\r\na=rtpmap:9 G722/8000\r\n", CODEC_G722,
	     9},
	    {"m=audio 4000 RTP/AVP 9 96\r\na=rtpmap:96 opus/48000/2\r\n",
	     CODEC_OPUS, 96},
	    /* G722/16000 is not RFC 3551's G.722 */
	    {"m=audio 4000 RTP/AVP 97 0\r\na=rtpmap:97 G722/16000\r\n",
	     CODEC_PCMU, 0},
	    {"m=audio 4000 RTP/AVP 97 8\r\na=rtpmap:97 PCMU/8000\r\n",
	     CODEC_PCMU, 97},
	    /* opus at the wrong clock is not RFC 7587 Opus */
	    {"m=audio 4000 RTP/AVP 96 8\r\na=rtpmap:96 opus/16000\r\n",
	     CODEC_PCMA, 8},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sdp[512];
		snprintf(sdp, sizeof(sdp), HDR "%s", cases[i].m);
		struct oa_result r;
		CU_ASSERT_EQUAL_FATAL(answer_for(sdp, &r), 0);
		CU_ASSERT_EQUAL(r.codec, cases[i].want);
		CU_ASSERT_EQUAL(r.pt, cases[i].pt);
	}
}

static void test_no_common_codec(void)
{
	struct oa_result r;
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 3 18\r\n", &r),
			-ENOTSUP);
	CU_ASSERT_EQUAL(answer_for(HDR "m=video 4000 RTP/AVP 96\r\n"
				       "a=rtpmap:96 H264/90000\r\n",
				   &r),
			-ENOTSUP);
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 0 RTP/AVP 0\r\n", &r),
			-ENOTSUP);
}

#define CRYPTO_80                                                              \
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 "                                  \
	"inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"

static int answer_policy(const char *sdp, enum oa_srtp p, struct oa_result *r)
{
	struct oa_desc d;
	int err = parse(sdp, &d);
	return err ? err : oa_answer(&d, p, r);
}

static void test_srtp_policy(void)
{
	struct oa_result r;
	const char *savp = HDR "m=audio 4000 RTP/SAVP 0\r\n" CRYPTO_80;
	const char *avp = HDR "m=audio 4000 RTP/AVP 0\r\n";
	CU_ASSERT_EQUAL(answer_policy(savp, OA_SRTP_OFF, &r), -ENOTSUP);
	CU_ASSERT_EQUAL(answer_policy(savp, OA_SRTP_OPTIONAL, &r), 0);
	CU_ASSERT_TRUE(r.srtp);
	CU_ASSERT_EQUAL(answer_policy(savp, OA_SRTP_MANDATORY, &r), 0);
	CU_ASSERT_EQUAL(answer_policy(avp, OA_SRTP_OPTIONAL, &r), 0);
	CU_ASSERT_FALSE(r.srtp);
	CU_ASSERT_EQUAL(answer_policy(avp, OA_SRTP_OFF, &r), 0);
	CU_ASSERT_EQUAL(answer_policy(avp, OA_SRTP_MANDATORY, &r), -EACCES);
	/* a secure offer with no a=crypto we can take */
	CU_ASSERT_EQUAL(answer_policy(HDR "m=audio 4000 RTP/SAVP 0\r\n",
				      OA_SRTP_OPTIONAL, &r),
			-ENOTSUP);
	CU_ASSERT_EQUAL(
	    answer_policy(HDR "m=audio 4000 RTP/SAVP 0\r\n"
			      "a=crypto:1 AEAD_AES_256_GCM inline:xyz\r\n",
			  OA_SRTP_OPTIONAL, &r),
	    -ENOTSUP);
}

static void test_srtp_answer(void)
{
	struct oa_desc d;
	struct oa_result r;
	/* the first line we take: tag 2, the _32 suite */
	CU_ASSERT_EQUAL_FATAL(
	    parse(HDR "m=audio 4000 RTP/SAVPF 0\r\n"
		      "a=crypto:1 AEAD_AES_256_GCM inline:xyz\r\n"
		      "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
		      "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^31\r\n"
		      "a=crypto:3 AES_CM_128_HMAC_SHA1_80 "
		      "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
		      "m=video 4002 RTP/AVPF 96\r\na=rtpmap:96 VP8/90000\r\n",
		  &d),
	    0);
	CU_ASSERT_EQUAL(d.n_crypto, 2);
	CU_ASSERT_TRUE(d.savpf);
	CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &r), 0);
	CU_ASSERT_TRUE(r.srtp);
	CU_ASSERT_EQUAL(r.crypto_peer.tag, 2);
	CU_ASSERT_EQUAL(r.crypto_peer.suite, SRTP_AES_CM_128_HMAC_SHA1_32);
	CU_ASSERT_EQUAL(r.crypto_ours.tag, 2);
	CU_ASSERT_EQUAL(r.crypto_ours.suite, SRTP_AES_CM_128_HMAC_SHA1_32);
	CU_ASSERT_NOT_EQUAL(
	    memcmp(r.crypto_ours.key, r.crypto_peer.key, SRTP_KEY_SALT_LEN), 0);
	struct oa_local l = {.addr = "127.0.0.1", .port = 20000};
	char buf[2048];
	CU_ASSERT_TRUE_FATAL(oa_render_answer(buf, sizeof(buf), &l, &d, &r) >
			     0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "m=audio 20000 RTP/SAVPF 0"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "m=video 0 RTP/AVPF 96\r\n"));
	/* our answer parses back to our key */
	struct oa_desc back;
	CU_ASSERT_EQUAL_FATAL(parse(buf, &back), 0);
	CU_ASSERT_TRUE(back.secure);
	CU_ASSERT_EQUAL_FATAL(back.n_crypto, 1);
	CU_ASSERT_EQUAL(
	    memcmp(back.crypto[0].key, r.crypto_ours.key, SRTP_KEY_SALT_LEN),
	    0);
	/* a second answer to the same offer (a re-INVITE) has a new key */
	struct oa_result again;
	CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &again), 0);
	CU_ASSERT_NOT_EQUAL(
	    memcmp(again.crypto_ours.key, r.crypto_ours.key, SRTP_KEY_SALT_LEN),
	    0);
}

static void test_srtp_offer_accept(void)
{
	struct oa_local l = {.addr = "127.0.0.1", .port = 20004};
	struct sdes_crypto ours = {.tag = 1,
				   .suite = SRTP_AES_CM_128_HMAC_SHA1_80};
	CU_ASSERT_EQUAL_FATAL(sdes_new_key(ours.key), 0);
	char buf[2048];
	CU_ASSERT_TRUE_FATAL(
	    oa_render_offer(buf, sizeof(buf), &l, OA_SENDRECV, &ours) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "m=audio 20004 RTP/SAVP "));
	struct oa_desc offer, ans;
	CU_ASSERT_EQUAL_FATAL(parse(buf, &offer), 0);
	CU_ASSERT_EQUAL(offer.n_crypto, 1);
	struct oa_result r;
	CU_ASSERT_EQUAL_FATAL(
	    parse(HDR "m=audio 7000 RTP/SAVP 0\r\n" CRYPTO_80, &ans), 0);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, &ours, &r), 0);
	CU_ASSERT_TRUE(r.srtp);
	CU_ASSERT_EQUAL(memcmp(r.crypto_ours.key, ours.key, SRTP_KEY_SALT_LEN),
			0);
	/* an answer in the clear to our SRTP offer, or one that changes
	 * the tag, or a secure answer to a plain offer: not usable */
	CU_ASSERT_EQUAL_FATAL(parse(HDR "m=audio 7000 RTP/AVP 0\r\n", &ans), 0);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, &ours, &r), -ENOTSUP);
	CU_ASSERT_EQUAL_FATAL(
	    parse(HDR "m=audio 7000 RTP/SAVP 0\r\n"
		      "a=crypto:5 AES_CM_128_HMAC_SHA1_80 "
		      "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
		  &ans),
	    0);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, &ours, &r), -ENOTSUP);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, NULL, &r), -ENOTSUP);
}

static void test_telephone_event(void)
{
	struct oa_result r;
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 111 0 101 102\r\n"
				       "a=rtpmap:111 opus/48000/2\r\n"
				       "a=rtpmap:101 telephone-event/8000\r\n"
				       "a=rtpmap:102 telephone-event/48000\r\n",
				   &r),
			0);
	CU_ASSERT_EQUAL(r.te_pt, 102); /* at the codec's clock */
	CU_ASSERT_EQUAL(r.te_clock_hz, 48000);
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 111 101\r\n"
				       "a=rtpmap:111 opus/48000/2\r\n"
				       "a=rtpmap:101 telephone-event/8000\r\n",
				   &r),
			0);
	CU_ASSERT_EQUAL(r.te_pt, 101); /* 8 kHz fallback */
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 0\r\n", &r), 0);
	CU_ASSERT_EQUAL(r.te_pt, -1);
}

static void test_directions(void)
{
	static const struct {
		const char *attr;
		enum oa_dir ours;
		bool send, recv;
	} cases[] = {
	    {"", OA_SENDRECV, true, true},
	    {"a=sendrecv\r\n", OA_SENDRECV, true, true},
	    {"a=sendonly\r\n", OA_RECVONLY, false, false},
	    {"a=recvonly\r\n", OA_SENDONLY, true, false},
	    {"a=inactive\r\n", OA_INACTIVE, false, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sdp[256];
		snprintf(sdp, sizeof(sdp), HDR "m=audio 4000 RTP/AVP 0\r\n%s",
			 cases[i].attr);
		struct oa_desc d;
		struct oa_result r;
		struct stream_params sp;
		CU_ASSERT_EQUAL_FATAL(parse(sdp, &d), 0);
		CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &r), 0);
		CU_ASSERT_EQUAL(r.our_dir, cases[i].ours);
		CU_ASSERT_EQUAL_FATAL(oa_stream_params(&d, &r, &sp), 0);
		CU_ASSERT_EQUAL(sp.send, cases[i].send);
		CU_ASSERT_EQUAL(sp.recv, cases[i].recv);
	}
}

static void test_answer_text(void)
{
	struct oa_desc d;
	struct oa_result r;
	CU_ASSERT_EQUAL_FATAL(
	    parse(HDR "m=audio 4000 RTP/AVP 0 101\r\n"
		      "a=rtpmap:101 telephone-event/8000\r\n"
		      "m=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
		      "a=sendonly\r\n",
		  &d),
	    0);
	CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &r), 0);
	struct oa_local l = {.addr = "127.0.0.1",
			     .port = 20000,
			     .sess_id = 42,
			     .sess_version = 7};
	char buf[2048];
	int n = oa_render_answer(buf, sizeof(buf), &l, &d, &r);
	CU_ASSERT_TRUE_FATAL(n > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "o=tutti 42 7 IN IP4 127.0.0.1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "m=audio 20000 RTP/AVP 0 101\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "a=rtpmap:0 PCMU/8000\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "telephone-event/8000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "m=video 0 RTP/AVP 96\r\n"));
	/* Our answer parses as SDP again and names what we chose. */
	struct oa_desc back;
	CU_ASSERT_EQUAL_FATAL(parse(buf, &back), 0);
	CU_ASSERT_EQUAL(back.port, 20000);
	CU_ASSERT_EQUAL(back.n_media, 2);
	CU_ASSERT_EQUAL(oa_render_answer(buf, 40, &l, &d, &r), -ENOSPC);
}

static void test_offer_and_accept(void)
{
	struct oa_local l = {.addr = "::1",
			     .ipv6 = true,
			     .port = 20002,
			     .sess_id = 1,
			     .sess_version = 1};
	char buf[2048];
	CU_ASSERT_TRUE_FATAL(
	    oa_render_offer(buf, sizeof(buf), &l, OA_SENDRECV, NULL) > 0);
	struct oa_desc offer;
	CU_ASSERT_EQUAL_FATAL(parse(buf, &offer), 0);
	CU_ASSERT_TRUE(offer.ipv6);
	CU_ASSERT_TRUE(offer.n_formats >= 6);
	/* G.722 offered as RFC 3551 has it, between Opus and G.711 */
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, " 111 9 0 8 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "a=rtpmap:9 G722/8000\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf,
				      "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 "
				      "useinbandfec=1;usedtx=1\r\n"));
	/* A peer answering with G.722 gets it. */
	struct oa_desc ans;
	struct oa_result r;
	CU_ASSERT_EQUAL_FATAL(parse(HDR "m=audio 7000 RTP/AVP 9 101\r\n"
					"a=rtpmap:101 telephone-event/8000\r\n",
				    &ans),
			      0);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.codec, CODEC_G722);
	CU_ASSERT_EQUAL(r.te_pt, 101);
	CU_ASSERT_EQUAL(r.te_clock_hz, 8000);
	/* A peer answering with PCMA only. */
	CU_ASSERT_EQUAL_FATAL(parse(HDR "m=audio 7000 RTP/AVP 8 101\r\n"
					"a=rtpmap:101 telephone-event/8000\r\n",
				    &ans),
			      0);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.codec, CODEC_PCMA);
	CU_ASSERT_EQUAL(r.te_pt, 101);
	CU_ASSERT_EQUAL_FATAL(parse(HDR "m=audio 7000 RTP/AVP 18\r\n", &ans),
			      0);
	CU_ASSERT_EQUAL(oa_accept_answer(&ans, NULL, &r), -ENOTSUP);
}

static void test_ptime(void)
{
	struct oa_result r;
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 0\r\n"
				       "a=ptime:40\r\n",
				   &r),
			0);
	CU_ASSERT_EQUAL(r.ptime_ms, 40);
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 0\r\n"
				       "a=ptime:7\r\n",
				   &r),
			0);
	CU_ASSERT_EQUAL(r.ptime_ms, 20);
}

static void test_extmap(void)
{
	uint8_t id = 0;
	bool vad = false;
	const char *uri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
	char v[128];

	snprintf(v, sizeof(v), "1 %s vad=on", uri);
	CU_ASSERT_EQUAL(oa_extmap_level(v, &id, &vad), 0);
	CU_ASSERT_EQUAL(id, 1);
	CU_ASSERT_TRUE(vad);
	snprintf(v, sizeof(v), "200/sendonly %s", uri);
	CU_ASSERT_EQUAL(oa_extmap_level(v, &id, &vad), 0);
	CU_ASSERT_EQUAL(id, 200);
	CU_ASSERT_FALSE(vad);
	CU_ASSERT_EQUAL(
	    oa_extmap_level("3 urn:ietf:params:rtp-hdrext:toffset", &id, &vad),
	    -ENOENT);
	snprintf(v, sizeof(v), "15 %s", uri);
	CU_ASSERT_EQUAL(oa_extmap_level(v, &id, &vad), -EBADMSG);
	snprintf(v, sizeof(v), "0 %s", uri);
	CU_ASSERT_EQUAL(oa_extmap_level(v, &id, &vad), -EBADMSG);
	snprintf(v, sizeof(v), "4096 %s", uri);
	CU_ASSERT_EQUAL(oa_extmap_level(v, &id, &vad), -EBADMSG);
	snprintf(v, sizeof(v), "x %s", uri);
	CU_ASSERT_EQUAL(oa_extmap_level(v, &id, &vad), -EBADMSG);
	CU_ASSERT_EQUAL(oa_extmap_level("1", &id, &vad), -EBADMSG);
	CU_ASSERT_EQUAL(oa_extmap_level("1 ", &id, &vad), -ENOENT);

	CU_ASSERT_TRUE(oa_fmtp_flag("useinbandfec=1; usedtx=1", "usedtx"));
	CU_ASSERT_TRUE(oa_fmtp_flag("usedtx = 1", "usedtx"));
	CU_ASSERT_FALSE(oa_fmtp_flag("usedtx=0", "usedtx"));
	CU_ASSERT_FALSE(oa_fmtp_flag("xusedtx=1", "usedtx"));
	CU_ASSERT_FALSE(oa_fmtp_flag("usedtx=10", "usedtx"));
	CU_ASSERT_FALSE(oa_fmtp_flag("", "usedtx"));
}

/* What an offer says of silence reaches the answer and the stream. */
static void test_silence(void)
{
	struct oa_desc d;
	struct oa_result r;
	struct stream_params p;
	struct oa_local l = {.addr = "127.0.0.1", .port = 20000};
	char buf[2048];

	CU_ASSERT_EQUAL_FATAL(
	    parse(HDR "m=audio 4000 RTP/AVP 0 13 101\r\n"
		      "a=rtpmap:101 telephone-event/8000\r\n"
		      "a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level"
		      " vad=on\r\n",
		  &d),
	    0);
	CU_ASSERT_EQUAL(d.level_ext_id, 5);
	CU_ASSERT_TRUE(d.level_vad);
	CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &r), 0);
	CU_ASSERT_EQUAL(r.cn_pt, 13);
	CU_ASSERT_EQUAL(r.level_ext_id, 5);
	CU_ASSERT_FALSE(r.dtx);
	CU_ASSERT_TRUE_FATAL(oa_render_answer(buf, sizeof(buf), &l, &d, &r) >
			     0);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf, "m=audio 20000 RTP/AVP 0 101 13\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "a=rtpmap:13 CN/8000\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    buf, "a=extmap:5 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"));
	CU_ASSERT_EQUAL(oa_stream_params(&d, &r, &p), 0);
	CU_ASSERT_EQUAL(p.cn_pt, 13);
	CU_ASSERT_EQUAL(p.level_ext_id, 5);

	/* Opus with usedtx=1: DTX, no CN (it has a 48 kHz clock) */
	CU_ASSERT_EQUAL_FATAL(parse(HDR "m=audio 4000 RTP/AVP 111 13\r\n"
					"a=rtpmap:111 opus/48000/2\r\n"
					"a=fmtp:111 minptime=10;usedtx=1\r\n",
				    &d),
			      0);
	CU_ASSERT_EQUAL(d.level_ext_id, 0);
	CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &r), 0);
	CU_ASSERT_EQUAL(r.codec, CODEC_OPUS);
	CU_ASSERT_TRUE(r.dtx);
	CU_ASSERT_EQUAL(r.cn_pt, 0);
	CU_ASSERT_TRUE_FATAL(oa_render_answer(buf, sizeof(buf), &l, &d, &r) >
			     0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "usedtx=1"));
	CU_ASSERT_PTR_NULL(strstr(buf, "CN/8000"));
	CU_ASSERT_PTR_NULL(strstr(buf, "extmap"));
	CU_ASSERT_EQUAL(oa_stream_params(&d, &r, &p), 0);
	CU_ASSERT_TRUE(p.dtx);

	/* Without CN offered, none answered */
	CU_ASSERT_EQUAL(answer_for(HDR "m=audio 4000 RTP/AVP 8\r\n", &r), 0);
	CU_ASSERT_EQUAL(r.cn_pt, 0);
	CU_ASSERT_FALSE(r.dtx);
}

#define CSRC_URI "urn:ietf:params:rtp-hdrext:csrc-audio-level"

/* The answer to an offer with extmap line x (PCMU), rendered into buf;
 * the stream's csrc_level_id to *id. */
static void csrc_answer(const char *x, char *buf, size_t cap, uint8_t *id)
{
	char sdp[512];
	struct oa_desc d;
	struct oa_result r;
	struct stream_params p;
	struct oa_local l = {.addr = "127.0.0.1", .port = 20000};
	snprintf(sdp, sizeof(sdp), HDR "m=audio 4000 RTP/AVP 0\r\n%s", x);
	CU_ASSERT_EQUAL_FATAL(parse(sdp, &d), 0);
	CU_ASSERT_EQUAL_FATAL(oa_answer(&d, OA_SRTP_OPTIONAL, &r), 0);
	CU_ASSERT_TRUE_FATAL(oa_render_answer(buf, cap, &l, &d, &r) > 0);
	CU_ASSERT_EQUAL_FATAL(oa_stream_params(&d, &r, &p), 0);
	*id = p.csrc_level_id;
}

/* RFC 6465: an offer that would receive the contributors' levels is
 * answered under its id (beside RFC 6464's), "/sendonly" to a recvonly
 * offer; one that would only send them, or gives them RFC 6464's id, is
 * not. Our own offer offers them to send, and an answer that would
 * receive them turns them on. */
static void test_csrc_levels(void)
{
	char buf[2048];
	uint8_t id = 0;
	enum oa_dir dir = OA_INACTIVE;

	csrc_answer("a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
		    "a=extmap:3 " CSRC_URI "\r\n",
		    buf, sizeof(buf), &id);
	CU_ASSERT_EQUAL(id, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "a=extmap:3 " CSRC_URI "\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    buf, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"));

	csrc_answer("a=extmap:4/recvonly " CSRC_URI "\r\n", buf, sizeof(buf),
		    &id);
	CU_ASSERT_EQUAL(id, 4);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf, "a=extmap:4/sendonly " CSRC_URI "\r\n"));

	csrc_answer("a=extmap:200/sendrecv " CSRC_URI "\r\n", buf, sizeof(buf),
		    &id);
	CU_ASSERT_EQUAL(id, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "a=extmap:200 " CSRC_URI "\r\n"));

	const char *none[] = {
	    "a=extmap:4/sendonly " CSRC_URI "\r\n",
	    "a=extmap:4/inactive " CSRC_URI "\r\n",
	    "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	    "a=extmap:2 " CSRC_URI "\r\n",
	    "a=extmap:4/sideways " CSRC_URI "\r\n",
	    "a=extmap:15 " CSRC_URI "\r\n",
	    ""};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		csrc_answer(none[i], buf, sizeof(buf), &id);
		CU_ASSERT_EQUAL(id, 0);
		CU_ASSERT_PTR_NULL(strstr(buf, CSRC_URI));
	}

	/* The parser: direction given back, outputs untouched on failure. */
	id = 9;
	CU_ASSERT_EQUAL(oa_extmap_csrc_level("7/RecvOnly " CSRC_URI, &id, &dir),
			0);
	CU_ASSERT_EQUAL(id, 7);
	CU_ASSERT_EQUAL(dir, OA_RECVONLY);
	CU_ASSERT_EQUAL(oa_extmap_csrc_level("8 " CSRC_URI " x=1", &id, &dir),
			0);
	CU_ASSERT_EQUAL(dir, OA_SENDRECV);
	CU_ASSERT_EQUAL(
	    oa_extmap_csrc_level(
		"5 urn:ietf:params:rtp-hdrext:ssrc-audio-level", &id, &dir),
	    -ENOENT);
	CU_ASSERT_EQUAL(oa_extmap_csrc_level("5/ " CSRC_URI, &id, &dir),
			-EBADMSG);
	CU_ASSERT_EQUAL(oa_extmap_csrc_level("5 " CSRC_URI, &id, NULL),
			-EINVAL);
	CU_ASSERT_EQUAL(id, 8);
	CU_ASSERT_EQUAL(dir, OA_SENDRECV);

	/* Our offer, and answers to it. */
	struct oa_local l = {.addr = "127.0.0.1", .port = 20000};
	CU_ASSERT_TRUE_FATAL(
	    oa_render_offer(buf, sizeof(buf), &l, OA_SENDRECV, NULL) > 0);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(buf, "a=extmap:2/sendonly " CSRC_URI "\r\n"));
	struct oa_desc d;
	CU_ASSERT_EQUAL_FATAL(parse(buf, &d), 0);
	CU_ASSERT_EQUAL(d.csrc_level_id, 2);
	CU_ASSERT_EQUAL(d.csrc_level_dir, OA_SENDONLY);
	const struct {
		const char *x;
		uint8_t id;
	} answers[] = {
	    {"a=extmap:2/recvonly " CSRC_URI "\r\n", 2},
	    {"a=extmap:2 " CSRC_URI "\r\n", 2},
	    {"a=extmap:2/sendonly " CSRC_URI "\r\n", 0},
	    {"a=extmap:2/inactive " CSRC_URI "\r\n", 0},
	    {"a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
	     "a=extmap:1/recvonly " CSRC_URI "\r\n",
	     0},
	    {"", 0},
	};
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		char sdp[512];
		struct oa_result r;
		struct stream_params p;
		snprintf(sdp, sizeof(sdp), HDR "m=audio 4000 RTP/AVP 0\r\n%s",
			 answers[i].x);
		CU_ASSERT_EQUAL_FATAL(parse(sdp, &d), 0);
		CU_ASSERT_EQUAL_FATAL(oa_accept_answer(&d, NULL, &r), 0);
		CU_ASSERT_EQUAL(r.csrc_level_id, answers[i].id);
		CU_ASSERT_EQUAL_FATAL(oa_stream_params(&d, &r, &p), 0);
		CU_ASSERT_EQUAL(p.csrc_level_id, answers[i].id);
	}
}

static const struct unit_test tests[] = {
    {"a=extmap and fmtp flags", test_extmap},
    {"silence in offers and answers", test_silence},
    {"RFC 6465 levels in offers and answers", test_csrc_levels},
    {"parse basic", test_parse_basic},
    {"parse media-level c= and rtcp", test_parse_media_level_c_and_rtcp},
    {"parse malformed", test_parse_malformed},
    {"parse m= grammar", test_parse_media_grammar},
    {"codec matrix", test_codec_matrix},
    {"no common codec", test_no_common_codec},
    {"SRTP policy", test_srtp_policy},
    {"SRTP answer", test_srtp_answer},
    {"SRTP offer and accept", test_srtp_offer_accept},
    {"telephone-event", test_telephone_event},
    {"directions", test_directions},
    {"answer text", test_answer_text},
    {"offer and accept", test_offer_and_accept},
    {"ptime", test_ptime},
    {NULL, NULL},
};

UNIT_MAIN("oa", tests)
