#!/usr/bin/env python3
"""The Debian package, built and run as an operator would, in a temporary
root rather than this machine's.

usage: test_deb.py [path/to/tutti]     (the binary is not used: the
                                       package builds its own)

Builds the .deb from a copy of the source tree with `dpkg-buildpackage -us
-uc -b` (DEB_BUILD_OPTIONS=nocheck: the unit tests run in this suite
already), then, instead of installing it here with dpkg -i (which would
create a system user, enable and start a service and leave files in /usr
and /etc of a machine that others share), unpacks it with dpkg-deb -x
into a temporary root and does there what dpkg would do:

- the maintainer script postinst runs with DPKG_ROOT set to that root (as
  dpkg does for such installs), systemd-sysusers and systemd-tmpfiles
  working on it, deb-systemd-helper and systemctl stubbed: it must create
  the tutti user, /var/lib/tutti owned by it, and a root-only API token;
- the packaged binary runs `--check-config` on the packaged
  /etc/tutti/tutti.conf;
- the packaged unit passes systemd-analyze verify;
- then tutti starts as the unit's ExecStart line says: as the tutti user,
  the token read from a credentials directory (%d), NOTIFY_SOCKET set,
  the config file from the package, and only what must differ on a shared
  test machine changed on the command line (loopback ports, the data dir
  inside the temporary root). READY=1 comes, a caller dials a room and
  hears the bridge, the API wants the token, SIGTERM stops it with exit 0.

Skips (77) when not root or without dpkg-buildpackage.
"""

import glob
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Harness, Caller, Tutti, http_call, log, free_port,  # noqa: E402
                     free_rtp_range, LOOPBACK, SKIP)

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))


def copy_source(dst):
    """The tree as git sees it (tracked and new files, not ignored ones),
    or every file but build directories without git."""
    try:
        names = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'],
                               cwd=ROOT, capture_output=True, check=True,
                               timeout=60).stdout.decode().split('\0')
    except (OSError, subprocess.CalledProcessError):
        names = []
        for d, dirs, files in os.walk(ROOT):
            dirs[:] = [x for x in dirs if not x.startswith(('build', '.git', 'obj-'))]
            names += [os.path.relpath(os.path.join(d, f), ROOT) for f in files]
    for n in filter(None, names):
        src = os.path.join(ROOT, n)
        if not os.path.isfile(src):
            continue          # deleted in the working tree
        os.makedirs(os.path.dirname(os.path.join(dst, n)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, n))


def build(h, work):
    src = os.path.join(work, 'src')
    copy_source(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS='nocheck parallel=%d' % (os.cpu_count() or 1))
    t0 = time.monotonic()
    r = subprocess.run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=src, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    out = r.stdout.decode('utf-8', 'replace')
    h.check(r.returncode == 0, 'dpkg-buildpackage -us -uc -b succeeds',
            'exit %d after %.0f s\n%s' % (r.returncode, time.monotonic() - t0, out[-3000:]))
    debs = glob.glob(os.path.join(work, 'tutti_*.deb'))
    log('built in %.0f s: %s' % (time.monotonic() - t0, [os.path.basename(d) for d in debs]))
    if not h.check(len(debs) == 1, 'one tutti_*.deb', str(debs)):
        raise SystemExit('no package')
    return debs[0]


def unpack(h, deb, root, ctrl):
    for args in (['dpkg-deb', '-x', deb, root], ['dpkg-deb', '-e', deb, ctrl]):
        r = subprocess.run(args, capture_output=True, timeout=60)
        h.check(r.returncode == 0, ' '.join(args[:2]), r.stderr.decode()[-300:])
    files = subprocess.run(['dpkg-deb', '-c', deb], capture_output=True, text=True).stdout
    log('package contents:\n' + files)
    for path in ('usr/bin/tutti', 'etc/tutti/tutti.conf', 'lib/systemd/system/tutti.service',
                 'usr/lib/sysusers.d/tutti.conf', 'usr/lib/tmpfiles.d/tutti.conf',
                 'usr/share/man/man8/tutti.8.gz', 'usr/share/doc/tutti/operations.md'):
        # dh_compress leaves small files as they are
        h.check(any(os.path.exists(os.path.join(root, path + gz)) for gz in ('', '.gz')),
                'the package holds /' + path)
    with open(os.path.join(ctrl, 'conffiles')) as f:
        h.check('/etc/tutti/tutti.conf' in f.read().split(), 'tutti.conf is a conffile')
    with open(os.path.join(ctrl, 'control')) as f:
        control = f.read()
    h.check(re.search(r'^Depends:.*systemd', control, re.M) is not None,
            'Depends names systemd (sysusers)', control)


def run_postinst(h, root, ctrl, work):
    """postinst configure, as dpkg runs it for an install into DPKG_ROOT."""
    stubs = os.path.join(work, 'stubs')
    os.makedirs(stubs)
    for name in ('deb-systemd-helper', 'deb-systemd-invoke', 'systemctl'):
        with open(os.path.join(stubs, name), 'w') as f:
            f.write('#!/bin/sh\necho "stub %s $*" >&2\nexit 0\n' % name)
        os.chmod(os.path.join(stubs, name), 0o755)
    env = dict(os.environ, DPKG_ROOT=root, DPKG_MAINTSCRIPT_NAME='postinst',
               DPKG_MAINTSCRIPT_PACKAGE='tutti', PATH=stubs + ':' + os.environ['PATH'])
    r = subprocess.run(['sh', '-e', os.path.join(ctrl, 'postinst'), 'configure', ''],
                       env=env, capture_output=True, text=True, timeout=60)
    h.check(r.returncode == 0, 'postinst configure succeeds', r.stderr[-500:])
    user = None
    try:
        with open(os.path.join(root, 'etc', 'passwd')) as f:
            for ln in f:
                if ln.startswith('tutti:'):
                    user = ln.strip().split(':')
    except OSError:
        pass
    if not h.check(user is not None and user[5] == '/var/lib/tutti',
                   'postinst: the system user tutti, home /var/lib/tutti', str(user)):
        raise SystemExit('no user')
    uid, gid = int(user[2]), int(user[3])
    h.check(uid < 1000, 'tutti is a system user (uid below 1000)', str(uid))
    st = os.stat(os.path.join(root, 'var', 'lib', 'tutti'))
    h.check(st.st_uid == uid and st.st_gid == gid and stat.S_IMODE(st.st_mode) == 0o750,
            'postinst: /var/lib/tutti owned by tutti, mode 0750',
            '%d:%d %o' % (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)))
    tok_path = os.path.join(root, 'etc', 'tutti', 'api-token')
    st = os.stat(tok_path)
    with open(tok_path) as f:
        token = f.read().strip()
    h.check(st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600,
            'postinst: /etc/tutti/api-token is root\'s, mode 0600', '%o' % st.st_mode)
    h.check(re.fullmatch(r'[0-9a-f]{64}', token) is not None, 'the token: 32 random bytes in hex')
    # A second configure (an upgrade) keeps the token.
    r = subprocess.run(['sh', '-e', os.path.join(ctrl, 'postinst'), 'configure', '0.0.9'],
                       env=env, capture_output=True, text=True, timeout=60)
    with open(tok_path) as f:
        h.check(r.returncode == 0 and f.read().strip() == token, 'an upgrade keeps the token')
    return uid, gid, token


def check_config(h, root):
    binary = os.path.join(root, 'usr', 'bin', 'tutti')
    r = subprocess.run([binary, '--check-config', '-c',
                        os.path.join(root, 'etc', 'tutti', 'tutti.conf')],
                       capture_output=True, text=True, timeout=30)
    h.check(r.returncode == 0 and '\ndata-dir = /var/lib/tutti\n' in r.stdout,
            'the packaged tutti --check-config on the packaged tutti.conf: exit 0',
            (r.stdout + r.stderr)[-400:])
    r = subprocess.run([binary, '--version'], capture_output=True, text=True, timeout=30)
    h.check(r.returncode == 0 and r.stdout.startswith('tutti '), 'the packaged tutti --version',
            r.stdout[:100])


def verify_unit(h, root, work):
    with open(os.path.join(root, 'lib', 'systemd', 'system', 'tutti.service')) as f:
        unit = f.read()
    m = re.search(r'^ExecStart=(.*)$', unit, re.M)
    if not shutil.which('systemd-analyze'):
        log('systemd-analyze not installed: the packaged unit is not verified')
        return m.group(1).split()
    path = os.path.join(work, 'tutti.service')
    with open(path, 'w') as f:
        f.write(unit.replace('/usr/bin/tutti', os.path.join(root, 'usr', 'bin', 'tutti')))
    r = subprocess.run(['systemd-analyze', 'verify', '--man=no', path],
                       capture_output=True, text=True, timeout=60)
    out = (r.stdout + r.stderr).strip()
    h.check(r.returncode == 0 and not out, 'the packaged unit passes systemd-analyze verify',
            out[:400])
    return m.group(1).split()


def start_as_unit(h, root, work, exec_start, uid, gid, token):
    """ExecStart as systemd would run it: the tutti user, %d a credentials
    directory, NOTIFY_SOCKET; the ports and data dir of a test machine."""
    creds = os.path.join(work, 'credentials')
    os.makedirs(creds)
    with open(os.path.join(creds, 'api-token'), 'w') as f:
        f.write(token + '\n')
    os.chown(creds, uid, gid)
    os.chown(os.path.join(creds, 'api-token'), uid, gid)
    os.chmod(creds, 0o500)
    os.chmod(os.path.join(creds, 'api-token'), 0o400)
    notify_path = os.path.join(work, 'notify')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    os.chmod(notify_path, 0o777)
    h.on_cleanup(notify.close)

    args = [a.replace('%d', creds) for a in exec_start]
    args[0] = os.path.join(root, args[0].lstrip('/'))
    args[args.index('-c') + 1] = os.path.join(root, 'etc', 'tutti', 'tutti.conf')
    t = Tutti(args[0], name='packaged')
    t.sip_port = free_port()
    t.http_port = free_port(udp=False, tcp=True)
    t.rtp_lo, t.rtp_hi = free_rtp_range(200)
    t.data_dir = os.path.join(root, 'var', 'lib', 'tutti')
    t.args = (['setpriv', '--reuid=%d' % uid, '--regid=%d' % gid, '--clear-groups'] + args +
              ['--sip-listen', '%s:%d' % (LOOPBACK, t.sip_port),
               '--http-listen', '%s:%d' % (LOOPBACK, t.http_port),
               '--rtp-ports', '%d-%d' % (t.rtp_lo, t.rtp_hi),
               '--data-dir', t.data_dir])
    h.tuttis.append(t)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    env.pop('TUTTI_API_TOKEN', None)
    t.start(env=env, wait=False)
    notify.settimeout(15)
    ready = None
    try:
        while ready is None:
            msg = notify.recv(4096).decode()
            if 'READY=1' in msg.split('\n'):
                ready = msg
    except socket.timeout:
        pass
    if not h.check(ready is not None, 'the packaged tutti, started as the unit would, says READY=1',
                   t.log_tail(20)):
        raise SystemExit('not ready')
    with open('/proc/%d/status' % t.proc.pid) as f:
        uids = re.search(r'^Uid:\s+(\d+)', f.read(), re.M).group(1)
    h.check(int(uids) == uid, 'it runs as the tutti user', uids)
    return t, notify


def call_and_stop(h, t, notify, root, token):
    r = http_call(t.http_port, 'GET', '/api/v1/rooms')
    h.check(r.status == 401, 'the API wants the credential\'s token', repr(r))
    r = http_call(t.http_port, 'GET', '/api/v1/rooms', token=token)
    h.check(r.status == 200, 'with it: 200', repr(r))
    room = 'deb-%d' % os.getpid()
    a = Caller(h, t.sip_addr, 'A', 'PCMU', 440)
    b = Caller(h, t.sip_addr, 'B', 'PCMU', 1000)
    for c in (a, b):
        r = c.dial(room)
        h.check(r.status == 200, '%s calls into a room: 200' % c.name, str(r.status))
    time.sleep(2.0)
    an = a.rtp.analyze((440, 1000), 1.0)
    log(str(an))
    h.check(an.n_packets > 40, 'A hears the bridge (RTP back)', str(an.n_packets))
    h.check(an.rel_db[1000] > -3 and an.level(440) < an.level(1000) - 30,
            'A hears B\'s 1000 Hz, not its own 440 Hz', str(an))
    db = os.path.join(root, 'var', 'lib', 'tutti', 'tutti.db')
    h.check(os.path.exists(db) and os.stat(db).st_uid == os.stat(os.path.dirname(db)).st_uid,
            'the store is in /var/lib/tutti, the tutti user\'s')
    for c in (a, b):
        c.close()
    os.kill(t.proc.pid, 15)
    stopping = False
    notify.settimeout(5)
    try:
        while not stopping:
            stopping = 'STOPPING=1' in notify.recv(4096).decode().split('\n')
    except socket.timeout:
        pass
    h.check(stopping, 'SIGTERM: STOPPING=1')
    try:
        code = t.proc.wait(6)
    except subprocess.TimeoutExpired:
        code = None
    h.check(code == 0, 'and exit 0', str(code))


def main():
    if os.geteuid() != 0:
        print('SKIP: needs root (to run the package as its own user)')
        return SKIP
    if not shutil.which('dpkg-buildpackage') or not shutil.which('dpkg-deb'):
        print('SKIP: dpkg-buildpackage not installed')
        return SKIP
    with Harness('test_deb', time_limit=840) as h:
        work = tempfile.mkdtemp(prefix='tutti-e2e-deb-')
        os.chmod(work, 0o755)       # the tutti user walks into root/
        h.on_cleanup(lambda: shutil.rmtree(work, ignore_errors=True) if not h.failures
                     else log('kept %s' % work))
        deb = build(h, work)
        root, ctrl = os.path.join(work, 'root'), os.path.join(work, 'control')
        unpack(h, deb, root, ctrl)
        uid, gid, token = run_postinst(h, root, ctrl, work)
        check_config(h, root)
        exec_start = verify_unit(h, root, work)
        t, notify = start_as_unit(h, root, work, exec_start, uid, gid, token)
        call_and_stop(h, t, notify, root, token)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
