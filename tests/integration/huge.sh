#!/bin/bash
# tests/integration/huge.sh BUILD: a disk as large as the window costs what
# a small one does.  Boots disktest edge with a 64 TiB and a 64 MiB QEMU
# null-co disk (reads give zeros, writes are dropped, nothing on the host),
# alternating, RUNS of each (3; STRATA_HUGE_RUNS).  Prints, as tests/run.sh
# counts them, an "ok" or "FAIL" line for: edge passes on 64 TiB; the median
# time from QEMU's start to the payload's result on 64 TiB is within 10% of
# that on 64 MiB; layer 0 reports the same free RAM and page cache for both.
set -u
build=${1:-build}
images=$(dirname "$0")/../../images
out=$build/tests/out/huge
runs=${STRATA_HUGE_RUNS:-5}	# odd, alternating: a median that load on the machine does not sway
rm -rf "$out"
mkdir -p "$out"
iso=$out/edge.iso
"$images/mkiso.sh" "$iso" "$build/layer0.elf" "$build/layer1/disktest.elf" "edge" "" >/dev/null || {
	echo "FAIL disk-huge: could not build its ISO"; exit 0; }

# One boot with a null-co disk of $1 bytes, its serial log in $2: prints the
# ms from QEMU's start to the "disktest: edge ok" line, or nothing.
boot() {
	local bytes=$1 log=$2 start line ms=""
	start=$EPOCHREALTIME
	while IFS= read -r line; do
		if [ -z "$ms" ] && [[ $line == "disktest: edge ok"* ]]; then
			ms=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
		fi
	done < <("$images/qemu.sh" --iso "$iso" --timeout 60 --log "$log" -- \
		-blockdev "driver=null-co,size=$bytes,read-zeroes=on,node-name=nul0" \
		-device virtio-blk-pci,drive=nul0 </dev/null 2>>"$log.err")
	echo "$ms"
}

median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

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

mh=$(median "${huge[@]}") ms=$(median "${small[@]}")
if [ -z "${huge[*]// }" ] || [ -z "${small[*]// }" ] || [ ${#mh} = 0 ] || [ ${#ms} = 0 ]; then
	echo "FAIL disk-huge-boot-time: a boot did not reach the payload (${huge[*]} / ${small[*]} ms)"
elif [ $((mh * 10)) -le $((ms * 11)) ]; then
	echo "ok   disk-huge-boot-time (median ${mh} ms on 64 TiB, ${ms} ms on 64 MiB)"
else
	echo "FAIL disk-huge-boot-time: median ${mh} ms on 64 TiB is over 110% of ${ms} ms on 64 MiB" \
		"(${huge[*]} / ${small[*]})"
fi

mems=$(for f in "$out"/*.serial; do memory "$f"; done | sort -u)
if [ "$(echo "$mems" | wc -l)" = 1 ] && [ -n "$mems" ]; then
	echo "ok   disk-huge-memory (both: $mems)"
else
	echo "FAIL disk-huge-memory: layer 0's memory differs between the boots:"
	for f in "$out"/*.serial; do echo "    $(basename "$f" .serial): $(memory "$f")"; done
fi
exit 0
