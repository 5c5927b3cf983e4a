#!/usr/bin/env bash
# The BPF Python stack walker, end to end on one interpreter: tests/programs/site_deep.py
# allocates Subscriber instances from a known line three calls deep; build/pystack_check
# captures the allocating stacks through leakd's probes and symbolises them; every stack
# must equal, frame for frame (file, line, function, innermost first, nothing missing or
# extra), the stack the program reports for itself.
# Usage: tests/integration/pystack.sh OUT_DIR PYTHON_ARGV...
# With PYSTACK_SITES=1 the program also churns Subscribers on another line (--churn) and
# the harness runs the survival check (--sites): the first ranked site must be the kept
# objects' stack, and the churn line must have (next to) no survivors.
# Environment: PYSTACK_SITES, PYSTACK_ARGS (extra arguments for site_deep.py, e.g. --dict), PYSTACK_COUNT
#   (stacks to capture, 200), PYSTACK_NAME (case name), PYSTACK_CHECK (the harness).
# Prints "PASS name" or "FAIL name: why" as its last line; exit 0 on PASS.
set -uo pipefail
out=$1
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
check=${PYSTACK_CHECK:-$repo/build/pystack_check}
name=${PYSTACK_NAME:-$(basename "$out")}
count=${PYSTACK_COUNT:-200}
mkdir -p "$out"
fail() { echo "FAIL $name: $*"; exit 1; }
[ -x "$check" ] || fail "$check missing (make build/pystack_check)"

fifo=$out/stdin
rm -f "$fifo"
mkfifo "$fifo" || fail "mkfifo $fifo"
sites=()
extra=${PYSTACK_ARGS:-}
[ -n "${PYSTACK_SITES:-}" ] && sites=(--sites) && extra="$extra --churn"
# $extra is split on purpose: it holds site_deep.py's options.
# shellcheck disable=SC2086
"$@" "$repo/tests/programs/site_deep.py" 3000 $extra <"$fifo" >"$out/program.out" 2>"$out/program.err" &
prog=$!
exec 7>"$fifo"
cleanup() { exec 7>&- 2>/dev/null; kill "$prog" 2>/dev/null; wait "$prog" 2>/dev/null; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q '^TYPE ' "$out/program.out" && break; sleep 0.1; done
type=$(sed -n 's/^TYPE //p' "$out/program.out")
[ -n "$type" ] || fail "the program did not start: $(head -c 300 "$out/program.err")"

"$check" "$prog" "$type" "$count" 20 "${sites[@]}" >"$out/stacks" 2>"$out/check.err" &
chk=$!
for _ in $(seq 200); do grep -q '^ready' "$out/stacks" && break; kill -0 "$chk" 2>/dev/null || break; sleep 0.1; done
grep -q '^ready' "$out/stacks" || fail "pystack_check did not attach: $(tail -n1 "$out/check.err")"
echo go >&7
wait "$chk"
rc=$?
for _ in $(seq 100); do grep -q '^DONE' "$out/program.out" && break; sleep 0.1; done
[ "$rc" -eq 0 ] || fail "pystack_check exited $rc: $(tail -n1 "$out/check.err")"

/usr/bin/python3 - "$out/program.out" "$out/stacks" "$name" <<'PY'
import sys
prog, stacks, name = sys.argv[1:]
expect = [l.split(" ", 1)[1].strip() for l in open(prog) if l.startswith("EXPECT ")]
if not expect:
    print("FAIL %s: the program reported no expected stack" % name); sys.exit(1)
churn = [l.split(" ", 1)[1].strip() for l in open(prog) if l.startswith("CHURN ")]
got, sites, cur = [], [], None
for line in open(stacks):
    if line.startswith("stack "):
        cur = []; got.append((line.split()[1:], cur))
    elif line.startswith("site "):
        cur = []; sites.append((dict(kv.split("=") for kv in line.split()[1:]), cur))
    elif line.startswith("  ") and cur is not None:
        cur.append(line.strip())
if not got:
    print("FAIL %s: no stack captured" % name); sys.exit(1)
MAX = 32  # LEAKD_MAX_PYFRAMES
cut = len(expect) > MAX
want = expect[:MAX]
def truncated(h):
    flags = [int(x.split("=")[1]) for x in h if x.startswith("flags=")]
    return bool(flags and flags[0] & 1)
if churn:
    # Stacks of the churn line are checked by their innermost frame only.
    got = [(h, s) for h, s in got if not (s and s[0].rsplit(" ", 1)[0] == churn[0])]
    if not sites:
        print("FAIL %s: no site survived the check" % name); sys.exit(1)
    first = sites[0][1]
    if first != want:
        print("FAIL %s: first site is not the kept objects' line\n  got:    %s\n  expect: %s"
              % (name, first, want)); sys.exit(1)
    for info, frames in sites:
        if frames and frames[0].rsplit(" ", 1)[0] == churn[0] and int(info["surviving"]) * 100 > int(info["sampled"]):
            print("FAIL %s: churn site %s kept %s of %s" % (name, churn[0], info["surviving"], info["sampled"]))
            sys.exit(1)
bad = [(h, s) for h, s in got if s != want or truncated(h) != cut]
if bad:
    h, s = bad[0]
    print("FAIL %s: %d of %d stacks differ; first: %s\n  got:    %s\n  expect: %s"
          % (name, len(bad), len(got), " ".join(h), s, want)); sys.exit(1)
extra = ""
if churn:
    extra = "; first site surviving %s of %s sampled, churn at %s not ranked first" % (
        sites[0][0]["surviving"], sites[0][0]["sampled"], churn[0])
print("PASS %s: %d stacks, all %s%s%s" % (name, len(got), " <- ".join(expect[:3]),
      " (cut at %d of %d frames)" % (MAX, len(expect)) if cut else "", extra))
PY
