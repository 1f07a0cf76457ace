#!/bin/bash
# tests/bench/random.sh BUILD: prints "NAME VALUE UNIT" lines for random 4 KiB
# reads through the disk window, with and without prefetch (issue 17), all on
# one 256 MiB raw disk, fully allocated and opened with cache=none so every
# read reaches the host's storage, in 128 MiB of guest RAM: the free area
# (about 220 MiB) is larger than RAM, so the reads miss.  Each figure is the
# median of RUNS boots (STRATA_BENCH_RUNS, 5), the two modes alternating so
# both see the same load; every boot starts with a cold cache.
#   disk_random_fault_per_s     disktest randread n=N prefetch=0: each read a
#                               fault that waits for its own disk read
#   disk_random_prefetch_per_s  the same reads, the page 32 reads ahead named
#                               with strata_prefetch before each read
#   disk_random_prefetch_ratio  their ratio (goal: at least 4)
# Both check every word they read (the disk is blank: zeros).  The names are
# kept for the comparison with a Linux guest's pread and queue-depth-32 rates.
set -u
build=$1
runs=${STRATA_BENCH_RUNS:-5}
n=${STRATA_RANDOM_READS:-16000}
window=32
dir=$build/bench/random
disk=$dir/disk.img
mkdir -p "$dir"
# shellcheck source=lib/disktest.sh
. "$(dirname "$0")/lib/disktest.sh"
bench_disk_make "$disk"

# boot NAME K: one boot of disktest randread with prefetch=K, its log in $dir/NAME.log.
boot() { disktest_boot "$build" "$dir" "$disk" "$1" "randread n=$n prefetch=$2 blank=1" "" --mem 128M --timeout 600; }

rate() { sed -nE 's/.*disktest: randread .* = ([0-9]+) reads\/s.*/\1/p' "$dir/$1.log" | head -1 | tr -d '\r'; }

fault=() pf=()
for k in $(seq "$runs"); do
	boot fault 0 || exit 1
	fault+=("$(rate fault)")
	boot prefetch "$window" || exit 1
	pf+=("$(rate prefetch)")
	# Each pair on stderr: on a loaded host the spread says how far to trust the medians.
	echo "random.sh: run $k: ${fault[-1]} reads/s without prefetch, ${pf[-1]} with" >&2
done
f=$(median "${fault[@]}") p=$(median "${pf[@]}")
echo "disk_random_fault_per_s $f reads/s"
echo "disk_random_prefetch_per_s $p reads/s"
awk -v f="$f" -v p="$p" 'BEGIN { printf "disk_random_prefetch_ratio %.3f x\n", f ? p / f : 0 }'
# 256 MiB of real blocks, not worth keeping.
rm -f "$disk"
