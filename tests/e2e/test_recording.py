#!/usr/bin/env python3
"""End-to-end test of recording a room's mix through the API.

usage: test_recording.py [path/to/tutti]     (or env TUTTI_BIN)

Two callers send 440 Hz and 1000 Hz into a room; POST .../recording starts a
recording (201 with the file name, the room says recording: true), DELETE stops it (204).
The WAV file under the data directory then plays: its length matches the
time recorded and both callers' tones are in it.  A second start while
recording is refused (409), stopping a room that is not recording is 404,
and a recording running at shutdown is closed into a playable file.
"""

import array
import json
import os
import sys
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call            # noqa: E402
from rtpaudio import goertzel_blocks, to_db               # noqa: E402


def read_wav(path):
    with wave.open(path, 'rb') as w:
        rate, n, ch, width = w.getframerate(), w.getnframes(), w.getnchannels(), w.getsampwidth()
        pcm = array.array('h', w.readframes(n))
    return rate, ch, width, pcm


def tone_levels(pcm, rate, freqs):
    mid = pcm[len(pcm) // 4: len(pcm) * 3 // 4]
    total, tones, _ = goertzel_blocks(list(mid), rate, freqs)
    return {f: to_db(tones[f] / (32768.0 ** 2)) for f in freqs}


def main():
    with Harness('test_recording', time_limit=90) as h:
        t = h.start_tutti()
        room = 'rec-%d' % os.getpid()
        base = '/api/v1/rooms/%s/recording' % room
        a = Caller(h, t.sip_addr, 'alice', 'PCMU', 440)
        b = Caller(h, t.sip_addr, 'bob', 'PCMA', 1000)
        h.check(a.dial(room).status == 200 and b.dial(room).status == 200, 'two callers join')
        time.sleep(1.0)

        r = http_call(t.http_port, 'DELETE', base)
        h.check(r.status == 404, 'stopping a room that is not recording is 404', '%d' % r.status)
        r = http_call(t.http_port, 'POST', base)
        body = r.json() or {}
        h.check(r.status == 201 and str(body.get('file', '')).endswith('.wav'),
                'POST recording answers 201 with a .wav file name', '%d %r' % (r.status, body))
        t_start = time.monotonic()
        r2 = http_call(t.http_port, 'POST', base)
        h.check(r2.status == 409, 'a second start while recording is 409', '%d' % r2.status)
        info = http_call(t.http_port, 'GET', '/api/v1/rooms/%s' % room).json() or {}
        h.check(info.get('recording') is True, 'the room says recording: true', repr(info))
        time.sleep(3.0)
        r3 = http_call(t.http_port, 'DELETE', base)
        secs = time.monotonic() - t_start
        h.check(r3.status == 204, 'DELETE recording answers 204', '%d' % r3.status)

        path = os.path.join(t.data_dir, body.get('file', 'missing'))
        deadline = time.monotonic() + 5
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        h.check(os.path.exists(path), 'the file is renamed to its final name on stop', path)
        if os.path.exists(path):
            rate, ch, width, pcm = read_wav(path)
            dur = len(pcm) / float(rate)
            h.check(ch == 1 and width == 2, 'mono 16-bit WAV', '%d ch, %d bytes' % (ch, width))
            h.check(abs(dur - secs) < 0.5, 'its length matches the time recorded',
                    '%.2f s of audio for %.2f s' % (dur, secs))
            lv = tone_levels(pcm, rate, [440, 1000])
            h.check(lv[440] > -30 and lv[1000] > -30, 'both callers are heard in the recording',
                    '440 Hz %.1f dB, 1000 Hz %.1f dB' % (lv[440], lv[1000]))

        # a recording running at shutdown is closed cleanly
        r = http_call(t.http_port, 'POST', base)
        f2 = (r.json() or {}).get('file', 'missing')
        time.sleep(1.5)
        code, _dt = t.stop()
        h.check(code == 0, 'tutti exits 0 while recording', 'exit %s' % code)
        p2 = os.path.join(t.data_dir, f2)
        ok = os.path.exists(p2)
        if ok:
            rate, ch, width, pcm = read_wav(p2)
            ok = len(pcm) / float(rate) > 1.0
        h.check(ok, 'the recording stopped by shutdown is a playable WAV of the time recorded',
                p2 + ' ' + json.dumps(os.listdir(os.path.dirname(p2))
                                      if os.path.isdir(os.path.dirname(p2)) else []))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
