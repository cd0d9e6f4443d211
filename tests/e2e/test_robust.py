#!/usr/bin/env python3
"""Robustness: garbage at tutti's SIP port (UDP and TCP) and at the RTP/RTCP
ports of live calls; afterwards tutti must still answer OPTIONS, carry audio
for the existing calls and for a new one, ignore RTP from a stranger's
address, and on SIGTERM send BYE to every call and exit 0 within 5 s.

usage: test_robust.py [path/to/tutti]     (or env TUTTI_BIN)
"""

import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log, LOOPBACK          # noqa: E402
from rtpaudio import build_rtp, RtpEndpoint                 # noqa: E402
from sipua import SipUA, SipError                           # noqa: E402

ALL_F = [440, 1000, 1700]
rnd = random.Random(4242)      # reproducible garbage


def rbytes(n):
    return bytes(rnd.getrandbits(8) for _ in range(n))


# --------------------------------------------------------------------------
# SIP garbage
# --------------------------------------------------------------------------

def valid_invite(t, port, room, body=None, call_id=None, extra=''):
    body = body if body is not None else (
        'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
        'm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n')
    call_id = call_id or 'garbage-%d@127.0.0.1' % rnd.getrandbits(32)
    hdr = ('INVITE sip:%s@127.0.0.1:%d SIP/2.0\r\n'
           'Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%d;rport\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:g@127.0.0.1:%d>;tag=%d\r\n'
           'To: <sip:%s@127.0.0.1:%d>\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n'
           'Contact: <sip:g@127.0.0.1:%d>\r\n%s'
           'Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n' % (
               room, t.sip_port, port, rnd.getrandbits(48), port, rnd.getrandbits(32),
               room, t.sip_port, call_id, port, extra, len(body)))
    return (hdr + body).encode('latin-1')


def sip_garbage(t, port, room):
    out = []
    for n in (0, 1, 2, 4, 10, 100, 500, 1400, 4000, 20000, 65000):
        for _ in range(3):
            out.append(('random %d bytes' % n, rbytes(n)))
    out += [('CRLF keep-alive', b'\r\n\r\n'), ('CRLF', b'\r\n'), ('NULs', b'\x00' * 300),
            ('0xff', b'\xff' * 300)]
    inv = valid_invite(t, port, room)
    for cut in (1, 7, 10, 30, 60, 100, 200, len(inv) // 2, len(inv) - 40, len(inv) - 1):
        out.append(('INVITE truncated to %d bytes' % cut, inv[:cut]))
    out.append(('INVITE with a 60 kB Subject', valid_invite(
        t, port, room, extra='Subject: %s\r\n' % ('x' * 60000))))
    out.append(('INVITE with 1000 Via headers', valid_invite(t, port, room, extra=''.join(
        'Via: SIP/2.0/UDP 10.%d.%d.%d:5060;branch=z9hG4bK%d\r\n' % (
            i % 250, i // 250, 7, i) for i in range(1000)))))
    out.append(('INVITE with a 30 kB header name', valid_invite(
        t, port, room, extra='%s: v\r\n' % ('H' * 30000))))
    out.append(('INVITE with 4000 tiny headers', valid_invite(
        t, port, room, extra=''.join('X-%d: %d\r\n' % (i, i) for i in range(4000)))))
    for cl in ('-1', '99999999999999999999', 'abc', '4294967296', '65536', ''):
        out.append(('Content-Length: %s' % cl,
                    inv.replace(b'Content-Length: ', b'Content-Length: %s\r\nX-Old-CL: ' %
                                cl.encode())))
    bad_lines = [b'INVITE sip:x@127.0.0.1 SIP/3.0', b'FOO BAR', b'INVITE', b' INVITE sip:a SIP/2.0',
                 b'INVITE sip:a SIP/2.0 extra', b'SIP/2.0 200', b'SIP/2.0 999999999999 Big',
                 b'SIP/2.0 -1 Neg', b'INVITE \x00\x01\x02 SIP/2.0', b'INVITE <> SIP/2.0',
                 b'INVITE sip:%s@127.0.0.1 SIP/2.0' % (b'a' * 10000)]
    for bl in bad_lines:
        first_end = inv.index(b'\r\n')
        out.append(('start line %r' % bl[:40], bl + inv[first_end:]))
    for drop in (b'Call-ID', b'From', b'To', b'CSeq', b'Via', b'Max-Forwards'):
        lines = inv.split(b'\r\n')
        out.append(('INVITE without %s' % drop.decode(),
                    b'\r\n'.join(ln for ln in lines if not ln.startswith(drop + b':'))))
    for cseq in (b'CSeq: 99999999999999999999 INVITE', b'CSeq: 1 BYE', b'CSeq: abc INVITE',
                 b'CSeq: 1', b'CSeq:'):
        out.append((cseq.decode(), inv.replace(b'CSeq: 1 INVITE', cseq)))
    out.append(('To with broken angle brackets', inv.replace(b'To: <sip:', b'To: <<<sip:')))
    out.append(('From without tag, weird chars', inv.replace(b'From: <sip:g', b'From: "\x01\x02\xff" <sip:g')))
    out.append(('Via with bad port', inv.replace(b'Via: SIP/2.0/UDP 127.0.0.1:', b'Via: SIP/2.0/UDP 127.0.0.1:99999')))
    out.append(('stray 200 OK', b'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnope\r\n'
                b'From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray@x\r\n'
                b'CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'))
    out.append(('stray ACK', b'ACK sip:%s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKx\r\n'
                b'From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray@x\r\n'
                b'CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n' % (room.encode(), port)))
    out.append(('stray BYE', b'BYE sip:%s@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKy\r\n'
                b'From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: stray2@x\r\n'
                b'CSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' % (room.encode(), port)))
    for body in ('v=0\r\n' * 2000, '\x00' * 1000,
                 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
                 'm=audio 9 RTP/AVP 0\r\n' * 500,
                 'v=0\r\nm=audio 99999999999999999999 RTP/AVP 0\r\n',
                 'v=0\r\nm=audio 4000 RTP/AVP ' + ' '.join(str(i) for i in range(128)) * 20 + '\r\n'):
        out.append(('INVITE with bad SDP (%d bytes)' % len(body), valid_invite(t, port, room, body)))
    return out


# SDP bodies sent through a proper UA (one call each): the bridge must give a
# final response; `must_reject` ones are malformed and must not be accepted.
def bad_sdps():
    base = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n'
    return [
        ('garbage text', 'hello, this is not SDP\r\n', True),
        ('binary body', rbytes(600).decode('latin-1'), True),
        ('no m= line', base, True),
        ('m= line with non-numeric port', base + 'm=audio abc RTP/AVP 0\r\n', True),
        ('m= line with port 999999', base + 'm=audio 999999 RTP/AVP 0\r\n', True),
        ('m= line without formats', base + 'm=audio 9 RTP/AVP\r\n', True),
        ('m= line truncated', base + 'm=aud', True),
        ('no c= anywhere', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'
         'm=audio 9 RTP/AVP 0\r\n', True),
        ('c= with garbage address', base.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 300.1.2.3.4.x')
         + 'm=audio 9 RTP/AVP 0\r\n', False),
        ('rtpmap for PT 300', base + 'm=audio 9 RTP/AVP 300\r\na=rtpmap:300 PCMU/8000\r\n', False),
        ('opus with clock rate 0', base + 'm=audio 9 RTP/AVP 111\r\na=rtpmap:111 opus/0/0\r\n',
         False),
        ('ptime 0 and 100000', base + 'm=audio 9 RTP/AVP 0\r\na=ptime:0\r\na=ptime:100000\r\n'
         'a=maxptime:0\r\n', False),
        ('fmtp garbage', base + 'm=audio 9 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\n'
         'a=fmtp:111 ;;;===;maxplaybackrate=-5;stereo=9\r\na=rtpmap:101 telephone-event/8000\r\n'
         'a=fmtp:101 0-99999999999\r\n', False),
        ('3000 attributes', base + 'm=audio 9 RTP/AVP 0\r\n' + 'a=x-junk:%s\r\n' % ('y' * 5)
         * 3000, False),
        ('200 audio m= lines', base + 'm=audio 9 RTP/AVP 0\r\n' * 200, False),
        ('crypto line garbage', base + 'm=audio 9 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 '
         'inline:!!!notbase64!!!\r\n', False),
        # Sofia-SIP's parser loops for ever on these (fuzz/regress/sdp).
        ('a format that is not a token', base + 'm=audio 9 RTP/AVP 0\r\n'
         'm=application 9 UDP/BFCP a /b\r\n', True),
        ('a non-ASCII byte in the profile', base + 'm=audio 0 R\xae\xaf/AVP 0\r\n', True),
    ]


# --------------------------------------------------------------------------
# RTP / RTCP garbage
# --------------------------------------------------------------------------

def rtp_garbage(ssrc, pt):
    out = []
    for n in (0, 1, 2, 11, 12, 13, 100, 172, 1500, 8000, 65000):
        out.append(('random %d' % n, rbytes(n)))
    pay = rbytes(160)
    for v in (0, 1, 3):
        out.append(('version %d' % v, build_rtp(pt, 1, 160, ssrc, pay, version=v)))
    out.append(('CC=15, header only', build_rtp(pt, 2, 320, ssrc, b'', cc=15)))
    out.append(('CC=15, 2 CSRCs present', build_rtp(pt, 3, 480, ssrc, b'', csrcs=(1, 2), cc=15)))
    out.append(('CC=15, full', build_rtp(pt, 4, 640, ssrc, pay, csrcs=tuple(range(15)))))
    out.append(('extension length 0xffff', build_rtp(pt, 5, 800, ssrc, pay[:8],
                                                      extension=(0xBEDE, b'\x00' * 4))[:12]
                + struct.pack('!HH', 0xBEDE, 0xFFFF) + pay[:8]))
    out.append(('extension header cut', build_rtp(pt, 6, 960, ssrc, b'', extension=(1, b''))[:14]))
    for padn in (0, 1, 255):
        pkt = bytearray(build_rtp(pt, 7, 1120, ssrc, pay[:20], padding=True))
        pkt[-1] = padn
        out.append(('padding count %d' % padn, bytes(pkt)))
    for p in (99, 72, 73, 76, 127, 13, 101):
        out.append(('PT %d' % p, build_rtp(p, 8, 1280, ssrc, pay)))
    out.append(('empty payload', build_rtp(pt, 9, 1440, ssrc, b'')))
    out.append(('1 byte payload', build_rtp(pt, 10, 1600, ssrc, b'\x01')))
    out.append(('2000 byte payload', build_rtp(pt, 11, 1760, ssrc, rbytes(2000))))
    out.append(('63000 byte payload', build_rtp(pt, 12, 1920, ssrc, rbytes(63000))))
    for seq, ts in ((0, 0), (32768, 1 << 31), (65535, 0xFFFFFFFF), (65535, 0xFFFFFFFF),
                    (1, 5), (40000, 12345)):
        out.append(('seq %d ts %d' % (seq, ts), build_rtp(pt, seq, ts, ssrc, pay)))
    out.append(('other SSRC', build_rtp(pt, 77, 7777, ssrc ^ 0x5A5A5A5A, pay)))
    # opus-specific: every TOC byte followed by random data (also harmless for G.711)
    for toc in range(256):
        out.append(('TOC 0x%02x' % toc, build_rtp(pt, 100 + toc, 2000 + toc * 960, ssrc,
                                                  bytes([toc]) + rbytes(rnd.randrange(0, 60)))))
    out.append(('telephone-event truncated', build_rtp(101, 400, 99999, ssrc, b'\x05')))
    out.append(('telephone-event bad event', build_rtp(101, 401, 99999, ssrc,
                                                       b'\xff\x8a\xff\xff')))
    # RTCP-looking packets on the RTP port (rtcp-mux demultiplexing)
    out += [(n + ' (on RTP port)', d) for n, d in rtcp_garbage(ssrc)]
    return out


def rtcp_garbage(ssrc):
    out = []
    for n in (0, 1, 3, 4, 7, 8, 28, 100, 1400):
        out.append(('rtcp random %d' % n, rbytes(n)))
    hdr = lambda v, rc, pt, length: struct.pack('!BBH', (v << 6) | (rc & 31), pt, length)
    out.append(('SR length 0xffff', hdr(2, 0, 200, 0xFFFF) + struct.pack('!I', ssrc) + rbytes(20)))
    out.append(('SR truncated', hdr(2, 0, 200, 6) + struct.pack('!I', ssrc)))
    out.append(('RR rc=31 short', hdr(2, 31, 201, 1) + struct.pack('!I', ssrc)))
    out.append(('RR rc=31 long', hdr(2, 31, 201, 1 + 31 * 6) + struct.pack('!I', ssrc) + rbytes(31 * 24)))
    out.append(('SDES overflowing item', hdr(2, 1, 202, 3) + struct.pack('!I', ssrc)
                + b'\x01\xff' + b'a' * 6))
    out.append(('SDES rc=31', hdr(2, 31, 202, 2) + struct.pack('!I', ssrc) + b'\x00\x00\x00\x00'))
    out.append(('BYE sc=31 short', hdr(2, 31, 203, 1) + struct.pack('!I', ssrc)))
    out.append(('BYE reason overflow', hdr(2, 1, 203, 2) + struct.pack('!I', ssrc) + b'\xff' + b'r' * 3))
    out.append(('APP short', hdr(2, 0, 204, 0)))
    out.append(('RTPFB/PSFB short', hdr(2, 1, 205, 0) + hdr(2, 1, 206, 0)))
    out.append(('XR junk', hdr(2, 0, 207, 10) + rbytes(44)))
    out.append(('version 0', hdr(0, 0, 200, 6) + rbytes(24)))
    out.append(('compound with zero length middle', hdr(2, 0, 201, 1) + struct.pack('!I', ssrc)
                + hdr(2, 0, 202, 0) + hdr(2, 0, 203, 0xFFFF)))
    out.append(('length word 0 repeated', hdr(2, 0, 201, 0) * 200))
    return out


def blast(sock, dest, items, pause_every=20):
    for i, (_, data) in enumerate(items):
        try:
            sock.sendto(data, dest)
        except OSError as e:
            log('send %s: %s' % (_, e))
        if i % pause_every == pause_every - 1:
            time.sleep(0.002)


# --------------------------------------------------------------------------

def hears(h, c, others, label, seconds=1.0):
    an = c.rtp.analyze(ALL_F, seconds)
    log('%-14s %s' % (label, an))
    for o in others:
        h.check(an.dbfs[o.freq] > -35.0 and an.rel_db[o.freq] > -15.0,
                '%s: %s hears %s (%d Hz)' % (label, c.name, o.name, o.freq),
                '%.1f dBFS, %.1f dB rel' % (an.dbfs[o.freq], an.rel_db[o.freq]))
    return an


def main():
    with Harness('test_robust', time_limit=100) as h:
        t = h.start_tutti()
        room = 'robust-%d' % os.getpid()
        A = Caller(h, t.sip_addr, 'A', 'PCMU', 440)
        B = Caller(h, t.sip_addr, 'B', 'opus', 1700)
        for c in (A, B):
            r = c.dial(room)
            if not h.check(r.status == 200, '%s joins' % c.name, '%d %s' % (r.status, r.reason)):
                raise SystemExit('cannot set up the calls')
        time.sleep(2.0)
        hears(h, A, [B], 'before garbage')
        hears(h, B, [A], 'before garbage')

        # ---- SIP over UDP ------------------------------------------------------
        g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        g.bind((LOOPBACK, 0))
        h.on_cleanup(g.close)
        gport = g.getsockname()[1]
        items = sip_garbage(t, gport, room)
        log('sending %d garbage SIP datagrams' % len(items))
        blast(g, t.sip_addr, items)
        # collect what comes back for a moment; reply 200 to nothing, ACK nothing
        g.settimeout(0.2)
        replies = {}
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                data, _ = g.recvfrom(65535)
            except socket.timeout:
                continue
            first = data.split(b'\r\n', 1)[0][:40].decode('latin-1')
            replies[first] = replies.get(first, 0) + 1
        log('replies to garbage: %s' % replies)
        h.check(t.alive(), 'tutti survives garbage on its SIP UDP port')

        # ---- SIP over TCP --------------------------------------------------------
        for label, data in (('random 64 kB', rbytes(65536)),
                            ('INVITE with 200 kB header', valid_invite(
                                t, gport, room, extra='X-Big: %s\r\n' % ('z' * 200000))),
                            ('half an INVITE then close', valid_invite(t, gport, room)[:150]),
                            ('Content-Length 10 MB, short body',
                             valid_invite(t, gport, room).replace(
                                 b'Content-Length: ', b'Content-Length: 10000000\r\nX: '))):
            try:
                s = socket.create_connection(t.sip_addr, timeout=2.0)
                try:
                    s.sendall(data)
                    s.settimeout(0.3)
                    try:
                        s.recv(4096)
                    except (socket.timeout, OSError):
                        pass
                finally:
                    s.close()
                log('TCP garbage sent: %s' % label)
            except OSError as e:
                log('TCP garbage %s: %s (SIP over TCP not reachable?)' % (label, e))
        h.check(t.alive(), 'tutti survives garbage on its SIP TCP port')

        # ---- malformed SDP through a proper UA ------------------------------------
        ua = SipUA(t.sip_addr, user='sdp', log=log, name='sdp')
        h.on_cleanup(ua.close)
        for label, body, must_reject in bad_sdps():
            try:
                dlg, r = ua.call(room, LOOPBACK, 9, raw_body=body.encode('latin-1'),
                                 timeout=4.0)
            except SipError as e:
                h.check(False, 'bad SDP "%s": a final response' % label, str(e))
                continue
            log('bad SDP %-32s -> %d %s' % (label, r.status, r.reason))
            if must_reject:
                h.check(400 <= r.status < 500, 'malformed SDP "%s" is rejected with 4xx' % label,
                        'got %d %s (400 expected, 488 tolerated)' % (r.status, r.reason))
            else:
                h.check(r.status >= 200, 'odd SDP "%s" gets a final response' % label,
                        '%d %s' % (r.status, r.reason))
            h.check(r.status < 500, 'SDP "%s" is not answered with a server error' % label,
                    '%d %s (a peer\'s bad SDP is a 4xx: 400, or 488)' % (r.status, r.reason))
            if 200 <= r.status < 300:
                try:
                    dlg.bye(timeout=2.0)
                except SipError:
                    pass
        for label, rname in (('65 characters', 'r' * 65), ('a slash', 'a/b'),
                             ('a space (escaped)', 'a%20b')):
            try:
                dlg, r = ua.call(rname, LOOPBACK, 9, timeout=4.0)
            except SipError as e:
                h.check(False, 'INVITE to invalid room name (%s): a final response' % label, str(e))
                continue
            log('room name with %s -> %d %s' % (label, r.status, r.reason))
            h.check(r.status >= 400, 'INVITE to an invalid room name (%s) is refused' % label,
                    '%d %s' % (r.status, r.reason))
            if 200 <= r.status < 300:
                dlg.bye(timeout=2.0)
        h.check(t.alive(), 'tutti survives malformed SDP')

        # ---- RTP / RTCP garbage at the live calls' ports -----------------------------
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind((LOOPBACK, 0))
        h.on_cleanup(stranger.close)
        for c in (A, B):
            a = c.dlg.answer
            rtp_dest, rtcp_dest = (a.conn, a.port), (a.conn, a.port + 1)
            pt = a.codec_pt
            junk = rtp_garbage(c.rtp.ssrc, pt)
            rj = rtcp_garbage(c.rtp.ssrc)
            log('%s: %d garbage RTP and %d RTCP packets to %s from the latched address and '
                'from a stranger' % (c.name, len(junk), len(rj), rtp_dest))
            for sock in (c.rtp.sock, stranger):
                blast(sock, rtp_dest, junk)
            for sock in (c.rtp.rtcp_sock, stranger):
                blast(sock, rtcp_dest, rj)
            # a flood of random-but-plausible RTP from the latched address
            flood = [('flood', build_rtp(pt, rnd.getrandbits(16), rnd.getrandbits(32),
                                         c.rtp.ssrc, rbytes(rnd.randrange(1, 400))))
                     for _ in range(1000)]
            blast(c.rtp.sock, rtp_dest, flood, pause_every=50)
        h.check(t.alive(), 'tutti survives garbage on its RTP/RTCP ports')

        # ---- a stranger's well-formed RTP must not enter the mix ------------------------
        intruder = RtpEndpoint('intruder', log=log)
        h.on_cleanup(intruder.close)
        a = A.dlg.answer
        intruder.configure((a.conn, a.port), 'PCMU', 0)
        intruder.send_tone(1000)
        time.sleep(1.5)
        an = B.rtp.analyze(ALL_F, 1.0)
        log('%-14s %s' % ('intruder on A', an))
        h.check(an.dbfs[440] > -35.0 and an.dbfs[1000] < an.dbfs[440] - 30.0,
                "RTP from a stranger's address to A's port is dropped (B still hears A, "
                "not the stranger)",
                'intruder 1000 Hz at %.1f dBFS vs A 440 Hz at %.1f dBFS' % (an.dbfs[1000], an.dbfs[440]))
        intruder.stop_sending()

        # ---- still working? ------------------------------------------------------
        try:
            r = ua.options()
            h.check(r.status == 200, 'OPTIONS still answered 200 after the garbage',
                    '%d %s' % (r.status, r.reason))
        except SipError as e:
            h.check(False, 'OPTIONS still answered after the garbage', str(e))
        C = Caller(h, t.sip_addr, 'C', 'PCMA', 1000)
        r = C.dial(room)
        h.check(r.status == 200, 'a new call (C) still joins', '%d %s' % (r.status, r.reason))
        time.sleep(2.0)
        hears(h, A, [B, C], 'after garbage')
        hears(h, B, [A, C], 'after garbage')
        hears(h, C, [A, B], 'after garbage')

        # ---- SIGTERM: BYE to everyone, exit 0 within 5 s -----------------------------
        code, dt = t.terminate(grace=5.0)
        h.check(code == 0 and dt < 5.0, 'tutti exits 0 within 5 s of SIGTERM',
                'exit status %s after %.2f s' % (code, dt))
        for c in (A, B, C):
            got = c.dlg.bye_received.wait(0.5)
            h.check(got, '%s received a BYE from tutti on shutdown' % c.name,
                    'yes' if got else 'no BYE; in-dialog requests received: %s' % (
                        [m.summary() for _, m in c.dlg.requests_received]))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
