#!/usr/bin/env python3
"""Runs the sipp scenarios of tests/e2e/sipp against a fresh tutti.

usage: test_sipp.py [path/to/tutti] [scenario ...]
       (no scenario: all of them; names without .xml)

Each scenario runs once (-m 1) in the foreground with a hard subprocess
timeout, on loopback, with kernel-chosen free ports; success is sipp's exit
status 0.  On failure sipp's message trace and error log are printed along
with tutti's log tail.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, SKIP, free_port, log, LOOPBACK     # noqa: E402

CANCEL_ATTEMPTS = 8
SIPP_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sipp')

# scenario -> (extra tutti options, what it checks)
SCENARIOS = {
    'options': ((), 'OPTIONS -> 200 with Allow, Accept, Supported'),
    'invite_bye': ((), 'INVITE (PCMU) -> 200 + SDP + Contact;isfocus, ACK, BYE -> 200'),
    'cancel': ((), 'INVITE, 100, CANCEL -> 200, 487 for the INVITE, ACK'),
    'reject_488': ((), 'INVITE offering only GSM -> 488, ACK'),
    'bad_sdp_400': ((), 'INVITE with a garbage SDP body -> 400, ACK'),
    'late_offer': ((), 'INVITE without SDP -> 200 offering PCMU+opus, ACK with answer, BYE'),
    'not_found_404': ((('--rooms-on-demand', 'no')), 'rooms not on demand: unknown room -> 404, ACK'),
    'reinvite_hold': ((), 're-INVITE sendonly -> recvonly, re-INVITE sendrecv -> sendrecv, BYE'),
    'update_hold': ((), 'UPDATE sendonly -> recvonly, UPDATE sendrecv with PCMA -> PCMA sendrecv, BYE'),
    'subscribe': ((), 'SUBSCRIBE conference -> 200, full NOTIFY v1; a caller joins and leaves: '
                  'partial NOTIFYs until it is deleted; Expires: 0 -> terminated;reason=timeout; '
                  'refresh of the ended subscription -> 481'),
}


def join_and_leave(h, t, room):
    """While sipp subscribes: once tutti has the subscription, a caller
    (user sippjoin) joins the room and leaves.  Each waits out the default
    --notify-interval (1 s), so that neither is coalesced away: a caller who
    joins and leaves within one interval is, rightly, never reported."""
    from harness import Caller
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and 'room=%s call=' % room not in t.log_grep('subscribed'):
        time.sleep(0.05)
    time.sleep(1.2)
    c = Caller(h, t.sip_addr, 'sippjoin', 'PCMU')
    r = c.dial(room, start_media=False)
    h.check(r.status == 200, 'a caller joins the watched room', '%d' % r.status)
    time.sleep(1.2)
    c.dlg.bye()


# scenario -> what runs alongside sipp
DURING = {'subscribe': join_and_leave}


def free_media_ports():
    """An even port p with p..p+3 free on UDP (sipp binds RTP/RTCP audio and video)."""
    for _ in range(200):
        p = random.randrange(33000, 60000, 4)
        socks = []
        try:
            for q in range(p, p + 4):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind((LOOPBACK, q))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise OSError('no free media ports')


def run_sipp(h, sipp, tutti, scenario, room, workdir, timeout=30, attempt=None):
    xml = os.path.join(SIPP_DIR, scenario + '.xml')
    tag = scenario + ('_%d' % attempt if attempt is not None else '')
    msg_log = os.path.join(workdir, tag + '_messages.log')
    err_log = os.path.join(workdir, tag + '_errors.log')
    act_log = os.path.join(workdir, tag + '_logs.log')
    cmd = [sipp, '%s:%d' % (LOOPBACK, tutti.sip_port), '-sf', xml, '-s', room,
           '-m', '1', '-l', '1', '-i', LOOPBACK, '-mi', LOOPBACK,
           '-p', str(free_port(tcp=False)), '-mp', str(free_media_ports()),
           '-cp', str(free_port(tcp=False)),
           '-timeout', '15s', '-timeout_error', '-max_recv_loops', '1000', '-nostdin',
           '-trace_msg', '-message_file', msg_log, '-trace_err', '-error_file', err_log,
           '-trace_logs', '-log_file', act_log]
    log('running: %s' % ' '.join(cmd))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, cwd=workdir)
    h.on_cleanup(lambda: _kill(p))
    if scenario in DURING:
        DURING[scenario](h, tutti, room)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(p)
        out, _ = p.communicate()
        out = (out or b'') + b'\n*** sipp killed after %d s ***' % timeout
    dt = time.monotonic() - t0
    rc = p.returncode
    actions = ''
    if os.path.exists(act_log):
        with open(act_log, 'rb') as fh:
            actions = fh.read().decode('utf-8', 'replace')
    lost_race = 'CANCEL_LOST_RACE' in actions
    what = 'sipp %s: %s' % (scenario, SCENARIOS[scenario][1])
    if attempt is not None:
        what += ' (attempt %d)' % attempt
    if lost_race and rc == 0:
        log('%s: the bridge answered the INVITE before the CANCEL arrived; call closed '
            'cleanly (ACK, BYE)' % what)
        return 'lost_race'
    ok = h.check(rc == 0, what, 'sipp exit status %s after %.1f s' % (rc, dt))
    if not ok:
        text = out.decode('utf-8', 'replace').replace('\x1b', '')
        # the last screen is what matters
        print('--- sipp output (tail) ---\n' + '\n'.join(text.splitlines()[-40:]))
        for f in (err_log, msg_log):
            if os.path.exists(f):
                with open(f, 'rb') as fh:
                    body = fh.read().decode('utf-8', 'replace')
                print('--- %s ---\n%s' % (os.path.basename(f), body[-6000:]))
    return ok


def _kill(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(3)


def main():
    names = sys.argv[2:] or list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS:
            raise SystemExit('unknown scenario %s; known: %s' % (n, ', '.join(SCENARIOS)))
    sipp = os.environ.get('SIPP') or shutil.which('sipp')
    if not sipp:
        print('sipp not found: skipped')
        return SKIP
    with Harness('test_sipp ' + ' '.join(names), time_limit=110) as h:
        # group the scenarios by tutti command line: one tutti per group
        groups = {}
        for n in names:
            groups.setdefault(SCENARIOS[n][0], []).append(n)
        for extra, scen in groups.items():
            label = 'tutti' + ''.join(extra).replace('--', '-')
            t = None
            for n in scen:
                if t is None or not t.alive():
                    if t is not None:
                        log('%s died (exit %s); starting a fresh one for %s' % (
                            t.name, t.proc.returncode, n))
                    t = h.start_tutti(extra_args=extra, name=label)
                room = 'sipp-%s-%d' % (n.replace('_', '-'), os.getpid())
                if n == 'cancel':
                    # tutti may answer before the CANCEL gets there (a race the
                    # scenario detects): retry until the CANCEL wins once
                    for attempt in range(1, CANCEL_ATTEMPTS + 1):
                        res = run_sipp(h, sipp, t, n, room + '-%d' % attempt, t.dir,
                                       attempt=attempt)
                        if res != 'lost_race':
                            break
                    else:
                        h.check(False, 'sipp cancel: CANCEL reached tutti before its answer in '
                                'at least one of %d attempts' % CANCEL_ATTEMPTS,
                                'tutti always sent 200 for the INVITE before the CANCEL '
                                'arrived (~1 ms after the 100), so 487 could not be tested')
                else:
                    run_sipp(h, sipp, t, n, room, t.dir)
                time.sleep(0.2)     # let a crash right after the scenario show
                h.check(t.alive(), 'tutti still running after %s' % n,
                        '' if t.alive() else 'exit status %s' % t.proc.returncode)
            code, dt = t.stop()
            h.check(code == 0 and dt < 5.0, 'tutti exits 0 within 5 s of SIGTERM',
                    'exit %s after %.3f s' % (code, dt or 0.0))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
