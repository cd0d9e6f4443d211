#!/usr/bin/env python3
"""End-to-end: a bridge that was stopped for a moment (a host that took the
CPU away, a scheduler) catches up the ticks it missed, and counts the ones
it could not.

usage: test_catch_up.py [path/to/tutti]     (or env TUTTI_BIN)

A talks (PCMU, 440 Hz), L listens (PCMU, silence), in one room. The test
stops the whole tutti process with SIGSTOP and resumes it with SIGCONT:

1. For 60 ms (three ticks): L gets every packet of the 1.5 s around the
   stop (75, at most 2 fewer), still hears A, the stop shows in
   tutti_late_ticks_total (at least 2 more) and not in
   tutti_missed_ticks_total (no more), and /healthz stays ok: nothing was
   lost, so nothing is failing.
2. For 400 ms (twenty ticks): the mixer catches up at most 5 and misses
   the rest (tutti_missed_ticks_total 10 to 17 more), L gets about 300 ms
   less than the window (a gap, not a 400 ms burst), still hears A after
   it, and /healthz says the mixers missed ticks.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, metric   # noqa: E402

HEAR_MIN_DBFS = -35.0   # A's tone is sent at -12 dBFS
WINDOW_S = 1.5
PKTS_PER_S = 50
CATCH_UP = 5            # mixer/mixer.c MIXER_CATCH_UP


def ticks(t):
    return (metric(t.http_port, 'tutti_late_ticks_total'),
            metric(t.http_port, 'tutti_missed_ticks_total'))


def freeze(t, seconds):
    """Stops tutti for seconds; returns when it was stopped and resumed."""
    os.kill(t.proc.pid, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        time.sleep(seconds)
    finally:
        os.kill(t.proc.pid, signal.SIGCONT)
    return t0, time.monotonic()


def health(t):
    r = http_call(t.http_port, 'GET', '/healthz')
    return r.status, r.body.decode(errors='replace')


def main():
    with Harness('test_catch_up', time_limit=90) as h:
        t = h.start_tutti()
        room = 'catchup-%d' % os.getpid()
        a = Caller(h, t.sip_addr, 'A', 'PCMU', 440)
        lis = Caller(h, t.sip_addr, 'L', 'PCMU', None)
        for c in (a, lis):
            r = c.dial(room)
            if not h.check(r.status == 200, '%s joins' % c.name, '%d %s' % (r.status, r.reason)):
                raise SystemExit('%s could not join' % c.name)
        time.sleep(2.0)
        health(t)                               # the baseline of its missed-tick rule

        # ---- 60 ms: caught up -------------------------------------------
        late0, missed0 = ticks(t)
        t_stop, t_cont = freeze(t, 0.060)
        time.sleep(WINDOW_S / 2 + 0.5)
        late1, missed1 = ticks(t)
        an = lis.rtp.analyze([440], start=t_stop - WINDOW_S / 2, end=t_stop + WINDOW_S / 2)
        log('60 ms stop (%.0f ms measured): %s; late %+d, missed %+d' % (
            1000 * (t_cont - t_stop), an, late1 - late0, missed1 - missed0))
        need = int(WINDOW_S * PKTS_PER_S) - 2
        h.check(an.n_packets >= need, 'L gets every packet around a 60 ms stop',
                '%d packets in %.1f s, need >= %d' % (an.n_packets, WINDOW_S, need))
        h.check(an.dbfs[440] > HEAR_MIN_DBFS, 'L hears A around the 60 ms stop',
                '%.1f dBFS' % an.dbfs[440])
        h.check(late1 - late0 >= 2, 'the stop shows as late ticks',
                '%+d tutti_late_ticks_total' % (late1 - late0))
        h.check(missed1 == missed0, 'no tick of a 60 ms stop is missed',
                '%+d tutti_missed_ticks_total' % (missed1 - missed0))
        st, body = health(t)
        h.check(st == 200, '/healthz is ok after a stop that was caught up',
                '%d %s' % (st, body))

        # ---- 400 ms: 5 caught up, the rest missed ---------------------------
        t_stop, t_cont = freeze(t, 0.400)
        time.sleep(WINDOW_S / 2 + 0.5)
        late2, missed2 = ticks(t)
        stopped = t_cont - t_stop
        an = lis.rtp.analyze([440], start=t_stop - WINDOW_S / 2,
                             end=t_stop + WINDOW_S / 2 + stopped)
        after = lis.rtp.analyze([440], start=t_cont + 0.2, end=t_cont + WINDOW_S / 2)
        log('400 ms stop (%.0f ms measured): %s; late %+d, missed %+d; after it: %s' % (
            1000 * stopped, an, late2 - late1, missed2 - missed1, after))
        frames = round(stopped * PKTS_PER_S)
        h.check(late2 - late1 >= frames - 2, 'every tick of a 400 ms stop was late',
                '%+d tutti_late_ticks_total, %d ticks stopped' % (late2 - late1, frames))
        want = (frames - 1 - CATCH_UP - 3, frames - 1 - CATCH_UP + 2)
        h.check(want[0] <= missed2 - missed1 <= want[1],
                'the mixer caught up %d ticks of %d and missed the rest' % (CATCH_UP, frames),
                '%+d tutti_missed_ticks_total, want %d..%d' % (missed2 - missed1, *want))
        expect = round((WINDOW_S + stopped) * PKTS_PER_S) - (missed2 - missed1)
        h.check(abs(an.n_packets - expect) <= 3,
                'L gets the window less the missed ticks, no burst of them',
                '%d packets in %.2f s, expected %d' % (an.n_packets, WINDOW_S + stopped, expect))
        h.check(after.dbfs[440] > HEAR_MIN_DBFS, 'L hears A after the 400 ms stop',
                '%.1f dBFS' % after.dbfs[440])
        st, body = health(t)
        h.check(st == 503 and 'missed' in body, '/healthz says the mixers missed ticks',
                '%d %s' % (st, body))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
