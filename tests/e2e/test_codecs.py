#!/usr/bin/env python3
"""End-to-end codec test: G.722 among PCMU and Opus callers, and Opus
in-band FEC bringing back lost packets.

usage: test_codecs.py [path/to/tutti]     (or env TUTTI_BIN)

Room 1, three callers, each sending a tone at -12 dBFS:
    G  G.722 (offers G722 only: PT 9, G722/8000)   1100 Hz
    U  PCMU                                        440 Hz
    O  Opus                                        1700 Hz
Each hears the two others and never itself; G's answer is G722/8000 with
PT 9, its packets carry 160 bytes and RTP timestamps 160 apart (8 kHz
clock, 16 kHz audio), and the API names its codec "G722".

Rooms 2 and 3, an Opus caller whose network loses every 10th packet, and
a PCMU listener:
    F  Opus with in-band FEC (libopus told to expect 20% loss)  440 Hz
    N  Opus without FEC                                        440 Hz
Both send the tone in bursts of 460 ms with 40 ms pauses: libopus' voice
detector takes a tone that never pauses for noise after about 0.6 s, and
codes no FEC for noise. The API's stats for F show FEC recoveries (most of
its losses) and few concealed frames; N shows none recovered. The listener
in F's room hears the tone without gaps: of the 20 ms packets inside a
burst (its two neighbours on either side at the tone's level) in the last
4 s, which hold some 20 of F's losses, at most MAX_GAPS are more than 6 dB
below that level. (F's tone is coded as speech, SILK, whose concealment of
a tone dips: before the jitter buffer held a frame for FEC, F's listener
got single packets 12.6 dB down at every loss. A loss is still concealed
when the packet after it comes too late to be there at its turn, which a
loaded CI machine does now and then: one such gap failed a run. N's is
coded by CELT, whose concealment of a steady tone does not dip.)
"""

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, metric     # noqa: E402

FREQS = {'G': 1100, 'U': 440, 'O': 1700}
CODECS = {'G': 'G722', 'U': 'PCMU', 'O': 'opus'}
ALL_F = sorted(FREQS.values())
HEAR_MIN_DBFS = -35.0
HEAR_MIN_REL = -15.0
ABSENT_MARGIN = 30.0
GAP_DB = 6.0          # a received packet of the steady tone this far below the median ...
MAX_GAPS = 2          # ... at most this often in 4 s (some 20 losses; each one without FEC)


def parts_by_user(h, port, room):
    r = http_call(port, 'GET', '/api/v1/rooms/%s/participants' % room)
    h.check(r.status == 200, 'GET %s participants -> 200' % room, repr(r)[:200])
    return {p['uri'].split(':')[1].split('@')[0]: p for p in (r.json() or [])}


def gaps(levels, on_db):
    """Packets inside a burst (two neighbours either side within 2 dB of
    the tone's level) that are more than GAP_DB below it."""
    out = []
    for i in range(2, len(levels) - 2):
        nb = levels[i - 2:i] + levels[i + 1:i + 3]
        if all(abs(x - on_db) < 2.0 for x in nb) and levels[i] < on_db - GAP_DB:
            out.append(levels[i])
    return out


def packet_levels(rtp, t0, t1):
    """RMS in dBFS of each 20 ms of audio received in [t0, t1], in order."""
    with rtp.lock:
        chunks = [pcm for (t, r, pcm) in rtp.audio if t0 <= t <= t1]
    out = []
    for pcm in chunks:
        ms = sum(x * x for x in pcm) / max(1, len(pcm))
        out.append(10 * math.log10(ms / (32768.0 ** 2 / 2)) if ms > 0 else -200.0)
    return out


def room_rate(t, room, want, within=3.0):
    """The room's rate_hz once it is want, or the last one read."""
    end, rate = time.time() + within, None
    while time.time() < end:
        rate = (http_call(t.http_port, 'GET', '/api/v1/rooms/' + room).json() or {}).get('rate_hz')
        if rate == want:
            break
        time.sleep(0.1)
    return rate


def room_media(h, t, room):
    c = {n: Caller(h, t.sip_addr, n, CODECS[n], FREQS[n]) for n in 'GUO'}
    for n, x in c.items():
        r = x.dial(room)
        if not h.check(r.status == 200, '%s (%s) INVITE answered 200' % (n, CODECS[n]),
                       str(r.status)):
            raise SystemExit('caller %s could not join' % n)
        if n == 'U':    # G.722 and G.711 need 16 kHz; Opus takes it to 48
            rate = room_rate(t, room, 16000)
            h.check(rate == 16000, 'a room of G.722 and PCMU mixes at 16 kHz', repr(rate))
    rate = room_rate(t, room, 48000)
    h.check(rate == 48000, 'with an Opus caller the room mixes at 48 kHz', repr(rate))
    a = c['G'].dlg.answer
    h.check(a.codec_pt == 9 and a.codec_name.upper() == 'G722',
            'G.722 answered as PT 9 G722', '%r %r' % (a.codec_pt, a.codec_name))
    h.check(a.rtpmap.get(9, ('', 0))[:2] == ('G722', 8000),
            'rtpmap G722/8000 (the RFC 3551 clock)', repr(a.rtpmap))
    return c


def check_room(h, t, room, c):
    time.sleep(3.0)
    res = {n: x.rtp.analyze(ALL_F, 1.5) for n, x in c.items()}
    for n, an in res.items():
        log('%s hears: %s' % (n, an))
        for m, f in FREQS.items():
            if m == n:
                continue
            h.check(an.dbfs[f] > HEAR_MIN_DBFS and an.rel_db[f] > HEAR_MIN_REL,
                    '%s (%s) hears %s (%d Hz, %s)' % (n, CODECS[n], m, f, CODECS[m]),
                    '%.1f dBFS, %.1f dB of the received power' % (an.dbfs[f], an.rel_db[f]))
        others = [an.dbfs[FREQS[m]] for m in FREQS if m != n]
        h.check(an.dbfs[FREQS[n]] < min(others) - ABSENT_MARGIN,
                '%s does not hear itself' % n,
                '%.1f dBFS vs %.1f' % (an.dbfs[FREQS[n]], min(others)))
    # what tutti sends the G.722 caller: 160 bytes a 20 ms, clock 8 kHz
    pk = [p for p in c['G'].rtp.packets_between(time.monotonic() - 1.0) if p.pt == 9]
    sizes = {len(p.payload) for p in pk}
    steps = {(b.ts - a.ts) & 0xFFFFFFFF for a, b in zip(pk, pk[1:]) if b.seq == (a.seq + 1) & 0xFFFF}
    h.check(len(pk) >= 40 and sizes == {160} and steps == {160},
            'tutti sends G.722 as 160-byte packets 160 ticks apart',
            '%d packets, sizes %r, steps %r' % (len(pk), sizes, steps))
    parts = parts_by_user(h, t.http_port, room)
    h.check(parts.get('g', {}).get('codec') == 'G722', 'the API names the codec G722',
            repr(parts.get('g', {}).get('codec')))
    sg = parts.get('g', {}).get('stats') or {}
    h.check(sg.get('packets_in', 0) >= 100 and sg.get('packets_lost', -1) == 0,
            "tutti takes G's packets in (8 kHz clock: no loss, no jitter surprise)", repr(sg))
    h.check(0 <= sg.get('jitter_ms', -1) < 20, "G's jitter in ms is small on loopback",
            repr(sg.get('jitter_ms')))


def loss_room(h, t, room, name, fec):
    s = Caller(h, t.sip_addr, name, 'opus', 440)
    s.rtp.opus_fec_loss = 20 if fec else 0
    s.rtp.drop_every = 10
    s.rtp.tone_gate = (23, 2)
    lis = Caller(h, t.sip_addr, name + 'L', 'PCMU', None)
    for x in (s, lis):
        r = x.dial(room)
        if not h.check(r.status == 200, '%s INVITE answered 200' % x.name, str(r.status)):
            raise SystemExit('caller %s could not join' % x.name)
    return s, lis


def check_loss(h, t, room, s, lis, fec):
    t1 = time.monotonic()
    lv = packet_levels(lis.rtp, t1 - 4.0, t1)
    lv_sorted = sorted(lv)
    med = lv_sorted[len(lv_sorted) // 2] if lv else -200.0
    g = gaps(lv, med)
    parts = parts_by_user(h, t.http_port, room)
    st = parts.get(s.name.lower(), {}).get('stats') or {}
    log('%s (%s FEC): API stats %r; listener: %d packets, tone at %.1f dBFS, gaps inside '
        'bursts: %r' % (s.name, 'with' if fec else 'without', st, len(lv), med,
                         ['%.1f' % x for x in g]))
    lost = st.get('packets_lost', 0)
    h.check(lost >= 15, '%s: about every 10th packet lost' % s.name, repr(st))
    rec = st.get('fec_recovered_frames', -1)
    if fec:
        h.check(rec >= lost * 0.6, '%s: most losses recovered from FEC' % s.name,
                '%d of %d lost' % (rec, lost))
        h.check(st.get('concealed_frames', 1 << 30) <= lost * 0.4 + 3,
                '%s: few frames left to concealment' % s.name, repr(st))
        h.check(len(lv) >= 150 and med > -20 and len(g) <= MAX_GAPS,
                '%s\'s listener hears the tone without gaps' % s.name,
                '%d packets; %d gaps, tone at %.1f dBFS' % (len(lv), len(g), med))
    else:
        h.check(rec == 0, '%s: nothing recovered without FEC' % s.name, repr(st))
        h.check(st.get('concealed_frames', 0) >= lost * 0.5,
                '%s: losses concealed' % s.name, repr(st))
    return rec


def main():
    with Harness('test_codecs', time_limit=90) as h:
        t = h.start_tutti()
        pid = os.getpid()
        c = room_media(h, t, 'codecs-%d' % pid)
        f = loss_room(h, t, 'fec-%d' % pid, 'F', True)
        n = loss_room(h, t, 'nofec-%d' % pid, 'N', False)
        check_room(h, t, 'codecs-%d' % pid, c)
        time.sleep(2.5)
        rec = check_loss(h, t, 'fec-%d' % pid, *f, True)
        check_loss(h, t, 'nofec-%d' % pid, *n, False)
        time.sleep(1.2)
        m = metric(t.http_port, 'tutti_fec_recovered_frames_total')
        h.check(m is not None and m >= rec, '/metrics counts the FEC recoveries',
                '%r vs F\'s %d' % (m, rec))
        code, _ = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
        summ = [ln for ln in t.log_text().splitlines() if 'ended after' in ln and 'codec G722' in ln]
        h.check(len(summ) == 1, 'the G.722 call ends with a summary line', repr(summ))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
