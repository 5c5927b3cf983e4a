#!/usr/bin/env bash
# Builds leakd's Debian package (make deb): the files git knows of (committed or not,
# ignored ones left out) are copied to BUILD/deb/leakd-VERSION and built there with
# dpkg-buildpackage, so debhelper's clean step never touches the working tree's build/.
# Prints the path of the .deb on its last line.
# Usage: scripts/build-deb.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: scripts/build-deb.sh BUILD_DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
for tool in dpkg-buildpackage dh git; do
	command -v "$tool" >/dev/null || {
		echo "build-deb: $tool is missing (run scripts/install-deps.sh deb)" >&2
		exit 1
	}
done
version=$(cd "$repo" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
out=$(mkdir -p "$build/deb" && cd "$build/deb" && pwd)
src=$out/leakd-$version
rm -rf "$src" "$out"/leakd_"$version"_*
mkdir -p "$src"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf -) | tar -xf - -C "$src"
# -b: binary only (the source is this git tree); -us -uc: nothing to sign here.
(cd "$src" && dpkg-buildpackage -b -us -uc -j2 >"$out/build.log" 2>&1) || {
	echo "build-deb: dpkg-buildpackage failed, last lines of $out/build.log:" >&2
	tail -n 15 "$out/build.log" >&2
	exit 1
}
deb=$out/leakd_${version}_${arch}.deb
[ -f "$deb" ] || { echo "build-deb: dpkg-buildpackage did not produce $deb" >&2; exit 1; }
echo "$deb"
