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
# and those of continuous checkpoints (issue 15), each mode with periodic
# checkpoints (layer1/disktest/cadence.c):
#   checkpoint_pause_us_P, checkpoint_durable_us_P   for P = 1, 64 and 4096: disktest pause,
#                            rounds of P pages dirtied, then a spin until the periodic
#                            checkpoint that holds them is durable (checkpoint=20, and 300
#                            for 4096, longer than a round takes); layer 0's line at exit
#                            "pause mean A us ..., durable mean C us ...", A and C (the
#                            mean over the run's checkpoints; a round whose checkpoint
#                            came while it dirtied, split, stops the benchmark)
#   checkpoint_pause_ratio_P the first over the second (goal: at most 0.1)
#   checkpoint_pause_seen_us_P   the same rounds from layer 1: the mean of each round's
#                            longest gap between two clock reads of its spin
#   checkpoints_per_s        disktest cadence: 16 pages kept dirty for 2 s, checkpoint=1,
#                            the checkpoints made durable per second (goal: at least 100)
#   raw_write_flush_pairs_per_s  10^6 / raw_write_flush_4k_us, the same runs' figure
#   checkpoints_per_s_ratio_to_raw_pairs   (goal: at least 0.5)
#   cow_loop_cp10_ms, cow_loop_cp0_ms   disktest cow: every word of 256 pages written
#                            2000 times, under checkpoint=10 (100 a second) and checkpoint=0
#   cow_overhead             the first over the second (goal: at most 1.25)
# Until layer 0 prints the pause line, the figures from it are left out and
# a line on stderr says they are pending.
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

# The means "A C" of layer 0's line at exit "strata: checkpoint: pause mean A us max B us,
# durable mean C us ...", or nothing while layer 0 does not print it.
pause_means() {
	tr -d '\r' <"$dir/$1.log" |
		sed -nE 's/^strata: checkpoint: pause mean ([0-9.]+) us max [0-9.]+ us, durable mean ([0-9.]+) us.*/\1 \2/p' |
		head -1
}

# One run of the modes of continuous checkpoints: appends to seen[P], pause[P] and
# durable[P] (words of a string each), cps, cow10 and cow0.
continuous() {
	local p m
	for p in 1 64 4096; do
		boot pause$p "${real[@]}" || return 1
		[ "$(pick pause$p ', ([0-9]+) split')" = 0 ] || {
			echo "checkpoint.sh: pause$p: a checkpoint came while a round dirtied its pages" \
				"(split): its figures would not be those of $p pages" >&2
			return 1
		}
		seen[$p]+=" $(pick pause$p 'longest stall mean ([0-9.]+) us')" || return 1
		m=$(pause_means pause$p)
		[ -n "$m" ] && pause[$p]+=" ${m% *}" && durable[$p]+=" ${m#* }"
	done
	boot cadence "${real[@]}" || return 1
	cps+=("$(pick cadence 'checkpoints = ([0-9.]+)/s')") || return 1
	for m in 10 0; do
		boot cow$m "${real[@]}" || return 1
	done
	cow10+=("$(pick cow10 'passes: ([0-9]+) us')") || return 1
	cow0+=("$(pick cow0 'passes: ([0-9]+) us')") || return 1
}

blank "$disk" 4608 288
blank "$rdisk" 1280 80
iso raw "edge" "blkbench=all"
iso commit "commit n=$commits" "checkpoint=0"
iso cp16 "checkpoint mib=16" "checkpoint=0"
iso cp64 "checkpoint mib=64" "checkpoint=0"
iso resume "resume mib=16" "checkpoint=0"
iso resume-fresh "resume mib=16" "checkpoint=0 fresh"
iso pause1 "pause pages=1 n=40" "checkpoint=20"
iso pause64 "pause pages=64 n=40" "checkpoint=20"
iso pause4096 "pause pages=4096 n=8" "checkpoint=300"
iso cadence "cadence pages=16 ms=2000" "checkpoint=1"
iso cow10 "cow pages=256 n=2000" "checkpoint=10"
iso cow0 "cow pages=256 n=2000" "checkpoint=0"
cp "$dir/commit.iso" "$dir/null64m.iso"
cp "$dir/commit.iso" "$dir/null64t.iso"

flush=() write=() commit=() trap_us=() cp16=() cp64=() resume_ms=() fresh_ms=() exit_ms=() n64m=() n64t=()
declare -A seen=() pause=() durable=()
cps=() cow10=() cow0=()
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
	continuous || exit 1
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
pending=""
for p in 1 64 4096; do
	# shellcheck disable=SC2086 # the words are the runs' figures
	if [ -n "${pause[$p]:-}" ]; then
		a=$(median ${pause[$p]}) d=$(median ${durable[$p]})
		echo "checkpoint_pause_us_$p $a us"
		echo "checkpoint_durable_us_$p $d us"
		ratio checkpoint_pause_ratio_$p "$a" "$d"
	else
		pending+=" $p"
	fi
	# shellcheck disable=SC2086
	echo "checkpoint_pause_seen_us_$p $(median ${seen[$p]}) us"
done
[ -n "$pending" ] && echo "checkpoint.sh: layer 0 prints no \"strata: checkpoint: pause mean\" line yet:" \
	"checkpoint_pause_us, checkpoint_durable_us and checkpoint_pause_ratio of$pending pages pending" >&2
c=$(median "${cps[@]}") pairs=$(awk -v f="$f" 'BEGIN { printf "%.1f", f ? 1000000 / f : 0 }')
echo "checkpoints_per_s $c /s"
echo "raw_write_flush_pairs_per_s $pairs /s"
ratio checkpoints_per_s_ratio_to_raw_pairs "$c" "$pairs"
a=$(median "${cow10[@]}") b=$(median "${cow0[@]}")
awk -v a="$a" -v b="$b" 'BEGIN { printf "cow_loop_cp10_ms %.1f ms\ncow_loop_cp0_ms %.1f ms\n", a / 1000, b / 1000 }'
ratio cow_overhead "$a" "$b"
rm -f "$disk" "$rdisk"
