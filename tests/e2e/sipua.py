"""Minimal SIP user agent over UDP (RFC 3261) for tutti's end-to-end tests.

Python 3.11 standard library only.  One SipUA owns one UDP socket bound to a
loopback address and talks to a single server (the bridge).  It can place
calls (INVITE with an SDP offer, or without one for a late offer), send
re-INVITEs (hold / resume), BYE, and it answers the requests the bridge may
send inside a dialog (BYE, re-INVITE, UPDATE, INFO, NOTIFY, OPTIONS...).

Transactions: requests are retransmitted (T1 = 500 ms, doubling) until a
response arrives, which is harmless on loopback and makes the UA tolerant of
a lost datagram.  Duplicate responses are tolerated: a retransmitted final
response to an INVITE makes the UA resend its ACK and is otherwise ignored.

ACK rules (RFC 3261 17.1.1.3 and 13.2.2.4):
  * non-2xx final response: ACK is part of the INVITE transaction: same
    branch, same Request-URI, same Call-ID/From/CSeq number, To with the tag
    of the response.
  * 2xx: ACK is a new transaction (new branch) sent to the remote target
    (Contact of the 2xx), with the route set, To tag, and the CSeq number of
    the INVITE.
"""

import queue
import random
import re
import socket
import threading
import time

COMPACT = {
    'v': 'via', 'f': 'from', 't': 'to', 'i': 'call-id', 'm': 'contact',
    'l': 'content-length', 'c': 'content-type', 'k': 'supported',
    'e': 'content-encoding', 's': 'subject', 'o': 'event', 'u': 'allow-events',
    'r': 'refer-to', 'b': 'referred-by', 'x': 'session-expires',
}

T1 = 0.5


def _rand_token(n=10):
    return ''.join(random.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))


def new_branch():
    return 'z9hG4bK' + _rand_token(16)


def canon(name):
    n = name.strip().lower()
    return COMPACT.get(n, n)


class SipMessage:
    """A parsed SIP request or response."""

    def __init__(self):
        self.is_request = False
        self.method = None          # request method, or CSeq method for responses
        self.uri = None
        self.status = None
        self.reason = None
        self.headers = []           # list of (original name, value)
        self.body = b''
        self.raw = b''

    # -- header access ---------------------------------------------------
    def get_all(self, name):
        c = canon(name)
        return [v for (n, v) in self.headers if canon(n) == c]

    def get(self, name, default=None):
        vals = self.get_all(name)
        return vals[0] if vals else default

    def vias(self):
        """All Via values, splitting comma-separated ones."""
        out = []
        for v in self.get_all('via'):
            out.extend(split_commas(v))
        return out

    def top_via_branch(self):
        vias = self.vias()
        if not vias:
            return None
        m = re.search(r';\s*branch\s*=\s*([^;,\s]+)', vias[0], re.I)
        return m.group(1) if m else None

    def cseq(self):
        v = self.get('cseq', '')
        parts = v.split()
        if len(parts) >= 2 and parts[0].isdigit():
            return int(parts[0]), parts[1].upper()
        return None, None

    def __str__(self):
        try:
            return self.raw.decode('utf-8', 'replace')
        except Exception:  # pragma: no cover
            return repr(self.raw)

    def summary(self):
        if self.is_request:
            return '%s %s' % (self.method, self.uri)
        return '%s %s (%s)' % (self.status, self.reason, self.get('cseq'))


def split_commas(value):
    """Split a header value on commas that are not inside quotes or <>."""
    out, cur, depth, inq = [], [], 0, False
    for ch in value:
        if ch == '"':
            inq = not inq
        elif not inq and ch == '<':
            depth += 1
        elif not inq and ch == '>':
            depth = max(0, depth - 1)
        if ch == ',' and not inq and depth == 0:
            out.append(''.join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if ''.join(cur).strip():
        out.append(''.join(cur).strip())
    return out


def parse_message(data):
    """Parse a datagram; returns SipMessage or None when it is not SIP."""
    if not data or not data.strip():
        return None
    sep = data.find(b'\r\n\r\n')
    if sep < 0:
        sep2 = data.find(b'\n\n')
        if sep2 < 0:
            head, body = data, b''
        else:
            head, body = data[:sep2], data[sep2 + 2:]
    else:
        head, body = data[:sep], data[sep + 4:]
    lines = head.decode('utf-8', 'replace').replace('\r\n', '\n').split('\n')
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    msg = SipMessage()
    msg.raw = data
    first = lines[0].strip()
    if first.startswith('SIP/2.0 '):
        parts = first.split(' ', 2)
        try:
            msg.status = int(parts[1])
        except (IndexError, ValueError):
            return None
        msg.reason = parts[2] if len(parts) > 2 else ''
    else:
        parts = first.split(' ')
        if len(parts) != 3 or parts[2] != 'SIP/2.0':
            return None
        msg.is_request = True
        msg.method, msg.uri = parts[0].upper(), parts[1]
    # unfold continuation lines
    hdr_lines = []
    for ln in lines[1:]:
        if ln[:1] in (' ', '\t') and hdr_lines:
            hdr_lines[-1] += ' ' + ln.strip()
        elif ln.strip():
            hdr_lines.append(ln)
    for ln in hdr_lines:
        if ':' not in ln:
            continue
        n, v = ln.split(':', 1)
        msg.headers.append((n.strip(), v.strip()))
    cl = msg.get('content-length')
    if cl is not None and cl.strip().isdigit():
        body = body[:int(cl)]
    msg.body = body
    if not msg.is_request:
        msg.method = msg.cseq()[1]
    return msg


def uri_of(nameaddr):
    """Extract the URI from a name-addr or addr-spec header value."""
    m = re.search(r'<([^>]*)>', nameaddr)
    if m:
        return m.group(1).strip()
    return nameaddr.split(';', 1)[0].strip()


def tag_of(nameaddr):
    # the tag is a header parameter: after the closing '>' when there is one
    rest = nameaddr.split('>', 1)[1] if '>' in nameaddr else nameaddr
    m = re.search(r';\s*tag\s*=\s*([^;,\s]+)', rest, re.I)
    return m.group(1) if m else None


# --------------------------------------------------------------------------
# SDP
# --------------------------------------------------------------------------

CODECS = {
    # name -> (static pt or None, rtpmap string, clock rate)
    'PCMU': (0, 'PCMU/8000', 8000),
    'PCMA': (8, 'PCMA/8000', 8000),
    'opus': (111, 'opus/48000/2', 48000),
    'G722': (9, 'G722/8000', 8000),
    'GSM': (3, 'GSM/8000', 8000),
    'CN': (13, 'CN/8000', 8000),            # comfort noise (RFC 3389)
}
OPUS_FMTP = 'useinbandfec=1;stereo=0;sprop-stereo=0'
TE_PT = 101


def build_offer(rtp_ip, rtp_port, codecs=('PCMU',), direction='sendrecv',
                telephone_event=True, sess_id=None, version=1, extra='',
                opus_fmtp=OPUS_FMTP):
    """Build an SDP offer.  `codecs` is a sequence of names from CODECS;
    `extra` (CRLF-terminated lines) is appended to the audio section."""
    sess_id = sess_id or random.randint(10 ** 6, 10 ** 9)
    pts, attrs = [], []
    for c in codecs:
        pt, rtpmap, _ = CODECS[c]
        pts.append(str(pt))
        attrs.append('a=rtpmap:%d %s' % (pt, rtpmap))
        if c == 'opus':
            attrs.append('a=fmtp:%d %s' % (pt, opus_fmtp))
    if telephone_event:
        pts.append(str(TE_PT))
        attrs.append('a=rtpmap:%d telephone-event/8000' % TE_PT)
        attrs.append('a=fmtp:%d 0-15' % TE_PT)
    lines = [
        'v=0',
        'o=- %d %d IN IP4 %s' % (sess_id, version, rtp_ip),
        's=tutti-e2e',
        'c=IN IP4 %s' % rtp_ip,
        't=0 0',
        'm=audio %d RTP/AVP %s' % (rtp_port, ' '.join(pts)),
    ] + attrs + ['a=ptime:20']
    if direction:
        lines.append('a=%s' % direction)
    body = '\r\n'.join(lines) + '\r\n' + extra
    return body, sess_id


class SdpInfo:
    """The parts of an SDP body the tests care about (first audio m= line)."""

    def __init__(self, text):
        self.raw = text
        self.conn = None
        self.port = None
        self.proto = None
        self.payloads = []
        self.rtpmap = {}            # pt -> (encoding, clock, channels)
        self.fmtp = {}
        self.direction = 'sendrecv'
        self.ptime = None
        self.origin_version = None
        sess_dir = None
        media_dir = None
        sess_conn = None
        media_conn = None
        in_audio = False
        seen_media = False
        for ln in text.replace('\r\n', '\n').split('\n'):
            ln = ln.strip()
            if len(ln) < 2 or ln[1] != '=':
                continue
            k, v = ln[0], ln[2:]
            if k == 'm':
                if seen_media and in_audio:
                    in_audio = False    # only the first audio stream matters
                    break
                seen_media = True
                parts = v.split()
                if parts and parts[0] == 'audio' and self.port is None:
                    in_audio = True
                    self.port = int(parts[1].split('/')[0])
                    self.proto = parts[2] if len(parts) > 2 else None
                    self.payloads = [int(p) for p in parts[3:] if p.isdigit()]
                continue
            if k == 'o':
                parts = v.split()
                if len(parts) >= 3 and parts[2].isdigit():
                    self.origin_version = int(parts[2])
            if k == 'c':
                addr = v.split()[-1].split('/')[0]
                if in_audio:
                    media_conn = addr
                elif not seen_media:
                    sess_conn = addr
            if k == 'a':
                name, _, val = v.partition(':')
                if name in ('sendrecv', 'sendonly', 'recvonly', 'inactive'):
                    if in_audio:
                        media_dir = name
                    elif not seen_media:
                        sess_dir = name
                if not in_audio:
                    continue
                if name == 'rtpmap':
                    m = re.match(r'(\d+)\s+([^/\s]+)/(\d+)(?:/(\d+))?', val)
                    if m:
                        self.rtpmap[int(m.group(1))] = (
                            m.group(2), int(m.group(3)), int(m.group(4) or 1))
                elif name == 'fmtp':
                    pt, _, p = val.partition(' ')
                    if pt.isdigit():
                        self.fmtp[int(pt)] = p
                elif name == 'ptime' and val.strip().isdigit():
                    self.ptime = int(val)
        self.conn = media_conn or sess_conn
        self.direction = media_dir or sess_dir or 'sendrecv'

    def encoding(self, pt):
        if pt in self.rtpmap:
            return self.rtpmap[pt][0]
        static = {0: 'PCMU', 8: 'PCMA', 9: 'G722', 3: 'GSM', 18: 'G729'}
        return static.get(pt)

    @property
    def codec_pt(self):
        """First payload type that is not telephone-event (the chosen codec)."""
        for pt in self.payloads:
            enc = (self.encoding(pt) or '').lower()
            if enc not in ('telephone-event', 'cn'):
                return pt
        return None

    @property
    def codec_name(self):
        pt = self.codec_pt
        if pt is None:
            return None
        enc = self.encoding(pt)
        if enc and enc.lower() == 'opus':
            return 'opus'
        return enc.upper() if enc else None

    @property
    def te_pt(self):
        for pt in self.payloads:
            if (self.encoding(pt) or '').lower() == 'telephone-event':
                return pt
        return None

    def __repr__(self):
        return ('SdpInfo(conn=%s port=%s payloads=%s codec=%s/%s dir=%s)' %
                (self.conn, self.port, self.payloads, self.codec_name,
                 self.codec_pt, self.direction))


# --------------------------------------------------------------------------
# User agent
# --------------------------------------------------------------------------

class SipError(Exception):
    pass


class ClientTxn:
    def __init__(self, ua, branch, request_bytes, method):
        self.ua = ua
        self.branch = branch
        self.request = request_bytes
        self.method = method
        self.q = queue.Queue()
        self.final = None
        self.got_response = False
        self.ack_bytes = None       # ACK to resend on final response retransmission
        self.seen = set()


class Dialog:
    """State of one call (UAC side)."""

    def __init__(self, ua, request_uri, to_uri):
        self.ua = ua
        self.call_id = _rand_token(20) + '@' + ua.local_ip
        self.local_tag = _rand_token(10)
        self.remote_tag = None
        self.local_uri = 'sip:%s@%s:%d' % (ua.user, ua.local_ip, ua.port)
        self.remote_uri = to_uri
        self.request_uri = request_uri
        self.remote_target = request_uri
        self.route_set = []
        self.cseq = random.randint(1, 1000)
        self.remote_cseq = None
        self.local_sdp = None
        self.sdp_version = 1
        self.sess_id = None
        self.answer = None          # SdpInfo of the last SDP from the bridge
        self.final = None           # last final response to an INVITE
        self.contact = None         # Contact of the 2xx
        self.bye_received = threading.Event()
        self.bye_time = None
        self.requests_received = []     # (time, SipMessage)
        self.state = 'init'
        self.established = False
        self.offer_params = None

    @property
    def isfocus(self):
        return bool(self.contact) and bool(re.search(r';\s*isfocus\b', self.contact, re.I))

    # -- building requests ------------------------------------------------
    def _from(self):
        return '<%s>;tag=%s' % (self.local_uri, self.local_tag)

    def _to(self):
        t = '<%s>' % self.remote_uri
        if self.remote_tag:
            t += ';tag=' + self.remote_tag
        return t

    def _request(self, method, cseq, branch, body=b'', ctype=None, extra_headers=(),
                 uri=None, to=None):
        uri = uri or self.remote_target
        lines = ['%s %s SIP/2.0' % (method, uri),
                 'Via: SIP/2.0/%s %s:%d;branch=%s;rport' % (self.ua.via_proto, self.ua.local_ip, self.ua.port, branch),
                 'Max-Forwards: 70',
                 'From: %s' % self._from(),
                 'To: %s' % (to or self._to()),
                 'Call-ID: %s' % self.call_id,
                 'CSeq: %d %s' % (cseq, method)]
        for r in self.route_set:
            lines.append('Route: %s' % r)
        if method in ('INVITE', 'ACK', 'UPDATE') or method == 'OPTIONS':
            lines.append('Contact: %s' % self.ua.contact_uri())
        if method == 'INVITE':
            lines.append('Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY')
            lines.append('Supported: replaces')
        lines.append('User-Agent: tutti-e2e-sipua')
        lines.extend(extra_headers)
        if isinstance(body, str):
            body = body.encode()
        if body:
            lines.append('Content-Type: %s' % (ctype or 'application/sdp'))
        lines.append('Content-Length: %d' % len(body))
        return ('\r\n'.join(lines) + '\r\n\r\n').encode() + body

    def _make_offer(self, rtp_ip, rtp_port, codecs, direction, telephone_event=True):
        body, sid = build_offer(rtp_ip, rtp_port, codecs, direction, telephone_event,
                                sess_id=self.sess_id, version=self.sdp_version)
        self.sess_id = sid
        self.sdp_version += 1
        self.offer_params = dict(rtp_ip=rtp_ip, rtp_port=rtp_port, codecs=tuple(codecs),
                                 direction=direction, telephone_event=telephone_event)
        self.local_sdp = body
        return body

    # -- INVITE / re-INVITE ------------------------------------------------
    def _invite_txn(self, body, timeout, extra_headers=(), initial=False,
                    on_provisional=None, ctype=None):
        self.cseq += 1
        cseq = self.cseq
        branch = new_branch()
        uri = self.request_uri if initial else self.remote_target
        req = self._request('INVITE', cseq, branch, body, ctype=ctype,
                            extra_headers=extra_headers, uri=uri)
        txn = self.ua._start_txn(branch, req, 'INVITE')
        deadline = time.monotonic() + timeout
        provisionals = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SipError('timeout waiting for final response to INVITE (%s); '
                               'provisionals: %s' % (uri, [p.status for p in provisionals]))
            try:
                resp = txn.q.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            if resp.status < 200:
                provisionals.append(resp)
                if on_provisional:
                    on_provisional(resp, txn, cseq, branch)
                continue
            break
        self.final = resp
        to_tag = tag_of(resp.get('to', ''))
        if 200 <= resp.status < 300:
            if self.remote_tag is None:
                self.remote_tag = to_tag
            self.contact = resp.get('contact') or self.contact
            if resp.get('contact'):
                self.remote_target = uri_of(resp.get('contact'))
            if initial:
                rr = []
                for v in resp.get_all('record-route'):
                    rr.extend(split_commas(v))
                self.route_set = list(reversed(rr))
            self.established = True
            self.state = 'confirmed'
        else:
            # ACK for non-2xx: same transaction
            ack = self._ack_non2xx(txn, cseq, uri, resp)
            txn.ack_bytes = ack
            self.ua._send(ack)
        resp.provisionals = provisionals
        resp.txn = txn
        resp.cseq_num = cseq
        return resp

    def _ack_non2xx(self, txn, cseq, uri, resp):
        lines = ['ACK %s SIP/2.0' % uri,
                 'Via: SIP/2.0/%s %s:%d;branch=%s;rport' % (self.ua.via_proto, self.ua.local_ip, self.ua.port, txn.branch),
                 'Max-Forwards: 70',
                 'From: %s' % self._from(),
                 'To: %s' % resp.get('to', self._to()),
                 'Call-ID: %s' % self.call_id,
                 'CSeq: %d ACK' % cseq]
        for r in self.route_set:
            lines.append('Route: %s' % r)
        lines.append('Content-Length: 0')
        return ('\r\n'.join(lines) + '\r\n\r\n').encode()

    def ack_2xx(self, resp, body=b''):
        """Send the ACK for a 2xx (new transaction).  Returns the bytes sent."""
        cseq = resp.cseq_num
        ack = self._request('ACK', cseq, new_branch(), body)
        resp.txn.ack_bytes = ack
        self.ua._send(ack)
        return ack

    def invite(self, rtp_ip, rtp_port, codecs=('PCMU',), direction='sendrecv',
               timeout=5.0, late_offer=False, telephone_event=True, answer_fn=None,
               extra_headers=(), raw_body=None, ctype=None):
        """Initial INVITE.  Returns the final response (2xx already ACKed).

        late_offer: send no SDP; the 2xx must carry an offer; answer_fn(SdpInfo)
        returns the SDP answer to put into the ACK (default: answer with the
        first codec in `codecs` that the offer contains)."""
        self.state = 'calling'
        if raw_body is not None:
            body = raw_body
        elif late_offer:
            body = b''
        else:
            body = self._make_offer(rtp_ip, rtp_port, codecs, direction, telephone_event)
        resp = self._invite_txn(body, timeout, extra_headers=extra_headers, initial=True,
                                ctype=ctype)
        if 200 <= resp.status < 300:
            ack_body = b''
            if resp.body:
                self.answer = SdpInfo(resp.body.decode('utf-8', 'replace'))
            if late_offer:
                if answer_fn:
                    ack_body = answer_fn(self.answer)
                else:
                    ack_body = self.make_answer(self.answer, rtp_ip, rtp_port, codecs, direction)
            self.ack_2xx(resp, ack_body)
        else:
            self.state = 'terminated'
        return resp

    def make_answer(self, offer, rtp_ip, rtp_port, codecs, direction='sendrecv', extra=()):
        """Answer an SDP offer from the bridge (late offer) with our first codec it has;
        `extra`: more a= lines for the audio section."""
        chosen = None
        for c in codecs:
            for pt in offer.payloads:
                enc = (offer.encoding(pt) or '').lower()
                if enc == c.lower():
                    chosen = (c, pt)
                    break
            if chosen:
                break
        if not chosen:
            raise SipError('late offer has none of %s: %r' % (codecs, offer))
        c, pt = chosen
        lines = ['v=0', 'o=- %d 1 IN IP4 %s' % (random.randint(10 ** 6, 10 ** 9), rtp_ip),
                 's=tutti-e2e', 'c=IN IP4 %s' % rtp_ip, 't=0 0']
        pts = [pt]
        attrs = ['a=rtpmap:%d %s' % (pt, CODECS[c][1])]
        te = offer.te_pt
        if te is not None:
            pts.append(te)
            attrs.append('a=rtpmap:%d telephone-event/8000' % te)
        lines.append('m=audio %d RTP/AVP %s' % (rtp_port, ' '.join(map(str, pts))))
        lines += attrs + list(extra) + ['a=ptime:20', 'a=%s' % direction]
        # keep the rest of the call consistent: record what we answered with
        self.local_sdp = '\r\n'.join(lines) + '\r\n'
        self.offer_params = dict(rtp_ip=rtp_ip, rtp_port=rtp_port, codecs=(c,),
                                 direction=direction, telephone_event=te is not None)
        self.answer_pt = pt
        return self.local_sdp.encode()

    def reinvite(self, direction='sendrecv', codecs=None, rtp_ip=None, rtp_port=None,
                 timeout=5.0):
        """re-INVITE with a new offer (hold: direction='sendonly' or 'inactive')."""
        if not self.established:
            raise SipError('re-INVITE outside an established dialog')
        p = dict(self.offer_params or {})
        body = self._make_offer(rtp_ip or p.get('rtp_ip'), rtp_port or p.get('rtp_port'),
                                codecs or p.get('codecs', ('PCMU',)), direction,
                                p.get('telephone_event', True))
        resp = self._invite_txn(body, timeout)
        if 200 <= resp.status < 300:
            if resp.body:
                self.answer = SdpInfo(resp.body.decode('utf-8', 'replace'))
            self.ack_2xx(resp)
        return resp

    # -- non-INVITE requests ------------------------------------------------
    def request(self, method, body=b'', ctype=None, extra_headers=(), timeout=5.0):
        self.cseq += 1
        branch = new_branch()
        req = self._request(method, self.cseq, branch, body, ctype, extra_headers)
        return self.ua._non_invite(branch, req, method, timeout)

    def bye(self, timeout=5.0):
        resp = self.request('BYE', timeout=timeout)
        self.state = 'terminated'
        self.established = False
        return resp


SO_RCVBUFFORCE = 33     # Linux, asm-generic/socket.h


def udp_socket_tcp_guarded(ip, rcvbuf=None):
    """A UDP socket on a kernel-chosen port whose TCP twin we hold bound but
    not listening.  A SIP stack sends a request over 1300 bytes to a UDP
    contact by TCP first (RFC 3261 18.1.1) and falls back to UDP when the
    connection is refused; on a machine shared with other tests, an unheld
    TCP twin may be some other SIP server's listener, which would answer
    481 for us.  Returns (udp, tcp_guard)."""
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if rcvbuf:
            try:
                u.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf)
            except OSError:
                u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        u.bind((ip, 0))
        g = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            g.bind((ip, u.getsockname()[1]))
            return u, g
        except OSError:
            u.close()
            g.close()
    raise OSError('no UDP port with a free TCP twin')


class SipUA:
    """A UDP SIP user agent bound to local_ip (port chosen by the kernel)."""

    def __init__(self, server, local_ip='127.0.0.1', user='e2e', log=None, name=None,
                 tls_cafile=None):
        """tls_cafile: speak SIP over one TLS connection to server (its
        certificate checked against that CA file) instead of UDP."""
        self.server = (server[0], int(server[1]))
        self.local_ip = local_ip
        self.user = user
        self.name = name or user
        self.log = log or (lambda s: None)
        self.tls = tls_cafile is not None
        self.via_proto = 'TLS' if self.tls else 'UDP'
        self.rxbuf = b''
        self.send_lock = threading.Lock()
        if self.tls:
            import ssl
            ctx = ssl.create_default_context(cafile=tls_cafile)
            raw = socket.create_connection(self.server, timeout=5.0,
                                           source_address=(local_ip, 0))
            self.sock = ctx.wrap_socket(raw, server_hostname=self.server[0])
            self.tcp_guard = None
            self.tls_version = self.sock.version()
        else:
            self.sock, self.tcp_guard = udp_socket_tcp_guarded(local_ip)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.txns = {}
        self.dialogs = {}
        self.received = []          # every parsed message received: (time, msg)
        self.lock = threading.Lock()
        self.answer_cfg = None          # see auto_answer()
        self.incoming = queue.Queue()   # Dialogs of calls from the bridge
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._rx_loop, name='sipua-%s' % self.name,
                                       daemon=True)
        self.thread.start()
        self.retx_thread = threading.Thread(target=self._retx_loop, daemon=True)
        self.retx_thread.start()

    # -- plumbing -----------------------------------------------------------
    def close(self):
        self._stop.set()
        self.thread.join(1.0)
        self.retx_thread.join(1.0)
        for s in (self.sock, self.tcp_guard):
            try:
                if s is not None:
                    s.close()
            except OSError:
                pass

    def contact_uri(self):
        if self.tls:
            return '<sip:%s@%s:%d;transport=tls>' % (self.user, self.local_ip, self.port)
        return '<sip:%s@%s:%d>' % (self.user, self.local_ip, self.port)

    def _send(self, data, addr=None):
        try:
            if self.tls:
                with self.send_lock:
                    self.sock.sendall(data)
            else:
                self.sock.sendto(data, addr or self.server)
        except OSError as e:
            self.log('[%s] send failed: %s' % (self.name, e))

    def _recv(self):
        """The next message and where it came from, or (None, None) when
        nothing came within the socket timeout.  Over TLS, messages are
        framed by Content-Length (RFC 3261 18.3)."""
        if not self.tls:
            return self.sock.recvfrom(65535)
        while True:
            end = self.rxbuf.find(b'\r\n\r\n')
            if end >= 0:
                m = re.search(rb'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)',
                              self.rxbuf[:end])
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(self.rxbuf) >= total:
                    data, self.rxbuf = self.rxbuf[:total], self.rxbuf[total:]
                    return data, self.server
            # OpenSSL's SSL object takes no read and write at once from two
            # threads: the sender waits for this read (at most the 0.1 s
            # socket timeout) and the other way round.
            with self.send_lock:
                chunk = self.sock.recv(65535)
            if not chunk:
                raise OSError('TLS connection closed')
            self.rxbuf += chunk

    def _start_txn(self, branch, req, method):
        txn = ClientTxn(self, branch, req, method)
        txn.next_retx = time.monotonic() + T1
        txn.interval = T1
        with self.lock:
            self.txns[branch] = txn
        self._send(req)
        return txn

    def _retx_loop(self):
        while not self._stop.wait(0.05):
            now = time.monotonic()
            with self.lock:
                txns = list(self.txns.values())
            for t in txns:
                if t.final is not None:
                    continue
                if t.method == 'INVITE' and t.got_response:
                    continue
                if not self.tls and now >= t.next_retx and t.interval <= 4.0:
                    self._send(t.request)
                    t.interval *= 2
                    t.next_retx = now + t.interval

    def _non_invite(self, branch, req, method, timeout):
        txn = self._start_txn(branch, req, method)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SipError('timeout waiting for response to %s' % method)
            try:
                resp = txn.q.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            if resp.status >= 200:
                return resp

    def _rx_loop(self):
        while not self._stop.is_set():
            try:
                data, addr = self._recv()
            except socket.timeout:
                continue
            except OSError:
                break
            msg = parse_message(data)
            if msg is None:
                continue
            now = time.monotonic()
            self.received.append((now, msg))
            try:
                if msg.is_request:
                    self._on_request(msg, addr, now)
                else:
                    self._on_response(msg)
            except Exception as e:  # keep the UA alive whatever arrives
                self.log('[%s] error handling %s: %r' % (self.name, msg.summary(), e))

    def _on_response(self, msg):
        branch = msg.top_via_branch()
        with self.lock:
            txn = self.txns.get(branch)
        if txn is None:
            return
        txn.got_response = True
        key = (msg.status, msg.get('cseq'), tag_of(msg.get('to', '')))
        if msg.status >= 200:
            if txn.final is not None:
                # retransmitted final response: resend the ACK (INVITE) and drop it
                if txn.method == 'INVITE' and txn.ack_bytes:
                    self._send(txn.ack_bytes)
                return
            txn.final = msg
        elif key in txn.seen:
            return
        txn.seen.add(key)
        txn.q.put(msg)

    def _respond(self, req, status, reason, addr, body=b'', ctype=None, to_tag=None,
                 extra=()):
        lines = ['SIP/2.0 %d %s' % (status, reason)]
        for v in req.get_all('via'):
            lines.append('Via: %s' % v)
        lines.append('From: %s' % req.get('from', ''))
        to = req.get('to', '')
        if to_tag and not tag_of(to):
            to += ';tag=' + to_tag
        lines.append('To: %s' % to)
        lines.append('Call-ID: %s' % req.get('call-id', ''))
        lines.append('CSeq: %s' % req.get('cseq', ''))
        lines.append('Contact: %s' % self.contact_uri())
        lines.extend(extra)
        if isinstance(body, str):
            body = body.encode()
        if body:
            lines.append('Content-Type: %s' % (ctype or 'application/sdp'))
        lines.append('Content-Length: %d' % len(body))
        data = ('\r\n'.join(lines) + '\r\n\r\n').encode() + body
        # RFC 3261 18.2.2 / RFC 3581: reply to the source of the request
        self._send(data, addr)
        return data

    def _on_request(self, msg, addr, now):
        cid = msg.get('call-id', '')
        with self.lock:
            dlg = self.dialogs.get(cid)
        m = msg.method
        if dlg is not None:
            dlg.requests_received.append((now, msg))
        if m == 'ACK':
            return
        if m == 'BYE':
            if dlg is None:
                self._respond(msg, 481, 'Call/Transaction Does Not Exist', addr)
                return
            self._respond(msg, 200, 'OK', addr)
            if not dlg.bye_received.is_set():
                dlg.bye_time = now
                dlg.state = 'terminated'
                dlg.established = False
                dlg.bye_received.set()
                self.log('[%s] BYE received from bridge' % self.name)
            return
        if m == 'INVITE':
            if dlg is None and self.answer_cfg is not None and not tag_of(msg.get('to', '')):
                self._answer_new_call(msg, addr, now)
                return
            if dlg is None:
                self._respond(msg, 481, 'Call/Transaction Does Not Exist', addr)
                return
            body = b''
            if msg.body:
                dlg.answer = SdpInfo(msg.body.decode('utf-8', 'replace'))
            if dlg.local_sdp:
                body = dlg.local_sdp
            self._respond(msg, 200, 'OK', addr, body=body)
            return
        if m == 'CANCEL':
            self._respond(msg, 200, 'OK', addr)
            return
        if m == 'NOTIFY' and dlg is not None and getattr(dlg, 'notify_reply', None):
            self._respond(msg, dlg.notify_reply[0], dlg.notify_reply[1], addr)
            return
        if m in ('OPTIONS', 'INFO', 'NOTIFY', 'UPDATE', 'MESSAGE'):
            self._respond(msg, 200, 'OK', addr,
                          extra=('Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY',))
            return
        self._respond(msg, 405, 'Method Not Allowed', addr,
                      extra=('Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, NOTIFY',))

    def _answer_new_call(self, msg, addr, now):
        """A call from the bridge (dial-out): ring, then answer as configured."""
        cfg = self.answer_cfg
        cid = msg.get('call-id', '')
        with self.lock:
            dlg = self.dialogs.get(cid)
        if dlg is not None:             # a retransmission: repeat the answer
            if dlg.final_bytes:
                self._send(dlg.final_bytes, addr)
            return
        dlg = Dialog(self, uri_of(msg.get('contact', '')) or msg.uri, uri_of(msg.get('from', '')))
        dlg.call_id = cid
        dlg.local_uri = uri_of(msg.get('to', ''))
        dlg.remote_tag = tag_of(msg.get('from', ''))
        dlg.remote_target = uri_of(msg.get('contact', '')) or dlg.remote_uri
        dlg.cseq = random.randint(1, 1000)
        dlg.invite = msg
        dlg.final_bytes = None
        dlg.requests_received.append((now, msg))
        with self.lock:
            self.dialogs[cid] = dlg
        self.incoming.put(dlg)
        if cfg.get('ring', True):
            self._respond(msg, 180, 'Ringing', addr, to_tag=dlg.local_tag)
        status = cfg.get('status', 200)
        if status != 200:
            dlg.final_bytes = self._respond(msg, status, 'Busy Here' if status == 486 else 'Nope',
                                            addr, to_tag=dlg.local_tag)
            dlg.state = 'terminated'
            return
        offer = SdpInfo(msg.body.decode('utf-8', 'replace')) if msg.body else None
        dlg.answer = offer
        body = dlg.make_answer(offer, cfg['rtp_ip'], cfg['rtp_port'], cfg.get('codecs', ('PCMU',)),
                               extra=cfg.get('extra', ()))
        dlg.final_bytes = self._respond(msg, 200, 'OK', addr, body=body, to_tag=dlg.local_tag)
        dlg.established = True
        dlg.state = 'confirmed'

    def auto_answer(self, rtp_ip=None, rtp_port=None, codecs=('PCMU',), status=200, ring=True,
                    extra=()):
        """Answer calls from the bridge: 180, then `status` (200 with an SDP answer,
        `extra` a= lines added to its audio section).
        Each new call's Dialog is put on self.incoming."""
        self.answer_cfg = dict(rtp_ip=rtp_ip, rtp_port=rtp_port, codecs=codecs, status=status,
                               ring=ring, extra=extra)

    # -- public API ----------------------------------------------------------
    def room_uri(self, room):
        if self.tls:
            return 'sips:%s@%s:%d' % (room, self.server[0], self.server[1])
        return 'sip:%s@%s:%d' % (room, self.server[0], self.server[1])

    def new_dialog(self, room):
        uri = self.room_uri(room)
        dlg = Dialog(self, uri, uri)
        with self.lock:
            self.dialogs[dlg.call_id] = dlg
        return dlg

    def call(self, room, rtp_ip, rtp_port, codecs=('PCMU',), direction='sendrecv',
             timeout=5.0, **kw):
        """Place a call to room; returns (dialog, final response)."""
        dlg = self.new_dialog(room)
        resp = dlg.invite(rtp_ip, rtp_port, codecs, direction, timeout, **kw)
        return dlg, resp

    def options(self, target_uri=None, timeout=3.0):
        """Out-of-dialog OPTIONS; returns the final response."""
        uri = target_uri or 'sip:%s:%d' % self.server
        branch = new_branch()
        ctag = _rand_token(8)
        req = ('OPTIONS %s SIP/2.0\r\n'
               'Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n'
               'Max-Forwards: 70\r\n'
               'From: <sip:%s@%s:%d>;tag=%s\r\n'
               'To: <%s>\r\n'
               'Call-ID: %s@%s\r\n'
               'CSeq: 1 OPTIONS\r\n'
               'Accept: application/sdp\r\n'
               'Content-Length: 0\r\n\r\n' % (
                   uri, self.via_proto, self.local_ip, self.port, branch, self.user,
                   self.local_ip, self.port,
                   ctag, uri, _rand_token(16), self.local_ip)).encode()
        return self._non_invite(branch, req, 'OPTIONS', timeout)

    def register(self, aor, contact=None, expires=None, call_id=None, cseq=1,
                 request_uri=None, extra_headers=(), timeout=3.0):
        """Out-of-dialog REGISTER of aor (a SIP URI, used for From and To);
        returns the final response.  contact: None for this UA's own
        address, '' for no Contact (a query), else a Contact header value.
        Credentials go in extra_headers ('Authorization: Digest ...')."""
        uri = request_uri or 'sip:%s:%d' % self.server
        branch = new_branch()
        if contact is None:
            contact = self.contact_uri()
        lines = ['REGISTER %s SIP/2.0' % uri,
                 'Via: SIP/2.0/%s %s:%d;branch=%s;rport' % (self.via_proto, self.local_ip, self.port, branch),
                 'Max-Forwards: 70',
                 'From: <%s>;tag=%s' % (aor, _rand_token(8)),
                 'To: <%s>' % aor,
                 'Call-ID: %s' % (call_id or '%s@%s' % (_rand_token(16), self.local_ip)),
                 'CSeq: %d REGISTER' % cseq]
        if contact:
            lines.append('Contact: %s' % contact)
        if expires is not None:
            lines.append('Expires: %s' % expires)
        lines.extend(extra_headers)
        lines.append('Content-Length: 0')
        req = ('\r\n'.join(lines) + '\r\n\r\n').encode()
        return self._non_invite(branch, req, 'REGISTER', timeout)
