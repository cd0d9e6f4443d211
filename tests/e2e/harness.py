"""Shared plumbing for tutti's end-to-end tests: locating the binary, free
ports, starting/stopping tutti by PID, a hard time limit, and check helpers.

Every test:   h = Harness('name'); with h: ...; sys.exit(h.result())
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
LOOPBACK = '127.0.0.1'
SKIP = 77


def log(msg):
    print('[%8.3f] %s' % (time.monotonic() % 100000, msg), flush=True)


def tutti_binary():
    cands = []
    if len(sys.argv) > 1 and sys.argv[1]:
        cands.append(sys.argv[1])
    if os.environ.get('TUTTI_BIN'):
        cands.append(os.environ['TUTTI_BIN'])
    cands.append(os.path.join(HERE, '..', '..', 'build', 'tutti'))
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    raise SystemExit('tutti binary not found (argv[1], $TUTTI_BIN, build/tutti): %s' % cands)


# --------------------------------------------------------------------------
# ports
# --------------------------------------------------------------------------

def stop_process(proc, name, grace=5.0):
    """Stops a child by its PID: SIGTERM, wait up to `grace` s, then SIGKILL."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        log('%s (pid %d) still running %.1f s after SIGTERM: SIGKILL' % (
            name, proc.pid, grace))
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)
    return proc.returncode


def free_port(udp=True, tcp=True):
    """A port free on loopback for UDP and/or TCP (bind port 0, then re-check)."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
        s.bind((LOOPBACK, 0))
        port = s.getsockname()[1]
        other = None
        try:
            if udp and tcp:
                other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                other.bind((LOOPBACK, port))
            return port
        except OSError:
            continue
        finally:
            s.close()
            if other:
                other.close()
    raise OSError('no free port')


def free_rtp_range(size=200):
    """An even-aligned UDP port range below the kernel's ephemeral range (so our
    own kernel-chosen ports never land inside it), every port currently free."""
    lo_limit, hi_limit = 10000, 32000
    for _ in range(200):
        lo = random.randrange(lo_limit, hi_limit - size, 2)
        socks = []
        ok = True
        try:
            for p in range(lo, lo + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((LOOPBACK, p))
        except OSError:
            ok = False
        finally:
            for s in socks:
                s.close()
        if ok:
            return lo, lo + size - 1
    raise OSError('no free RTP range')


# --------------------------------------------------------------------------
# tutti process
# --------------------------------------------------------------------------

class Tutti:
    def __init__(self, binary, extra_args=(), name='tutti', rtp_size=200, data_dir=None):
        """data_dir: another instance's data dir, to restart on the same store."""
        self.binary = binary
        self.name = name
        self.rtp_size = rtp_size
        self.sip_port = free_port()
        self.http_port = free_port(udp=False, tcp=True)
        self.rtp_lo, self.rtp_hi = free_rtp_range(rtp_size)
        self.dir = tempfile.mkdtemp(prefix='tutti-e2e-%s-' % name)
        self.data_dir = data_dir or os.path.join(self.dir, 'data')
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, 'tutti.log')
        self.args = [binary,
                     '--sip-listen', '%s:%d' % (LOOPBACK, self.sip_port),
                     '--rtp-ports', '%d-%d' % (self.rtp_lo, self.rtp_hi),
                     '--http-listen', '%s:%d' % (LOOPBACK, self.http_port),
                     '--data-dir', self.data_dir,
                     '--log-level', 'debug'] + list(extra_args)
        self.proc = None
        self.exit_code = None
        self.exit_after = None

    @property
    def sip_addr(self):
        return (LOOPBACK, self.sip_port)

    def start(self, ready_timeout=10.0, env=None, wait=True):
        """env: the environment (default ours); wait=False returns at once,
        without waiting for SIP to answer. A port found free can be taken by
        another program before tutti binds it (tests run in parallel on a
        shared machine): tutti then exits saying so, and is started again
        on other ports, up to three times."""
        for attempt in range(3):
            self._start(env)
            if not wait:
                return self
            try:
                self.wait_ready(ready_timeout)
                return self
            except RuntimeError:
                tail = self.log_tail().lower()
                if attempt == 2 or not ('address in use' in tail or
                                        'address already in use' in tail):
                    raise
                log('%s: a port was taken meanwhile; again on other ports' % self.name)
                self._logf.close()
                self._repick_ports()
        return self

    def _repick_ports(self):
        self.sip_port = free_port()
        self.http_port = free_port(udp=False, tcp=True)
        self.rtp_lo, self.rtp_hi = free_rtp_range(self.rtp_size)
        new = {'--sip-listen': '%s:%d' % (LOOPBACK, self.sip_port),
               '--rtp-ports': '%d-%d' % (self.rtp_lo, self.rtp_hi),
               '--http-listen': '%s:%d' % (LOOPBACK, self.http_port)}
        for i, a in enumerate(self.args[:-1]):
            if a in new:
                self.args[i + 1] = new[a]

    def _start(self, env):
        log('starting %s' % ' '.join(self.args))
        self._logf = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir, env=env)
        log('%s pid %d, log %s' % (self.name, self.proc.pid, self.log_path))

    def wait_ready(self, timeout):
        """Ready when the SIP port answers an OPTIONS (any SIP response)."""
        deadline = time.monotonic() + timeout
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((LOOPBACK, 0))
        s.settimeout(0.2)
        port = s.getsockname()[1]
        n = 0
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError('%s exited with %s during start-up\n%s' % (
                        self.name, self.proc.returncode, self.log_tail()))
                n += 1
                req = ('OPTIONS sip:%s:%d SIP/2.0\r\n'
                       'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bKready%d%d;rport\r\n'
                       'Max-Forwards: 70\r\nFrom: <sip:probe@%s:%d>;tag=probe%d\r\n'
                       'To: <sip:%s:%d>\r\nCall-ID: ready-%d-%d@%s\r\nCSeq: %d OPTIONS\r\n'
                       'Content-Length: 0\r\n\r\n' % (
                           LOOPBACK, self.sip_port, LOOPBACK, port, os.getpid(), n, LOOPBACK,
                           port, n, LOOPBACK, self.sip_port, os.getpid(), n, LOOPBACK, n))
                try:
                    s.sendto(req.encode(), self.sip_addr)
                    data, _ = s.recvfrom(65535)
                    if data.startswith(b'SIP/2.0 '):
                        log('%s ready (%s)' % (self.name, data.split(b'\r\n', 1)[0].decode()))
                        self._wait_http(deadline)
                        return
                except (socket.timeout, ConnectionRefusedError):
                    pass
                time.sleep(0.1)
        finally:
            s.close()
        raise RuntimeError('%s did not answer OPTIONS within %.0f s\n%s' % (
            self.name, timeout, self.log_tail()))

    def _wait_http(self, deadline):
        """main() starts the API just after SIP: wait until it accepts."""
        while time.monotonic() < deadline:
            try:
                socket.create_connection((LOOPBACK, self.http_port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, grace=5.0):
        """SIGTERM, wait up to `grace` s, then SIGKILL.  Returns (exit code, seconds)."""
        if self.proc is None:
            return None, 0.0
        if self.proc.poll() is not None:
            self.exit_code = self.proc.returncode
            return self.exit_code, 0.0
        t0 = time.monotonic()
        stop_process(self.proc, self.name, grace)
        self.exit_after = time.monotonic() - t0
        self.exit_code = self.proc.returncode
        return self.exit_code, self.exit_after

    def stop(self):
        code, dt = self.terminate()
        try:
            self._logf.close()
        except Exception:
            pass
        return code, dt

    def log_text(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except OSError:
            return ''

    def log_tail(self, n=60):
        lines = self.log_text().splitlines()
        return '\n'.join('    | ' + ln for ln in lines[-n:])

    def log_grep(self, needle, n=20):
        lines = [ln for ln in self.log_text().splitlines() if needle in ln]
        return '\n'.join('    | ' + ln for ln in lines[-n:])

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------
# test harness
# --------------------------------------------------------------------------

class TestTimeout(Exception):
    pass


def cpu_times():
    """(stolen, total) jiffies of all CPUs so far (/proc/stat), or None."""
    try:
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal [guest guest_nice,
    # which user and nice already count]
    return (v[7], sum(v[:8])) if len(v) >= 8 else None


def steal_share(a, b):
    """The share of CPU time stolen between two cpu_times() readings."""
    if a is None or b is None or b[1] <= a[1]:
        return 0.0
    return (b[0] - a[0]) / (b[1] - a[1])


# A test run again when it failed on a starved machine: the hypervisor
# took at least STARVED of the CPU time while it ran, or STARVED_PEAK of
# it in one of its seconds (a shared host; a long test dilutes a burst),
# so that the bridge and this test's own senders, 20 ms pacers both, ran
# late. At most RUNS in all, and only while the runs fit in the test's
# time limit. A failure on a machine that was not starved always stands,
# and so does the last run's.
STARVED = 0.10
STARVED_PEAK = 0.30
RUNS = 5
RERUN_PAUSE_S = 2.0     # a burst of steal may pass meanwhile
# The command line as the test was started with it, before a test takes
# its own arguments off sys.argv: the run again is the same command.
ARGV = list(sys.argv)


class Harness:
    """Collects check results, enforces a hard time limit, always stops every
    process registered with it (by PID), even on exceptions or SIGTERM."""

    def __init__(self, name, time_limit=100):
        self.name = name
        self.time_limit = time_limit
        self.failures = []
        self.passes = 0
        self.cleanups = []
        self.tuttis = []
        self.keep_logs = bool(os.environ.get('TUTTI_E2E_KEEP'))
        self.run_no = int(os.environ.get('TUTTI_E2E_RUN', '1'))
        self.spent = float(os.environ.get('TUTTI_E2E_SPENT', '0'))

    def __enter__(self):
        def on_alarm(signum, frame):
            raise TestTimeout('hard time limit of %d s reached' % self.time_limit)

        def on_term(signum, frame):
            raise SystemExit('terminated by signal %d' % signum)
        signal.signal(signal.SIGALRM, on_alarm)
        signal.signal(signal.SIGTERM, on_term)
        signal.alarm(max(1, int(self.time_limit - self.spent)))
        log('=== %s ===%s' % (self.name, '' if self.run_no == 1 else ' (run %d)' % self.run_no))
        self.t_start = time.monotonic()
        self.cpu_start = cpu_times()
        self.steal_peak = 0.0
        threading.Thread(target=self._watch_steal, daemon=True).start()
        return self

    def _watch_steal(self):
        """The largest share of a second's CPU time the hypervisor took."""
        last = cpu_times()
        while last is not None:
            time.sleep(1.0)
            now = cpu_times()
            self.steal_peak = max(self.steal_peak, steal_share(last, now))
            last = now

    def starved(self):
        """The share of CPU time the hypervisor took since the start."""
        return steal_share(self.cpu_start, cpu_times())

    def run_again(self):
        """Runs this test again, in a new process, when it failed on a
        starved machine and another run fits; otherwise returns."""
        took = time.monotonic() - self.t_start
        stolen = self.starved()
        log('the hypervisor took %.0f %% of the CPU time during this run, %.0f %% in '
            'its worst second' % (100 * stolen, 100 * self.steal_peak))
        spent = self.spent + took
        starved = stolen >= STARVED or self.steal_peak >= STARVED_PEAK
        if not self.failures or not starved or self.run_no >= RUNS or \
                spent + RERUN_PAUSE_S + took > self.time_limit:
            return
        log('=== %s: %d checks passed, %d failed, on a starved machine: running it '
            'again ===' % (self.name, self.passes, len(self.failures)))
        env = dict(os.environ, TUTTI_E2E_RUN=str(self.run_no + 1),
                   TUTTI_E2E_SPENT='%.1f' % (spent + RERUN_PAUSE_S))
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(RERUN_PAUSE_S)
        os.execve(sys.executable, [sys.executable] + ARGV, env)

    def __exit__(self, et, ev, tb):
        if et is not None and et is not SystemExit:
            self.failures.append('exception: %s: %s' % (et.__name__, ev))
            traceback.print_exception(et, ev, tb)
        elif et is SystemExit and ev is not None and ev.code not in (0, None):
            self.failures.append('aborted: %s' % ev)
        signal.alarm(20)    # the clean-up itself is bounded too
        try:
            for fn in reversed(self.cleanups):
                try:
                    fn()
                except Exception as e:
                    log('cleanup error: %r' % e)
            for t in self.tuttis:
                if t.alive():
                    code, dt = t.stop()
                    log('%s stopped: exit %s after %.2f s' % (t.name, code, dt or 0))
                elif t.proc is not None:
                    t.stop()
                    log('%s had exited with status %s' % (t.name, t.proc.returncode))
                if self.failures:
                    log('--- %s log (tail) %s ---\n%s' % (t.name, t.log_path, t.log_tail(80)))
                if not self.failures and not self.keep_logs:
                    t.cleanup()
        finally:
            signal.alarm(0)
        self.run_again()
        return True     # exception recorded as a failure

    def start_tutti(self, extra_args=(), name='tutti', data_dir=None):
        t = Tutti(tutti_binary(), extra_args, name, data_dir=data_dir)
        self.tuttis.append(t)
        t.start()
        return t

    def on_cleanup(self, fn):
        self.cleanups.append(fn)
        return fn

    def check(self, cond, what, detail=''):
        if cond:
            self.passes += 1
            log('PASS  %s%s' % (what, ('  [' + detail + ']') if detail else ''))
        else:
            self.failures.append(what + ((' [' + detail + ']') if detail else ''))
            log('FAIL  %s%s' % (what, ('  [' + detail + ']') if detail else ''))
        return cond

    def result(self):
        log('=== %s: %d checks passed, %d failed ===' % (self.name, self.passes,
                                                          len(self.failures)))
        for f in self.failures:
            log('  failed: %s' % f)
        return 1 if self.failures else 0


def wait_for(cond, timeout, step=0.1):
    """Polls cond() until it is true or timeout seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


# --------------------------------------------------------------------------
# HTTP API
# --------------------------------------------------------------------------

class HttpReply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # lower-case names
        self.body = body

    def json(self):
        import json
        try:
            return json.loads(self.body.decode('utf-8'))
        except ValueError:
            return None

    def __repr__(self):
        return '%d %r' % (self.status, self.body[:200])


def http_call(port, method, path, body=None, ctype='application/json', token=None,
              headers=None, timeout=5.0):
    """One request to tutti's API on loopback.  body: bytes, str, or an object
    sent as JSON.  Returns an HttpReply; never raises on an HTTP status."""
    import http.client
    import json
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode('utf-8')
    if body is not None and ctype:
        hdrs['Content-Type'] = ctype
    if token:
        hdrs['Authorization'] = 'Bearer ' + token
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return HttpReply(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def metric(port, name):
    """The value of an unlabelled line of tutti's /metrics, or None."""
    r = http_call(port, 'GET', '/metrics')
    for ln in r.body.decode().splitlines():
        if ln.startswith(name + ' '):
            return float(ln.split()[1])
    return None


# --------------------------------------------------------------------------
# a caller = SIP UA + RTP endpoint
# --------------------------------------------------------------------------

class Caller:
    def __init__(self, h, server, name, codec, freq=None, tls_cafile=None):
        from sipua import SipUA
        from rtpaudio import RtpEndpoint
        self.h = h
        self.name = name
        self.codec = codec
        self.freq = freq
        self.ua = SipUA(server, user=name.lower(), log=log, name=name, tls_cafile=tls_cafile)
        self.rtp = RtpEndpoint(name, log=log)
        self.dlg = None
        self.resp = None
        h.on_cleanup(self.close)

    def dial(self, room, timeout=5.0, start_media=True, **kw):
        self.dlg, self.resp = self.ua.call(room, LOOPBACK, self.rtp.port, codecs=(self.codec,),
                                           timeout=timeout, **kw)
        r = self.resp
        log('%s: INVITE sip:%s -> %d %s; Contact %s; answer %r' % (
            self.name, room, r.status, r.reason, r.get('contact'), self.dlg.answer))
        if 200 <= r.status < 300 and self.dlg.answer is not None and start_media:
            self.apply_answer()
            if self.freq:
                self.rtp.send_tone(self.freq)
            else:
                self.rtp.send_silence()
        return r

    def apply_answer(self):
        a = self.dlg.answer
        if a is None or a.port in (None, 0) or a.codec_pt is None:
            return False
        self.rtp.configure((a.conn, a.port), a.codec_name, a.codec_pt,
                           rx_map={a.codec_pt: a.codec_name})
        return True

    def close(self):
        try:
            self.rtp.stop_sending()
            if self.dlg is not None and self.dlg.established and not self.dlg.bye_received.is_set():
                try:
                    self.dlg.bye(timeout=1.0)
                except Exception:
                    pass
        finally:
            self.ua.close()
            self.rtp.close()
