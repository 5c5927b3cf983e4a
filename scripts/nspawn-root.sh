#!/usr/bin/env bash
# A Debian 12 root that boots under systemd-nspawn, for tests/integration/systemd_nspawn.sh:
# debootstrap minbase plus systemd (as /sbin/init), dbus, python3 and the runtime
# dependencies of the given leakd package, from the archive this machine's apt sources
# name. Built once per package list into LEAKD_NSPAWN_CACHE (/var/cache/leakd-test/nspawn)
# and reused: the test boots it with --volatile=overlay, so it is never written to.
# Prints the root's path on its last line.
# Usage: scripts/nspawn-root.sh LEAKD_DEB
set -euo pipefail
deb=${1:?usage: scripts/nspawn-root.sh LEAKD_DEB}
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${LEAKD_NSPAWN_CACHE:-/var/cache/leakd-test/nspawn}
suite=bookworm
# shellcheck source=apt-private.sh
. "$repo/scripts/apt-private.sh"

command -v debootstrap >/dev/null || { echo "nspawn-root: debootstrap is missing (scripts/install-deps.sh test)" >&2; exit 1; }
# The package's Depends, first alternative of each, without versions.
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep . | sort -u)
pkgs=$(printf '%s\n' systemd systemd-sysv dbus python3 $deps | sort -u | paste -sd, -)
key=$(printf '%s %s\n' "$suite" "$pkgs" | sha256sum | cut -c1-12)
root=$cache/$suite-$key
if [ -x "$root/lib/systemd/systemd" ] && [ -f "$root/.leakd-complete" ]; then
	echo "$root"
	exit 0
fi
mirror=$(host_mirror) || { echo "nspawn-root: no Debian archive in this machine's apt sources" >&2; exit 1; }
read -r uri keyring <<<"$mirror"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
[ -f "$root/.leakd-complete" ] && { echo "$root"; exit 0; }
tmp=$root.tmp.$$
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "nspawn-root: debootstrap $suite ($pkgs) into $root, a few minutes once" >&2
args=(--variant=minbase "--include=$pkgs")
[ "$keyring" != - ] && args+=("--keyring=$keyring")
if ! debootstrap "${args[@]}" "$suite" "$tmp" "$uri" >"$cache/debootstrap.log" 2>&1; then
	echo "nspawn-root: debootstrap failed: $(tail -n1 "$cache/debootstrap.log")" >&2
	exit 1
fi
# A machine id is made at first boot (each boot is a fresh overlay); no getty on a
# console nobody reads.
: >"$tmp/etc/machine-id"
rm -f "$tmp/etc/systemd/system/getty.target.wants/"*
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
touch "$root/.leakd-complete"
echo "$root"
