#!/usr/bin/env python3
"""End-to-end test of recording a room's mix through the API, as WAV and as
Ogg/Opus.

usage: test_recording.py [path/to/tutti]     (or env TUTTI_BIN)

Two callers send 440 Hz and 1000 Hz into a room.

WAV (no body): POST .../recording starts a recording (201 with a .wav file
name, the room says recording: true), DELETE stops it (204).  The WAV file
under the data directory then plays: its length matches the time recorded
and both callers' tones are in it.  A second start while recording is
refused (409), stopping a room that is not recording is 404.

Bad bodies: an unknown format, a format that is not a string and an
unknown field are each 400 with the SPEC's error body, and start nothing.

Ogg (body {"format": "ogg"}): 201 with a .ogg name, recording.started and
recording.stopped events that carry it; after DELETE the file is a complete
Ogg Opus stream (every page's CRC, OpusHead, OpusTags, end-of-stream on the
last page), and decoded (libsndfile, through ctypes) it is mono 48 kHz of
the time recorded with both tones in it.

Shutdown: a WAV recording in one room and an Ogg one in another, both
running at SIGTERM, are closed into files that play (the Ogg with its
end-of-stream page).

kill -9: a second bridge records a room as Ogg and is killed mid-recording;
the .ogg.part it leaves has whole pages with good CRCs and decodes to all
but at most the last flushed second or so of the time recorded, with the
callers' tones in its last second.
"""

import array
import os
import signal
import sys
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, Caller, http_call             # noqa: E402
from oggopus import (SF_FORMAT_OGG, SF_FORMAT_OPUS, check_opus_stream,  # noqa: E402
                     decode, ogg_pages)
from rtpaudio import goertzel_blocks, to_db                # noqa: E402
from test_api import SseStream                             # noqa: E402

FA, FB = 440, 1000
HEARD_DB = -30.0
# What a kill -9 may lose of an Ogg recording: the second between page
# cuts, the writer's 100 ms batch, a frame in the encoder, and some slack
# for a loaded machine.
OGG_KILL_LOSS_S = 1.5


def read_wav(path):
    with wave.open(path, 'rb') as w:
        rate, n, ch, width = w.getframerate(), w.getnframes(), w.getnchannels(), w.getsampwidth()
        pcm = array.array('h', w.readframes(n))
    return rate, ch, width, pcm


def tone_levels(pcm, rate, freqs):
    total, tones, _ = goertzel_blocks(list(pcm), rate, freqs)
    return {f: to_db(tones[f] / (32768.0 ** 2)) for f in freqs}


def middle(pcm):
    return pcm[len(pcm) // 4: len(pcm) * 3 // 4]


def wait_file(path, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.1)
    return os.path.exists(path)


def two_callers(h, t, room, a_name, b_name):
    a = Caller(h, t.sip_addr, a_name, 'PCMU', FA)
    b = Caller(h, t.sip_addr, b_name, 'PCMA', FB)
    h.check(a.dial(room).status == 200 and b.dial(room).status == 200,
            '%s and %s join %s' % (a_name, b_name, room))
    return a, b


def check_wav_round(h, t, base, room):
    r = http_call(t.http_port, 'DELETE', base)
    h.check(r.status == 404, 'stopping a room that is not recording is 404', '%d' % r.status)
    r = http_call(t.http_port, 'POST', base)
    body = r.json() or {}
    h.check(r.status == 201 and str(body.get('file', '')).endswith('.wav'),
            'POST recording (no body) answers 201 with a .wav file name',
            '%d %r' % (r.status, body))
    t_start = time.monotonic()
    r2 = http_call(t.http_port, 'POST', base, {'format': 'ogg'})
    h.check(r2.status == 409, 'a second start while recording is 409', '%d' % r2.status)
    info = http_call(t.http_port, 'GET', '/api/v1/rooms/%s' % room).json() or {}
    h.check(info.get('recording') is True, 'the room says recording: true', repr(info))
    time.sleep(3.0)
    r3 = http_call(t.http_port, 'DELETE', base)
    secs = time.monotonic() - t_start
    h.check(r3.status == 204, 'DELETE recording answers 204', '%d' % r3.status)

    path = os.path.join(t.data_dir, body.get('file', 'missing'))
    h.check(wait_file(path), 'the WAV is renamed to its final name on stop', path)
    if os.path.exists(path):
        rate, ch, width, pcm = read_wav(path)
        dur = len(pcm) / float(rate)
        h.check(ch == 1 and width == 2, 'mono 16-bit WAV', '%d ch, %d bytes' % (ch, width))
        h.check(abs(dur - secs) < 0.5, 'the WAV is as long as the time recorded',
                '%.2f s of audio for %.2f s' % (dur, secs))
        lv = tone_levels(middle(pcm), rate, [FA, FB])
        h.check(lv[FA] > HEARD_DB and lv[FB] > HEARD_DB, 'both callers are heard in the WAV',
                '440 Hz %.1f dB, 1000 Hz %.1f dB' % (lv[FA], lv[FB]))


def check_bad_bodies(h, t, base, room):
    cases = [({'format': 'flac'}, 'an unknown format'),
             ({'format': 7}, 'a format that is not a string'),
             ({'format': 'ogg', 'quality': 5}, 'an unknown field'),
             ('{"format": "ogg"', 'bad JSON')]
    for body, what in cases:
        r = http_call(t.http_port, 'POST', base, body)
        err = (r.json() or {}).get('error') or {}
        h.check(r.status == 400 and err.get('code') == 'bad_request' and err.get('message'),
                'POST recording with %s -> 400 bad_request' % what, repr(r))
    r = http_call(t.http_port, 'POST', base, {'format': 'ogg'}, ctype='text/plain')
    h.check(r.status == 415, 'POST recording with a text/plain body -> 415', repr(r))
    info = http_call(t.http_port, 'GET', '/api/v1/rooms/%s' % room).json() or {}
    h.check(info.get('recording') is False, 'refused requests start no recording', repr(info))


def check_ogg_file(h, path, secs, what):
    """A complete Ogg Opus file of secs seconds with both tones."""
    pages, problems, tail = ogg_pages(path)
    stream_problems, preskip, last_granule = check_opus_stream(pages)
    problems += stream_problems
    h.check(not problems and tail == 0 and pages and pages[-1].eos,
            '%s: a complete Ogg Opus stream (CRCs, headers, end-of-stream page)' % what,
            '%d pages, %d stray bytes, problems %r' % (len(pages), tail, problems))
    try:
        rate, ch, fmt, pcm = decode(path)
    except OSError as e:
        h.check(False, '%s: libsndfile decodes it' % what, str(e))
        return
    dur = len(pcm) / float(rate)
    h.check(rate == 48000 and ch == 1 and fmt == SF_FORMAT_OGG | SF_FORMAT_OPUS,
            '%s: decodes as mono 48 kHz Ogg/Opus' % what, '%d Hz, %d ch, format 0x%x' % (rate, ch, fmt))
    h.check(abs((last_granule - preskip) / 48000.0 - dur) < 0.03,
            '%s: its last granule position gives its length' % what,
            'granule %d - pre-skip %d vs %d samples' % (last_granule, preskip, len(pcm)))
    if secs is not None:
        h.check(abs(dur - secs) < 0.5, '%s: as long as the time recorded' % what,
                '%.2f s of audio for %.2f s' % (dur, secs))
    lv = tone_levels(middle(pcm), rate, [FA, FB])
    h.check(lv[FA] > HEARD_DB and lv[FB] > HEARD_DB, '%s: both callers are heard' % what,
            '440 Hz %.1f dB, 1000 Hz %.1f dB' % (lv[FA], lv[FB]))
    return os.path.getsize(path) / dur if dur > 0 else 0


def check_ogg_round(h, t, base, room):
    sse = SseStream(t.http_port)
    h.on_cleanup(sse.close)
    r = http_call(t.http_port, 'POST', base, {'format': 'ogg'})
    body = r.json() or {}
    f = str(body.get('file', ''))
    h.check(r.status == 201 and f.startswith('recordings/%s-' % room) and f.endswith('.ogg'),
            'POST recording {"format":"ogg"} answers 201 with a .ogg file name',
            '%d %r' % (r.status, body))
    t_start = time.monotonic()
    e = sse.wait_for(lambda e: e.get('event') == 'recording.started'
                     and (e.get('data') or {}).get('file') == f)
    h.check(e is not None, 'SSE: recording.started carries the .ogg file name', repr(sse.events[-3:]))
    part = os.path.join(t.data_dir, f + '.part')
    h.check(os.path.exists(part), 'while recording, the file is %s.part' % f)
    time.sleep(3.0)
    r = http_call(t.http_port, 'DELETE', base)
    secs = time.monotonic() - t_start
    h.check(r.status == 204, 'DELETE the Ogg recording answers 204', '%d' % r.status)
    e = sse.wait_for(lambda e: e.get('event') == 'recording.stopped'
                     and (e.get('data') or {}).get('file') == f)
    h.check(e is not None, 'SSE: recording.stopped carries the .ogg file name', repr(sse.events[-3:]))
    sse.close()
    path = os.path.join(t.data_dir, f)
    h.check(wait_file(path) and not os.path.exists(part),
            'the Ogg is renamed to its final name on stop', path)
    if os.path.exists(path):
        rate = check_ogg_file(h, path, secs, 'stopped Ogg')
        h.check(rate and rate < 8000, 'the Ogg takes under 8 KB a second',
                '%.0f bytes/s' % (rate or 0))


def check_shutdown(h, t, base, room):
    """A WAV in room and an Ogg in a second room, running at SIGTERM."""
    room2 = room + '-b'
    c, d = two_callers(h, t, room2, 'carol', 'dave')
    time.sleep(0.5)
    r = http_call(t.http_port, 'POST', base)
    f_wav = (r.json() or {}).get('file', 'missing')
    r = http_call(t.http_port, 'POST', '/api/v1/rooms/%s/recording' % room2, {'format': 'ogg'})
    f_ogg = (r.json() or {}).get('file', 'missing')
    h.check(r.status == 201 and f_ogg.endswith('.ogg'), 'a second room records as Ogg', repr(r))
    time.sleep(2.0)
    code, _dt = t.stop()
    h.check(code == 0, 'tutti exits 0 while recording', 'exit %s' % code)
    p = os.path.join(t.data_dir, f_wav)
    ok = os.path.exists(p)
    if ok:
        rate, ch, width, pcm = read_wav(p)
        ok = len(pcm) / float(rate) > 1.0
    h.check(ok, 'the WAV stopped by shutdown plays the time recorded', p)
    p = os.path.join(t.data_dir, f_ogg)
    h.check(os.path.exists(p), 'the Ogg stopped by shutdown has its final name', p)
    if os.path.exists(p):
        check_ogg_file(h, p, None, 'Ogg stopped by shutdown')


def check_kill9(h):
    t = h.start_tutti(name='tutti-kill')
    room = 'crash-%d' % os.getpid()
    two_callers(h, t, room, 'erin', 'frank')
    time.sleep(0.5)
    r = http_call(t.http_port, 'POST', '/api/v1/rooms/%s/recording' % room, {'format': 'ogg'})
    f = (r.json() or {}).get('file', 'missing')
    t_start = time.monotonic()
    h.check(r.status == 201 and f.endswith('.ogg'), 'the room records as Ogg before the kill', repr(r))
    time.sleep(3.4)
    os.kill(t.proc.pid, signal.SIGKILL)
    recorded = time.monotonic() - t_start
    t.proc.wait(5)
    part = os.path.join(t.data_dir, f + '.part')
    h.check(os.path.exists(part) and not os.path.exists(os.path.join(t.data_dir, f)),
            'kill -9 leaves the .ogg.part', part)
    if not os.path.exists(part):
        return
    pages, problems, tail = ogg_pages(part)
    stream_problems, _preskip, _g = check_opus_stream(pages)
    problems += stream_problems
    h.check(not problems and pages and not pages[-1].eos,
            'the .part is whole Ogg Opus pages with good CRCs, no end-of-stream yet',
            '%d pages, %d bytes of a cut page, problems %r' % (len(pages), tail, problems))
    try:
        rate, ch, _fmt, pcm = decode(part)
    except OSError as e:
        h.check(False, 'libsndfile decodes the .ogg.part', str(e))
        return
    dur = len(pcm) / float(rate)
    h.check(recorded - OGG_KILL_LOSS_S <= dur <= recorded + 0.1,
            'the .ogg.part decodes up to its last flushed second',
            '%.2f s decoded of %.2f s recorded before kill -9' % (dur, recorded))
    lv = tone_levels(pcm[-rate:], rate, [FA, FB])
    h.check(lv[FA] > HEARD_DB and lv[FB] > HEARD_DB,
            'the last decoded second holds what the callers said',
            '440 Hz %.1f dB, 1000 Hz %.1f dB' % (lv[FA], lv[FB]))


def main():
    with Harness('test_recording', time_limit=110) as h:
        t = h.start_tutti()
        room = 'rec-%d' % os.getpid()
        base = '/api/v1/rooms/%s/recording' % room
        two_callers(h, t, room, 'alice', 'bob')
        time.sleep(1.0)
        check_wav_round(h, t, base, room)
        check_bad_bodies(h, t, base, room)
        check_ogg_round(h, t, base, room)
        check_shutdown(h, t, base, room)
        check_kill9(h)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
