#!/usr/bin/env python3
"""A loud room through the limiter, as a listener hears it.

usage: test_limiter.py [path/to/tutti]     (or env TUTTI_BIN)

Three PCMU callers send tones at -1 dBFS (440, 1000 and 1700 Hz); a fourth
caller (D) sends silence and hears all three, which add up to about 2.7x full
scale.  Without a limiter that mix hard-clips (or wraps); with it, D hears
all three tones at equal levels, a few dB down, nothing at full scale, and
almost all the power in the three tones: hard clipping the same sum would
put a good part of it into harmonics and intermodulation (computed here for
comparison).  Each talker, who hears the other two (2x full scale), is
checked the same way.
"""

import array
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, log               # noqa: E402
from rtpaudio import goertzel_blocks                   # noqa: E402

FREQS = {'A': 440, 'B': 1000, 'C': 1700}
DBFS = -1.0
PCMU_TOP = 32124          # the largest G.711 u-law level: what a clipped mix decodes to


def heard(c, seconds):
    end = time.monotonic()
    with c.rtp.lock:
        chunks = [pcm for (t, r, pcm) in c.rtp.audio if end - seconds <= t <= end and r == 8000]
    out = array.array('h')
    for pcm in chunks:
        out.extend(pcm)
    return out


def tone_share(samples, freqs):
    """The share of the power in the tones, the median of 100 ms blocks',
    and each tone's power over all of them. A frame the bridge concealed
    after a late packet from this test's senders (a busy machine) spoils
    one block, not the verdict; a distorting limiter spoils every block."""
    n = 800
    shares = []
    for b in range(len(samples) // n):
        tot, tones, _ = goertzel_blocks(samples[b * n:(b + 1) * n], 8000, freqs)
        shares.append(sum(tones.values()) / tot if tot else 0.0)
    _, tones, _ = goertzel_blocks(samples, 8000, freqs)
    return (statistics.median(shares) if shares else 0.0), tones


def clipped_share(freqs):
    """The share of power in the tones if the sum were hard-clipped."""
    amp = 32767 * 10 ** (DBFS / 20)
    x = array.array('h', (max(-32768, min(32767, int(round(sum(
        amp * math.sin(2 * math.pi * f * i / 8000) for f in freqs))))) for i in range(8000)))
    return tone_share(x, freqs)[0]


def check_listener(h, c, freqs, who):
    x = heard(c, 1.5)
    if not h.check(len(x) >= 8000, '%s receives audio' % who, '%d samples' % len(x)):
        return
    peak = max(abs(v) for v in x)
    share, tones = tone_share(x, freqs)
    levels = [10 * math.log10(tones[f] / (32768.0 ** 2 / 2)) for f in freqs]
    clip = clipped_share(freqs)
    log('%s: peak %d, tones %s dBFS, %.1f %% of the power in the tones (hard clipping: %.1f %%)'
        % (who, peak, ['%.1f' % v for v in levels], 100 * share, 100 * clip))
    h.check(peak < PCMU_TOP, '%s: nothing at full scale (not clipped)' % who, 'peak %d' % peak)
    h.check(max(levels) - min(levels) < 1.0, '%s: the tones at equal levels' % who, repr(levels))
    h.check(all(DBFS - 12 < v < DBFS for v in levels),
            '%s: each tone turned down, by less than 11 dB' % who, repr(levels))
    h.check(share > 0.97 and 1 - share < (1 - clip) / 3,
            '%s: the power stays in the tones (limited, not distorted)' % who,
            '%.1f %% outside the tones vs %.1f %% for a hard clip' % (
                100 * (1 - share), 100 * (1 - clip)))


def main():
    with Harness('test_limiter', time_limit=60) as h:
        t = h.start_tutti()
        room = 'loud-%d' % os.getpid()
        callers = {n: Caller(h, t.sip_addr, n, 'PCMU', f) for n, f in FREQS.items()}
        d = Caller(h, t.sip_addr, 'D', 'PCMU', None)
        for c in list(callers.values()) + [d]:
            r = c.dial(room)
            if not h.check(r.status == 200, '%s INVITE answered 200' % c.name, str(r.status)):
                raise SystemExit('caller %s could not join' % c.name)
        for c in callers.values():
            c.rtp.send_tone(c.freq, dbfs=DBFS)
        time.sleep(3.0)
        check_listener(h, d, sorted(FREQS.values()), 'D (hears 3)')
        check_listener(h, callers['A'], [FREQS['B'], FREQS['C']], 'A (hears 2)')
        code, dt = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
