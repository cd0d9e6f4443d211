#!/usr/bin/env python3
"""Speaker selection, as a listener hears it: only the loudest four talk.

usage: test_speakers.py [path/to/tutti]     (or env TUTTI_BIN)

Six PCMU callers send tones of distinct frequencies at distinct levels,
5 dB apart, the quietest joining first (so that the louder ones have to take
places from them); a seventh caller (L) only listens.  With the default
--max-speakers 4, L must hear exactly the four loudest tones and, in place of
the other two, silence; the CSRC lists of its packets must name exactly
those four.  A talker who is left out hears the four too; one of the four
hears the other three.  Then the loudest stops talking: after its hang-over
the fifth takes its place.

Shared encodes: E, F and L all hear the shared mix in PCMU at 20 ms, so they
must receive the same payload bytes, each under its own SSRC, and /metrics
must count about 5 encodes per tick (the four speakers' own mixes and one
shared), not 7.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log    # noqa: E402

# name: (frequency Hz, level dBFS as rtpaudio measures it), loudest first
TALKERS = {'A': (500, -6), 'B': (800, -11), 'C': (1100, -16),
           'D': (1400, -21), 'E': (1700, -26), 'F': (2000, -31)}
ALL_F = sorted(f for f, _ in TALKERS.values())
HEARD_WITHIN = 6.0        # dB below the level sent (the limiter may turn it down)
# "Heard as silence": this far below the level sent and below SILENT_DBFS (the
# floor of G.711 quantization and intermodulation of the four tones heard).
SILENT_BELOW = 20.0
SILENT_DBFS = -50.0


def judge(h, an, who, expect_heard, expect_silent):
    for n in expect_heard:
        f, db = TALKERS[n]
        h.check(db - HEARD_WITHIN < an.dbfs[f] < db + 1.0,
                '%s hears %s (%d Hz)' % (who, n, f),
                '%.1f dBFS, sent at %d dBFS' % (an.dbfs[f], db))
    for n in expect_silent:
        f, db = TALKERS[n]
        limit = min(db - SILENT_BELOW, SILENT_DBFS)
        h.check(an.dbfs[f] < limit,
                '%s does not hear %s (%d Hz): not among the loudest' % (who, n, f),
                '%.1f dBFS, sent at %d dBFS; need below %.0f' % (an.dbfs[f], db, limit))


def metric(t, name):
    r = http_call(t.http_port, 'GET', '/metrics')
    for ln in r.body.decode().splitlines():
        if ln.startswith(name + ' '):
            return float(ln.split()[1])
    return 0.0


def check_shared(h, t, listeners):
    """The listeners of the shared mix get the same bytes; ~5 encodes a tick."""
    e0, t0 = metric(t, 'tutti_encodes_total'), metric(t, 'tutti_ticks_total')
    time.sleep(2.0)
    e1, t1 = metric(t, 'tutti_encodes_total'), metric(t, 'tutti_ticks_total')
    per_tick = (e1 - e0) / max(1.0, t1 - t0)
    h.check(4.5 <= per_tick <= 5.5,
            'about 5 encodes a tick for 7 listeners (4 speakers + 1 shared)',
            '%.2f encodes per tick' % per_tick)
    now = time.monotonic()
    pk = {c.name: c.rtp.packets_between(now - 1.0) for c in listeners}
    ref = {p.payload for p in pk[listeners[0].name]}
    for c in listeners[1:]:
        mine = [p.payload for p in pk[c.name]]
        same = sum(1 for x in mine if x in ref)
        h.check(mine and same >= 0.9 * len(mine),
                '%s gets the same payload bytes as %s (one encode)' % (
                    c.name, listeners[0].name),
                '%d of %d payloads identical' % (same, len(mine)))
    ssrcs = {n: {p.ssrc for p in v} for n, v in pk.items()}
    h.check(all(len(s) == 1 for s in ssrcs.values()) and
            len(set.union(*ssrcs.values())) == len(listeners),
            'each listener of the shared encode has its own SSRC', repr(ssrcs))


def main():
    with Harness('test_speakers', time_limit=80) as h:
        t = h.start_tutti()
        room = 'speakers-%d' % os.getpid()
        callers = {}
        for n in sorted(TALKERS, reverse=True):          # F (quietest) first
            c = Caller(h, t.sip_addr, n, 'PCMU', None)
            r = c.dial(room)
            if not h.check(r.status == 200, '%s INVITE answered 200' % n, str(r.status)):
                raise SystemExit('caller %s could not join' % n)
            c.rtp.send_tone(TALKERS[n][0], dbfs=TALKERS[n][1])
            callers[n] = c
            time.sleep(0.3)
        lst = Caller(h, t.sip_addr, 'L', 'PCMU', None)
        r = lst.dial(room)
        h.check(r.status == 200, 'L INVITE answered 200', str(r.status))
        time.sleep(3.0)

        an = lst.rtp.analyze(ALL_F, 1.5)
        log('L:  %s' % an)
        for n in ('E', 'A'):
            log('%s:  %s' % (n, callers[n].rtp.analyze(ALL_F, 1.5)))
        judge(h, an, 'L', 'ABCD', 'EF')
        judge(h, callers['E'].rtp.analyze(ALL_F, 1.5), 'E (left out)', 'ABCD', 'F')
        judge(h, callers['A'].rtp.analyze(ALL_F, 1.5), 'A (a speaker)', 'BCD', 'EF')

        # The CSRC list of L's packets names the four loudest, as the SSRCs
        # the bridge sends to each of them with.
        ssrc_of = {}
        for n, c in callers.items():
            pk = c.rtp.packets_between(time.monotonic() - 1.0)
            if pk:
                ssrc_of[pk[-1].ssrc] = n
        pk = lst.rtp.packets_between(time.monotonic() - 1.0)
        named = [sorted(ssrc_of.get(x, '?') for x in p.csrcs) for p in pk]
        good = [x for x in named if x == ['A', 'B', 'C', 'D']]
        h.check(pk and len(good) >= 0.95 * len(pk),
                "L's packets carry CSRCs naming exactly A, B, C, D",
                '%d of %d; e.g. %s' % (len(good), len(pk), named[:3]))

        # ---- shared encodes ----------------------------------------------------
        check_shared(h, t, [callers['E'], callers['F'], lst])

        # ---- the loudest stops: the fifth takes its place --------------------
        callers['A'].rtp.send_silence()
        time.sleep(2.5)
        an = lst.rtp.analyze(ALL_F, 1.0)
        log('L after A stopped: %s' % an)
        judge(h, an, 'L (A silent)', 'BCDE', 'F')

        code, dt = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
