#!/usr/bin/env python3
"""End-to-end interop test: a real softphone (baresip) in a room with two
Python callers.

usage: test_baresip.py [path/to/tutti] [--secure | --g722]  (or env TUTTI_BIN; env BARESIP)

--secure: baresip calls over SIP/TLS (the bridge's certificate is made with
the openssl command and given to baresip as its CA) with mandatory SRTP
(`mediaenc=srtp-mand`, module srtp: RTP/SAVP with SDES keys), in a room with
the two plain-RTP Python callers: everyone still hears everyone, and tutti's
log shows the SRTP suite and no key.

--g722: baresip loads its g722 codec module only (spandsp's coder, as
tutti's), so it offers G722/8000 alone; tutti answers G.722 and everyone
still hears everyone.

    A        Python caller   PCMU    500 Hz
    B        Python caller   PCMA   2100 Hz
    baresip  real UA         (opus/PCMU/PCMA offered, opus first)  1300 Hz

baresip (Debian 1.0.0) runs from a private config dir (`baresip -f DIR`) with
no audio device module, SIP on a free loopback port and an account without
registration (regint=0).  It plays IN.wav (48 kHz mono 16-bit sine, module
aufile as audio source; baresip resamples for the negotiated codec) and dials
the room with `-e '/dial sip:ROOM@127.0.0.1:PORT'`, quitting itself after
`-t` seconds (hanging up with a BYE).

What baresip hears: in baresip 1.0 aufile is a source only (no file player),
so the received audio is taken from the 'sndfile' audio filter, which dumps
the decoded receive stream to snd_path/dump-<time>-<remote>-dec.wav.  That
file is analysed (Goertzel, rtpaudio.py) over the middle of the call.

Checks: tutti logs the baresip call joined (and left after baresip's BYE);
A and B hear baresip's 1300 Hz tone and each other, never themselves; the
wav baresip recorded contains 500 and 2100 Hz clearly and its own 1300 Hz at
least 30 dB below them (N-1 mix).  baresip and tutti are stopped by PID in
every case; everything is on 127.0.0.1; the harness enforces a time limit.
"""

import array
import glob
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Harness, Caller, log, free_port, stop_process, wait_for,  # noqa: E402
                     LOOPBACK, SKIP)
from rtpaudio import Analysis                                           # noqa: E402

MODULE_DIR = '/usr/lib/baresip/modules'
FREQS = {'A': 500, 'B': 2100, 'baresip': 1300}
CODECS = {'A': 'PCMU', 'B': 'PCMA'}
ALL_F = sorted(FREQS.values())

BS_SECONDS = 14            # baresip quits (and hangs up) after this many seconds
IN_RATE = 48000
IN_DBFS = -12.0            # same level as the Python callers' tones
IN_SECONDS = BS_SECONDS + 10

HEAR_MIN_DBFS = -35.0
HEAR_MIN_REL = -15.0
ABSENT_MARGIN = 30.0
PKTS_PER_S = 50


def baresip_binary():
    b = os.environ.get('BARESIP') or shutil.which('baresip')
    return b if b and os.access(b, os.X_OK) else None


def write_sine_wav(path, freq, rate, seconds, dbfs):
    """A mono 16-bit sine; `freq` is a whole number of Hz, so one second of it
    repeats seamlessly."""
    amp = 32767.0 * 10 ** (dbfs / 20.0)
    w = 2.0 * math.pi * freq / rate
    one_s = array.array('h', (int(round(amp * math.sin(w * i))) for i in range(rate)))
    pcm = one_s * int(math.ceil(seconds))
    if sys.byteorder != 'little':
        pcm.byteswap()
    with wave.open(path, 'wb') as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(pcm.tobytes())


def read_wav_mono(path):
    """(rate, channels, samples of channel 0) of a 16-bit PCM wav."""
    with wave.open(path, 'rb') as f:
        rate, ch, width, n = f.getframerate(), f.getnchannels(), f.getsampwidth(), f.getnframes()
        data = f.readframes(n)
    if width != 2:
        raise ValueError('%s: sample width %d, expected 2' % (path, width))
    pcm = array.array('h')
    pcm.frombytes(data[:len(data) - len(data) % 2])
    if sys.byteorder != 'little':
        pcm.byteswap()
    return rate, ch, pcm[0::ch]


def middle(samples, rate, skip_s=2.0):
    """The middle of a recording: drop the first and last `skip_s` seconds (join
    and hang-up transients), and at most a quarter at either end."""
    n = len(samples)
    cut = min(int(skip_s * rate), n // 4)
    return samples[cut:n - cut]


def free_sip_port():
    """A free port whose next one is free too: baresip also listens for
    SIP over TLS on sip_listen's port + 1, and fails to start without it.

    Taken below the kernel's ephemeral range (32768-60999 here): inside it,
    after the tests' thousands of HTTP requests, most ports are held by
    TIME_WAIT connections and a strict bind of the pair failed 100 times in a
    row once in CI. Both ports are checked for UDP and TCP, as baresip binds."""
    for _ in range(400):
        p = random.randrange(5000, 9998, 2)
        held = []
        try:
            for port in (p, p + 1):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    held.append(s)
                    s.bind((LOOPBACK, port))
            return p
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise OSError('no free pair of ports')


class Baresip:
    """One baresip process in its own config dir, stopped by PID."""

    def __init__(self, binary, user, rtp_lo, rtp_hi, secure_ca=None,
                 codecs=('opus.so', 'g711.so')):
        self.binary = binary
        self.user = user
        self.dir = tempfile.mkdtemp(prefix='tutti-e2e-baresip-')
        self.sip_port = free_sip_port()
        self.in_wav = os.path.join(self.dir, 'in.wav')
        self.log_path = os.path.join(self.dir, 'baresip.log')
        self.proc = None
        self._logf = None
        write_sine_wav(self.in_wav, FREQS['baresip'], IN_RATE, IN_SECONDS, IN_DBFS)
        config = [
            'poll_method            epoll',
            'sip_listen             %s:%d' % (LOOPBACK, self.sip_port),
            'net_interface          %s' % LOOPBACK,
            'call_local_timeout     120',
            'call_max_calls         1',
            # no audio device module is loaded: aufile is the only source, no player
            'audio_source           aufile,%s' % self.in_wav,
            'ausrc_srate            %d' % IN_RATE,
            'ausrc_channels         1',
            'ausrc_format           s16',
            'auplay_format          s16',
            'auenc_format           s16',
            'audec_format           s16',
            'audio_buffer           20-160',
            'rtp_ports              %d-%d' % (rtp_lo, rtp_hi),
            'rtcp_mux               no',
            'jitter_buffer_delay    5-10',
            'rtp_stats              no',
            'snd_path               %s' % self.dir,        # sndfile: dump-*-{enc,dec}.wav
            'module_path            %s' % MODULE_DIR,
        ] + ['module                 %s' % c for c in codecs] + [
            'module                 aufile.so',
            'module                 sndfile.so',
            'module_tmp             account.so',
            'module_app             menu.so',             # the /dial command
            'opus_bitrate           64000',
        ]
        if secure_ca:
            config += ['module                 srtp.so',
                       'sip_cafile             %s' % secure_ca]
        with open(os.path.join(self.dir, 'config'), 'w') as f:
            f.write('\n'.join(config) + '\n')
        with open(os.path.join(self.dir, 'accounts'), 'w') as f:
            # no registration; medianat unset; SRTP required when secure
            f.write('<sip:%s@%s>;regint=0%s\n' % (
                user, LOOPBACK, ';mediaenc=srtp-mand' if secure_ca else ''))

    def start(self, target_uri, seconds):
        args = [self.binary, '-f', self.dir, '-e', '/dial %s' % target_uri, '-t', str(seconds)]
        log('starting %s' % ' '.join(args))
        self._logf = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        log('baresip pid %d, dir %s, SIP %s:%d' % (self.proc.pid, self.dir, LOOPBACK,
                                                   self.sip_port))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=5.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            stop_process(self.proc, 'baresip', grace)
            log('baresip (pid %d) stopped: exit %s' % (self.proc.pid, self.proc.returncode))
        if self._logf:
            self._logf.close()
            self._logf = None
        return self.proc.returncode

    def log_lines(self):
        try:
            with open(self.log_path, 'rb') as f:
                text = f.read().decode('utf-8', 'replace')
        except OSError:
            return []
        out = []
        for ln in text.replace('\r', '\n').split('\n'):
            ln = ln.replace('\x1b[31m', '').replace('\x1b[;m', '').strip()
            # drop the menu's call status ticker and the echo of the typed command
            if not ln or (ln.startswith('[') and 'audio=' in ln) or ln.startswith('/'):
                continue
            out.append(ln)
        return out

    def log_tail(self, n=60):
        return '\n'.join('    | ' + ln for ln in self.log_lines()[-n:])

    def recording(self, kind):
        return sorted(glob.glob(os.path.join(self.dir, 'dump-*-%s.wav' % kind)))


def tutti_lines(t, *needles):
    return [ln for ln in t.log_text().splitlines() if all(n in ln for n in needles)]


def main():
    bs_bin = baresip_binary()
    if not bs_bin or not os.path.isdir(MODULE_DIR):
        print('baresip (or %s) not found: skipped' % MODULE_DIR)
        return SKIP

    secure = '--secure' in sys.argv[2:]
    g722 = '--g722' in sys.argv[2:]
    if g722 and not os.path.exists(os.path.join(MODULE_DIR, 'g722.so')):
        print('baresip has no g722 module: skipped')
        return SKIP
    mode = ' --secure' if secure else ' --g722' if g722 else ''
    with Harness('test_baresip' + mode, time_limit=100) as h:
        ca = None
        extra = []
        if secure:
            tls_dir = tempfile.mkdtemp(prefix='tutti-e2e-tls-')
            h.on_cleanup(lambda: shutil.rmtree(tls_dir, ignore_errors=True))
            ca, key = os.path.join(tls_dir, 'bridge.crt'), os.path.join(tls_dir, 'bridge.key')
            subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                            '-keyout', key, '-out', ca, '-days', '2', '-subj', '/CN=127.0.0.1',
                            '-addext', 'subjectAltName=IP:127.0.0.1'],
                           check=True, capture_output=True, timeout=30)
            tls_port = free_port(udp=False)
            extra = ['--sip-tls-listen', '%s:%d' % (LOOPBACK, tls_port),
                     '--tls-cert', ca, '--tls-key', key]
        t = h.start_tutti(extra)
        room = 'baresip-%d' % os.getpid()
        user = 'bs%d' % os.getpid()

        # ---- the two Python callers join first ------------------------------------
        callers = {n: Caller(h, t.sip_addr, n, CODECS[n], FREQS[n]) for n in 'AB'}
        for n, c in callers.items():
            r = c.dial(room)
            if not h.check(r.status == 200, '%s (%s, %d Hz) INVITE answered 200' % (
                    n, CODECS[n], FREQS[n]), '%d %s' % (r.status, r.reason)):
                raise SystemExit('caller %s could not join' % n)

        # ---- baresip dials the room -----------------------------------------------
        # its RTP ports: between tutti's ranges (10000-32000) and the Python
        # endpoints' (40000-60000); baresip retries other ports if one is taken
        lo = random.randrange(32000, 39600, 2)
        bs = Baresip(bs_bin, user, lo, lo + 399, secure_ca=ca,
                     codecs=('g722.so',) if g722 else ('opus.so', 'g711.so'))

        def stop_baresip():
            code = bs.stop()
            if h.failures:
                log('--- baresip log (tail) %s ---\n%s' % (bs.log_path, bs.log_tail(60)))
            elif not h.keep_logs:
                shutil.rmtree(bs.dir, ignore_errors=True)
            return code
        h.on_cleanup(stop_baresip)
        t_start = time.monotonic()
        if secure:
            bs.start('sip:%s@%s:%d;transport=tls' % (room, LOOPBACK, tls_port), BS_SECONDS)
        else:
            bs.start('sip:%s@%s:%d' % (room, LOOPBACK, t.sip_port), BS_SECONDS)

        joined = wait_for(lambda: tutti_lines(t, 'room=%s ' % room, ' joined ',
                                              'uri=sip:%s@' % user), 10.0)
        if not h.check(bool(joined), "tutti's log shows the baresip call joined the room",
                       joined[-1].strip() if joined else
                       'no "room=%s ... joined uri=sip:%s@" line; baresip %s' % (
                           room, user, 'running' if bs.alive() else
                           'exited %s' % bs.proc.returncode)):
            raise SystemExit('baresip did not join')
        t_join = time.monotonic()
        jl = joined[-1]
        codec = jl.split('codec=', 1)[1].split()[0] if 'codec=' in jl else '?'
        call_id = jl.split('call=', 1)[1].split()[0] if 'call=' in jl else None
        log('baresip joined %.2f s after start, codec %s, call %s' % (
            t_join - t_start, codec, call_id))
        if g722:
            h.check(codec == 'G722', 'baresip, offering G.722 only, is answered G722', jl.strip())
        if secure:
            h.check('srtp=AES_CM_128_HMAC_SHA1_' in jl and 'inline' not in t.log_text(),
                    'baresip joined with SRTP, and no key is in the log', jl.strip())

        # ---- the Python callers hear baresip ---------------------------------------
        time.sleep(4.0)
        for n, c in callers.items():
            an = c.rtp.analyze(ALL_F, 3.0)
            log('%-3s hears: %s' % (n, an))
            need = int(PKTS_PER_S * 3.0 * 0.8)
            h.check(an.n_packets >= need, '%s receives RTP' % n,
                    '%d packets in 3.0 s, need >= %d' % (an.n_packets, need))
            hear = ['baresip'] + [o for o in 'AB' if o != n]
            for o in hear:
                f = FREQS[o]
                h.check(an.dbfs[f] > HEAR_MIN_DBFS and an.rel_db[f] > HEAR_MIN_REL,
                        '%s hears %s (%d Hz)' % (n, o, f),
                        '%.1f dBFS, %.1f dB of received power; need > %.0f dBFS and > %.0f dB'
                        % (an.dbfs[f], an.rel_db[f], HEAR_MIN_DBFS, HEAR_MIN_REL))
            ref = min(an.dbfs[FREQS[o]] for o in hear)
            f = FREQS[n]
            h.check(an.dbfs[f] < ref - ABSENT_MARGIN,
                    '%s does not hear itself (%d Hz)' % (n, f),
                    '%.1f dBFS vs %.1f dBFS; need at least %.0f dB below' % (
                        an.dbfs[f], ref, ABSENT_MARGIN))

        # ---- baresip hangs up by itself (-t) ---------------------------------------
        left_by = BS_SECONDS + 10 - (time.monotonic() - t_start)
        code = bs.wait(max(left_by, 1.0))
        h.check(code == 0, 'baresip quits by itself after -t %d with exit status 0' % BS_SECONDS,
                'exit status %s' % ('still running' if code is None else code))
        if call_id:
            left = wait_for(lambda: tutti_lines(t, 'room=%s ' % room, 'call=%s ' % call_id,
                                                ' left'), 3.0)
            h.check(bool(left), "tutti's log shows the baresip call left (baresip's BYE)",
                    left[-1].strip() if left else 'no "call=%s left" line' % call_id)
        bs.stop()

        # ---- what baresip heard ---------------------------------------------------------
        for kind in ('enc', 'dec'):
            log('baresip %s recordings: %s' % (kind, bs.recording(kind)))
        enc = bs.recording('enc')
        if enc:
            rate, ch, pcm = read_wav_mono(enc[-1])
            log('baresip sent   (enc.wav %d Hz %d ch %.1f s, middle): %s' % (
                rate, ch, len(pcm) / rate,
                Analysis('baresip-tx', ALL_F, middle(pcm, rate), rate, [], 0, 0)))
        dec = bs.recording('dec')
        if not h.check(len(dec) == 1, 'baresip (sndfile) recorded what it received',
                       'files %s' % [os.path.basename(p) for p in dec]):
            raise SystemExit('no recording')
        rate, ch, pcm = read_wav_mono(dec[0])
        secs = len(pcm) / rate if rate else 0.0
        h.check(secs >= BS_SECONDS - 6, 'the recording covers the call',
                '%.1f s of %d Hz %d ch audio; baresip ran %d s; need >= %d s' % (
                    secs, rate, ch, BS_SECONDS, BS_SECONDS - 6))
        mid = middle(pcm, rate)
        an = Analysis('baresip', ALL_F, mid, rate, [], 0, 0)
        log('baresip heard (dec.wav %d Hz %d ch, middle %.1f s of %.1f s): %s' % (
            rate, ch, len(mid) / rate if rate else 0.0, secs, an))
        for o in 'AB':
            f = FREQS[o]
            h.check(an.dbfs[f] > HEAR_MIN_DBFS and an.rel_db[f] > HEAR_MIN_REL,
                    'baresip hears %s (%d Hz)' % (o, f),
                    '%.1f dBFS, %.1f dB of received power; need > %.0f dBFS and > %.0f dB' % (
                        an.dbfs[f], an.rel_db[f], HEAR_MIN_DBFS, HEAR_MIN_REL))
        ref = min(an.dbfs[FREQS[o]] for o in 'AB')
        f = FREQS['baresip']
        h.check(an.dbfs[f] < ref - ABSENT_MARGIN,
                'baresip does not hear itself (%d Hz) (N-1 mix)' % f,
                '%.1f dBFS vs %.1f dBFS; need at least %.0f dB below' % (
                    an.dbfs[f], ref, ABSENT_MARGIN))

        h.check(t.alive(), 'tutti still running', '' if t.alive() else
                'exit status %s' % t.proc.returncode)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
