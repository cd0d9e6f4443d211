#!/usr/bin/env python3
"""Per-participant media statistics, seen from outside: the API, /metrics and
the line logged when a call ends.

usage: test_media_stats.py [path/to/tutti]     (or env TUTTI_BIN)

Two PCMU callers in one room send tones in real time.  A's "network" loses
every 10th packet (by sequence number): the API must show about 10 % loss
for A and none for B, with packets in and out, jitter and concealed frames.
When both have hung up, /metrics must hold exactly what the callers sent
(packets in) and lost, and tutti's log one summary line per call.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log     # noqa: E402

METRIC = re.compile(r'^(tutti_[a-z_]+) ([0-9.e+]+)$')
SUMMARY = re.compile(r'part=(\d+) ended after ([0-9.]+) s: codec (\S+), packets in (\d+) '
                     r'out (\d+), lost (\d+) \(([0-9.]+)%\), jitter ([0-9.]+) ms, '
                     r'late (\d+), discarded (\d+), concealed (\d+), fec recovered (\d+)')
STATS_KEYS = ['packets_in', 'packets_out', 'packets_lost', 'loss_percent', 'jitter_ms',
              'late', 'discarded', 'concealed_frames', 'fec_recovered_frames', 'foreign_dropped',
              'srtp_failed', 'latched', 'undecoded_silence', 'fec_loss_percent']


def metrics(h, port):
    r = http_call(port, 'GET', '/metrics')
    h.check(r.status == 200, 'GET /metrics -> 200', str(r.status))
    out = {}
    for ln in r.body.decode().splitlines():
        m = METRIC.match(ln)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def parts_by_uri(h, port, room):
    r = http_call(port, 'GET', '/api/v1/rooms/%s/participants' % room)
    h.check(r.status == 200, 'GET participants -> 200', repr(r)[:200])
    return {p['uri'].split(':')[1].split('@')[0]: p for p in (r.json() or [])}


def main():
    with Harness('test_media_stats', time_limit=60) as h:
        t = h.start_tutti()
        port = t.http_port
        room = 'stats-%d' % os.getpid()
        a = Caller(h, t.sip_addr, 'A', 'PCMU', 440)
        b = Caller(h, t.sip_addr, 'B', 'PCMU', 1000)
        a.rtp.drop_every = 10
        for c in (a, b):
            r = c.dial(room)
            if not h.check(r.status == 200, '%s INVITE answered 200' % c.name, str(r.status)):
                raise SystemExit('caller %s could not join' % c.name)

        # ---- during the call: the API ---------------------------------------
        time.sleep(4.5)
        parts = parts_by_uri(h, port, room)
        log('API: %r' % {k: v.get('stats') for k, v in parts.items()})
        sa, sb = (parts.get(n, {}).get('stats') or {} for n in ('a', 'b'))
        for n, s in (('A', sa), ('B', sb)):
            h.check(sorted(s) == sorted(STATS_KEYS), '%s: stats has every field' % n,
                    repr(sorted(s)))
            h.check(s.get('packets_in', 0) >= 150 and s.get('packets_out', 0) >= 150,
                    '%s: at least 3 s of packets in and out' % n, repr(s))
            h.check(0 <= s.get('jitter_ms', -1) < 20, '%s: jitter in ms, small on loopback' % n,
                    repr(s.get('jitter_ms')))
        h.check(8.0 <= sa.get('loss_percent', 0) <= 12.0,
                'A (every 10th packet lost) shows about 10 % loss', repr(sa))
        want = sa.get('packets_lost', 0) / max(1, sa.get('packets_lost', 0) + sa.get('packets_in', 0))
        h.check(abs(100 * want - sa.get('loss_percent', -1)) < 0.2,
                'A: loss_percent is lost out of lost + received', repr(sa))
        h.check(sa.get('concealed_frames', 0) >= sa.get('packets_lost', 1) // 2,
                'A: lost packets are concealed', repr(sa))
        h.check(sb.get('packets_lost', -1) == 0 and sb.get('loss_percent', -1) == 0,
                'B (nothing lost) shows no loss', repr(sb))
        m = metrics(h, port)
        log('/metrics during: %r' % {k: v for k, v in m.items() if 'packets' in k or 'conceal' in k})
        h.check(m.get('tutti_packets_lost_total', 0) >= sa.get('packets_lost', 1) * 0.7,
                '/metrics counts the loss during the call',
                '%s vs A %s' % (m.get('tutti_packets_lost_total'), sa.get('packets_lost')))

        # ---- after the calls: exact totals and the summary lines -----------
        for c in (a, b):
            c.rtp.stop_sending()
        time.sleep(0.3)
        for c in (a, b):
            r = c.dlg.bye()
            h.check(r.status == 200, '%s: BYE answered 200' % c.name, str(r.status))
        time.sleep(0.5)
        m = metrics(h, port)
        log('/metrics after: %r' % {k: v for k, v in m.items() if 'packets' in k or 'conceal' in k})
        sent = a.rtp.sent + b.rtp.sent
        h.check(m.get('tutti_packets_in_total') == sent,
                '/metrics packets in = what the callers sent',
                '%s vs %d' % (m.get('tutti_packets_in_total'), sent))
        lost = m.get('tutti_packets_lost_total', -1)
        h.check(a.rtp.dropped - 1 <= lost <= a.rtp.dropped,
                '/metrics packets lost = what A\'s network lost',
                '%s vs %d dropped (the last may go unseen)' % (lost, a.rtp.dropped))
        ratio = 100.0 * lost / max(1, lost + a.rtp.sent)
        h.check(8.0 <= ratio <= 12.0, '/metrics: about 10 % of A\'s packets lost', '%.1f %%' % ratio)
        h.check(m.get('tutti_packets_out_total', 0) >= 300 and
                m.get('tutti_concealed_frames_total', 0) > 0,
                '/metrics counts packets out and concealed frames', repr(m))

        lines = [SUMMARY.search(ln) for ln in t.log_text().splitlines() if 'ended after' in ln]
        lines = [x for x in lines if x]
        log('summary lines:\n%s' % t.log_grep('ended after'))
        h.check(len(lines) == 2, 'one summary line per call', '%d lines' % len(lines))
        by_loss = sorted(lines, key=lambda x: float(x.group(7)))
        if len(by_loss) == 2:
            lb, la = by_loss
            h.check(8.0 <= float(la.group(7)) <= 12.0 and la.group(3) == 'PCMU',
                    "A's summary: codec and about 10 % loss", la.group(0))
            h.check(int(la.group(4)) == a.rtp.sent and int(lb.group(4)) == b.rtp.sent,
                    'summaries count every packet in',
                    '%s/%s vs %d/%d' % (la.group(4), lb.group(4), a.rtp.sent, b.rtp.sent))
            h.check(float(lb.group(7)) == 0 and float(la.group(2)) >= 4.5,
                    "B's summary: no loss; durations cover the call", lb.group(0))
        code, dt = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
