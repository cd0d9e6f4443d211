#!/usr/bin/env python3
"""End-to-end test of the focus's REFER (RFC 4579) and MESSAGE (RFC 3428).

usage: test_refer_message.py [path/to/tutti]     (or env TUTTI_BIN)

alice is in a room.  She REFERs the conference URI to carol (a UA that
answers calls): the bridge dials carol with Referred-By and an ;isfocus
Contact, alice's REFER gets sipfrag NOTIFYs ending in "200 OK", carol and
alice hear each other's tones, and a subscriber sees carol as dialed-out
and referred by alice.  A REFER to a busy target reports "486"; a REFER
with method=BYE from a non-moderator reports "403" and removes nobody; once
the API makes alice a moderator, the same REFER sent in her own call dialog
reports 200, carol gets a BYE, and a subscriber sees her deleted as booted
by alice.
MESSAGEs in and out of a dialog reach the other participants; strangers,
unknown rooms and binary bodies are refused.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log, LOOPBACK  # noqa: E402
from confsub import Subscription, ConfState, drain       # noqa: E402
from sipua import SipUA                                  # noqa: E402
from rtpaudio import RtpEndpoint                         # noqa: E402
from outofdialog import out_of_dialog, sipfrags, frag_status  # noqa: E402


def main():
    with Harness('test_refer_message', time_limit=100) as h:
        t = h.start_tutti(['--notify-interval', '0'])
        room = 'refer-%d' % os.getpid()
        ruri = 'sip:%s@%s:%d' % (room, LOOPBACK, t.sip_port)

        alice = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
        r = alice.dial(room)
        h.check(r.status == 200, 'alice joins', '%d' % r.status)

        wua = SipUA(t.sip_addr, user='watcher', log=log, name='watcher')
        h.on_cleanup(wua.close)
        sub = Subscription(wua, room)
        sub.subscribe(expires=600)
        state = ConfState()

        # ---- carol answers calls from the bridge -------------------------------
        carol = SipUA(t.sip_addr, user='carol', log=log, name='carol')
        h.on_cleanup(carol.close)
        crtp = RtpEndpoint('carol', log=log)
        h.on_cleanup(crtp.close)
        carol.auto_answer(LOOPBACK, crtp.port, ('PCMU',))
        carol_uri = 'sip:carol@%s:%d' % (LOOPBACK, carol.port)

        resp, cid = out_of_dialog(alice.ua, 'REFER', ruri,
                                  headers=['Refer-To: <%s>' % carol_uri])
        h.check(resp.status == 202, 'REFER to the conference URI is accepted (202)',
                '%d %s' % (resp.status, resp.reason))
        try:
            dlg = carol.incoming.get(timeout=5.0)
        except Exception:
            dlg = None
        if not h.check(dlg is not None, 'the bridge dials carol'):
            raise SystemExit('no dial-out')
        inv = dlg.invite
        h.check('alice' in (inv.get('referred-by') or ''), 'the INVITE carries Referred-By alice',
                repr(inv.get('referred-by')))
        h.check(re.search(r';\s*isfocus', inv.get('contact') or '') is not None,
                'the dial-out Contact carries ;isfocus', repr(inv.get('contact')))
        h.check(room in (inv.get('from') or ''), 'the dial-out comes from the conference URI',
                repr(inv.get('from')))
        frags = sipfrags(alice.ua, cid)
        codes = [frag_status(m) for m in frags]
        h.check(codes and codes[0] == 100 and codes[-1] == 200,
                'REFER progress is reported as sipfrag, ending in 200', repr(codes))
        h.check(all((m.get('content-type') or '').startswith('message/sipfrag') for m in frags),
                'the NOTIFYs are message/sipfrag')
        h.check(frags and (frags[-1].get('subscription-state') or '').startswith('terminated'),
                'the last sipfrag NOTIFY ends the implicit subscription',
                frags and frags[-1].get('subscription-state'))

        # carol's media: she sends 1300 Hz, hears alice's 440 Hz, and alice hears her
        a = dlg.answer
        crtp.configure((a.conn, a.port), 'PCMU', 0, rx_map={0: 'PCMU'})
        crtp.send_tone(1300)
        time.sleep(2.0)
        an = crtp.analyze([440, 1300], 1.0)
        h.check(an.dbfs[440] > -35, 'carol (dialed out) hears alice', '%.1f dBFS' % an.dbfs[440])
        an = alice.rtp.analyze([440, 1300], 1.0)
        h.check(an.dbfs[1300] > -35, 'alice hears carol', '%.1f dBFS' % an.dbfs[1300])

        # the subscriber sees carol dialed-out, referred by alice
        while True:
            n = sub.wait_notify(0.5)
            if n is None:
                break
            state.apply(n.doc)
        ent = state.user_by_prefix('sip:carol@')
        ep = state.endpoint(ent) if ent else None
        h.check(ep is not None and ep.get('joining-method') == 'dialed-out'
                and ep.get('status') == 'connected',
                'the conference state shows carol connected, dialed-out', repr(ep))
        h.check(ep is not None and 'alice' in (ep.get('referred') or ''),
                'and referred by alice', repr(ep and ep.get('referred')))

        # ---- a busy target ---------------------------------------------------------
        dave = SipUA(t.sip_addr, user='dave', log=log, name='dave')
        h.on_cleanup(dave.close)
        dave.auto_answer(status=486)
        resp, cid = out_of_dialog(alice.ua, 'REFER', ruri,
                                  headers=['Refer-To: <sip:dave@%s:%d>' % (LOOPBACK, dave.port)])
        frags = sipfrags(alice.ua, cid)
        codes = [frag_status(m) for m in frags]
        h.check(resp.status == 202 and codes and codes[-1] == 486,
                'a REFER to a busy target reports the real final status 486',
                repr([(m.body, m.get('subscription-state')) for m in frags]))

        # ---- method=BYE from a non-moderator -------------------------------------------
        resp, cid = out_of_dialog(alice.ua, 'REFER', ruri,
                                  headers=['Refer-To: <%s;method=BYE>' % carol_uri])
        codes = [frag_status(m) for m in sipfrags(alice.ua, cid)]
        h.check(codes and codes[-1] == 403, 'REFER method=BYE from a non-moderator reports 403',
                repr(codes))
        time.sleep(0.3)
        h.check(not dlg.bye_received.is_set(), 'and carol is still in the room')

        # ---- MESSAGE ---------------------------------------------------------------------------
        r = alice.dlg.request('MESSAGE', body=b'hello from alice', ctype='text/plain')
        h.check(r.status == 200, 'in-dialog MESSAGE answered 200', '%d' % r.status)
        time.sleep(0.5)
        got = [m for _, m in dlg.requests_received if m.method == 'MESSAGE']
        h.check(got and got[-1].body == b'hello from alice',
                'carol receives the MESSAGE in her call dialog', repr([m.body for m in got]))
        h.check(got and 'alice' in (got[-1].get('referred-by') or ''),
                'naming alice as its sender', got and repr(got[-1].get('referred-by')))
        h.check(not [m for _, m in alice.dlg.requests_received if m.method == 'MESSAGE'],
                'the sender does not get its own MESSAGE back')

        resp, _ = out_of_dialog(alice.ua, 'MESSAGE', ruri, body=b'out of dialog', ctype='text/plain')
        h.check(resp.status == 200, 'out-of-dialog MESSAGE from a participant answered 200',
                '%d' % resp.status)
        stranger = SipUA(t.sip_addr, user='mallory', log=log, name='mallory')
        h.on_cleanup(stranger.close)
        resp, _ = out_of_dialog(stranger, 'MESSAGE', ruri, body=b'spam', ctype='text/plain')
        h.check(resp.status == 403, 'a MESSAGE from a stranger is refused 403', '%d' % resp.status)
        resp, _ = out_of_dialog(alice.ua, 'MESSAGE', 'sip:nosuchroom@%s:%d' % (LOOPBACK, t.sip_port),
                                body=b'x', ctype='text/plain')
        h.check(resp.status == 404, 'a MESSAGE to a room that does not exist gets 404',
                '%d' % resp.status)
        resp, _ = out_of_dialog(alice.ua, 'MESSAGE', ruri, body=b'\x00\x01',
                                ctype='application/octet-stream')
        h.check(resp.status == 415, 'a binary MESSAGE gets 415', '%d' % resp.status)
        time.sleep(0.3)
        got = [m for _, m in dlg.requests_received if m.method == 'MESSAGE']
        h.check([m.body for m in got] == [b'hello from alice', b'out of dialog'],
                'carol got exactly the two accepted MESSAGEs', repr([m.body for m in got]))

        # ---- method=BYE from a moderator, in the REFERrer's own dialog --------------
        parts = http_call(t.http_port, 'GET', '/api/v1/rooms/%s/participants' % room).json() or []
        a_id = next((p['id'] for p in parts if p['uri'].startswith('sip:alice@')), None)
        r = http_call(t.http_port, 'PATCH', '/api/v1/rooms/%s/participants/%s' % (room, a_id),
                      {'moderator': True})
        h.check(r.status == 200 and (r.json() or {}).get('moderator') is True,
                'the API makes alice a moderator', '%d %r' % (r.status, r.body[:200]))
        drain(sub, state, 0.5)
        a_ent = state.user_by_prefix('sip:alice@')
        roles = state.users.get(a_ent, {}).get('children', {}).get('roles', '')
        h.check('moderator' in roles, "the conference state gives alice the moderator role",
                repr(roles))
        r = alice.dlg.request('REFER', extra_headers=['Refer-To: <%s;method=BYE>' % carol_uri,
                                                      'Referred-By: <%s>' % alice.dlg.local_uri])
        h.check(r.status == 202, 'an in-dialog REFER method=BYE is accepted (202)',
                '%d' % r.status)
        codes = [frag_status(m) for m in sipfrags(alice.ua, alice.dlg.call_id)]
        h.check(codes and codes[-1] == 200, 'REFER method=BYE from a moderator reports 200',
                repr(codes))
        h.check(dlg.bye_received.wait(3.0), 'carol gets a BYE from the bridge')
        bodies = [n.body for n in drain(sub, state, 0.5)]
        booted = [b for b in bodies if 'state="deleted"' in b and 'booted' in b]
        h.check(booted and re.search(r'<by>[^<]*alice', booted[-1]) is not None,
                'the subscriber sees carol deleted, booted by alice',
                ' | '.join(b[:500] for b in bodies))
        h.check(state.user_by_prefix('sip:carol@') is None and not state.errors,
                'carol is gone from the merged state', repr(state.errors))
        h.check(t.alive(), 'tutti is still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
