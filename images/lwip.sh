#!/bin/bash
# images/lwip.sh BUILD: makes sure Debian's source package lwip is unpacked
# in BUILD/lwip/lwip-VERSION, with the symlink BUILD/lwip/current to it (the
# GNUmakefile's one name for it whatever the version), and prints that
# directory on stdout.  Fetched once; a later run finds it and only says so.
#
# Nothing outside BUILD changes and no mirror is named here: the deb-src
# entries are derived at run time from the machine's own apt sources (the
# one-line *.list files and the deb822 *.sources files), and apt runs with
# its source list, package lists and caches all pointed into BUILD/apt.
set -eu
build=${1:?usage: images/lwip.sh BUILD}
mkdir -p "$build"
build=$(cd "$build" && pwd)
top=$build/lwip
apt=$build/apt

die() { echo "lwip.sh: $*" >&2; exit 1; }

# The unpacked tree, if a previous run left one: lwip-VERSION with its sources.
unpacked() {
	local d
	for d in "$top"/lwip-*/; do
		[ -f "$d/src/core/tcp.c" ] && { echo "${d%/}"; return 0; }
	done
	return 1
}

# One-line sources: "deb [options] URI SUITE COMPONENT...", options kept
# (they carry signed-by).
from_list() {
	sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' "$1"
}

# deb822 sources: one stanza per blank-line-separated block; each stanza with
# Types containing deb gives one deb-src line per URI and suite.
from_sources() {
	awk '
	function flush(   n, nu, s, u, i, j, opt) {
		if (types ~ /(^|[[:space:]])deb([[:space:]]|$)/ && uris != "" && suites != "") {
			opt = signed != "" ? "[signed-by=" signed "] " : ""
			nu = split(uris, u, /[[:space:]]+/)
			n = split(suites, s, /[[:space:]]+/)
			for (j = 1; j <= nu; j++)
				for (i = 1; i <= n; i++)
					if (u[j] != "" && s[i] != "")
						print "deb-src " opt u[j] " " s[i] " " comps
		}
		types = uris = suites = comps = signed = ""
	}
	/^[[:space:]]*#/ { next }
	/^[[:space:]]*$/ { flush(); next }
	{
		key = tolower($1); sub(/:$/, "", key)
		val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
		if (key == "types") types = val
		else if (key == "uris") uris = val
		else if (key == "suites") suites = val
		else if (key == "components") comps = val
		else if (key == "signed-by") signed = val
		else if (key == "enabled" && tolower(val) == "no") types = ""
	}
	END { flush() }' "$1"
}

# Points BUILD/lwip/current at $1 and prints it.
use() {
	ln -sfn "$(basename "$1")" "$top/current"
	echo "$1"
}

if dir=$(unpacked); then
	echo "lwip.sh: using $(basename "$dir") (already unpacked)" >&2
	use "$dir"
	exit 0
fi

command -v dpkg-source >/dev/null || die "dpkg-source is missing: run images/deps.sh (package dpkg-dev)"

mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$top"
: >"$apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] && from_list "$f" >>"$apt/sources.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && from_sources "$f" >>"$apt/sources.list"
done
sort -u -o "$apt/sources.list" "$apt/sources.list"
[ -s "$apt/sources.list" ] || die "no deb entries in /etc/apt/sources.list{,.d}: cannot derive deb-src"

# Every state and cache path into BUILD/apt, so the machine's apt is untouched.
aptopt=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
	-o APT::Sandbox::User=root -o Acquire::Languages=none -o Acquire::Retries=1
	-o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20 -q)

# A source the machine lists may well have no deb-src side (a third-party
# repository): update's errors matter only if lwip cannot be found at all.
apt-get "${aptopt[@]}" update >"$apt/update.log" 2>&1 || true
rm -f "$top"/lwip_*
if ! (cd "$top" && apt-get "${aptopt[@]}" source --download-only lwip) >"$apt/source.log" 2>&1; then
	grep -hE '^(E|W):' "$apt/update.log" "$apt/source.log" | sort -u | sed 's/^/    /' >&2
	die "apt-get source lwip failed, with deb-src entries derived from this machine's apt sources ($apt/sources.list): are the Debian mirrors reachable?"
fi
dsc=$(ls "$top"/lwip_*.dsc 2>/dev/null | head -1)
[ -n "$dsc" ] || die "apt-get source lwip left no .dsc in $top"
ver=$(sed -n 's/^Version: //p' "$dsc" | head -1)
rm -rf "$top/unpack.tmp"
(cd "$top" && dpkg-source -x "$(basename "$dsc")" unpack.tmp) >"$apt/unpack.log" 2>&1 ||
	{ sed 's/^/    /' "$apt/unpack.log" >&2; die "dpkg-source -x $dsc failed"; }
upstream=${ver#*:}
upstream=${upstream%-*}
rm -rf "$top/lwip-$upstream"
mv "$top/unpack.tmp" "$top/lwip-$upstream"
echo "lwip.sh: got Debian lwip $ver in $top/lwip-$upstream" >&2
use "$top/lwip-$upstream"
