#!/usr/bin/env bash
# Writes the census fuzz seeds from real processes: for each interpreter found (pyenv's
# 3.8+, Debian's python3.11, and the 3.13/3.14 that scripts/fetch-pythons.sh fetched into
# LEAKD_PYTHONS, build/pythons by default),
# runs tests/fuzz/census_seed.py, images what a census of it reads
# (BUILD/make_census_seed) into tests/fuzz/corpus/census/python-VERSION.img and writes
# the counts by type that census gave to tests/fixtures/census_images/python-VERSION.expect
# (test_census_images replays the image and must find them), and the program's own
# account of what each of its containers holds to python-VERSION.truth
# (test_pyrefs_images decodes them in the image and must find the same). Fails when the
# census of a live process does not find the Seed and Slotted objects the program says
# it holds.
# Usage: tests/fuzz/make_census_seeds.sh [BUILD]   (after make BUILD/make_census_seed)
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
maker=$repo/$build/make_census_seed
[ -x "$maker" ] || { echo "make_census_seeds: no $maker (make $build/make_census_seed)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "make_census_seeds: not root (the census freezes the target)" >&2; exit 1; }
corpus=$repo/tests/fuzz/corpus/census
expect=$repo/tests/fixtures/census_images
mkdir -p "$corpus" "$expect"
fail=0
# seed NAME PYTHON_ARGV...: one image of census_seed.py run by that interpreter.
seed() {
	local name=$1 log pid i truth want cls
	shift
	log=$(mktemp)
	"$@" "$repo/tests/fuzz/census_seed.py" >"$log" 2>&1 </dev/null &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q '^ready$' "$log" && break
		sleep 0.1
	done
	name=$name-$("$@" -c 'import platform; print(platform.python_version())')
	truth=$(head -n1 "$log")
	# the per-decoder truth test_pyrefs_images checks, one line each: the types of
	# KEEP's items, then per container its type and the sorted types it holds
	/usr/bin/python3 -c 'import json, sys
t = json.loads(sys.argv[1])
print("keep " + " ".join(t["keep"]))
for c in t["containers"]:
    print(" ".join(["holds", c["type"]] + c["holds"]))' "$truth" >"$expect/$name.truth" || fail=1
	if "$maker" "$pid" "$corpus/$name.img" >"$expect/$name.expect"; then
		for cls in Seed Slotted; do
			want=$(/usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$truth" "$cls")
			grep -qx "$want __main__.$cls" "$expect/$name.expect" || {
				echo "make_census_seeds: $name: the census does not count $want $cls" >&2
				fail=1
			}
		done
	else
		fail=1
	fi
	kill "$pid"
	wait "$pid" 2>/dev/null
	rm -f "$log"
}

for d in "${PYENV_ROOT:-/root/.pyenv}"/versions/3.*; do
	v=${d##*/}
	case $v in 3.[89].* | 3.1[0-9].*) [ -x "$d/bin/python${v%.*}" ] && seed python "$d/bin/python${v%.*}" ;; esac
done
[ -x /usr/bin/python3.11 ] && seed debian-python /usr/bin/python3.11
for v in 3.13 3.14; do
	envf=$repo/${LEAKD_PYTHONS:-build/pythons}/python$v.env
	[ -r "$envf" ] || continue
	seed debian-python "$(sed -n 's/^LOADER=//p' "$envf")" --library-path "$(sed -n 's/^LIBPATH=//p' "$envf")" \
		"$(sed -n 's/^PYTHON=//p' "$envf")"
done
exit "$fail"
