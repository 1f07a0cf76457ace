#!/bin/bash
# tests/bench/boot.sh BUILD: prints "NAME VALUE UNIT" lines for the boot
# figures: the time from QEMU's start to layer 1's first line (the hello
# ISO), to the floor's line (an ISO of the empty multiboot2 kernel of
# floor.asm, built by the same mkiso.sh), and boot_ratio_to_floor, the one
# over the other.  Each time is the best of several boots, the floor and
# layer 0 alternating in one run: on a shared host, load only ever adds to a
# boot, so the fastest of each is the nearest to the boot's own cost (and
# RUNS, STRATA_BENCH_RUNS, is 9 by default, as five boots on a 2-core host
# shared by several QEMUs often held no quiet one).
set -u
build=$1
images=$(dirname "$0")/../../images
runs=${STRATA_BENCH_RUNS:-9}
iso_l1=$build/bench/hello.iso iso_floor=$build/bench/floor.iso
"$images/mkiso.sh" "$iso_l1" "$build/layer0.elf" "$build/layer1/hello.elf" "" "" >/dev/null
"$images/mkiso.sh" "$iso_floor" "$build/floor.elf" "$build/layer1/hello.elf" "" "" >/dev/null

# ms from QEMU's start to the first line matching $2 on the serial console.
time_to_line() {
	local iso=$1 pattern=$2 start line now
	start=$EPOCHREALTIME
	while IFS= read -r line; do
		if [[ $line =~ $pattern ]]; then
			now=$EPOCHREALTIME
			echo $(( (${now/./} - ${start/./}) / 1000 ))
			cat >/dev/null
			return 0
		fi
	done < <("$images/qemu.sh" --iso "$iso" --timeout 120 </dev/null 2>/dev/null)
	echo "boot.sh: never saw /$pattern/" >&2
	return 1
}

best() { sort -n | head -n 1; }

l1=() floor=()
for _ in $(seq "$runs"); do
	floor+=("$(time_to_line "$iso_floor" '^floor: first byte')") || exit 1
	l1+=("$(time_to_line "$iso_l1" '^Hello from layer 1')") || exit 1
done
l1_ms=$(printf '%s\n' "${l1[@]}" | best) floor_ms=$(printf '%s\n' "${floor[@]}" | best)
echo "boot_to_layer1_ms $l1_ms ms"
echo "boot_floor_ms $floor_ms ms"
awk -v l="$l1_ms" -v f="$floor_ms" 'BEGIN { printf "boot_ratio_to_floor %.3f x\n", l / f }'
