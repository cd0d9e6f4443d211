#!/usr/bin/env python3
"""End-to-end: a room's packets of a tick leave in io_uring batches
(rtp/sendq.c, --send-batch), and a listener cannot tell: what it hears,
and every packet of it, is what sendto() gave.

usage: test_send_batch.py [path/to/tutti]     (or env TUTTI_BIN)

A room of ten callers (MIXER_BATCH_PARTS is 8): A sends 440 Hz (PCMU), B
1000 Hz (Opus), eight listeners (PCMU, PCMA, G.722, Opus) send silence.
Each listener hears both tones, and gets its packets without a gap in
their sequence numbers; A hears B and not itself. /metrics counts the
batches and their packets, about one batch a tick for the ten. A room of
three stays on sendto(): the counters do not move for it. Then seven
of the ten hang up: the room falls below MIXER_WATCH_PARTS (8), its
thread stops waiting on the RTP sockets and reads them at the tick, and
the three left (A, B, a listener) still hear each other, every packet.

Then the same room on a tutti started with --send-batch no: the same
audio, and the counters stay at 0. Where the kernel refuses io_uring
(the log says so), the first part checks that tutti fell back to sendto.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log, metric          # noqa: E402

FREQS = [440, 1000]
LISTENER_CODECS = ['PCMU', 'PCMA', 'G722', 'opus'] * 2
HEAR_MIN_DBFS = -35.0      # tones are sent at -12 dBFS
WINDOW_S = 1.5


def seq_gaps(packets):
    """Packets missing from the RTP sequence, in the order they came (the
    16-bit sequence may wrap around inside the window)."""
    gaps = 0
    for a, b in zip(packets, packets[1:]):
        d = (b.seq - a.seq) % 65536
        gaps += d - 1 if 0 < d < 32768 else 0
    return gaps


def batch_counters(t):
    port = t.http_port
    return (metric(port, 'tutti_rtp_send_batches_total') or 0,
            metric(port, 'tutti_rtp_batched_packets_total') or 0)


def sent_counters(t):
    """(ticks, RTP packets out) so far, as tutti counts them."""
    port = t.http_port
    return (metric(port, 'tutti_ticks_total') or 0,
            metric(port, 'tutti_packets_out_total') or 0)


def room_of_ten(h, t, room):
    """Dials the room; returns {name: Caller}."""
    callers = {'A': Caller(h, t.sip_addr, 'A', 'PCMU', FREQS[0]),
               'B': Caller(h, t.sip_addr, 'B', 'opus', FREQS[1])}
    for i, codec in enumerate(LISTENER_CODECS):
        callers['L%d' % i] = Caller(h, t.sip_addr, 'L%d' % i, codec)
    for n, c in callers.items():
        r = c.dial(room)
        if not h.check(r.status == 200, '%s (%s) joins %s' % (n, c.codec, room),
                       '%d %s' % (r.status, r.reason)):
            raise SystemExit('caller %s could not join' % n)
    return callers


def check_heard(h, callers, label):
    time.sleep(2.5)
    for n, c in callers.items():
        an = c.rtp.analyze(FREQS, WINDOW_S)
        log('%s %s' % (label, an))
        gaps = seq_gaps(an.packets)
        h.check(an.n_packets >= int(50 * WINDOW_S * 0.8) and gaps == 0,
                '%s: %s gets every packet' % (label, n),
                '%d packets in %.1f s, %d missing from the sequence' % (
                    an.n_packets, WINDOW_S, gaps))
        if n == 'A':
            h.check(an.dbfs[1000] > HEAR_MIN_DBFS and an.dbfs[440] < an.dbfs[1000] - 30,
                    '%s: A hears B and not itself' % label,
                    '1000 Hz %.1f dBFS, 440 Hz %.1f dBFS' % (an.dbfs[1000], an.dbfs[440]))
        elif n == 'B':
            h.check(an.dbfs[440] > HEAR_MIN_DBFS,
                    '%s: B hears A' % label, '440 Hz %.1f dBFS' % an.dbfs[440])
        else:
            h.check(all(an.dbfs[f] > HEAR_MIN_DBFS for f in FREQS),
                    '%s: %s (%s) hears both tones' % (label, n, c.codec),
                    ', '.join('%d Hz %.1f dBFS' % (f, an.dbfs[f]) for f in FREQS))


def hang_up(callers):
    for c in callers.values():
        c.close()


def main():
    with Harness('test_send_batch', time_limit=100) as h:
        # ---- batches on (the default) -------------------------------------
        t = h.start_tutti(name='tutti-batch')
        batched = t.log_grep('RTP of big rooms sent in io_uring batches')
        refused = t.log_grep('RTP sent with sendto: no io_uring batches')
        h.check(bool(batched) != bool(refused),
                'the log says how RTP is sent', '%r %r' % (batched, refused))
        room = 'batch-%d' % os.getpid()

        small = {n: Caller(h, t.sip_addr, n, 'PCMU', f)
                 for n, f in (('S1', 440), ('S2', 1000), ('S3', None))}
        for n, c in small.items():
            r = c.dial('small-%d' % os.getpid())
            h.check(r.status == 200, '%s joins a room of three' % n,
                    '%d %s' % (r.status, r.reason))
        time.sleep(1.0)
        b0, p0 = batch_counters(t)
        time.sleep(1.0)
        b1, p1 = batch_counters(t)
        h.check(b1 == b0 and p1 == p0, 'a room of three sends without batches',
                'batches %d -> %d, packets %d -> %d' % (b0, b1, p0, p1))
        hang_up(small)

        callers = room_of_ten(h, t, room)
        check_heard(h, callers, 'batched' if batched else 'sendto')
        (b0, p0), (t0, o0) = batch_counters(t), sent_counters(t)
        time.sleep(2.0)
        (b1, p1), (t1, o1) = batch_counters(t), sent_counters(t)
        ticks, sent = t1 - t0, o1 - o0
        log('2 s of a room of ten: %d ticks, %d RTP packets out; %d batches '
            'of %d packets' % (ticks, sent, b1 - b0, p1 - p0))
        if batched:
            # every tick's ten RTP packets (and the odd RTCP one: ten
            # streams, one every 2.5-7.5 s each), give or take the tick
            # between reading the two counters; /metrics's packets out
            # are added once a second, so they only say the room sends
            want = 10 * ticks
            h.check(want - 20 <= p1 - p0 <= want + 30 and sent > 0,
                    'the room of ten sends every packet in batches',
                    '%d ticks, %d packets in batches' % (ticks, p1 - p0))
            h.check(ticks * 0.9 <= b1 - b0 <= 2 * ticks + 5,
                    'about one batch a tick', '%d batches in %d ticks' % (b1 - b0, ticks))
        else:
            h.check(b1 == b0 and p1 == p0, 'no batches where io_uring is refused',
                    'batches %d -> %d' % (b0, b1))
        # below 8: the room's RTP sockets are read at the tick from now on
        left = {n: callers.pop(n) for n in ('A', 'B', 'L7')}
        hang_up(callers)
        check_heard(h, left, 'three left, read at the tick')
        hang_up(left)
        t.stop()

        # ---- batches off ----------------------------------------------------
        t = h.start_tutti(extra_args=('--send-batch', 'no'), name='tutti-sendto')
        h.check(bool(t.log_grep('RTP sent with sendto (--send-batch no)')),
                '--send-batch no is in the log')
        callers = room_of_ten(h, t, room)
        check_heard(h, callers, 'sendto')
        b, p = batch_counters(t)
        h.check(b == 0 and p == 0, 'with --send-batch no, nothing is batched',
                'batches %d, packets %d' % (b, p))
        hang_up(callers)
        return h.result()


if __name__ == '__main__':
    sys.exit(main())
