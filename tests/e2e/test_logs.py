#!/usr/bin/env python3
"""tutti's log as an operator reads it, from outside the process.

usage: test_logs.py [path/to/tutti]     (or env TUTTI_BIN)

1. Under journald (JOURNAL_STREAM names tutti's stderr, as systemd sets
   it): every line starts with its syslog priority (<3> <4> <6> <7>) that
   matches its level, and carries no timestamp of ours. With a
   JOURNAL_STREAM that names another stream, lines keep their timestamps.
2. --log-level per subsystem: "warn,sip=info,room=info" keeps the SIP and
   room lines at info and nothing else below warn.
3. --sip-trace: a call's INVITE, 200, ACK and BYE are in the log, each
   message whole with call=<Call-ID> on its first line, next to our own
   lines about that call in room= call= part= order, and the summary line
   when the call ends.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, Tutti, log, tutti_binary  # noqa: E402

STAMP = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn |info |debug) ')
JOURNAL = re.compile(r'^<([3467])>(error|warn |info |debug) \S+\s')
PRIO = {'error': '3', 'warn ': '4', 'info ': '6', 'debug': '7'}


def start_journal(h, name, stream_matches):
    t = Tutti(tutti_binary(), name=name)
    h.tuttis.append(t)
    open(t.log_path, 'wb').close()          # start() truncates the same file
    st = os.stat(t.log_path)
    env = dict(os.environ)
    env['JOURNAL_STREAM'] = '%d:%d' % (st.st_dev, st.st_ino + (0 if stream_matches else 1))
    return t.start(env=env)


def stop(h, t):
    code, _ = t.stop()
    h.check(code == 0, '%s exits 0' % t.name, str(code))
    return t.log_text().splitlines()


def check_journal(h):
    t = start_journal(h, 'journal', True)
    c = Caller(h, t.sip_addr, 'J', 'PCMU', 440)
    c.dial('journal-%d' % os.getpid())
    time.sleep(0.3)
    c.close()
    time.sleep(0.3)
    lines = stop(h, t)
    bad = [ln for ln in lines if not JOURNAL.match(ln)]
    h.check(lines and not bad, 'journal: every line starts with <PRIO>LEVEL',
            '%d lines, bad: %r' % (len(lines), bad[:3]))
    wrong = [ln for ln in lines if JOURNAL.match(ln)
             and PRIO[JOURNAL.match(ln).group(2)] != JOURNAL.match(ln).group(1)]
    h.check(not wrong, 'journal: the priority matches the level', repr(wrong[:3]))
    h.check(not any(STAMP.search(ln[3:]) for ln in lines),
            'journal: no timestamp of ours')
    seen = {JOURNAL.match(ln).group(1) for ln in lines if JOURNAL.match(ln)}
    h.check({'6', '7'} <= seen, 'journal: info and debug lines seen', str(sorted(seen)))
    h.check(any(ln.startswith('<6>info  room  room=journal-') and ' ended after ' in ln
                for ln in lines), 'journal: the call summary line is there')

    other = start_journal(h, 'not-journal', False)
    lines = stop(h, other)
    h.check(lines and all(STAMP.match(ln) for ln in lines),
            'JOURNAL_STREAM of another stream: timestamps kept', repr(lines[:2]))


def call_and_stop(h, name, args, room):
    """A tutti with args, one call to room that lasts 0.5 s; returns the
    log's lines once tutti has stopped, and the call's Call-ID."""
    t = Tutti(tutti_binary(), args, name=name)
    h.tuttis.append(t)
    t.start()
    c = Caller(h, t.sip_addr, 'T', 'PCMU', 440)
    r = c.dial(room)
    h.check(r.status == 200, 'call answered', str(r.status))
    cid = c.dlg.call_id
    time.sleep(0.5)
    c.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and 'ended after' not in t.log_text():
        time.sleep(0.1)
    return stop(h, t), cid


def check_levels_and_trace(h):
    room = 'trace-%d' % os.getpid()
    lines, _ = call_and_stop(h, 'levels', ['--log-level', 'warn,sip=info,room=info',
                                           '--sip-trace'], room)
    below_warn = [ln for ln in lines if STAMP.match(ln) and ln.split()[1] in ('info', 'debug')
                  and ln.split()[2] not in ('sip', 'room')]
    h.check(not below_warn, 'levels: no info or debug from other subsystems',
            repr(below_warn[:3]))
    h.check(any(' sip   listening on ' in ln for ln in lines), 'levels: sip=info is heard')
    h.check(not any(' store ' in ln for ln in lines), 'levels: store at warn is quiet')
    h.check(not any(' debug ' in ln for ln in lines), 'levels: no debug at all')
    # The trace logs at info under "trace": warn for the rest hides it,
    # which is the point of levels per subsystem.
    h.check(not any(' trace ' in ln for ln in lines), 'trace follows its own level (warn here)')

    lines, cid = call_and_stop(h, 'trace', ['--log-level', 'warn,sip=info,room=info,trace=info',
                                            '--sip-trace'], room)
    check_trace(h, lines, room, cid)


def check_trace(h, lines, room, cid):
    heads = [(i, ln) for i, ln in enumerate(lines)
             if re.search(r' trace (recv|send) \d+ bytes (from|to) udp/\[127\.0\.0\.1\]:\d+ '
                          r'call=%s$' % re.escape(cid), ln)]
    firsts = [lines[i + 1].split(' trace ', 1)[1] if i + 1 < len(lines) else ''
              for i, _ in heads]
    log('traced: %s' % firsts)
    want = [('recv', '  INVITE sip:%s@' % room), ('send', '  SIP/2.0 100 Trying'),
            ('send', '  SIP/2.0 200 OK'), ('recv', '  ACK sip:'), ('recv', '  BYE sip:'),
            ('send', '  SIP/2.0 200 OK')]
    got = [(ln.split(' trace ')[1][:4], f) for (_, ln), f in zip(heads, firsts)]
    missing = [w for w in want if not any(g[0] == w[0] and g[1].startswith(w[1]) for g in got)]
    h.check(not missing, 'trace: INVITE, 100, 200, ACK, BYE, 200 with call=<Call-ID>',
            'missing %s' % missing)
    # A message is whole: from its head to the next head, the INVITE
    # carries its Call-ID header and its SDP body.
    inv = next((i for (i, _), f in zip(heads, firsts) if f.startswith('  INVITE')), None)
    if inv is not None:
        block = []
        for ln in lines[inv + 1:]:
            body = ln.split(' trace ', 1)
            if len(body) < 2 or not body[1].startswith('  '):
                break
            block.append(body[1][2:])
        h.check('Call-ID: %s' % cid in block and 'v=0' in block and '' in block,
                'trace: the INVITE is whole (headers, blank line, SDP)',
                '%d lines' % len(block))
    ours = [ln for ln in lines if ' sip   room=%s call=%s joined ' % (room, cid) in ln]
    h.check(len(ours) == 1, 'our own line about the call: room= call= in order',
            repr(ours))
    summary = [ln for ln in lines
               if re.search(r' room  room=%s call=%s part=\d+ ended after ' % (
                   re.escape(room), re.escape(cid)), ln)]
    h.check(len(summary) == 1, 'the summary line when the call ends (room= call= part=)',
            repr(summary))


def main():
    with Harness('test_logs', time_limit=80) as h:
        check_journal(h)
        check_levels_and_trace(h)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
