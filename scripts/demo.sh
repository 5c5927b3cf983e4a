#!/usr/bin/env bash
# A one-minute tour of leakd: starts a small Python program that leaks (it appends
# records to a global list forever) under leakd for 30 s, with a sample every 3 s and
# a summary at the end that names the leak and the type that grows.
# Usage: scripts/demo.sh BUILD/leakd   (as root: leakd loads BPF programs)
set -euo pipefail

leakd=${1:?usage: scripts/demo.sh BUILD/leakd}
repo=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3.11
prog=$repo/tests/programs/leak_list_append.py

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: leakd loads BPF programs and needs root; try: sudo make demo" >&2
	exit 1
fi
if [ ! -x "$py" ]; then
	echo "demo: $py is missing (scripts/install-deps.sh installs it)" >&2
	exit 1
fi

cat <<EOF
leakd demo
  The program: $prog
  It keeps a copy of every item it handles in a module-level list that nothing ever
  trims, about 2,000 Record objects a second, with ordinary short-lived garbage around it.
  leakd watches it from outside (no restart, no code change) for 30 seconds:

  \$ leakd --duration 30 --interval 3 -- $py tests/programs/leak_list_append.py

EOF
set +e
# --seconds: the program stops on its own a little after the session.
"$leakd" --duration 30 --interval 3 -- "$py" "$prog" --seconds 35
rc=$?
set -e
cat <<EOF

What to look at: live objects climb in every sample, the summary flags a leak with its
growth rate, and the top types put Record first. Next steps:
  leakd --pid PID                  watch a process that is already running
  leakd --format json ...          one JSON object per line, for scripts
  leakd --fail-on-leak -- CMD      exit 3 when a leak is found (CI)
EOF
exit $rc
