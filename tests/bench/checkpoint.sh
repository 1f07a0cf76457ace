#!/bin/bash
# tests/bench/checkpoint.sh BUILD: prints "NAME VALUE UNIT" lines for the
# checkpoint figures of issue 14, each beside the floor it is measured
# against, all in this run on one QEMU set-up: disktest's modes with the
# layer-0 option checkpoint=0 (so the only checkpoints are the commits; each
# mode says how many its work took, and a figure that was not one checkpoint
# per commit stops the benchmark), raw disks opened with cache=none as in
# disk.sh (the blocks written allocated beforehand: blank() says which),
# 128 MiB of RAM preallocated.
#   commit_1page_us          disktest commit: a store to one page, then a commit (median)
#   commit_1page_trap_us     the commit trap of those rounds alone (the rest is the store,
#                            which finds the page journaled and has layer 0 write it home)
#   raw_write_flush_4k_us    layer 0's blkbench=flush4k: a 4 KiB write, then a flush (median)
#   commit_ratio_to_raw      the first over the second (goal: at most 1.5)
#   checkpoint_16MiB_MBps    disktest checkpoint: 16 MiB dirtied, the one commit timed
#   checkpoint_64MiB_MBps    the same, 64 MiB
#   disk_raw_write_MBps      blkbench=write: 64 MiB at the disk's end, 16 x 1 MiB in flight, then a flush
#   checkpoint_16MiB_ratio_to_raw, checkpoint_64MiB_ratio_to_raw (goal: at least 0.8)
#   resume_ms                disktest resume: a 16 MiB checkpoint the newest, QEMU killed
#                            (SIGKILL), booted again: layer 0's first line to the resumed
#                            payload's first line (the 16 MiB replayed home on the way)
#   fresh_boot_ms            the same cut again, booted with "fresh": layer 0's first line
#                            to the payload's first (the same replay on the way)
#   resume_ratio_to_fresh
#   fresh_boot_after_exit_ms that second cut's own boot: a fresh start after the resumed run
#                            exited, with the journal as that exit left it
#   commit_1page_null64MiB_us, commit_1page_null64TiB_us   commit on QEMU null-co disks of
#                            64 MiB and 64 TiB (no host I/O: layer 0's own cost); the
#                            fastest run's median, as huge.sh takes, since the load of a
#                            shared host only ever adds and a 10% goal is within its noise
#   commit_null_64TiB_ratio_to_64MiB   (goal: within 10%, 0.9 to 1.1)
# One record holds at most a quarter of the journal (layer0/checkpoint.c),
# and the journal is a sixteenth of the disk, so the commits run on a 4.5
# GiB disk (288 MiB of journal: a 64 MiB checkpoint is one record) and the
# resumes on one of 1.25 GiB (80 MiB: 16 MiB is one).  resume_ms and
# fresh_boot_ms are stamped on the host as each serial line arrives
# (tests/integration/stamped.sh), from layer 0's first line, so the
# firmware and GRUB before it do not count.  Each figure (but the null-co
# ones) is the median of RUNS (STRATA_BENCH_RUNS, 5), the modes alternating
# so that all see the same load.  MB is 10^6 bytes.
set -u
build=$1
images=$(cd "$(dirname "$0")/../../images" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${STRATA_BENCH_RUNS:-5}
dir=$build/bench/checkpoint
mem=128M
commits=200
mkdir -p "$dir"
# shellcheck source=../integration/stamped.sh
. "$here/integration/stamped.sh"

disk=$dir/disk.img rdisk=$dir/resume.img
real=(-drive "file=$disk,if=none,id=d0,format=raw,cache=none" -device virtio-blk-pci,drive=d0 -mem-prealloc)
resumed=(-drive "file=$rdisk,if=none,id=d0,format=raw,cache=none" -device virtio-blk-pci,drive=d0
	-mem-prealloc)
null() { echo "-blockdev driver=null-co,size=$1,read-zeroes=on,node-name=nul0 -device virtio-blk-pci,drive=nul0"; }

# A raw disk of $2 MiB at $1, sparse but for the blocks the runs write (its
# first 96 MiB: head, stack, image and the pages dirtied; and its journal,
# the last $3 MiB), which are allocated and on the host's storage: a first
# write the host must allocate a block for, or a flush that waits for the
# host to write back this set-up, is no cost of Strata's.
blank() {
	rm -f "$1"
	truncate -s "$2M" "$1"
	dd if=/dev/zero of="$1" bs=1M count=96 conv=notrunc,fsync status=none
	dd if=/dev/zero of="$1" bs=1M seek=$(($2 - $3)) count="$3" conv=notrunc,fsync status=none
}

# iso NAME ARGS L0ARGS: disktest's ISO for NAME.
iso() { "$images/mkiso.sh" "$dir/$1.iso" "$build/layer0.elf" "$build/layer1/disktest.elf" "$2" "$3" >/dev/null; }

# boot NAME QEMU-ARGS...: one boot of NAME's ISO, to exit 0, its log in $dir/NAME.log.
boot() {
	local name=$1 log=$dir/$1.log
	shift
	"$images/qemu.sh" --iso "$dir/$name.iso" --mem $mem --timeout 300 --log "$log" --quiet -- "$@" \
		2>"$log.err" && return 0
	echo "checkpoint.sh: disktest $name failed:" >&2
	tail -n 20 "$log" "$log.err" >&2
	return 1
}

# The group of the extended regex $2 on the first line of $1's log that matches it, or a
# complaint and a failure.
pick() {
	local v
	v=$(sed -nE "s|.*$2.*|\\1|p" "$dir/$1.log" | head -1 | tr -d '\r')
	[ -n "$v" ] && echo "$v" && return 0
	echo "checkpoint.sh: $1.log has no line /$2/" >&2
	return 1
}

# Fails, saying why, unless $1's log has a line matching $2: the figure was one checkpoint per commit.
one_each() {
	tr -d '\r' <"$dir/$1.log" | grep -qE "$2" && return 0
	echo "checkpoint.sh: $1 did not take one checkpoint per commit (wanted /$2/):" >&2
	grep '^disktest' "$dir/$1.log" >&2
	return 1
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
fastest() { printf '%s\n' "$@" | sort -g | head -1; }
ratio() { awk -v a="$2" -v b="$3" -v n="$1" 'BEGIN { printf "%s %.3f x\n", n, b ? a / b : 0 }'; }

# cut: a fresh start of disktest resume on the resume disk, cut (SIGKILL) once it has
# committed its 16 MiB; the checkpoint's number, or a complaint and a failure.
cut() {
	stamped_boot "$dir/cut.log" 'waiting for a cut' --iso "$dir/resume-fresh.iso" --mem $mem \
		--timeout 120 -- "${resumed[@]}"
	pick cut 'committed in checkpoint ([0-9]+), waiting'
}

# One cut and resume, then one cut and fresh start ("fresh"), on the same disk:
# appends the ms from layer 0's first line to the payload's to resume_ms and
# fresh_ms, and that of the second cut's boot (after the resumed run exited) to exit_ms.
resume_and_fresh() {
	local s
	s=$(cut) || return 1
	stamped_boot "$dir/resumed.log" '' --iso "$dir/resume.iso" --mem $mem --timeout 120 \
		-- "${resumed[@]}" ||
		{ echo "checkpoint.sh: the resumed boot failed:" >&2; tail -n 20 "$dir/resumed.log" >&2; return 1; }
	grep -q "resuming checkpoint $s of \"disktest\"" "$dir/resumed.log" ||
		{ echo "checkpoint.sh: the boot after the cut did not resume checkpoint $s" >&2; return 1; }
	resume_ms+=("$(stamp_ms "$dir/resumed.log" '^disktest: resume: resumed')")
	cut >/dev/null || return 1
	exit_ms+=("$(stamp_ms "$dir/cut.log" '^disktest: ')")
	stamped_boot "$dir/fresh.log" '^disktest: ' --iso "$dir/resume-fresh.iso" --mem $mem --timeout 120 \
		-- "${resumed[@]}"
	grep -q 'checkpoint: fresh start' "$dir/fresh.log" ||
		{ echo "checkpoint.sh: the boot with \"fresh\" did not start fresh" >&2; return 1; }
	fresh_ms+=("$(stamp_ms "$dir/fresh.log" '^disktest: ')")
}

blank "$disk" 4608 288
blank "$rdisk" 1280 80
iso raw "edge" "blkbench=all"
iso commit "commit n=$commits" "checkpoint=0"
iso cp16 "checkpoint mib=16" "checkpoint=0"
iso cp64 "checkpoint mib=64" "checkpoint=0"
iso resume "resume mib=16" "checkpoint=0"
iso resume-fresh "resume mib=16" "checkpoint=0 fresh"
cp "$dir/commit.iso" "$dir/null64m.iso"
cp "$dir/commit.iso" "$dir/null64t.iso"

flush=() write=() commit=() trap_us=() cp16=() cp64=() resume_ms=() fresh_ms=() exit_ms=() n64m=() n64t=()
each="$commits checkpoints"
for _ in $(seq "$runs"); do
	boot raw "${real[@]}" || exit 1
	flush+=("$(pick raw 'flush4k: .* median ([0-9.]+) us')") || exit 1
	write+=("$(pick raw 'blkbench: write: .* = ([0-9.]+) MB/s')") || exit 1
	boot commit "${real[@]}" && one_each commit ", $each\$" || exit 1
	commit+=("$(pick commit 'commit 1 page x [0-9]+: median ([0-9.]+) us')") || exit 1
	trap_us+=("$(pick commit 'the trap alone ([0-9.]+) us')") || exit 1
	for m in 16 64; do
		boot cp$m "${real[@]}" && one_each cp$m '0 while dirtying, 1 in the commit' || exit 1
	done
	cp16+=("$(pick cp16 'checkpoint 16 MiB .* = ([0-9.]+) MB/s')") || exit 1
	cp64+=("$(pick cp64 'checkpoint 64 MiB .* = ([0-9.]+) MB/s')") || exit 1
	resume_and_fresh || exit 1
	# shellcheck disable=SC2046 # null's words are split on purpose
	boot null64m $(null $((64 << 20))) && one_each null64m ", $each\$" || exit 1
	# shellcheck disable=SC2046
	boot null64t $(null $((64 << 40))) && one_each null64t ", $each\$" || exit 1
	n64m+=("$(pick null64m 'commit 1 page x [0-9]+: median ([0-9.]+) us')") || exit 1
	n64t+=("$(pick null64t 'commit 1 page x [0-9]+: median ([0-9.]+) us')") || exit 1
done

c=$(median "${commit[@]}") f=$(median "${flush[@]}") w=$(median "${write[@]}")
a=$(median "${cp16[@]}") b=$(median "${cp64[@]}") m=$(fastest "${n64m[@]}") t=$(fastest "${n64t[@]}")
r=$(median "${resume_ms[@]}") s=$(median "${fresh_ms[@]}")
echo "commit_1page_us $c us"
echo "commit_1page_trap_us $(median "${trap_us[@]}") us"
echo "raw_write_flush_4k_us $f us"
ratio commit_ratio_to_raw "$c" "$f"
echo "checkpoint_16MiB_MBps $a MB/s"
echo "checkpoint_64MiB_MBps $b MB/s"
echo "disk_raw_write_MBps $w MB/s"
ratio checkpoint_16MiB_ratio_to_raw "$a" "$w"
ratio checkpoint_64MiB_ratio_to_raw "$b" "$w"
echo "resume_ms $r ms"
echo "fresh_boot_ms $s ms"
ratio resume_ratio_to_fresh "$r" "$s"
echo "fresh_boot_after_exit_ms $(median "${exit_ms[@]}") ms"
echo "commit_1page_null64MiB_us $m us"
echo "commit_1page_null64TiB_us $t us"
ratio commit_null_64TiB_ratio_to_64MiB "$t" "$m"
rm -f "$disk" "$rdisk"
