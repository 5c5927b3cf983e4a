#!/usr/bin/env bash
# Site windows in the fleet daemon: with `site_windows = on`, leakd --daemon flags
# site_leak.py's observer leak, opens a site window on it, and writes a second leak
# entry that names where the surviving Subscribers are made: "; made at FILE:LINE in
# FUNC() <- ..." in the message (stderr here: no journal; the journal's LEAKD_SITE=
# field carries the same text). The frames must be the three innermost of the
# allocating stack as the program reports it (site_leak.py --truth). The target runs
# from a copy of the interpreter, so that the daemon watches it and no other case's
# process. Usage: daemon_sites.sh BUILD/leakd CASE_DIR PYTHON PROGRAMS_DIR
# Prints one line "PASS|FAIL name: detail" first, then details.
set -uo pipefail
leakd=$1 d=$2 py=$3 progs=$4
name=daemon/site_window_entry
mkdir -p "$d"
say() { echo "$1 $name: $2"; }

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cp "$py" "$d/python-sites" || { say FAIL "cannot copy $py"; exit 0; }
cat >"$d/leakd.conf" <<CONF
listen_address = 127.0.0.1:$port
include_exe = $d/python-sites
site_windows = on
CONF
NOTIFY_SOCKET= JOURNAL_STREAM= "$leakd" --daemon --config "$d/leakd.conf" >"$d/leakd.out" 2>"$d/leakd.err" &
pids+=($!)
# The copy finds its standard library through PYTHONHOME, not its own location.
PYTHONHOME=$(dirname "$(dirname "$py")") "$d/python-sites" "$progs/site_leak.py" --scenario observer \
	--truth "$d/truth" --seconds 150 >"$d/target.log" 2>&1 &
tpid=$!
pids+=("$tpid")
t0=$SECONDS
for _ in $(seq 600); do
	grep -q "^leakd: pid $tpid (.*) is leaking: .*; made at " "$d/leakd.err" && break
	kill -0 "$tpid" 2>/dev/null || break
	sleep 0.2
done
took=$((SECONDS - t0))
/usr/bin/python3 - "$d" "$tpid" "$took" <<'PY'
import re, sys
d, pid, took = sys.argv[1], sys.argv[2], sys.argv[3]
name = "daemon/site_window_entry"
def fail(msg):
    print("FAIL %s: %s" % (name, msg)); sys.exit(0)
try:
    truth = open(d + "/truth").read().splitlines()
except OSError as e:
    fail("the program wrote no truth (%s): %s" % (e, open(d + "/target.log").read()[-300:]))
want = [l.split(" ", 1)[1] for l in truth if l.startswith("EXPECT ")]
tname = [l.split(" ", 1)[1] for l in truth if l.startswith("TYPE ")][0]
err = open(d + "/leakd.err", errors="replace").read().splitlines()
mine = [l for l in err if l.startswith("leakd: pid %s (" % pid)]
flagged = [l for l in mine if " is leaking: " in l]
if not flagged:
    fail("the leak was never flagged in %s s; daemon stderr: %r" % (took, err[-3:]))
sited = [l for l in flagged if "; made at " in l]
if not sited:
    fail("flagged, but no entry names a site within %s s: %r" % (took, flagged[-1][:300]))
site = sited[0].split("; made at ", 1)[1]
# "FILE:LINE in FUNC() <- ..." for the three innermost frames of the program's own stack
frames = ["%s in %s()" % tuple(w.rsplit(" ", 1)) for w in want[:3]]
expect = " <- ".join(frames)
if not site.startswith(expect):
    fail("the site is %r, the program's stack starts %r" % (site[:300], expect))
m = re.search(r"\((\S+), surviving (\d+) of (\d+) sampled\)$", site)
if not m or m.group(1) != tname or int(m.group(2)) < 1:
    fail("the site does not end with (%s, surviving N of M sampled), N >= 1: %r" % (tname, site[-120:]))
print("PASS %s: %s s after start: made at %s" % (name, took, site))
PY
