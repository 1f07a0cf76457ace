#!/bin/bash
# tests/bench/nictx.sh BUILD: frames per second through the TX ring, batched
# (one doorbell per half ring) and one doorbell per frame, against layer 0's
# driver sending the same 60-byte frames with no fault at all (its "nettest").
# Prints NAME VALUE UNIT lines; all three in one run, on one QEMU setup.
#
# The batched ring and the raw driver each time FRAMES frames (half a
# second to a second each here; a 20 ms timing of 10,000 frames was at the
# mercy of a moment's load on the machine); the single-doorbell figure, ten
# times slower, times SINGLE.  Each of RUNS
# rounds (STRATA_BENCH_RUNS, 3) boots both, in turn first, so that a load
# on the machine that comes or goes weighs on both alike; each figure is
# the median over the rounds, and net_tx_batched_raw_ratio the median of
# the rounds' own ratios (batched / raw of the same round).
set -u
build=$1
images=$(dirname "$0")/../../images
out=$build/bench/nictx
frames=500000 single=20000
mkdir -p "$out"
"$images/mkiso.sh" "$out/rawnet.iso" "$build/layer0.elf" "$build/layer1/rawnet.elf" "pps $frames $single" "" >/dev/null
"$images/mkiso.sh" "$out/raw.iso" "$build/layer0.elf" "$build/layer1/hello.elf" "" "nettest=$frames" >/dev/null
runs=${STRATA_BENCH_RUNS:-3}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The batched and single figures of one boot of rawnet.
fault() {
	"$images/qemu.sh" --iso "$out/rawnet.iso" --net user --timeout 120 --log "$out/rawnet.log" --quiet ||
		{ echo "nictx.sh: rawnet failed" >&2; tail -n 20 "$out/rawnet.log" >&2; return 1; }
	line=$(grep 'rawnet: pps batched' "$out/rawnet.log")
	batched+=("$(echo "$line" | awk '{ print $4 }')")
	single+=("$(echo "$line" | awk '{ print $6 }')")
}

# The raw figure of one boot of layer 0's nettest.
raw() {
	"$images/qemu.sh" --iso "$out/raw.iso" --net user --timeout 120 --log "$out/raw.log" --quiet ||
		{ echo "nictx.sh: nettest failed" >&2; tail -n 20 "$out/raw.log" >&2; return 1; }
	raw+=("$(grep -o 'ms = [0-9]* pps' "$out/raw.log" | awk '{ print $3 }')")
}

batched=() single=() raw=() ratio=()
for i in $(seq "$runs"); do
	if [ $((i % 2)) = 1 ]; then
		fault && raw || exit 1
	else
		raw && fault || exit 1
	fi
	ratio+=("$(awk -v b="${batched[-1]}" -v r="${raw[-1]}" 'BEGIN { printf "%.4f", b / r }')")
	echo "nictx.sh: round $i: batched ${batched[-1]} raw ${raw[-1]} pps, ratio ${ratio[-1]}" >&2
done
echo "net_tx_pps_fault_batched $(printf '%s\n' "${batched[@]}" | median) pps"
echo "net_tx_pps_fault_single $(printf '%s\n' "${single[@]}" | median) pps"
echo "net_tx_pps_raw $(printf '%s\n' "${raw[@]}" | median) pps"
printf '%s\n' "${ratio[@]}" | median | awk '{ printf "net_tx_batched_raw_ratio %.3f x\n", $1 }'
