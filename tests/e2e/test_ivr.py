#!/usr/bin/env python3
"""End-to-end test of the dial-in dialogue (SPEC section 6): PINs by every
kind of key press, prompts to one caller only, the keypad in the call.

usage: test_ivr.py [path/to/tutti]     (or env TUTTI_BIN)

Room R has PIN 2468 and moderator PIN 1357. Callers send tones that the
spoken prompts hardly contain (the prompts are below -45 dBFS there), and
speech is judged where the prompts are strong and the tones absent (the
250-700 Hz bins, around the join tone's 523 Hz); a key is judged heard
only when both of its tones are (the join tone's 784 Hz falls in the
770 Hz bin):
    M  PCMU, RFC 4733 keys     1000 Hz   the moderator
    A  PCMU, RFC 4733 keys     2000 Hz
    G  PCMA, no telephone-event: in-band keys, as a G.711 desk phone  3000 Hz
What a caller hears before its PIN is judged: prompt audio present, the
room's mix absent; what the others hear meanwhile: nothing of the caller,
its prompts or its keys. Then the keypad: *6 mutes (RFC 4733 and in-band,
whose tones the room must not hear either), *1 locks the room for the
moderator and a new caller gets 403. Keys by SIP INFO are sent by the
Python caller (dtmf-relay, 415 for other types) and, when sipp is there,
by the sipp scenario tests/e2e/sipp/info_pin.xml.
"""

import math
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Harness, Caller, log, http_call, free_port, wait_for,  # noqa: E402
                     free_rtp_range, LOOPBACK)
from rtpaudio import DTMF_FREQS, DTMF_LOW, DTMF_HIGH                     # noqa: E402

PIN, MOD_PIN = '2468', '1357'
F = {'M': 1000, 'A': 2000, 'G': 3000}
JOIN_F = (523, 784)
SPEECH_F = (250, 300, 350, 400, 450, 600, 650, 700)
ALL_F = sorted(set(F.values()) | set(JOIN_F) | set(DTMF_FREQS) | set(SPEECH_F))

HEAR_DBFS = -25.0        # a -12 dBFS tone in the mix
ABSENT_DBFS = -40.0      # a tone that must not be there
PROMPT_DBFS = -38.0      # speech in the SPEECH_F bins (prompts: -30 or more)
SILENT_DBFS = -55.0      # no speech at all there


def speech_db(an):
    """Power in the bins where the prompts are strong and no tone is."""
    tot = sum(10 ** (an.dbfs[f] / 10) for f in SPEECH_F)
    return 10 * math.log10(tot) if tot > 1e-20 else -200.0


def loudest_key(an):
    """The DTMF key whose two tones are both loudest, and that level."""
    return max(((k, min(an.dbfs[DTMF_LOW[k]], an.dbfs[DTMF_HIGH[k]])) for k in DTMF_LOW),
               key=lambda kv: kv[1])


def participants(t, room):
    r = http_call(t.http_port, 'GET', '/api/v1/rooms/%s/participants' % room)
    return r.json() if r.status == 200 else []


def part_of(t, room, user):
    for p in participants(t, room):
        if p.get('uri', '').startswith('sip:%s@' % user):
            return p
    return None


def make_room(h, t, name, pin=PIN, mod=MOD_PIN):
    r = http_call(t.http_port, 'POST', '/api/v1/rooms',
                  {'name': name, 'pin': pin, 'moderator_pin': mod})
    h.check(r.status == 201, 'room %s created with a PIN' % name, repr(r))


def dial(h, c, room, **kw):
    r = c.dial(room, **kw)
    if not h.check(r.status == 200, '%s INVITE answered 200' % c.name,
                   '%d %s' % (r.status, r.reason)):
        raise SystemExit('%s could not call' % c.name)
    return time.monotonic()


def keys_rfc4733(c, keys):
    c.rtp.send_dtmf(keys, c.dlg.answer.te_pt)
    wait_for(lambda: c.rtp.keys_pending() == 0, 10)


def keys_inband(c, keys):
    c.rtp.send_dtmf_inband(keys)
    wait_for(lambda: c.rtp.keys_pending() == 0, 10)


def before_pin(h, t, room, c, others, t_answer):
    """c is asking for the PIN: it hears prompts and not the room; the
    others hear none of it; the API does not list it."""
    time.sleep(max(0.0, t_answer + 2.4 - time.monotonic()))
    an = c.rtp.analyze(ALL_F, start=t_answer + 0.4, end=t_answer + 2.4)
    log('%s before its PIN: %s' % (c.name, an))
    h.check(speech_db(an) > PROMPT_DBFS, '%s hears a prompt before its PIN' % c.name,
            '%.1f dBFS of speech' % speech_db(an))
    for o in others:
        h.check(an.dbfs[F[o.name]] < ABSENT_DBFS,
                '%s does not hear %s (the mix) before its PIN' % (c.name, o.name),
                '%d Hz at %.1f dBFS' % (F[o.name], an.dbfs[F[o.name]]))
    for o in others:
        ao = o.rtp.analyze(ALL_F, start=t_answer + 0.4, end=t_answer + 2.4)
        # In four half seconds, all but the loudest: a prompt lasts the
        # window, while one click in the mix (a tone's phase jumping where
        # the jitter buffer skipped a frame) fills every bin at -55 dBFS or
        # so for a moment, and must not pass for one.
        parts = sorted(speech_db(o.rtp.analyze(ALL_F, start=t_answer + 0.4 + 0.5 * k,
                                               end=t_answer + 0.9 + 0.5 * k))
                       for k in range(4))
        h.check(parts[2] < SILENT_DBFS,
                '%s hears nothing of %s\'s prompt' % (o.name, c.name),
                'half seconds at %s dBFS of speech' % ', '.join('%.1f' % d for d in parts))
        h.check(ao.dbfs[F[c.name]] < ABSENT_DBFS,
                '%s does not hear %s before its PIN' % (o.name, c.name),
                '%.1f dBFS' % ao.dbfs[F[c.name]])
    h.check(part_of(t, room, c.name.lower()) is None,
            '%s is not in the API\'s list before its PIN' % c.name)


def no_keys_heard(h, o, t0, t1, who, how):
    an = o.rtp.analyze(ALL_F, start=t0, end=t1)
    key, level = loudest_key(an)
    h.check(level < ABSENT_DBFS - 5, '%s does not hear %s\'s %s keys' % (o.name, who, how),
            'loudest key %s, both its tones at %.1f dBFS or less' % (key, level))


def admitted(h, t, room, c, moderator):
    p = wait_for(lambda: part_of(t, room, c.name.lower()), 4)
    h.check(p is not None, '%s is let in and listed by the API' % c.name)
    if p:
        h.check(p.get('moderator') is moderator,
                '%s is %sa moderator' % (c.name, '' if moderator else 'not '),
                repr(p.get('moderator')))
    return p


def hears(h, c, others, seconds=1.0):
    an = c.rtp.analyze(ALL_F, seconds)
    log('%s in the call: %s' % (c.name, an))
    for o in others:
        h.check(an.dbfs[F[o.name]] > HEAR_DBFS, '%s hears %s in the mix' % (c.name, o.name),
                '%d Hz at %.1f dBFS' % (F[o.name], an.dbfs[F[o.name]]))


def info_keys(h, t, room):
    """A caller that sends its PIN and *6 as SIP INFO (dtmf-relay)."""
    c = Caller(h, t.sip_addr, 'I', 'PCMU', 1000)
    dial(h, c, room)
    time.sleep(0.5)
    h.check(part_of(t, room, 'i') is None, 'I (INFO keys) is not listed before its PIN')
    codes = []
    for k in PIN + '#':
        r = c.dlg.request('INFO', ('Signal=%s\r\nDuration=160\r\n' % k).encode(),
                          ctype='application/dtmf-relay')
        codes.append(r.status)
    h.check(codes == [200] * 5, 'INFO dtmf-relay keys are answered 200', repr(codes))
    admitted(h, t, room, c, False)
    r = c.dlg.request('INFO', b'5', ctype='text/plain')
    h.check(r.status == 415 and 'application/dtmf-relay' in (r.get('accept') or ''),
            'INFO of another type: 415 with Accept', '%d, Accept %r' % (r.status, r.get('accept')))
    r = c.dlg.request('INFO', b'Signal=55\r\n', ctype='application/dtmf-relay')
    h.check(r.status == 400, 'INFO with a malformed body: 400', '%d' % r.status)
    for k in '*6':
        c.dlg.request('INFO', k.encode(), ctype='application/dtmf')
    p = wait_for(lambda: (part_of(t, room, 'i') or {}).get('muted'), 3)
    h.check(bool(p), 'I mutes itself with *6 sent as INFO (application/dtmf)')
    c.close()


def sipp_info(h, t, room):
    sipp = os.environ.get('SIPP') or shutil.which('sipp')
    if not sipp:
        log('sipp not found: the sipp INFO scenario is skipped')
        return
    xml = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'sipp', 'info_pin.xml')
    cmd = [sipp, '%s:%d' % (LOOPBACK, t.sip_port), '-sf', xml, '-s', room, '-m', '1',
           '-l', '1', '-i', LOOPBACK, '-mi', LOOPBACK, '-p', str(free_port(tcp=False)),
           # sipp binds audio and video RTP/RTCP from -mp: four free
           # ports below the ephemeral range, where no other test's
           # kernel-chosen socket lands between the check and the bind
           '-mp', str(free_rtp_range(4)[0]), '-cp', str(free_port(tcp=False)),
           '-timeout', '20s', '-timeout_error', '-nostdin', '-trace_err',
           '-error_file', os.path.join(t.dir, 'sipp_info_errors.log')]
    log('running: %s' % ' '.join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.STDOUT, cwd=t.dir)
    h.on_cleanup(lambda: p.poll() is None and (p.kill(), p.wait(3)))
    seen = {}

    def watch():
        end = time.monotonic() + 12
        while time.monotonic() < end and p.poll() is None:
            s = part_of(t, room, 'sipp-info')
            if s is None and 'in' not in seen:
                seen['hidden'] = True
            elif s is not None:
                seen['in'] = True
                seen['muted'] = seen.get('muted') or s.get('muted')
            time.sleep(0.1)
    w = threading.Thread(target=watch)
    w.start()
    try:
        rc = p.wait(25)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait(3)
    w.join(15)
    h.check(rc == 0, 'sipp: PIN as INFO dtmf-relay -> 200 each, text/plain -> 415, *6 as '
            'application/dtmf -> 200, BYE', 'exit status %s' % rc)
    h.check(seen.get('hidden') and seen.get('in'),
            'the sipp caller is listed only once its INFO PIN was taken', repr(seen))
    h.check(seen.get('muted'), 'the sipp caller muted itself with *6 by INFO', repr(seen))


def main():
    with Harness('test_ivr', time_limit=110) as h:
        t = h.start_tutti()
        room = 'ivr-%d' % os.getpid()
        make_room(h, t, room)
        make_room(h, t, room + '-info')
        make_room(h, t, room + '-sipp')
        m = Caller(h, t.sip_addr, 'M', 'PCMU', F['M'])
        a = Caller(h, t.sip_addr, 'A', 'PCMU', F['A'])
        g = Caller(h, t.sip_addr, 'G', 'PCMA', F['G'])

        # ---- M: the moderator PIN by RFC 4733 ------------------------------
        t_m = dial(h, m, room)
        time.sleep(2.4)
        an = m.rtp.analyze(ALL_F, start=t_m + 0.4, end=t_m + 2.4)
        h.check(speech_db(an) > PROMPT_DBFS, 'M hears a prompt on answer',
                '%.1f dBFS of speech' % speech_db(an))
        keys_rfc4733(m, MOD_PIN + '#')
        admitted(h, t, room, m, True)

        # ---- A: the PIN by RFC 4733 ----------------------------------------
        t_a = dial(h, a, room)
        before_pin(h, t, room, a, [m], t_a)
        t0 = time.monotonic()
        keys_rfc4733(a, PIN + '#')
        admitted(h, t, room, a, False)
        time.sleep(1.2)
        t1 = time.monotonic()
        no_keys_heard(h, m, t0, t1, 'A', 'RFC 4733')
        an = m.rtp.analyze(ALL_F, start=t0, end=t1)
        h.check(max(an.dbfs[f] for f in JOIN_F) > -35,
                'M hears the join tone when A comes in',
                '523 Hz %.1f, 784 Hz %.1f dBFS' % (an.dbfs[523], an.dbfs[784]))
        hears(h, a, [m])
        hears(h, m, [a])

        # ---- G: a G.711 desk phone, in-band keys ---------------------------
        t_g = dial(h, g, room, telephone_event=False)
        h.check(g.dlg.answer.te_pt is None, 'G offered no telephone-event and got none')
        before_pin(h, t, room, g, [m, a], t_g)
        t0 = time.monotonic()
        keys_inband(g, PIN + '#')
        admitted(h, t, room, g, False)
        time.sleep(1.5)
        no_keys_heard(h, m, t0, time.monotonic(), 'G', 'in-band')
        hears(h, m, [a, g])
        hears(h, g, [m, a])
        # *6 in-band in the call: G is muted, and its key tones (which are
        # in its audio) never reach the others.
        t0 = time.monotonic()
        keys_inband(g, '*6')
        p = wait_for(lambda: (part_of(t, room, 'g') or {}).get('muted'), 3)
        h.check(bool(p), 'G mutes itself with *6 as in-band tones')
        time.sleep(1.2)
        t1 = time.monotonic()
        for o in (m, a):
            no_keys_heard(h, o, t0, t1, 'G', 'in-band in-call')
        an = g.rtp.analyze(ALL_F, start=t1 - 1.2, end=t1)
        h.check(speech_db(an) > PROMPT_DBFS, 'G hears "you are muted" over the mix',
                '%.1f dBFS of speech' % speech_db(an))
        ma = m.rtp.analyze(ALL_F, start=t1 - 1.2, end=t1)
        h.check(ma.dbfs[F['G']] < ABSENT_DBFS, 'M no longer hears G',
                '%.1f dBFS' % ma.dbfs[F['G']])
        h.check(speech_db(ma) < SILENT_DBFS, 'M does not hear G\'s prompt',
                '%.1f dBFS of speech' % speech_db(ma))

        # ---- A mutes itself by RFC 4733 ------------------------------------
        keys_rfc4733(a, '*6')
        p = wait_for(lambda: (part_of(t, room, 'a') or {}).get('muted'), 3)
        h.check(bool(p), 'A mutes itself with *6 (RFC 4733)')
        time.sleep(1.0)
        an = m.rtp.analyze(ALL_F, 0.8)
        h.check(an.dbfs[F['A']] < ABSENT_DBFS, 'M no longer hears A',
                '%.1f dBFS' % an.dbfs[F['A']])

        # ---- keys by SIP INFO ----------------------------------------------
        info_keys(h, t, room + '-info')
        sipp_info(h, t, room + '-sipp')

        # ---- the moderator locks the room with *1 --------------------------
        keys_rfc4733(a, '*1')
        time.sleep(0.5)
        r = http_call(t.http_port, 'GET', '/api/v1/rooms/%s' % room)
        h.check((r.json() or {}).get('locked') is False, 'A (no moderator) cannot lock with *1')
        keys_rfc4733(m, '*1')
        locked = wait_for(lambda: (http_call(t.http_port, 'GET', '/api/v1/rooms/%s' % room)
                                     .json() or {}).get('locked'), 3)
        h.check(bool(locked), 'M locks the room with *1')
        time.sleep(1.0)
        an = m.rtp.analyze(ALL_F, 1.0)
        h.check(speech_db(an) > PROMPT_DBFS, 'M hears "the conference is locked"',
                '%.1f dBFS of speech' % speech_db(an))
        x = Caller(h, t.sip_addr, 'X', 'PCMU', 440)
        r = x.dial(room)
        h.check(r.status == 403, 'a new caller to the locked room gets 403',
                '%d %s' % (r.status, r.reason))
        h.check(t.alive(), 'tutti still running')
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
