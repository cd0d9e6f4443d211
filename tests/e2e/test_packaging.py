#!/usr/bin/env python3
"""What an installed tutti comes with agrees with the binary, so that the
files an operator reads cannot drift from what tutti does.

usage: test_packaging.py [path/to/tutti]     (or env TUTTI_BIN)

- dist/tutti.8 (the manual page) names every option of `tutti --help`,
  and no other, each with the default `tutti --check-config` prints, and
  groff finds nothing to warn about.
- dist/tutti.conf (/etc/tutti/tutti.conf) lists every key of
  `--check-config` commented out with its built-in default, and passes
  `tutti --check-config -c` itself.
- Every subsystem the sources log under is one --log-level knows (--help
  lists them), so that none can be given a level by mistake or not at all;
  and every message puts its room=, call= and part= in that order.
- debian/tutti.service passes `systemd-analyze verify` without a word and
  `systemd-analyze security --offline` rates it OK (when systemd-analyze
  is installed), and debian/tutti.docs names files that exist.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, log, tutti_binary  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
# Keys whose --check-config value is not a plain default to compare.
NO_DEFAULT = {'api-token', 'tls-cert', 'tls-key', 'api-token-file'}


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def help_options(binary):
    out = run([binary, '--help']).stdout
    return set(re.findall(r'--([a-z][a-z-]+)', out)), out


def check_config_defaults(binary):
    """{key: default} from --check-config, run where no config is read."""
    out = run([binary, '--check-config'], cwd=tempfile.gettempdir(),
              env={k: v for k, v in os.environ.items() if k != 'TUTTI_API_TOKEN'}).stdout
    kv = {}
    for ln in out.splitlines():
        m = re.match(r'^;? ?([a-z][a-z-]+) =\s?(.*)$', ln)
        if m:
            kv[m.group(1)] = m.group(2)
    return kv


def roff_text(s):
    """The words of a roff source, without font escapes and macros' dots."""
    s = re.sub(r'\\f[BIRP]', '', s)
    s = s.replace('\\-', '-').replace('\\(lq', '"').replace('\\(rq', '"')
    s = re.sub(r'\\[c&%]', '', s)
    return s


def man_entries(text):
    """{option: body} of the OPTIONS section: each .TP's tag line and text."""
    sect = text.split('\n.SH OPTIONS\n', 1)[1].split('\n.SH ', 1)[0]
    entries = {}
    for item in sect.split('\n.TP\n')[1:]:
        tag, _, body = item.partition('\n')
        words = roff_text(body).replace('\n.BR ', ' ').replace('\n.B ', ' ')
        for name in re.findall(r'--([a-z][a-z-]+)', roff_text(tag)):
            entries[name] = re.sub(r'\s+', ' ', re.sub(r'\n\.[A-Z]+ ?', ' ', words))
    return entries


def check_man(h, binary, opts, defaults):
    path = os.path.join(ROOT, 'dist', 'tutti.8')
    with open(path) as f:
        text = f.read()
    entries = man_entries(text)
    h.check(set(entries) == opts, 'man page: every --help option, no other',
            'missing %s, extra %s' % (sorted(opts - set(entries)), sorted(set(entries) - opts)))
    wrong = []
    for key, want in defaults.items():
        if key in NO_DEFAULT or key not in entries:
            continue
        m = re.search(r'Default: (\S+?) ?\.(?:\s|$)', entries[key])
        got = m.group(1) if m else None
        if want == '' and got in ('off', None):
            continue
        if got != want:
            wrong.append('%s: man %r, binary %r' % (key, got, want))
    h.check(not wrong, 'man page: each default is the binary\'s', '; '.join(wrong))
    if shutil.which('groff'):
        r = run(['groff', '-man', '-ww', '-z', path])
        h.check(r.returncode == 0 and not r.stderr.strip(), 'man page: groff -ww is silent',
                r.stderr.strip()[:300])
    else:
        log('groff not installed: the man page is not linted')


def check_conf(h, binary, defaults):
    path = os.path.join(ROOT, 'dist', 'tutti.conf')
    with open(path) as f:
        lines = [ln.rstrip('\n') for ln in f]
    commented = {}
    active = {}
    for ln in lines:
        m = re.match(r'^; ([a-z][a-z-]+) =\s?(.*)$', ln)
        if m:
            commented[m.group(1)] = m.group(2)
        m = re.match(r'^([a-z][a-z-]+) = (.*)$', ln)
        if m:
            active[m.group(1)] = m.group(2)
    missing = sorted(set(defaults) - set(commented))
    h.check(not missing, 'tutti.conf: every key, commented out', 'missing %s' % missing)
    unknown = sorted((set(commented) | set(active)) - set(defaults))
    h.check(not unknown, 'tutti.conf: no key the binary does not know', str(unknown))
    wrong = ['%s: %r, binary %r' % (k, commented[k], v) for k, v in defaults.items()
             if k in commented and k != 'api-token' and commented[k] != v]
    h.check(not wrong, 'tutti.conf: each commented line holds the built-in default',
            '; '.join(wrong))
    h.check(active == {'data-dir': '/var/lib/tutti'},
            'tutti.conf: sets only data-dir (to /var/lib/tutti)', str(active))
    r = run([binary, '--check-config', '-c', path])
    h.check(r.returncode == 0 and '\ndata-dir = /var/lib/tutti\n' in r.stdout,
            'tutti --check-config -c tutti.conf: exit 0, data in /var/lib/tutti',
            (r.stderr or r.stdout)[-300:])


def check_subsystems(h, help_text):
    m = re.search(r'Log subsystems: (.*?)\n\n', help_text, re.S)
    known = set(re.split(r'[,\s]+', m.group(1).strip())) if m else set()
    used = set()
    for folder in ('core', 'rtp', 'mixer', 'conference', 'api'):
        for name in os.listdir(os.path.join(ROOT, folder)):
            if name.endswith('.c'):
                with open(os.path.join(ROOT, folder, name)) as f:
                    src = f.read()
                used |= set(re.findall(r'\blog_(?:error|warn|info|debug)\(\s*"([a-z]+)"', src))
                used |= set(re.findall(r'\blog_emit(?:_text)?\(\s*LL_[A-Z]+,\s*"([a-z]+)"', src))
    log('subsystems used: %s' % sorted(used))
    h.check(used and used <= known, 'every subsystem the sources log under is in --help',
            'unknown %s' % sorted(used - known))


LOG_CALL = re.compile(r'\blog_(?:error|warn|info|debug)\(\s*"[a-z]+",\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')


def check_context_order(h):
    """room=, call= and part= come in that order in every log message."""
    bad = []
    for folder in ('core', 'rtp', 'mixer', 'conference', 'api'):
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            if not name.endswith('.c'):
                continue
            with open(os.path.join(ROOT, folder, name)) as f:
                src = f.read()
            for m in LOG_CALL.finditer(src):
                fmt = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
                pos = [fmt.find(k) for k in ('room=', 'call=', 'part=')]
                seen = [p for p in pos if p >= 0]
                if seen != sorted(seen):
                    bad.append('%s/%s: %s' % (folder, name, fmt))
    h.check(not bad, 'log context: room= call= part= in that order', '; '.join(bad))


def check_unit(h, binary):
    src = os.path.join(ROOT, 'debian', 'tutti.service')
    with open(src) as f:
        unit = f.read()
    for want in ('Type=notify', 'WatchdogSec=', 'StateDirectory=tutti',
                 'LoadCredential=api-token:/etc/tutti/api-token', '--api-token-file %d/api-token',
                 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'PrivateTmp=yes',
                 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
                 'SystemCallFilter=@system-service', 'User=tutti'):
        h.check(want in unit, 'unit: %s' % want)
    if not shutil.which('systemd-analyze'):
        log('systemd-analyze not installed: the unit is not verified')
        return
    d = tempfile.mkdtemp(prefix='tutti-e2e-unit-')
    try:
        # The binary under test stands where the package puts it.
        path = os.path.join(d, 'tutti.service')
        with open(path, 'w') as f:
            f.write(unit.replace('/usr/bin/tutti', binary))
        r = run(['systemd-analyze', 'verify', '--man=no', path])
        out = (r.stdout + r.stderr).strip()
        h.check(r.returncode == 0 and not out, 'systemd-analyze verify: no complaint', out[:500])
        r = run(['systemd-analyze', 'security', '--offline=yes', '--no-pager', path])
        m = re.search(r'Overall exposure level for \S+: ([0-9.]+) (\w+)', r.stdout)
        h.check(m and float(m.group(1)) <= 2.0,
                'systemd-analyze security: exposure 2.0 or less',
                m.group(0) if m else (r.stdout + r.stderr)[-300:])
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_docs_list(h):
    with open(os.path.join(ROOT, 'debian', 'tutti.docs')) as f:
        names = [ln.strip() for ln in f if ln.strip()]
    missing = [n for n in names if not os.path.isfile(os.path.join(ROOT, n))]
    h.check(names and not missing, 'debian/tutti.docs names files that exist', str(missing))


def main():
    with Harness('test_packaging', time_limit=60) as h:
        binary = tutti_binary()
        opts, help_text = help_options(binary)
        defaults = check_config_defaults(binary)
        log('%d options in --help, %d keys in --check-config' % (len(opts), len(defaults)))
        h.check(set(defaults) <= opts, '--check-config keys are --help options',
                str(sorted(set(defaults) - opts)))
        check_man(h, binary, opts, defaults)
        check_conf(h, binary, defaults)
        check_subsystems(h, help_text)
        check_context_order(h)
        check_unit(h, binary)
        check_docs_list(h)
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
