#!/usr/bin/env python3
"""The API answers when tutti's descriptors are past FD_SETSIZE.

usage: test_api_fds.py [path/to/tutti]     (or env TUTTI_BIN)

A thousand calls hold two sockets each, so the socket of an HTTP
connection accepted then has a number above 1024, which select() cannot
watch: microhttpd on select() reset every such connection (found by
bench/loadgen with 1,000 callers: /metrics stopped answering).  Rather
than a thousand calls, tutti is started here with 1,100 descriptors
already open (a small exec wrapper dups /dev/null onto 3..1102, keeping
the PID), so that everything it opens lies above 1024; /healthz and
/metrics must answer 200, several times over, and tutti exits 0.
"""

import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Tutti, tutti_binary, http_call, log   # noqa: E402

HELD = 1100
# Runs in the child: raise the soft limit, hold HELD descriptors, become tutti.
WRAPPER = ('import os, resource, sys\n'
           'soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n'
           'resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))\n'
           'for fd in range(3, 3 + %d):\n'
           '    os.dup2(0, fd, inheritable=True)\n'
           'os.execv(sys.argv[1], sys.argv[1:])\n' % HELD)


def main():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with Harness('test_api_fds', time_limit=60) as h:
        if hard != resource.RLIM_INFINITY and hard < HELD + 200:
            log('SKIP: the descriptor limit (%d) is too low to matter' % hard)
            return 0
        t = Tutti(tutti_binary())
        t.args = [sys.executable, '-c', WRAPPER] + t.args
        h.tuttis.append(t)
        t.start()
        fds = len(os.listdir('/proc/%d/fd' % t.proc.pid))
        h.check(fds > HELD, 'tutti holds more than %d descriptors' % HELD, str(fds))
        for i in range(5):
            for path, needle in (('/healthz', b'ok'), ('/metrics', b'tutti_ticks_total')):
                try:
                    r = http_call(t.http_port, 'GET', path)
                    status, body = r.status, r.body
                except OSError as e:        # reset: what select() did
                    status, body = repr(e), b''
                h.check(status == 200 and needle in body,
                        '%s answers 200 (%d)' % (path, i), str(status))
        code, _ = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
