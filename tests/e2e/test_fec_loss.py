#!/usr/bin/env python3
"""End-to-end: the Opus in-band FEC tutti sends follows what its listeners
report in RTCP.

usage: test_fec_loss.py [path/to/tutti]     (or env TUTTI_BIN)

One room: S (PCMU) talks, a 440 Hz tone in bursts of 460 ms with 40 ms
pauses (libopus codes a tone that never pauses as noise, and noise without
FEC); A, B and C listen with Opus. A and C hear the shared mix through one
shared encoder; B offered usedtx=1, so it has another one.

The packets each listener receives are read from outside: an Opus packet
carries FEC when its SILK layer's LBRR flag is set (RFC 6716 4.2.3: after
one VAD flag per SILK frame, the first bits of the first frame's data),
and the API shows each one's fec_loss_percent.

1. Before any listener has reported, every encoder codes FEC for 10%: all
   three receive LBRR, and the API says 10.
2. All three send RTCP receiver reports (RFC 3550 6.4.2) about tutti's
   stream saying nothing was lost: FEC stops for all (API: 0), and no
   packet carries LBRR.
3. A reports 25% lost (fraction 64/256): A's shared encoder codes FEC for
   20% (its smoothed estimate, 18.75%, rounded up to a step). A gets LBRR
   again, and so does C, who shares A's encoder (the worst of its
   listeners); B, on its own encoder and clean, gets none (API: 20, 20, 0).
4. A's loss goes: after clean reports, no LBRR for anyone again.
"""

import os
import re
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log     # noqa: E402
from sipua import build_offer, OPUS_FMTP                 # noqa: E402

SETTLE = 0.5        # a report is applied on the next 20 ms tick; stats come each second
WINDOW = 1.5        # seconds of packets judged


def opus_has_lbrr(payload):
    """The LBRR flag of a mono Opus packet's first SILK frame (RFC 6716
    3.1, 4.2.3); None for a packet without a SILK layer or frame data."""
    if len(payload) < 2:
        return None
    toc = payload[0]
    config, code = toc >> 3, toc & 3
    if config >= 16:                    # CELT only
        return None
    if config < 12:                     # SILK only: 10, 20, 40, 60 ms
        ms = (10, 20, 40, 60)[config & 3]
    else:                               # hybrid: 10, 20 ms
        ms = (10, 20)[config & 1]
    silk_frames = max(1, ms // 20)
    off = 1
    if code == 2:                       # first frame's length, 1 or 2 bytes
        n = payload[1]
        off = 2 if n < 252 else 3
    elif code == 3:
        return None                     # tutti sends one frame a packet
    if off >= len(payload):
        return None
    return bool((payload[off] >> (7 - silk_frames)) & 1)


def rtcp_rr(sender_ssrc, source_ssrc, fraction, highest_seq):
    """A compound RTCP packet: an RR with one report block about
    source_ssrc saying fraction/256 of its packets were lost, and an SDES
    CNAME (RFC 3550 6.1)."""
    block = struct.pack('!IIIIII', source_ssrc, (fraction & 0xFF) << 24, highest_seq, 0, 0, 0)
    rr = struct.pack('!BBHI', 0x81, 201, (8 + len(block)) // 4 - 1, sender_ssrc) + block
    cname = b'fec@127.0.0.1'
    chunk = struct.pack('!IBB', sender_ssrc, 1, len(cname)) + cname + b'\0'
    chunk += b'\0' * (-len(chunk) % 4)
    sdes = struct.pack('!BBH', 0x81, 202, (4 + len(chunk)) // 4 - 1) + chunk
    return rr + sdes


def send_rr(c, fraction):
    """c reports on what tutti sends it, to tutti's RTCP address."""
    a = c.dlg.answer
    m = re.search(r'a=rtcp:(\d+)', a.raw)
    dest = (a.conn, int(m.group(1)) if m else a.port + 1)
    pk = c.rtp.packets_between(time.monotonic() - 2.0)
    if not pk:
        return False
    src = pk[-1].ssrc
    c.rtp.send_raw(rtcp_rr(0x5e000000 | ord(c.name[0]), src, fraction, pk[-1].seq),
                   dest=dest, rtcp=True)
    return True


def lbrr_counts(c, t0, t1):
    """(packets with LBRR, packets with a SILK layer, all packets) of c's in [t0, t1]."""
    flags = [opus_has_lbrr(p.payload) for p in c.rtp.packets_between(t0, t1)]
    silk = [f for f in flags if f is not None]
    return sum(silk), len(silk), len(flags)


def fec_percent(h, t, room):
    r = http_call(t.http_port, 'GET', '/api/v1/rooms/%s/participants' % room)
    h.check(r.status == 200, 'GET participants -> 200', repr(r)[:200])
    return {p['uri'].split(':')[1].split('@')[0]: (p.get('stats') or {}).get('fec_loss_percent')
            for p in (r.json() or [])}


def judge(h, t, room, listeners, want_fec, api_want, what):
    """Over the next WINDOW seconds, each listener's packets carry LBRR
    (most of those with a SILK layer) or none, as want_fec says; the API
    shows api_want."""
    t0 = time.monotonic()
    time.sleep(WINDOW)
    t1 = time.monotonic()
    for c in listeners:
        fec, silk, n = lbrr_counts(c, t0, t1)
        log('%s, %s: %d of %d SILK packets carry LBRR (%d packets)' % (what, c.name, fec, silk, n))
        h.check(n >= WINDOW * 40, '%s: %s receives its packets' % (what, c.name), '%d' % n)
        if want_fec[c.name]:
            h.check(silk >= n / 2 and fec >= silk / 2,
                    '%s: %s\'s packets carry FEC (LBRR)' % (what, c.name),
                    '%d of %d SILK packets, %d packets' % (fec, silk, n))
        else:
            h.check(fec == 0, '%s: %s\'s packets carry no FEC' % (what, c.name),
                    '%d of %d SILK packets, %d packets' % (fec, silk, n))
    time.sleep(0.6)     # the API's figures are a second old at most
    api = fec_percent(h, t, room)
    for c in listeners:
        h.check(api.get(c.name.lower()) == api_want[c.name],
                '%s: the API says %s\'s fec_loss_percent is %s' % (what, c.name, api_want[c.name]),
                repr(api))


def main():
    with Harness('test_fec_loss', time_limit=60) as h:
        t = h.start_tutti()
        room = 'fec-loss-%d' % os.getpid()
        s = Caller(h, t.sip_addr, 'S', 'PCMU', 440)
        s.rtp.tone_gate = (23, 2)
        lis = {n: Caller(h, t.sip_addr, n, 'opus', None) for n in 'ABC'}
        for c in [s] + list(lis.values()):
            kw = {}
            if c.name == 'B':
                body, _ = build_offer('127.0.0.1', c.rtp.port, ('opus',),
                                      opus_fmtp=OPUS_FMTP + ';usedtx=1')
                kw['raw_body'] = body.encode()
            r = c.dial(room, **kw)
            if not h.check(r.status == 200, '%s INVITE answered 200' % c.name, str(r.status)):
                raise SystemExit('caller %s could not join' % c.name)
        h.check('usedtx=1' in lis['B'].dlg.answer.raw, "B's answer says usedtx=1",
                lis['B'].dlg.answer.raw.replace('\r\n', ' | '))
        order = [lis[n] for n in 'ABC']
        time.sleep(1.0)     # join tones, S becomes a speaker

        # 1. nobody has reported: 10% for everyone
        judge(h, t, room, order, {'A': True, 'B': True, 'C': True},
              {'A': 10, 'B': 10, 'C': 10}, 'before any report')

        # 2. all report no loss
        for c in order:
            h.check(send_rr(c, 0), '%s sends an RR' % c.name)
        time.sleep(SETTLE)
        judge(h, t, room, order, {'A': False, 'B': False, 'C': False},
              {'A': 0, 'B': 0, 'C': 0}, 'all report no loss')

        # 3. A reports 25% lost: A and C share an encoder, B does not
        send_rr(lis['A'], 64)
        time.sleep(SETTLE)
        judge(h, t, room, order, {'A': True, 'B': False, 'C': True},
              {'A': 20, 'B': 0, 'C': 20}, 'A reports loss')

        # 4. A's path is clean again (the estimate comes down within a few reports)
        for _ in range(5):
            send_rr(lis['A'], 0)
            time.sleep(0.05)
        time.sleep(SETTLE)
        judge(h, t, room, order, {'A': False, 'B': False, 'C': False},
              {'A': 0, 'B': 0, 'C': 0}, "A's loss gone")

        code, _ = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
