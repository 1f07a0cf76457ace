#!/bin/bash
# tests/bench/nictx.sh BUILD: frames per second through the TX ring, batched
# (one doorbell per half ring) and one doorbell per frame, against layer 0's
# driver sending the same 60-byte frames with no fault at all (its "nettest").
# Prints NAME VALUE UNIT lines; all three in one run, on one QEMU setup.
set -u
build=$1
images=$(dirname "$0")/../../images
out=$build/bench/nictx
mkdir -p "$out"
"$images/mkiso.sh" "$out/rawnet.iso" "$build/layer0.elf" "$build/layer1/rawnet.elf" "pps 20000" "" >/dev/null
"$images/mkiso.sh" "$out/raw.iso" "$build/layer0.elf" "$build/layer1/hello.elf" "" "nettest" >/dev/null
runs=${STRATA_BENCH_RUNS:-3}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
batched=() single=() raw=()
for _ in $(seq "$runs"); do
	"$images/qemu.sh" --iso "$out/rawnet.iso" --net user --timeout 120 --log "$out/rawnet.log" --quiet ||
		{ echo "nictx.sh: rawnet failed" >&2; exit 1; }
	line=$(grep 'rawnet: pps batched' "$out/rawnet.log")
	batched+=("$(echo "$line" | awk '{ print $4 }')")
	single+=("$(echo "$line" | awk '{ print $6 }')")
	"$images/qemu.sh" --iso "$out/raw.iso" --net user --timeout 120 --log "$out/raw.log" --quiet ||
		{ echo "nictx.sh: nettest failed" >&2; exit 1; }
	raw+=("$(grep -o 'ms = [0-9]* pps' "$out/raw.log" | awk '{ print $3 }')")
done
b=$(printf '%s\n' "${batched[@]}" | median)
s=$(printf '%s\n' "${single[@]}" | median)
r=$(printf '%s\n' "${raw[@]}" | median)
echo "net_tx_pps_fault_batched $b pps"
echo "net_tx_pps_fault_single $s pps"
echo "net_tx_pps_raw $r pps"
awk -v b="$b" -v r="$r" 'BEGIN { if (r > 0) printf "net_tx_batched_raw_ratio %.3f x\n", b / r }'
