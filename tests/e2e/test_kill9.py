#!/usr/bin/env python3
"""No data lost: tutti is killed with SIGKILL at random moments while API
writes (room creates, updates, deletes) and a recording are under way, then
restarted on the same data dir, N times over.

After every kill, before the restart, the store (data_dir/tutti.db, read
with Python's sqlite3) must pass PRAGMA integrity_check, and the recording
(<name>.wav.part) must decode with Python's wave module and with libsndfile
and hold the tone the caller sent, up to the last second the writer had
flushed (its length is at least the time recorded less 1.5 s: one fsync
period and the writer's 100 ms batches, with slack for a loaded machine).
After the restart every room whose create was acknowledged (201) is there
with the maximum its last acknowledged update (200) set, every room whose
delete was acknowledged (204) is gone, and a request that was cut off by
the kill may have gone either way, but only those two ways.

usage: test_kill9.py [path/to/tutti]     (or env TUTTI_BIN)
env:   TUTTI_KILL9_TRIALS  how many kills (default 20)
       TUTTI_KILL9_SEED    the random seed (default: a new one, printed)
"""

import array
import ctypes
import ctypes.util
import os
import random
import signal
import sqlite3
import sys
import threading
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call, log             # noqa: E402
from rtpaudio import goertzel_blocks, to_db                     # noqa: E402

TRIALS = int(os.environ.get('TUTTI_KILL9_TRIALS', '20'))
SEED = int(os.environ.get('TUTTI_KILL9_SEED', '0')) or random.randrange(1, 1 << 30)
rnd = random.Random(SEED)
NAMES = ['kept-%d' % i for i in range(8)]
TONE_HZ = 700
FLUSH_SLACK_S = 1.5


class Store:
    """What the test knows of each room name: a set of states it may be in,
    each None (absent) or the room's max_participants."""

    def __init__(self):
        self.may = {n: {None} for n in NAMES}
        self.lock = threading.Lock()

    def known(self, name):
        with self.lock:
            s = self.may[name]
            return next(iter(s)) if len(s) == 1 else 'unknown'


def writer(port, store, stop, counts, seed):
    """API writes until stop is set or tutti is gone. A request cut off by
    the kill leaves the room in either state."""
    rnd = random.Random(seed)
    while not stop.is_set():
        name = rnd.choice(NAMES)
        cur = store.known(name)
        if cur == 'unknown':
            continue
        v = rnd.randrange(1, 1000)
        if cur is None:
            method, path, body, ok, after = 'POST', '/api/v1/rooms', \
                {'name': name, 'max_participants': v, 'pin': '4711'}, 201, v
        elif rnd.random() < 0.6:
            method, path, body, ok, after = 'PATCH', '/api/v1/rooms/' + name, \
                {'max_participants': v}, 200, v
        else:
            method, path, body, ok, after = 'DELETE', '/api/v1/rooms/' + name, None, 204, None
        with store.lock:
            store.may[name] = {cur, after}         # in flight
        try:
            r = http_call(port, method, path, body, timeout=3.0)
        except Exception:                           # noqa: BLE001 (killed)
            return                                  # stays in flight
        with store.lock:
            if r.status == ok:
                store.may[name] = {after}
                counts['acked'] += 1
            else:
                store.may[name] = {cur}
                counts['refused'] += 1
                counts['bad'].append('%s %s -> %d' % (method, path, r.status))


def sndfile_frames(path):
    """(frames, rate, samples) as libsndfile decodes the file; None without it."""
    name = ctypes.util.find_library('sndfile')
    if not name:
        return None
    lib = ctypes.CDLL(name)

    class Info(ctypes.Structure):
        _fields_ = [('frames', ctypes.c_int64), ('samplerate', ctypes.c_int),
                    ('channels', ctypes.c_int), ('format', ctypes.c_int),
                    ('sections', ctypes.c_int), ('seekable', ctypes.c_int)]
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(Info)]
    lib.sf_readf_short.restype = ctypes.c_int64
    lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    info = Info()
    sf = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))     # SFM_READ
    if not sf:
        return (-1, 0, None)
    buf = (ctypes.c_short * (info.frames * max(info.channels, 1)))()
    got = lib.sf_readf_short(sf, buf, info.frames)
    lib.sf_close(sf)
    return (got, info.samplerate, array.array('h', bytes(buf)[:got * 2]))


def check_recording(h, path, recorded_s, trial):
    """The .part file as a player finds it after the kill."""
    try:
        with wave.open(path, 'rb') as w:
            rate, n, ch, width = w.getframerate(), w.getnframes(), w.getnchannels(), \
                w.getsampwidth()
            pcm = array.array('h', w.readframes(n))
    except (OSError, EOFError, wave.Error) as e:
        h.check(False, 'trial %d: the recording decodes (wave)' % trial, '%s: %s' % (path, e))
        return 0.0
    dur = len(pcm) / float(rate) if rate else 0.0
    ok = ch == 1 and width == 2 and len(pcm) == n
    h.check(ok and dur >= recorded_s - FLUSH_SLACK_S,
            'trial %d: the recording decodes to the last flushed second' % trial,
            '%.2f s of audio for %.2f s recorded, %d frames in the header' % (dur, recorded_s, n))
    sf = sndfile_frames(path)
    if sf is not None:
        h.check(sf[0] == n, 'trial %d: libsndfile decodes the same %d frames' % (trial, n),
                'libsndfile: %d' % sf[0])
    if dur >= 1.0:
        mid = list(pcm[len(pcm) // 4: len(pcm) * 3 // 4])
        total, tones, _ = goertzel_blocks(mid, rate, [TONE_HZ])
        lv = to_db(tones[TONE_HZ] / (32768.0 ** 2))
        h.check(lv > -30, 'trial %d: the caller\'s tone is in the recording' % trial,
                '%d Hz at %.1f dB' % (TONE_HZ, lv))
    return dur


def check_store(h, data_dir, trial):
    db = os.path.join(data_dir, 'tutti.db')
    try:
        con = sqlite3.connect(db, timeout=5)
        res = con.execute('PRAGMA integrity_check').fetchall()
        con.close()
    except sqlite3.Error as e:
        res = [(str(e),)]
    h.check(res == [('ok',)], 'trial %d: PRAGMA integrity_check is ok' % trial, repr(res[:3]))


def check_rooms(h, t, store, trial, stats=None):
    """After a restart: what was acknowledged is there; what was cut off
    went one of its two ways, which the test now knows."""
    r = http_call(t.http_port, 'GET', '/api/v1/rooms')
    rooms = {x['name']: x for x in (r.json() or [])} if r.status == 200 else {}
    bad, present = [], 0
    for name in NAMES:
        got = rooms.get(name)
        state = None if got is None else got.get('max_participants')
        if got is not None and not got.get('persistent'):
            bad.append('%s not persistent' % name)
        if state not in store.may[name]:
            bad.append('%s: %r, expected one of %r' % (name, state, sorted(
                store.may[name], key=lambda x: -1 if x is None else x)))
        elif len(store.may[name]) > 1 and stats is not None:
            stats['cut'] += 1           # the write the kill cut off
        store.may[name] = {state}
        present += got is not None
    h.check(r.status == 200 and not bad,
            'trial %d: every acknowledged write survived the kill (%d rooms kept)' % (
                trial, present), '; '.join(bad[:4]))


def trial_once(h, trial, data_dir, store, stats):
    t = h.start_tutti(name='tutti-%d' % trial, data_dir=data_dir)
    check_rooms(h, t, store, trial, stats)
    room = 'rec-%d-%d' % (os.getpid(), trial)
    c = Caller(h, t.sip_addr, 'k%d' % trial, 'PCMU', TONE_HZ)
    if c.dial(room).status != 200:
        h.check(False, 'trial %d: a caller joins' % trial)
        t.stop()        # never two on one data dir
        return
    time.sleep(0.2)
    r = http_call(t.http_port, 'POST', '/api/v1/rooms/%s/recording' % room)
    rec_t0 = time.monotonic()
    f = (r.json() or {}).get('file') if r.status == 201 else None
    if not f:
        h.check(False, 'trial %d: the recording starts' % trial, repr(r))
    stop = threading.Event()
    counts = {'acked': 0, 'refused': 0, 'bad': []}
    th = threading.Thread(target=writer, args=(t.http_port, store, stop, counts, rnd.random()),
                          daemon=True)
    th.start()
    time.sleep(rnd.uniform(0.2, 3.0))
    os.kill(t.proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    t.proc.wait(5)
    stop.set()
    th.join(5)
    c.dlg.established = False       # its bridge is gone: no BYE to send
    c.close()
    t.stop()
    stats['acked'] += counts['acked']
    h.check(not counts['bad'], 'trial %d: the API accepted the writes' % trial,
            '; '.join(counts['bad'][:3]))
    check_store(h, data_dir, trial)
    if f:
        part = os.path.join(data_dir, f + '.part')
        if os.path.exists(part):
            stats['seconds'] += check_recording(h, part, killed_at - rec_t0, trial)
            stats['recordings'] += 1
        else:
            h.check(False, 'trial %d: the recording is on disk as .part' % trial, part)
    log('trial %d: killed %.2f s into the recording, %d writes acknowledged' % (
        trial, killed_at - rec_t0, counts['acked']))


def main():
    with Harness('test_kill9', time_limit=30 + 12 * TRIALS) as h:
        log('%d trials, seed %d' % (TRIALS, SEED))
        store = Store()
        stats = {'acked': 0, 'recordings': 0, 'seconds': 0.0, 'cut': 0}
        first = h.start_tutti(name='tutti-setup')
        data_dir = first.data_dir
        first.stop()
        for i in range(1, TRIALS + 1):
            trial_once(h, i, data_dir, store, stats)
            if h.failures:
                break
        t = h.start_tutti(name='tutti-last', data_dir=data_dir)
        check_rooms(h, t, store, TRIALS + 1, stats)
        t.stop()
        log('kill -9: %d trials, %d acknowledged writes and %d cut off by the kill, '
            '%d recordings (%.1f s of audio): nothing acknowledged was lost' % (
                TRIALS, stats['acked'], stats['cut'], stats['recordings'], stats['seconds']))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
