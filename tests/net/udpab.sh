#!/bin/bash
# tests/net/udpab.sh COUNT ROUNDS NAME=DIR[,L0ARGS]...: UDP round trips of
# builds side by side under one load.  Every build boots at once, each its
# netecho in a QEMU of its own (DIR holds layer0.elf and layer1/netecho.elf,
# e.g. a copy of build/) with layer 0's profile on (plus L0ARGS); DIR
# "linux" is the Linux guest of tests/bench/linux.sh instead (its UDP echo,
# from build/linux/, which linux.sh or images/linux-initramfs.sh makes).
# Then each round sends COUNT datagrams one at a time with udpecho to every
# build in turn, so that the builds' batches of a round are taken within a
# second or two of each other (as linux.sh pairs Strata with Linux: a load
# that comes and goes moves a batch by 2x from one minute to the next).
# Prints "ROUND NAME RTT_MEDIAN_US" per batch, then per build the median
# over the rounds and the median of its rounds' ratios to the first build's.
# netecho exits UDPAB_SECS (60) seconds after it is up, and layer 0 then
# prints its profile (profile.h) into the log: ${TMPDIR:-/tmp}/udpab.PID/
# NAME.log.  A file DIR/qemu.args adds its words to that build's QEMU
# command line.  Under TCG on a shared host only the ratio of builds in one
# run means anything.
set -u
if [ $# -lt 3 ] || [ $# -gt 10 ]; then
	echo "usage: $0 COUNT ROUNDS NAME=DIR[,L0ARGS]... (up to 8)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
images=$here/../../images
build=${UDPAB_BUILD:-$here/../../build}
bin=$build/bin
count=$1 rounds=$2 secs=${UDPAB_SECS:-60}
shift 2
out=${TMPDIR:-/tmp}/udpab.$$
mkdir -p "$out"
# Ports 30000..30479, apart from the other scripts' ranges: 8 a run, from our pid.
base=$((30000 + ($$ % 60) * 8))
names=() dirs=() pgids=() ports=()

stop_all() {
	local g
	for g in "${pgids[@]}"; do
		kill -- "-$g" 2>/dev/null
		wait "$g" 2>/dev/null
	done
}
trap stop_all EXIT

# boot NAME DIR L0ARGS PORT: netecho (or Linux) up in the background, serial in NAME.log.
boot() {
	local tag=$out/$1 extra
	if [ "$2" = linux ]; then
		setsid "$images/qemu.sh" --kernel "$build/linux/vmlinuz" --initrd "$build/linux/initramfs.cpio.gz" \
			--append "console=ttyS0 loglevel=4 panic=1 life=$((secs + 240)) mode=net" \
			--net "user,hostfwd=udp:127.0.0.1:$4-:7" --log "$tag.log" --quiet </dev/null 2>"$tag.err" &
		pgids+=("$!")
		return 0
	fi
	"$images/mkiso.sh" "$tag.iso" "$2/layer0.elf" "$2/layer1/netecho.elf" \
		"exit-after=$secs" "profile $3" >/dev/null || return 1
	extra=()
	[ -f "$2/qemu.args" ] && read -r -a extra <"$2/qemu.args"
	setsid "$images/qemu.sh" --iso "$tag.iso" \
		--net "user,hostfwd=udp:127.0.0.1:$4-:7" --log "$tag.log" --quiet \
		-- "${extra[@]}" </dev/null 2>"$tag.err" &
	pgids+=("$!")
}

await_up() {
	local i
	for ((i = 0; i < 1800; i++)); do
		grep -aqE '^(netecho|linux): up' "$out/$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "udpab: $1 never came up" >&2
	return 1
}

# qemu_cpu K: "NS SWITCHES", the CPU time and context switches of build K's
# QEMU, all its threads, so far (/proc's schedstat and status).
qemu_cpu() {
	local pid t ns=0 sw=0 run rest n
	pid=$(pgrep -g "${pgids[$1]}" -x qemu-system-x86 | head -n 1)
	for t in /proc/"$pid"/task/*; do
		# A thread may end between the listing and the reads: it counts 0.
		read -r run rest <"$t/schedstat" 2>/dev/null || continue
		n=$(awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' "$t/status" 2>/dev/null)
		ns=$((ns + run)) sw=$((sw + ${n:-0}))
	done
	echo "$ns $sw"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

k=0
for spec in "$@"; do
	name=${spec%%=*} rest=${spec#*=}
	dir=${rest%%,*} l0=""
	[ "$rest" != "$dir" ] && l0=${rest#*,}
	names+=("$name") dirs+=("$dir") ports+=($((base + k)))
	boot "$name" "$dir" "$l0" $((base + k)) || exit 1
	k=$((k + 1))
done
for name in "${names[@]}"; do
	await_up "$name" || exit 1
done

declare -A all cpus sws
for r in $(seq "$rounds"); do
	for ((k = 0; k < ${#names[@]}; k++)); do
		name=${names[k]}
		read -r ns0 sw0 <<<"$(qemu_cpu "$k")"
		"$bin/udpecho" -p "${ports[k]}" -n "$count" -w 1 -s "$r" >"$out/$name.out" 2>&1 ||
			{ echo "udpab: $name's echo failed:" >&2; cat "$out/$name.out" >&2; exit 1; }
		read -r ns1 sw1 <<<"$(qemu_cpu "$k")"
		rtt=$(sed -nE 's/.* rtt_median_us ([0-9]+) .*/\1/p' "$out/$name.out")
		cpu=$(((ns1 - ns0) / count / 1000)) sw=$(((sw1 - sw0) * 10 / count))
		all[$name]="${all[$name]:-} $rtt" cpus[$name]="${cpus[$name]:-} $cpu" sws[$name]="${sws[$name]:-} $sw"
		echo "$r $name $rtt us, QEMU $cpu us CPU and $((sw / 10)).$((sw % 10)) switches an echo"
	done
done
for name in "${names[@]}"; do
	read -r -a these <<<"${all[$name]}"
	read -r -a first <<<"${all[${names[0]}]}"
	ratios=()
	for ((r = 0; r < ${#these[@]}; r++)); do
		ratios+=("$(awk -v a="${these[r]}" -v b="${first[r]}" 'BEGIN { printf "%.4f", a / b }')")
	done
	read -r -a c <<<"${cpus[$name]}"
	read -r -a w <<<"${sws[$name]}"
	sw=$(median "${w[@]}")
	echo "median $name $(median "${these[@]}") us, ratio to ${names[0]} $(median "${ratios[@]}"), QEMU $(median "${c[@]}") us CPU and $((sw / 10)).$((sw % 10)) switches an echo"
done
# Each netecho exits on its own and layer 0 prints the profile; Linux is stopped.
for ((k = 0; k < ${#names[@]}; k++)); do
	if [ "${dirs[k]}" = linux ]; then
		kill -- "-${pgids[k]}" 2>/dev/null
	fi
	wait "${pgids[k]}" 2>/dev/null
done
pgids=()
echo "udpab: logs in $out" >&2
