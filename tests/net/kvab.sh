#!/bin/bash
# tests/net/kvab.sh SECONDS ROUNDS CACHE NAME=DIR[,L0ARGS]...: builds side by
# side under one load.  Each round boots every build in turn (DIR holds
# layer0.elf and layer1/kvstore.elf, e.g. a copy of build/) with kvstore
# durable=extsync and layer 0's profile on (plus L0ARGS), drives it with
# kvload.sh (memcaslap, KVAB_CONNS connections, 16) for SECONDS, lets it exit (its
# exit-after) so that layer 0 prints its checkpoint timings and profile
# (profile.h: txheld, cpdefer, the journal's stages), and prints
# "ROUND NAME OPS_PER_S P99_US".  CACHE is QEMU's disk cache (default, or
# unsafe: the guest's flushes then cost nothing).  Logs stay in
# ${TMPDIR:-/tmp}/kvab.PID/NAME.ROUND.log.  A file DIR/qemu.args adds its
# words to that build's QEMU command line (e.g. -object iothread,...), so
# that QEMU configurations are compared side by side too.  Under TCG on a shared host only
# the ratio of builds in one run means anything.
set -u
[ $# -ge 4 ] || { echo "usage: $0 SECONDS ROUNDS CACHE NAME=DIR[,L0ARGS]..." >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
images=$here/../../images
seconds=$1 rounds=$2 cache=$3
shift 3
out=${TMPDIR:-/tmp}/kvab.$$
mkdir -p "$out"
port=$((31500 + ($$ % 200) * 2))
# shellcheck source=netecho.sh
. "$here/netecho.sh"
trap netecho_stop EXIT
disk_cache=()
[ "$cache" != default ] && disk_cache=(--disk-cache "$cache")

# run NAME DIR L0ARGS ROUND: one boot, one load, one exit.
run() {
	local tag=$out/$1.$4 res extra
	"$images/mkiso.sh" "$tag.iso" "$2/layer0.elf" "$2/layer1/kvstore.elf" \
		"durable=extsync exit-after=$((seconds + 12))" "profile $3" >/dev/null || return 1
	rm -f "$tag.img"
	truncate -s 256M "$tag.img"
	extra=()
	[ -f "$2/qemu.args" ] && read -r -a extra <"$2/qemu.args"
	setsid "$images/qemu.sh" --iso "$tag.iso" --mem 128M "${disk_cache[@]}" --disk "$tag.img" \
		--net "user,hostfwd=tcp:127.0.0.1:$port-:11211" --log "$tag.log" --quiet \
		-- "${extra[@]}" </dev/null 2>"$tag.err" &
	netecho_pgid=$!
	netecho_await "$tag.log" '^kvstore: up' 60 || { echo "kvab: $1 never came up" >&2; return 1; }
	res=$("$here/kvload.sh" "127.0.0.1:$port" "$seconds" "${KVAB_CONNS:-16}") || return 1
	for _ in $(seq 40); do
		kill -0 "$netecho_pgid" 2>/dev/null || break
		sleep 1
	done
	netecho_stop
	rm -f "$tag.img" "$tag.iso"
	echo "$4 $1 $res"
}

for r in $(seq "$rounds"); do
	for spec in "$@"; do
		name=${spec%%=*} rest=${spec#*=}
		dir=${rest%%,*} l0=""
		[ "$rest" != "$dir" ] && l0=${rest#*,}
		run "$name" "$dir" "$l0" "$r" || exit 1
	done
done
echo "kvab: logs in $out" >&2
