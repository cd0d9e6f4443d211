"""RTP audio endpoints for tutti's end-to-end tests (Python 3.11 stdlib only).

* G.711 mu-law and A-law encoders/decoders (the classic Sun reference
  algorithm, as in ITU-T G.711 / g711.c), table driven.
* Opus through ctypes on libopus (48 kHz mono, 20 ms frames), optionally
  with in-band FEC for an expected loss.
* G.722 through ctypes on spandsp (64 kb/s, 16 kHz audio, RTP clock 8000 as
  RFC 3551 has it), the library tutti itself uses.
* RtpEndpoint: one UDP socket (symmetric RTP: the same socket sends and
  receives) plus its RTCP socket (port + 1).  A sender thread emits a sine
  tone (or digital silence) as 20 ms packets paced by the monotonic clock; a
  receiver thread decodes what arrives into a PCM buffer and keeps per-packet
  metadata (PT, SSRC, CSRC list, sequence number, arrival time).
* Key presses as a phone makes them: RFC 4733 telephone-event packets
  (repeated with a growing duration, ended by three E packets) or in-band
  DTMF dual tones in the audio (send_dtmf, send_dtmf_inband).
* Goertzel analysis (Hann-windowed 100 ms blocks) giving, for each asked
  frequency, its level in dBFS (0 dBFS = full-scale sine) and its power
  relative to the total received power, over any time window.
"""

import array
import ctypes
import ctypes.util
import math
import random
import select
import socket
import struct
import sys
import threading
import time

# A sender thread that wakes for its packet waits for the GIL while
# another thread (a receiver decoding, the test analysing) holds it: up
# to the switch interval, 5 ms by default, a quarter of a frame. The
# bridge's jitter buffer sees that as network jitter and, on a busy
# machine, as late packets. 0.5 ms keeps the senders' pace close.
sys.setswitchinterval(0.0005)

FULL_SCALE_MS = (32768.0 ** 2) / 2.0      # mean square of a full-scale sine
NEG_INF_DB = -200.0


# --------------------------------------------------------------------------
# G.711 (reference algorithm)
# --------------------------------------------------------------------------

_SEG_AEND = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)
_SEG_UEND = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_BIAS = 0x84
_CLIP = 8159


def _search(val, table):
    for i, end in enumerate(table):
        if val <= end:
            return i
    return len(table)


def linear2ulaw(pcm):
    pcm >>= 2
    if pcm < 0:
        pcm = -pcm
        mask = 0x7F
    else:
        mask = 0xFF
    if pcm > _CLIP:
        pcm = _CLIP
    pcm += _BIAS >> 2
    seg = _search(pcm, _SEG_UEND)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((pcm >> (seg + 1)) & 0xF)) ^ mask


def ulaw2linear(u):
    u = ~u & 0xFF
    t = ((u & 0x0F) << 3) + _BIAS
    t <<= (u & 0x70) >> 4
    return (_BIAS - t) if (u & 0x80) else (t - _BIAS)


def linear2alaw(pcm):
    pcm >>= 3
    if pcm >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        pcm = -pcm - 1
    seg = _search(pcm, _SEG_AEND)
    if seg >= 8:
        return 0x7F ^ mask
    aval = seg << 4
    if seg < 2:
        aval |= (pcm >> 1) & 0x0F
    else:
        aval |= (pcm >> seg) & 0x0F
    return aval ^ mask


def alaw2linear(a):
    a ^= 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t += 0x108
        t <<= seg - 1
    return t if (a & 0x80) else -t


# lookup tables: index = sample & 0xFFFF for encoding, byte for decoding
_ULAW_ENC = bytes(linear2ulaw(s - 65536 if s >= 32768 else s) for s in range(65536))
_ALAW_ENC = bytes(linear2alaw(s - 65536 if s >= 32768 else s) for s in range(65536))
_ULAW_DEC = array.array('h', (ulaw2linear(b) for b in range(256)))
_ALAW_DEC = array.array('h', (alaw2linear(b) for b in range(256)))


def ulaw_encode(pcm):
    t = _ULAW_ENC
    return bytes(t[s & 0xFFFF] for s in pcm)


def alaw_encode(pcm):
    t = _ALAW_ENC
    return bytes(t[s & 0xFFFF] for s in pcm)


def ulaw_decode(data):
    t = _ULAW_DEC
    return array.array('h', (t[b] for b in data))


def alaw_decode(data):
    t = _ALAW_DEC
    return array.array('h', (t[b] for b in data))


# --------------------------------------------------------------------------
# Opus via ctypes
# --------------------------------------------------------------------------

_opus = None
OPUS_APPLICATION_VOIP = 2048
OPUS_APPLICATION_AUDIO = 2049
OPUS_SET_BITRATE_REQUEST = 4002
OPUS_SET_INBAND_FEC_REQUEST = 4012
OPUS_SET_PACKET_LOSS_PERC_REQUEST = 4014


def load_lib(name, *fallbacks):
    """The shared library `name` (as ctypes.util finds it), else the first
    of fallbacks that loads."""
    last = None
    for c in [p for p in (ctypes.util.find_library(name),) + fallbacks if p]:
        try:
            return ctypes.CDLL(c)
        except OSError as e:
            last = e
    raise OSError('lib%s not found: %s' % (name, last))


def opus_lib():
    global _opus
    if _opus is None:
        lib = load_lib('opus', 'libopus.so.0', '/usr/lib/x86_64-linux-gnu/libopus.so.0')
        lib.opus_encoder_create.restype = ctypes.c_void_p
        lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_encode.restype = ctypes.c_int32
        lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16),
                                    ctypes.c_int, ctypes.c_char_p, ctypes.c_int32]
        lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int,
                                            ctypes.POINTER(ctypes.c_int)]
        lib.opus_decode.restype = ctypes.c_int
        lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
                                    ctypes.POINTER(ctypes.c_int16), ctypes.c_int,
                                    ctypes.c_int]
        lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
        _opus = lib
    return _opus


class OpusEncoder:
    def __init__(self, rate=48000, channels=1, application=OPUS_APPLICATION_AUDIO,
                 bitrate=None, fec_loss_perc=0):
        self.lib = opus_lib()
        err = ctypes.c_int(0)
        self.st = self.lib.opus_encoder_create(rate, channels, application, ctypes.byref(err))
        if err.value != 0 or not self.st:
            raise RuntimeError('opus_encoder_create failed: %d' % err.value)
        if bitrate:
            self.lib.opus_encoder_ctl(ctypes.c_void_p(self.st), OPUS_SET_BITRATE_REQUEST,
                                      ctypes.c_int32(bitrate))
        if fec_loss_perc:
            # in-band FEC, coded by libopus only when loss is expected
            self.lib.opus_encoder_ctl(ctypes.c_void_p(self.st), OPUS_SET_INBAND_FEC_REQUEST,
                                      ctypes.c_int32(1))
            self.lib.opus_encoder_ctl(ctypes.c_void_p(self.st),
                                      OPUS_SET_PACKET_LOSS_PERC_REQUEST,
                                      ctypes.c_int32(fec_loss_perc))
        self.buf = ctypes.create_string_buffer(1500)

    def encode(self, pcm):
        n = len(pcm)
        arr = (ctypes.c_int16 * n)(*pcm)
        r = self.lib.opus_encode(self.st, arr, n, self.buf, 1500)
        if r < 0:
            raise RuntimeError('opus_encode failed: %d' % r)
        return self.buf.raw[:r]

    def close(self):
        if self.st:
            self.lib.opus_encoder_destroy(self.st)
            self.st = None


class OpusDecoder:
    MAX_FRAME = 5760

    def __init__(self, rate=48000, channels=1):
        self.lib = opus_lib()
        err = ctypes.c_int(0)
        self.st = self.lib.opus_decoder_create(rate, channels, ctypes.byref(err))
        if err.value != 0 or not self.st:
            raise RuntimeError('opus_decoder_create failed: %d' % err.value)
        self.out = (ctypes.c_int16 * self.MAX_FRAME)()

    def decode(self, data):
        """Returns array('h') or None when the packet could not be decoded."""
        r = self.lib.opus_decode(self.st, data, len(data), self.out, self.MAX_FRAME, 0)
        if r < 0:
            return None
        return array.array('h', self.out[:r])

    def close(self):
        if self.st:
            self.lib.opus_decoder_destroy(self.st)
            self.st = None


# --------------------------------------------------------------------------
# G.722 via ctypes (spandsp)
# --------------------------------------------------------------------------

_spandsp = None


def spandsp_lib():
    global _spandsp
    if _spandsp is None:
        lib = load_lib('spandsp', 'libspandsp.so.2')
        for f in ('g722_encode_init', 'g722_decode_init'):
            getattr(lib, f).restype = ctypes.c_void_p
            getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        lib.g722_encode.restype = ctypes.c_int
        lib.g722_encode.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                    ctypes.POINTER(ctypes.c_int16), ctypes.c_int]
        lib.g722_decode.restype = ctypes.c_int
        lib.g722_decode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16),
                                    ctypes.c_char_p, ctypes.c_int]
        lib.g722_encode_free.argtypes = [ctypes.c_void_p]
        lib.g722_decode_free.argtypes = [ctypes.c_void_p]
        _spandsp = lib
    return _spandsp


class G722:
    """One direction pair of G.722 at 64 kb/s: 16 kHz PCM, two samples a byte."""

    def __init__(self):
        self.lib = spandsp_lib()
        self.enc = self.lib.g722_encode_init(None, 64000, 0)
        self.dec = self.lib.g722_decode_init(None, 64000, 0)
        if not self.enc or not self.dec:
            raise RuntimeError('g722 init failed')
        self.out = (ctypes.c_int16 * 4096)()
        self.buf = ctypes.create_string_buffer(2048)

    def encode(self, pcm):
        n = len(pcm)
        arr = (ctypes.c_int16 * n)(*pcm)
        r = self.lib.g722_encode(self.enc, self.buf, arr, n)
        return self.buf.raw[:r]

    def decode(self, data):
        n = min(len(data), 2048)
        r = self.lib.g722_decode(self.dec, self.out, data[:n], n)
        return array.array('h', self.out[:r])

    def close(self):
        if self.enc:
            self.lib.g722_encode_free(self.enc)
            self.lib.g722_decode_free(self.dec)
            self.enc = self.dec = None


# --------------------------------------------------------------------------
# Codec wrapper
# --------------------------------------------------------------------------

class Codec:
    """name: PCMU, PCMA, G722 or opus.  `rate` is the PCM sample rate used on
    our side, `clock` the RTP clock (G.722: 16000 and 8000).  fec_loss_perc:
    an Opus encoder codes in-band FEC for that expected loss.  ptime_ms: the
    audio in each packet we send (10-60 ms)."""

    def __init__(self, name, pt, fec_loss_perc=0, ptime_ms=20, opus_voip=False):
        self.name = name
        self.pt = pt
        self.fec_loss_perc = fec_loss_perc
        self.opus_voip = opus_voip
        if name == 'PCMU':
            self.rate, self.clock = 8000, 8000
            self._enc, self._dec = ulaw_encode, ulaw_decode
        elif name == 'PCMA':
            self.rate, self.clock = 8000, 8000
            self._enc, self._dec = alaw_encode, alaw_decode
        elif name.upper() == 'G722':
            self.name = 'G722'
            self.rate, self.clock = 16000, 8000
            self._g722 = G722()
            self._enc, self._dec = self._g722.encode, self._g722.decode
        elif name.lower() == 'opus':
            self.name = 'opus'
            self.rate, self.clock = 48000, 48000
            self._encoder = None
            self._decoder = None
            self._enc, self._dec = self._opus_enc, self._opus_dec
        else:
            raise ValueError('unsupported codec %s' % name)
        self.frame = self.rate * ptime_ms // 1000     # samples per packet
        self.ts_step = self.clock * ptime_ms // 1000

    def _opus_enc(self, pcm):
        if self._encoder is None:
            if self.opus_voip:      # as a softphone: SILK, voice flags
                self._encoder = OpusEncoder(application=OPUS_APPLICATION_VOIP,
                                            bitrate=32000,
                                            fec_loss_perc=self.fec_loss_perc)
            else:
                self._encoder = OpusEncoder(fec_loss_perc=self.fec_loss_perc)
        return self._encoder.encode(pcm)

    def _opus_dec(self, data):
        if self._decoder is None:
            self._decoder = OpusDecoder()
        return self._decoder.decode(data)

    def encode(self, pcm):
        return self._enc(pcm)

    def decode(self, data):
        return self._dec(data)

    def close(self):
        for attr in ('_encoder', '_decoder', '_g722'):
            o = getattr(self, attr, None)
            if o is not None:
                o.close()
                setattr(self, attr, None)


# --------------------------------------------------------------------------
# RTP packets
# --------------------------------------------------------------------------

def build_rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), version=2,
              padding=False, extension=None, cc=None):
    cc_val = len(csrcs) if cc is None else cc
    b0 = (version << 6) | (0x20 if padding else 0) | (0x10 if extension is not None else 0) \
        | (cc_val & 0x0F)
    b1 = (0x80 if marker else 0) | (pt & 0x7F)
    hdr = struct.pack('!BBHII', b0, b1, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc & 0xFFFFFFFF)
    for c in csrcs:
        hdr += struct.pack('!I', c)
    if extension is not None:
        profile, words = extension
        hdr += struct.pack('!HH', profile, len(words) // 4) + words
    return hdr + payload


class RtpHeader:
    __slots__ = ('version', 'padding', 'ext', 'cc', 'marker', 'pt', 'seq', 'ts', 'ssrc',
                 'csrcs', 'payload', 'ext_profile', 'ext_data')


def parse_rtp(data):
    """Parse an RTP packet; returns RtpHeader or None if malformed."""
    if len(data) < 12:
        return None
    b0, b1, seq, ts, ssrc = struct.unpack('!BBHII', data[:12])
    h = RtpHeader()
    h.version = b0 >> 6
    if h.version != 2:
        return None
    h.padding = bool(b0 & 0x20)
    h.ext = bool(b0 & 0x10)
    h.cc = b0 & 0x0F
    h.marker = bool(b1 & 0x80)
    h.pt = b1 & 0x7F
    h.seq, h.ts, h.ssrc = seq, ts, ssrc
    off = 12 + 4 * h.cc
    if len(data) < off:
        return None
    h.csrcs = tuple(struct.unpack('!%dI' % h.cc, data[12:off])) if h.cc else ()
    h.ext_profile, h.ext_data = None, None
    if h.ext:
        if len(data) < off + 4:
            return None
        h.ext_profile, words = struct.unpack('!HH', data[off:off + 4])
        h.ext_data = data[off + 4:off + 4 + 4 * words]
        off += 4 + 4 * words
        if len(data) < off:
            return None
    end = len(data)
    if h.padding:
        pad = data[-1]
        if pad == 0 or end - pad < off:
            return None
        end -= pad
    h.payload = data[off:end]
    return h


def ext_elements(profile, data):
    """The elements of an RFC 8285 header extension block: {id: bytes}
    (one-byte form 0xBEDE, or two-byte 0x100x); None when malformed or
    of another profile."""
    if profile is None or data is None:
        return None
    two = (profile & 0xFFF0) == 0x1000
    if profile != 0xBEDE and not two:
        return None
    out, i = {}, 0
    while i < len(data):
        if data[i] == 0:                # padding
            i += 1
            continue
        if two:
            if i + 2 > len(data):
                return None
            eid, n = data[i], data[i + 1]
            i += 2
        else:
            eid, n = data[i] >> 4, (data[i] & 0x0F) + 1
            if eid == 15:
                break
            i += 1
        if i + n > len(data):
            return None
        out[eid] = bytes(data[i:i + n])
        i += n
    return out


class RxPacket:
    __slots__ = ('t', 'pt', 'ssrc', 'seq', 'ts', 'csrcs', 'marker', 'size', 'src', 'decoded',
                 'payload', 'ext_profile', 'ext_data')

    def ext(self):
        """The header extension's elements, {id: bytes}; {} without one."""
        if self.ext_profile is None:
            return {}
        return ext_elements(self.ext_profile, self.ext_data)

    def __repr__(self):
        return 'RxPacket(t=%.3f pt=%d ssrc=%08x seq=%d csrcs=%s size=%d)' % (
            self.t, self.pt, self.ssrc, self.seq, ['%08x' % c for c in self.csrcs], self.size)


# --------------------------------------------------------------------------
# Goertzel analysis
# --------------------------------------------------------------------------

_hann_cache = {}


def _hann(n):
    w = _hann_cache.get(n)
    if w is None:
        w = [0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1)) for i in range(n)]
        _hann_cache[n] = (w, sum(w), sum(v * v for v in w))
        w = _hann_cache[n]
    return w


def goertzel_blocks(samples, rate, freqs, block_s=0.1):
    """Average tone power (mean square) per frequency and total mean square.

    Returns (total_ms, {f: tone_ms}, nblocks).  For a pure sine of amplitude A
    at f, tone_ms[f] == total_ms == A*A/2."""
    n = int(rate * block_s)
    win, wsum, w2sum = _hann(n)
    nblocks = len(samples) // n
    tot_acc = 0.0
    acc = {f: 0.0 for f in freqs}
    coeffs = {f: 2.0 * math.cos(2.0 * math.pi * f / rate) for f in freqs}
    for b in range(nblocks):
        blk = samples[b * n:(b + 1) * n]
        xw = [x * w for x, w in zip(blk, win)]
        tot_acc += sum(v * v for v in xw) / w2sum
        for f in freqs:
            c = coeffs[f]
            s1 = s2 = 0.0
            for v in xw:
                s0 = v + c * s1 - s2
                s2 = s1
                s1 = s0
            p = s1 * s1 + s2 * s2 - c * s1 * s2
            acc[f] += 2.0 * p / (wsum * wsum)
    if nblocks == 0:
        return 0.0, {f: 0.0 for f in freqs}, 0
    return tot_acc / nblocks, {f: acc[f] / nblocks for f in freqs}, nblocks


def to_db(ratio):
    return 10.0 * math.log10(ratio) if ratio > 0 else NEG_INF_DB


class Analysis:
    def __init__(self, name, freqs, samples, rate, packets, t0, t1):
        self.name = name
        self.freqs = list(freqs)
        self.rate = rate
        self.packets = packets
        self.n_packets = len(packets)
        self.n_samples = len(samples)
        self.t0, self.t1 = t0, t1
        if rate and samples:
            tot, tones, nb = goertzel_blocks(samples, rate, freqs)
        else:
            tot, tones, nb = 0.0, {f: 0.0 for f in freqs}, 0
        self.nblocks = nb
        self.total_dbfs = to_db(tot / FULL_SCALE_MS)
        self.dbfs = {f: to_db(tones[f] / FULL_SCALE_MS) for f in freqs}
        self.rel_db = {f: (to_db(tones[f] / tot) if tot > 0 else NEG_INF_DB) for f in freqs}

    def level(self, f):
        return self.dbfs[f]

    def __str__(self):
        parts = ['%s: %d pkts %.1fs audio total %6.1f dBFS' % (
            self.name, self.n_packets, self.n_samples / self.rate if self.rate else 0.0,
            self.total_dbfs)]
        for f in self.freqs:
            parts.append('%5d Hz %7.1f dBFS (%6.1f dB rel)' % (f, self.dbfs[f], self.rel_db[f]))
        return ' | '.join(parts)


# --------------------------------------------------------------------------
# DTMF
# --------------------------------------------------------------------------

DTMF_LOW = {'1': 697, '2': 697, '3': 697, 'A': 697, '4': 770, '5': 770, '6': 770,
            'B': 770, '7': 852, '8': 852, '9': 852, 'C': 852, '*': 941, '0': 941,
            '#': 941, 'D': 941}
DTMF_HIGH = {'1': 1209, '4': 1209, '7': 1209, '*': 1209, '2': 1336, '5': 1336,
             '8': 1336, '0': 1336, '3': 1477, '6': 1477, '9': 1477, '#': 1477,
             'A': 1633, 'B': 1633, 'C': 1633, 'D': 1633}
DTMF_FREQS = sorted(set(DTMF_LOW.values()) | set(DTMF_HIGH.values()))
DTMF_EVENT = {d: i for i, d in enumerate('0123456789*#ABCD')}


class _KeyPress:
    """One key being sent: RFC 4733 packets or in-band tones."""

    def __init__(self, key, on_ms, off_ms):
        self.key = key
        self.on_ms = on_ms
        self.off_ms = off_ms
        self.ms = 0             # sent so far (on, then off)
        self.ends_sent = 0
        self.ts = None          # RFC 4733: the event's timestamp


# --------------------------------------------------------------------------
# RTP endpoint
# --------------------------------------------------------------------------

SO_TIMESTAMPNS = getattr(socket, 'SO_TIMESTAMPNS', 35)
_TIMESPEC = struct.Struct('@qq')


def arrival(anc):
    """A datagram's arrival on the monotonic clock, from the kernel's
    SCM_TIMESTAMPNS stamp (wall clock) when there is one: right even when
    the receiving thread ran late."""
    now = time.monotonic()
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and \
                len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return min(now, now - (time.time() - (sec + nsec * 1e-9)))
    return now


def bind_rtp_pair(ip='127.0.0.1', lo=40000, hi=60000, tries=200):
    """Bind an even RTP port and port+1 for RTCP in [lo, hi)."""
    for _ in range(tries):
        p = random.randrange(lo, hi, 2)
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            a.bind((ip, p))
            b.bind((ip, p + 1))
            return a, b
        except OSError:
            a.close()
            b.close()
    raise OSError('no free RTP port pair found')


class RtpEndpoint:
    def __init__(self, name='ep', local_ip='127.0.0.1', log=None, ptime_ms=20):
        self.name = name
        self.log = log or (lambda s: None)
        self.sock, self.rtcp_sock = bind_rtp_pair(local_ip)
        self.local_ip = local_ip
        self.port = self.sock.getsockname()[1]
        self.ssrc = random.randint(1, 0xFFFFFFFE)
        self.seq = random.randint(0, 0xFFFF)
        self.ts = random.randint(0, 0xFFFFFFFF)
        self.ptime = ptime_ms / 1000.0
        self.remote = None
        self.tx_codec = None
        self.mode = 'stopped'           # 'stopped' | 'tone' | 'silence'
        self.freq = 0.0
        self.amp = 0.0
        self.phase = 0.0
        self.marker_next = True
        self.rx_codecs = {}             # pt -> Codec
        self.lock = threading.Lock()
        self.packets = []               # RxPacket list
        self.audio = []                 # (t, rate, array('h'))
        self.rtcp_packets = []          # (t, bytes)
        self.keys = []                  # _KeyPress queue
        self.keys_inband = False
        self.te_pt = None
        self.te_clock = 8000
        self.key_phase = (0.0, 0.0)
        self.rx_bad = 0
        self.rx_undecodable = 0
        self.rx_unknown_pt = 0
        self.sent = 0
        self.level_ext = None           # RFC 6464 extension id, None: not sent
        self.level_dbov = None          # fixed level to send; None: measured
        self.drop_every = 0             # the "network" loses each nth packet (by seq)
        self.opus_fec_loss = 0          # our Opus encoder codes FEC for this loss (%)
        self.opus_voip = False          # our Opus encoder as a softphone (VOIP, 32 kb/s)
        # (on, off): the tone in bursts of `on` 20 ms frames with `off`
        # silent ones between (a voice detector, Opus' among them, takes a
        # tone that never pauses for background noise after a second)
        self.tone_gate = None
        self.key_late_max = 0.0     # the latest a key's packet left, seconds
        self.frame_no = 0
        self.dropped = 0
        self._rx_busy = False           # the receive thread holds a datagram
        for sk in (self.sock, self.rtcp_sock):
            sk.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._tx_loop, name='rtp-tx-' + name,
                                          daemon=True),
                         threading.Thread(target=self._rx_loop, name='rtp-rx-' + name,
                                          daemon=True)]
        for t in self._threads:
            t.start()

    # -- configuration -------------------------------------------------------
    def send_dtmf(self, keys, te_pt, on_ms=100, off_ms=100, te_clock=8000):
        """Presses keys as RFC 4733 events (payload type te_pt): a packet
        every 20 ms while the key is down, then three end packets; no audio
        while a key is down."""
        with self.lock:
            self.te_pt, self.te_clock, self.keys_inband = te_pt, te_clock, False
            self.keys.extend(_KeyPress(k, on_ms, off_ms) for k in keys)

    def send_dtmf_inband(self, keys, on_ms=100, off_ms=100):
        """Presses keys as dual tones in the audio (-9 and -7 dBFS, a desk
        phone's twist), with silence between them."""
        with self.lock:
            self.keys_inband = True
            self.keys.extend(_KeyPress(k, on_ms, off_ms) for k in keys)

    def keys_pending(self):
        with self.lock:
            return len(self.keys)

    def configure(self, remote, codec_name, pt, rx_map=None):
        """Send `codec_name` with payload type `pt` to remote=(ip, port).

        rx_map: {pt: codec name} for decoding what the bridge sends; defaults
        to {pt: codec_name}."""
        with self.lock:
            if self.tx_codec is not None and (self.tx_codec.name != codec_name
                                              or self.tx_codec.pt != pt):
                self.tx_codec.close()
                self.tx_codec = None
            if self.tx_codec is None:
                self.tx_codec = Codec(codec_name, pt, fec_loss_perc=self.opus_fec_loss,
                                      ptime_ms=int(round(self.ptime * 1000)),
                                      opus_voip=self.opus_voip)
            self.remote = (remote[0], int(remote[1]))
            rx_map = rx_map or {pt: codec_name}
            for p, n in rx_map.items():
                if p not in self.rx_codecs or self.rx_codecs[p].name != Codec(n, p).name:
                    self.rx_codecs[p] = Codec(n, p)

    def send_tone(self, freq, dbfs=-12.0):
        with self.lock:
            self.freq = float(freq)
            self.amp = 32767.0 * 10 ** (dbfs / 20.0)
            if self.mode != 'tone':
                self.marker_next = True
            self.mode = 'tone'

    def send_silence(self):
        with self.lock:
            if self.mode == 'stopped':
                self.marker_next = True
            self.mode = 'silence'

    def send_levels(self, ext_id, dbov=None):
        """Carry an RFC 6464 client-to-mixer audio level in every audio
        packet (RFC 8285 one-byte header, element ext_id): the frame's own
        level, or dbov (0..127, -dBov) when given."""
        with self.lock:
            self.level_ext, self.level_dbov = ext_id, dbov

    def stop_sending(self):
        with self.lock:
            self.mode = 'stopped'

    def send_raw(self, data, dest=None, rtcp=False):
        """Send arbitrary bytes from this endpoint's RTP (or RTCP) socket."""
        s = self.rtcp_sock if rtcp else self.sock
        try:
            s.sendto(data, dest or self.remote)
        except OSError as e:
            self.log('[%s] send_raw: %s' % (self.name, e))

    def close(self):
        self._stop.set()
        for t in self._threads:
            t.join(1.0)
        for s in (self.sock, self.rtcp_sock):
            try:
                s.close()
            except OSError:
                pass
        for c in list(self.rx_codecs.values()) + ([self.tx_codec] if self.tx_codec else []):
            c.close()

    # -- threads ---------------------------------------------------------------
    def _make_frame(self, codec):
        n = codec.frame
        self.frame_no += 1
        gate = self.tone_gate
        if self.mode == 'silence' or self.amp == 0:
            return array.array('h', bytes(2 * n))
        if gate and self.frame_no % (gate[0] + gate[1]) >= gate[0]:
            w = 2.0 * math.pi * self.freq / codec.rate
            self.phase = math.fmod(self.phase + w * n, 2.0 * math.pi)
            return array.array('h', bytes(2 * n))
        w = 2.0 * math.pi * self.freq / codec.rate
        ph = self.phase
        amp = self.amp
        out = array.array('h', (int(round(amp * math.sin(ph + w * i))) for i in range(n)))
        self.phase = math.fmod(ph + w * n, 2.0 * math.pi)
        return out

    def _level_ext(self, pcm):
        """The RFC 8285 one-byte extension carrying the frame's RFC 6464
        level (V set when above -50 dBov), or None."""
        if self.level_ext is None:
            return None
        level = self.level_dbov
        if level is None:
            e = sum(x * x for x in pcm) / max(1, len(pcm))
            level = 127 if e <= 0 else int(round(-10 * math.log10(e / 32767.0 ** 2)))
        level = max(0, min(127, level))
        vad = 0x80 if level < 50 else 0
        return (0xBEDE, bytes([(self.level_ext << 4) | 0, vad | level, 0, 0]))

    def _inband_frame(self, codec, kp):
        """20 ms of the key's dual tone while it is down, else silence."""
        n = codec.frame
        if kp.ms >= kp.on_ms:
            return array.array('h', bytes(2 * n))
        lo, hi = DTMF_LOW[kp.key], DTMF_HIGH[kp.key]
        a_lo, a_hi = 32767 * 10 ** (-9 / 20), 32767 * 10 ** (-7 / 20)
        p_lo, p_hi = self.key_phase
        w_lo, w_hi = 2 * math.pi * lo / codec.rate, 2 * math.pi * hi / codec.rate
        out = array.array('h', (int(a_lo * math.sin(p_lo + w_lo * i) +
                                    a_hi * math.sin(p_hi + w_hi * i)) for i in range(n)))
        self.key_phase = (math.fmod(p_lo + w_lo * n, 2 * math.pi),
                          math.fmod(p_hi + w_hi * n, 2 * math.pi))
        return out

    def _key_packet(self, codec):
        """The next 20 ms of the key at the head of the queue: a packet to
        send (bytes), or None when it is the silence after a key."""
        kp = self.keys[0]
        if self.keys_inband:
            pkt = build_rtp(codec.pt, self.seq, self.ts, self.ssrc,
                            codec.encode(self._inband_frame(codec, kp)))
            kp.ms += 20
        elif kp.ms < kp.on_ms or kp.ends_sent < 3:
            if kp.ts is None:
                kp.ts = self.ts
            kp.ms = min(kp.ms + 20, kp.on_ms)
            end = kp.ms >= kp.on_ms
            dur = kp.ms * self.te_clock // 1000
            payload = struct.pack('!BBH', DTMF_EVENT[kp.key], (0x80 if end else 0) | 10, dur)
            pkt = build_rtp(self.te_pt, self.seq, kp.ts, self.ssrc, payload,
                            marker=kp.ms == 20)
            if end:
                kp.ends_sent += 1
        else:
            kp.ms += 20
            pkt = None
        if kp.ms >= kp.on_ms + kp.off_ms and (self.keys_inband or kp.ends_sent >= 3):
            self.keys.pop(0)
        return pkt

    def _tx_loop(self):
        nxt = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now < nxt:
                time.sleep(nxt - now)
                continue
            with self.lock:
                codec, remote, mode = self.tx_codec, self.remote, self.mode
                if codec is not None and remote is not None and self.keys:
                    # how late the keys' packets left (this process starved)
                    self.key_late_max = max(self.key_late_max, now - nxt)
                    try:
                        pkt = self._key_packet(codec)
                        if pkt is None:     # between keys: the audio goes on
                            pkt = build_rtp(codec.pt, self.seq, self.ts, self.ssrc,
                                            codec.encode(self._make_frame(codec)))
                        self.sock.sendto(pkt, remote)
                        self.sent += 1
                    except OSError:
                        pass
                    self.seq = (self.seq + 1) & 0xFFFF
                elif codec is not None and remote is not None and mode != 'stopped':
                    try:
                        frame = self._make_frame(codec)
                        payload = codec.encode(frame)
                        pkt = build_rtp(codec.pt, self.seq, self.ts, self.ssrc, payload,
                                        marker=self.marker_next,
                                        extension=self._level_ext(frame))
                        self.marker_next = False
                        if self.drop_every and self.seq % self.drop_every == 0:
                            self.dropped += 1
                        else:
                            self.sock.sendto(pkt, remote)
                            self.sent += 1
                    except OSError:
                        pass
                    self.seq = (self.seq + 1) & 0xFFFF
                if codec is not None:
                    self.ts = (self.ts + codec.ts_step) & 0xFFFFFFFF
            nxt += self.ptime
            if nxt < now - 0.2:       # we were starved: do not burst to catch up
                nxt = now + self.ptime

    def _rx_loop(self):
        socks = [self.sock, self.rtcp_sock]
        while not self._stop.is_set():
            try:
                r, _, _ = select.select(socks, [], [], 0.1)
            except (OSError, ValueError):
                break
            for s in r:
                self._rx_busy = True    # before the read: settle() sees one or the other
                try:
                    data, anc, _, src = s.recvmsg(65535, 64)
                except OSError:
                    self._rx_busy = False
                    continue
                now = arrival(anc)
                if s is self.rtcp_sock:
                    with self.lock:
                        self.rtcp_packets.append((now, data))
                else:
                    self._on_rtp(data, src, now)
                self._rx_busy = False

    def settle(self, timeout=0.5):
        """Waits, at most timeout, until the receive thread has taken in
        every datagram the kernel holds, so that a window ending now is
        whole: a starved test process reads late (the kernel's arrival
        stamps keep the times right)."""
        deadline = time.monotonic() + timeout
        socks = [self.sock, self.rtcp_sock]
        while time.monotonic() < deadline:
            try:
                r, _, _ = select.select(socks, [], [], 0)
            except (OSError, ValueError):
                return
            if not r and not self._rx_busy:
                return
            time.sleep(0.002)

    def _on_rtp(self, data, src, now):
        h = parse_rtp(data)
        if h is None:
            self.rx_bad += 1
            return
        if 72 <= h.pt <= 76:      # RTCP multiplexed on the RTP port
            with self.lock:
                self.rtcp_packets.append((now, data))
            return
        p = RxPacket()
        p.t, p.pt, p.ssrc, p.seq, p.ts = now, h.pt, h.ssrc, h.seq, h.ts
        p.csrcs, p.marker, p.size, p.src = h.csrcs, h.marker, len(data), src
        p.payload = h.payload
        p.ext_profile, p.ext_data = h.ext_profile, h.ext_data
        p.decoded = False
        codec = self.rx_codecs.get(h.pt)
        pcm = None
        if codec is None:
            self.rx_unknown_pt += 1
        else:
            try:
                pcm = codec.decode(h.payload)
            except Exception:
                pcm = None
            if pcm is None:
                self.rx_undecodable += 1
        with self.lock:
            self.packets.append(p)
            if pcm is not None:
                p.decoded = True
                self.audio.append((now, codec.rate, pcm))

    # -- queries -----------------------------------------------------------------
    def packets_between(self, t0, t1=None):
        if t1 is None:
            t1 = time.monotonic()
            self.settle()
        with self.lock:
            return [p for p in self.packets if t0 <= p.t <= t1]

    def count_packets(self, t0, t1=None, pt=None):
        """How many RTP packets (of payload type pt, or any) came in
        [t0, t1]."""
        return sum(1 for p in self.packets_between(t0, t1) if pt is None or p.pt == pt)

    def analyze(self, freqs, seconds=1.0, end=None, start=None):
        if end is None:
            end = time.monotonic()
            self.settle()
        start = start if start is not None else end - seconds
        with self.lock:
            chunks = [(t, r, pcm) for (t, r, pcm) in self.audio if start <= t <= end]
            pkts = [p for p in self.packets if start <= p.t <= end]
        rates = {}
        for _, r, pcm in chunks:
            rates[r] = rates.get(r, 0) + len(pcm)
        rate = max(rates, key=rates.get) if rates else 0
        samples = array.array('h')
        for _, r, pcm in chunks:
            if r == rate:
                samples.extend(pcm)
        return Analysis(self.name, freqs, samples, rate, pkts, start, end)


class RtpEcho:
    """Loopback RTP echo (for self-tests): sends every datagram back to its source."""

    def __init__(self, ip='127.0.0.1'):
        self.sock, self.rtcp = bind_rtp_pair(ip)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.count = 0
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                d, a = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            self.count += 1
            self.sock.sendto(d, a)

    def close(self):
        self._stop.set()
        self.t.join(1.0)
        self.sock.close()
        self.rtcp.close()


if __name__ == '__main__':
    # quick self-test: G.711 against audioop when available, Opus round trip, Goertzel
    import warnings
    warnings.simplefilter('ignore', DeprecationWarning)
    try:
        import audioop
        pcm = array.array('h', range(-32768, 32768, 7))
        assert ulaw_encode(pcm) == audioop.lin2ulaw(pcm.tobytes(), 2), 'ulaw enc'
        assert alaw_encode(pcm) == audioop.lin2alaw(pcm.tobytes(), 2), 'alaw enc'
        assert ulaw_decode(bytes(range(256))).tobytes() == audioop.ulaw2lin(bytes(range(256)), 2)
        assert alaw_decode(bytes(range(256))).tobytes() == audioop.alaw2lin(bytes(range(256)), 2)
        print('G.711 matches audioop')
    except ImportError:
        print('audioop not available, skipped G.711 cross-check')
    rate = 8000
    x = array.array('h', (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate)))
    a = Analysis('pcm', [440, 1000], x, rate, [], 0, 1)
    print(a)
    y = ulaw_decode(ulaw_encode(x))
    print(Analysis('ulaw', [440, 1000], y, rate, [], 0, 1))
    enc, dec = OpusEncoder(), OpusDecoder()
    x48 = [int(8000 * math.sin(2 * math.pi * 1700 * i / 48000)) for i in range(48000)]
    out = array.array('h')
    for i in range(0, 48000, 960):
        out.extend(dec.decode(enc.encode(x48[i:i + 960])))
    print(Analysis('opus', [440, 1700], out[4800:], 48000, [], 0, 1))
