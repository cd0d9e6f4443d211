#!/usr/bin/env python3
"""The OpenAPI document (docs/openapi.json) against the running server.

usage: test_api_openapi.py [path/to/tutti]     (or env TUTTI_BIN)

Every path and method the document names must be served: not 405 and not the
"no such path" 404 (a 404 for a missing room or participant is fine).  For
every path, a method the document does not name must get 405 with an Allow
header that lists exactly the document's methods (plus HEAD where GET is).
Request bodies are the document's own examples, so they are checked too.
"""

import http.client
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import Harness, http_call, log, LOOPBACK      # noqa: E402

DOC = os.path.join(HERE, '..', '..', 'docs', 'openapi.json')
METHODS = ['get', 'put', 'post', 'patch', 'delete']
# DELETE last, so that a deleted room does not hide the other routes.
ORDER = {'get': 0, 'put': 1, 'post': 2, 'patch': 3, 'delete': 4}


def concrete(path, room):
    return path.replace('{room}', room).replace('{id}', '4000000').replace('{user}', 'oa-user')


def example_body(op):
    rb = op.get('requestBody')
    if not rb:
        return None
    c = rb.get('content', {}).get('application/json', {})
    return c.get('example', {})


def served(r):
    """Neither 405 nor the router's own 404."""
    if r.status == 405:
        return False
    if r.status == 404:
        msg = ((r.json() or {}).get('error') or {}).get('message')
        return msg != 'no such path'
    return True


def probe_events(port, path):
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
    try:
        conn.request('GET', path)
        r = conn.getresponse()
        return r.status, r.getheader('Content-Type', '')
    finally:
        conn.close()


def main():
    with Harness('test_api_openapi', time_limit=60) as h:
        with open(DOC) as f:
            doc = json.load(f)
        h.check(doc.get('openapi', '').startswith('3.1'), 'the document is OpenAPI 3.1',
                doc.get('openapi', ''))
        t = h.start_tutti(['--rooms-on-demand', 'no'])
        port = t.http_port
        room = 'oa-%d' % os.getpid()
        r = http_call(port, 'POST', '/api/v1/rooms', {'name': room})
        h.check(r.status == 201, 'room for the probes created', repr(r))

        ops = [(p, m, op) for p, item in doc['paths'].items()
               for m, op in item.items() if m in METHODS]
        h.check(len(ops) >= 16, 'the document names the routes', '%d operations' % len(ops))
        for p, m, op in sorted(ops, key=lambda x: ORDER[x[1]]):
            path = concrete(p, room)
            if p == '/api/v1/events':
                status, ctype = probe_events(port, path)
                h.check(status == 200 and ctype.startswith('text/event-stream'),
                        'GET %s is served' % p, '%d %s' % (status, ctype))
                continue
            r = http_call(port, m.upper(), path, example_body(op))
            h.check(served(r), '%s %s is served' % (m.upper(), p), repr(r))
            h.check(str(r.status) in op['responses'],
                    '%s %s: status %d is documented' % (m.upper(), p, r.status),
                    'documented: %s' % sorted(op['responses']))
            log('%s %s -> %s' % (m.upper(), path, r))

        for p, item in doc['paths'].items():
            want = {m.upper() for m in item if m in METHODS}
            if 'GET' in want:
                want.add('HEAD')
            other = [m for m in METHODS if m.upper() not in want][0]
            r = http_call(port, other.upper(), concrete(p, room), {} if other != 'get' else None)
            allow = {x.strip() for x in r.headers.get('allow', '').split(',') if x.strip()}
            h.check(r.status == 405 and allow == want,
                    '%s %s -> 405 with Allow %s' % (other.upper(), p, ', '.join(sorted(want))),
                    '%d Allow: %s' % (r.status, r.headers.get('allow')))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
