#!/usr/bin/env bash
# What the BPF stack walk costs per sampled allocation, for `make bench`: site_deep.py makes
# 20,000 Subscribers while build/pystack_check has the typed probes attached, once with the
# type listed (every allocation walks and emits its stack) and once without (the same probes,
# no walk), with BPF run-time statistics on for the harness's lifetime. The walk's cost is the
# difference in the allocation return program's time, divided by the stacks captured. Runs a
# shallow stack (6 frames) and a deep one (206 frames, cut at 32), three alternating rounds
# each; reports the median (the machine is shared, single runs vary 2-3x).
# Usage: tests/bench/pystack_cost.sh PYSTACK_CHECK PYTHON_ARGV...   Prints one JSON object.
set -uo pipefail
check=$1
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
N=20000

# One run: prints "stacks runs run_ns". MODE walk|base, then site_deep.py options.
one() {
	local mode=$1
	shift
	local fifo=$work/in out=$work/prog.out type
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	"${PY[@]}" "$repo/tests/programs/site_deep.py" "$N" "$@" <"$fifo" >"$out" 2>&1 &
	local prog=$!
	exec 8>"$fifo"
	for _ in $(seq 100); do grep -q '^TYPE ' "$out" && break; sleep 0.1; done
	type=$(sed -n 's/^TYPE //p' "$out")
	[ "$mode" = base ] && type=0
	PYSTACK_STATS=1 "$check" "$prog" "${type:-0}" "$N" 8 >"$work/stacks" 2>/dev/null &
	local chk=$!
	for _ in $(seq 100); do grep -q '^ready' "$work/stacks" && break; sleep 0.1; done
	echo go >&8
	wait "$chk"
	exec 8>&-
	wait "$prog" 2>/dev/null
	sed -n 's/^summary stacks=\([0-9]*\) drops=[0-9]* runs=\([0-9]*\) run_ns=\([0-9]*\)$/\1 \2 \3/p' "$work/stacks"
}

PY=("$@")
ver=$("${PY[@]}" -c 'import platform; print(platform.python_version())')
results=()
for opts in "" "--depth 200"; do
	runs=()
	for _ in 1 2 3; do
		# shellcheck disable=SC2086
		runs+=("$(one walk $opts)" "$(one base $opts)")
	done
	results+=("$(/usr/bin/python3 - "$opts" "${runs[@]}" <<'PY'
import json, statistics, sys
opts, runs = sys.argv[1], [r.split() for r in sys.argv[2:]]
walks, bases = runs[0::2], runs[1::2]
costs, probe = [], []
for w, b in zip(walks, bases):
    if len(w) != 3 or len(b) != 3 or int(w[0]) == 0 or int(w[1]) == 0 or int(b[1]) == 0:
        continue
    stacks, wruns, wns = map(int, w)
    per_run = int(b[2]) / int(b[1])
    probe.append(per_run)
    costs.append((wns - per_run * wruns) / stacks)
label = "206 frames, cut at 32" if opts else "6 frames"
if not costs:
    print(json.dumps({"stack": label, "error": "no measurement (root, BPF stats and the harness needed)"}))
else:
    print(json.dumps({"stack": label, "rounds": len(costs), "probe_run_ns": round(statistics.median(probe)),
                      "walk_ns": round(statistics.median(costs)),
                      "walk_ns_range": [round(min(costs)), round(max(costs))]}))
PY
)")
done
printf '{"python": "%s", "walks": [%s]}\n' "$ver" "$(IFS=,; echo "${results[*]}")"
