#!/usr/bin/env python3
"""The scenarios of issue 5 (docs/benchmarks.md, "Load generator"), each run
several times by bench/loadgen against a tutti it starts, and the medians.

usage: bench/loadgen/scenarios.py [--build build] [--runs 3] [--window 10]
                                  [--only NAME[,NAME]] [--out FILE]

Every run is one loadgen process, which starts its own tutti, measures it,
then the UDP echo and libopus floors in the same run, and stops it; the
ratios are taken inside each run, and the medians over runs are printed as
a table.  Each run's LOADGEN line is appended to FILE (default
/tmp/loadgen-scenarios.jsonl) so that nothing is lost if a later run fails.
Python 3 standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

SCENARIOS = [
    # name, loadgen arguments
    ('g711-1000', ['--codec', 'pcmu', '--callers', '1000', '--rooms', '1', '--speakers', '3']),
    ('opus-100-all', ['--codec', 'opus', '--callers', '100', '--rooms', '1', '--speakers', '100',
                      '--probes', '0']),
    ('opus-100-own', ['--codec', 'opus', '--callers', '100', '--rooms', '1', '--speakers', '100',
                      '--probes', '0', '--tutti-args', '--max-speakers 0']),
    ('opus-100-3', ['--codec', 'opus', '--callers', '100', '--rooms', '1', '--speakers', '3']),
    # the same room with the 97 silent callers in DTX (and offering usedtx=1),
    # as issue 5 describes it: "the rest silence or DTX"
    ('opus-100-3-dtx', ['--codec', 'opus', '--callers', '100', '--rooms', '1', '--speakers', '3',
                        '--quiet', 'dtx']),
    ('opus-2000-3-dtx', ['--codec', 'opus', '--callers', '2000', '--rooms', '1', '--speakers', '3',
                         '--quiet', 'dtx', '--cps', '300']),
    ('g711-500x3', ['--codec', 'pcmu', '--callers', '1500', '--rooms', '500', '--speakers', '1']),
    ('g711-1500', ['--codec', 'pcmu', '--callers', '1500', '--rooms', '1', '--speakers', '3']),
    ('tones-1000', ['--codec', 'pcmu', '--callers', '1000', '--rooms', '1', '--speakers', '3',
                    '--tones', '--probes', '4']),
    # added delay where the server is not loaded
    ('delay-pcmu', ['--codec', 'pcmu', '--callers', '10', '--rooms', '1', '--speakers', '3']),
    ('delay-opus', ['--codec', 'opus', '--callers', '10', '--rooms', '1', '--speakers', '3']),
]

FIELDS = ['up', 'cpu_us', 'served_us', 'echo_us', 'relay_us', 'opus_us', 'self_us', 'late_ticks',
          'tick_p999_ms', 'rate_med', 'lost', 'jitter_max_ms', 'delay_med_ms', 'delay_p99_ms']


def run(build, name, args, window, out):
    cmd = [os.path.join(build, 'bench', 'loadgen'), '--tutti', os.path.join(build, 'tutti'),
           '--window', str(window), '--warmup', '5', '--label', name] + args
    print('$ ' + ' '.join(cmd), flush=True)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    sys.stdout.write(p.stdout)
    if p.stderr:
        sys.stdout.write(p.stderr[-2000:])
    for ln in p.stdout.splitlines():
        if ln.startswith('LOADGEN '):
            with open(out, 'a') as f:
                f.write(ln[8:] + '\n')
            try:
                return json.loads(ln[8:])
            except ValueError:
                return None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default='build')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--window', type=float, default=10)
    ap.add_argument('--only', default='')
    ap.add_argument('--out', default='/tmp/loadgen-scenarios.jsonl')
    a = ap.parse_args()
    only = set(a.only.split(',')) if a.only else None
    results = {}
    for name, args in SCENARIOS:
        if only and name not in only:
            continue
        results[name] = [r for r in (run(a.build, name, args, a.window, a.out)
                                     for _ in range(a.runs)) if r]
    print('\nmedians over runs')
    print('%-16s %s' % ('scenario', ' '.join('%9s' % f[:9] for f in FIELDS)))
    for name, rs in results.items():
        cells = []
        for f in FIELDS:
            v = [r[f] for r in rs if isinstance(r.get(f), (int, float))]
            cells.append('%9.2f' % statistics.median(v) if v else '%9s' % '-')
        print('%-16s %s' % (name, ' '.join(cells)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
