#!/usr/bin/env python3
"""End-to-end: --realtime N runs the media threads, and only them, under
SCHED_FIFO at priority N (mixer/rtsched.c), and a bridge the kernel
refuses it to runs on as without.

usage: test_realtime.py [path/to/tutti]     (or env TUTTI_BIN)

Three callers in a room (A 440 Hz PCMU, B 1000 Hz Opus, a silent PCMA
listener) on each tutti; each hears the others, A and B not themselves.
The threads are read from outside, /proc/PID/task/TID/stat (fields 40,
rt_priority, and 41, policy) by their names (pthread_setname_np):

1. --realtime 5 --mix-threads 2 (one worker): the log says so, the room's
   mixer thread (tutti-mix) and the worker (tutti-mixw) run policy 1
   (SCHED_FIFO) at priority 5, every other thread (tutti-sig, the API's)
   policy 0, and /metrics' tutti_media_realtime_priority is 5. Where this
   test itself may not use SCHED_FIFO (not root, a container without
   CAP_SYS_NICE), tutti may not either: then the log must say it was
   refused, and the threads and the metric are checked as in 3.
2. No option: every thread policy 0, the metric 0, nothing in the log.
3. --realtime 5 without CAP_SYS_NICE and with RLIMIT_RTPRIO 0 (setpriv,
   prlimit): a warning that the kernel refused it, every thread policy 0,
   the metric 0, and the room sounds as in 1.
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, Tutti, log, metric, tutti_binary  # noqa: E402

PRIORITY = 5
FREQS = [440, 1000]
HEAR_MIN_DBFS = -35.0      # tones are sent at -12 dBFS
WINDOW_S = 1.5
MEDIA = ('tutti-mix', 'tutti-mixw')
ALLOWED = 'media threads run SCHED_FIFO priority %d' % PRIORITY
REFUSED = '--realtime %d refused by the kernel' % PRIORITY


def may_use_fifo():
    """Whether a process of ours may take SCHED_FIFO at PRIORITY."""
    r = subprocess.run([sys.executable, '-c',
                        'import os; os.sched_setscheduler(0, os.SCHED_FIFO, '
                        'os.sched_param(%d))' % PRIORITY],
                       capture_output=True, timeout=10)
    return r.returncode == 0


def threads(pid):
    """[(name, policy, rt_priority)] of every thread of pid."""
    out = []
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/comm' % (pid, tid)) as f:
                name = f.read().strip()
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                stat = f.read()
        except OSError:         # the thread ended meanwhile
            continue
        # after the ')' that ends the name: field 3 (state) onwards
        fields = stat[stat.rindex(')') + 2:].split()
        out.append((name, int(fields[41 - 3]), int(fields[40 - 3])))
    return out


def check_threads(h, t, label, want_fifo):
    ths = threads(t.proc.pid)
    log('%s threads: %s' % (label, ths))
    media = [x for x in ths if x[0] in MEDIA]
    h.check({x[0] for x in media} == set(MEDIA),
            '%s: a mixer thread and a worker run' % label, str(ths))
    want = (1, PRIORITY) if want_fifo else (0, 0)
    bad = [x for x in media if (x[1], x[2]) != want]
    h.check(not bad, '%s: the media threads run policy %d priority %d' % (
        (label,) + want), str(bad))
    # io_uring's kernel workers (iou-*) take after the thread they serve
    rest = [x for x in ths if x[0] not in MEDIA and not x[0].startswith('iou-')]
    bad = [x for x in rest if (x[1], x[2]) != (0, 0)]
    h.check(rest and not bad and any(x[0] == 'tutti-sig' for x in rest),
            '%s: signalling and every other thread run policy 0' % label,
            str(bad or rest))
    got = metric(t.http_port, 'tutti_media_realtime_priority')
    h.check(got == want[1], '%s: /metrics says priority %d' % (label, want[1]),
            str(got))


def room_of_three(h, t, label):
    """Dials three callers into a room, checks what each hears; returns them
    for the caller to hang up after its own checks."""
    room = 'rt-%s-%d' % (label, os.getpid())
    callers = {'A': Caller(h, t.sip_addr, 'A', 'PCMU', FREQS[0]),
               'B': Caller(h, t.sip_addr, 'B', 'opus', FREQS[1]),
               'C': Caller(h, t.sip_addr, 'C', 'PCMA')}
    for n, c in callers.items():
        r = c.dial(room)
        if not h.check(r.status == 200, '%s: %s (%s) joins' % (label, n, c.codec),
                       '%d %s' % (r.status, r.reason)):
            raise SystemExit('caller %s could not join' % n)
    time.sleep(2.5)
    an = {n: c.rtp.analyze(FREQS, WINDOW_S) for n, c in callers.items()}
    for n, a in an.items():
        log('%s %s: %s' % (label, n, a))
    h.check(an['A'].dbfs[1000] > HEAR_MIN_DBFS and an['A'].dbfs[440] < an['A'].dbfs[1000] - 30,
            '%s: A hears B and not itself' % label,
            '1000 Hz %.1f dBFS, 440 Hz %.1f dBFS' % (an['A'].dbfs[1000], an['A'].dbfs[440]))
    h.check(an['B'].dbfs[440] > HEAR_MIN_DBFS and an['B'].dbfs[1000] < an['B'].dbfs[440] - 30,
            '%s: B hears A and not itself' % label,
            '440 Hz %.1f dBFS, 1000 Hz %.1f dBFS' % (an['B'].dbfs[440], an['B'].dbfs[1000]))
    h.check(all(an['C'].dbfs[f] > HEAR_MIN_DBFS for f in FREQS),
            '%s: C hears both tones' % label,
            ', '.join('%d Hz %.1f dBFS' % (f, an['C'].dbfs[f]) for f in FREQS))
    return callers


def hang_up(callers):
    for c in callers.values():
        c.close()


def main():
    with Harness('test_realtime', time_limit=100) as h:
        allowed_here = may_use_fifo()
        log('this test may use SCHED_FIFO %d: %s' % (PRIORITY, allowed_here))

        # ---- 1. --realtime 5 ------------------------------------------------
        t = h.start_tutti(extra_args=('--realtime', str(PRIORITY), '--mix-threads', '2'),
                          name='tutti-rt')
        said_ok, said_no = bool(t.log_grep(ALLOWED)), bool(t.log_grep(REFUSED))
        if allowed_here:
            h.check(said_ok and not said_no, 'the log says the media threads run SCHED_FIFO 5',
                    t.log_grep('mixer'))
        else:
            h.check(said_no and not said_ok, 'SCHED_FIFO is refused here, and the log says so',
                    t.log_grep('mixer'))
        callers = room_of_three(h, t, 'realtime')
        check_threads(h, t, 'realtime', allowed_here)
        hang_up(callers)
        t.stop()

        # ---- 2. without the option ------------------------------------------
        t = h.start_tutti(extra_args=('--mix-threads', '2'), name='tutti-normal')
        h.check(not t.log_grep('SCHED_FIFO') and not t.log_grep('--realtime'),
                'without --realtime the log says nothing of it')
        callers = room_of_three(h, t, 'normal')
        check_threads(h, t, 'normal', False)
        hang_up(callers)
        t.stop()

        # ---- 3. refused by the kernel ---------------------------------------
        if not allowed_here:
            log('part 3 skipped: part 1 was refused already')
            return h.result()
        if not (shutil.which('setpriv') and shutil.which('prlimit')):
            log('part 3 skipped: no setpriv or prlimit (util-linux)')
            return h.result()
        t = Tutti(tutti_binary(), ('--realtime', str(PRIORITY), '--mix-threads', '2'),
                  'tutti-refused')
        t.args = ['prlimit', '--rtprio=0:0', 'setpriv', '--inh-caps=-sys_nice',
                  '--bounding-set=-sys_nice'] + t.args
        h.tuttis.append(t)
        t.start()
        h.check(bool(t.log_grep(REFUSED)) and not t.log_grep(ALLOWED),
                'without CAP_SYS_NICE the log says --realtime was refused',
                t.log_grep('mixer'))
        callers = room_of_three(h, t, 'refused')
        check_threads(h, t, 'refused', False)
        hang_up(callers)
        return h.result()


if __name__ == '__main__':
    sys.exit(main())
