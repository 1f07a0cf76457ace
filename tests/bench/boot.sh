#!/bin/bash
# tests/bench/boot.sh BUILD: prints "NAME VALUE UNIT" lines for the boot
# figures.  Each is the median of several boots, the floor and layer 0
# alternating in one run so that both see the same machine load.
set -u
build=$1
images=$(dirname "$0")/../../images
runs=${STRATA_BENCH_RUNS:-5}
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

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

l1=() floor=()
for _ in $(seq "$runs"); do
	floor+=("$(time_to_line "$iso_floor" '^floor: first byte')") || exit 1
	l1+=("$(time_to_line "$iso_l1" '^Hello from layer 1')") || exit 1
done
echo "boot_to_layer1_ms $(printf '%s\n' "${l1[@]}" | median) ms"
echo "boot_floor_ms $(printf '%s\n' "${floor[@]}" | median) ms"
