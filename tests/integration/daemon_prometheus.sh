#!/usr/bin/env bash
# The fleet path end to end: leakd --daemon finds two Python programs started after it
# (a leak and a healthy cache), a real Prometheus server on loopback scrapes its
# /metrics, and Prometheus's HTTP API must say leakd_leak_suspected is 1 for the leaking
# pid and 0 for the healthy one. Also: an exited process leaves /metrics, a burst of 50
# short-lived processes leaves no stale state, a daemon killed with SIGKILL leaves no
# target stopped and its successor finds them again, a malformed config line is
# refused naming file and line. Every PromQL expression of docs/grafana/leakd.json
# returns data from that Prometheus while the leak runs (grafana_queries.py).
# Usage: daemon_prometheus.sh BUILD/leakd CASE_DIR PYTHON PROGRAMS_DIR
# Prints one line "PASS|FAIL|SKIP name: detail" first, then details.
set -uo pipefail
leakd=$1 d=$2 py=$3 progs=$4
name=daemon/prometheus
mkdir -p "$d"
say() { echo "$1 $name: $2"; }

prom=$(command -v prometheus || true)
[ -n "$prom" ] || { say SKIP "prometheus is not installed (scripts/install-deps.sh test installs it)"; exit 0; }

# Ports: pick free ones on loopback rather than guessing.
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
lport=$(free_port) pport=$(free_port)

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

# 1. A malformed config is refused with file and line, exit 2.
printf 'census_period = 1\nno_such_key = 3\n' >"$d/bad.conf"
"$leakd" --daemon --config "$d/bad.conf" >"$d/bad.out" 2>"$d/bad.err"
rc=$?
if [ $rc -ne 2 ] || ! grep -q "bad.conf:2" "$d/bad.err"; then
	say FAIL "malformed config: exit $rc, stderr '$(head -c 200 "$d/bad.err")' (want 2 and 'bad.conf:2')"
	exit 0
fi

# 2. The daemon watches only our programs: they run from a private copy of the
# interpreter (other cases run in parallel, and two tracers cannot both freeze one
# target), matched by exe. A fast census keeps the test short.
cp "$py" "$d/python-daemon-test" || { say FAIL "cannot copy $py"; exit 0; }
py=$d/python-daemon-test
# Every other key at its default: the time to flag below is the fleet's.
cat >"$d/leakd.conf" <<EOF
listen_address = 127.0.0.1:$lport
include_exe = $py
EOF
NOTIFY_SOCKET= "$leakd" --daemon --config "$d/leakd.conf" >"$d/leakd.out" 2>"$d/leakd.err" &
dpid=$!
pids+=("$dpid")
for _ in $(seq 50); do
	curl -fs "http://127.0.0.1:$lport/metrics" >/dev/null 2>&1 && break
	sleep 0.2
done
if ! curl -fs "http://127.0.0.1:$lport/metrics" >"$d/metrics.0"; then
	say FAIL "daemon did not serve /metrics on 127.0.0.1:$lport within 10 s: $(tail -n2 "$d/leakd.err")"
	exit 0
fi

cat >"$d/prometheus.yml" <<EOF
global:
  scrape_interval: 2s
scrape_configs:
  - job_name: leakd
    static_configs:
      - targets: ["127.0.0.1:$lport"]
EOF
"$prom" --config.file="$d/prometheus.yml" --storage.tsdb.path="$d/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$d/prometheus.log" 2>&1 &
pids+=("$!")

# 3. Two programs started after the daemon: it must find them by itself.
"$py" "$progs/leak_list_append.py" --seconds 100 >/dev/null 2>&1 &
leak=$!
leak_t0=$SECONDS
flag_s=
pids+=("$leak")
"$py" "$progs/healthy_cache.py" --seconds 100 >/dev/null 2>&1 &
healthy=$!
pids+=("$healthy")
"$py" "$progs/healthy_sawtooth.py" --seconds 6 >/dev/null 2>&1 &
short=$!

# 4. Ask Prometheus until both verdicts are in (the detector needs ~18 s of samples).
query() { curl -fsG "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1"; }
found_short=no
for _ in $(seq 45); do
	sleep 2
	curl -fs "http://127.0.0.1:$lport/metrics" >"$d/metrics.now" 2>/dev/null || continue
	grep -q "leakd_live_objects{pid=\"$short\"" "$d/metrics.now" && found_short=yes
	[ -z "$flag_s" ] && grep -q "^leakd_leak_suspected{pid=\"$leak\".*} 1$" "$d/metrics.now" &&
		flag_s=$((SECONDS - leak_t0))
	l=$(query "leakd_leak_suspected{pid=\"$leak\"}" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
	h=$(query "leakd_leak_suspected{pid=\"$healthy\"}" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
	[ "$l" = 1 ] && [ -n "$h" ] && break
done
echo "leak pid $leak: '$l' (flagged in /metrics ${flag_s:-never} s after it started), healthy pid $healthy: '$h'" >"$d/verdicts"
query 'leakd_leak_suspected' >"$d/query.json" 2>/dev/null
# The Grafana dashboard's expressions, read from docs/grafana/leakd.json: each must return
# data from this Prometheus while the leak runs (a few tries: rates want a few scrapes).
dash=$(cd "$(dirname "$0")/../.." && pwd)/docs/grafana/leakd.json
graf=no
if [ "$l" = 1 ]; then
	for _ in $(seq 10); do
		/usr/bin/python3 "$(dirname "$0")/grafana_queries.py" "$dash" "http://127.0.0.1:$pport" >"$d/grafana.out" 2>&1 &&
			{ graf=yes; break; }
		sleep 2
	done
fi

fail=""
[ "$l" = 1 ] || fail="leakd_leak_suspected{pid=$leak} is '$l' in Prometheus, want 1"
[ -z "$fail" ] && [ "$h" != 0 ] && fail="leakd_leak_suspected{pid=$healthy} is '$h' in Prometheus, want 0"
# ~1 MB/s, found by the scan and judged at the daemon's defaults: within 30 s.
[ -z "$fail" ] && { [ -z "$flag_s" ] || [ "$flag_s" -gt 30 ]; } &&
	fail="the leak (pid $leak) was flagged in /metrics ${flag_s:-never} s after it started, want <= 30 s"
[ -z "$fail" ] && [ "$graf" != yes ] &&
	fail="Grafana dashboard: $(grep -m1 -v '^ok ' "$d/grafana.out" 2>/dev/null) ($(tail -n1 "$d/grafana.out" 2>/dev/null))"
[ -z "$fail" ] && [ "$found_short" != yes ] && fail="the short-lived pid $short never appeared in /metrics"
[ -z "$fail" ] && grep -q "pid=\"$short\"" "$d/metrics.now" && fail="pid $short exited but is still in /metrics"
if [ -z "$fail" ] && ! grep -q 'is leaking' "$d/leakd.err"; then
	fail="no leak event logged (stderr): $(tail -n2 "$d/leakd.err")"
fi
# 5. A burst of 50 short-lived Python processes: no crash, no stale state. Once they
# are gone the daemon watches exactly the two long-running programs again.
if [ -z "$fail" ]; then
	burst=()
	for i in $(seq 50); do
		"$py" -c "import time; x = [dict(i=i) for i in range(2000)]; time.sleep(0.2 + ($i % 10) / 10)" &
		burst+=("$!")
	done
	wait "${burst[@]}" 2>/dev/null
	sleep 4
	curl -fs "http://127.0.0.1:$lport/metrics" >"$d/metrics.burst" 2>/dev/null
	n=$(awk '/^leakd_attached_processes /{print $2}' "$d/metrics.burst")
	kill -0 "$dpid" 2>/dev/null || fail="the daemon died during a burst of 50 short-lived processes"
	[ -z "$fail" ] && [ "$n" != 2 ] && fail="after the burst leakd_attached_processes is '$n', want 2"
fi
kill "$dpid"
wait "$dpid"
rc=$?
[ -z "$fail" ] && [ $rc -ne 0 ] && fail="daemon exited $rc on SIGTERM"

# 6. Its own restart, the hard way: a daemon killed mid-census must leave no target
# stopped, and a new one on the same address picks the programs up again.
if [ -z "$fail" ]; then
	"$leakd" --daemon --config "$d/leakd.conf" >>"$d/leakd.out" 2>>"$d/leakd.err" &
	dpid=$!
	pids+=("$dpid")
	sleep 3
	kill -KILL "$dpid"
	wait "$dpid" 2>/dev/null
	sleep 0.5
	for p in "$leak" "$healthy"; do
		st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
		case $st in t | T) fail="pid $p left stopped ($st) after the daemon was killed" ;; esac
	done
	"$leakd" --daemon --config "$d/leakd.conf" >>"$d/leakd.out" 2>>"$d/leakd.err" &
	dpid=$!
	pids+=("$dpid")
	n=""
	for _ in $(seq 20); do
		sleep 0.5
		n=$(curl -fs "http://127.0.0.1:$lport/metrics" 2>/dev/null | awk '/^leakd_attached_processes /{print $2}')
		[ "$n" = 2 ] && break
	done
	[ -z "$fail" ] && [ "$n" != 2 ] && fail="after a restart leakd_attached_processes is '$n', want 2"
	kill "$dpid"
	wait "$dpid" 2>/dev/null
fi
if [ -n "$fail" ]; then
	say FAIL "$fail"
else
	say PASS "Prometheus: leak pid $leak -> 1 (flagged ${flag_s} s after it started), healthy pid $healthy -> 0; $(tail -n1 "$d/grafana.out" | sed 's/ returned data/ of docs\/grafana\/leakd.json returned data/'); short-lived pid found then dropped; 50-process burst left 2 watched; survived SIGKILL and restart"
fi
exit 0
