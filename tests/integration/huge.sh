#!/bin/bash
# tests/integration/huge.sh BUILD: a disk as large as the window costs what
# a small one does.  Boots disktest edge with a 64 TiB and a 64 MiB QEMU
# null-co disk (reads give zeros, writes are dropped, nothing on the host),
# alternating, RUNS of each (7; STRATA_HUGE_RUNS; RUNS more on a miss); then disktest sparse on
# the 64 TiB disk in 32 MiB of RAM: one page in each GiB, 64 Ki pages, each
# with a page table and a directory of its own, all but a few evicted again.
# Prints, as tests/run.sh counts them, an "ok" or "FAIL" line for: edge
# passes on 64 TiB; the time from layer 0's first line to the payload's
# result on 64 TiB is within 10% or 10 ms of that on 64 MiB; after edge, layer 0's
# memory (its report at the payload's exit) differs between the two only by
# the page tables of the far end; the sweep passes; after it, no page table
# of the window is left empty (the tables went with the pages, at every level).
#
# The time checked starts at layer 0's first line, not at QEMU's start: the
# firmware and GRUB before it vary by a fifth from boot to boot on a loaded
# host and are not Strata's (the whole boots are printed too).  Of each, the
# fastest: load only ever adds.  Layer 0 now reaches the result in about 25
# ms, where the host's timestamps of serial lines jitter by 3 ms from boot
# to boot, and the fastest of 7 still differed by 6 ms once in a make test
# of an idle host (38 against 32, then 32 against 30 alone): 10% alone
# would fail on noise; work per GiB of the disk, even a microsecond, would
# still cost far more than 10 ms over 65536 of them.
# integration: sequential
set -u
build=${1:-build}
images=$(dirname "$0")/../../images
out=$build/tests/out/huge
runs=${STRATA_HUGE_RUNS:-7}
rm -rf "$out"
mkdir -p "$out"
iso=$out/edge.iso
"$images/mkiso.sh" "$iso" "$build/layer0.elf" "$build/layer1/disktest.elf" "edge" "" >/dev/null || {
	echo "FAIL disk-huge: could not build its ISO"; exit 0; }

# null-co under a temporary qcow2 overlay (snapshot=on), for the sweep: the
# cache evicts the payload's own pages too, and what layer 0 wrote there
# (the payload's image) must come back.  Reads of the rest fall through to
# null-co; the overlay is deleted when QEMU exits.
sweep_disk=(-drive "if=none,id=d0,driver=null-co,size=$((64 << 40)),read-zeroes=on,snapshot=on"
	-device virtio-blk-pci,drive=d0)

# One boot with a null-co disk of $1 bytes, its serial log in $2: prints
# "WHOLE L0", the ms from QEMU's start and from layer 0's first line to the
# "disktest: edge ok" line, or nothing.
boot() {
	local bytes=$1 log=$2 start line l0="" ms=""
	start=$EPOCHREALTIME
	while IFS= read -r line; do
		if [ -z "$l0" ] && [[ $line == "strata: layer 0 starting"* ]]; then
			l0=$EPOCHREALTIME
		fi
		if [ -z "$ms" ] && [ -n "$l0" ] && [[ $line == "disktest: edge ok"* ]]; then
			ms="$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))"
			ms="$ms $(( (${EPOCHREALTIME/./} - ${l0/./}) / 1000 ))"
		fi
	done < <("$images/qemu.sh" --iso "$iso" --timeout 60 --log "$log" -- \
		-blockdev "driver=null-co,size=$bytes,read-zeroes=on,node-name=nul0" \
		-device virtio-blk-pci,drive=nul0 </dev/null 2>>"$log.err")
	echo "$ms"
}

# The fastest of the boots' field $1 (1: whole, 2: from layer 0), or nothing.
fastest() { local f=$1; shift; printf '%s\n' "$@" | awk -v f="$f" 'NF == 2 { print $f }' | sort -n | head -1; }

# Layer 0's memory when the payload exited, from the pager's report, as
# "FREE CACHED TABLES EMPTY OTHER" (pages), or nothing.
memory() {
	sed -nE 's/.*pager: memory: ([0-9]+) pages free, ([0-9]+) cached .*, ([0-9]+) page tables for the window \(([0-9]+) empty\), ([0-9]+) taken .*/\1 \2 \3 \4 \5/p' "$1" | tail -1
}

huge=() small=()
# boots FROM TO: boots FROM..TO of each disk, alternating.
boots() {
	for i in $(seq "$1" "$2"); do
		huge+=("$(boot $((64 << 40)) "$out/huge-$i.serial")")
		small+=("$(boot $((64 << 20)) "$out/small-$i.serial")")
	done
}
# within: the fastest 64 TiB boot is within 10% or 10 ms of the fastest 64 MiB one.
within() {
	mh=$(fastest 2 "${huge[@]}") ms=$(fastest 2 "${small[@]}")
	[ -n "$mh" ] && [ -n "$ms" ] && { [ $((mh * 10)) -le $((ms * 11)) ] || [ "$mh" -le $((ms + 10)) ]; }
}
boots 1 "$runs"
# A make test at a load of 6 on two cores once saw 46 ms against 34 (32 and
# 31 alone, right after): a miss gets RUNS more boots of each, and the
# fastest of all counts, since load only ever adds.  Work per GiB of the
# disk would miss again.
within || boots $((runs + 1)) $((2 * runs))

if [ -n "${huge[0]}" ] && grep -q '^strata: exit 0 ' "$out/huge-1.serial"; then
	echo "ok   disk-huge-edge ($(grep -o 'edge ok.*' "$out/huge-1.serial" | tr -d '\r'))"
else
	echo "FAIL disk-huge-edge: no 'disktest: edge ok' and exit 0 on a 64 TiB disk"
	sed 's/^/    | /' "$out/huge-1.serial" "$out/huge-1.serial.err" | tail -30
fi

wh=$(fastest 1 "${huge[@]}") ws=$(fastest 1 "${small[@]}")
reached=$(printf '%s\n' "${huge[@]}" "${small[@]}" | awk 'NF == 2' | wc -l)
if [ "$reached" != $((2 * ${#huge[@]})) ]; then
	echo "FAIL disk-huge-boot-time: only $reached of $((2 * ${#huge[@]})) boots reached the payload's result"
elif within; then
	echo "ok   disk-huge-boot-time (layer 0 to result ${mh} ms on 64 TiB, ${ms} ms on 64 MiB," \
		"fastest of ${#huge[@]} each; whole boot ${wh} and ${ws} ms)"
else
	echo "FAIL disk-huge-boot-time: layer 0 to result ${mh} ms on 64 TiB is over 110% and 10 ms more" \
		"than ${ms} ms on 64 MiB (whole boot ${wh} and ${ws} ms)"
fi

# After edge: the same cache and the same layer 0 on both disks, and the
# free pages plus the window's tables the same (64 TiB's far end has tables
# of its own), in every boot.
sums=$(for f in "$out"/huge-*.serial "$out"/small-*.serial; do
	echo "$(memory "$f")" | awk 'NF == 5 { print $1 + $3, $2, $5 } NF != 5 { print "none" }'
done | sort -u)
if [ "$(echo "$sums" | wc -l)" = 1 ] && [ -n "$sums" ] && [ "$sums" != none ]; then
	echo "ok   disk-huge-memory (after edge, free + tables, cached, rest of layer 0: $sums;" \
		"64 TiB: $(memory "$out/huge-1.serial"), 64 MiB: $(memory "$out/small-1.serial"))"
else
	echo "FAIL disk-huge-memory: layer 0's memory after edge differs beyond the far end's tables" \
		"(free + tables, cached, rest of layer 0):"
	for f in "$out"/*-[0-9]*.serial; do echo "    $(basename "$f" .serial): $(memory "$f")"; done
fi

# The sweep: 64 Ki pages a GiB apart in 32 MiB of RAM, about 6 s under TCG.
# A layer 0 leaking a directory per GiB (256 MiB of them) does not finish:
# it runs out of memory, or thrashes its last few pages until the timeout.
log=$out/sweep.serial
"$images/mkiso.sh" "$out/sweep.iso" "$build/layer0.elf" "$build/layer1/disktest.elf" \
	"sparse n=65536" "" >/dev/null || { echo "FAIL disk-huge-sweep: could not build its ISO"; exit 0; }
"$images/qemu.sh" --iso "$out/sweep.iso" --mem 32M --timeout 120 --log "$log" --quiet -- \
	"${sweep_disk[@]}" </dev/null 2>"$log.err"
rc=$?
if [ "$rc" = 0 ] && grep -q '^disktest: sparse 65536 pages ' "$log"; then
	echo "ok   disk-huge-sweep ($(grep -o 'sparse 65536.*' "$log" | tr -d '\r'))"
else
	echo "FAIL disk-huge-sweep: exit $rc, expected 0 and 'disktest: sparse 65536 pages'"
	sed 's/^/    | /' "$log" "$log.err" | tail -30
fi
read -r free cached tables empty other <<<"$(memory "$log")"
if [ -z "${empty:-}" ]; then
	echo "FAIL disk-huge-sweep-memory: no memory report from layer 0 after the sweep"
elif [ "$empty" = 0 ]; then
	echo "ok   disk-huge-sweep-memory (after the sweep: $free pages free, $cached cached," \
		"$tables page tables for them, none empty)"
else
	echo "FAIL disk-huge-sweep-memory: after the sweep $empty of the window's $tables page tables" \
		"map nothing ($cached pages cached, $free free)"
fi
exit 0
