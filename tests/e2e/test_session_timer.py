#!/usr/bin/env python3
"""End-to-end test of session timers (RFC 4028) against ghost callers.

usage: test_session_timer.py [path/to/tutti]     (or env TUTTI_BIN)

tutti runs with --session-expires 90 (RFC 4028's least Min-SE), so the
test takes about 70 s, most of it waiting.
  alice  supports timers and offers to refresh (refresher=uac), then never
         does: she vanished without a BYE.  The 200 carries
         Session-Expires: 90;refresher=uac and Require: timer; before 90 s
         the bridge sends her a BYE itself, logs why, and a subscriber sees
         her deleted with disconnection-method failed.
  bob    the same, but refreshes with an UPDATE after 30 s (answered 200
         with Session-Expires): he is still in the room after alice is gone.
  carol  does not support timers: the bridge refreshes her session itself
         (an UPDATE or re-INVITE before half of 90 s) and keeps her.
  ghost  sends an INVITE and vanishes: our 200 is never ACKed.  32 s later
         (64 x T1) the bridge takes it out of the room, logs why, and the
         subscriber sees it deleted with disconnection-method failed.
"""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, LOOPBACK  # noqa: E402
from confsub import Subscription, ConfState, drain             # noqa: E402
from sipua import SipUA                                         # noqa: E402

TIMER = ['Supported: timer', 'Session-Expires: 90;refresher=uac']


def main():
    with Harness('test_session_timer', time_limit=150) as h:
        t = h.start_tutti(['--session-expires', '90'])
        room = 'st-%d' % os.getpid()
        wua = SipUA(t.sip_addr, user='watcher', log=log, name='watcher')
        h.on_cleanup(wua.close)
        sub = Subscription(wua, room)
        sub.subscribe(expires=600)
        state = ConfState()

        t0 = time.monotonic()
        alice = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
        r = alice.dial(room, extra_headers=TIMER)
        h.check(r.status == 200 and (r.get('session-expires') or '').replace(' ', '')
                == '90;refresher=uac' and 'timer' in (r.get('require') or ''),
                "alice's 200 carries Session-Expires: 90;refresher=uac and Require: timer",
                '%r %r' % (r.get('session-expires'), r.get('require')))
        bob = Caller(h, t.sip_addr, 'bob', 'PCMA', 1000)
        r = bob.dial(room, extra_headers=TIMER)
        h.check(r.status == 200, 'bob joins with a session timer', '%d' % r.status)
        carol = Caller(h, t.sip_addr, 'carol', 'PCMU', 1500)
        r = carol.dial(room)
        h.check(r.status == 200 and 'refresher=uas' in (r.get('session-expires') or ''),
                'carol, without timer support, is told the bridge refreshes (refresher=uas)',
                repr(r.get('session-expires')))

        ghost = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ghost.bind((LOOPBACK, 0))
        h.on_cleanup(ghost.close)
        gp = ghost.getsockname()[1]
        sdp = ('v=0\r\no=g 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n'
               'm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n' % (LOOPBACK, LOOPBACK))
        ghost.sendto(('INVITE sip:%s@%s:%d SIP/2.0\r\n'
                      'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKghost%d;rport\r\n'
                      'From: <sip:ghost@%s:%d>;tag=g1\r\nTo: <sip:%s@%s>\r\n'
                      'Call-ID: ghost-%d@e2e\r\nCSeq: 1 INVITE\r\n'
                      'Contact: <sip:ghost@%s:%d>\r\nMax-Forwards: 70\r\n'
                      'Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s' % (
                          room, LOOPBACK, t.sip_port, LOOPBACK, gp, os.getpid(), LOOPBACK, gp,
                          room, LOOPBACK, os.getpid(), LOOPBACK, gp, len(sdp), sdp)).encode(),
                     t.sip_addr)
        t_ghost = time.monotonic()

        def in_room(who):
            parts = http_call(t.http_port, 'GET',
                              '/api/v1/rooms/%s/participants' % room).json() or []
            return any(p['uri'].startswith('sip:%s@' % who) for p in parts)

        time.sleep(1.0)
        h.check(in_room('ghost'), 'the ghost, answered 200, is in the room at first')

        time.sleep(max(0.0, t_ghost + 30 - time.monotonic()))
        r = bob.dlg.request('UPDATE', extra_headers=TIMER)
        h.check(r.status == 200 and (r.get('session-expires') or '').startswith('90'),
                "bob's refresh by UPDATE is answered 200 with Session-Expires",
                '%d %r' % (r.status, r.get('session-expires')))

        time.sleep(max(0.0, t_ghost + 34 - time.monotonic()))
        bodies_ghost = [n.body for n in drain(sub, state)]
        h.check(not in_room('ghost') and 'no ACK for our 200 OK' in t.log_grep('no ACK'),
                'the ghost, who never ACKed, is out of the room after 32 s, with the reason '
                'logged', t.log_grep('no ACK', 2))

        got = alice.dlg.bye_received.wait(max(0.0, 88 - (time.monotonic() - t0)))
        dt = time.monotonic() - t0
        h.check(got and dt < 90, 'alice, who never refreshed, gets a BYE before 90 s',
                '%s after %.1f s' % (got, dt))
        for _ in range(20):     # logged once alice's answer to the BYE is in
            if 'session timer expired' in t.log_grep('session timer expired'):
                break
            time.sleep(0.1)
        h.check('session timer expired' in t.log_grep('session timer expired'),
                'the bridge logs why it hung up', t.log_grep('session timer', 2))
        time.sleep(0.5)
        bodies = [n.body for n in drain(sub, state)]
        h.check(any('sip:ghost@' in b and 'state="deleted"' in b and
                    '<disconnection-method>failed<' in b for b in bodies_ghost),
                'a subscriber sees the ghost deleted with disconnection-method failed',
                ' | '.join(b[:300] for b in bodies_ghost[-3:]))
        h.check(any('sip:alice@' in b and 'state="deleted"' in b and
                    '<disconnection-method>failed<' in b for b in bodies),
                'a subscriber sees alice deleted with disconnection-method failed',
                ' | '.join(b[:300] for b in bodies[-3:]))
        h.check(not bob.dlg.bye_received.is_set(), 'bob, who refreshed, is still in the room')
        refresh = [m for _, m in carol.dlg.requests_received if m.method in ('UPDATE', 'INVITE')]
        h.check(bool(refresh) and not carol.dlg.bye_received.is_set(),
                'the bridge refreshed carol itself and kept her',
                repr([m.method for m in refresh]))
        time.sleep(1.0)
        an = bob.rtp.analyze([1000, 1500], 0.8)
        h.check(an.dbfs[1500] > -35, 'bob and carol still hear each other',
                '%.1f dBFS' % an.dbfs[1500])
        h.check(t.alive(), 'tutti is still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
