#!/bin/bash
# tests/bench/disk.sh BUILD: prints "NAME VALUE UNIT" lines for the disk
# figures, all measured in this run on raw disks fully allocated and opened
# with cache=none so that every read reaches the host's storage rather than
# its page cache.  The modes' boots alternate, RUNS rounds of them
# (STRATA_BENCH_RUNS, 5), so all see the same load:
#   disk_raw_read_MBps     layer 0's blktest: the whole disk, 4 x 1 MiB requests in flight
#   disk_mapped_seq_MBps   disktest scan: layer 1 reading every word of its free area
#   fault_null_ns          disktest faults: an empty console doorbell
#   fault_hit_ns           disktest faults, faultaround=1: a page in RAM, not mapped
#   fault_miss_ns          disktest faults: a page far from any read before
#   disk_writeback_MBps    disktest writeback: sync of 16 MiB dirtied
#   disk_scan_loop_MBps    the scan's own loop over 32 MiB still in RAM and
#                          mapped (its "rescan"): the most a mapped scan can
#                          reach under this emulator, however fast the pager
#   disk_scan_after_random_MBps
#                          disktest randscan: the same scan after 40000
#                          random reads filled the cache with 4 KiB pages
# and the ratios mapped/raw, hit/null and after-random/mapped (how much of
# the scan's speed survives a random workload before it: streams must still
# get their 2 MiB pages, pager_compact.c).  MB is 10^6 bytes.
#
# The raw read and the scan: PASSES passes in each boot (STRATA_DISK_PASSES,
# 5), the same count on both sides, on a 512 MiB disk of their own; each
# rate is the median of all the passes of all the rounds, and the ratio is
# that of the two medians.  One pass takes 0.1-0.3 s, and on a shared host
# a few ms of descheduling move a single pass's rate by 15-30%: with one
# pass per boot (before this method) two pairs a few minutes apart gave
# ratios from 0.42 to 1.75.  The disk is twice the size of the others so
# that its free area (462 MiB) is more than twice the cache (121 MiB in
# 128 MiB of RAM): every pass then misses on every page, none finding the
# end of the pass before still cached (the pager's read count says so).
# The first scan pass fills free memory, the later ones evict as they go.
# Each round's medians and ratio go to stderr, to show the spread.
#
# Guest RAM is preallocated on the host (-mem-prealloc).  Otherwise the first
# DMA into each guest frame waits for the host kernel to fault that memory in:
# the mapped scan fills 120 MiB of fresh frames and paid about 0.7 of its time
# there, while the raw read reuses 4 MiB of buffers and never did.  Real RAM
# has no such cost, so neither figure should carry it.
set -u
build=$1
runs=${STRATA_BENCH_RUNS:-5}
passes=${STRATA_DISK_PASSES:-5}
dir=$build/bench/disk
disk=$dir/disk.img
big=$dir/scan.img
mkdir -p "$dir"
# shellcheck source=lib/disktest.sh
. "$(dirname "$0")/lib/disktest.sh"
# 256 and 512 MiB of real blocks, not worth keeping.
bench_disk_make "$disk"
bench_disk_make "$big" 512

# boot NAME ARGS L0ARGS: one boot of disktest on the disk, its log in $dir/NAME.log.
boot() { disktest_boot "$build" "$dir" "$disk" "$@"; }
# boot_big NAME ARGS L0ARGS: the same on the 512 MiB disk.
boot_big() { disktest_boot "$build" "$dir" "$big" "$@"; }

# The group of the extended regex $2 on the first line of $1's log that matches it.
pick() { sed -nE "s|.*$2.*|\\1|p" "$dir/$1.log" | head -1 | tr -d '\r'; }

raw=() seq=() loop=() after=() null=() hit=() miss=() wb=()
for k in $(seq "$runs"); do
	boot_big raw "edge" "blktest rawpasses=$passes" || exit 1
	# Each pass's "N MiB in T ms", in MB/s.
	mapfile -t rp < <(sed -nE 's/.*blk raw read: ([0-9]+) MiB in ([0-9]+) ms.*/\1 \2/p' "$dir/raw.log" \
		| awk '{ printf "%.1f\n", $1 * 1048576 / 1000 / ($2 ? $2 : 1) }')
	boot_big scan "scan passes=$passes" "" || exit 1
	mapfile -t sp < <(sed -nE 's/.*disktest: scan .* = ([0-9.]+) MB\/s.*/\1/p' "$dir/scan.log" | tr -d '\r')
	if [ "${#rp[@]}" -ne "$passes" ] || [ "${#sp[@]}" -ne "$passes" ]; then
		echo "disk.sh: round $k: ${#rp[@]} raw and ${#sp[@]} scan passes, not $passes" >&2
		exit 1
	fi
	raw+=("${rp[@]}") seq+=("${sp[@]}")
	loop+=("$(pick scan 'disktest: rescan .* = ([0-9.]+) MB/s')")
	boot_big randscan "randscan n=40000 prefetch=32 blank=1 passes=2" "" || exit 1
	mapfile -t ap < <(sed -nE 's/.*disktest: scan .* = ([0-9.]+) MB\/s.*/\1/p' "$dir/randscan.log" | tr -d '\r')
	[ "${#ap[@]}" -eq 2 ] || { echo "disk.sh: round $k: ${#ap[@]} scan passes after the random reads, not 2" >&2; exit 1; }
	after+=("${ap[@]}")
	awk -v k="$k" -v r="$(median "${rp[@]}")" -v s="$(median "${sp[@]}")" 'BEGIN {
		printf "disk.sh: round %d: raw %s MB/s, scan %s MB/s, ratio %.3f\n", k, r, s, r ? s / r : 0 }' >&2
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
echo "disk_scan_loop_MBps $(median "${loop[@]}") MB/s"
a=$(median "${after[@]}")
echo "disk_scan_after_random_MBps $a MB/s"
awk -v a="$a" -v s="$s" 'BEGIN { printf "disk_scan_after_random_ratio %.3f x\n", s ? a / s : 0 }'
rm -f "$disk" "$big"
