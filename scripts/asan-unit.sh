#!/usr/bin/env bash
# Runs the unit tests built with ASan+UBSan (make asan) and fails on any sanitizer report.
# Criterion runs each test in a worker process and does not look at a worker's exit
# status after a passing test, so a leak LeakSanitizer reports at the worker's exit would
# pass unseen: the reports are looked for in the output instead. Criterion's runner itself
# keeps one allocation to its exit; a leak report counts only when its stacks pass through
# leakd's code (src/ or tests/unit/). A suppression cannot say that: every test's stack
# runs through libcriterion too.
# Usage: scripts/asan-unit.sh BUILD-ASAN/tests
set -uo pipefail
dir=${1:?usage: $0 BUILD-ASAN/tests}
repo=$(cd "$(dirname "$0")/.." && pwd)
log=$dir/asan.log
: >"$log"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# leaks are judged from the reports below, not from the exit status LSan would set
export LSAN_OPTIONS=exitcode=0
export LEAKD_FIXTURES=$repo/tests/fixtures
fail=0
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" --jobs 2 2>&1)
	rc=$?
	printf '%s\n' "$out" >>"$log"
	reports=$(awk '
		/ERROR: AddressSanitizer|runtime error:/ { n++ }
		/ERROR: LeakSanitizer/ { inleak = 1; ours = 0; next }
		inleak && /(src|tests\/unit)\/[A-Za-z0-9_]+\.c/ { ours = 1 }
		inleak && /^SUMMARY:/ { n += ours; inleak = 0 }
		END { print n + 0 }' <<<"$out")
	synth=$(grep -m1 'Synthesis' <<<"$out" | sed 's/^\[====\] //')
	if [ "$rc" -ne 0 ] || [ "$reports" -gt 0 ]; then
		echo "asan: FAIL ${t##*/} (exit $rc, $reports sanitizer reports): $synth"
		grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$out" | head -40
		fail=1
	else
		echo "asan: ok   ${t##*/}: $synth"
	fi
done
[ "$fail" -eq 0 ] && echo "asan: no sanitizer reports (full output in $log)"
exit "$fail"
