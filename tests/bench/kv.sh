#!/bin/bash
# tests/bench/kv.sh BUILD: prints "NAME VALUE UNIT" lines for kvstore under
# load, one QEMU per durability mode, each on a fresh disk, all in the same
# machine configuration (KV_BENCH_MEM of RAM, default 128M as the Linux guest; a 256 MiB raw
# disk with QEMU's default cache; virtio-net on QEMU's user network with a
# host port forwarded to 11211), the one a Linux guest's memcached is
# measured in for kv_vs_memcached_ratio_*:
#   kv_ops_per_s_MODE   requests per second (memcaslap's TPS)
#   kv_p99_us_MODE      the upper bound of memcaslap's log2 latency bucket
#                       holding the 99th percentile (a power of two)
# for MODE interval and sync (payload kvplain) and extsync (kvstore), from
# tests/net/kvload.sh: memcaslap, TCP, 90% get and 10% set of 1 KiB values,
# KV_BENCH_CONNS connections (16) for KV_BENCH_SECONDS (STRATA_KV_SECONDS, 20,
# as linux.sh's memcached load).  And
#   kv_ops_per_s_extsync_noflush, kv_p99_us_extsync_noflush
# the extsync run again with the disk's cache `unsafe`: the guest's flushes
# then cost the host nothing, which shows what kvstore and layer 0 cost
# apart from this host's fdatasync (most of a checkpoint's durable time
# here, where other QEMUs share the disk), as on a disk whose flush is
# cheap (one with power-loss protection).  Not a figure to compare with
# memcached: the ratios use the three above.
set -u
build=$1
images=$(cd "$(dirname "$0")/../../images" && pwd)
load=$(cd "$(dirname "$0")/../net" && pwd)/kvload.sh
dir=$build/bench/kv
mem=${KV_BENCH_MEM:-128M} seconds=${KV_BENCH_SECONDS:-${STRATA_KV_SECONDS:-20}} conns=${KV_BENCH_CONNS:-16}
mkdir -p "$dir"
for p in kvstore kvplain; do
	[ -f "$build/layer1/$p.elf" ] || { echo "kv.sh: $build/layer1/$p.elf not built" >&2; exit 1; }
done
command -v memcaslap >/dev/null || { echo "kv.sh: no memcaslap (images/deps.sh)" >&2; exit 1; }
port=$((30500 + ($$ % 200) * 2))
# netecho_stop ends the QEMU started here (its process group in netecho_pgid).
# shellcheck source=../net/netecho.sh
. "$(dirname "$0")/../net/netecho.sh"
trap netecho_stop EXIT

# measure MODE PAYLOAD [CACHE]: one boot, one load; writes "OPS P99" to
# DIR/MODE.out.  Not run in $(...): its QEMU's group must reach the EXIT trap.
measure() {
	local mode=$1 payload=$2 cache=()
	[ -n "${3:-}" ] && cache=(--disk-cache "$3")
	"$images/mkiso.sh" "$dir/$mode.iso" "$build/layer0.elf" "$build/layer1/$payload.elf" \
		"durable=$mode exit-after=900" "" >/dev/null || return 1
	rm -f "$dir/$mode.img" "$dir/$mode.log"
	truncate -s 256M "$dir/$mode.img"
	setsid "$images/qemu.sh" --iso "$dir/$mode.iso" --mem "$mem" "${cache[@]}" --disk "$dir/$mode.img" \
		--net "user,hostfwd=tcp:127.0.0.1:$port-:11211" --log "$dir/$mode.log" --quiet \
		</dev/null 2>"$dir/$mode.err" &
	netecho_pgid=$!
	if ! netecho_await "$dir/$mode.log" '^kvstore: up' 60; then
		echo "kv.sh: $payload durable=$mode never came up" >&2
		tail -n 20 "$dir/$mode.log" >&2
		netecho_stop
		return 1
	fi
	"$load" "127.0.0.1:$port" "$seconds" "$conns" >"$dir/$mode.out"
	local rc=$?
	netecho_stop
	return $rc
}

for m in interval:kvplain: sync:kvplain: extsync:kvstore: extsync:kvstore:unsafe; do
	IFS=: read -r mode payload cache <<<"$m"
	measure "$mode" "$payload" "$cache" || exit 1
	# shellcheck disable=SC2046 # two words, split on purpose
	set -- $(cat "$dir/$mode.out")
	[ $# = 2 ] || exit 1
	name=$mode${cache:+_noflush}
	echo "kv_ops_per_s_$name $1 ops/s"
	echo "kv_p99_us_$name $2 us"
	rm -f "$dir/$mode.img"
done
