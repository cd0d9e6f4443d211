#!/usr/bin/env python3
"""End-to-end test of in-band keys from wideband callers: a G.722 caller
and an Opus caller that offered no telephone-event press *6 as dual tones
in their audio, and tutti hears them (rtp/dtmfband.c, which brings their
16 and 48 kHz audio down to the DTMF receiver's 8 kHz).

usage: test_inband_keys.py [path/to/tutti]     (or env TUTTI_BIN)

In one room, with no PIN:
    L  PCMU with telephone-event, the listener     500 Hz
    G  G.722 (PT 9), no telephone-event            3000 Hz
    O  Opus, no telephone-event                    2000 Hz
Judged from outside: the answers offer G and O no telephone-event; L hears
both tones; G's *6 mutes G (the API says so) and L then no longer hears
3000 Hz; L never hears both tones of any key while G presses its keys; the
same for O; and L, who has telephone-event, is not delayed or listened to
(its own *6 as in-band tones does not mute it).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, wait_for  # noqa: E402
from rtpaudio import DTMF_FREQS, DTMF_LOW, DTMF_HIGH          # noqa: E402

F = {'L': 500, 'G': 3000, 'O': 2000}
CODECS = {'L': 'PCMU', 'G': 'G722', 'O': 'opus'}
ALL_F = sorted(set(F.values()) | set(DTMF_FREQS))
HEAR_DBFS = -30.0
ABSENT_DBFS = -45.0


def part_of(t, room, user):
    r = http_call(t.http_port, 'GET', '/api/v1/rooms/%s/participants' % room)
    for p in (r.json() or []) if r.status == 200 else []:
        if p.get('uri', '').startswith('sip:%s@' % user):
            return p
    return None


def loudest_key(an):
    """The DTMF key whose two tones are both loudest, and that level."""
    return max(((k, min(an.dbfs[DTMF_LOW[k]], an.dbfs[DTMF_HIGH[k]])) for k in DTMF_LOW),
               key=lambda kv: kv[1])


def press(c, keys):
    c.rtp.send_dtmf_inband(keys)
    wait_for(lambda: c.rtp.keys_pending() == 0, 10)
    # the caller's own tone again once its keys are sent
    c.rtp.send_tone(c.freq)


def mutes_itself(h, t, room, c, listener):
    """c presses *6 in-band: the API shows it muted, the listener hears
    none of the keys and no longer hears c.  A press during which c's own
    sender was starved (a packet left 40 ms or more late), or for which
    the bridge had to conceal a frame of c's (a packet that came too late
    to a starved bridge), is a network hiccup the test did not mean: c is
    unmuted and presses again, three times at most.  (tutti keeps the keys
    out across such hiccups too, test_stream_dtmf, but not always a G.722
    or Opus decoder's first frames after one.)"""
    def hiccups():
        st = (part_of(t, room, c.name.lower()) or {}).get('stats') or {}
        return st.get('concealed_frames', 0) + st.get('late', 0)
    for attempt in range(4):
        c.rtp.key_late_max = 0.0
        before = hiccups()
        t0 = time.monotonic()
        press(c, '*6')
        time.sleep(0.2)         # the last key's frames through the bridge
        late, lost = c.rtp.key_late_max, hiccups() - before
        if (late < 0.04 and not lost) or attempt == 3:
            break
        log('%s: a key packet left %.0f ms late, %d frames concealed or late at the '
            'bridge: again' % (c.name, late * 1000, lost))
        wait_for(lambda: (part_of(t, room, c.name.lower()) or {}).get('muted'), 4)
        pid = (part_of(t, room, c.name.lower()) or {}).get('id')
        http_call(t.http_port, 'PATCH', '/api/v1/rooms/%s/participants/%s' % (room, pid),
                  {'muted': False})
        time.sleep(1.0)
    p = wait_for(lambda: (part_of(t, room, c.name.lower()) or {}).get('muted'), 4)
    h.check(bool(p), '%s (%s, no telephone-event) mutes itself with *6 as in-band tones'
            % (c.name, CODECS[c.name]))
    time.sleep(1.2)
    t1 = time.monotonic()
    an = listener.rtp.analyze(ALL_F, start=t0, end=t1)
    key, level = loudest_key(an)
    h.check(level < ABSENT_DBFS, '%s does not hear %s\'s key tones' % (listener.name, c.name),
            'loudest key %s, both its tones at %.1f dBFS or less' % (key, level))
    an = listener.rtp.analyze(ALL_F, 0.8)
    h.check(an.dbfs[F[c.name]] < ABSENT_DBFS, '%s no longer hears %s' % (listener.name, c.name),
            '%d Hz at %.1f dBFS' % (F[c.name], an.dbfs[F[c.name]]))


def main():
    with Harness('test_inband_keys', time_limit=80) as h:
        t = h.start_tutti()
        room = 'inband-%d' % os.getpid()
        c = {n: Caller(h, t.sip_addr, n, CODECS[n], F[n]) for n in 'LGO'}
        for n, x in c.items():
            r = x.dial(room, telephone_event=(n == 'L'))
            if not h.check(r.status == 200, '%s (%s) INVITE answered 200' % (n, CODECS[n]),
                           '%d %s' % (r.status, r.reason)):
                raise SystemExit('%s could not call' % n)
        for n in 'GO':
            h.check(c[n].dlg.answer.te_pt is None,
                    '%s offered no telephone-event and got none' % n)
        h.check(c['L'].dlg.answer.te_pt is not None, 'L has telephone-event')
        time.sleep(2.0)
        an = c['L'].rtp.analyze(ALL_F, 1.0)
        log('L hears: %s' % an)
        for n in 'GO':
            h.check(an.dbfs[F[n]] > HEAR_DBFS, 'L hears %s (%s)' % (n, CODECS[n]),
                    '%d Hz at %.1f dBFS' % (F[n], an.dbfs[F[n]]))

        # L has telephone-event: tones in its audio are its own business
        press(c['L'], '*6')
        time.sleep(1.0)
        h.check(not (part_of(t, room, 'l') or {}).get('muted', True),
                'L (telephone-event) is not listened to in-band: its tones do not mute it')

        mutes_itself(h, t, room, c['G'], c['L'])
        mutes_itself(h, t, room, c['O'], c['L'])
        h.check(t.alive(), 'tutti still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
