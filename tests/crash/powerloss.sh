#!/bin/bash
# tests/crash/powerloss.sh BUILD N: N power cuts with a volatile disk cache.
# One run of the counter (every=1, steps=S, layer 0's checkpoint=0) goes
# through QEMU's blklogwrites driver, which logs every write and flush
# (../shared/notes/blklogwrites.md).  mkcrash then builds N crash images from
# the log, each every write before a random flush K plus a random subset,
# torn by sector, of those after it, and each image is booted with the same
# ISO: it must resume at a committed state and run on to its exit.
#
# What was committed before a cut comes from the log, not the serial output:
# `mkcrash LOG seals` gives, for each flush K, the newest checkpoint seal and
# record head logged before it.  After a fresh start with checkpoint=0,
# checkpoint j is the j-th commit (counter j) and S + 1 the final one of the
# exit.  A cut between flushes K and K + 1 comes after every commit sealed
# before flush K, and after commit j whenever record j + 1's head was logged
# before flush K + 1 (layer 1 ran on after j returned), so the boot must
# start at the newest of those or later (a fresh start at S when the exit's
# checkpoint is the one), and at no value past the newest seal logged before
# flush K + 1.  A journal that let a commit return before its seal was
# flushed fails here.  Ends with the line
# "powerloss: cuts: N, resumed: N, lost commits: 0, inconsistent: 0"; exit 0
# when it says so.
set -u
build=${1:-build} n=${2:-20} kind=powerloss
steps=${STEPS:-40}
. "$(dirname "$0")/lib.sh"
mkcrash=$build/bin/mkcrash
mkdir -p "$out/cuts"

fail() { echo "  $kind: $1" >&2; summary 0 0 0 0 0; exit 1; }

crash_prepare "every=1 steps=$steps" "checkpoint=0"
cp --sparse=always "$out/disk.img" "$out/base.img"
: >"$out/log.bin"
"$images/qemu.sh" --iso "$out/counter.iso" --mem 128M --timeout 120 --log "$out/logged.log" --quiet -- \
	-blockdev "driver=file,filename=$out/disk.img,node-name=base,cache.no-flush=on" \
	-blockdev "driver=file,filename=$out/log.bin,node-name=logf,cache.no-flush=on" \
	-blockdev driver=blklogwrites,file=base,log=logf,node-name=lw,log-sector-size=512,log-super-update-interval=1 \
	-device virtio-blk-pci,drive=lw,request-merging=off </dev/null 2>"$out/qemu.err"
rc=$?
[ "$rc" = 0 ] || fail "the logged run exited $rc: $(tail -3 "$out/logged.log" | tr -d '\r' | tr '\n' ' ')"

# seal[K], head[K]: the newest seal and record head logged before flush K, K = 0..F + 1.
"$mkcrash" "$out/log.bin" seals >"$out/seals.txt" || fail "mkcrash could not read the log"
mapfile -t seal < <(cut -d' ' -f2 "$out/seals.txt")
mapfile -t head < <(cut -d' ' -f3 "$out/seals.txt")
flushes=$((${#seal[@]} - 2))
[ "${seal[flushes + 1]}" = $((steps + 1)) ] ||
	fail "the log's newest seal is ${seal[flushes + 1]}, not $((steps + 1)) ($steps commits and the exit)"
# The counter's value at checkpoint j.
value() { echo $(($1 < steps ? $1 : steps)); }
# The cuts start at the last flush before the first record: the install
# before it writes its 4 KiB label in one request, and a label torn by sector
# is refused (exit 75, "not a Strata disk"), which is the install's business,
# not the checkpoints'.  FIRST_FLUSH=0 cuts the install too.
first=${FIRST_FLUSH:-0}
if [ -z "${FIRST_FLUSH:-}" ]; then
	while [ "${head[first + 1]}" = 0 ]; do first=$((first + 1)); done
fi
# floor K: the newest commit a cut between flushes K and K + 1 may follow.
floor() {
	local j=$((head[$1 + 1] - 1))
	value $((seal[$1] > j ? seal[$1] : j))
}

# crash_cut I K SEED: builds and boots crash image I, cut at flush K with the
# subset after it SEED draws; writes its tally.
crash_cut() {
	local i=$1 k=$2 img=$out/cuts/$1.img log=$out/cuts/$1.log
	"$mkcrash" "$out/log.bin" "$out/base.img" "$img" "$k" "$3"
	"$images/qemu.sh" --iso "$out/counter.iso" --disk "$img" --mem 128M --timeout 120 \
		--log "$log" --quiet </dev/null 2>>"$out/qemu.err"
	tally "$log" "$(floor "$k")" 1 "$(value "${seal[k + 1]}")" >"$out/cuts/$i.tally" \
		2> >(sed "s/boot 1:/cut $i (flush $k of $flushes, seed $3):/" >&2)
	rm -f "$img"
}

# Two boots at a time: the machine has two cores, and each boot is one QEMU.
for i in $(seq 1 "$n"); do
	k=$((first + RANDOM % (flushes + 1 - first))) seed=$((RANDOM * 32768 + RANDOM))
	crash_cut "$i" "$k" "$seed" &
	[ $((i % 2)) = 0 ] && wait
done
wait
read -r cuts resumed lost inconsistent bad < <(cat "$out"/cuts/*.tally |
	awk '{ for (f = 1; f <= 5; f++) s[f] += $f } END { print s[1] + 0, s[2] + 0, s[3] + 0, s[4] + 0, s[5] + 0 }')
summary "$cuts" "$resumed" "$lost" "$inconsistent" "$bad" || exit 1
rm -f "$out"/*.img "$out/log.bin" "$out/counter.iso"
