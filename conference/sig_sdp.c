/* sig_sdp.c: SDP text to struct oa_desc, with Sofia-SIP's SDP parser.
 *
 * The parser is Sofia-SIP's (RFC 4566); this file only copies what the focus
 * needs out of its tree so that no Sofia-SIP type leaves conference/sig_*.
 * SDP comes from the network: every string is bounded on copy and anything
 * we cannot represent makes the description malformed rather than
 * truncated. Signalling thread (or any thread: no shared state).
 *
 * One check runs before Sofia-SIP sees the text: every m= line must follow
 * RFC 4566's grammar (media SP port ["/" integer] SP proto 1*(SP fmt), fmt
 * a token, nothing after the last one). Sofia-SIP 1.13's parser loops for
 * ever, allocating, on a format that is not a token, or on trailing
 * blanks, in an m= line of a profile other than RTP's
 * ("m=application 9 UDP/BFCP a /b"): found by fuzz/fuzz_sdp.c, 20 GB in
 * three minutes from one offer. */
#include "conference/oa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

/* RFC 4566's token-char, which is also Sofia-SIP's TOKEN. */
static bool token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-!#$%&'*+.^_`{|}~", c));
}

/* The length of the run of token characters (and others) at s. */
static size_t span(const char *s, const char *end, const char *others)
{
	size_t n = 0;
	while (s + n < end && (token_char(s[n]) || strchr(others, s[n])))
		n++;
	return n;
}

static size_t digits(const char *s, const char *end)
{
	size_t n = 0;
	while (s + n < end && s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

static bool media_line_ok(const char *s, const char *end)
{
	size_t n = span(s, end, ""); /* media */
	if (n == 0 || s + n >= end || s[n] != ' ')
		return false;
	s += n + 1;
	n = digits(s, end); /* port ["/" integer] */
	if (n && s + n < end && s[n] == '/')
		n += 1 + digits(s + n + 1, end);
	if (n == 0 || s[n - 1] == '/' || s + n >= end || s[n] != ' ')
		return false;
	s += n + 1;
	n = span(s, end, "/"); /* proto: token *("/" token) */
	if (n == 0 || s[0] == '/' || s[n - 1] == '/' || memmem(s, n, "//", 2))
		return false;
	/* RTP profiles' formats are payload type numbers (RFC 4566 5.14):
	 * Sofia-SIP took "111.0.1x" after two blanks but not after one, so
	 * our answer, which echoes the line, did not parse (fuzz_sdp). */
	bool rtp = n > 4 && strncasecmp(s, "RTP/", 4) == 0;
	/* 1*(SP fmt), where Sofia-SIP also takes tabs and runs of them, but
	 * not a line that ends in them. */
	for (s += n; s < end; s += n) {
		if (*s != ' ' && *s != '\t')
			return false;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		n = span(s, end, "");
		if (n == 0 || (rtp && (digits(s, end) != n || n > 3 ||
				       (n == 3 && memcmp(s, "127", 3) > 0))))
			return false;
	}
	return true;
}

/* Every m= line in the text Sofia-SIP will read (up to a NUL). */
static bool media_lines_ok(const char *sdp, size_t len)
{
	const char *end = sdp + strnlen(sdp, len);
	for (const char *line = sdp; line < end;) {
		const char *eol = line;
		while (eol < end && *eol != '\r' && *eol != '\n')
			eol++;
		if (eol - line >= 2 && line[0] == 'm' && line[1] == '=' &&
		    !media_line_ok(line + 2, eol))
			return false;
		line = eol + 1;
	}
	return true;
}

static int copy_str(char *dst, size_t cap, const char *src)
{
	if (!src)
		src = "";
	size_t n = strlen(src);
	if (n >= cap)
		return -EBADMSG;
	memcpy(dst, src, n + 1);
	return 0;
}

static int copy_format(struct oa_format *f, const sdp_rtpmap_t *rm)
{
	f->pt = rm->rm_pt;
	f->clock_hz = (uint32_t)rm->rm_rate;
	f->channels = 1;
	if (rm->rm_params && *rm->rm_params) {
		char *end;
		unsigned long ch = strtoul(rm->rm_params, &end, 10);
		if (*end || ch == 0 || ch > 8)
			return -EBADMSG;
		f->channels = (unsigned)ch;
	}
	if (copy_str(f->name, sizeof(f->name), rm->rm_encoding))
		return -EBADMSG;
	/* An over-long fmtp is not ours to understand: drop it. */
	if (copy_str(f->fmtp, sizeof(f->fmtp), rm->rm_fmtp))
		f->fmtp[0] = '\0';
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EBADMSG;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (v > max || (*end && *end != ' '))
		return -EBADMSG;
	*out = v;
	return 0;
}

static int copy_audio(struct oa_desc *d, const sdp_session_t *s,
		      const sdp_media_t *m)
{
	const sdp_connection_t *c =
	    m->m_connections ? m->m_connections : s->sdp_connection;
	if (!c || !c->c_address)
		return -EBADMSG;
	if (c->c_addrtype != sdp_addr_ip4 && c->c_addrtype != sdp_addr_ip6)
		return -EBADMSG;
	if (copy_str(d->addr, sizeof(d->addr), c->c_address))
		return -EBADMSG;
	d->ipv6 = c->c_addrtype == sdp_addr_ip6;
	/* We never resolve names on the signalling thread: media must name
	 * an address literal of the type it claims. */
	unsigned char bin[sizeof(struct in6_addr)];
	if (inet_pton(d->ipv6 ? AF_INET6 : AF_INET, d->addr, bin) != 1)
		return -EBADMSG;
	if (m->m_port > 65535)
		return -EBADMSG;
	d->port = (uint16_t)m->m_port;
	d->rtcp_port = d->port ? (uint16_t)(d->port + 1) : 0;
	d->has_audio = d->port != 0;
	d->secure = m->m_proto == sdp_proto_srtp ||
		    (m->m_proto_name && strstr(m->m_proto_name, "SAVP"));
	/* every a=crypto we can take; others (suites, MKI...) are skipped,
	 * as RFC 4568 lets the answerer choose among them */
	for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next)
		if (d->n_crypto < OA_MAX_CRYPTO && a->a_name &&
		    strcasecmp(a->a_name, "crypto") == 0 &&
		    sdes_parse(a->a_value, &d->crypto[d->n_crypto]) == 0)
			d->n_crypto++;
	d->dir = (enum oa_dir)m->m_mode;

	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (d->n_formats == OA_MAX_FORMATS)
			break; /* more formats than any phone offers: ignore */
		if (copy_format(&d->fmt[d->n_formats], rm))
			return -EBADMSG;
		d->n_formats++;
	}

	unsigned long v;
	const sdp_attribute_t *a;
	if ((a = sdp_attribute_find(m->m_attributes, "ptime")) &&
	    parse_uint(a->a_value, 1000, &v) == 0)
		d->ptime_ms = (unsigned)v;
	if ((a = sdp_attribute_find(m->m_attributes, "rtcp"))) {
		if (parse_uint(a->a_value, 65535, &v) || v == 0)
			return -EBADMSG;
		d->rtcp_port = (uint16_t)v;
	}
	d->rtcp_mux = sdp_attribute_find(m->m_attributes, "rtcp-mux") != NULL;
	/* the audio level extensions (RFC 6464, 6465); others we skip */
	for (a = m->m_attributes; a; a = a->a_next)
		if (a->a_name && strcasecmp(a->a_name, "extmap") == 0 &&
		    a->a_value) {
			if (!d->level_ext_id)
				(void)oa_extmap_level(a->a_value,
						      &d->level_ext_id,
						      &d->level_vad);
			if (!d->csrc_level_id)
				(void)oa_extmap_csrc_level(a->a_value,
							   &d->csrc_level_id,
							   &d->csrc_level_dir);
		}
	return 0;
}

/* A line we answer with port 0 is written back as it came: one too long
 * to copy is malformed, not cut (a cut profile could end in '/'). */
static int copy_other(struct oa_other_media *o, const sdp_media_t *m)
{
	char pt[8];
	const char *fmt =
	    m->m_format && m->m_format->l_text ? m->m_format->l_text : "0";
	/* Sofia-SIP keeps RTP formats as rtpmaps, others as a list. */
	if (m->m_rtpmaps) {
		snprintf(pt, sizeof(pt), "%u", m->m_rtpmaps->rm_pt);
		fmt = pt;
	}
	if (copy_str(o->type, sizeof(o->type),
		     m->m_type_name ? m->m_type_name : "unknown") ||
	    copy_str(o->proto, sizeof(o->proto),
		     m->m_proto_name ? m->m_proto_name : "RTP/AVP") ||
	    copy_str(o->fmt, sizeof(o->fmt), fmt))
		return -EBADMSG;
	return 0;
}

static int copy_session(struct oa_desc *d, const sdp_session_t *s)
{
	bool found = false;
	for (const sdp_media_t *m = s->sdp_media; m; m = m->m_next) {
		if (d->n_media == OA_MAX_MEDIA)
			return -EBADMSG;
		if (copy_other(&d->media[d->n_media], m))
			return -EBADMSG;
		if (!found && m->m_type == sdp_media_audio &&
		    (m->m_proto == sdp_proto_rtp ||
		     m->m_proto == sdp_proto_srtp ||
		     (m->m_proto_name &&
		      strncmp(m->m_proto_name, "RTP/", 4) == 0))) {
			int err = copy_audio(d, s, m);
			if (err)
				return err;
			d->audio_index = d->n_media;
			found = true;
		}
		d->n_media++;
	}
	return 0;
}

/* Sofia-SIP 1.12 reads the formats of RTP/AVP and RTP/SAVP lines only;
 * the feedback profiles (RFC 4585's AVPF, RFC 5124's SAVPF) carry the
 * same formats. The copy it parses names them by the plain profile; bit i
 * of *fb says that m= line i named a feedback profile, of *savpf that it
 * was RTP/SAVPF. NULL when out of memory. */
static char *plain_profiles(const char *sdp, size_t len, uint32_t *savpf,
			    uint32_t *fb)
{
	char *t = malloc(len + 1);
	if (!t)
		return NULL;
	memcpy(t, sdp, len);
	t[len] = '\0';
	*savpf = *fb = 0;
	unsigned line = 0;
	for (char *l = t; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, "m=", 2) != 0)
			continue;
		size_t n = strcspn(l, "\r\n");
		char *f = NULL;
		for (char *q = l; q < l + n; q++)
			if (strncmp(q, " RTP/SAVPF ", 11) == 0 ||
			    strncmp(q, " RTP/AVPF ", 10) == 0) {
				f = q;
				break;
			}
		if (f) {
			char *pf = strchr(f + 1, ' ') - 1; /* the F */
			if (line < 32) {
				*fb |= 1u << line;
				*savpf |= (uint32_t)(f[5] == 'S') << line;
			}
			memmove(pf, pf + 1, strlen(pf + 1) + 1);
		}
		line++;
	}
	return t;
}

int sig_sdp_parse(struct oa_desc *out, const char *sdp, size_t len)
{
	if (!out || !sdp || len == 0 || len > 65536 ||
	    !media_lines_ok(sdp, len))
		return -EBADMSG;

	su_home_t home[1] = {SU_HOME_INIT(home)};
	struct oa_desc *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;

	int err = -EBADMSG;
	uint32_t savpf = 0, fb = 0;
	char *text = plain_profiles(sdp, len, &savpf, &fb);
	if (!text) {
		free(d);
		return -ENOMEM;
	}
	/* Strict: a malformed line is a malformed offer (400), not a guess. */
	sdp_parser_t *p =
	    sdp_parse(home, text, (issize_t)strlen(text), sdp_f_strict);
	const sdp_session_t *s = p ? sdp_session(p) : NULL;
	if (s)
		err = copy_session(d, s);
	if (p)
		sdp_parser_free(p);
	su_home_deinit(home);
	free(text);
	if (err == 0 && d->audio_index < 32 && (savpf >> d->audio_index & 1))
		d->savpf = true;
	for (unsigned i = 0; err == 0 && i < d->n_media && i < 32; i++) {
		size_t n = strlen(d->media[i].proto);
		if ((fb >> i & 1) && n + 1 < sizeof(d->media[i].proto))
			d->media[i].proto[n] = 'F',
			d->media[i].proto[n + 1] = 0;
	}

	if (err == 0)
		*out = *d;
	free(d);
	return err;
}
