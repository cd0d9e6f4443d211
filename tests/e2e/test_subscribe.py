#!/usr/bin/env python3
"""End-to-end test of conference state (RFC 4575 over RFC 6665).

usage: test_subscribe.py [path/to/tutti]     (or env TUTTI_BIN)

A subscriber watches a room while real callers join, hold, resume and
leave, and while the API mutes, promotes, mutes all but moderators and
kicks.  After every step the state it holds by applying each NOTIFY with
RFC 4575's merge rules must equal a fresh full-state fetch; versions count
1, 2, 3... with no gap; every document is valid against the schema; the
src-id of a participant is the CSRC that stands for it in the mix.  Then
refresh (full state again), unsubscribe (reason=timeout), a subscriber that
answers 481 is dropped, 489 and 423, room deletion (reason=noresource) and
shutdown (reason=deactivated).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log      # noqa: E402
from confsub import (Subscription, ConfState, fetch,     # noqa: E402
                     schema_errors)
from sipua import SipUA                                   # noqa: E402


class Watcher:
    """One subscription and the state it builds from its NOTIFYs."""

    def __init__(self, h, ua, room):
        self.h = h
        self.sub = Subscription(ua, room)
        self.state = ConfState()
        self.versions = []
        self.invalid = []
        self.last_body = None
        self.copies = 0
        self.changed_copies = []

    def take(self, timeout=2.0):
        """Applies the next NOTIFY; returns it (None on timeout)."""
        n = self.sub.wait_notify(timeout)
        if n is None or n.doc is None:
            return n
        if self.versions and n.version == self.versions[-1]:
            # Sofia-SIP re-sends the last NOTIFY when a subscription is
            # refreshed or ends (RFC 6665 asks for a NOTIFY then): a copy,
            # which RFC 4575 4.6 tells the subscriber to discard.
            if n.body != self.last_body:
                self.changed_copies.append(n.version)
            self.copies += 1
            return n
        self.versions.append(n.version)
        self.last_body = n.body
        err = schema_errors(n.body)
        if err:
            self.invalid.append((n.version, err[:300]))
        self.state.apply(n.doc)
        return n

    def drain(self, quiet=0.4):
        got = []
        while True:
            n = self.take(quiet)
            if n is None:
                return got
            got.append(n)


def same_as_fresh(h, w, fetch_ua, room, what):
    # Talking can change between the last NOTIFY and the fetch: a change the
    # subscriber has not been sent yet is not a mismatch, so look again.
    for _ in range(3):
        fresh = fetch(fetch_ua, room)
        if fresh is None or fresh.doc is None:
            break
        f = ConfState()
        f.apply(fresh.doc)
        if w.state.canonical() == f.canonical():
            break
        w.drain(0.3)
    if not h.check(fresh is not None and fresh.doc is not None,
                   'a fresh fetch gets full state (%s)' % what):
        return
    same = w.state.canonical() == f.canonical()
    h.check(same, 'merged partial state equals fresh full state after %s' % what,
            '' if same else 'merged %r\nfresh  %r' % (w.state.canonical(), f.canonical()))
    h.check(not schema_errors(fresh.body), 'fresh full document is schema-valid (%s)' % what,
            schema_errors(fresh.body)[:300])


def status_of(w, prefix):
    ent = w.state.user_by_prefix(prefix)
    ep = w.state.endpoint(ent) if ent else None
    return ep.get('status') if ep else None


def main():
    with Harness('test_subscribe', time_limit=110) as h:
        t = h.start_tutti(['--notify-interval', '0'])
        room = 'sub-%d' % os.getpid()
        ua = SipUA(t.sip_addr, user='watcher', log=log, name='watcher')
        fua = SipUA(t.sip_addr, user='fetcher', log=log, name='fetcher')
        h.on_cleanup(ua.close)
        h.on_cleanup(fua.close)

        # ---- refusals ---------------------------------------------------------
        bad = Subscription(fua, room, event='presence')
        r = bad.subscribe(expires=600)
        h.check(r.status == 489, 'unknown event package gets 489', '%d' % r.status)
        h.check('conference' in (r.get('allow-events') or ''), '489 names Allow-Events: conference',
                repr(r.get('allow-events')))
        short = Subscription(fua, room)
        r = short.subscribe(expires=5)
        h.check(r.status == 423, 'too short Expires gets 423', '%d' % r.status)
        h.check((r.get('min-expires') or '').strip().isdigit(), '423 carries Min-Expires',
                repr(r.get('min-expires')))

        # ---- subscribe ----------------------------------------------------------
        w = Watcher(h, ua, room)
        r = w.sub.subscribe(expires=600)
        h.check(r.status == 200, 'SUBSCRIBE answered 200 (not 202)', '%d %s' % (r.status, r.reason))
        h.check((r.get('expires') or '').strip() == '600', '200 carries Expires: 600',
                repr(r.get('expires')))
        n = w.take()
        h.check(n is not None and n.version == 1 and n.state == 'full',
                'first NOTIFY is full state, version 1',
                n and '%s v%s' % (n.state, n.version))
        if n is None:
            raise SystemExit('no NOTIFY')
        h.check(n.ctype == 'application/conference-info+xml',
                'NOTIFY Content-Type is application/conference-info+xml', n.ctype)
        h.check(n.substate.startswith('active'), 'Subscription-State is active', n.substate)

        # ---- join ----------------------------------------------------------------
        callers = {}
        for name, codec, f in (('alice', 'PCMU', 440), ('bob', 'PCMA', 1000)):
            c = Caller(h, t.sip_addr, name, codec, f)
            t0 = time.monotonic()
            resp = c.dial(room)
            h.check(resp.status == 200, '%s joins' % name, '%d' % resp.status)
            n = w.take()
            h.check(n is not None and n.state == 'partial',
                    'a join is sent as a partial document (%s)' % name,
                    n and '%s v%s' % (n.state, n.version))
            if n is not None:
                h.check(n.time - t0 < 0.6, 'the join NOTIFY follows the INVITE at once',
                        '%.0f ms after the INVITE was sent' % ((n.time - t0) * 1000))
            callers[name] = c
        w.drain()
        same_as_fresh(h, w, fua, room, 'two joins')
        a_ent = w.state.user_by_prefix('sip:alice@')
        h.check(a_ent is not None, 'alice is a user, entity = her AOR', repr(list(w.state.users)))
        h.check(status_of(w, 'sip:alice@') == 'connected', 'alice is connected',
                repr(status_of(w, 'sip:alice@')))
        ep = w.state.endpoint(a_ent) if a_ent else None
        h.check(ep is not None and ep.get('tutti:speaking') == 'true',
                'alice, sending a tone, is speaking', repr(ep and ep.get('tutti:speaking')))
        h.check(w.state.cstate.get('user-count', '').find('>2<') >= 0,
                'user-count is 2', repr(w.state.cstate.get('user-count')))

        # src-id is the CSRC that stands for alice in what bob hears
        time.sleep(1.0)
        ep = w.state.endpoint(a_ent) or {}
        media = ep.get('media', {})
        src = None
        for m in media.values():
            mm = re.search(r'<src-id >(\d+)</>', m)
            if mm:
                src = int(mm.group(1))
        csrcs = set()
        now = time.monotonic()
        for p in callers['bob'].rtp.packets_between(now - 0.8, now):
            csrcs.update(p.csrcs)
        h.check(src is not None and src in csrcs,
                "alice's src-id is in the CSRC list of bob's mix", 'src-id %r, CSRCs %r' % (
                    src, sorted(csrcs)))

        # ---- hold and resume ---------------------------------------------------------
        rr = callers['bob'].dlg.reinvite('sendonly')
        h.check(rr.status == 200, 'bob holds', '%d' % rr.status)
        w.drain()
        time.sleep(1.0)     # the hang-over: bob's tone is no longer mixed
        w.drain()
        h.check(status_of(w, 'sip:bob@') == 'on-hold', 'bob is on-hold',
                repr(status_of(w, 'sip:bob@')))
        b_ep = w.state.endpoint(w.state.user_by_prefix('sip:bob@')) or {}
        h.check(b_ep.get('tutti:speaking') == 'false', 'bob on hold is not speaking',
                repr(b_ep.get('tutti:speaking')))
        same_as_fresh(h, w, fua, room, 'hold')
        rr = callers['bob'].dlg.reinvite('sendrecv')
        w.drain()
        h.check(status_of(w, 'sip:bob@') == 'connected', 'bob is connected again',
                repr(status_of(w, 'sip:bob@')))
        same_as_fresh(h, w, fua, room, 'resume')

        # ---- moderation through the API: mute, promote, mute all, kick ---------------------
        api = '/api/v1/rooms/%s' % room
        ids = {p['uri'].split('@')[0][4:]: p['id']
               for p in http_call(t.http_port, 'GET', api + '/participants').json() or []}
        r = http_call(t.http_port, 'PATCH', '%s/participants/%s' % (api, ids.get('bob')),
                      {'muted': True})
        h.check(r.status == 200, 'the API mutes bob', '%d' % r.status)
        w.drain()
        h.check(status_of(w, 'sip:bob@') == 'muted-via-focus', 'bob is muted-via-focus',
                repr(status_of(w, 'sip:bob@')))
        same_as_fresh(h, w, fua, room, 'a mute')
        r = http_call(t.http_port, 'PATCH', '%s/participants/%s' % (api, ids.get('bob')),
                      {'muted': False})
        w.drain()
        h.check(status_of(w, 'sip:bob@') == 'connected', 'bob unmuted is connected again',
                repr(status_of(w, 'sip:bob@')))
        same_as_fresh(h, w, fua, room, 'an unmute')
        r = http_call(t.http_port, 'PATCH', '%s/participants/%s' % (api, ids.get('alice')),
                      {'moderator': True})
        w.drain()
        roles = w.state.users.get(a_ent, {}).get('children', {}).get('roles', '')
        h.check('moderator' in roles, 'alice promoted by the API has the moderator role',
                repr(roles))
        r = http_call(t.http_port, 'POST', api + '/mute', {})
        muted = {p['uri'].split('@')[0][4:]: p['muted'] for p in (r.json() or [])}
        h.check(r.status == 200 and muted == {'alice': False, 'bob': True},
                'mute all mutes everyone but the moderator', '%d %r' % (r.status, muted))
        w.drain()
        h.check(status_of(w, 'sip:bob@') == 'muted-via-focus'
                and status_of(w, 'sip:alice@') == 'connected',
                'the state shows bob muted and alice not',
                '%r %r' % (status_of(w, 'sip:bob@'), status_of(w, 'sip:alice@')))
        same_as_fresh(h, w, fua, room, 'mute all')
        r = http_call(t.http_port, 'POST', api + '/mute', {'muted': False})
        h.check(r.status == 200, 'unmute all', '%d' % r.status)
        w.drain()
        same_as_fresh(h, w, fua, room, 'unmute all')
        dave = Caller(h, t.sip_addr, 'dave', 'PCMU', 2200)
        dave.dial(room)
        w.drain()
        d_id = next((p['id'] for p in http_call(t.http_port, 'GET', api + '/participants').json()
                     if p['uri'].startswith('sip:dave@')), None)
        r = http_call(t.http_port, 'DELETE', '%s/participants/%s' % (api, d_id))
        h.check(r.status == 204, 'the API kicks dave', '%d' % r.status)
        got = w.drain()
        h.check(dave.dlg.bye_received.wait(2.0), 'dave gets a BYE')
        h.check(any('state="deleted"' in x.body and 'booted' in x.body for x in got),
                'a kick is sent as a deleted user with disconnection-method booted',
                ' | '.join(x.body[:400] for x in got))
        same_as_fresh(h, w, fua, room, 'a kick')

        # ---- leave ------------------------------------------------------------------------
        callers['alice'].dlg.bye()
        got = w.drain()
        deleted = any('state="deleted"' in x.body and 'departed' in x.body for x in got)
        h.check(deleted, 'alice leaving is sent as a deleted user with disconnection-method '
                'departed', ' | '.join(x.body[:400] for x in got))
        h.check(w.state.user_by_prefix('sip:alice@') is None, 'alice is gone from the state')
        same_as_fresh(h, w, fua, room, 'a leave')

        # ---- refresh: full state again, next version -----------------------------------------
        last = w.versions[-1]
        r = w.sub.subscribe(expires=300)
        h.check(r.status == 200, 'refresh answered 200', '%d' % r.status)
        got = w.drain()
        fulls = [x for x in got if x.state == 'full' and x.version == last + 1]
        h.check(bool(fulls), 'a refresh gets full state at the next version',
                repr([(x.state, x.version) for x in got]))

        # ---- versions and schema ----------------------------------------------------------------
        h.check(w.versions == list(range(1, len(w.versions) + 1)),
                'versions count 1, 2, 3... with no gap', repr(w.versions))
        h.check(not w.invalid, 'every NOTIFY body is schema-valid', repr(w.invalid[:2]))
        h.check(not w.state.errors, 'every partial applied in order', repr(w.state.errors))
        h.check(not w.changed_copies and w.copies <= 1,
                'a repeated version is only an identical copy, once, on refresh',
                'copies %d, changed %r' % (w.copies, w.changed_copies))

        # ---- unsubscribe ---------------------------------------------------------------------------
        r = w.sub.subscribe(expires=0)
        h.check(r.status == 200, 'unsubscribe answered 200', '%d' % r.status)
        n = w.sub.wait_notify(2.0)
        h.check(n is not None and n.terminated and n.reason() == 'timeout',
                'unsubscribe ends with terminated;reason=timeout', n and n.substate)

        # ---- a subscriber that answers 481 is dropped ------------------------------------------------
        gone_ua = SipUA(t.sip_addr, user='gone', log=log, name='gone')
        h.on_cleanup(gone_ua.close)
        g = Watcher(h, gone_ua, room)
        g.sub.subscribe(expires=600)
        g.take()
        g.sub.answer_notify_with(481, 'Subscription Does Not Exist')
        c = Caller(h, t.sip_addr, 'carol', 'PCMU', 1700)
        c.dial(room)
        g.drain(0.5)
        before = len(g.sub.notifies())
        callers['bob'].dlg.reinvite('sendonly')
        time.sleep(0.8)
        h.check(len(g.sub.notifies()) == before,
                'after answering 481 a subscriber gets no more NOTIFYs',
                '%d then %d' % (before, len(g.sub.notifies())))
        h.check(t.log_grep('answered 481') != '', 'the bridge logs the dropped subscription')

        # ---- room deleted: reason=noresource ----------------------------------------------------------
        room2 = room + '-gone'
        r = http_call(t.http_port, 'POST', '/api/v1/rooms', {'name': room2})
        h.check(r.status == 201, 'a second room is created', '%d' % r.status)
        d = Watcher(h, ua, room2)
        d.sub.subscribe(expires=600)
        d.take()
        erin = Caller(h, t.sip_addr, 'erin', 'PCMU', 700)
        erin.dial(room2)
        d.drain()
        h.check(d.state.user_by_prefix('sip:erin@') is not None, 'erin is in the second room')
        r = http_call(t.http_port, 'DELETE', '/api/v1/rooms/' + room2)
        h.check(r.status == 204, 'the second room is deleted', '%d' % r.status)
        got = d.drain(0.6)
        ends = [x for x in got if x.terminated]
        h.check(ends and ends[-1].reason() == 'noresource',
                'room deletion ends the subscription with reason=noresource',
                repr([x.substate for x in got]))
        h.check(erin.dlg.bye_received.wait(2.0), 'erin gets a BYE')
        h.check(d.state.user_by_prefix('sip:erin@') is None and not d.state.errors,
                'the final state no longer holds erin', repr(list(d.state.users)))

        # ---- shutdown: reason=deactivated ---------------------------------------------------------------
        s2 = Watcher(h, ua, room)
        s2.sub.subscribe(expires=600)
        s2.take()
        s2.drain(0.3)
        code, dt = t.stop()
        h.check(code == 0, 'tutti exits 0 on SIGTERM', 'exit %s after %.2f s' % (code, dt or 0))
        ns = [x for x in s2.sub.notifies() if x.terminated]
        h.check(any(x.reason() == 'deactivated' for x in ns),
                'shutdown sends terminated;reason=deactivated',
                repr([x.substate for x in ns]))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
