#!/usr/bin/env bash
# leakd under a real systemd: a Debian 12 root (scripts/nspawn-root.sh, built once and
# cached) boots with systemd as PID 1 in systemd-nspawn, the package is installed in it
# and must start nothing; then leakd.service is enabled and checked:
#   - Type=notify: the unit is active only through sd_notify READY, with its STATUS=;
#   - the sandbox (DynamicUser, the capability set, ProtectSystem=strict, the syscall
#     filter) still lets it attach BPF and freeze Python: a leaking Python service
#     started as another unit gets censuses (freezes), and its collections reach leakd
#     as BPF ring-buffer records (leakd_events_total);
#   - that service is flagged in /metrics with the unit name systemd reports for its pid,
#     and in the journal (MESSAGE_ID from include/leakd/output/journal.h) with pid, unit, types
#     and rates, then in a second entry with what holds the leak (LEAKD_HOLDER=, the
#     path the program names);
#   - the watchdog is fed (no restart over more than WatchdogSec) and a SIGSTOPped
#     daemon is killed and restarted by systemd, and finds the service again.
# Why nspawn: it boots an unmodified Debian userland under its own systemd on this
# machine's kernel (a VM would need nested virtualisation; the host's PID 1 is not
# systemd). The container gets CAP_BPF and CAP_PERFMON and the bpf and perf_event_open
# system calls, which nspawn withholds by default; it shares the host's network, so
# /metrics is scraped from here on a free port.
# A step the machine refuses (no nspawn, the container does not boot) prints SKIP with
# the step and the reason; anything leakd or its package gets wrong is FAIL.
# Usage: systemd_nspawn.sh DEB CASE_DIR PROGRAMS_DIR
# Prints one line "PASS|FAIL|SKIP name: detail" first, then the journal entry and the
# metrics line it checked.
set -uo pipefail
deb=$1 d=$2 progs=$3
name=systemd/nspawn
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$d"
say() { echo "$1 $name: $2"; }
[ -f "$deb" ] || { say FAIL "no package at '$deb' (make deb builds it)"; exit 0; }
for tool in systemd-nspawn debootstrap nsenter flock; do
	command -v "$tool" >/dev/null || { say FAIL "$tool is missing (scripts/install-deps.sh test)"; exit 0; }
done
msgid=$(sed -n 's/^#define LEAKD_MSGID_LEAK[[:space:]]*"\([0-9a-f]*\)"$/\1/p' "$repo/include/leakd/output/journal.h")
[ -n "$msgid" ] || { say FAIL "no LEAKD_MSGID_LEAK in include/leakd/output/journal.h"; exit 0; }

t0=$SECONDS
root=$("$repo/scripts/nspawn-root.sh" "$deb" 2>"$d/root.err" | tail -n1)
[ -n "$root" ] || { say FAIL "step 'build the Debian 12 root': $(tail -n1 "$d/root.err")"; exit 0; }
root_s=$((SECONDS - t0))

machine=leakd-it-$$
ns_pid=
cleanup() {
	[ -n "$ns_pid" ] || return 0
	kill "$ns_pid" 2>/dev/null # SIGTERM: nspawn asks the container's systemd to halt
	for _ in $(seq 30); do kill -0 "$ns_pid" 2>/dev/null || break; sleep 0.5; done
	kill -KILL "$ns_pid" 2>/dev/null
	wait "$ns_pid" 2>/dev/null
	ns_pid=
}
trap cleanup EXIT

# --volatile=overlay: the cached root is the read-only lower layer, every boot starts clean.
# --keep-unit --register=no: no systemd (or machined) on the host to register with.
systemd-nspawn -D "$root" --volatile=overlay --boot --register=no --keep-unit --console=passive \
	-M "$machine" --capability=CAP_BPF,CAP_PERFMON --system-call-filter='bpf perf_event_open' \
	--bind-ro="$(dirname "$(realpath "$deb")")":/mnt/leakd-deb --bind-ro="$progs":/mnt/leakd-programs \
	>"$d/nspawn.log" 2>&1 &
ns_pid=$!
leader=
for _ in $(seq 100); do
	leader=$(ps -o pid= --ppid "$ns_pid" 2>/dev/null | head -n1 | tr -d ' ')
	[ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ] && break
	leader=
	kill -0 "$ns_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$leader" ]; then
	say SKIP "step 'boot under systemd-nspawn' refused by this machine: $(grep -v -e '^Spawning' -e '^Press' "$d/nspawn.log" | tail -n1)"
	exit 0
fi
# -r -w: the container's root, not its mount namespace's: nspawn moves the root mount
# and chroots, so from a machine that is itself a chroot the namespace's root is the
# outer one, where systemctl finds no booted systemd.
in_ct() { nsenter -t "$leader" -a -r -w "$@"; }
# Until the container's systemd listens on its private socket, systemctl cannot ask it.
state=
for _ in $(seq 120); do
	state=$(timeout 60 nsenter -t "$leader" -a -r -w systemctl is-system-running --wait 2>&1)
	case $state in *"Failed to connect to bus"*) sleep 0.5 ;; *) break ;; esac
done
case $state in
running | degraded) ;;
*)
	say SKIP "step 'boot to multi-user' did not finish: systemd says '$state' ($(in_ct systemctl --failed --no-legend 2>&1 | head -n1))"
	exit 0
	;;
esac
boot_s=$((SECONDS - t0 - root_s))
in_ct systemctl --failed --no-legend >"$d/failed-units" 2>&1

fail() {
	say FAIL "$*"
	in_ct journalctl -b --no-pager -n 200 >"$d/journal.txt" 2>&1
	exit 0
}
show() { in_ct systemctl show -P "$2" "$1" 2>/dev/null; }

# 1. The package installs cleanly and starts nothing.
in_ct dpkg -i "/mnt/leakd-deb/$(basename "$deb")" >"$d/dpkg.log" 2>&1 || fail "dpkg -i: $(tail -n1 "$d/dpkg.log")"
en=$(in_ct systemctl is-enabled leakd.service 2>&1)
act=$(in_ct systemctl is-active leakd.service 2>&1)
[ "$en" = disabled ] && [ "$act" = inactive ] ||
	fail "after dpkg -i leakd.service is '$en' and '$act', want disabled and inactive (installing starts nothing)"

# 2. The conffile: a free port on loopback (the container shares the host's network),
# and a larger pause budget, so the census period does not stretch on a busy test
# machine: this case is about systemd and the sandbox, daemon/prometheus about timing.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
in_ct sh -c "printf 'listen_address = 127.0.0.1:$port\nmax_pause_share = 50%%\n' >>/etc/leakd/leakd.conf" ||
	fail "cannot edit /etc/leakd/leakd.conf"

# 3. Enabled and started: active only once leakd sent READY=1 (Type=notify).
in_ct systemctl enable --now leakd.service >"$d/enable.log" 2>&1 || fail "systemctl enable --now leakd: $(tail -n1 "$d/enable.log")"
start_t=$SECONDS
[ "$(show leakd.service Type)" = notify ] || fail "leakd.service is Type=$(show leakd.service Type), want notify"
[ "$(show leakd.service ActiveState)/$(show leakd.service SubState)" = active/running ] ||
	fail "leakd.service is $(show leakd.service ActiveState)/$(show leakd.service SubState) after start: $(in_ct journalctl -u leakd --no-pager -o cat | tail -n1)"
status_text=$(show leakd.service StatusText)
[ -n "$status_text" ] || fail "no STATUS= from sd_notify (StatusText is empty)"
mainpid=$(show leakd.service MainPID)
uid=$(in_ct awk '/^Uid:/{print $2}' "/proc/$mainpid/status")
[ -n "$uid" ] && [ "$uid" != 0 ] || fail "leakd (pid $mainpid) runs as uid '$uid', want DynamicUser's"
capeff=$(in_ct awk '/^CapEff:/{print $2}' "/proc/$mainpid/status")

# 4. A leaking Python service, another unit.
lunit=leakd-it-leak.service
in_ct systemd-run --unit="$lunit" -p Type=exec /usr/bin/python3 /mnt/leakd-programs/leak_list_append.py --seconds 300 --rate 500 \
	--truth /run/leakd-it-truth.json >"$d/run.log" 2>&1 || fail "systemd-run $lunit: $(tail -n1 "$d/run.log")"
lpid=$(show "$lunit" MainPID)
# The unit systemd reports for that pid (the manager's answer, as systemctl status PID).
sd_unit=$(in_ct systemctl status "$lpid" --no-pager 2>/dev/null | head -n1 | sed 's/^[^a-zA-Z0-9]* //; s/ .*//')
[ "$sd_unit" = "$lunit" ] || fail "systemctl status $lpid names '$sd_unit', want $lunit"

scrape() { curl -fs "http://127.0.0.1:$port/metrics"; }
metric() { # NAME: the value for our pid
	grep "^$1{pid=\"$lpid\"" "$d/metrics" | head -n1 | awk '{print $NF}'
}
flag_line=
for _ in $(seq 60); do
	sleep 2
	scrape >"$d/metrics" 2>/dev/null || continue
	flag_line=$(grep "^leakd_leak_suspected{pid=\"$lpid\"" "$d/metrics" | grep ' 1$')
	[ -n "$flag_line" ] && break
done
flag_s=$((SECONDS - start_t))
[ -n "$flag_line" ] || fail "pid $lpid ($lunit) not flagged in /metrics within 120 s: $(grep "^leakd_leak_suspected{pid=\"$lpid\"" "$d/metrics" | head -n1)"
[[ $flag_line == *"unit=\"$sd_unit\""* ]] || fail "the metrics line has not systemd's unit '$sd_unit': $flag_line"
censuses=$(metric leakd_census_runs_total)
gcs=$(grep "^leakd_gc_collections_total{pid=\"$lpid\"" "$d/metrics" | awk '{s += $NF} END {print s + 0}')
[ "${censuses:-0}" -gt 0 ] || fail "no census of pid $lpid under the sandbox (leakd_census_runs_total '$censuses')"
# GC start/done probes are BPF: their records must reach leakd (the container is its own
# pid namespace, so the BPF side must number tasks as leakd does).
events=$(awk '/^leakd_events_total /{print $2}' "$d/metrics")
[ "${events:-0}" -gt 0 ] || fail "no BPF event reached leakd (leakd_events_total '$events') while pid $lpid collected $gcs times"
[ "$gcs" -gt 0 ] || fail "no GC collection seen by the BPF probes for pid $lpid (leakd_gc_collections_total sums to $gcs)"

# 5. The journal entry, with its fields.
entry=
for _ in $(seq 10); do
	entry=$(in_ct journalctl --no-pager -o export "MESSAGE_ID=$msgid" "LEAKD_PID=$lpid" 2>/dev/null)
	[ -n "$entry" ] && break
	sleep 1
done
[ -n "$entry" ] || fail "no journal entry MESSAGE_ID=$msgid LEAKD_PID=$lpid"
field() { printf '%s\n' "$entry" | sed -n "s/^$1=//p" | head -n1; }
j_unit=$(field LEAKD_UNIT) j_types=$(field LEAKD_TYPES) j_ops=$(field LEAKD_OBJECTS_PER_S)
j_bps=$(field LEAKD_BYTES_PER_S) j_from=$(field _SYSTEMD_UNIT)
[ "$j_unit" = "$sd_unit" ] || fail "journal LEAKD_UNIT '$j_unit', systemd says '$sd_unit'"
[ "$j_from" = leakd.service ] || fail "the journal entry comes from '$j_from', want leakd.service"
[ -n "$j_types" ] || fail "journal LEAKD_TYPES is empty"
awk -v o="$j_ops" -v b="$j_bps" 'BEGIN { exit !(o > 0 && b > 0) }' ||
	fail "journal rates LEAKD_OBJECTS_PER_S '$j_ops', LEAKD_BYTES_PER_S '$j_bps', want > 0"

# 5b. What holds it: once flagged, the daemon searches and logs a second entry whose
# LEAKD_HOLDER= (and MESSAGE's "held by") is the path the program names for its Records.
in_ct cat /run/leakd-it-truth.json >"$d/truth.json" 2>/dev/null || fail "the target wrote no truth to /run/leakd-it-truth.json"
holder=
for _ in $(seq 90); do
	in_ct journalctl --no-pager -o json "MESSAGE_ID=$msgid" "LEAKD_PID=$lpid" >"$d/entries.json" 2>/dev/null
	holder=$(/usr/bin/python3 - "$d/entries.json" "$d/truth.json" <<'PY'
import json, re, sys
want = list(json.load(open(sys.argv[2]))["holders"].values())[0]
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    e = json.loads(line)
    h = e.get("LEAKD_HOLDER") or ""
    if h:
        ok = re.fullmatch(want, h) and ("; held by " + h) in (e.get("MESSAGE") or "")
        print(("ok " if ok else "bad ") + h)
        break
PY
)
	[ -n "$holder" ] && break
	sleep 1
done
holder_s=$((SECONDS - start_t))
[ -n "$holder" ] || fail "no journal entry with LEAKD_HOLDER= for pid $lpid within 90 s of the first"
[[ $holder == "ok "* ]] ||
	fail "the journal's holder '${holder#* }' (or its MESSAGE) is not the program's $(cat "$d/truth.json")"

# 6. The watchdog: fed for longer than WatchdogSec with no restart, then a SIGSTOPped
# daemon is killed and restarted.
# systemd prints durations ("30s", "1min 30s"); systemd-analyze turns them into seconds.
secs() { in_ct systemd-analyze timespan "$1" 2>/dev/null | awk '$1 == "μs:" { print int($2 / 1000000) }'; }
wd_us=$(show leakd.service WatchdogUSec)
wd_s=$(secs "$wd_us")
[ "${wd_s:-0}" -gt 0 ] || fail "leakd.service has no watchdog (WatchdogUSec '$wd_us')"
while [ $((SECONDS - start_t)) -le $((wd_s + 2)) ]; do sleep 1; done
[ "$(show leakd.service NRestarts)" = 0 ] && [ "$(show leakd.service MainPID)" = "$mainpid" ] ||
	fail "leakd restarted within WatchdogSec ($wd_us) while running: the watchdog is not fed (NRestarts $(show leakd.service NRestarts))"
in_ct bash -c "kill -STOP $mainpid" || fail "cannot SIGSTOP leakd (pid $mainpid)"
stop_t=$SECONDS
restart_s=
rsec=$(secs "$(show leakd.service RestartUSec)")
for _ in $(seq $((wd_s + rsec + 30))); do
	sleep 1
	np=$(show leakd.service MainPID)
	if [ "$(show leakd.service NRestarts)" -ge 1 ] && [ "$np" != 0 ] && [ "$np" != "$mainpid" ] &&
		[ "$(show leakd.service ActiveState)" = active ]; then
		restart_s=$((SECONDS - stop_t))
		break
	fi
done
[ -n "$restart_s" ] || fail "a SIGSTOPped leakd was not restarted within $((wd_s + rsec + 30)) s (NRestarts $(show leakd.service NRestarts), $(show leakd.service ActiveState))"
in_ct journalctl -u leakd.service --no-pager -o cat | grep -q -i 'watchdog timeout' ||
	fail "restarted, but the journal has no watchdog timeout for leakd.service"
attached=
for _ in $(seq 20); do
	sleep 1
	attached=$(scrape 2>/dev/null | awk '/^leakd_attached_processes /{print $2}')
	[ "$attached" = 1 ] && break
done
[ "$attached" = 1 ] || fail "after the watchdog restart leakd_attached_processes is '$attached', want 1"

say PASS "Debian 12 under systemd $(in_ct systemctl --version | awk 'NR==1{print $2}') in nspawn (root $root_s s, boot $boot_s s): package installed inactive+disabled; enabled: active via READY ('$status_text'), uid $uid, CapEff $capeff; $lunit (pid $lpid) flagged in /metrics after ${flag_s} s with $censuses censuses, $gcs collections and $events BPF events; journal entry found, then one held by '${holder#ok }' after ${holder_s} s; no restart over WatchdogSec=$wd_us, SIGSTOP -> restarted after ${restart_s} s and watching again"
echo "metrics line: $flag_line"
echo "journal entry (journalctl MESSAGE_ID=$msgid LEAKD_PID=$lpid -o export):"
printf '%s\n' "$entry" | grep -E '^(MESSAGE|MESSAGE_ID|PRIORITY|LEAKD_[A-Z_]+|_SYSTEMD_UNIT|_PID|_UID)=' | sed 's/^/  /'
exit 0
