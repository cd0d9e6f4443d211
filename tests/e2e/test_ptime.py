#!/usr/bin/env python3
"""Packet times from 10 to 60 ms, each caller its own, seen from outside.

usage: test_ptime.py [path/to/tutti]     (or env TUTTI_BIN)

One room, three callers, each offering its own a=ptime and sending packets
of that length with a tone at -12 dBFS:
    A  PCMU, 10 ms    440 Hz
    B  PCMU, 60 ms   1100 Hz
    C  Opus, 40 ms   1700 Hz
Each answer must carry the caller's ptime; tutti must send each caller
packets of its own length (PCMU: 80 and 480 bytes, RTP timestamps 80 and
480 apart; Opus: 1920 apart) at its rate (100, 16.7 and 25 a second);
each must hear the two others and not itself; and the API must count
their packets in at their rates, with no loss.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log     # noqa: E402
from sipua import build_offer                           # noqa: E402

CALLERS = {  # name: (codec, ptime ms, tone Hz, RTP clock)
    'A': ('PCMU', 10, 440, 8000),
    'B': ('PCMU', 60, 1100, 8000),
    'C': ('opus', 40, 1700, 48000),
}
ALL_F = sorted(v[2] for v in CALLERS.values())
HEAR_MIN_DBFS = -35.0
ABSENT_MARGIN = 30.0


def parts_by_user(h, port, room):
    r = http_call(port, 'GET', '/api/v1/rooms/%s/participants' % room)
    h.check(r.status == 200, 'GET participants -> 200', repr(r)[:200])
    return {p['uri'].split(':')[1].split('@')[0]: p for p in (r.json() or [])}


def main():
    with Harness('test_ptime', time_limit=90) as h:
        t = h.start_tutti()
        room = 'ptime-%d' % os.getpid()
        c = {}
        for n, (codec, ptime, freq, _) in CALLERS.items():
            x = Caller(h, t.sip_addr, n, codec, freq)
            x.rtp.ptime = ptime / 1000.0     # what our endpoint sends
            body, _ = build_offer('127.0.0.1', x.rtp.port, (codec,))
            body = body.replace('a=ptime:20', 'a=ptime:%d' % ptime)
            r = x.dial(room, raw_body=body.encode())
            if not h.check(r.status == 200, '%s (%s, %d ms) INVITE answered 200' % (
                    n, codec, ptime), str(r.status)):
                raise SystemExit('caller %s could not join' % n)
            h.check(x.dlg.answer.ptime == ptime, "%s's answer says a=ptime:%d" % (n, ptime),
                    repr(x.dlg.answer.ptime))
            c[n] = x

        time.sleep(3.0)
        t_end = time.monotonic()
        for n, x in c.items():
            codec, ptime, freq, clock = CALLERS[n]
            an = x.rtp.analyze(ALL_F, 1.5, end=t_end)
            log('%s hears: %s' % (n, an))
            for m, (_, _, f, _) in CALLERS.items():
                if m == n:
                    continue
                h.check(an.dbfs[f] > HEAR_MIN_DBFS,
                        '%s (%d ms) hears %s (%d Hz, %d ms)' % (n, ptime, m, f, CALLERS[m][1]),
                        '%.1f dBFS' % an.dbfs[f])
            others = [an.dbfs[CALLERS[m][2]] for m in CALLERS if m != n]
            h.check(an.dbfs[freq] < min(others) - ABSENT_MARGIN, '%s does not hear itself' % n,
                    '%.1f dBFS vs %.1f' % (an.dbfs[freq], min(others)))

            pk = sorted((p for p in x.rtp.packets_between(t_end - 2.0)
                         if p.pt == x.dlg.answer.codec_pt and p.t <= t_end), key=lambda p: p.t)
            steps = {(b.ts - a.ts) & 0xFFFFFFFF for a, b in zip(pk, pk[1:])
                     if b.seq == (a.seq + 1) & 0xFFFF}
            step = clock * ptime // 1000
            h.check(steps == {step}, 'tutti sends %s packets of %d ms (timestamps %d apart)' % (
                n, ptime, step), 'steps %r' % steps)
            rate = len(pk) / 2.0
            want = 1000.0 / ptime
            h.check(abs(rate - want) <= 0.15 * want + 1,
                    'tutti sends %s %.1f packets a second' % (n, want), '%.1f' % rate)
            if codec == 'PCMU':
                sizes = {len(p.payload) for p in pk}
                h.check(sizes == {8 * ptime}, '%s gets %d-byte PCMU payloads' % (n, 8 * ptime),
                        repr(sizes))

        parts = parts_by_user(h, t.http_port, room)
        for n, (_, ptime, _, _) in CALLERS.items():
            st = parts.get(n.lower(), {}).get('stats') or {}
            log('%s stats: %r' % (n, st))
            # at least 2.5 s of packets; the API's figures are a second old at most
            h.check(st.get('packets_in', 0) >= 2.0 * 1000 / ptime,
                    "the API counts %s's %d ms packets in" % (n, ptime), repr(st))
            # our Python senders are late now and then on a busy machine,
            # most often at 10 ms; the jitter buffer lets up to 4 % be
            # late rather than deepen (JBUF_MAX_LATE_RATE), give or take
            # the packet it learns from
            h.check(st.get('packets_lost', -1) == 0 and
                    0 <= st.get('late', -1) <= 0.04 * st.get('packets_in', 0) + 1,
                    "%s's packets: none lost, at most 4 %% late" % n, repr(st))
        return h.result()


if __name__ == '__main__':
    sys.exit(main())
