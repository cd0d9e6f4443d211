#!/usr/bin/env python3
"""Writes the binary seed inputs of fuzz/corpus/ (rtp, rtcp, jbuf, dtmfev,
dtmfinfo, confinfo):
small, valid inputs that a fuzzer grows from. The text seeds (sdp, api_body,
config) are plain files written by hand. Run from anywhere; the output is
deterministic, so running it again changes nothing in git.

usage: fuzz/seeds.py
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def rtp(pt, seq, ts, ssrc, payload, csrcs=(), marker=False, ext=None, pad=0,
        profile=0xbede):
    b0 = 0x80 | len(csrcs) | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
    h = struct.pack('!BBHII', b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    h += b''.join(struct.pack('!I', c) for c in csrcs)
    if ext is not None:
        h += struct.pack('!HH', profile, len(ext) // 4) + ext
    tail = b'\0' * (pad - 1) + bytes([pad]) if pad else b''
    return h + payload + tail


def rtcp_hdr(count, pt, body):
    n = 4 + len(body)
    return struct.pack('!BBH', 0x80 | count, pt, n // 4 - 1) + body


def report_block(ssrc, lost_frac, cum, ext_seq, jitter, lsr, dlsr):
    return struct.pack('!IIIIII', ssrc, lost_frac << 24 | (cum & 0xffffff),
                       ext_seq, jitter, lsr, dlsr)


def sdes(ssrc, cname):
    c = struct.pack('!I', ssrc) + bytes([1, len(cname)]) + cname + b'\0'
    c += b'\0' * (-len(c) % 4)
    return rtcp_hdr(1, 202, c)


def rtp_seeds():
    put('rtp', 'pcmu', rtp(0, 1000, 160000, 0x11223344, b'\xff' * 160))
    put('rtp', 'opus_marker', rtp(111, 1, 960, 0xdeadbeef, b'\x78' + b'\x01' * 40,
                                  marker=True))
    put('rtp', 'csrcs', rtp(8, 7, 320, 1, b'\xd5' * 160, csrcs=(2, 3, 4)))
    put('rtp', 'extension', rtp(0, 2, 160, 5, b'\x7f' * 160, ext=b'\x10\x01\x00\x00'))
    # RFC 8285 one-byte (0xBEDE) and two-byte (0x1000) forms carrying an
    # RFC 6464 audio level under id 1, with padding between elements
    put('rtp', 'level_one_byte', rtp(111, 4, 960, 5, b'\x78' * 40,
                                     ext=b'\x00\x10\xaa\x21\x01\x02\x00\x00'))
    put('rtp', 'level_two_byte', rtp(111, 5, 1920, 5, b'\x78' * 40,
                                     ext=b'\x01\x01\x7f\x00\xc8\x00\x00\x00',
                                     profile=0x1000))
    # a mixed packet as tutti sends it: two CSRCs and their RFC 6465
    # levels under id 3, one byte each, padded to a word
    put('rtp', 'csrc_levels', rtp(0, 6, 640, 9, b'\xff' * 160, csrcs=(2, 3),
                                  ext=b'\x31\x0b\x1b\x00'))
    put('rtp', 'padding', rtp(0, 3, 480, 5, b'\x7f' * 160, pad=4))
    put('rtp', 'rtcp_muxed', rtcp_hdr(0, 201, struct.pack('!I', 9)))


def rtcp_seeds():
    sr = rtcp_hdr(1, 200, struct.pack('!IIIIII', 0x11223344, 0xe0000000, 0x80000000,
                                      160000, 50, 8000) +
                  report_block(0x55667788, 3, 12, 0x10005, 40, 0x1234, 0x10))
    put('rtcp', 'sr_sdes', sr + sdes(0x11223344, b'alice@192.0.2.1'))
    rr = rtcp_hdr(2, 201, struct.pack('!I', 7) +
                  report_block(1, 0, 0, 100, 3, 0, 0) +
                  report_block(2, 255, -5, 65636, 1000, 9, 9))
    put('rtcp', 'rr_bye', rr + sdes(7, b'bob') + rtcp_hdr(1, 203, struct.pack('!I', 7)))
    reason = b'\x04gone\0\0\0'
    put('rtcp', 'rr_bye_reason', rtcp_hdr(0, 201, struct.pack('!I', 7)) +
        rtcp_hdr(1, 203, struct.pack('!I', 7) + reason))
    # An APP packet last, with 4 octets of padding (the P bit, 0x20).
    app = bytearray(rtcp_hdr(0, 204, struct.pack('!I', 7) + b'name' + b'data' +
                             b'\0\0\0\x04'))
    app[0] |= 0x20
    padded = rtcp_hdr(0, 201, struct.pack('!I', 7)) + bytes(app)
    put('rtcp', 'rr_app_padded', padded)


def jbuf_seeds():
    # params: clock index, frame length index, max delay index
    def run(params, ops):
        return bytes(params) + b''.join(ops)

    def put_(seq_d, ts_d, plen=156, flags=0):
        # op < 0x80: put; then the sequence delta, the timestamp delta (with
        # 0x08 16 bits signed, else one byte of 40 ticks), the payload
        # length less 4.
        if flags & 0x08:
            return bytes([flags, seq_d & 0xff]) + struct.pack('!h', ts_d) + bytes([plen])
        return bytes([flags, seq_d & 0xff, ts_d // 40]) + bytes([plen])

    get = b'\x80'
    steady = [put_(1, 160), get] * 30
    put('jbuf', 'pcmu_steady', run([0, 1, 3], steady))
    reorder = [put_(1, 160), put_(2, 320), put_(-1, -160, flags=0x08), get, get] * 10
    put('jbuf', 'pcmu_reordered', run([0, 1, 3], reorder))
    loss = [put_(1, 960), get, put_(3, 2880), get, get, get] * 8
    put('jbuf', 'opus_loss', run([2, 1, 5], loss))
    burst = [put_(1, 320)] * 12 + [get] * 14
    put('jbuf', 'wideband_burst', run([1, 1, 8], burst))


def dtmfev_seeds():
    # clock index, first timestamp, first time in ms; then steps as
    # fuzz_dtmfev.c reads them.
    def run(clock, steps):
        return bytes([clock]) + struct.pack('!II', 160000, 1000) + b''.join(steps)

    def ev(code, end, dur):
        return struct.pack('!BBH', code, (0x80 if end else 0) | 10, dur)

    def put_(events, ts_step=None, ms=50, cap=4):
        # how: 0x01 the timestamp moves on by a u16; time in 1/16 ms
        how = 0x01 if ts_step is not None else 0
        out = bytes([0, how, cap])
        if ts_step is not None:
            out += struct.pack('!H', ts_step)
        out += struct.pack('!H', ms * 16) + bytes([len(events) - 1])
        return out + b''.join(events)

    def expire(ms):
        return bytes([0x80]) + struct.pack('!H', ms * 8)

    press5 = [put_([ev(5, False, 400)]), put_([ev(5, False, 800)]),
              put_([ev(5, True, 1280)]), put_([ev(5, True, 1280)]),
              put_([ev(5, True, 1280)])]
    put('dtmfev', 'press_5', run(1, press5))
    lost_end = [put_([ev(1, False, 400)], ts_step=1600), put_([ev(1, True, 800)]),
                put_([ev(2, False, 400)], ts_step=2400), put_([ev(2, False, 800)]),
                expire(1500)]
    put('dtmfev', 'lost_end_expired', run(0, lost_end))
    packed = [put_([ev(3, True, 800), ev(11, True, 960), ev(16, False, 320)],
                   ts_step=4000)]
    put('dtmfev', 'packed_events', run(1, packed))
    long_ = [put_([ev(10, False, 0xffff)], ts_step=100),
             put_([ev(10, False, 9600)], ts_step=0xffff), put_([ev(10, True, 9600)])]
    put('dtmfev', 'long_segments_48k', run(3, long_))


def dtmfinfo_seeds():
    # the media type's index (fuzz_dtmfinfo.c's types[]; 6 takes a string),
    # then the body
    put('dtmfinfo', 'relay', b'\x00Signal=5\r\nDuration=160\r\n')
    put('dtmfinfo', 'relay_spaces_event_no', b'\x01 signal = 11 \nduration= 250\n')
    put('dtmfinfo', 'relay_flash', b'\x00Signal=!\r\nDuration=0\r\n')
    put('dtmfinfo', 'dtmf', b'\x02#')
    put('dtmfinfo', 'other_type', b'\x06\x18application/x-dtmf-relay5')


def confinfo_seeds():
    def s(text):
        b = text if isinstance(text, bytes) else text.encode('utf-8')
        return bytes([len(b)]) + b

    # One endpoint as fuzz_confinfo.c's fill_ep() reads it: flags (1
    # moderator, 2 media, 4 speaking, 8 dialed out, 0x30 media status, 0x40
    # joined time follows, 0x80 Referred-By follows), AOR and contact (indices
    # into the pools), display name, status, SSRC.
    def ep(aor, contact, display, flags, status, src, when=0, ref=None):
        out = bytes([flags, aor, contact]) + s(display) + bytes([status])
        out += struct.pack('!I', src)
        if flags & 0x40:
            out += struct.pack('!H', when)
        if flags & 0x80:
            out += s(ref)
        return out

    head = s('Weekly standup')
    for i, (aor, contact) in enumerate([('sip:alice@example.com', 'sip:alice@192.0.2.1'),
                                        ('sip:bob@example.com', 'sip:bob@192.0.2.2'),
                                        ('sip:carol@example.com', 'sip:carol@192.0.2.3'),
                                        ('sip:alice@example.com', 'sip:alice@192.0.2.9')]):
        head += s(aor) + s(contact)
    head += bytes([10, 0])        # max users, not locked
    # status: 3 connected, 4 on-hold, 5 muted-via-focus; flags: 2 media, 0x40 joined
    eps = [ep(0, 0, 'Alice', 0x42 | 0x30, 3, 1001, 5),
           ep(1, 1, 'Bob', 0x43 | 0x30, 3, 1002, 9),
           ep(3, 3, 'Alice (desk)', 0x42 | 0x10, 4, 1003, 12)]
    room = head + bytes([len(eps)]) + b''.join(eps)
    put('confinfo', 'three_connected', room)
    # changes: 0 join, 2 leave, 3 new fields, 4 lock, 5 room display
    changes = (bytes([0]) + ep(2, 2, 'Carol', 0xc2 | 0x30, 3, 1004, 20, 'sip:bob@example.com') +
               bytes([2, 1, 2]) + struct.pack('!H', 30) +
               bytes([4, 0, 12]) + bytes([5]) + s('Standup (locked)'))
    put('confinfo', 'join_leave_lock', room + changes)
    hostile = (s(b'<x&y> "\'\x01\xff') + head[len(s('Weekly standup')):] + bytes([2]) +
               ep(0, 1, 'Zo\u00eb \U0001F600 '.encode() + b'\x7f\xc3', 0x42, 3, 1, 1) +
               ep(0, 1, '</display-text>&amp;', 0x02, 5, 2) +
               bytes([3, 0]) + ep(1, 0, b'\xed\xa0\x80\xc0\xaf', 0, 1, 3))
    put('confinfo', 'hostile_names', hostile)


def main():
    rtp_seeds()
    rtcp_seeds()
    jbuf_seeds()
    dtmfev_seeds()
    dtmfinfo_seeds()
    confinfo_seeds()


if __name__ == '__main__':
    main()
