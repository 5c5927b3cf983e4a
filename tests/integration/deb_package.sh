#!/usr/bin/env bash
# The Debian package (make deb) as built: lintian finds nothing at any level (every
# override in debian/leakd.lintian-overrides says why), its name and Version match the
# version its own binary prints, /etc/leakd/leakd.conf is a conffile, the unit is where
# dh_installsystemd handles it and starts the packaged binary, and the man page, docs,
# alert rules and Grafana dashboard are in it.
# Usage: deb_package.sh DEB CASE_DIR
# Prints one line "PASS|FAIL name: detail" first, then details.
set -uo pipefail
deb=$1 d=$2
name=deb/package
say() { echo "$1 $name: $2"; }
[ -f "$deb" ] || { say FAIL "no package at '$deb' (make deb builds it)"; exit 0; }
for tool in lintian dpkg-deb; do
	command -v "$tool" >/dev/null || { say FAIL "$tool is missing (scripts/install-deps.sh test)"; exit 0; }
done
mkdir -p "$d"
rm -rf "$d/root" "$d/control"

fails=()
fail() { fails+=("$*"); }

# Every tag lintian knows, pedantic ones included, fails the case unless overridden.
lintian --fail-on error,warning,info,pedantic --info --pedantic "$deb" >"$d/lintian.out" 2>"$d/lintian.err"
lrc=$?
[ $lrc -eq 0 ] || fail "lintian exit $lrc: $(grep -E '^[EWIP]: ' "$d/lintian.out" | head -n 3 | tr '\n' ' ')"

dpkg-deb -c "$deb" >"$d/contents" || fail "dpkg-deb -c failed"
dpkg-deb -x "$deb" "$d/root" && dpkg-deb -e "$deb" "$d/control" || fail "cannot unpack $deb"

# Version: the binary's own --version is the truth the package name must follow.
bin=$d/root/usr/bin/leakd
ver_out=$("$bin" --version 2>&1)
bin_ver=${ver_out#leakd }
pkg_ver=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
[ -n "$bin_ver" ] && [ "$ver_out" = "leakd $bin_ver" ] || fail "usr/bin/leakd --version printed '$ver_out'"
[ "${pkg_ver%%-*}" = "$bin_ver" ] || fail "package Version $pkg_ver, binary says $bin_ver"
[ "$(basename "$deb")" = "leakd_${pkg_ver}_${arch}.deb" ] ||
	fail "file name $(basename "$deb"), want leakd_${pkg_ver}_${arch}.deb"
[ "$arch" = "$(dpkg --print-architecture)" ] || fail "Architecture $arch"

grep -qx /etc/leakd/leakd.conf "$d/control/conffiles" 2>/dev/null ||
	fail "/etc/leakd/leakd.conf is not a conffile (conffiles: $(tr '\n' ' ' <"$d/control/conffiles" 2>/dev/null))"
cmp -s "$d/root/etc/leakd/leakd.conf" systemd/leakd.conf 2>/dev/null ||
	fail "etc/leakd/leakd.conf differs from systemd/leakd.conf"

unit=$d/root/lib/systemd/system/leakd.service
if [ -f "$unit" ]; then
	exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
	[ "${exec_start%% *}" = /usr/bin/leakd ] || fail "the unit starts '${exec_start%% *}', the package ships /usr/bin/leakd"
	# Everything else is the repository's unit, line for line.
	diff <(grep -v '^ExecStart=' "$unit") <(grep -v '^ExecStart=' systemd/leakd.service) >/dev/null ||
		fail "the packaged unit differs from systemd/leakd.service beyond ExecStart"
else
	fail "no lib/systemd/system/leakd.service"
fi
# Not enabled by the package: the maintainer scripts never call enable unconditionally
# (the booted check in tests/integration/systemd_nspawn.sh installs it and asks systemd).
grep -q 'deb-systemd-helper enable' "$d/control/postinst" 2>/dev/null &&
	! grep -q 'was-enabled' "$d/control/postinst" && fail "postinst enables leakd.service"

for f in usr/share/man/man8/leakd.8.gz usr/share/doc/leakd/alerts.yml usr/share/doc/leakd/leakd.conf \
	usr/share/doc/leakd/README.md.gz usr/share/doc/leakd/metrics.md.gz usr/share/doc/leakd/fleet.md.gz \
	usr/share/doc/leakd/leakd.json usr/share/doc/leakd/copyright; do
	[ -f "$d/root/$f" ] || fail "no $f in the package"
done
cmp -s "$d/root/usr/share/doc/leakd/alerts.yml" docs/alerts.yml || fail "usr/share/doc/leakd/alerts.yml differs from docs/alerts.yml"
cmp -s "$d/root/usr/share/doc/leakd/leakd.json" docs/grafana/leakd.json || fail "usr/share/doc/leakd/leakd.json differs from docs/grafana/leakd.json"
zcat "$d/root/usr/share/man/man8/leakd.8.gz" 2>/dev/null | cmp -s - docs/leakd.8 || fail "the man page differs from docs/leakd.8"

if [ ${#fails[@]} -gt 0 ]; then
	say FAIL "${fails[0]}${fails[1]:+ (and ${#fails[@]} more)}"
	printf '  %s\n' "${fails[@]}"
else
	say PASS "$(basename "$deb"): lintian clean at every level ($(grep -c '^leakd: ' debian/leakd.lintian-overrides) explained overrides), binary says $ver_out, conffile /etc/leakd/leakd.conf, unit lib/systemd/system/leakd.service -> /usr/bin/leakd, man page, docs, alerts.yml, Grafana dashboard"
fi
exit 0
