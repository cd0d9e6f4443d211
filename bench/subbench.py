#!/usr/bin/env python3
"""subbench: one room, N conference subscribers (RFC 4575), how fast a join
and a leave reach them all, and what each NOTIFY costs the signalling thread.

usage: bench/subbench.py [--subs 1000] [--rounds 10] [--sockets 8]
                         [--notify-interval S] [--tutti build/tutti]

Python 3 standard library only.  It starts tutti on loopback with free ports
(tests/e2e/harness.py), joins one "anchor" caller so that the room stays
while the measured callers come and go, and opens N subscriptions to the
room from a few UDP sockets, each its own dialog (its own Call-ID and From
tag).  One thread per socket answers every NOTIFY with 200 at once, copying
Via, From, To, Call-ID and CSeq and parsing nothing else.  Arrival times are
the kernel's (SO_TIMESTAMPNS), so that a receiver thread that is late to
read does not stretch what is measured.  When every subscriber has its first
NOTIFY, R rounds follow: a caller joins (a real INVITE with an SDP offer, no
media), and the time from sending the INVITE to the first and to the last
subscriber's NOTIFY naming that caller is taken; after 1.5 s (the default
--notify-interval is 1 s, so the next change again goes out at once) the
caller leaves by BYE and the time to the first and the last NOTIFY carrying
that user as deleted is taken alike; 1.5 s again.

The signalling thread is found by its name ("tutti-sig") under
/proc/<pid>/task; its utime+stime (clock ticks) and its run time from
schedstat (ns) are read before the first round and after the last, and
divided by the number of NOTIFYs the subscribers received in between
(retransmissions not counted).  That includes the INVITE, ACK and BYE of the
callers, a fixed cost per round: compare runs with two N to separate it.
UDP receive errors (/proc/net/snmp, all sockets of the machine) are read
before and after, so that lost datagrams show.
"""

import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'e2e'))

from harness import Tutti, LOOPBACK, free_port     # noqa: E402
from sipua import SipUA, udp_socket_tcp_guarded    # noqa: E402

SO_TIMESTAMPNS = 35     # Linux, asm-generic/socket.h
RCVBUF_BYTES = 4 << 20
REPLY_HEADERS = (b'via', b'v', b'from', b'f', b'to', b't', b'call-id', b'i', b'cseq')


def now_ns():
    return time.time_ns()       # CLOCK_REALTIME, as SO_TIMESTAMPNS


class Socket:
    """One UDP socket of subscribers and the thread that answers its NOTIFYs."""

    def __init__(self, bench, k):
        self.bench = bench
        # The TCP twin is held so that NOTIFYs over 1300 bytes, which the
        # SIP stack tries by TCP first, are refused at once and come by UDP.
        self.sock, self.tcp_guard = udp_socket_tcp_guarded(LOOPBACK, RCVBUF_BYTES)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.notifies = 0           # distinct NOTIFYs (Call-ID, CSeq)
        self.dups = 0               # retransmitted ones
        self.seen = set()
        self.thread = threading.Thread(target=self.run, name='rx%d' % k, daemon=True)

    def run(self):
        b = self.bench
        sock = self.sock
        while not b.stopping:
            try:
                data, anc, _, addr = sock.recvmsg(65535, 64)
            except socket.timeout:
                continue
            except OSError:
                return
            ts = now_ns()
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack('qq', cdata[:16])
                    ts = sec * 1000000000 + nsec
            end = data.find(b'\r\n\r\n')
            head = data[:end] if end >= 0 else data
            lines = head.split(b'\r\n')
            cid = cseq = None
            if data.startswith(b'SIP/2.0 '):
                for ln in lines[1:]:
                    name, _, v = ln.partition(b':')
                    if name.strip().lower() in (b'call-id', b'i'):
                        cid = v.strip()
                if cid and data[8:11] == b'200':
                    b.on_subscribed(cid)
                continue
            if not data.startswith(b'NOTIFY '):
                continue
            out = [b'SIP/2.0 200 OK']
            for ln in lines[1:]:
                name, _, v = ln.partition(b':')
                name = name.strip().lower()
                if name in REPLY_HEADERS:
                    out.append(ln)
                    if name in (b'call-id', b'i'):
                        cid = v.strip()
                    elif name == b'cseq':
                        cseq = v.strip()
            out.append(b'Content-Length: 0\r\n\r\n')
            sock.sendto(b'\r\n'.join(out), addr)
            key = (cid, cseq)
            if key in self.seen:
                self.dups += 1
                continue
            self.seen.add(key)
            self.notifies += 1
            b.on_notify(cid, ts, data[end + 4:] if end >= 0 else b'')


class Bench:
    def __init__(self, args):
        self.args = args
        self.stopping = False
        self.subscribed = set()
        self.first = {}             # Call-ID -> arrival of its first NOTIFY
        self.marker = None          # what the NOTIFYs of this phase must carry
        self.want_deleted = False
        self.hits = {}              # Call-ID -> arrival of the NOTIFY with marker
        self.socks = []
        self.cids = []

    # ---- called by the receiver threads -----------------------------------------
    def on_subscribed(self, cid):
        self.subscribed.add(cid)

    def on_notify(self, cid, ts, body):
        if cid not in self.first:
            self.first[cid] = ts
        m = self.marker
        if m and m in body and cid not in self.hits and \
                (not self.want_deleted or b'"deleted"' in body):
            self.hits[cid] = ts

    # ---- subscriptions ------------------------------------------------------------
    def subscribe_req(self, sock, i, cid, room, t):
        tag = '%08x' % random.getrandbits(32)
        ruri = 'sip:%s@%s:%d' % (room, LOOPBACK, t.sip_port)
        me = 'sip:sub%d@%s:%d' % (i, LOOPBACK, sock.port)
        return ('SUBSCRIBE %s SIP/2.0\r\n'
                'Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%08x%d;rport\r\n'
                'Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: <%s>\r\n'
                'Call-ID: %s\r\nCSeq: 1 SUBSCRIBE\r\nEvent: conference\r\n'
                'Expires: 3600\r\nAccept: application/conference-info+xml\r\n'
                'Contact: <%s>\r\nContent-Length: 0\r\n\r\n' % (
                    ruri, LOOPBACK, sock.port, random.getrandbits(32), i, me, tag, ruri,
                    cid.decode(), me)).encode()

    def subscribe_all(self, t, room, n):
        """Subscribes in batches of 50, resending what is not answered."""
        reqs = {}
        for i in range(n):
            s = self.socks[i % len(self.socks)]
            cid = b'sb%d-%08x@bench' % (i, random.getrandbits(32))
            self.cids.append(cid)
            reqs[cid] = (s, self.subscribe_req(s, i, cid, room, t))
        for lo in range(0, n, 50):
            batch = self.cids[lo:lo + 50]
            for attempt in range(5):
                for cid in batch:
                    if cid not in self.first:
                        s, req = reqs[cid]
                        s.sock.sendto(req, t.sip_addr)
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline and \
                        any(c not in self.first for c in batch):
                    time.sleep(0.005)
                if all(c in self.first for c in batch):
                    break
        return sum(1 for c in self.cids if c in self.first)

    # ---- one change, timed ----------------------------------------------------------------
    def timed(self, marker, deleted, act, timeout=10.0):
        self.hits = {}
        self.want_deleted = deleted
        self.marker = marker
        t0 = now_ns()
        act()
        deadline = time.monotonic() + timeout
        while len(self.hits) < len(self.cids) and time.monotonic() < deadline:
            time.sleep(0.002)
        self.marker = None
        got = sorted(self.hits.values())
        if not got:
            return None, None, 0
        return (got[0] - t0) / 1e6, (got[-1] - t0) / 1e6, len(got)


def drain(sock, b):
    """Reads and drops the mix sent to the callers, so that no buffer overflows."""
    while not b.stopping:
        try:
            sock.recv(2048)
        except socket.timeout:
            continue
        except OSError:
            return


def sig_thread_cpu(pid):
    """(utime+stime in ticks, run time in ns) of the thread named tutti-sig."""
    for tid in os.listdir('/proc/%d/task' % pid):
        base = '/proc/%d/task/%s/' % (pid, tid)
        try:
            with open(base + 'comm') as f:
                if f.read().strip() != 'tutti-sig':
                    continue
            with open(base + 'stat') as f:
                st = f.read()
            fields = st[st.rindex(')') + 2:].split()
            ticks = int(fields[11]) + int(fields[12])     # utime, stime: fields 14, 15
            with open(base + 'schedstat') as f:
                run_ns = int(f.read().split()[0])
            return ticks, run_ns
        except OSError:
            continue
    raise SystemExit('no thread named tutti-sig in pid %d (is the build older?)' % pid)


def udp_errors():
    with open('/proc/net/snmp') as f:
        rows = [ln.split() for ln in f if ln.startswith('Udp:')]
    d = dict(zip(rows[0][1:], map(int, rows[1][1:])))
    return d.get('InErrors', 0), d.get('RcvbufErrors', 0)


def pct(vals, p):
    s = sorted(vals)
    k = max(0, -(-len(s) * p // 100) - 1)     # nearest rank
    return s[int(k)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--subs', type=int, default=1000)
    ap.add_argument('--rounds', type=int, default=10)
    ap.add_argument('--sockets', type=int, default=8)
    ap.add_argument('--notify-interval', type=float, default=None,
                    help="tutti's --notify-interval (default: tutti's own, 1 s)")
    ap.add_argument('--pause', type=float, default=1.5, help='seconds between changes')
    ap.add_argument('--keep-log', action='store_true', help="keep tutti's log and data")
    ap.add_argument('--tutti', default=os.path.join(HERE, '..', 'build', 'tutti'))
    args = ap.parse_args()

    # a thousand SUBSCRIBEs from one address: no --sip-rate here
    extra = ['--log-level', os.environ.get('SUBBENCH_LOG', 'info'), '--sip-rate', '0']
    if args.notify_interval is not None:
        extra += ['--notify-interval', '%g' % args.notify_interval]
    t = Tutti(os.path.abspath(args.tutti), extra, name='subbench')
    b = Bench(args)
    callers = []
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)    # where the mix goes
    sink.bind((LOOPBACK, free_port(udp=True, tcp=False)))
    sink.settimeout(0.2)
    threading.Thread(target=drain, args=(sink, b), daemon=True).start()
    try:
        t.start()
        room = 'bench%d' % os.getpid()
        anchor = SipUA(t.sip_addr, user='anchor', name='anchor')
        callers.append(anchor)
        _, r = anchor.call(room, LOOPBACK, sink.getsockname()[1])
        if r.status != 200:
            raise SystemExit('the anchor caller got %d' % r.status)
        b.socks = [Socket(b, k) for k in range(args.sockets)]
        for s in b.socks:
            s.thread.start()
        t0 = time.monotonic()
        ok = b.subscribe_all(t, room, args.subs)
        print('%d of %d subscriptions have their first NOTIFY (%.1f s)' % (
            ok, args.subs, time.monotonic() - t0), flush=True)
        if ok < args.subs:
            raise SystemExit('not every subscription got its first NOTIFY')
        time.sleep(args.pause)

        n0 = sum(s.notifies for s in b.socks)
        d0 = sum(s.dups for s in b.socks)
        e0 = udp_errors()
        cpu0 = sig_thread_cpu(t.proc.pid)
        rows = []
        for r in range(args.rounds):
            ua = SipUA(t.sip_addr, user='joiner%d' % r, name='joiner%d' % r)
            callers.append(ua)
            marker = b'joiner%d@' % r
            box = {}

            def join():
                box['dlg'], box['resp'] = ua.call(room, LOOPBACK, sink.getsockname()[1])
            jf, jl, jn = b.timed(marker, False, join)
            if box['resp'].status != 200:
                raise SystemExit('round %d: INVITE got %d' % (r, box['resp'].status))
            time.sleep(args.pause)
            lf, ll, ln = b.timed(marker, True, lambda: box['dlg'].bye())
            time.sleep(args.pause)
            ua.close()
            callers.remove(ua)
            rows.append((jf, jl, jn, lf, ll, ln))
            print('round %2d: join first %7.1f ms last %7.1f ms (%d); '
                  'leave first %7.1f ms last %7.1f ms (%d)' % (
                      r, jf or -1, jl or -1, jn, lf or -1, ll or -1, ln), flush=True)
        cpu1 = sig_thread_cpu(t.proc.pid)
        e1 = udp_errors()
        notifies = sum(s.notifies for s in b.socks) - n0
        dups = sum(s.dups for s in b.socks) - d0
        hz = os.sysconf('SC_CLK_TCK')
        ticks_us = (cpu1[0] - cpu0[0]) * 1e6 / hz
        run_us = (cpu1[1] - cpu0[1]) / 1e3

        print('\nsubbench: %d subscribers on %d sockets, %d rounds, --notify-interval %s' % (
            args.subs, args.sockets, args.rounds,
            'default (1 s)' if args.notify_interval is None else '%g' % args.notify_interval))
        print('| change | first median ms | first p90 ms | last median ms | last p90 ms |')
        print('| --- | ---: | ---: | ---: | ---: |')
        for name, i in (('join', 0), ('leave', 3)):
            f = [row[i] for row in rows if row[i] is not None]
            la = [row[i + 1] for row in rows if row[i + 1] is not None]
            print('| %s | %.1f | %.1f | %.1f | %.1f |' % (
                name, pct(f, 50), pct(f, 90), pct(la, 50), pct(la, 90)))
        missing = sum(args.subs - row[2] + args.subs - row[5] for row in rows)
        print('NOTIFYs received in the rounds: %d (+%d retransmitted); '
              'changes not seen by a subscriber: %d' % (notifies, dups, missing))
        print('tutti-sig CPU: utime+stime %.0f ms = %.1f us/NOTIFY; '
              'schedstat %.1f ms = %.1f us/NOTIFY' % (
                  ticks_us / 1e3, ticks_us / max(notifies, 1),
                  run_us / 1e3, run_us / max(notifies, 1)))
        print('UDP InErrors +%d, RcvbufErrors +%d (whole machine)' % (
            e1[0] - e0[0], e1[1] - e0[1]))
    finally:
        code, _ = t.stop()      # while the UAs still answer its BYEs
        b.stopping = True
        for ua in callers:
            ua.close()
        for s in b.socks:
            s.thread.join(1.0)
            s.sock.close()
        sink.close()
        if code not in (0, None) or sys.exc_info()[0] is not None or args.keep_log:
            print('tutti exited with %s; log kept: %s' % (code, t.log_path))
        else:
            t.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
