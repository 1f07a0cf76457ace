#!/bin/bash
# tests/bench/disk.sh BUILD: prints "NAME VALUE UNIT" lines for the disk
# figures, all measured in this run on one 256 MiB raw disk, fully allocated
# and opened with cache=none so that every read reaches the host's storage
# rather than its page cache.  Each figure is the median of RUNS boots
# (STRATA_BENCH_RUNS, 5), the modes alternating so all see the same load:
#   disk_raw_read_MBps     layer 0's blktest: the whole disk, 4 x 1 MiB requests in flight
#   disk_mapped_seq_MBps   disktest scan: layer 1 reading every word of its free area
#   fault_null_ns          disktest faults: an empty console doorbell
#   fault_hit_ns           disktest faults, faultaround=1: a page in RAM, not mapped
#   fault_miss_ns          disktest faults: a page far from any read before
#   disk_writeback_MBps    disktest writeback: sync of 16 MiB dirtied
# and the ratios mapped/raw and hit/null.  MB is 10^6 bytes.
#
# Guest RAM is preallocated on the host (-mem-prealloc).  Otherwise the first
# DMA into each guest frame waits for the host kernel to fault that memory in:
# the mapped scan fills 120 MiB of fresh frames and paid about 0.7 of its time
# there, while the raw read reuses 4 MiB of buffers and never did.  Real RAM
# has no such cost, so neither figure should carry it.
set -u
build=$1
runs=${STRATA_BENCH_RUNS:-5}
dir=$build/bench/disk
disk=$dir/disk.img
mkdir -p "$dir"
# shellcheck source=lib/disktest.sh
. "$(dirname "$0")/lib/disktest.sh"
# 256 MiB of real blocks, not worth keeping.
bench_disk_make "$disk"

# boot NAME ARGS L0ARGS: one boot of disktest on the disk, its log in $dir/NAME.log.
boot() { disktest_boot "$build" "$dir" "$disk" "$@"; }

# The group of the extended regex $2 on the first line of $1's log that matches it.
pick() { sed -nE "s|.*$2.*|\\1|p" "$dir/$1.log" | head -1 | tr -d '\r'; }

raw=() seq=() null=() hit=() miss=() wb=()
for _ in $(seq "$runs"); do
	boot raw "edge" "blktest" || exit 1
	# "N MiB in T ms", in MB/s.
	raw+=("$(sed -nE 's/.*blk raw read: ([0-9]+) MiB in ([0-9]+) ms.*/\1 \2/p' "$dir/raw.log" \
		| awk '{ printf "%.1f", $1 * 1048576 / 1000 / ($2 ? $2 : 1) }')")
	boot scan "scan" "" || exit 1
	seq+=("$(pick scan 'disktest: scan .* = ([0-9.]+) MB/s')")
	boot faults "faults" "faultaround=1" || exit 1
	null+=("$(pick faults 'fault null ([0-9]+) ns')")
	hit+=("$(pick faults 'fault hit ([0-9]+) ns')")
	miss+=("$(pick faults 'fault miss ([0-9]+) ns')")
	boot writeback "writeback mib=16" "" || exit 1
	wb+=("$(pick writeback 'disktest: writeback .* = ([0-9.]+) MB/s')")
done

r=$(median "${raw[@]}") s=$(median "${seq[@]}") n=$(median "${null[@]}") h=$(median "${hit[@]}")
echo "disk_raw_read_MBps $r MB/s"
echo "disk_mapped_seq_MBps $s MB/s"
awk -v s="$s" -v r="$r" 'BEGIN { printf "disk_mapped_seq_ratio %.3f x\n", r ? s / r : 0 }'
echo "fault_null_ns $n ns"
echo "fault_hit_ns $h ns"
awk -v h="$h" -v n="$n" 'BEGIN { printf "fault_hit_null_ratio %.3f x\n", n ? h / n : 0 }'
echo "fault_miss_ns $(median "${miss[@]}") ns"
echo "disk_writeback_MBps $(median "${wb[@]}") MB/s"
# 256 MiB of real blocks, not worth keeping.
rm -f "$disk"
