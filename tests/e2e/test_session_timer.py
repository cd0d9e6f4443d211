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
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log                       # noqa: E402
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

        time.sleep(30)
        r = bob.dlg.request('UPDATE', extra_headers=TIMER)
        h.check(r.status == 200 and (r.get('session-expires') or '').startswith('90'),
                "bob's refresh by UPDATE is answered 200 with Session-Expires",
                '%d %r' % (r.status, r.get('session-expires')))

        got = alice.dlg.bye_received.wait(max(0.0, 88 - (time.monotonic() - t0)))
        dt = time.monotonic() - t0
        h.check(got and dt < 90, 'alice, who never refreshed, gets a BYE before 90 s',
                '%s after %.1f s' % (got, dt))
        h.check('session timer expired' in t.log_grep('session timer expired'),
                'the bridge logs why it hung up', t.log_grep('session timer', 2))
        time.sleep(0.5)
        bodies = [n.body for n in drain(sub, state)]
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
