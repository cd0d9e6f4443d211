#!/usr/bin/env python3
"""End-to-end test of the limits against floods and exhaustion.

usage: test_limits.py [path/to/tutti]     (or env TUTTI_BIN)

Three bridges, each with one limit set low, so that a refusal can only be
that limit's:
  caps    --max-calls 2 --max-rooms 1 --max-subscriptions 1
          --sip-max-size 8192: a second room (SIP and API), a third call,
          a second subscription are refused 503 with Retry-After; a
          message over the size cap is not taken, and the bridge carries on.
  rate    --sip-rate 2 (a burst of 4): of 8 SUBSCRIBEs sent at once from one
          address 4 are taken and the rest get 503 with Retry-After; an
          INVITE from that address pays from the same bucket; another
          address is not limited; a second later there are tokens again.
  ports   --rtp-ports of two port pairs: the third call gets 503 with
          Retry-After (no media port), and a call ending frees its pair.
Nothing refused leaves a trace: the API lists only what was admitted.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Harness, Caller, http_call, free_rtp_range, log,   # noqa: E402
                     LOOPBACK)
from confsub import Subscription                                        # noqa: E402
from sipua import SipUA                                                 # noqa: E402


def retry_after(r):
    v = (r.get('retry-after') or '').strip().split(';')[0].strip()
    return int(v) if v.isdigit() else None


def refused_503(h, r, what):
    ra = retry_after(r)
    h.check(r.status == 503 and ra is not None and ra >= 1,
            what + ': 503 with Retry-After', '%d %s, Retry-After %r' % (
                r.status, r.reason, r.get('retry-after')))


def caps(h):
    t = h.start_tutti(['--max-calls', '2', '--max-rooms', '1', '--max-subscriptions', '1',
                       '--sip-rate', '0', '--sip-max-size', '8192'], name='caps')
    a = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
    h.check(a.dial('one').status == 200, 'caps: the first call opens room one')
    b = Caller(h, t.sip_addr, 'bob', 'PCMU', 700)
    refused_503(h, b.dial('two'), 'caps: a call that would open a second room (--max-rooms 1)')
    r = http_call(t.http_port, 'POST', '/api/v1/rooms', {'name': 'three'})
    body = r.json() or {}
    h.check(r.status == 503 and 'max-rooms' in str(body),
            'caps: the API cannot create a room past --max-rooms (503)',
            '%d %r' % (r.status, body))
    h.check(b.dial('one').status == 200, 'caps: a second call into room one')
    c = Caller(h, t.sip_addr, 'carol', 'PCMU', 900)
    refused_503(h, c.dial('one'), 'caps: a third call (--max-calls 2)')
    parts = http_call(t.http_port, 'GET', '/api/v1/rooms/one/participants').json() or []
    h.check(sorted(p['uri'].split('@')[0] for p in parts) == ['sip:alice', 'sip:bob'],
            'caps: the room holds exactly the two admitted callers', repr(parts))
    rooms = http_call(t.http_port, 'GET', '/api/v1/rooms').json() or []
    h.check([x['name'] for x in rooms] == ['one'], 'caps: no room was left behind',
            repr(rooms))
    r = http_call(t.http_port, 'POST', '/api/v1/rooms/one/participants',
                  {'uri': 'sip:dave@%s:5' % LOOPBACK})
    h.check(r.status == 503, 'caps: the API cannot dial out past --max-calls (503)',
            '%d %r' % (r.status, r.body[:200]))

    ua = SipUA(t.sip_addr, user='w1', log=log, name='w1')
    h.on_cleanup(ua.close)
    s1 = Subscription(ua, 'one')
    h.check(s1.subscribe().status == 200, 'caps: the first subscription is taken')
    ua2 = SipUA(t.sip_addr, user='w2', log=log, name='w2')
    h.on_cleanup(ua2.close)
    refused_503(h, Subscription(ua2, 'one').subscribe(),
                'caps: a second subscription (--max-subscriptions 1)')

    # a message over --sip-max-size, by TCP and by UDP: not taken
    big = ('OPTIONS sip:one@%s:%d SIP/2.0\r\nVia: SIP/2.0/TCP %s:9;branch=z9hG4bKbig\r\n'
           'From: <sip:x@%s>;tag=1\r\nTo: <sip:one@%s>\r\nCall-ID: big@x\r\nCSeq: 1 OPTIONS\r\n'
           'Max-Forwards: 70\r\nX-Pad: %s\r\nContent-Length: 0\r\n\r\n' % (
               LOOPBACK, t.sip_port, LOOPBACK, LOOPBACK, LOOPBACK, 'p' * 12000)).encode()
    s = socket.create_connection(t.sip_addr, timeout=2)
    got = b''
    try:
        s.sendall(big)
        got = s.recv(200)
    except OSError:
        pass
    s.close()
    h.check(not got.startswith(b'SIP/2.0 200'),
            'caps: a 12 kB message by TCP is not taken (over --sip-max-size 8192)',
            repr(got[:60]))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1.0)
    u.sendto(big.replace(b'TCP', b'UDP'), t.sip_addr)
    try:
        got = u.recv(200)
    except OSError:
        got = b''
    u.close()
    h.check(not got.startswith(b'SIP/2.0 200'),
            'caps: a 12 kB datagram is not taken either', repr(got[:60]))
    r = ua.options('sip:one@%s:%d' % t.sip_addr)
    h.check(r.status == 200 and t.alive(), 'caps: the bridge answers OPTIONS after them',
            '%d' % r.status)


def rate(h):
    t = h.start_tutti(['--sip-rate', '2'], name='rate')
    ua = SipUA(t.sip_addr, user='flood', log=log, name='flood')
    h.on_cleanup(ua.close)
    subs = [Subscription(ua, 'r%d' % i) for i in range(8)]
    codes, ras = [], []
    for s in subs:
        r = s.subscribe()
        codes.append(r.status)
        ras.append(retry_after(r))
    h.check(codes[:4] == [200] * 4 and all(c == 503 for c in codes[4:]),
            'rate: of 8 SUBSCRIBEs at once, the burst of 4 is taken, the rest 503',
            repr(codes))
    h.check(all(ra is not None and 1 <= ra <= 2 for ra in ras[4:]),
            'rate: each 503 says Retry-After: 1 (a token is back within a second)', repr(ras))
    a = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
    a.ua.close()
    # alice's own UA is another socket on the same address: same bucket
    a.ua = SipUA(t.sip_addr, user='alice', log=log, name='alice')
    h.on_cleanup(a.ua.close)
    refused_503(h, a.dial('room'), 'rate: an INVITE from the flooding address pays too')
    other = SipUA(t.sip_addr, local_ip='127.0.0.2', user='other', log=log, name='other')
    h.on_cleanup(other.close)
    h.check(Subscription(other, 'r0').subscribe().status == 200,
            'rate: another address (127.0.0.2) is not limited meanwhile')
    h.check('over --sip-rate' in t.log_grep('over --sip-rate'), 'rate: the bridge logs the source',
            t.log_grep('over --sip-rate', 2))
    time.sleep(1.1)
    h.check(a.dial('room').status == 200, 'rate: a second later the address may call again')


def ports(h):
    lo, hi = free_rtp_range(4)
    t = h.start_tutti(['--sip-rate', '0', '--rtp-ports', '%d-%d' % (lo, hi)], name='ports')
    a = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
    b = Caller(h, t.sip_addr, 'bob', 'PCMU', 700)
    c = Caller(h, t.sip_addr, 'carol', 'PCMU', 900)
    h.check(a.dial('p').status == 200 and b.dial('p').status == 200,
            'ports: two calls take the two port pairs')
    refused_503(h, c.dial('p'), 'ports: a third call finds no media port')
    a.dlg.bye()
    time.sleep(0.3)
    h.check(c.dial('p').status == 200, 'ports: a call that ended freed its pair for the next')


def main():
    with Harness('test_limits', time_limit=100) as h:
        caps(h)
        rate(h)
        ports(h)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
