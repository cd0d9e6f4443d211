#!/usr/bin/env python3
"""Reading an Ogg/Opus recording from outside the bridge, for the e2e tests.

ogg_pages(path) checks the container by hand, with the standard library
only: each page's capture pattern, version, CRC (RFC 3533), flags and
granule position, and the Opus identification header of RFC 7845.  A file
cut short by a kill -9 may end in a partial page; ogg_pages reports it
rather than failing.

decode(path) decodes a file to 16-bit samples with libsndfile (which reads
Ogg/Opus since 1.0.29), loaded through ctypes: the library the bridge
itself links, so no other decoder needs installing.  It reads to the end
of what decodes, since a file without its end-of-stream page does not know
its length.
"""

import ctypes
import ctypes.util
import struct

OGG_CRC_POLY = 0x04c11db7


def _crc_table():
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ OGG_CRC_POLY) if r & 0x80000000 else (r << 1)
        table.append(r & 0xffffffff)
    return table


_CRC = _crc_table()


def ogg_crc(data):
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xffffffff) ^ _CRC[((crc >> 24) & 0xff) ^ b]
    return crc


class Page:
    def __init__(self, flags, granule, serial, seq, body):
        self.flags, self.granule, self.serial, self.seq, self.body = flags, granule, serial, seq, body

    @property
    def bos(self):
        return bool(self.flags & 2)

    @property
    def eos(self):
        return bool(self.flags & 4)


def ogg_pages(path):
    """Returns (pages, problems, tail_bytes): the whole pages with a good
    CRC, what was wrong with the file (list of strings), and how many bytes
    at the end do not make a whole page (a page cut short)."""
    with open(path, 'rb') as f:
        data = f.read()
    pages, problems, i = [], [], 0
    while i < len(data):
        if len(data) - i < 27:
            return pages, problems, len(data) - i
        if data[i:i + 4] != b'OggS':
            problems.append('no capture pattern at byte %d' % i)
            return pages, problems, len(data) - i
        version, flags, granule, serial, seq, crc, nseg = struct.unpack_from('<BBqIIIB', data, i + 4)
        if len(data) - i < 27 + nseg:
            return pages, problems, len(data) - i
        body_len = sum(data[i + 27:i + 27 + nseg])
        end = i + 27 + nseg + body_len
        if end > len(data):
            return pages, problems, len(data) - i
        raw = bytearray(data[i:end])
        raw[22:26] = b'\0\0\0\0'
        if version != 0:
            problems.append('page %d: version %d' % (len(pages), version))
        if ogg_crc(raw) != crc:
            problems.append('page %d: bad CRC' % len(pages))
        pages.append(Page(flags, granule, serial, seq, bytes(data[i + 27 + nseg:end])))
        i = end
    return pages, problems, 0


def check_opus_stream(pages):
    """Problems with the Opus stream in pages (list of strings, empty when
    none); also its pre-skip and its last granule position."""
    problems = []
    if len(pages) < 2:
        return ['fewer than two pages'], 0, 0
    if not pages[0].bos or any(p.bos for p in pages[1:]):
        problems.append('beginning-of-stream flag not on the first page alone')
    if len({p.serial for p in pages}) != 1:
        problems.append('more than one serial number')
    if [p.seq for p in pages] != list(range(len(pages))):
        problems.append('page sequence numbers not 0, 1, 2...')
    head = pages[0].body
    if head[:8] != b'OpusHead' or len(head) < 19:
        problems.append('first page is not an OpusHead')
        return problems, 0, 0
    _ver, channels, preskip, rate = struct.unpack_from('<BBHI', head, 8)
    if channels != 1:
        problems.append('OpusHead says %d channels' % channels)
    if pages[1].body[:8] != b'OpusTags':
        problems.append('second page is not OpusTags')
    granules = [p.granule for p in pages[2:] if p.granule != -1]
    if any(b < a for a, b in zip(granules, granules[1:])):
        problems.append('granule positions go backwards')
    if any(p.eos for p in pages[:-1]):
        problems.append('end-of-stream flag before the last page')
    return problems, preskip, granules[-1] if granules else 0


class _SfInfo(ctypes.Structure):
    _fields_ = [('frames', ctypes.c_int64), ('samplerate', ctypes.c_int),
                ('channels', ctypes.c_int), ('format', ctypes.c_int),
                ('sections', ctypes.c_int), ('seekable', ctypes.c_int)]


SF_FORMAT_OGG = 0x200000
SF_FORMAT_OPUS = 0x0064
_SFM_READ = 0x10
_lib = None


def _sndfile():
    global _lib
    if _lib is None:
        name = ctypes.util.find_library('sndfile') or 'libsndfile.so.1'
        _lib = ctypes.CDLL(name)
        _lib.sf_open.restype = ctypes.c_void_p
        _lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_SfInfo)]
        _lib.sf_readf_short.restype = ctypes.c_int64
        _lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_short),
                                        ctypes.c_int64]
        _lib.sf_close.argtypes = [ctypes.c_void_p]
        _lib.sf_strerror.restype = ctypes.c_char_p
        _lib.sf_strerror.argtypes = [ctypes.c_void_p]
    return _lib


def decode(path, max_seconds=120):
    """(rate, channels, format, samples: list of int) of a sound file, or
    raises OSError with libsndfile's reason."""
    lib = _sndfile()
    info = _SfInfo()
    sf = lib.sf_open(path.encode(), _SFM_READ, ctypes.byref(info))
    if not sf:
        raise OSError('libsndfile cannot open %s: %s' % (
            path, lib.sf_strerror(None).decode(errors='replace')))
    try:
        chunk = 48000
        buf = (ctypes.c_short * (chunk * max(info.channels, 1)))()
        out = []
        limit = max_seconds * info.samplerate
        while len(out) < limit:
            n = lib.sf_readf_short(sf, buf, chunk)
            if n <= 0:
                break
            out.extend(buf[:n * info.channels])
        return info.samplerate, info.channels, info.format, out
    finally:
        lib.sf_close(sf)
