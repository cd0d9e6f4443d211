#!/usr/bin/env python3
"""End-to-end test of SIP over TLS (--sip-tls-listen, --tls-cert, --tls-key).

usage: test_tls.py [path/to/tutti]     (or env TUTTI_BIN)

A self-signed certificate for 127.0.0.1 is made with the openssl command.
tutti listens for SIP on UDP/TCP and on TLS.  alice calls over UDP (PCMU,
440 Hz), bob over TLS (PCMA, 1000 Hz): bob's TLS client checks the bridge's
certificate against that CA, negotiates TLS 1.2 or later, is answered 200
with a sips: Contact carrying ;isfocus, and the two hear each other.  A
subscription over the same TLS connection gets its NOTIFYs there.  Plain
SIP sent to the TLS port, and a TLS handshake that is cut, leave the bridge
running.  A key that does not match the certificate, a file that is not
PEM, and a TLS listener without a key are refused before anything listens
(exit 2, one line naming the problem).
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, free_port, log, tutti_binary, LOOPBACK, SKIP  # noqa: E402
from confsub import Subscription                                                 # noqa: E402


def make_cert(d, name):
    key, cert = os.path.join(d, name + '.key'), os.path.join(d, name + '.crt')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True, timeout=30)
    return cert, key


def refused(h, args, needle, what):
    p = subprocess.run([tutti_binary(), '--check-config'] + args, capture_output=True,
                       timeout=10, text=True)
    h.check(p.returncode == 2 and needle in p.stderr and len(p.stderr.strip().splitlines()) == 1,
            what, 'exit %d: %r' % (p.returncode, p.stderr.strip()))


def main():
    if not shutil.which('openssl'):
        print('openssl not found: skipped')
        return SKIP
    with Harness('test_tls', time_limit=80) as h:
        d = tempfile.mkdtemp(prefix='tutti-e2e-tls-')
        h.on_cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
        cert, key = make_cert(d, 'bridge')
        other_cert, other_key = make_cert(d, 'other')
        junk = os.path.join(d, 'junk.pem')
        with open(junk, 'w') as f:
            f.write('not a certificate\n')

        # ---- refusals before anything listens -----------------------------------------
        tls = ['--sip-tls-listen', '%s:%d' % (LOOPBACK, free_port(udp=False))]
        refused(h, tls + ['--tls-cert', cert, '--tls-key', other_key], 'does not match',
                'a key that does not match the certificate is refused (exit 2)')
        refused(h, tls + ['--tls-cert', junk, '--tls-key', key], 'not a PEM certificate',
                'a certificate file that is not PEM is refused (exit 2)')
        refused(h, tls + ['--tls-cert', cert], 'needs --tls-cert and --tls-key',
                'a TLS listener without a key is refused (exit 2)')

        # ---- a bridge with TLS --------------------------------------------------------------
        tls_port = free_port(udp=False)
        t = h.start_tutti(['--sip-tls-listen', '%s:%d' % (LOOPBACK, tls_port),
                           '--tls-cert', cert, '--tls-key', key])
        h.check('(TLS)' in t.log_grep('listening on'), 'tutti logs its TLS listener',
                t.log_grep('listening on'))
        room = 'tls-%d' % os.getpid()
        alice = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
        r = alice.dial(room)
        h.check(r.status == 200, 'alice joins over UDP', '%d' % r.status)
        bob = Caller(h, (LOOPBACK, tls_port), 'bob', 'PCMA', 1000, tls_cafile=cert)
        h.check(bob.ua.tls_version in ('TLSv1.2', 'TLSv1.3'),
                "bob's TLS client verifies the bridge's certificate and gets TLS 1.2+",
                repr(bob.ua.tls_version))
        r = bob.dial(room)
        h.check(r.status == 200, 'bob joins over TLS', '%d' % r.status)
        contact = r.get('contact') or ''
        h.check(contact.startswith('<sips:%s@' % room) and ':%d>' % tls_port in contact
                and 'isfocus' in contact,
                'the 200 Contact is a sips: URI at the TLS port with ;isfocus', contact)
        time.sleep(2.0)
        an = alice.rtp.analyze([440, 1000], 1.0)
        h.check(an.dbfs[1000] > -35, 'alice (UDP) hears bob (TLS)', '%.1f dBFS' % an.dbfs[1000])
        an = bob.rtp.analyze([440, 1000], 1.0)
        h.check(an.dbfs[440] > -35, 'bob (TLS) hears alice (UDP)', '%.1f dBFS' % an.dbfs[440])
        h.check(an.dbfs[1000] < an.dbfs[440] - 30, 'bob does not hear himself',
                '%.1f dBFS' % an.dbfs[1000])

        # ---- a subscription over the TLS connection -----------------------------------------
        sub = Subscription(bob.ua, room)
        r = sub.subscribe(expires=600)
        h.check(r.status == 200, 'SUBSCRIBE over TLS answered 200', '%d' % r.status)
        n = sub.wait_notify(3.0)
        h.check(n is not None and n.doc is not None and 'sip:bob@' in n.body,
                'its NOTIFY arrives over the TLS connection with the room state',
                n and n.body[:300])

        # ---- hostile bytes on the TLS port ------------------------------------------------------
        s = socket.create_connection((LOOPBACK, tls_port), timeout=2)
        s.sendall(b'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n')
        try:
            s.recv(100)
        except OSError:
            pass
        s.close()
        s = socket.create_connection((LOOPBACK, tls_port), timeout=2)
        s.sendall(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')     # a ClientHello, cut
        s.close()
        time.sleep(0.5)
        h.check(t.alive(), 'plain SIP and a cut handshake on the TLS port leave tutti running')
        r = bob.dlg.bye()
        h.check(r.status == 200, "bob's BYE over TLS answered 200", '%d' % r.status)
        h.check(t.alive(), 'tutti is still running')

        # ---- the SRTP policy (--srtp), by offers that cannot be met -------------------
        def offer(proto, crypto=''):
            return ('v=0\r\no=x 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n'
                    'm=audio 40000 %s 0\r\na=rtpmap:0 PCMU/8000\r\n%s' % (
                        LOOPBACK, LOOPBACK, proto, crypto)).encode()
        key = ('a=crypto:1 AES_CM_128_HMAC_SHA1_80 '
               'inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n')
        c = Caller(h, t.sip_addr, 'carol', 'PCMU')
        r = c.dial(room, raw_body=offer('RTP/SAVP'), ctype='application/sdp')
        h.check(r.status == 488, 'srtp optional: RTP/SAVP without an a=crypto we take is 488',
                '%d' % r.status)
        r = c.dial(room, raw_body=offer('RTP/SAVP', key), ctype='application/sdp')
        h.check(r.status == 200 and 'RTP/SAVP' in (r.body or b'').decode()
                and 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:' in (r.body or b'').decode(),
                'srtp optional: an RTP/SAVP offer over UDP is answered with our key',
                '%d' % r.status)
        h.check('not TLS' in t.log_grep('a=crypto'),
                'keys that came over UDP are warned about', t.log_grep('a=crypto', 1))
        h.check('WVNfX19z' not in t.log_text(), 'no key is ever in the log')
        c.dlg.bye()
        m = h.start_tutti(['--srtp', 'mandatory'], name='srtp-mandatory')
        d = Caller(h, m.sip_addr, 'dave', 'PCMU')
        r = d.dial(room)
        h.check(r.status == 488, 'srtp mandatory: a plain RTP/AVP offer is 488', '%d' % r.status)
        o = h.start_tutti(['--srtp', 'off'], name='srtp-off')
        e = Caller(h, o.sip_addr, 'erin', 'PCMU')
        r = e.dial(room, raw_body=offer('RTP/SAVP', key), ctype='application/sdp')
        h.check(r.status == 488, 'srtp off: an RTP/SAVP offer is 488', '%d' % r.status)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
