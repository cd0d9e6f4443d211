#!/usr/bin/env python3
"""bench/loadgen against the real tutti, with a modest load.

usage: test_loadgen.py path/to/loadgen [path/to/tutti]   (or env TUTTI_BIN)

tutti is started by the harness with the limits a load test would hit
turned off and with --sip-trace, so that every SIP message it sends is in
its log.  loadgen (C, bench/loadgen) puts 60 PCMU callers in one room
through real SIP; three of them send steady tones of distinct frequencies,
the first with a 3 kHz marker burst every second; the others send G.711
silence.  Two listeners decode what they hear and measure each tone and
the bins between the tones (Goertzel, inside loadgen).  Checked from
loadgen's machine-readable line: every call up and hung up without a SIP
error, each tone at least 20 dB above the floor at both listeners, no
loss at the listeners and almost none anywhere, about 50 packets per
second per caller, jitter and added delay within sane bounds, a CPU
figure for the server and the UDP echo; from tutti's log: it answered no
request with a 4xx or 5xx, and it exits 0.
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, log               # noqa: E402

CALLERS = 60
SPEAKERS = 3


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    loadgen = sys.argv[1]
    sys.argv = sys.argv[:1] + sys.argv[2:]     # the harness reads tutti's path
    with Harness('test_loadgen', time_limit=110) as h:
        t = h.start_tutti(['--sip-rate', '0', '--max-calls', '0', '--max-rooms', '0',
                           '--max-participants', '0', '--sip-trace'])
        cmd = [loadgen, '--pid', str(t.proc.pid), '--sip', '127.0.0.1:%d' % t.sip_port,
               '--http', str(t.http_port), '--codec', 'pcmu', '--callers', str(CALLERS),
               '--rooms', '1', '--speakers', str(SPEAKERS), '--tones', '--probes', '2',
               '--cps', '100', '--warmup', '3', '--window', '5', '--label', 'e2e']
        log('running: %s' % ' '.join(cmd))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=80)
        log(p.stdout)
        if p.stderr:
            log('loadgen stderr:\n' + p.stderr)
        h.check(p.returncode == 0, 'loadgen exits 0', str(p.returncode))
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith('LOADGEN ')]
        if not h.check(len(lines) == 1, 'loadgen prints one LOADGEN line'):
            raise SystemExit('no figures')
        r = json.loads(lines[0][len('LOADGEN '):])

        h.check(r['up'] == CALLERS and r['failed'] == 0, 'every call set up',
                '%d up, %d failed' % (r['up'], r['failed']))
        h.check(r['sip_errors'] == 0, 'no SIP error seen by loadgen', str(r['sip_errors']))
        h.check(r['probes'] == 2, 'two listeners analysed what they heard', str(r['probes']))
        snr = r['tone_snr_db']
        h.check(len(snr) == SPEAKERS and all(s >= 20 for s in snr),
                'each speaker\'s tone is >= 20 dB above the floor at every listener',
                ' '.join('%.1f dB' % s for s in snr))
        h.check(r['probe_lost'] == 0, 'no loss at the listeners', str(r['probe_lost']))
        h.check(r['expected'] > 0 and r['lost'] <= r['expected'] // 1000,
                'loss at most 0.1 % over all callers',
                '%d of %d' % (r['lost'], r['expected']))
        h.check(45 <= r['rate_med'] <= 55 and r['rate_min'] >= 40,
                'about 50 packets per second per caller',
                'median %.1f, min %.1f' % (r['rate_med'], r['rate_min']))
        h.check(0 <= r['jitter_max_ms'] < 20, 'interarrival jitter below 20 ms',
                '%.2f ms' % r['jitter_max_ms'])
        h.check(r['markers'] >= 5 and 0 < r['delay_med_ms'] < 300,
                'the marker is heard, with a sane added delay',
                '%d markers, median %.1f ms' % (r['markers'], r['delay_med_ms']))
        h.check(r['cpu_us'] > 0 and r['echo_us'] > 0,
                'CPU figures for the server and the echo',
                '%.2f and %.2f us' % (r['cpu_us'], r['echo_us']))
        h.check(r['ticks'] >= 150, 'the room ticked through the window', str(r['ticks']))

        text = t.log_text()
        bad = re.findall(r'SIP/2\.0 [45]\d\d [^\n]*', text)
        h.check('SIP/2.0 200' in text and not bad, 'tutti answered no request with 4xx/5xx',
                '; '.join(bad[:3]))
        code, _ = t.terminate()
        h.check(code == 0, 'tutti exits 0', str(code))
    return h.result()


if __name__ == '__main__':
    sys.exit(main())
