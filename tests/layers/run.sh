#!/usr/bin/env bash
# The code map's test: check_layers.py on this tree must pass, and on each
# fixture tree that breaks a rule (tests/fixtures/layers/) it must fail and name
# the breach, so a checker that stopped seeing breaches fails here too.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
fx=$repo/tests/fixtures/layers
check=("${PYTHON:-python3}" "$here/check_layers.py")
command -v "${check[0]}" >/dev/null || { echo "layers: FAILED, cannot run: python3 is missing"; exit 1; }
pass=0 fail=0
expect() { # NAME ROOT WANT_RC PATTERN
	local out rc
	out=$("${check[@]}" "$2" 2>&1)
	rc=$?
	if [ "$rc" -eq "$3" ] && grep -q -- "$4" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL layers/$1 (exit $rc, wanted $3 and '$4'):"
		sed 's/^/  /' <<<"$out"
	fi
}
expect tree "$repo" 0 "none upward, no circle"
expect fixture-good "$fx/good" 0 "none upward, no circle"
expect fixture-upward "$fx/upward" 1 "src/low/a.c: includes leakd/high/h.h, of a higher layer"
expect fixture-circle "$fx/circle" 1 "modules in a circle: low/a <-> low/b"
expect fixture-backdoor "$fx/backdoor" 1 "declares b_helper(), defined in low/a.c"
echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
