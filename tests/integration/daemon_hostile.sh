#!/usr/bin/env bash
# Hostile names through the fleet path: leakd --daemon watches hostile_names.py (a comm
# holding a newline and an escape sequence; classes named with a forged leakd line, OSC,
# CSI and C1 sequences, 10,000 characters, a lone surrogate). Its /metrics must pass
# `promtool check metrics`, hold no raw control byte (C0, DEL, C1 in UTF-8), carry the
# class names escaped in the type labels, and the daemon's own stderr (no journal here)
# must hold no raw control byte either. The target runs from a copy of the interpreter
# at a path of its own, so that the daemon watches it and no other case's process.
# Usage: daemon_hostile.sh BUILD/leakd CASE_DIR PYTHON PROGRAMS_DIR
# Prints one line "PASS|FAIL name: detail" first, then details.
set -uo pipefail
leakd=$1 d=$2 py=$3 progs=$4
name=daemon/hostile_names_metrics
mkdir -p "$d"
say() { echo "$1 $name: $2"; }
command -v promtool >/dev/null || { say FAIL "promtool is missing (scripts/install-deps.sh test installs prometheus)"; exit 0; }
command -v curl >/dev/null || { say FAIL "curl is missing (scripts/install-deps.sh test installs it)"; exit 0; }

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cp "$py" "$d/python-hostile"
cat >"$d/leakd.conf" <<CONF
listen_address = 127.0.0.1:$port
include_exe = $d/python-hostile
CONF
# The copy finds its standard library through PYTHONHOME, not its own location.
PYTHONHOME=$(dirname "$(dirname "$py")") "$d/python-hostile" "$progs/hostile_names.py" --seconds 90 \
	>"$d/target.log" 2>&1 &
tpid=$!
pids+=("$tpid")
# The daemon starts once the target has renamed itself ("ready"): it keeps the comm it
# discovered, and a scan between the exec and the prctl would label it python-hostile.
for _ in $(seq 300); do
	grep -qsx ready "$d/target.log" && break
	kill -0 "$tpid" 2>/dev/null || break
	sleep 0.1
done
grep -qsx ready "$d/target.log" ||
	{ say FAIL "hostile_names.py never said ready in 30 s: $(tail -n1 "$d/target.log")"; exit 0; }
NOTIFY_SOCKET= "$leakd" --daemon --config "$d/leakd.conf" >"$d/leakd.out" 2>"$d/leakd.err" &
pids+=($!)
for _ in $(seq 300); do
	curl -fs "http://127.0.0.1:$port/metrics" >"$d/metrics.txt" 2>/dev/null &&
		grep -q "^leakd_type_live_objects{.*pid=\"$tpid\".*Evil" "$d/metrics.txt" && break
	sleep 0.2
done
grep -q "^leakd_type_live_objects{.*pid=\"$tpid\".*Evil" "$d/metrics.txt" ||
	{ say FAIL "the hostile process's types never reached /metrics in 60 s: $(tail -n2 "$d/leakd.err")"; exit 0; }
promtool check metrics <"$d/metrics.txt" >"$d/promtool.out" 2>&1
prc=$?
/usr/bin/python3 - "$d" "$tpid" "$prc" "$progs" <<'PY'
import re, sys
d, pid, prc, progs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, progs)
import hostile_names  # the names as the program defines them
name = "daemon/hostile_names_metrics"
def fail(msg):
    print("FAIL %s: %s" % (name, msg)); sys.exit(0)
raw = open(d + "/metrics.txt", "rb").read()
lint = open(d + "/promtool.out").read()
# promtool exits 3 on lint advice (names, help text), 1 on an exposition it cannot parse
if prc not in (0, 3) or "error" in lint.lower():
    fail("promtool check metrics: exit %d: %s" % (prc, lint.strip()[:300]))
def raw_controls(b):
    bad = [c for c in b if (c < 0x20 and c != 0x0a) or c == 0x7f]
    c1 = re.findall(rb"\xc2[\x80-\x9f]", b)
    return len(bad) + len(c1)
if raw_controls(raw):
    fail("/metrics holds %d raw control bytes" % raw_controls(raw))
err = open(d + "/leakd.err", "rb").read()
if raw_controls(err.replace(b"\n", b"")):
    fail("the daemon's stderr holds raw control bytes")
lines = [l for l in raw.decode("utf-8").splitlines() if l.startswith("leakd_type_live_objects{") and 'pid="%s"' % pid in l]
want = hostile_names.NAME.split("\n")[0]          # the part before the forged line
if not any(want in l and "\\n" in l for l in lines):
    fail("no type label holds %r followed by an escaped newline: %r" % (want, lines[:3]))
comm = [l for l in raw.decode("utf-8").splitlines() if 'pid="%s"' % pid in l and "comm=" in l]
if not any('comm="py\\nleakd: ' in l for l in comm):
    fail("the comm label is not the escaped comm: %r" % comm[:2])
print("PASS %s: promtool exit %d, %d type lines for pid %s, no raw control byte in /metrics or stderr"
      % (name, prc, len(lines), pid))
PY
