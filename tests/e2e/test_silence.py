#!/usr/bin/env python3
"""Silence costs nothing, seen from outside: RFC 6464 levels, Opus DTX and
comfort noise (RFC 3389).

usage: test_silence.py [path/to/tutti]     (or env TUTTI_BIN)

Room 1 (levels): A and B call with Opus and offer the RFC 6464 audio level
extension; both send it in every packet.  A talks (a 440 Hz tone, its
level measured), B sends silence (level 127).  B must not be talking, in
the API and in conference-info (tutti:speaking), A must be; B's packets
must be taken as silence without a decode (the API's undecoded_silence
counts them, and /metrics' tutti_undecoded_silence_total at least as
many), and L, a PCMU listener without levels, must hear A's tone.

Room 2 (DTX and CN): D calls with Opus and usedtx=1, E with PCMU and
CN/8000, F with PCMU; all three are silent at first.  D must receive far
fewer than 50 packets a second (libopus's DTX updates only) and E a CN
packet (payload type 13) now and then and no audio; the answers must say
usedtx=1 and CN.  Then F talks (700 Hz): D and E must receive about 50
packets a second again, hear the tone, E's first audio packet after CN
marked, and the sequence numbers of both must have stayed contiguous.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, metric     # noqa: E402
from sipua import build_offer, OPUS_FMTP                 # noqa: E402
from confsub import fetch, local                        # noqa: E402

LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'
LEVEL_ID = 4
CN_PT = 13


def parts_by_user(h, port, room):
    r = http_call(port, 'GET', '/api/v1/rooms/%s/participants' % room)
    h.check(r.status == 200, 'GET participants -> 200', repr(r)[:200])
    return {p['uri'].split(':')[1].split('@')[0]: p for p in (r.json() or [])}


def speaking_in_confinfo(ua, room):
    """{user part: tutti:speaking} from a conference-info fetch."""
    n = fetch(ua, room)
    out = {}
    if n is None or n.doc is None:
        return out
    for user in n.doc.iter():
        if local(user.tag) != 'user':
            continue
        name = (user.get('entity') or ':').split(':')[1].split('@')[0]
        for e in user.iter():
            if local(e.tag) == 'speaking':
                out[name] = (e.text or '').strip() == 'true'
    return out


def dial(h, c, room, **kw):
    r = c.dial(room, **kw)
    if not h.check(r.status == 200, '%s INVITE answered 200' % c.name, str(r.status)):
        raise SystemExit('caller %s could not join' % c.name)
    return c.dlg.answer


def contiguous(pkts):
    """True when the sequence numbers never skip (wrapping at 65536)."""
    seqs = [p.seq for p in sorted(pkts, key=lambda p: p.t)]
    return all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:]))


def room_levels(h, t):
    room = 'levels-%d' % os.getpid()
    extmap = 'a=extmap:%d %s vad=on\r\n' % (LEVEL_ID, LEVEL_URI)
    a = Caller(h, t.sip_addr, 'A', 'opus', None)
    b = Caller(h, t.sip_addr, 'B', 'opus', None)
    lst = Caller(h, t.sip_addr, 'L', 'PCMU', None)
    # Neither sends a packet without its level: a packet A sent before
    # its tone (silence, level 127) would rightly be left undecoded.
    for c in (a, b):
        body, _ = build_offer('127.0.0.1', c.rtp.port, ('opus',), extra=extmap)
        ans = dial(h, c, room, raw_body=body.encode(), start_media=False)
        h.check(('a=extmap:%d %s' % (LEVEL_ID, LEVEL_URI)) in ans.raw,
                '%s: the answer takes the audio level under the offered id' % c.name,
                ans.raw.replace('\r\n', ' | '))
        c.apply_answer()
        c.rtp.send_levels(LEVEL_ID)
    b.rtp.send_silence()
    dial(h, lst, room)
    a.rtp.send_tone(440, dbfs=-12)
    time.sleep(3.0)

    parts = parts_by_user(h, t.http_port, room)
    log('API: %r' % {k: (v.get('talking'), v.get('stats')) for k, v in parts.items()})
    pa, pb = parts.get('a', {}), parts.get('b', {})
    h.check(pa.get('talking') is True, 'A (tone, its level sent) is talking', repr(pa))
    h.check(pb.get('talking') is False, 'B (level 127) is not talking', repr(pb))
    undecoded = (pb.get('stats') or {}).get('undecoded_silence', 0)
    received = (pb.get('stats') or {}).get('packets_in', 0)
    h.check(received > 80 and undecoded >= 0.9 * received,
            "B's packets are taken as silence without a decode",
            '%d of %d undecoded' % (undecoded, received))
    h.check((pa.get('stats') or {}).get('undecoded_silence', -1) == 0,
            "A's packets (a speaker) are all decoded", repr(pa.get('stats')))
    sp = speaking_in_confinfo(lst.ua, room)
    log('conference-info speaking: %r' % sp)
    h.check(sp.get('a') is True and sp.get('b') is False,
            'conference-info: A speaking, B not', repr(sp))
    an = lst.rtp.analyze([440], 1.0)
    log('L: %s' % an)
    h.check(an.dbfs[440] > -20, 'L hears A (440 Hz)', '%.1f dBFS' % an.dbfs[440])
    an = b.rtp.analyze([440], 1.0)
    h.check(an.dbfs[440] > -20, 'B hears A (440 Hz)', '%.1f dBFS' % an.dbfs[440])
    return undecoded


def room_dtx_cn(h, t):
    room = 'dtx-%d' % os.getpid()
    d = Caller(h, t.sip_addr, 'D', 'opus', None)
    e = Caller(h, t.sip_addr, 'E', 'PCMU', None)
    f = Caller(h, t.sip_addr, 'F', 'PCMU', None)
    body, _ = build_offer('127.0.0.1', d.rtp.port, ('opus',),
                          opus_fmtp=OPUS_FMTP + ';usedtx=1')
    ans = dial(h, d, room, raw_body=body.encode())
    h.check('usedtx=1' in ans.raw, "D: the answer's Opus fmtp says usedtx=1",
            ans.raw.replace('\r\n', ' | '))
    body, _ = build_offer('127.0.0.1', e.rtp.port, ('PCMU', 'CN'))
    ans = dial(h, e, room, raw_body=body.encode())
    h.check(CN_PT in ans.payloads and 'a=rtpmap:13 CN/8000' in ans.raw,
            'E: the answer takes CN/8000', ans.raw.replace('\r\n', ' | '))
    dial(h, f, room)
    time.sleep(2.0)     # the join tones play out; libopus enters DTX

    t0 = time.monotonic()
    time.sleep(3.0)
    t1 = time.monotonic()
    nd = d.rtp.count_packets(t0, t1)
    ne_cn = e.rtp.count_packets(t0, t1, pt=CN_PT)
    ne_audio = e.rtp.count_packets(t0, t1, pt=0)
    nf = f.rtp.count_packets(t0, t1)
    log('silent room, 3 s: D %d packets, E %d CN + %d PCMU, F %d' % (nd, ne_cn, ne_audio, nf))
    h.check(nd <= 15, 'D (Opus, usedtx=1) gets only DTX updates in silence',
            '%d packets in 3 s (%.1f/s; 50/s without DTX)' % (nd, nd / 3.0))
    h.check(4 <= ne_cn <= 16 and ne_audio == 0,
            'E (PCMU, CN) gets a CN packet now and then and no audio in silence',
            '%d CN, %d PCMU in 3 s' % (ne_cn, ne_audio))
    h.check(nf >= 140, 'F (no DTX, no CN) still gets 50 packets a second',
            '%d in 3 s' % nf)

    f.rtp.send_tone(700, dbfs=-12)
    time.sleep(1.0)
    t2 = time.monotonic()
    time.sleep(2.0)
    t3 = time.monotonic()
    nd = d.rtp.count_packets(t2, t3)
    ne = e.rtp.count_packets(t2, t3, pt=0)
    log('F talks, 2 s: D %d, E %d PCMU' % (nd, ne))
    h.check(nd >= 90, 'D gets 50 packets a second once someone talks', '%d in 2 s' % nd)
    h.check(ne >= 90, 'E gets 50 audio packets a second once someone talks', '%d in 2 s' % ne)
    for c in (d, e):
        an = c.rtp.analyze([700], 1.0)
        log('%s: %s' % (c.name, an))
        h.check(an.dbfs[700] > -20, '%s hears F (700 Hz)' % c.name, '%.1f dBFS' % an.dbfs[700])
    pk = e.rtp.packets_between(t0, t3)
    first = next((p for p in pk if p.pt == 0 and p.t > t1), None)
    h.check(first is not None and first.marker,
            "E's first audio packet after CN carries the marker bit", repr(first))
    for c in (d, e):
        pk = c.rtp.packets_between(t0, t3)
        h.check(contiguous(pk), "%s's sequence numbers stay contiguous through the silence"
                % c.name, '%d packets' % len(pk))


def room_voice_flags(h, t):
    """Opus callers without levels or DTX, as softphones send (libopus in
    VOIP mode): their silent packets, whose voice activity flag is clear,
    are not decoded while they are not mixed; one of them starts talking
    (a steady tone, which loses the flag after a second or so) and is heard
    all along."""
    room = 'voice-%d' % os.getpid()
    v = Caller(h, t.sip_addr, 'V', 'opus', None)
    w = Caller(h, t.sip_addr, 'W', 'opus', None)
    lst = Caller(h, t.sip_addr, 'M', 'PCMU', None)
    for c in (v, w):
        c.rtp.opus_voip = True
        dial(h, c, room)
    dial(h, lst, room)
    time.sleep(3.0)
    parts = parts_by_user(h, t.http_port, room)
    sv = (parts.get('v') or {}).get('stats') or {}
    log('V before its tone: %r' % sv)
    h.check(sv.get('packets_in', 0) > 80 and
            sv.get('undecoded_silence', 0) >= 0.8 * sv.get('packets_in', 0),
            "V's silent packets (no voice flag) are not decoded",
            '%r of %r' % (sv.get('undecoded_silence'), sv.get('packets_in')))
    silent = v.rtp.sent     # the statistics lag a second: count here
    v.rtp.send_tone(600, dbfs=-12)
    time.sleep(4.0)
    parts = parts_by_user(h, t.http_port, room)
    pv = parts.get('v') or {}
    sv = pv.get('stats') or {}
    log('V after 4 s of its tone: %r' % sv)
    h.check(pv.get('talking') is True, 'V (a tone) is talking', repr(pv))
    h.check(sv.get('undecoded_silence', 0) <= silent,
            "V's tone is decoded, flag or not",
            '%d undecoded, %d silent packets sent before the tone'
            % (sv.get('undecoded_silence', 0), silent))
    an = lst.rtp.analyze([600], 1.0)
    log('M: %s' % an)
    h.check(an.dbfs[600] > -20, 'M hears V (600 Hz) after 4 s of it',
            '%.1f dBFS' % an.dbfs[600])


def main():
    with Harness('test_silence', time_limit=100) as h:
        t = h.start_tutti()
        undecoded = room_levels(h, t)
        time.sleep(1.2)     # the room totals lag the participants by a second
        m = metric(t.http_port, 'tutti_undecoded_silence_total')
        h.check(m is not None and m >= undecoded,
                '/metrics counts the packets left undecoded',
                '%r vs B\'s %d' % (m, undecoded))
        room_dtx_cn(h, t)
        room_voice_flags(h, t)
        code, dt = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
