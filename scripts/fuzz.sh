#!/usr/bin/env bash
# Runs every libFuzzer target built by `make fuzz` for SECONDS each, from its seed corpus
# tests/fuzz/corpus/NAME/ (read only) plus a working corpus FUZZ_BUILD/corpus/NAME/ that
# keeps what the runs found. Prints executions and coverage per target; fails on a crash,
# whose input is kept in FUZZ_BUILD/crashes/ (make it a regression input: see
# tests/fuzz/corpus/README).
# Usage: scripts/fuzz.sh FUZZ_BUILD SECONDS
set -uo pipefail
build=${1:?usage: $0 FUZZ_BUILD SECONDS}
secs=${2:-60}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build/crashes" "$build/logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fail=0
for f in "$build"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	seeds=$repo/tests/fuzz/corpus/$name
	work=$build/corpus/$name
	log=$build/logs/$name.log
	mkdir -p "$work"
	[ -d "$seeds" ] || seeds=
	"$f" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$build/crashes/$name-" "$work" ${seeds:+"$seeds"} >"$log" 2>&1
	rc=$?
	execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n1 | grep -o 'cov: [0-9]*' | awk '{print $2}')
	ft=$(grep -E '^#[0-9]+' "$log" | tail -n1 | grep -o 'ft: [0-9]*' | awk '{print $2}')
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: FAIL $name after ${execs:-?} executions (log $log):"
		grep -E -m3 'ERROR|property failed|runtime error|Test unit written' "$log" | sed 's/^/  /'
		fail=1
	else
		echo "fuzz: ok   $name: ${execs:-?} executions in ${secs}s, coverage ${cov:-?} edges, ${ft:-?} features, corpus $(ls "$work" | wc -l)"
	fi
done
exit "$fail"
