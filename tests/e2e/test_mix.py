#!/usr/bin/env python3
"""End-to-end mix test: N-1 mixing across PCMU / PCMA / Opus, hold and resume
by re-INVITE, leaving by BYE, and CSRC lists in the mixed RTP.

usage: test_mix.py [path/to/tutti]     (or env TUTTI_BIN)

Three callers join one room, each sending a tone:
    A  PCMU   440 Hz
    B  PCMA  1000 Hz
    C  Opus  1700 Hz  (opus/48000/2, PT 111)
440/1000/1700 Hz share no low harmonics that would land inside another's
Goertzel bin (100 ms Hann blocks: +-20 Hz main lobe), and all are far below the
4 kHz limit of the 8 kHz legs so resampling does not move or alias them.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log          # noqa: E402

FREQS = {'A': 440, 'B': 1000, 'C': 1700}
CODECS = {'A': 'PCMU', 'B': 'PCMA', 'C': 'opus'}
EXPECTED_PT = {'PCMU': 0, 'PCMA': 8, 'opus': 111}
ALL_F = sorted(FREQS.values())

HEAR_MIN_DBFS = -35.0      # tones are sent at -12 dBFS
HEAR_MIN_REL = -15.0       # share of the received power
ABSENT_MARGIN = 30.0       # an absent tone is at least this far below a present one
PKTS_PER_S = 50


def heard(h, an, f, who_hears, whose):
    return h.check(an.dbfs[f] > HEAR_MIN_DBFS and an.rel_db[f] > HEAR_MIN_REL,
                   '%s hears %s (%d Hz)' % (who_hears, whose, f),
                   '%.1f dBFS, %.1f dB of received power; need > %.0f dBFS and > %.0f dB' % (
                       an.dbfs[f], an.rel_db[f], HEAR_MIN_DBFS, HEAR_MIN_REL))


def absent(h, an, f, ref_db, who_hears, whose, why):
    return h.check(an.dbfs[f] < ref_db - ABSENT_MARGIN,
                   '%s does not hear %s (%d Hz) %s' % (who_hears, whose, f, why),
                   '%.1f dBFS vs reference %.1f dBFS; need at least %.0f dB below' % (
                       an.dbfs[f], ref_db, ABSENT_MARGIN))


def enough_packets(h, an, seconds, who):
    need = int(PKTS_PER_S * seconds * 0.8)
    ts = [p.t for p in an.packets]
    gap = max((b - a for a, b in zip(ts, ts[1:])), default=0.0)
    seqs = [p.seq for p in an.packets]
    return h.check(an.n_packets >= need, '%s receives RTP' % who,
                   '%d packets in %.1f s, need >= %d; longest gap %.0f ms, seq %s..%s, '
                   'first at -%.2f s, last at -%.2f s' % (
                       an.n_packets, seconds, need, 1000 * gap, seqs[0] if seqs else '-',
                       seqs[-1] if seqs else '-', an.t1 - ts[0] if ts else 0,
                       an.t1 - ts[-1] if ts else 0))


def analyze_all(callers, seconds=1.5, label=''):
    res = {}
    for n, c in callers.items():
        res[n] = c.rtp.analyze(ALL_F, seconds)
        log('%-10s %s' % (label, res[n]))
    return res


def main():
    with Harness('test_mix', time_limit=100) as h:
        t = h.start_tutti()
        room = 'mix-%d' % os.getpid()
        callers = {n: Caller(h, t.sip_addr, n, CODECS[n], FREQS[n]) for n in 'ABC'}

        # ---- join ----------------------------------------------------------
        for n, c in callers.items():
            r = c.dial(room)
            if not h.check(r.status == 200, '%s INVITE answered 200' % n,
                           '%d %s' % (r.status, r.reason)):
                raise SystemExit('caller %s could not join' % n)
            h.check(c.dlg.isfocus, '%s: 200 OK Contact carries ;isfocus' % n,
                    'Contact: %s' % c.dlg.contact)
            a = c.dlg.answer
            h.check(a is not None and a.port, '%s: 200 OK carries an SDP answer with a port' % n,
                    repr(a))
            h.check(a is not None and a.codec_name == CODECS[n] and
                    a.codec_pt == EXPECTED_PT[CODECS[n]],
                    '%s: answer selects the offered codec %s/%d' % (
                        n, CODECS[n], EXPECTED_PT[CODECS[n]]), repr(a))
            h.check(a is not None and a.conn == '127.0.0.1',
                    '%s: answer c= is the loopback address' % n, repr(a))
            h.check(a is not None and a.direction == 'sendrecv',
                    '%s: answer is sendrecv' % n, repr(a))
        time.sleep(2.5)

        # ---- N-1 ---------------------------------------------------------------
        base = analyze_all(callers, 1.5, 'all-3')
        for n, c in callers.items():
            an = base[n]
            enough_packets(h, an, 1.5, n)
            pts = sorted({p.pt for p in an.packets})
            h.check(pts == [EXPECTED_PT[CODECS[n]]], '%s receives the negotiated PT' % n,
                    'PTs seen %s' % pts)
            others = [o for o in 'ABC' if o != n]
            for o in others:
                heard(h, an, FREQS[o], n, o)
            ref = min(an.dbfs[FREQS[o]] for o in others)
            absent(h, an, FREQS[n], ref, n, 'itself', '(N-1 mix)')

        # ---- hold B (re-INVITE sendonly); B keeps sending its tone --------------
        B = callers['B']
        r = B.dlg.reinvite('sendonly')
        t_hold = time.monotonic()
        log('B: re-INVITE sendonly -> %d %s; answer %r' % (r.status, r.reason, B.dlg.answer))
        h.check(r.status == 200, 'hold re-INVITE answered 200', '%d %s' % (r.status, r.reason))
        h.check(B.dlg.answer is not None and B.dlg.answer.direction in ('recvonly', 'inactive'),
                'hold answer is recvonly (or inactive)',
                B.dlg.answer.direction if B.dlg.answer else 'no SDP')
        time.sleep(2.0)
        held = analyze_all(callers, 1.0, 'B-held')
        for n in 'AC':
            an = held[n]
            other = 'C' if n == 'A' else 'A'
            enough_packets(h, an, 1.0, n + ' (B on hold)')
            heard(h, an, FREQS[other], n + ' (B on hold)', other)
            absent(h, an, FREQS['B'], base[n].dbfs[FREQS['B']], n, 'B', 'while B is on hold '
                   '(vs. its level before hold)')
        b_pkts = B.rtp.packets_between(t_hold + 0.5)
        h.check(len(b_pkts) <= 3, 'B on hold (sendonly) receives (almost) no RTP',
                '%d packets in the %.1f s from 0.5 s after the hold' % (
                    len(b_pkts), time.monotonic() - t_hold - 0.5))

        # ---- resume --------------------------------------------------------
        r = B.dlg.reinvite('sendrecv')
        log('B: re-INVITE sendrecv -> %d %s; answer %r' % (r.status, r.reason, B.dlg.answer))
        h.check(r.status == 200, 'resume re-INVITE answered 200', '%d %s' % (r.status, r.reason))
        h.check(B.dlg.answer is not None and B.dlg.answer.direction == 'sendrecv',
                'resume answer is sendrecv', B.dlg.answer.direction if B.dlg.answer else 'no SDP')
        if B.dlg.answer is not None:
            B.apply_answer()
        time.sleep(2.0)
        resumed = analyze_all(callers, 1.0, 'resumed')
        for n in 'ABC':
            an = resumed[n]
            enough_packets(h, an, 1.0, n + ' (after resume)')
            for o in 'ABC':
                if o != n:
                    heard(h, an, FREQS[o], n + ' (after resume)', o)

        # ---- B leaves with BYE ------------------------------------------------
        B.rtp.stop_sending()
        r = B.dlg.bye()
        log('B: BYE -> %d %s' % (r.status, r.reason))
        h.check(r.status == 200, 'BYE answered 200', '%d %s' % (r.status, r.reason))
        time.sleep(1.5)
        gone = {n: callers[n].rtp.analyze(ALL_F, 1.0) for n in 'AC'}
        for n in 'AC':
            log('%-10s %s' % ('B-gone', gone[n]))
            other = 'C' if n == 'A' else 'A'
            heard(h, gone[n], FREQS[other], n + ' (B gone)', other)
            absent(h, gone[n], FREQS['B'], resumed[n].dbfs[FREQS['B']], n, 'B',
                   'after B hung up (vs. its level before)')

        # ---- CSRC: A, B2, C talk; D listens silently ------------------------------
        B2 = Caller(h, t.sip_addr, 'B2', 'PCMA', FREQS['B'])
        r = B2.dial(room)
        h.check(r.status == 200, 'B2 (B rejoining, new call) answered 200', str(r.status))
        D = Caller(h, t.sip_addr, 'D', 'PCMU', None)     # sends digital silence
        r = D.dial(room)
        h.check(r.status == 200, 'D (silent listener) answered 200', str(r.status))
        time.sleep(2.0)
        talkers = {'A': callers['A'], 'B2': B2, 'C': callers['C']}
        # A CSRC may name a contributor by the SSRC it sends with, or (RFC 4575
        # src-id style) by the SSRC the bridge allocated to it, i.e. the one the
        # bridge uses when sending to it.  Both are accepted, as long as the list
        # names exactly the contributors and never the receiver.
        names = {c.rtp.ssrc: n for n, c in talkers.items()}
        names[D.rtp.ssrc] = 'D'
        for n, c in list(talkers.items()) + [('D', D)]:
            for p in c.rtp.packets_between(time.monotonic() - 1.0):
                names.setdefault(p.ssrc, 'bridge->%s' % n)

        def who(x):
            return names.get(x, '%08x' % x).replace('bridge->', '')

        d_an = D.rtp.analyze(ALL_F, 1.0)
        log('%-10s %s' % ('D', d_an))
        for n, c in talkers.items():
            heard(h, d_an, c.freq, 'D', n)
        pk = d_an.packets
        enough_packets(h, d_an, 1.0, 'D')
        good = [p for p in pk if len(p.csrcs) == 3 and sorted(who(x) for x in p.csrcs) ==
                ['A', 'B2', 'C']]
        # A talker whose packet came too late for a frame (a starved host
        # delays this test's senders) is rightly left out of that frame's
        # list; a name that is not a talker's, or twice, is always wrong.
        wrong = [p for p in pk if len(set(p.csrcs)) != len(p.csrcs) or
                 not {who(x) for x in p.csrcs} <= {'A', 'B2', 'C'}]
        sample = [[names.get(x, '%08x' % x) for x in p.csrcs] for p in pk[:3]]
        h.check(pk and len(good) >= 0.75 * len(pk),
                "D's packets carry 3 CSRCs naming A, B2 and C",
                '%d of %d packets; first CSRC lists %s' % (len(good), len(pk), sample))
        h.check(pk and not wrong, "D's packets name no one but A, B2 and C, each once",
                '%d of %d packets; e.g. %s' % (len(wrong), len(pk), [
                    [names.get(x, '%08x' % x) for x in p.csrcs] for p in wrong[:3]]))
        for n, c in talkers.items():
            pk = c.rtp.packets_between(time.monotonic() - 1.0)
            own = [p for p in pk if n in [who(x) for x in p.csrcs]]
            h.check(pk and not own, "%s's CSRC lists never name %s itself" % (n, n),
                    '%d of %d packets name it; e.g. %s' % (
                        len(own), len(pk),
                        [[names.get(x, '%08x' % x) for x in p.csrcs] for p in pk[:2]]))

        # ---- everyone hangs up: the room ends, tutti keeps running ----------------
        for c in [callers['A'], callers['C'], B2, D]:
            c.rtp.stop_sending()
            r = c.dlg.bye()
            h.check(r.status == 200, '%s: BYE answered 200' % c.name, '%d %s' % (r.status, r.reason))
        time.sleep(0.5)
        h.check(t.alive(), 'tutti still running after the last caller left the room',
                '' if t.alive() else 'exit status %s' % t.proc.returncode)
        code, dt = t.terminate()
        h.check(code == 0 and dt < 5.0, 'tutti exits 0 within 5 s of SIGTERM',
                'exit status %s after %.2f s' % (code, dt))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
