#!/usr/bin/env python3
"""End-to-end test of the registrar (RFC 3261 10, digest of RFC 2617/7616).

usage: test_register.py [path/to/tutti]     (or env TUTTI_BIN)

tutti runs once to create its store, stops, gets two users written into the
store's users table (user, realm, HA1) and starts again on the same data
directory.  Then: a REGISTER without credentials is challenged (401, Digest,
realm, nonce, qop=auth); the right digest registers (200 listing the contact
and its expiry); a replayed Authorization and a forged nonce are refused; a
nonce serves again with a higher nonce count; a wrong password and an
unknown user get the same refusal; a user may not register another's
address (403); Expires below 60 gets 423 with Min-Expires, above 3600 is
capped; several contacts, Expires: 0 and Contact: * remove bindings, and an
out-of-order CSeq is refused; garbage credentials get 400 or 401 and tutti
still answers OPTIONS.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, log                          # noqa: E402
from digest import (REALM, Registrant, authorization, challenge_of,  # noqa: E402
                    contacts_of, md5, seed_users)

USERS = {'alice': 'wonderland', 'bob': 'builder'}


def check_challenge(h, t):
    a = Registrant(h, t, 'alice', USERS['alice'])
    r = a.challenged(expires=120)
    ch = a.ch or {}
    h.check(r.status == 401, 'REGISTER without credentials: 401', r.summary())
    h.check(ch.get('realm') == REALM and len(ch.get('nonce', '')) >= 16,
            'challenge: Digest with realm and nonce', str(r.get('www-authenticate')))
    h.check('auth' in ch.get('qop', '').split(',') and ch.get('algorithm', 'MD5') == 'MD5',
            'challenge: qop=auth, MD5', str(ch))
    h.check('stale' not in ch, 'first challenge is not stale')


def check_register(h, t):
    a = Registrant(h, t, 'alice', USERS['alice'])
    r, auth = a.register(expires=120)
    cs = contacts_of(r)
    h.check(r.status == 200, 'right digest: 200', r.summary())
    h.check(cs.get(a.contact) in (119, 120), '200 lists the contact with its expiry',
            str(r.get_all('contact')))

    # The same Authorization again (a captured request replayed).
    rr = a.send(auth, expires=120)
    ch = challenge_of(rr) or {}
    h.check(rr.status == 401, 'replayed Authorization refused (401)', rr.summary())
    h.check(ch.get('stale') == 'true', 'replay answered with stale=true', str(ch))

    # The nonce serves again with a higher count (RFC 7616 3.4).
    auth2 = authorization('alice', USERS['alice'], a.ch, a.uri, nc=2)
    r2 = a.send(auth2, expires=120)
    h.check(r2.status == 200, 'same nonce, nc=2: 200', r2.summary())

    # A nonce of ours with one digit changed, and one made up.
    nonce = a.ch['nonce']
    for what, forged in (('tampered nonce', nonce[:-1] + ('0' if nonce[-1] != '0' else '1')),
                         ('made-up nonce', 'deadbeef' * 8), ('short nonce', 'abc')):
        bad = dict(a.ch, nonce=forged)
        rf = a.send(authorization('alice', USERS['alice'], bad, a.uri), expires=120)
        chf = challenge_of(rf) or {}
        h.check(rf.status == 401 and chf.get('nonce') and 'stale' not in chf,
                '%s: 401 with a fresh nonce, not stale' % what, rf.summary())

    # A digest-uri that is not the Request-URI.
    a.challenged(expires=120)
    ro = a.send(authorization('alice', USERS['alice'], a.ch, 'sip:other@example.com'),
                expires=120)
    h.check(ro.status in (400, 401, 403), 'digest-uri not the Request-URI: refused',
            ro.summary())
    return a


def check_refusals(h, t):
    a = Registrant(h, t, 'alice', USERS['alice'])
    r, _ = a.register(password='not-the-password', expires=120)
    h.check(r.status in (401, 403), 'wrong password: 401/403', r.summary())
    m = Registrant(h, t, 'mallory', 'whatever')
    rm, _ = m.register(expires=120)
    h.check(rm.status == r.status, 'unknown user: the same answer as a wrong password',
            '%s vs %s' % (rm.summary(), r.summary()))
    b = Registrant(h, t, 'bob', USERS['bob'])
    rb, _ = b.register(aor=a.aor, expires=120)
    h.check(rb.status == 403, "bob registering alice's address: 403", rb.summary())
    rok, _ = b.register(expires=120)
    h.check(rok.status == 200, 'bob registering his own: 200', rok.summary())


def check_expires(h, t, a):
    r, _ = a.register(expires=30)
    h.check(r.status == 423, 'Expires: 30 -> 423', r.summary())
    h.check((r.get('min-expires') or '').strip() == '60', '423 carries Min-Expires: 60',
            str(r.get('min-expires')))
    r, _ = a.register(contact='<%s>;expires=10' % a.contact)
    h.check(r.status == 423, 'Contact ;expires=10 -> 423', r.summary())
    r, _ = a.register(expires=7200)
    h.check(r.status == 200 and contacts_of(r).get(a.contact) in (3599, 3600),
            'Expires: 7200 is capped at 3600', str(r.get_all('contact')))

    other = 'sip:alice@127.0.0.1:5999;transport=tcp'
    r, _ = a.register(contact='<%s>;expires=600' % other)
    cs = contacts_of(r)
    h.check(r.status == 200 and a.contact in cs and cs.get(other) in (599, 600),
            '200 lists every binding of the user', str(cs))
    r, _ = a.register(contact='<%s>' % other, expires=0)
    cs = contacts_of(r)
    h.check(r.status == 200 and other not in cs and a.contact in cs,
            'Expires: 0 removes that contact only', str(cs))
    r, _ = a.register(contact='')
    h.check(r.status == 200 and list(contacts_of(r)) == [a.contact],
            'a query (no Contact) lists the bindings', str(contacts_of(r)))

    # Out of order: the same Call-ID with a lower CSeq.
    a.cseq -= 10
    r, _ = a.register(expires=120)
    h.check(r.status >= 400 and r.status != 401, 'lower CSeq on the same Call-ID refused',
            r.summary())
    a.cseq += 20

    r, _ = a.register(contact='*', expires=120)
    h.check(r.status == 400, 'Contact: * without Expires: 0 -> 400', r.summary())
    r, _ = a.register(contact='*', expires=0)
    h.check(r.status == 200 and not contacts_of(r), 'Contact: *, Expires: 0 removes all',
            str(r.get_all('contact')))
    r, _ = a.register(contact='')
    h.check(r.status == 200 and not contacts_of(r), 'nothing left registered',
            str(r.get_all('contact')))


GARBAGE = [
    'Authorization: Digest',
    'Authorization: Digest garbage',
    'Authorization: Digest ,,,,=,=="',
    'Authorization: Digest username="alice"',
    'Authorization: Digest username="alice", realm="tutti", nonce="x", uri="sip:a", '
    'response="0123"',
    'Authorization: Digest username="alice", realm="tutti", nonce="%s", uri="%%s", '
    'response="%s", qop=auth' % ('0' * 64, '0' * 32),
    'Authorization: Digest username="alice", realm="tutti", nonce="%s", uri="%%s", '
    'response="%s", qop=auth-int, nc=00000001, cnonce="x"' % ('0' * 64, '0' * 32),
    'Authorization: Digest username="%s", realm="tutti"' % ('A' * 3000),
    'Authorization: Basic YWxpY2U6d29uZGVybGFuZA==',
    'Authorization: \x01\x02\x7f',
    'Authorization: Digest realm="other", username="alice", nonce="n", uri="sip:x", '
    'response="%s"' % ('0' * 32),
]


def check_garbage(h, t):
    a = Registrant(h, t, 'alice', USERS['alice'])
    statuses = []
    for g in GARBAGE:
        g = g.replace('%s', a.uri) if '%s' in g else g
        try:
            r = a.send(g, expires=120)
            statuses.append(r.status)
        except Exception as e:     # no answer at all: the parser dropped it
            log('garbage %r: %r' % (g[:60], e))
            statuses.append(None)
    h.check(all(s in (400, 401, None) for s in statuses),
            'garbage credentials: 400 or 401, never accepted', str(statuses))
    h.check(t.alive(), 'tutti still running after garbage')
    r = a.ua.options()
    h.check(r.status == 200, 'tutti still answers OPTIONS', r.summary())


def main():
    h = Harness('e2e_register', time_limit=100)
    with h:
        t = h.start_tutti(name='tutti-reg')
        t.stop()
        seed_users(h, t, USERS)
        t.start()       # the same data directory, now with users
        check_challenge(h, t)
        a = check_register(h, t)
        check_refusals(h, t)
        check_expires(h, t, a)
        check_garbage(h, t)
        leaks = [ln for ln in t.log_text().splitlines()
                 if any(p in ln for p in USERS.values())
                 or md5('alice:%s:%s' % (REALM, USERS['alice'])) in ln]
        h.check(not leaks, 'no password or HA1 in the log', str(leaks[:2]))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
