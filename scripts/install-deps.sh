#!/usr/bin/env bash
# Installs what leakd needs from Debian's archive, and nothing when it is all there already,
# so `make demo` and `make check` can run on a fresh Debian 12 machine as their first command.
# Usage: scripts/install-deps.sh [build|deb|test]
#   deb: also what `make deb` needs; test: also what the test suite needs (the package included)
set -euo pipefail
want=(clang llvm make gcc pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libcapstone-dev libsystemd-dev libmicrohttpd-dev python3.11)
mode=${1:-build}
if [ "$mode" = deb ] || [ "$mode" = test ]; then
	# debhelper builds the package (fakeroot is unused: Rules-Requires-Root: no);
	# lintian checks it; dpkg-buildpackage refuses to start without build-essential,
	# an implicit build dependency of every Debian package.
	want+=(debhelper dpkg-dev lintian build-essential)
fi
if [ "$mode" = test ]; then
	# python3: the integration checker; curl: the daemon case's scrapes and queries.
	# libssl-dev, libffi-dev: scripts/build-python.sh's CPython (ssl, ctypes) when pyenv is absent.
	# libdw-dev, python3.11-dbg: test_pylayout_dwarf reads the layout table's offsets from
	# Debian's python3.11 debug information with libdw.
	# systemd-container, debootstrap, procps: the systemd case boots a Debian root in
	# systemd-nspawn (tests/integration/systemd_nspawn.sh).
	# libclang-rt-dev: clang's libFuzzer and ASan runtimes for `make fuzz` (clang only
	# recommends them, and recommends are not installed here).
	# uthash-dev: the baseline build/hashmap_bench compares base/hashmap with (not linked into leakd).
	want+=(libcriterion-dev util-linux prometheus python3 curl libssl-dev libffi-dev libdw-dev python3.11-dbg
		systemd-container debootstrap procps libclang-rt-dev uthash-dev)
fi
missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root or install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
