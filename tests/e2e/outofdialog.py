"""Requests outside any dialog (REFER, MESSAGE) and the message/sipfrag
NOTIFYs that report a REFER's progress (RFC 3515), for tutti's e2e tests.
Python 3 standard library only, on top of sipua.SipUA.
"""

import re
import time

from sipua import new_branch, _rand_token


def out_of_dialog(ua, method, ruri, headers=(), body=b'', ctype=None, from_user=None,
                  timeout=5.0):
    """A request outside any dialog; returns (final response, call-id)."""
    branch = new_branch()
    cid = _rand_token(16) + '@' + ua.local_ip
    lines = ['%s %s SIP/2.0' % (method, ruri),
             'Via: SIP/2.0/UDP %s:%d;branch=%s;rport' % (ua.local_ip, ua.port, branch),
             'Max-Forwards: 70',
             'From: <sip:%s@%s:%d>;tag=%s' % (from_user or ua.user, ua.local_ip, ua.port,
                                              _rand_token(8)),
             'To: <%s>' % ruri, 'Call-ID: %s' % cid, 'CSeq: 1 %s' % method,
             'Contact: <sip:%s@%s:%d>' % (from_user or ua.user, ua.local_ip, ua.port)]
    lines += list(headers)
    if body:
        lines.append('Content-Type: %s' % (ctype or 'text/plain'))
    lines.append('Content-Length: %d' % len(body))
    req = ('\r\n'.join(lines) + '\r\n\r\n').encode() + body
    return ua._non_invite(branch, req, method, timeout), cid


def sipfrags(ua, cid, timeout=5.0, until_terminated=True):
    """The sipfrag NOTIFYs received for the REFER with Call-ID cid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [m for _, m in list(ua.received)
               if m.is_request and m.method == 'NOTIFY' and m.get('call-id') == cid]
        if got and (not until_terminated or any(
                (m.get('subscription-state') or '').startswith('terminated') for m in got)):
            return got
        time.sleep(0.05)
    return [m for _, m in list(ua.received)
            if m.is_request and m.method == 'NOTIFY' and m.get('call-id') == cid]


def frag_status(m):
    """The status code of a sipfrag NOTIFY's body, or None."""
    mm = re.match(rb'SIP/2.0 (\d{3})', m.body or b'')
    return int(mm.group(1)) if mm else None
