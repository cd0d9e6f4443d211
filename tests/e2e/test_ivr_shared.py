#!/usr/bin/env python3
"""End-to-end test of the dial-in dialogue in a room whose listeners share
one encode (mixer/shared.c): prompts and tones must reach exactly those
they are for, whichever path a listener's packets take.

usage: test_ivr_shared.py [path/to/tutti]     (or env TUTTI_BIN)

Room R has PIN 2468. S talks (a 3000 Hz tone, PCMU) and L1, L2, L3 only
listen (PCMU, silence), so the three hear the shared mix and get the same
payload bytes, about 2 encodes a tick in all (S's own and one shared).
The room is recorded (WAV) from here on.

P (PCMU, silent) dials in. While it is asked for its PIN, P hears the
prompt and not S; L1..L3 hear S and nothing of the prompt, and still get
one shared encode among them (about 3 encodes a tick: S, shared, P's own).
P types its PIN (RFC 4733): the room hears the join tone, L1..L3 too,
through their shared encode, which carries it (the shared mix, which is
what is recorded, does not), so that the tone costs no encode more. Then
L1..L3 and P (silent now that it is in) all get the shared encode, about
2 a tick. The recording holds S and neither the prompt nor the join tone.
"""

import array
import os
import sys
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, wait_for             # noqa: E402
from rtpaudio import goertzel_blocks, to_db                               # noqa: E402
from test_ivr import (ABSENT_DBFS, ALL_F, HEAR_DBFS, JOIN_F, PIN,         # noqa: E402
                      PROMPT_DBFS, SILENT_DBFS, SPEECH_F, admitted, dial,
                      keys_rfc4733, make_room, speech_db)
from test_speakers import metric                                          # noqa: E402

S_F = 3000            # far from the prompts' bins, whose floor it would raise
JOIN_HEARD_DBFS = -35.0   # as test_ivr.py: the tone over 1.5 s of listening


def counters(t):
    return (metric(t, 'tutti_encodes_total'), metric(t, 'tutti_ticks_total'),
            time.monotonic())


def per_tick(c0, c1):
    return (c1[0] - c0[0]) / max(1.0, c1[1] - c0[1])


def encodes_per_tick(t, seconds=1.5):
    c0 = counters(t)
    time.sleep(seconds)
    return per_tick(c0, counters(t))


def same_payloads(h, listeners, t0, t1, what):
    """Every listener got the payload bytes of the first (one encode), each
    under its own SSRC."""
    pk = {c.name: c.rtp.packets_between(t0, t1) for c in listeners}
    ref = {p.payload for p in pk[listeners[0].name]}
    for c in listeners[1:]:
        mine = [p.payload for p in pk[c.name]]
        same = sum(1 for x in mine if x in ref)
        h.check(mine and same >= 0.9 * len(mine),
                '%s: %s gets the same payload bytes as %s' % (what, c.name,
                                                              listeners[0].name),
                '%d of %d payloads identical' % (same, len(mine)))
    ssrcs = {p.ssrc for v in pk.values() for p in v}
    h.check(len(ssrcs) == len(listeners), '%s: each listener has its own SSRC' % what,
            '%d SSRCs for %d listeners' % (len(ssrcs), len(listeners)))


def wav_levels(path, t_rec, start, end, freqs):
    """dBFS per frequency in the recording between two monotonic times
    (t_rec: when the recording started), taken down to 8 kHz: the mix
    holds nothing above 4 kHz here (PCMU callers only)."""
    with wave.open(path, 'rb') as w:
        rate, n = w.getframerate(), w.getnframes()
        pcm = array.array('h', w.readframes(n))
    step = rate // 8000
    a = max(0, int((start - t_rec) * rate))
    b = min(len(pcm), int((end - t_rec) * rate))
    seg = list(pcm[a:b:step])
    _, tones, nb = goertzel_blocks(seg, rate // step, freqs)
    return nb, {f: to_db(tones[f] / (32768.0 ** 2 / 2)) for f in freqs}


def main():
    with Harness('test_ivr_shared', time_limit=100) as h:
        t = h.start_tutti()
        room = 'ivrsh-%d' % os.getpid()
        make_room(h, t, room, mod='')
        s = Caller(h, t.sip_addr, 'S', 'PCMU', S_F)
        ls = [Caller(h, t.sip_addr, 'L%d' % i, 'PCMU', None) for i in (1, 2, 3)]
        for c in [s] + ls:
            dial(h, c, room)
            keys_rfc4733(c, PIN + '#')
            admitted(h, t, room, c, False)
        time.sleep(1.5)  # the last join tone is over

        # ---- before: L1..L3 share one encode -------------------------------
        n = encodes_per_tick(t)
        h.check(1.5 <= n <= 2.5, 'about 2 encodes a tick: S\'s own, one shared',
                '%.2f encodes per tick' % n)
        now = time.monotonic()
        same_payloads(h, ls, now - 1.0, now, 'before P')

        base = '/api/v1/rooms/%s/recording' % room
        r = http_call(t.http_port, 'POST', base)
        t_rec = time.monotonic()
        rec = (r.json() or {}).get('file', 'missing')
        h.check(r.status == 201, 'recording started', repr(r))

        # ---- P is asked for its PIN -----------------------------------------
        p = Caller(h, t.sip_addr, 'P', 'PCMU', None)
        t_p = dial(h, p, room)
        time.sleep(0.5)
        n = encodes_per_tick(t, 1.4)
        h.check(2.5 <= n <= 3.5,
                'about 3 encodes a tick while P is asked: S, one shared, P\'s own',
                '%.2f encodes per tick' % n)
        w0, w1 = t_p + 0.4, t_p + 2.4
        time.sleep(max(0.0, w1 - time.monotonic()))
        an = p.rtp.analyze(ALL_F, start=w0, end=w1)
        log('P asked for its PIN: %s' % an)
        h.check(speech_db(an) > PROMPT_DBFS, 'P hears its PIN prompt',
                '%.1f dBFS of speech' % speech_db(an))
        h.check(an.dbfs[S_F] < ABSENT_DBFS, 'P does not hear S before its PIN',
                '%.1f dBFS' % an.dbfs[S_F])
        for c in ls:
            ac = c.rtp.analyze(ALL_F, start=w0, end=w1)
            log('%s while P is asked: %s' % (c.name, ac))
            h.check(speech_db(ac) < SILENT_DBFS,
                    '%s (shared encode) hears nothing of P\'s prompt' % c.name,
                    '%.1f dBFS of speech' % speech_db(ac))
            h.check(ac.dbfs[S_F] > HEAR_DBFS, '%s hears S meanwhile' % c.name,
                    '%.1f dBFS' % ac.dbfs[S_F])
        same_payloads(h, ls, w0, w1, 'while P is asked')

        # ---- P comes in: the join tone -------------------------------------
        j0 = time.monotonic()
        keys_rfc4733(p, PIN)
        # From just before the '#' for 45 ticks: the '#' (100 ms), the join
        # tone (300 ms) right after it, then silence. S's encode and the
        # shared one each tick, P's own until the tone is over (it is not
        # for P): 2.44-2.47 a tick measured. Were L1..L3 sent their own
        # encodes while the tone plays, 3.04-3.13.
        c0 = counters(t)
        keys_rfc4733(p, '#')
        time.sleep(max(0.0, c0[2] + 0.9 - time.monotonic()))
        c1 = counters(t)
        h.check(per_tick(c0, c1) <= 2.8,
                'the join tone costs no encode more (it is in the shared one)',
                '%.2f encodes per tick over the join' % per_tick(c0, c1))
        admitted(h, t, room, p, False)
        time.sleep(0.6)
        j1 = time.monotonic()
        for c in ls + [s]:
            ac = c.rtp.analyze(ALL_F, start=j0, end=j1)
            log('%s when P comes in: %s' % (c.name, ac))
            h.check(max(ac.dbfs[f] for f in JOIN_F) > JOIN_HEARD_DBFS,
                    '%s hears the join tone when P comes in' % c.name,
                    '523 Hz %.1f, 784 Hz %.1f dBFS' % (ac.dbfs[523], ac.dbfs[784]))
        ap = p.rtp.analyze(ALL_F, start=j1 - 0.8, end=j1)
        h.check(ap.dbfs[S_F] > HEAR_DBFS, 'P, let in, hears S', '%.1f dBFS' % ap.dbfs[S_F])

        # ---- after: the shared encode again, P in it -------------------------
        n = encodes_per_tick(t)
        h.check(1.5 <= n <= 2.5,
                'about 2 encodes a tick again once the tone is over (P shares too)',
                '%.2f encodes per tick' % n)
        now = time.monotonic()
        same_payloads(h, ls + [p], now - 1.0, now, 'after P came in')

        r = http_call(t.http_port, 'DELETE', base)
        h.check(r.status == 204, 'recording stopped', '%d' % r.status)
        path = os.path.join(t.data_dir, rec)
        if h.check(wait_for(lambda: os.path.exists(path), 5), 'the WAV is there', path):
            freqs = sorted(set(SPEECH_F) | set(JOIN_F) | {S_F})
            nb, lv = wav_levels(path, t_rec, w0, w1, freqs)
            sp = to_db(sum(10 ** (lv[f] / 10) for f in SPEECH_F))
            log('recording while P is asked (%d blocks): %s' % (nb, lv))
            h.check(nb >= 10 and sp < SILENT_DBFS, 'the recording holds nothing of P\'s prompt',
                    '%.1f dBFS of speech in %d blocks' % (sp, nb))
            h.check(lv[S_F] > HEAR_DBFS, 'the recording holds S', '%.1f dBFS' % lv[S_F])
            nb, lv = wav_levels(path, t_rec, j0, j1, freqs)
            log('recording when P comes in (%d blocks): %s' % (nb, lv))
            h.check(nb >= 5 and max(lv[f] for f in JOIN_F) < ABSENT_DBFS,
                    'the recording holds no join tone',
                    '523 Hz %.1f, 784 Hz %.1f dBFS' % (lv[523], lv[784]))
        h.check(t.alive(), 'tutti still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
