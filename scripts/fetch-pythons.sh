#!/usr/bin/env bash
# Fetches newer Debian Pythons for leakd's test matrix without installing anything on the
# host: trixie's python3.13 and sid's python3.14, with their stdlib, their shared-library
# dependencies and the newer glibc they need, unpacked (dpkg -x) into a cache directory.
# Each suite gets its own apt state (sources list, lists, package cache, under
# /var/cache/leakd-test/apt or LEAKD_APT_STATE, where apt's _apt user can write) built at
# run time from the mirror URIs this machine already uses, so no host name is written into the repo
# and the host's apt configuration is left alone. Each interpreter then runs through the
# dynamic loader of its own glibc, with PYTHONHOME pointing at its own stdlib:
#   CACHE/bin/python3.13 -c 'import sys; print(sys.version)'
# CACHE/python3.X.env records LOADER, LIBPATH, PYTHON and PYTHONHOME for callers that must
# exec the loader themselves (a tracer started on the wrapper would see /bin/sh first).
# Idempotent: a working cached interpreter is kept. Exits 0 with a message when the archive
# cannot be reached or a package is missing, so a test run can go on without these Pythons.
# Usage: scripts/fetch-pythons.sh [CACHE_DIR]   (default build/pythons; needs apt-get, dpkg)
set -euo pipefail

cache=${1:-build/pythons}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# suite:version pairs to fetch.
wanted=("trixie:3.13" "sid:3.14")

say() { printf 'fetch-pythons: %s\n' "$*"; }

# host_mirror and apt_in: the host's archive address, and apt with a private state.
# shellcheck source=scripts/apt-private.sh
. "$(dirname "$0")/apt-private.sh"

# Prints the hard dependencies (Depends, Pre-Depends; first alternative; first provider of
# a virtual package) of the packages named on stdin, one name per line.
direct_deps() {
	local root=$1
	shift
	apt_in "$root" apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$@" 2>/dev/null | awk '
		/^[^ ]/ { skip = 0; want_provider = 0; next }
		want_provider && /^    [^ ]/ { print $1; want_provider = 0; next }
		/^ [ |](Pre)?Depends: / {
			alt = ($0 ~ /^ \|/)
			name = $2
			if (!skip) {
				if (name ~ /^</) want_provider = 1; else print name
			}
			skip = alt   # a "|" line: the next line is its alternative, ignore it
			next
		}'
}

# The closure we need: the Python packages plus every shared library they pull in
# (packages named lib* or zlib*); data-only packages (tzdata, media-types, debconf...)
# are not needed to run the interpreter.
closure() {
	local root=$1 v=$2
	local -A seen=()
	local queue=("python$v" "python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib" libc6)
	local p next
	while [ ${#queue[@]} -gt 0 ]; do
		next=()
		for p in "${queue[@]}"; do
			[ -n "${seen[$p]:-}" ] && continue
			seen[$p]=1
			next+=("$p")
		done
		[ ${#next[@]} -eq 0 ] && break
		queue=()
		while read -r p; do
			case $p in
			lib* | zlib*) [ -z "${seen[$p]:-}" ] && queue+=("$p") ;;
			esac
		done < <(direct_deps "$root" "${next[@]}" | sort -u)
	done
	printf '%s\n' "${!seen[@]}" | sort
}

fetch_one() {
	local suite=$1 v=$2 uri=$3 key=$4
	local root="$cache/$suite" apt="$aptstate/$suite"
	local wrapper="$cache/bin/python$v" envf="$cache/python$v.env"

	if [ -x "$wrapper" ] && "$wrapper" -c 'pass' >/dev/null 2>&1; then
		say "python$v ($suite) cached: $("$wrapper" -c 'import sys; print(sys.version.split()[0])') -> $wrapper"
		return 0
	fi
	mkdir -p "$apt/state" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$cache/bin"
	: >"$apt/status"
	# apt downloads as _apt: it must be able to write there (else it warns and goes on unsandboxed).
	if id _apt >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		chown -R _apt "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
	fi
	if [ "$key" != - ]; then
		echo "deb [signed-by=$key] $uri $suite main" >"$apt/sources.list"
	else
		echo "deb $uri $suite main" >"$apt/sources.list"
	fi
	say "python$v: reading the $suite index from the host's mirror"
	if ! apt_in "$apt" apt-get update -qq >"$apt/update.log" 2>&1 ||
		grep -qE '^(W|E):' "$apt/update.log"; then
		say "cannot read the $suite index (archive unreachable or untrusted), skipping python$v:"
		sed 's/^/    /' "$apt/update.log" | head -n 5
		return 0
	fi
	if ! apt_in "$apt" apt-cache show "python$v" >/dev/null 2>&1; then
		say "$suite has no python$v package, skipping"
		return 0
	fi
	local pkgs
	mapfile -t pkgs < <(closure "$apt" "$v")
	say "python$v: downloading ${#pkgs[@]} packages from $suite"
	rm -f "$apt/debs"/*.deb
	if ! (cd "$apt/debs" && apt_in "$apt" apt-get download -qq "${pkgs[@]}") >"$apt/download.log" 2>&1; then
		say "download failed, skipping python$v:"
		sed 's/^/    /' "$apt/download.log" | head -n 5
		return 0
	fi
	rm -rf "$root"
	mkdir -p "$root"
	local deb
	for deb in "$apt/debs"/*.deb; do
		dpkg -x "$deb" "$root"
	done

	# The loader: /usr/lib64 on merged-/usr suites, /lib64 on older ones.
	local loader="" d
	for d in "$root/usr/lib64" "$root/lib64" "$root/usr/lib/x86_64-linux-gnu" "$root/lib/x86_64-linux-gnu"; do
		if [ -e "$d/ld-linux-x86-64.so.2" ]; then
			loader="$d/ld-linux-x86-64.so.2"
			break
		fi
	done
	if [ -z "$loader" ] || [ ! -x "$root/usr/bin/python$v" ]; then
		say "python$v: unpacked, but the loader or the interpreter is missing, skipping"
		return 0
	fi
	local libpath="$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu"
	cat >"$envf" <<-EOF
		# Written by scripts/fetch-pythons.sh: how to run python$v from $suite.
		LOADER=$loader
		LIBPATH=$libpath
		PYTHON=$root/usr/bin/python$v
		PYTHONHOME=$root/usr
	EOF
	cat >"$wrapper" <<-EOF
		#!/bin/sh
		# python$v from Debian $suite, run by its own glibc's loader (scripts/fetch-pythons.sh).
		PYTHONHOME='$root/usr' exec '$loader' --library-path '$libpath' '$root/usr/bin/python$v' "\$@"
	EOF
	chmod +x "$wrapper"
	local ver
	if ! ver=$("$wrapper" -c 'import sys; print(sys.version.split()[0])' 2>&1); then
		say "python$v does not start, removing the wrapper: $ver"
		rm -f "$wrapper" "$envf"
		return 0
	fi
	if ! "$wrapper" -c 'import argparse, ctypes, decimal, hashlib, json, lzma, bz2, sqlite3, ssl, tempfile, zlib' >/dev/null 2>&1; then
		say "warning: python$v starts, but some stdlib extension modules fail to import"
	fi
	say "python$v ($suite) $ver -> $wrapper"
}

if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
	say "apt-get/dpkg not found, nothing fetched"
	exit 0
fi
if ! mirror=$(host_mirror); then
	say "no Debian archive in this machine's apt sources, nothing fetched"
	exit 0
fi
read -r uri key <<<"$mirror"
# apt's state for these suites lives where apt's _apt user can reach it: a cache under
# /root (mode 0700) cannot be. These suites are test-only and a Release file past its
# Valid-Until (sid's, at times) is still fine for them, hence Check-Valid-Until=false.
aptstate=${LEAKD_APT_STATE:-/var/cache/leakd-test/apt}
mkdir -p "$aptstate"
chmod 755 "$aptstate" "$(dirname "$aptstate")"
for w in "${wanted[@]}"; do
	fetch_one "${w%%:*}" "${w#*:}" "$uri" "$key"
done
exit 0
