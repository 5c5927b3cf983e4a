#!/usr/bin/env bash
# The daemon's holder search, and that it keeps the target's data private: leakd --daemon
# watches leak_secret_keys.py (Sessions leaked into a module-level dict keyed by
# "SECRET-<token>-..."). Two daemons run at once, each watching its own copy of the
# interpreter (so neither watches the other's target, nor any other case's process):
# one at the default holder_keys = shape, one with holder_keys = show. Once the leak is
# flagged, /metrics must carry leakd_leak_holder_info for the target with the holder path
# the program names (the key as [<str>]), and the daemon's leak line on stderr (no
# journal here) the same path after "held by"; the program's secret token must appear
# in neither. With holder_keys = show it must appear in both (the check can see it).
# Prints the search times and the daemons' peak RSS as measured figures.
# Usage: daemon_holders.sh BUILD/leakd CASE_DIR PYTHON PROGRAMS_DIR NAME
# Prints one line "PASS|FAIL name: detail" first, then details.
set -uo pipefail
leakd=$1 d=$2 py=$3 progs=$4 name=$5
mkdir -p "$d"
say() { echo "$1 $name: $2"; }
command -v curl >/dev/null || { say FAIL "curl is missing (scripts/install-deps.sh test installs it)"; exit 0; }
[ -x "$py" ] || { say FAIL "no interpreter $py"; exit 0; }

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null' EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
home=$(dirname "$(dirname "$py")")
declare -A port tpid dpid
for keys in shape show; do
	port[$keys]=$(free_port)
	cp "$py" "$d/python-holders-$keys" || { say FAIL "cannot copy $py"; exit 0; }
	# holder_keys at its default in the first: what a fleet gets
	{
		echo "listen_address = 127.0.0.1:${port[$keys]}"
		echo "include_exe = $d/python-holders-$keys"
		[ "$keys" = show ] && echo "holder_keys = show"
	} >"$d/leakd-$keys.conf"
	NOTIFY_SOCKET= "$leakd" --daemon --config "$d/leakd-$keys.conf" >"$d/leakd-$keys.out" 2>"$d/leakd-$keys.err" &
	dpid[$keys]=$!
	pids+=("${dpid[$keys]}")
	# The copy finds its standard library through PYTHONHOME, not its own location.
	PYTHONHOME=$home "$d/python-holders-$keys" "$progs/leak_secret_keys.py" --seconds 150 \
		>"$d/target-$keys.out" 2>"$d/target-$keys.err" &
	tpid[$keys]=$!
	pids+=("${tpid[$keys]}")
done

# Flagged within ~30 s (daemon/prometheus), then one census more for the search.
done_keys=""
for _ in $(seq 60); do
	sleep 2
	for keys in shape show; do
		[[ " $done_keys " == *" $keys "* ]] && continue
		curl -fs "http://127.0.0.1:${port[$keys]}/metrics" >"$d/metrics-$keys.txt" 2>/dev/null || continue
		grep -q "^leakd_leak_holder_info{pid=\"${tpid[$keys]}\"" "$d/metrics-$keys.txt" &&
			grep -q "held by" "$d/leakd-$keys.err" && done_keys+=" $keys"
	done
	[[ " $done_keys " == *" shape "* && " $done_keys " == *" show "* ]] && break
done
for keys in shape show; do
	grep -E '^Vm(RSS|HWM)' "/proc/${dpid[$keys]}/status" >"$d/leakd-$keys.status" 2>/dev/null
done

/usr/bin/python3 - "$d" "$name" "${tpid[shape]}" "${tpid[show]}" <<'PY'
import json, re, sys
d, name, pids = sys.argv[1], sys.argv[2], {"shape": sys.argv[3], "show": sys.argv[4]}
def fail(msg):
    print("FAIL %s: %s" % (name, msg)); sys.exit(0)
def read(path):
    try:
        return open(path, "rb").read().decode("utf-8", "replace")
    except OSError:
        return ""
def unescape_label(v):
    return re.sub(r'\\(.)', lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), v)
figures = []
for keys in ("shape", "show"):
    pid = pids[keys]
    truth_line = read("%s/target-%s.out" % (d, keys)).splitlines()
    if not truth_line:
        fail("the %s target printed nothing: %s" % (keys, read("%s/target-%s.err" % (d, keys))[-300:]))
    truth = json.loads(truth_line[0])
    metrics, err = read("%s/metrics-%s.txt" % (d, keys)), read("%s/leakd-%s.err" % (d, keys))
    if not re.search(r'^leakd_leak_suspected\{pid="%s".*\} 1$' % pid, metrics, re.M):
        fail("holder_keys = %s: pid %s was never flagged in /metrics; stderr: %r" % (keys, pid, err[-300:]))
    rows = []
    for m in re.finditer(r'^leakd_leak_holder_info\{pid="%s",(.*)\} 1$' % pid, metrics, re.M):
        labels = dict((k, unescape_label(v)) for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        rows.append((labels.get("type"), labels.get("holder")))
    if not rows:
        fail("holder_keys = %s: no leakd_leak_holder_info for pid %s" % (keys, pid))
    if len(rows) > 5:
        fail("holder_keys = %s: %d holder series for one process, want at most 5" % (keys, len(rows)))
    prefix = "module __main__ . %s (dict) [" % truth["global"]
    suffix = "] -> %s" % truth["type"]
    if keys == "shape":
        want = prefix + "<str>" + suffix
        top = [h for t, h in rows if t == truth["type"] and h == want]
    else:
        want = prefix + "'SECRET-%s-" % truth["token"]
        top = [h for t, h in rows if t == truth["type"] and h.startswith(want) and h.endswith("'" + suffix)]
    if not top:
        fail("holder_keys = %s: no holder series %r for %s; have %r" % (keys, want, truth["type"], rows))
    held = [l for l in err.splitlines() if l.startswith("leakd: pid %s " % pid) and "is leaking" in l and "; held by " in l]
    if not held:
        fail("holder_keys = %s: no leak line with 'held by' on the daemon's stderr: %r" % (keys, err[-400:]))
    # the entry's holder is the top path of the top leaking type: the first row
    named = held[-1].split("; held by ", 1)[1].split("; made at ", 1)[0]
    if named != rows[0][1] or named not in top:
        fail("holder_keys = %s: the leak line names %r, want the path %r" % (keys, held[-1], top[0]))
    secret = truth["token"]
    seen = [what for what, text in (("/metrics", metrics), ("stderr", err)) if secret in text]
    if keys == "shape" and seen:
        fail("the secret key text reached %s with holder_keys = shape" % " and ".join(seen))
    if keys == "show" and len(seen) != 2:
        fail("with holder_keys = show the key text is not in both /metrics and stderr (only %r)" % seen)
    times = [float(x) for x in re.findall(r"^leakd: pid %s .*searched in (\d+) ms" % pid, err, re.M)]
    st = dict(re.findall(r"^(Vm\w+):\s+(\d+ kB)", read("%s/leakd-%s.status" % (d, keys)), re.M))
    figures.append("%s: search %s ms, leakd VmRSS %s VmHWM %s" % (keys, "/".join("%.0f" % t for t in times),
                                                                 st.get("VmRSS", "?"), st.get("VmHWM", "?")))
print("PASS %s: holder path %r in /metrics and stderr, secret key text hidden by default and shown with "
      "holder_keys = show; %s" % (name, "module __main__ . %s (dict) [<str>] -> %s" % (truth["global"], truth["type"]),
                                   "; ".join(figures)))
PY
