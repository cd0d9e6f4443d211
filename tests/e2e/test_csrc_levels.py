#!/usr/bin/env python3
"""End-to-end test of the speakers' levels that tutti sends listeners who
ask for them (RFC 6465, csrc-audio-level, in RFC 8285 header extensions).

usage: test_csrc_levels.py [path/to/tutti]     (or env TUTTI_BIN)

One room:
    A  PCMU, a 700 Hz tone at -8 dBFS peak  (-11 dBov RMS)
    B  PCMU, a 1100 Hz tone at -24 dBFS peak (-27 dBov RMS)
    L  PCMU listener, offers a=extmap:5 csrc-audio-level
    O  Opus listener, offers a=extmap:3/recvonly csrc-audio-level
    N  PCMU listener, offers no extension
Judged from what each receives: L's and O's answers take the extension
under the offered id (O's "/sendonly"), N's has none; every packet L and
O receive carries one level per CSRC, the first bit 0, and the level beside
A's CSRC is within 3 dB of A's tone, B's of B's (all but the few frames
concealed when a sender is late; so the levels follow the
CSRC order, whichever speaker is listed first); N and the speakers (who
asked for nothing) get no extension; C, a speaker, hears B with B's CSRC.
A's and B's CSRCs are the SSRCs tutti sends them with. Then A hangs up
and C calls in with A's tone: the speakers are listed in the order they
joined, B first now, and the levels follow the new order.
"""

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log                      # noqa: E402
from sipua import build_offer                                 # noqa: E402

CSRC_URI = 'urn:ietf:params:rtp-hdrext:csrc-audio-level'
TONES = {'A': (700, -8.0), 'B': (1100, -24.0), 'C': (700, -8.0)}
TOLERANCE_DB = 3.0


def dbov(peak_dbfs):
    """A sine's RMS level in -dBov (RFC 6464's scale) from its peak."""
    return -(peak_dbfs + 20 * math.log10(math.sqrt(0.5)))


def dial(h, c, room, extmap=None):
    kw = {}
    if extmap:
        body, _ = build_offer('127.0.0.1', c.rtp.port, (c.codec,), extra=extmap)
        kw['raw_body'] = body.encode()
    r = c.dial(room, **kw)
    if not h.check(r.status == 200, '%s INVITE answered 200' % c.name, str(r.status)):
        raise SystemExit('caller %s could not join' % c.name)
    return c.dlg.answer


def judge_levels(h, c, ssrc_of, t0, t1):
    """Every packet c got in [t0, t1]: one level per CSRC, each speaker's
    within TOLERANCE_DB of its tone; returns the packets judged."""
    pkts = [p for p in c.rtp.packets_between(t0, t1) if p.pt == c.dlg.answer.codec_pt]
    need = int((t1 - t0) * 40)   # 80% of the 20 ms packets
    ext_id = {'L': 5, 'O': 3}[c.name]
    bad, seen, firsts = [], {n: [] for n in ssrc_of}, set()
    for p in pkts:
        el = p.ext() or {}
        lv = el.get(ext_id)
        if len(p.csrcs) != 2 or lv is None or len(lv) != len(p.csrcs) or \
                any(b & 0x80 for b in lv):
            bad.append(p)
            continue
        for csrc, level in zip(p.csrcs, lv):
            for n, s in ssrc_of.items():
                if csrc == s:
                    seen[n].append(level)
        firsts.add(p.csrcs[0])
    h.check(len(pkts) >= need and not bad,
            '%s: every packet carries one level per CSRC (element %d)' % (c.name, ext_id),
            '%d packets, %d without; e.g. %r' % (len(pkts), len(bad), bad[:1]))
    for n in ssrc_of:
        want = dbov(TONES[n][1])
        got = seen[n]
        med = sorted(got)[len(got) // 2] if got else None
        worst = max((abs(x - want) for x in got), default=99)
        off = sum(1 for x in got if abs(x - want) > TOLERANCE_DB)
        # A frame our Python sender sent late on a busy machine is
        # concealed, and its level is the concealment's: a few may be off,
        # never the median (a swapped order puts every one 16 dB off).
        h.check(got and abs(med - want) <= 1.0 and off <= max(2, len(got) // 20),
                '%s: the level beside %s\'s CSRC is %s\'s (%.1f -dBov)' % (c.name, n, n, want),
                'median %s, %d off by more than %.0f dB (worst %.1f), over %d packets' % (
                    med, off, TOLERANCE_DB, worst, len(got)))
    log('%s: first CSRC %s' % (c.name, ['%08x' % x for x in firsts]))
    return pkts


def main():
    with Harness('test_csrc_levels', time_limit=60) as h:
        t = h.start_tutti()
        room = 'csrclevels-%d' % os.getpid()
        a = Caller(h, t.sip_addr, 'A', 'PCMU', None)
        b = Caller(h, t.sip_addr, 'B', 'PCMU', None)
        lst = Caller(h, t.sip_addr, 'L', 'PCMU', None)
        opl = Caller(h, t.sip_addr, 'O', 'opus', None)
        n = Caller(h, t.sip_addr, 'N', 'PCMU', None)
        dial(h, a, room)
        dial(h, b, room)
        ans = dial(h, lst, room, 'a=extmap:5 %s\r\n' % CSRC_URI)
        h.check(('a=extmap:5 %s' % CSRC_URI) in ans.raw,
                'L: the answer takes csrc-audio-level under id 5',
                ans.raw.replace('\r\n', ' | '))
        ans = dial(h, opl, room, 'a=extmap:3/recvonly %s\r\n' % CSRC_URI)
        h.check(('a=extmap:3/sendonly %s' % CSRC_URI) in ans.raw,
                'O: a recvonly offer is answered sendonly under id 3',
                ans.raw.replace('\r\n', ' | '))
        ans = dial(h, n, room)
        h.check(CSRC_URI not in ans.raw and 'extmap' not in ans.raw,
                'N (no extension offered) gets none in the answer')
        for c, name in ((a, 'A'), (b, 'B')):
            f, peak = TONES[name]
            c.rtp.send_tone(f, dbfs=peak)
        time.sleep(2.5)
        t1 = time.monotonic()
        t0 = t1 - 1.5
        # The CSRC tutti names a speaker by is the SSRC it sends it with.
        ssrc_of = {}
        for c in (a, b):
            got = {p.ssrc for p in c.rtp.packets_between(t0, t1)}
            h.check(len(got) == 1, '%s gets its mix under one SSRC' % c.name, repr(got))
            ssrc_of[c.name] = got.pop() if got else None
        for c in (lst, opl):
            judge_levels(h, c, ssrc_of, t0, t1)
        first = {p.csrcs[0] for p in lst.rtp.packets_between(t0, t1) if p.csrcs}
        # A hangs up and C calls with A's tone: the speakers are listed in
        # the order they joined, so now B comes first, C second, and the
        # levels follow the new order.
        a.close()
        c2 = Caller(h, t.sip_addr, 'C', 'PCMU', None)
        dial(h, c2, room)
        c2.rtp.send_tone(*TONES['C'])
        time.sleep(2.0)
        t2 = time.monotonic()
        got = {p.ssrc for p in c2.rtp.packets_between(t2 - 1.0, t2)}
        ssrc_c = {'C': got.pop() if len(got) == 1 else None, 'B': ssrc_of['B']}
        judge_levels(h, lst, ssrc_c, t2 - 1.0, t2)
        now_first = {p.csrcs[0] for p in lst.rtp.packets_between(t2 - 1.0, t2) if p.csrcs}
        h.check(first == {ssrc_of['A']} and now_first == {ssrc_of['B']},
                'the CSRC order changed (A first, then B before C) and the levels with it',
                'first before %r, after %r' % (first, now_first))
        t0, t1 = t2 - 1.0, t2
        for c in (n, c2, b):
            pkts = c.rtp.packets_between(t0, t1)
            with_ext = [p for p in pkts if p.ext_profile is not None]
            h.check(len(pkts) >= 40 and not with_ext,
                    '%s (asked for no levels) gets packets without an extension' % c.name,
                    '%d packets, %d with one' % (len(pkts), len(with_ext)))
        pa = c2.rtp.packets_between(t0, t1)
        h.check(pa and all(p.csrcs == (ssrc_of['B'],) for p in pa),
                'C hears B, and only B is its CSRC', repr(pa[-1:]))
        an = lst.rtp.analyze([700, 1100], 1.0)
        h.check(an.dbfs[700] > an.dbfs[1100] + 10,
                'L hears A louder than B, as the levels say',
                '700 Hz %.1f, 1100 Hz %.1f dBFS' % (an.dbfs[700], an.dbfs[1100]))
        h.check(t.alive(), 'tutti still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
