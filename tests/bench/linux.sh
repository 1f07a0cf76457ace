#!/bin/bash
# tests/bench/linux.sh BUILD: prints "NAME VALUE UNIT" lines for a Linux
# guest, the yardstick of issues 16 and 17: Debian's kernel with an
# initramfs of Debian's memcached, busybox and our static tools
# (images/linux-initramfs.sh), booted by images/qemu.sh in the machine
# Strata's benchmarks use (q35, TCG, 128 MiB, virtio-net-pci on QEMU's user
# network, virtio-blk-pci), each figure measured the way Strata's is:
#   linux_udp_echo_rtt_us     tests/net/udpecho, 3000 datagrams one in
#                             flight, median round trip, to tests/linux/
#                             udpechod on the guest's port 7: as
#                             net_udp_echo_rtt_us (tests/bench/net.sh);
#                             in 10 batches of 300, each after a batch to
#                             Strata's netecho, booted beside the guest
#   net_udp_rtt_ratio_to_linux  the median of those pairs' ratios (the
#                             batch to netecho over the batch to Linux):
#                             both measured in the same seconds, so that a
#                             load on the machine weighs on both alike
#   linux_memcached_ops_per_s tests/net/kvload.sh, memcaslap's load for
#   linux_memcached_p99_us    STRATA_KV_SECONDS (20) against memcached (its
#                             Debian defaults: 4 threads, 64 MiB) through a
#                             forwarded port, as kvstore's kv_ops_per_s_*
#   linux_memcached_ops_per_s_c64, linux_memcached_p99_us_c64  the same
#                             load again with KV_BENCH_MANY_CONNS (64)
#                             connections, as kv_ops_per_s_extsync_c64
#   linux_randread_qd1_per_s  tests/linux/randread on a 256 MiB raw disk,
#   linux_randread_qd32_per_s fully allocated, cache=none, -mem-prealloc
#                             (tests/bench/random.sh's disk): random 4 KiB
#                             O_DIRECT reads for 5 s by one thread's pread,
#                             then for 5 s 32 in flight through io_uring;
#                             a read that never completes fails the
#                             script within seconds, named in its report
# Each is the median of RUNS boots of each kind (STRATA_BENCH_RUNS, 3).
# Without the guest's Debian packages it prints a skip line on stderr, no
# figures, and exits 0 (images/deps.sh installs them).
set -u
build=$1
images=$(cd "$(dirname "$0")/../../images" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${STRATA_BENCH_RUNS:-3}
kvsecs=${STRATA_KV_SECONDS:-20}
many=${KV_BENCH_MANY_CONNS:-64}
secs=5
dir=$build/bench/linux
bin=$build/bin
disk=$dir/disk.img
mkdir -p "$dir"
[ -x "$bin/udpecho" ] || { echo "linux.sh: $bin/udpecho not built" >&2; exit 1; }
[ -f "$build/layer1/netecho.elf" ] || { echo "linux.sh: $build/layer1/netecho.elf not built" >&2; exit 1; }
# shellcheck source=../linux/guest.sh
. "$here/linux/guest.sh"
# shellcheck source=lib/disktest.sh
. "$here/bench/lib/disktest.sh"	# median, bench_disk_make, bench_disk_qemu
linux_build 2>"$dir/build.err"
case $? in
0) ;;
3) echo "linux.sh: skip, no Linux guest: $(cat "$dir/build.err")" >&2; exit 0 ;;
*) echo "linux.sh: the Linux guest did not build:" >&2; cat "$dir/build.err" >&2; exit 1 ;;
esac
# Ports of this script's own range (32000..32499), from our pid: the
# guest's UDP echo and memcached, and netecho's echo.
port=$((32000 + ($$ % 125) * 4))
strata_pgid=""

# Strata's netecho and the Linux guest both stopped (netecho.sh's
# netecho_stop serves both: each is one process group).
guests_stop() {
	netecho_stop
	netecho_pgid=$strata_pgid
	netecho_stop
	strata_pgid=""
}
trap guests_stop EXIT

# echo_batch PORT FILE: 300 datagrams to PORT, their median round trip.
echo_batch() {
	"$bin/udpecho" -p "$1" -n 300 -w 1 >"$2" 2>&1 ||
		{ echo "linux.sh: the echo on port $1 failed:" >&2; cat "$2" >&2; return 1; }
	sed -nE 's/.* rtt_median_us ([0-9]+) .*/\1/p' "$2"
}

# The round trips, netecho's and the guest's in turn, 10 batches each, into
# net()'s boot_rtt and boot_ratio.
echo_pairs() {
	local s l
	for _ in $(seq 10); do
		s=$(echo_batch "$((port + 2))" "$dir/rtt-strata.out") &&
			l=$(echo_batch "$port" "$dir/rtt.out") || return 1
		boot_rtt+=("$l")
		boot_ratio+=("$(awk -v s="$s" -v l="$l" 'BEGIN { printf "%.4f", s / l }')")
	done
}

# One boot of mode=net, with netecho up beside it for the echo; then
# memcached, netecho stopped.  Its figures join the others only once all
# of them were measured, so that a failed boot can be run again.
net() {
	local boot_rtt=() boot_ratio=() kv kv_many
	netecho_start "$dir" strata "" "user,hostfwd=udp:127.0.0.1:$((port + 2))-:7" || return 1
	strata_pgid=$netecho_pgid
	netecho_await "$dir/strata.log" '^netecho: up' 60 ||
		{ echo "linux.sh: netecho never came up" >&2; tail -n 20 "$dir/strata.log" >&2; return 1; }
	linux_start "$dir" net "user,hostfwd=udp:127.0.0.1:$port-:7,hostfwd=tcp:127.0.0.1:$((port + 1))-:11211"
	linux_up "$dir" net 180 ||
		{ echo "linux.sh: the guest never came up" >&2; tail -n 20 "$dir/net.log" "$dir/net.err" >&2; return 1; }
	echo_pairs || return 1
	local linux=$netecho_pgid
	netecho_pgid=$strata_pgid
	netecho_stop
	strata_pgid="" netecho_pgid=$linux
	kv=$("$here/net/kvload.sh" "127.0.0.1:$((port + 1))" "$kvsecs") &&
		kv_many=$("$here/net/kvload.sh" "127.0.0.1:$((port + 1))" "$kvsecs" "$many") ||
		{ echo "linux.sh: memcached's load failed; the guest's last lines:" >&2
		  tail -n 5 "$dir/net.log" >&2; return 1; }
	netecho_stop
	rtt+=("${boot_rtt[@]}") rtt_ratio+=("${boot_ratio[@]}")
	ops+=("${kv% *}") p99+=("${kv#* }") ops_many+=("${kv_many% *}") p99_many+=("${kv_many#* }")
}

# One boot of mode=disk: randread at depth 1, then 32 (O_DIRECT and
# cache=none: no cache between it and the host's storage, the disk opened
# as Strata's benchmarks open theirs, lib/disktest.sh).  The guest powers
# itself off after "linux: done".  A read that never completes is named by
# randread's watchdog ("randread: depth D stalled: ...", tests/linux/
# randread.c) within 10 s, and the boot is ended then; one that says
# nothing at all is ended after disk_limit seconds.  Either way the reason
# is the first line of the report.
disk_limit=$((2 * secs + 120))
disk() {
	local bench_disk why
	bench_disk_qemu "$disk"
	rm -f "$dir/disk.log"
	setsid "$images/qemu.sh" "${linux_boot[@]}" --append "$linux_append mode=disk secs=$secs" \
		--log "$dir/disk.log" --quiet -- "${bench_disk[@]}" </dev/null 2>"$dir/disk.log.err" &
	netecho_pgid=$!
	netecho_await "$dir/disk.log" '^(linux: (done|randread failed)|randread: depth [0-9]+ stalled)' "$disk_limit"
	netecho_stop
	grep -aq '^linux: done' "$dir/disk.log" && {
		qd1+=("$(sed -nE 's/^randread: depth 1 .* per_s ([0-9]+).*/\1/p' "$dir/disk.log")")
		qd32+=("$(sed -nE 's/^randread: depth 32 .* per_s ([0-9]+).*/\1/p' "$dir/disk.log")")
		return 0
	}
	why=$(grep -a '^randread: ' "$dir/disk.log" | grep -av ' per_s ' | head -n 1)
	[ -n "$why" ] || grep -aq '^linux: randread failed' "$dir/disk.log" || why="no result within ${disk_limit} s"
	echo "linux.sh: randread failed: ${why:-see below}" >&2
	tail -n 20 "$dir/disk.log" "$dir/disk.log.err" >&2
	return 1
}

# The disk random.sh's reads (lib/disktest.sh).
bench_disk_make "$disk"
rtt=() rtt_ratio=() ops=() p99=() ops_many=() p99_many=() qd1=() qd32=()
# A net boot that fails is run once more on a fresh boot, said on stderr:
# the guest's virtio-net TX queue was seen to stop under memcaslap's load
# (its kernel's "NETDEV WATCHDOG: transmit queue 0 timed out"), twice in
# one session, a fault of the yardstick's, not of what it measures.
for _ in $(seq "$runs"); do
	net || { guests_stop; echo "linux.sh: the net boot failed: once more, on a fresh boot" >&2; net; } ||
		exit 1
	disk || exit 1
done
rm -f "$disk"
echo "linux_udp_echo_rtt_us $(median "${rtt[@]}") us"
echo "net_udp_rtt_ratio_to_linux $(median "${rtt_ratio[@]}" | awk '{ printf "%.3f", $1 }') x"
echo "linux_memcached_ops_per_s $(median "${ops[@]}") ops/s"
echo "linux_memcached_p99_us $(median "${p99[@]}") us"
echo "linux_memcached_ops_per_s_c$many $(median "${ops_many[@]}") ops/s"
echo "linux_memcached_p99_us_c$many $(median "${p99_many[@]}") us"
echo "linux_randread_qd1_per_s $(median "${qd1[@]}") reads/s"
echo "linux_randread_qd32_per_s $(median "${qd32[@]}") reads/s"
