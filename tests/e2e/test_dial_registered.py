#!/usr/bin/env python3
"""End-to-end test of dial-out to a registered user (RFC 3261 10, RFC 4579).

usage: test_dial_registered.py [path/to/tutti]     (or env TUTTI_BIN)

tutti runs once to create its store, stops, gets the user alice written into
the store's users table and starts again on the same data directory.  alice
registers her UA's contact with digest credentials and answers calls.  bob,
in a room, REFERs the conference URI to alice's address of record on the
bridge (sip:alice@<bridge host>:<bridge port>): the bridge's INVITE reaches
alice at her registered contact, she answers, the REFER's sipfrags end in
200, and bob and alice hear each other's tones.  The bridge's offer offers
RFC 6465's speakers' levels (csrc-audio-level, "/sendonly"); alice's answer
takes them, and every packet she gets carries bob's level beside his CSRC,
within 3 dB of his tone's.  A REFER to a user who is
not registered reports 404, and so does one to alice once she has
unregistered (Expires: 0).
"""

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, LOOPBACK, log          # noqa: E402
from digest import Registrant, contacts_of, seed_users     # noqa: E402
from outofdialog import out_of_dialog, sipfrags, frag_status  # noqa: E402
from rtpaudio import RtpEndpoint                            # noqa: E402

USERS = {'alice': 'looking-glass'}
BOB_HZ, ALICE_HZ = 1000, 700
BOB_DBFS = -12.0        # Caller's tone, peak
CSRC_URI = 'urn:ietf:params:rtp-hdrext:csrc-audio-level'


def check_levels(h, inv, artp, t0, t1):
    """The offer's csrc-audio-level, and one level per CSRC in what alice got."""
    body = inv.body.decode('utf-8', 'replace')
    ids = [ln.split()[0].split(':')[1].split('/') for ln in body.splitlines()
           if ln.startswith('a=extmap:') and CSRC_URI in ln]
    h.check(len(ids) == 1 and ids[0][1:] == ['sendonly'],
            "the bridge's offer offers the speakers' levels to send", repr(ids))
    ext_id = int(ids[0][0]) if ids else 0
    want = -(BOB_DBFS + 20 * math.log10(math.sqrt(0.5)))     # RMS, -dBov
    pkts = [p for p in artp.packets_between(t0, t1) if p.pt == 0]
    bad, levels = [], []
    for p in pkts:
        lv = (p.ext() or {}).get(ext_id)
        if not p.csrcs or lv is None or len(lv) != len(p.csrcs):
            bad.append(p)
        else:
            levels.append(lv[0] & 0x7f)
    h.check(len(pkts) >= 40 and not bad,
            'every packet alice gets carries a level per CSRC (element %d)' % ext_id,
            '%d packets, %d without' % (len(pkts), len(bad)))
    worst = max((abs(x - want) for x in levels), default=99)
    h.check(levels and worst <= 3.0, "beside bob's CSRC, bob's level (%.1f -dBov)" % want,
            'median %s, worst off by %.1f dB' % (sorted(levels)[len(levels) // 2]
                                                 if levels else None, worst))


def refer(h, bob, ruri, target, what):
    """bob REFERs the conference URI to target; returns the sipfrag codes."""
    resp, cid = out_of_dialog(bob.ua, 'REFER', ruri, headers=['Refer-To: <%s>' % target])
    h.check(resp.status == 202, '%s: REFER accepted (202)' % what,
            '%d %s' % (resp.status, resp.reason))
    frags = sipfrags(bob.ua, cid)
    codes = [frag_status(m) for m in frags]
    log('%s: sipfrags %r' % (what, codes))
    h.check(frags and (frags[-1].get('subscription-state') or '').startswith('terminated'),
            '%s: the last sipfrag NOTIFY ends the implicit subscription' % what,
            repr([m.get('subscription-state') for m in frags]))
    return codes


def check_dial(h, t, bob, alice, artp, ruri, aor):
    codes = refer(h, bob, ruri, aor, 'REFER to alice')
    try:
        dlg = alice.ua.incoming.get(timeout=5.0)
    except Exception:
        dlg = None
    if not h.check(dlg is not None, "the bridge calls alice's registered UA"):
        raise SystemExit('no dial-out')
    inv = dlg.invite
    h.check(inv.uri == alice.contact, 'the INVITE goes to her registered contact',
            '%s vs %s' % (inv.uri, alice.contact))
    h.check(codes and codes[-1] == 200, 'the REFER reports 200', repr(codes))

    a = dlg.answer
    artp.configure((a.conn, a.port), 'PCMU', 0, rx_map={0: 'PCMU'})
    artp.send_tone(ALICE_HZ)
    time.sleep(2.0)
    now = time.monotonic()
    check_levels(h, inv, artp, now - 1.5, now)
    an = artp.analyze([BOB_HZ, ALICE_HZ], 1.0)
    h.check(an.dbfs[BOB_HZ] > -35, 'alice (dialed at her contact) hears bob',
            '%.1f dBFS' % an.dbfs[BOB_HZ])
    an = bob.rtp.analyze([BOB_HZ, ALICE_HZ], 1.0)
    h.check(an.dbfs[ALICE_HZ] > -35, 'bob hears alice', '%.1f dBFS' % an.dbfs[ALICE_HZ])
    artp.stop_sending()
    r = dlg.bye(timeout=3.0)
    h.check(r.status == 200, 'alice hangs up', r.summary())


def main():
    with Harness('e2e_dial_registered', time_limit=100) as h:
        t = h.start_tutti(['--notify-interval', '0'], name='tutti-dial')
        t.stop()
        seed_users(h, t, USERS)
        t.start()       # the same data directory, now with alice
        room = 'dialreg-%d' % os.getpid()
        ruri = 'sip:%s@%s:%d' % (room, LOOPBACK, t.sip_port)
        aor = 'sip:alice@%s:%d' % (LOOPBACK, t.sip_port)

        alice = Registrant(h, t, 'alice', USERS['alice'])
        artp = RtpEndpoint('alice', log=log)
        h.on_cleanup(artp.close)
        alice.ua.auto_answer(LOOPBACK, artp.port, ('PCMU',),
                             extra=('a=extmap:2/recvonly %s' % CSRC_URI,))
        r, _ = alice.register(expires=300)
        h.check(r.status == 200 and alice.contact in contacts_of(r),
                'alice registers her contact', r.summary())

        bob = Caller(h, t.sip_addr, 'bob', 'PCMU', BOB_HZ)
        r = bob.dial(room)
        h.check(r.status == 200, 'bob joins the room', '%d' % r.status)

        check_dial(h, t, bob, alice, artp, ruri, aor)

        codes = refer(h, bob, ruri, 'sip:nobody@%s:%d' % (LOOPBACK, t.sip_port),
                      'REFER to an unregistered user')
        h.check(codes and codes[-1] == 404, 'an unregistered user: sipfrag 404', repr(codes))

        r, _ = alice.register(expires=0)
        h.check(r.status == 200 and not contacts_of(r), 'alice unregisters (Expires: 0)',
                '%s %r' % (r.summary(), contacts_of(r)))
        n = alice.ua.incoming.qsize()
        codes = refer(h, bob, ruri, aor, 'REFER to alice, unregistered')
        h.check(codes and codes[-1] == 404, 'alice, unregistered: sipfrag 404', repr(codes))
        time.sleep(0.3)
        h.check(alice.ua.incoming.qsize() == n, 'and alice is not called')
        h.check(t.alive(), 'tutti is still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
