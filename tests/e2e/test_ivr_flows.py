#!/usr/bin/env python3
"""End-to-end test of the dial-in dialogue's other paths, with one tutti
started with --dialin-number 5000 --digit-timeout 2 --announce-count yes
--wait-for-moderator yes --end-with-last-moderator yes:

* W calls the room and gets its PIN wrong three times: it hears the
  prompts, is never listed, and the bridge hangs up on it.
* U calls the generic number 5000, is asked which conference (it types
  the room's number), then its PIN; the room has a moderator PIN and no
  moderator yet, so U waits, hearing a hold tune, unlisted.
* Mo calls 5000 the same way with the moderator PIN: U comes in with it,
  Mo hears how many others are there, and they hear each other; the room
  is listed by the API, the lobby of 5000 is not. The room's conference
  state (RFC 4575, fetched with SUBSCRIBE) counts no one while U waits,
  then both, Mo with the role moderator.
* Mo hangs up, the last moderator: U hears that the conference ended and
  the bridge hangs up on it.

usage: test_ivr_flows.py [path/to/tutti]
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confsub import fetch, q                                               # noqa: E402
from harness import Harness, Caller, log, http_call, wait_for             # noqa: E402
from sipua import SipUA                                                   # noqa: E402
from test_ivr import (ALL_F, PROMPT_DBFS, HEAR_DBFS, dial, keys_rfc4733,   # noqa: E402
                      part_of, participants, speech_db)

ROOM, PIN, MOD_PIN, NUMBER = '7788', '11', '99', '5000'
HOLD_F = (392, 494, 587)
FREQS = sorted(set(ALL_F) | set(HOLD_F))


def roster(ua, room):
    """The room's conference state now: user-count and {user: role}."""
    n = fetch(ua, room)
    if n is None or n.doc is None:
        return None, {}
    count = n.doc.find('.//' + q('user-count'))
    users = {}
    for u in n.doc.iter(q('user')):
        roles = [e.text for e in u.iter(q('entry'))]
        users[u.get('entity')] = roles[0] if roles else None
    return int(count.text) if count is not None else None, users


def main():
    with Harness('test_ivr_flows', time_limit=110) as h:
        t = h.start_tutti(['--dialin-number', NUMBER, '--digit-timeout', '2',
                           '--announce-count', 'yes', '--wait-for-moderator', 'yes',
                           '--end-with-last-moderator', 'yes'])
        r = http_call(t.http_port, 'POST', '/api/v1/rooms',
                      {'name': ROOM, 'pin': PIN, 'moderator_pin': MOD_PIN})
        h.check(r.status == 201, 'room %s created' % ROOM, repr(r))

        # ---- W: three wrong PINs -------------------------------------------
        w = Caller(h, t.sip_addr, 'W', 'PCMU', 2000)
        t_w = dial(h, w, ROOM)
        for _ in range(3):
            time.sleep(1.0)
            keys_rfc4733(w, '12#')
        bye = w.dlg.bye_received.wait(15)
        h.check(bye, 'W is hung up on after three wrong PINs',
                '%.1f s after its INVITE' % (time.monotonic() - t_w))
        an = w.rtp.analyze(FREQS, start=t_w + 0.3, end=t_w + 2.3)
        h.check(speech_db(an) > PROMPT_DBFS, 'W heard the PIN prompt',
                '%.1f dBFS of speech' % speech_db(an))
        h.check(not participants(t, ROOM), 'W was never listed by the API')

        # ---- U: the generic number, the room's number, the PIN, waits ------
        u = Caller(h, t.sip_addr, 'U', 'PCMU', 1000)
        t_u = dial(h, u, NUMBER)
        time.sleep(2.0)
        an = u.rtp.analyze(FREQS, start=t_u + 0.3, end=t_u + 2.0)
        h.check(speech_db(an) > PROMPT_DBFS, 'U hears "enter the conference number"',
                '%.1f dBFS of speech' % speech_db(an))
        keys_rfc4733(u, ROOM + '#')
        time.sleep(1.5)
        t0 = time.monotonic()
        keys_rfc4733(u, PIN + '#')
        time.sleep(6.0)     # "please wait for the moderator", then the tune
        an = u.rtp.analyze(FREQS, 2.5)
        log('U waiting: %s' % an)
        h.check(max(an.dbfs[f] for f in HOLD_F) > -35, 'U hears the hold tune while it waits',
                ', '.join('%d Hz %.1f' % (f, an.dbfs[f]) for f in HOLD_F))
        h.check(part_of(t, ROOM, 'u') is None, 'U, waiting, is not listed yet')
        sub_ua = SipUA(t.sip_addr, user='watcher', log=log, name='watcher')
        h.on_cleanup(sub_ua.close)
        count, users = roster(sub_ua, ROOM)
        h.check(count == 0 and not users, 'the conference state counts no one while U waits',
                'user-count %r, users %r' % (count, users))
        rooms = [x.get('name') for x in (http_call(t.http_port, 'GET', '/api/v1/rooms').json()
                                         or [])]
        h.check(rooms == [ROOM], 'the API lists the room and not the lobby of %s' % NUMBER,
                repr(rooms))
        h.check(time.monotonic() - t0 > 5 and not u.dlg.bye_received.is_set(),
                'U is still in the call')

        # ---- Mo: the moderator PIN by the generic number -------------------
        mo = Caller(h, t.sip_addr, 'Mo', 'PCMU', 2000)
        dial(h, mo, NUMBER)
        time.sleep(0.8)
        keys_rfc4733(mo, ROOM + '#')
        time.sleep(1.5)
        keys_rfc4733(mo, MOD_PIN + '#')
        p = wait_for(lambda: part_of(t, ROOM, 'mo'), 4)
        h.check(p is not None and p.get('moderator') is True, 'Mo is in, as moderator', repr(p))
        h.check(part_of(t, ROOM, 'u') is not None, 'U comes in with the moderator')
        count, users = roster(sub_ua, ROOM)
        roles = {e.split('@')[0]: r for e, r in users.items()}
        h.check(count == 2 and roles.get('sip:mo') == 'moderator' and
                roles.get('sip:u') == 'participant',
                'the conference state shows both, Mo as moderator',
                'user-count %r, roles %r' % (count, roles))
        time.sleep(1.5)
        an = mo.rtp.analyze(FREQS, 1.4)
        log('Mo in: %s' % an)
        h.check(speech_db(an) > PROMPT_DBFS, 'Mo hears how many others are there',
                '%.1f dBFS of speech' % speech_db(an))
        time.sleep(1.0)
        an_u, an_mo = u.rtp.analyze(FREQS, 0.8), mo.rtp.analyze(FREQS, 0.8)
        h.check(an_u.dbfs[2000] > HEAR_DBFS, 'U hears Mo', '%.1f dBFS' % an_u.dbfs[2000])
        h.check(an_mo.dbfs[1000] > HEAR_DBFS, 'Mo hears U', '%.1f dBFS' % an_mo.dbfs[1000])

        # ---- the last moderator leaves: the conference ends ----------------
        t0 = time.monotonic()
        mo.dlg.bye(timeout=2.0)
        bye = u.dlg.bye_received.wait(10)
        h.check(bye, 'U is hung up on when the last moderator leaves',
                '%.1f s after the moderator\'s BYE' % (time.monotonic() - t0))
        an = u.rtp.analyze(FREQS, start=t0 + 0.2, end=t0 + 1.7)
        h.check(speech_db(an) > PROMPT_DBFS, 'U heard "the conference has ended" first',
                '%.1f dBFS of speech' % speech_db(an))
        h.check(t.alive(), 'tutti still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
