#!/usr/bin/env bash
# What a census costs as the heap grows: for heaps of 100k, 1M and 10M reachable objects
# (tests/programs/bench_heap.py on Debian python3.11: a list of __slots__ records, each
# holding a str, an int and a float), attaches `leakd --pid` at its defaults for a
# while and reports, from its summary, the pause (the target stopped: the GC-list walk),
# the time leakd then spent following referents with the target running, objects per
# second over both, leakd's peak RSS (VmHWM, polled), the census period the default
# pause budget (0.5%) chose, and the share of time the target was stopped. With
# --holders, the summary also gives the holder search's wall time, the objects it
# kept and its own memory (run once at the end, target running), printed next to the
# census pause: issue 12's aim is within 2x the pause and under 64 MiB at 1M tracked.
# Usage: scripts/bench-heap.sh BUILD/leakd
# Environment: BENCH_HEAPS ("100000 400000 1000000 4000000 10000000": 400k and 4M
#   reachable are ~100k and ~1M tracked), BENCH_HEAP_PY (/usr/bin/python3.11),
#   BENCH_HEAP_OUT (build/bench-heap.json).
set -uo pipefail

leakd=$(realpath "${1:?usage: scripts/bench-heap.sh BUILD/leakd}")
repo=$(cd "$(dirname "$0")/.." && pwd)
py=${BENCH_HEAP_PY:-/usr/bin/python3.11}
heaps=${BENCH_HEAPS:-100000 400000 1000000 4000000 10000000}
out_json=${BENCH_HEAP_OUT:-$repo/build/bench-heap.json}
[ -x "$py" ] || { echo "bench-heap: $py is missing" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "bench-heap: needs root (leakd loads BPF)" >&2; exit 1; }

work=$(mktemp -d /tmp/leakd-bench-heap.XXXXXX)
trap 'rm -rf "$work"; [ -n "${tpid:-}" ] && kill "$tpid" 2>/dev/null' EXIT
: >"$work/rows.jsonl"

for n in $heaps; do
	log=$work/target-$n.log
	"$py" "$repo/tests/programs/bench_heap.py" --objects "$n" >"$log" 2>&1 </dev/null &
	tpid=$!
	for ((i = 0; i < 1200; i++)); do
		grep -q '^ready$' "$log" && break
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready$' "$log"; then
		echo "bench-heap: the $n-object heap did not build: $(tail -n 2 "$log")" >&2
		exit 1
	fi
	# Long enough for a few censuses at the period the budget will choose.
	secs=$((n >= 10000000 ? 90 : n >= 4000000 ? 45 : n >= 1000000 ? 30 : 10))
	"$leakd" --pid "$tpid" --duration "$secs" --format json --summary-only --holders \
		>"$work/leakd-$n.json" 2>"$work/leakd-$n.err" </dev/null &
	lpid=$! hwm=0
	while kill -0 "$lpid" 2>/dev/null; do
		v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$lpid/status" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		sleep 0.2
	done
	wait "$lpid"
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	tpid=
	/usr/bin/python3.11 - "$n" "$hwm" "$log" "$work/leakd-$n.json" "$work/leakd-$n.err" >>"$work/rows.jsonl" <<'PY'
import json, sys
n, hwm, log, out, err = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
truth = json.loads(next(l for l in open(log) if l.startswith("{")))
summ = [json.loads(l) for l in open(out) if l.startswith("{")]
if not summ:
    print(json.dumps({"objects": n, "error": open(err).read().strip()[-200:]}))
    sys.exit(0)
s = summ[-1]
c = s["census"]
walk_us = c["pause_us_mean"] + c["reach_us_mean"]
print(json.dumps({"objects": n, "tracked_in_target": truth["tracked"], "live_objects": s["live_objects"],
                  "untracked": c["untracked_objects"], "runs": c["runs"],
                  "pause_ms_mean": c["pause_us_mean"] / 1e3, "pause_ms_max": c["pause_us_max"] / 1e3,
                  "reach_ms_mean": c["reach_us_mean"] / 1e3,
                  "objects_per_s": s["live_objects"] / (walk_us / 1e6) if walk_us else None,
                  "period_s": c["period_s"], "pause_share": c["pause_share"],
                  "leakd_peak_rss_mib": hwm / 1024.0, "partial": c.get("partial"),
                  "holders_ms": (s.get("holders_search") or {}).get("ms"),
                  "holders_objects": (s.get("holders_search") or {}).get("objects"),
                  "holders_mib": ((s.get("holders_search") or {}).get("bytes") or 0) / 2**20,
                  "holders_partial": (s.get("holders_search") or {}).get("partial")}))
PY
done

/usr/bin/python3.11 - "$work/rows.jsonl" "$out_json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
json.dump(rows, open(sys.argv[2], "w"), indent=2)
print()
print("census cost by heap size (Debian python3.11, leakd --pid at its defaults, 0.5% pause budget)")
print("%10s %10s %6s %10s %10s %10s %12s %9s %8s %10s" % ("reachable", "tracked", "runs", "pause ms",
      "max ms", "reach ms", "objects/s", "period s", "stopped", "leakd RSS"))
for r in rows:
    if r.get("error"):
        print("%10d  error: %s" % (r["objects"], r["error"]))
        continue
    print("%10d %10d %6d %10.1f %10.1f %10.1f %12.0f %9.1f %7.2f%% %6.0f MiB" % (
        r["live_objects"], r["tracked_in_target"], r["runs"], r["pause_ms_mean"], r["pause_ms_max"],
        r["reach_ms_mean"], r["objects_per_s"] or 0, r["period_s"], 100 * r["pause_share"],
        r["leakd_peak_rss_mib"]))
    if r.get("partial"):
        print("    partial: %s" % r["partial"])
    if r.get("holders_ms") is not None:
        print("    holder search (--holders, once at the end): %.0f ms (%.1fx the pause) over %d objects, "
              "%.1f MiB%s" % (
            r["holders_ms"], r["holders_ms"] / r["pause_ms_mean"] if r["pause_ms_mean"] else 0,
            r["holders_objects"], r["holders_mib"],
            "; partial: %s" % r["holders_partial"] if r.get("holders_partial") else ""))
print("\nbench-heap: details in %s" % sys.argv[2])
PY
