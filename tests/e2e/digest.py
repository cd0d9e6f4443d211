"""Digest authentication (RFC 2617 / RFC 7616, MD5, qop=auth) and REGISTER
for tutti's e2e tests: the users a test writes into tutti's store, the
Authorization header that answers a 401, and a UA that registers an address
of record with it.  Python 3 standard library only, on top of sipua.SipUA.
"""

import hashlib
import os
import re
import sqlite3

from harness import log
from sipua import SipUA, split_commas, _rand_token

REALM = 'tutti'


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def ha1(user, password, realm=REALM):
    return md5('%s:%s:%s' % (user, realm, password))


def seed_users(h, t, users):
    """Writes users ({user: password}) into the store of a stopped tutti."""
    db = os.path.join(t.data_dir, 'tutti.db')
    h.check(os.path.isfile(db), 'tutti created its store', db)
    con = sqlite3.connect(db)
    with con:
        for u, p in users.items():
            con.execute('INSERT OR REPLACE INTO users (user, realm, ha1) VALUES (?, ?, ?)',
                        (u, REALM, ha1(u, p)))
    con.close()


def challenge_of(resp):
    """The Digest parameters of a 401's WWW-Authenticate, or None."""
    v = resp.get('www-authenticate')
    if not v or not v.lower().startswith('digest '):
        return None
    params = {}
    for m in re.finditer(r'([A-Za-z-]+)\s*=\s*("([^"]*)"|[^,\s]+)', v[7:]):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return params


def authorization(user, password, ch, uri, nc=1, cnonce=None, realm=None,
                  method='REGISTER'):
    """An Authorization header answering challenge ch (qop=auth, MD5)."""
    realm = realm or ch['realm']
    cnonce = cnonce or _rand_token(12)
    ha2 = md5('%s:%s' % (method, uri))
    ncs = '%08x' % nc
    resp = md5('%s:%s:%s:%s:auth:%s' % (ha1(user, password, realm), ch['nonce'], ncs,
                                        cnonce, ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", '
            'uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%s, '
            'cnonce="%s"' % (user, realm, ch['nonce'], uri, resp, ncs, cnonce))


def contacts_of(resp):
    """{contact URI: expires} of a 200 to REGISTER."""
    out = {}
    for v in resp.get_all('contact'):
        for c in split_commas(v):
            m = re.match(r'\s*<([^>]*)>(.*)$', c)
            if not m:
                continue
            e = re.search(r';\s*expires\s*=\s*(\d+)', m.group(2), re.I)
            out[m.group(1)] = int(e.group(1)) if e else None
    return out


class Registrant:
    """A UA registering one address of record, answering each challenge."""

    def __init__(self, h, tutti, user, password):
        self.h = h
        self.ua = SipUA(tutti.sip_addr, user=user, log=log, name='reg-' + user)
        h.on_cleanup(self.ua.close)
        self.user = user
        self.password = password
        self.uri = 'sip:%s:%d' % tutti.sip_addr
        self.aor = 'sip:%s@%s' % (user, tutti.sip_addr[0])
        self.call_id = '%s@reg' % _rand_token(16)
        self.cseq = 0
        self.ch = None

    @property
    def contact(self):
        return 'sip:%s@%s:%d' % (self.user, self.ua.local_ip, self.ua.port)

    def send(self, auth=None, aor=None, **kw):
        self.cseq += 1
        kw.setdefault('call_id', self.call_id)
        kw.setdefault('cseq', self.cseq)
        return self.ua.register(aor or self.aor, extra_headers=(auth,) if auth else (), **kw)

    def challenged(self, **kw):
        r = self.send(**kw)
        self.ch = challenge_of(r) if r.status == 401 else None
        return r

    def register(self, password=None, aor=None, nc=1, **kw):
        """Asks for a challenge, then answers it; returns (response, auth)."""
        r = self.challenged(aor=aor, **kw)
        if self.ch is None:
            return r, None
        auth = authorization(self.user, password or self.password, self.ch, self.uri, nc)
        return self.send(auth, aor=aor, **kw), auth
