#!/usr/bin/env python3
"""End-to-end test of NOTIFY timing with the default --notify-interval (1 s).

usage: test_subscribe_rate.py [path/to/tutti]     (or env TUTTI_BIN)

After a quiet period the first change reaches a subscriber within 100 ms;
changes that follow it are coalesced so that the subscriber gets at most one
NOTIFY per second, and the coalesced partial document still takes it to the
same state as a fresh full-state fetch.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log                 # noqa: E402
from confsub import drain, Subscription, ConfState, fetch        # noqa: E402
from sipua import SipUA                                   # noqa: E402


def main():
    with Harness('test_subscribe_rate', time_limit=90) as h:
        t = h.start_tutti()
        room = 'rate-%d' % os.getpid()
        ua = SipUA(t.sip_addr, user='watcher', log=log, name='watcher')
        fua = SipUA(t.sip_addr, user='fetcher', log=log, name='fetcher')
        h.on_cleanup(ua.close)
        h.on_cleanup(fua.close)

        sub = Subscription(ua, room)
        state = ConfState()
        r = sub.subscribe(expires=600)
        h.check(r.status == 200, 'SUBSCRIBE answered 200', '%d' % r.status)
        n = sub.wait_notify(2.0)
        if not h.check(n is not None and n.version == 1, 'initial full NOTIFY'):
            raise SystemExit('no NOTIFY')
        state.apply(n.doc)
        time.sleep(1.3)     # a quiet period longer than the interval

        # ---- first change after a quiet period: within 100 ms --------------------
        a = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
        a.dial(room)
        t_answer = time.monotonic()
        n = sub.wait_notify(2.0)
        h.check(n is not None and n.time - t_answer < 0.1,
                'the first change after a quiet period arrives within 100 ms',
                n and '%.1f ms after the 200 OK' % ((n.time - t_answer) * 1000))
        if n is None:
            raise SystemExit('no NOTIFY for the join')
        state.apply(n.doc)
        t_first = n.time

        # ---- a burst: coalesced to one NOTIFY a second -------------------------------
        burst = []
        for name, codec, f in (('bob', 'PCMA', 1000), ('carol', 'PCMU', 1700),
                               ('dave', 'PCMU', 2300)):
            c = Caller(h, t.sip_addr, name, codec, f)
            c.dial(room)
            burst.append(c)
        burst[0].dlg.reinvite('sendonly')
        n2 = sub.wait_notify(3.0)
        h.check(n2 is not None and n2.time - t_first >= 0.9,
                'the next NOTIFY waits for the interval (coalesced)',
                n2 and '%.0f ms after the previous' % ((n2.time - t_first) * 1000))
        if n2 is not None:
            h.check(n2.version == n.version + 1 and n2.state == 'partial',
                    'it is partial, at the next version',
                    '%s v%s' % (n2.state, n2.version))
            state.apply(n2.doc)
        time.sleep(1.5)
        extra = drain(sub, state)
        times = [n.time, n2.time if n2 else None] + [x.time for x in extra]
        times = [x for x in times if x is not None]
        gaps = [b - a for a, b in zip(times, times[1:])]
        h.check(all(g >= 0.9 for g in gaps), 'at most one NOTIFY per second',
                'gaps %s ms' % [round(g * 1000) for g in gaps])
        h.check(len(state.users) == 4, 'the coalesced documents carry all four joins',
                repr(sorted(state.users)))
        fresh = fetch(fua, room)
        f = ConfState()
        if fresh is not None:
            f.apply(fresh.doc)
        h.check(fresh is not None and f.canonical() == state.canonical(),
                'coalesced state equals a fresh full fetch')
        h.check(not state.errors, 'versions without gaps', repr(state.errors))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
