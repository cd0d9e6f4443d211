"""A conference-event subscriber (RFC 6665, RFC 4575) for tutti's e2e tests.

Python 3.11 standard library only, on top of sipua.SipUA.  A Subscription
sends SUBSCRIBE with Event: conference, keeps the dialog, refreshes and
unsubscribes; every NOTIFY the bridge sends is answered by the UA (200, or
the status the test asks for) and recorded.  ConfState applies documents the
way RFC 4575 4.6 tells a subscriber to: a full document replaces the state,
a partial one must carry the next version and is merged element by element
(users and endpoints keyed by entity, media by id, state="full" replaces,
"partial" merges, "deleted" removes; conference-description and
conference-state children replace one by one).  canonical() gives a form in
which a merged state and a fresh full document can be compared.
"""

import os
import re
import subprocess
import time
import xml.etree.ElementTree as ET

from sipua import Dialog, _rand_token, new_branch, tag_of, uri_of

NS = 'urn:ietf:params:xml:ns:conference-info'
TUTTI_NS = 'urn:x-tutti:params:xml:ns:conference-info'
XSD = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data',
                   'conference-info.xsd')


def q(tag):
    return '{%s}%s' % (NS, tag)


def local(tag):
    return tag.split('}', 1)[-1] if '}' in tag else tag


class Notify:
    def __init__(self, t, msg):
        self.time = t
        self.msg = msg
        self.body = msg.body.decode('utf-8', 'replace') if msg.body else ''
        self.ctype = (msg.get('content-type') or '').split(';')[0].strip().lower()
        self.substate = msg.get('subscription-state') or ''
        self.doc = None
        self.version = None
        self.state = None
        if self.body:
            self.doc = ET.fromstring(self.body.encode())
            self.version = int(self.doc.get('version'))
            self.state = self.doc.get('state', 'full')

    @property
    def terminated(self):
        return self.substate.lower().startswith('terminated')

    def reason(self):
        m = re.search(r'reason=([A-Za-z-]+)', self.substate)
        return m.group(1) if m else None


def schema_errors(body):
    """xmllint's verdict on a document: '' when valid."""
    p = subprocess.run(['xmllint', '--noout', '--nonet', '--schema', XSD, '-'],
                       input=body.encode(), capture_output=True, timeout=20)
    return '' if p.returncode == 0 else p.stderr.decode('utf-8', 'replace')


class Subscription:
    def __init__(self, ua, room, event='conference'):
        self.ua = ua
        self.dlg = ua.new_dialog(room)
        self.event = event
        self.response = None
        self.seen = 0

    def _contact(self):
        return 'Contact: %s' % self.ua.contact_uri()

    def subscribe(self, expires=600, extra=(), timeout=5.0):
        """SUBSCRIBE (initial or refresh); returns the final response."""
        d = self.dlg
        d.cseq += 1
        headers = ['Event: %s' % self.event, 'Expires: %d' % expires,
                   'Accept: application/conference-info+xml', self._contact()]
        headers.extend(extra)
        branch = new_branch()
        req = d._request('SUBSCRIBE', d.cseq, branch, extra_headers=headers)
        resp = self.ua._non_invite(branch, req, 'SUBSCRIBE', timeout)
        if 200 <= resp.status < 300 and not d.remote_tag:
            d.remote_tag = tag_of(resp.get('to', ''))
            c = resp.get('contact')
            if c:
                d.remote_target = uri_of(c)
            d.established = True
        self.response = resp
        return resp

    def notifies(self):
        return [Notify(t, m) for t, m in list(self.dlg.requests_received)
                if m.method == 'NOTIFY']

    def wait_notify(self, timeout=3.0, after=None):
        """The next NOTIFY not yet returned by this method, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ns = self.notifies()
            if len(ns) > self.seen:
                n = ns[self.seen]
                self.seen += 1
                return n
            time.sleep(0.01)
        return None

    def answer_notify_with(self, status, reason):
        self.dlg.notify_reply = (status, reason)


def fetch(ua, room, timeout=5.0):
    """A fresh subscription with Expires: 0 (RFC 6665 fetch): its one NOTIFY."""
    s = Subscription(ua, room)
    r = s.subscribe(expires=0, timeout=timeout)
    if r.status != 200:
        return None
    return s.wait_notify(timeout)


class ConfState:
    """A subscriber's view of the conference, kept by RFC 4575's rules."""

    def __init__(self):
        self.version = None
        self.entity = None
        self.desc = {}
        self.cstate = {}
        self.users = {}
        self.errors = []

    # ---- applying documents -------------------------------------------------
    def apply(self, doc):
        v = int(doc.get('version'))
        state = doc.get('state', 'full')
        if state == 'full':
            self.desc, self.cstate, self.users = {}, {}, {}
        elif self.version is None or v != self.version + 1:
            self.errors.append('partial version %d after %s' % (v, self.version))
            return False
        self.version = v
        self.entity = doc.get('entity')
        for child in doc:
            name = local(child.tag)
            if name == 'conference-description':
                self._children_replace(self.desc, child)
            elif name == 'conference-state':
                self._children_replace(self.cstate, child)
            elif name == 'users':
                self._users(child)
        return True

    @staticmethod
    def _children_replace(target, elem):
        for c in elem:
            target[local(c.tag)] = canon(c)

    def _users(self, users):
        if users.get('state', 'full') == 'full':
            self.users = {}
        for u in users:
            ent = u.get('entity')
            st = u.get('state', 'full')
            if st == 'deleted':
                self.users.pop(ent, None)
            elif st == 'full' or ent not in self.users:
                self.users[ent] = self._user_new(u)
            else:
                self._user_merge(self.users[ent], u)

    def _user_new(self, u):
        user = {'children': {}, 'endpoints': {}}
        self._user_merge(user, u)
        return user

    def _user_merge(self, user, u):
        for c in u:
            name = local(c.tag)
            if name == 'endpoint':
                ent = c.get('entity')
                st = c.get('state', 'full')
                if st == 'deleted':
                    user['endpoints'].pop(ent, None)
                elif st == 'full' or ent not in user['endpoints']:
                    user['endpoints'][ent] = self._ep_merge({'children': {}, 'media': {}}, c)
                else:
                    self._ep_merge(user['endpoints'][ent], c)
            else:
                user['children'][name] = canon(c)

    @staticmethod
    def _ep_merge(ep, e):
        for c in e:
            name = local(c.tag) if not c.tag.startswith('{%s}' % TUTTI_NS) else 'tutti:' + local(c.tag)
            if name == 'media':
                ep['media'][c.get('id')] = canon(c)
            else:
                ep['children'][name] = canon(c)
        return ep

    # ---- comparing ------------------------------------------------------------
    def canonical(self):
        users = {}
        for ent, u in self.users.items():
            eps = {e: (tuple(sorted(ep['children'].items())), tuple(sorted(ep['media'].items())))
                   for e, ep in u['endpoints'].items()}
            users[ent] = (tuple(sorted(u['children'].items())), tuple(sorted(eps.items())))
        return (self.entity, tuple(sorted(self.desc.items())), tuple(sorted(self.cstate.items())),
                tuple(sorted(users.items())))

    def endpoint(self, user_entity):
        """The children of the (first) endpoint of a user, as tag -> text."""
        u = self.users.get(user_entity)
        if not u or not u['endpoints']:
            return None
        ep = next(iter(u['endpoints'].values()))
        out = {k: re.sub(r'<[^>]*>', '', v) for k, v in ep['children'].items()}
        out['media'] = {k: v for k, v in ep['media'].items()}
        return out

    def user_by_prefix(self, prefix):
        for ent in self.users:
            if ent.startswith(prefix):
                return ent
        return None


def drain(sub, state, quiet=0.3):
    """Applies to state every NOTIFY of sub that arrives until none comes
    for `quiet` s, skipping repeated versions (RFC 4575 4.6); returns the
    NOTIFYs applied."""
    applied = []
    while True:
        n = sub.wait_notify(quiet)
        if n is None:
            return applied
        if n.doc is not None and (state.version is None or n.version > state.version):
            state.apply(n.doc)
            applied.append(n)


def canon(elem):
    """Text form of an element, without state attributes, whitespace-trimmed."""
    attrs = ' '.join('%s=%s' % (local(k), v) for k, v in sorted(elem.attrib.items())
                     if k != 'state')
    inner = ''.join(canon(c) for c in elem)
    text = (elem.text or '').strip()
    return '<%s %s>%s%s</>' % (local(elem.tag), attrs, text, inner)


def full_state(notify):
    s = ConfState()
    s.apply(notify.doc)
    return s


def rand_tag():
    return _rand_token(8)


__all__ = ['Subscription', 'ConfState', 'Notify', 'fetch', 'schema_errors', 'full_state',
           'Dialog', 'rand_tag']
