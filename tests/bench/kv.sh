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
# memcached: the ratios use the three above.  And
#   kv_ops_per_s_extsync_c64, kv_p99_us_extsync_c64
# the extsync run again with KV_BENCH_MANY_CONNS connections (64; the name
# says the count): a reply waits for a checkpoint, so each connection's
# rate is bounded by the durable time, and extsync's throughput grows with
# the connections that share one (group commit).  linux.sh measures
# memcached at that count too.
set -u
build=$1
images=$(cd "$(dirname "$0")/../../images" && pwd)
load=$(cd "$(dirname "$0")/../net" && pwd)/kvload.sh
dir=$build/bench/kv
mem=${KV_BENCH_MEM:-128M} seconds=${KV_BENCH_SECONDS:-${STRATA_KV_SECONDS:-20}} conns=${KV_BENCH_CONNS:-16}
many=${KV_BENCH_MANY_CONNS:-64}
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

# measure NAME MODE PAYLOAD CACHE CONNS: one boot, one load of CONNS
# connections; writes "OPS P99" to DIR/NAME.out.  Not run in $(...): its
# QEMU's group must reach the EXIT trap.
measure() {
	local name=$1 mode=$2 payload=$3 cache=() n=$5
	[ -n "$4" ] && cache=(--disk-cache "$4")
	"$images/mkiso.sh" "$dir/$name.iso" "$build/layer0.elf" "$build/layer1/$payload.elf" \
		"durable=$mode exit-after=900" "" >/dev/null || return 1
	rm -f "$dir/$name.img" "$dir/$name.log"
	truncate -s 256M "$dir/$name.img"
	setsid "$images/qemu.sh" --iso "$dir/$name.iso" --mem "$mem" "${cache[@]}" --disk "$dir/$name.img" \
		--net "user,hostfwd=tcp:127.0.0.1:$port-:11211" --log "$dir/$name.log" --quiet \
		</dev/null 2>"$dir/$name.err" &
	netecho_pgid=$!
	if ! netecho_await "$dir/$name.log" '^kvstore: up' 60; then
		echo "kv.sh: $payload durable=$mode never came up" >&2
		tail -n 20 "$dir/$name.log" >&2
		netecho_stop
		return 1
	fi
	"$load" "127.0.0.1:$port" "$seconds" "$n" >"$dir/$name.out"
	local rc=$?
	netecho_stop
	return $rc
}

# NAME:MODE:PAYLOAD:CACHE:CONNS
for m in interval:interval:kvplain::$conns sync:sync:kvplain::$conns extsync:extsync:kvstore::$conns \
	extsync_noflush:extsync:kvstore:unsafe:$conns "extsync_c$many:extsync:kvstore::$many"; do
	IFS=: read -r name mode payload cache n <<<"$m"
	measure "$name" "$mode" "$payload" "$cache" "$n" || exit 1
	# shellcheck disable=SC2046 # two words, split on purpose
	set -- $(cat "$dir/$name.out")
	[ $# = 2 ] || exit 1
	echo "kv_ops_per_s_$name $1 ops/s"
	echo "kv_p99_us_$name $2 us"
	rm -f "$dir/$name.img"
done
