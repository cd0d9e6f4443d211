#!/usr/bin/env python3
"""tutti under systemd's notification protocol, seen from outside: this
test plays systemd's part with a unix datagram socket of its own.

usage: test_sdnotify.py [path/to/tutti]     (or env TUTTI_BIN)

- READY=1 comes once, and only when SIP, HTTP and the store answer: the
  moment it arrives, an OPTIONS and GET /healthz are answered at once and
  the store file exists.
- With WATCHDOG_USEC=1 s, WATCHDOG=1 comes every half second or so.
- A hung mixer thread (one thread of tutti stopped with ptrace, as a
  deadlock would stop it) stops the pings within two seconds and /healthz
  says why; once the thread runs again the pings come back.
- SIGTERM: STOPPING=1, then exit 0.
- A start that fails (SIP port taken) never says READY=1 and exits 1.
"""

import ctypes
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Harness, Caller, Tutti, http_call, log, tutti_binary,  # noqa: E402
                     LOOPBACK, SKIP)

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000


class Notify:
    """systemd's end of NOTIFY_SOCKET: each datagram with its arrival time."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='tutti-e2e-notify-')
        self.path = os.path.join(self.dir, 'notify')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.got = []   # (monotonic time, text)

    def wait_for(self, needle, timeout):
        """The first message holding the line `needle` within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                break
            msg = data.decode('utf-8', 'replace')
            self.got.append((time.monotonic(), msg))
            if needle in msg.split('\n'):
                return msg
        return None

    def collect(self, seconds):
        """Every message in the next `seconds`."""
        start = len(self.got)
        self.wait_for('\0never\0', seconds)
        return self.got[start:]

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
            os.rmdir(self.dir)
        except OSError:
            pass


def start(h, notify, extra_env, extra_args=(), sip_port=None):
    """A tutti with NOTIFY_SOCKET, not waited for: the harness would wait
    for OPTIONS to be answered, which this test must not do before
    READY=1."""
    t = Tutti(tutti_binary(), list(extra_args), name='tutti-notify')
    if sip_port:
        t.sip_port = sip_port
        t.args[t.args.index('--sip-listen') + 1] = '%s:%d' % (LOOPBACK, sip_port)
    h.tuttis.append(t)
    env = dict(os.environ)
    env.pop('WATCHDOG_USEC', None)
    env.pop('WATCHDOG_PID', None)
    env['NOTIFY_SOCKET'] = notify.path
    env.update(extra_env)
    return t.start(env=env, wait=False)


def options_answered(t, timeout=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOOPBACK, 0))
    s.settimeout(timeout)
    port = s.getsockname()[1]
    req = ('OPTIONS sip:%s:%d SIP/2.0\r\n'
           'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKnotify%d;rport\r\n'
           'Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=n1\r\nTo: <sip:%s>\r\n'
           'Call-ID: notify-%d@%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n' % (
               LOOPBACK, t.sip_port, LOOPBACK, port, os.getpid(), LOOPBACK, LOOPBACK,
               os.getpid(), LOOPBACK))
    try:
        s.sendto(req.encode(), t.sip_addr)
        return s.recv(65535).split(b'\r\n', 1)[0].decode()
    except OSError:
        return None
    finally:
        s.close()


def check_ready(h, t, notify):
    msg = notify.wait_for('READY=1', 15)
    if not h.check(msg is not None, 'READY=1 arrives', t.log_tail(10)):
        raise SystemExit('no READY=1')
    # The moment READY=1 is read, everything it promises must answer.
    sip = options_answered(t)
    try:
        health = http_call(t.http_port, 'GET', '/healthz', timeout=2).status
    except OSError as e:
        health = repr(e)
    h.check(sip == 'SIP/2.0 200 OK', 'at READY=1, SIP already answers OPTIONS', str(sip))
    h.check(health == 200, 'at READY=1, HTTP already answers /healthz 200', str(health))
    h.check(os.path.exists(os.path.join(t.data_dir, 'tutti.db')),
            'at READY=1, the store is open', t.data_dir)
    h.check(any(ln.startswith('STATUS=sip %s:%d,' % (LOOPBACK, t.sip_port))
                for ln in msg.split('\n')),
            'READY=1 comes with a STATUS= line', repr(msg))
    before = [m for _, m in notify.got[:-1]]
    h.check(not any('READY=1' in m for m in before), 'nothing said READY=1 earlier',
            repr(before))


def gaps(msgs, needle):
    times = [at for at, m in msgs if needle in m.split('\n')]
    return times, [b - a for a, b in zip(times, times[1:])]


def check_watchdog(h, notify):
    msgs = notify.collect(3.0)
    times, dt = gaps(msgs, 'WATCHDOG=1')
    h.check(len(times) >= 4, 'WATCHDOG=1 keeps coming (every 0.5 s asked)',
            '%d in 3 s' % len(times))
    h.check(dt and max(dt) < 0.9, 'no gap as long as WATCHDOG_USEC',
            'gaps %s' % ['%.2f' % d for d in dt])
    h.check(not any('READY=1' in m for _, m in msgs), 'READY=1 only once')


def mixer_threads(pid):
    out = []
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/comm' % (pid, tid)) as f:
                if f.read().strip() == 'tutti-mix':
                    out.append(int(tid))
        except OSError:
            pass
    return out


class Libc:
    def __init__(self):
        self.c = ctypes.CDLL(None, use_errno=True)
        self.c.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                                  ctypes.c_void_p]
        self.c.ptrace.restype = ctypes.c_long

    def ptrace(self, req, tid):
        if self.c.ptrace(req, tid, None, None) != 0:
            return ctypes.get_errno()
        return 0


def check_hung_mixer(h, t, notify):
    """Stops one mixer thread as a deadlock would, and lets it go again."""
    caller = Caller(h, t.sip_addr, 'A', 'PCMU', 440)
    r = caller.dial('notify-%d' % os.getpid())
    if not h.check(r.status == 200, 'a call gives the room a mixer', str(r.status)):
        return
    deadline = time.monotonic() + 5
    tids = []
    while not tids and time.monotonic() < deadline:
        tids = mixer_threads(t.proc.pid)
        time.sleep(0.05)
    if not h.check(len(tids) == 1, 'one mixer thread (tutti-mix)', str(tids)):
        return
    libc = Libc()
    err = libc.ptrace(PTRACE_SEIZE, tids[0])
    if err:
        log('SKIP the hung-mixer part: ptrace not allowed here (%s)' % os.strerror(err))
        return
    stopped_at = time.monotonic()
    try:
        h.check(libc.ptrace(PTRACE_INTERRUPT, tids[0]) == 0, 'mixer thread interrupted')
        os.waitpid(tids[0], WALL)
        # Within the stall time (1 s) plus two checks (0.5 s each), the
        # pings stop; none may come in the 2 s after that.
        msgs = notify.collect(2.2)
        times, _ = gaps(msgs, 'WATCHDOG=1')
        last = max(times) - stopped_at if times else 0
        h.check(last < 2.2 and len(times) <= 4,
                'the pings stop within 2.2 s of the mixer hanging',
                'last ping %.2f s after, %d pings' % (last, len(times)))
        quiet = notify.collect(2.0)
        h.check(not gaps(quiet, 'WATCHDOG=1')[0], 'no WATCHDOG=1 while the mixer hangs',
                '%d pings' % len(gaps(quiet, 'WATCHDOG=1')[0]))
        hz = http_call(t.http_port, 'GET', '/healthz', timeout=3)
        reason = (hz.json() or {}).get('reason', '')
        h.check(hz.status == 503 and 'not ticked' in reason,
                '/healthz says the mixer is stalled', repr(hz))
        h.check('watchdog: 1 mixers have not ticked' in t.log_grep('watchdog:'),
                'tutti logs why it stopped the pings', t.log_grep('watchdog:', 3))
    finally:
        h.check(libc.ptrace(PTRACE_DETACH, tids[0]) == 0, 'mixer thread runs again')
    msg = notify.wait_for('WATCHDOG=1', 3.0)
    h.check(msg is not None, 'the pings come back once the mixer ticks again')
    h.check('healthy again' in t.log_grep('watchdog:'), 'tutti logs the recovery',
            t.log_grep('watchdog:', 3))
    caller.close()


def check_stopping(h, t, notify):
    os.kill(t.proc.pid, 15)
    msg = notify.wait_for('STOPPING=1', 5)
    h.check(msg is not None, 'SIGTERM: STOPPING=1')
    try:
        code = t.proc.wait(6)
    except subprocess.TimeoutExpired:
        code = None
    h.check(code == 0, 'then exit 0', str(code))


def check_failed_start(h):
    notify = Notify()
    h.on_cleanup(notify.close)
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind((LOOPBACK, 0))
    h.on_cleanup(taken.close)
    # When nua_create() fails, Sofia-SIP 1.12 leaves our su_root's port
    # referenced, so su_root_destroy() does not free it (2 KB, allocated
    # in su_root_create(); the exit that follows frees it): LeakSanitizer
    # would report it, so leak checks are off for this one process.
    asan = os.environ.get('ASAN_OPTIONS', '')
    env = {'ASAN_OPTIONS': (asan + ':' if asan else '') + 'detect_leaks=0'}
    t = start(h, notify, env, sip_port=taken.getsockname()[1])
    try:
        code = t.proc.wait(10)
    except subprocess.TimeoutExpired:
        code = None
    h.check(code == 1, 'SIP port taken: exit 1', str(code))
    msgs = notify.collect(0.2)
    h.check(not any('READY=1' in m for _, m in msgs), 'and never READY=1',
            repr(msgs))


def main():
    if not hasattr(socket, 'AF_UNIX'):
        return SKIP
    with Harness('test_sdnotify', time_limit=80) as h:
        notify = Notify()
        h.on_cleanup(notify.close)
        t = start(h, notify, {'WATCHDOG_USEC': '1000000'})
        check_ready(h, t, notify)
        check_watchdog(h, notify)
        check_hung_mixer(h, t, notify)
        check_stopping(h, t, notify)
        check_failed_start(h)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
