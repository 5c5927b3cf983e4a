#!/usr/bin/env bash
# Builds the self-built kind of interpreter for leakd's test matrix when pyenv is absent:
# CPython 3.11 from the upstream tarball of Debian's own python3.11 source package, with a
# plain `./configure --enable-shared` (shared libpython, PIE, full .symtab, no PGO/LTO).
# The source comes through apt with a private state whose deb-src line is derived at run
# time from this machine's apt sources (no host name in the repo). Built once, niced, and
# cached under CACHE/python3.11-<source version>/; a working cached build is kept.
# Prints the interpreter's path as its last line; exits non-zero when it cannot build.
# Usage: scripts/build-python.sh [CACHE]   (default /var/cache/leakd-test/cpython)
set -euo pipefail

cache=${1:-/var/cache/leakd-test/cpython}
say() { printf 'build-python: %s\n' "$*" >&2; }
# shellcheck source=scripts/apt-private.sh
. "$(dirname "$0")/apt-private.sh"

for d in "$cache"/python3.11-*/prefix/bin/python3.11; do
	if [ -x "$d" ] && "$d" -c 'import ctypes, ssl' >/dev/null 2>&1; then
		say "cached: $d"
		echo "$d"
		exit 0
	fi
done
mirror=$(host_mirror) || { say "no Debian archive in this machine's apt sources"; exit 1; }
read -r uri key <<<"$mirror"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { say "no VERSION_CODENAME in /etc/os-release"; exit 1; }

apt=${LEAKD_APT_STATE:-/var/cache/leakd-test/apt}/src-$codename
mkdir -p "$apt/state" "$apt/lists/partial" "$apt/cache/archives/partial" "$cache"
chmod 755 "$apt/.." "$cache"
: >"$apt/status"
for s in "$codename" "$codename-updates"; do
	if [ "$key" != - ]; then echo "deb-src [signed-by=$key] $uri $s main"; else echo "deb-src $uri $s main"; fi
done >"$apt/sources.list"
id _apt >/dev/null 2>&1 && chown -R _apt "$apt/lists/partial"
apt_in "$apt" apt-get update -qq >"$apt/update.log" 2>&1 || { say "cannot read $codename's source index:"; head -n 5 "$apt/update.log" >&2; exit 1; }

work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
chown _apt "$work" 2>/dev/null || true
(cd "$work" && apt_in "$apt" apt-get source --download-only -qq python3.11) >"$work/source.log" 2>&1 ||
	{ say "apt-get source python3.11 failed:"; head -n 5 "$work/source.log" >&2; exit 1; }
dsc=$(ls "$work"/python3.11_*.dsc)
ver=$(sed -n 's/^Version: //p' "$dsc")
orig=$(ls "$work"/python3.11_*.orig.tar.*)
dest=$cache/python3.11-$ver
say "building CPython from $(basename "$orig") (Debian source $ver) into $dest"
tar -xf "$orig" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'Python-*' | head -n1)
rm -rf "$dest"
start=$SECONDS
(
	cd "$src"
	./configure -q --prefix="$dest/prefix" --enable-shared LDFLAGS="-Wl,-rpath,$dest/prefix/lib" CFLAGS="-g -O2"
	nice -n 10 make -s -j"$(nproc)"
	make -s install
) >"$work/build.log" 2>&1 || { say "build failed:"; tail -n 20 "$work/build.log" >&2; rm -rf "$dest"; exit 1; }
py=$dest/prefix/bin/python3.11
"$py" -c 'import ctypes, ssl' || { say "the build does not import ctypes/ssl"; exit 1; }
say "built $("$py" -c 'import sys; print(sys.version.split()[0])') in $((SECONDS - start)) s"
echo "$py"
