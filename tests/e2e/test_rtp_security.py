#!/usr/bin/env python3
"""End-to-end test of who may be heard, and of callers whose media stops.

usage: test_rtp_security.py [path/to/tutti]     (or env TUTTI_BIN)

tutti runs with --rtp-timeout 3.
  alice    an ordinary caller (PCMU, 440 Hz).
  mallory  is no caller: it sends a loud 3300 Hz tone to alice's media port
           on the bridge (the "RTP bleed" attack).  Nobody hears it; the API
           counts its packets as foreign_dropped on alice.
  bob      is "behind NAT": his SDP names 127.0.0.1 and a port nobody
           listens on, his packets come from 127.0.0.2.  The bridge latches
           to that source (two packets in sequence from one SSRC) within the
           call's first seconds: bob hears alice and alice hears bob
           (1000 Hz); the API says latched 1.  After that, mallory sending to
           bob's port is not heard either.
  carol    sends for a second, then nothing, her SIP dialog still up: within
           3 s + 1 s she gets the bridge's BYE, logged, and a subscriber sees
           her leave with disconnection-method failed.
  dave     puts the room on hold (sendonly) and sends nothing: never hung up.
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, free_port, log, LOOPBACK  # noqa: E402
from confsub import Subscription, ConfState, drain                       # noqa: E402
from rtpaudio import RtpEndpoint                                          # noqa: E402
from sipua import SipUA                                                   # noqa: E402


def stats(t, room, who):
    parts = http_call(t.http_port, 'GET', '/api/v1/rooms/%s/participants' % room).json() or []
    for p in parts:
        if p['uri'].startswith('sip:%s@' % who):
            return p.get('stats') or {}
    return None


def main():
    with Harness('test_rtp_security', time_limit=90) as h:
        t = h.start_tutti(['--rtp-timeout', '3'])
        room = 'rtpsec-%d' % os.getpid()
        wua = SipUA(t.sip_addr, user='watcher', log=log, name='watcher')
        h.on_cleanup(wua.close)
        sub = Subscription(wua, room)
        sub.subscribe(expires=600)
        state = ConfState()

        alice = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
        h.check(alice.dial(room).status == 200, 'alice joins')

        # ---- bob behind "NAT" -------------------------------------------------------
        bob = Caller(h, t.sip_addr, 'bob', 'PCMU', 1000)
        bob.rtp.close()
        bob.rtp = RtpEndpoint('bob', local_ip='127.0.0.2', log=log)
        h.on_cleanup(bob.rtp.close)
        bob.dlg, r = bob.ua.call(room, LOOPBACK, free_port(tcp=False), codecs=('PCMU',))
        h.check(r.status == 200, 'bob joins, his SDP naming a port nobody listens on')
        bob.apply_answer()
        bob.rtp.send_tone(1000)

        # ---- mallory --------------------------------------------------------------------
        mallory = RtpEndpoint('mallory', log=log)
        h.on_cleanup(mallory.close)
        a = alice.dlg.answer
        mallory.configure((a.conn, a.port), 'PCMU', 0)
        mallory.send_tone(3300, dbfs=-3.0)

        time.sleep(2.5)
        an = bob.rtp.analyze([440, 1000, 3300], 1.0)
        h.check(an.dbfs[440] > -35, 'bob, latched, hears alice', '%.1f dBFS' % an.dbfs[440])
        h.check(an.dbfs[3300] < -60, "mallory's tone sent to alice's port is not heard",
                '%.1f dBFS' % an.dbfs[3300])
        an = alice.rtp.analyze([440, 1000, 3300], 1.0)
        h.check(an.dbfs[1000] > -35, 'alice hears bob', '%.1f dBFS' % an.dbfs[1000])
        h.check(an.dbfs[3300] < -60, 'alice does not hear mallory either',
                '%.1f dBFS' % an.dbfs[3300])
        time.sleep(1.2)     # the mixer's figures are a second old at most
        sa, sb = stats(t, room, 'alice') or {}, stats(t, room, 'bob') or {}
        h.check(sa.get('foreign_dropped', 0) > 20,
                "the API counts mallory's packets as foreign_dropped on alice", repr(sa))
        r = http_call(t.http_port, 'GET', '/metrics')
        dropped = [ln for ln in r.body.decode().splitlines()
                   if ln.startswith('tutti_packets_dropped_total{reason="foreign"} ')]
        n = int(dropped[0].split()[1]) if dropped else -1
        h.check(n >= sa.get('foreign_dropped', 0) > 20,
                '/metrics counts them in tutti_packets_dropped_total{reason="foreign"}',
                '%d, alice %r' % (n, sa.get('foreign_dropped')))
        h.check(sb.get('latched') == 1 and sb.get('packets_in', 0) > 50,
                'the API says bob was latched once, and takes his packets', repr(sb))
        b = bob.dlg.answer
        mallory.configure((b.conn, b.port), 'PCMU', 0)
        time.sleep(1.5)
        an = alice.rtp.analyze([440, 1000, 3300], 1.0)
        h.check(an.dbfs[3300] < -60 and an.dbfs[1000] > -35,
                "once bob is latched, mallory sending to bob's port is not heard",
                '3300 Hz %.1f dBFS, bob %.1f dBFS' % (an.dbfs[3300], an.dbfs[1000]))
        mallory.stop_sending()

        # ---- carol goes silent, dave goes on hold ---------------------------------------------
        carol = Caller(h, t.sip_addr, 'carol', 'PCMU', 1500)
        h.check(carol.dial(room).status == 200, 'carol joins')
        dave = Caller(h, t.sip_addr, 'dave', 'PCMU', 2200)
        h.check(dave.dial(room).status == 200, 'dave joins')
        time.sleep(1.0)
        r = dave.dlg.reinvite('sendonly')
        h.check(r.status == 200, 'dave puts the room on hold', '%d' % r.status)
        dave.rtp.stop_sending()
        carol.rtp.stop_sending()
        t0 = time.monotonic()
        got = carol.dlg.bye_received.wait(6.0)
        dt = time.monotonic() - t0
        h.check(got and 2.5 < dt < 5.5, 'carol, silent, gets a BYE after --rtp-timeout 3',
                '%s after %.1f s' % (got, dt))
        h.check('no RTP for 3 s' in t.log_grep('no RTP for'), 'the bridge logs why',
                t.log_grep('no RTP for', 1))
        time.sleep(0.5)
        bodies = [n.body for n in drain(sub, state)]
        h.check(any('sip:carol@' in x and 'state="deleted"' in x and
                    '<disconnection-method>failed<' in x for x in bodies),
                'a subscriber sees carol leave with disconnection-method failed',
                ' | '.join(x[:200] for x in bodies[-3:]))
        time.sleep(2.0)
        h.check(not dave.dlg.bye_received.is_set(),
                'dave, on hold and silent for 5 s, is not hung up')
        h.check(not alice.dlg.bye_received.is_set() and not bob.dlg.bye_received.is_set(),
                'alice and bob, sending, are still in the room')
        h.check(t.alive(), 'tutti is still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
