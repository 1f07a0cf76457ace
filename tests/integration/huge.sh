#!/bin/bash
# tests/integration/huge.sh BUILD: a disk as large as the window costs what
# a small one does.  Boots disktest edge with a 64 TiB and a 64 MiB QEMU
# null-co disk (reads give zeros, writes are dropped, nothing on the host),
# alternating, RUNS of each (7; STRATA_HUGE_RUNS).  Prints, as tests/run.sh
# counts them, an "ok" or "FAIL" line for: edge passes on 64 TiB; the time
# from layer 0's first line to the payload's result on 64 TiB is within 10%
# of that on 64 MiB; layer 0 reports the same free RAM and page cache for both.
#
# The time checked starts at layer 0's first line, not at QEMU's start: the
# firmware and GRUB before it vary by a fifth from boot to boot on a loaded
# host and are not Strata's (the whole boots are printed too).  Of each, the
# fastest: load only ever adds.
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

# What layer 0 says about its memory: every "N MiB free" and "cache up to N MiB".
memory() { grep -ohE '[0-9]+ MiB free|cache up to [0-9]+ MiB' "$1" | paste -sd ','; }

huge=() small=()
for i in $(seq "$runs"); do
	huge+=("$(boot $((64 << 40)) "$out/huge-$i.serial")")
	small+=("$(boot $((64 << 20)) "$out/small-$i.serial")")
done

if [ -n "${huge[0]}" ] && grep -q '^strata: exit 0 ' "$out/huge-1.serial"; then
	echo "ok   disk-huge-edge ($(grep -o 'edge ok.*' "$out/huge-1.serial" | tr -d '\r'))"
else
	echo "FAIL disk-huge-edge: no 'disktest: edge ok' and exit 0 on a 64 TiB disk"
	sed 's/^/    | /' "$out/huge-1.serial" "$out/huge-1.serial.err" | tail -30
fi

mh=$(fastest 2 "${huge[@]}") ms=$(fastest 2 "${small[@]}")
wh=$(fastest 1 "${huge[@]}") ws=$(fastest 1 "${small[@]}")
reached=$(printf '%s\n' "${huge[@]}" "${small[@]}" | awk 'NF == 2' | wc -l)
if [ "$reached" != $((2 * runs)) ]; then
	echo "FAIL disk-huge-boot-time: only $reached of $((2 * runs)) boots reached the payload's result"
elif [ $((mh * 10)) -le $((ms * 11)) ]; then
	echo "ok   disk-huge-boot-time (layer 0 to result ${mh} ms on 64 TiB, ${ms} ms on 64 MiB;" \
		"whole boot ${wh} and ${ws} ms)"
else
	echo "FAIL disk-huge-boot-time: layer 0 to result ${mh} ms on 64 TiB is over 110% of" \
		"${ms} ms on 64 MiB (whole boot ${wh} and ${ws} ms)"
fi

mems=$(for f in "$out"/*.serial; do memory "$f"; done | sort -u)
if [ "$(echo "$mems" | wc -l)" = 1 ] && [ -n "$mems" ]; then
	echo "ok   disk-huge-memory (both: $mems)"
else
	echo "FAIL disk-huge-memory: layer 0's memory differs between the boots:"
	for f in "$out"/*.serial; do echo "    $(basename "$f" .serial): $(memory "$f")"; done
fi
exit 0
