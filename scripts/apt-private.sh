# Sourced by scripts/fetch-pythons.sh and scripts/build-python.sh: the Debian archive
# this machine's apt sources name (read at run time, never written into the repo), and
# apt run with a private state (sources list, lists, cache) so the host's apt is untouched.

# Prints "URI KEYRING" for the host's main Debian archive (not the security one), read
# from deb822 sources first, then from the one-line format.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
			function flush() {
				if (uris != "" && types ~ /(^| )deb( |$)/ && suites !~ /security/ && !done) {
					split(uris, u, " "); print u[1], (key == "" ? "-" : key); done = 1
				}
				uris = ""; types = ""; suites = ""; key = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "uris:"      { $1 = ""; uris = substr($0, 2) }
			tolower($1) == "types:"     { $1 = ""; types = substr($0, 2) }
			tolower($1) == "suites:"    { $1 = ""; suites = substr($0, 2) }
			tolower($1) == "signed-by:" { key = $2 }
			END { flush() }
		' "$f" | head -n1 | grep . && return 0
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '
			$1 != "deb" { next }
			{ i = 2; key = "-"
			  if ($2 ~ /^\[/) {
				for (; i <= NF; i++) {
					if ($i ~ /^\[?signed-by=/) { key = $i; sub(/^\[?signed-by=/, "", key); sub(/\]$/, "", key) }
					if ($i ~ /\]$/) { i++; break }
				}
			  }
			  if ($(i + 1) ~ /security/) next
			  print $i, key; exit }
		' "$f" | grep . && return 0
	done
	return 1
}

# apt with a private state for one suite: $1 = apt root, rest = apt arguments.
apt_in() {
	local root=$1 tool=$2
	shift 2
	"$tool" -q \
		-o Dir::State="$root/state" \
		-o Dir::State::Lists="$root/lists" \
		-o Dir::State::status="$root/status" \
		-o Dir::Etc::SourceList="$root/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::Cache="$root/cache" \
		-o APT::Get::List-Cleanup=0 \
		-o Acquire::Check-Valid-Until=false \
		"$@"
}
