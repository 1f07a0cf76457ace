#!/bin/bash
# tests/crash/powerloss.sh BUILD N [MS]: N power cuts with a volatile disk cache.
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
#
# With MS (kind powerloss-cpMS), the counter never commits (every=0, and
# STEPS defaults to 5000000, some hundreds of checkpoints) and layer 0
# checkpoints it every MS ms: a cut between flushes K and K + 1 must resume
# a checkpoint between the newest seal logged before flush K and the newest
# before flush K + 1 (layer 0's "resuming checkpoint S"; a fresh start only
# before the first or after the exit's), at a value its clock agrees with:
# not below the logged run's newest mark before that clock, nor above the
# most that mark allowed (tally_seals).
#
# With CHURN=B in the environment, each step also stamps B pages of the
# counter's churn area (layer1/counter/main.c, churn=B), so a few steps fill
# the 16 MiB journal and layer 0 cleans it every few commits (kind
# powerloss-churn): a cleaning that released a record before its pages were
# home would lose the pages only that record held, and the resumed counter
# finds them stale.
set -u
build=${1:-build} n=${2:-20} interval=${3:-} kind=powerloss${3:+-cp$3}${CHURN:+-churn}
steps=${STEPS:-${interval:+5000000}}
steps=${steps:-40}
. "$(dirname "$0")/lib.sh"
mkcrash=$build/bin/mkcrash
mkdir -p "$out/cuts"

fail() { echo "  $kind: $1" >&2; summary 0 0 0 0 0; exit 1; }

if [ -n "$interval" ]; then
	crash_prepare "every=0 steps=$steps" "checkpoint=$interval"
else
	crash_prepare "every=1 steps=$steps${CHURN:+ churn=$CHURN}" "checkpoint=0"
fi
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
if [ -n "$interval" ]; then
	[ "${seal[flushes + 1]}" -gt 1 ] || fail "the log holds no periodic checkpoint's seal"
else
	[ "${seal[flushes + 1]}" = $((steps + 1)) ] ||
		fail "the log's newest seal is ${seal[flushes + 1]}, not $((steps + 1)) ($steps commits and the exit)"
fi
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

# tally_seals LOG K: the tally of crash image K's boot, with an interval.
tally_seals() {
	cat "$out/logged.log" "$1" | tr -d '\r' | awk -v floor="${seal[$2]}" -v ceiling="${seal[$2 + 1]}" \
		-v exit_seal="${seal[flushes + 1]}" -v kind="$kind" '
	function report(what) { printf "  %s: boot 1: %s\n", kind, what > "/dev/stderr"; wrong = 1 }
	/^strata: layer 0 starting/ { boot++ }
	boot < 2 && /^counter: mark / { m++; T[m] = $7 + 0; V[m] = $3 + 0; W[m] = $5 + 0; next }
	boot < 2 { next }
	/^strata: checkpoint: (resuming|fresh start)/ { started = 1 }
	/^strata: checkpoint: resuming checkpoint [0-9]+ / {
		if ($5 < floor) {
			lost++
			report($0 ", but " floor " was sealed and flushed before the cut")
		} else if ($5 > ceiling) {
			inconsistent++
			report($0 ", past " ceiling ", the newest seal the disk can hold")
		}
	}
	/^strata: checkpoint: fresh start/ && floor > 0 && !(/exit/ && ceiling == exit_seal) {
		lost++
		report($0 ", with checkpoint " floor " sealed and flushed before the cut")
	}
	/^counter: resumed at [0-9]+$/ && !v { v = $4 + 0 }
	/^counter: resumed from clock [0-9]+ us$/ {
		for (i = m; i > 0 && T[i] > $5 + 0; i--)
			;
		if (i > 0 && (v < V[i] || v > W[i])) {
			inconsistent++
			report("counter: resumed at " v " from clock " $5 " us, but the counter was " V[i] \
			    " at " T[i] " us and at most " W[i] " until the next mark")
		}
	}
	/^counter: INCONSISTENT/ { inconsistent++; report($0) }
	/^strata: exit [0-9]+/ && $3 != 0 { bad++; report($0) }
	END {
		if (!started)
			report("layer 0 neither resumed nor started fresh")
		print 1, wrong ? 0 : 1, lost + 0, inconsistent + 0, bad + 0
	}'
}

# crash_cut I K SEED: builds and boots crash image I, cut at flush K with the
# subset after it SEED draws; writes its tally.
crash_cut() {
	local i=$1 k=$2 img=$out/cuts/$1.img log=$out/cuts/$1.log
	"$mkcrash" "$out/log.bin" "$out/base.img" "$img" "$k" "$3"
	"$images/qemu.sh" --iso "$out/counter.iso" --disk "$img" --mem 128M --timeout 120 \
		--log "$log" --quiet </dev/null 2>>"$out/qemu.err"
	if [ -n "$interval" ]; then
		tally_seals "$log" "$k"
	else
		tally "$log" "$(floor "$k")" 1 "$(value "${seal[k + 1]}")"
	fi >"$out/cuts/$i.tally" 2> >(sed "s/boot 1:/cut $i (flush $k of $flushes, seed $3):/" >&2)
	rm -f "$img"
}

# Two boots at a time: the machine has two cores, and each boot is one QEMU.
for i in $(seq 1 "$n"); do
	k=$((first + RANDOM % (flushes + 1 - first))) seed=$((RANDOM * 32768 + RANDOM))
	crash_cut "$i" "$k" "$seed" &
	[ $((i % 2)) = 0 ] && wait
done
wait
# shellcheck disable=SC2046 # five numbers
summary $(tally_sum "$out/cuts") || exit 1
rm -f "$out"/*.img "$out/log.bin" "$out/counter.iso"
