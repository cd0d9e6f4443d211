#!/bin/sh
# Runs each libFuzzer target of a -Dfuzz=true build for a bounded time and
# prints, per target, the executions and what libFuzzer's final stats say.
#
# usage: fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
#
# Each target starts from its committed seeds (fuzz/corpus/<t>) and
# regression inputs (fuzz/regress/<t>), read only; what it learns goes to a
# scratch corpus under $FUZZ_WORK (default: a new temporary directory),
# which a later run with the same $FUZZ_WORK continues from. A crash, leak,
# timeout or broken promise stops that target with its input saved as
# $FUZZ_WORK/<t>/crash-*; the script goes on with the other targets and
# exits 1 at the end if any target failed, so CI fails. Summary lines:
#   fuzz <target>: <executions> execs in <s> s (<per s>/s), corpus <n>: ok|FAILED
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS_PER_TARGET [TARGET...]" >&2
	exit 2
fi
build=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-rtp rtcp jbuf dtmfev dtmfinfo sdp confinfo api_body config}
work=${FUZZ_WORK:-$(mktemp -d /tmp/tutti-fuzz-XXXXXX)}
# halt_on_error and abort_on_error: the first finding stops the target.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0

for t in $targets; do
	bin=$build/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: $bin not built (meson setup with -Dfuzz=true)"
		failed=1
		continue
	fi
	mkdir -p "$work/$t"
	set -- "$work/$t" "$here/corpus/$t"
	[ -d "$here/regress/$t" ] && set -- "$@" "$here/regress/$t"
	start=$(date +%s)
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/$t/" "$@" \
		>"$work/$t.log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log")
	units=$(find "$work/$t" -maxdepth 1 -type f ! -name 'crash-*' \
		! -name 'leak-*' ! -name 'timeout-*' ! -name 'oom-*' | wc -l)
	if [ "$rc" -eq 0 ]; then
		verdict=ok
	else
		verdict=FAILED
		failed=1
	fi
	echo "fuzz $t: ${execs:-?} execs in $took s (${rate:-?}/s), corpus $units: $verdict"
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR|broken promise|SUMMARY|Test unit written' \
			"$work/$t.log" | head -20
		tail -40 "$work/$t.log"
	fi
done
echo "fuzz logs and corpora: $work"
exit $failed
