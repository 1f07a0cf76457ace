# tests/bench/lib/disktest.sh: what the disk benchmarks share (sourced; bench.sh
# runs only tests/bench/*.sh, so nothing here is run as a benchmark).
# shellcheck shell=bash

# bench_disk_make DISK [MIB]: DISK made afresh, MIB (256) MiB of real blocks
# (zeros, not a sparse file), so that every benchmark, Strata's and the Linux
# guest's, reads the same kind of disk.
bench_disk_make() {
	rm -f "$1"
	dd if=/dev/zero of="$1" bs=1M count="${2:-256}" status=none
}

# bench_disk_qemu DISK: sets the array bench_disk to QEMU's options for a
# benchmarked disk, the raw image DISK opened with cache=none so every read
# reaches the host's storage, guest RAM preallocated (disk.sh says why).
# Strata's boots (disktest_boot) and the Linux guest's (linux.sh) both take
# it: the ratio of their figures is fair only while their disks match.
bench_disk_qemu() {
	bench_disk=(-drive "file=$1,if=none,id=d0,format=raw,cache=none" -device virtio-blk-pci,drive=d0
		-mem-prealloc)
}

# disktest_boot BUILD DIR DISK NAME ARGS L0ARGS [QEMU.SH OPTIONS...]: one boot
# of disktest with ARGS (and layer 0's L0ARGS) on the raw image DISK, as
# bench_disk_qemu opens it; its log in DIR/NAME.log.  On failure the log's
# tail goes to stderr and it returns 1.
disktest_boot() {
	local build=$1 dir=$2 disk=$3 name=$4 args=$5 l0args=$6
	local images iso=$dir/$name.iso log=$dir/$name.log bench_disk
	shift 6
	images=$(dirname "${BASH_SOURCE[0]}")/../../../images
	bench_disk_qemu "$disk"
	"$images/mkiso.sh" "$iso" "$build/layer0.elf" "$build/layer1/disktest.elf" "$args" "$l0args" \
		>/dev/null || return 1
	"$images/qemu.sh" --iso "$iso" --timeout 300 --log "$log" --quiet "$@" -- "${bench_disk[@]}" \
		2>"$log.err" && return 0
	echo "$(basename "$0"): disktest $args failed:" >&2
	tail -n 20 "$log" "$log.err" >&2
	return 1
}

# median V...: the middle value (the lower middle of an even count).
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
