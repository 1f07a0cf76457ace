#!/bin/bash
# tests/bench/net.sh BUILD: prints "NAME VALUE UNIT" lines for the network
# figures, payload netecho on QEMU's user network with a host port forwarded
# to its port 7, measured from the host by tests/net/:
#   net_udp_echo_rtt_us   median round trip of one datagram (1..1472 bytes)
#                         alone in flight
#   net_udp_echo_per_s    datagrams echoed per second, 32 in flight
#   net_tcp_echo_MBps     a 64 MiB stream echoed, MB (10^6 bytes) per second
# Each is the median of RUNS boots (STRATA_BENCH_RUNS, 3).  Under TCG these
# measure the emulator as much as Strata; compare them run to run.
set -u
build=$1
images=$(cd "$(dirname "$0")/../../images" && pwd)
runs=${STRATA_BENCH_RUNS:-3}
dir=$build/bench/net
bin=$build/bin
mkdir -p "$dir"
[ -f "$build/layer1/netecho.elf" ] || { echo "net.sh: $build/layer1/netecho.elf not built" >&2; exit 1; }
# exit-after: the machine ends by itself should this script die before stop.
"$images/mkiso.sh" "$dir/netecho.iso" "$build/layer0.elf" "$build/layer1/netecho.elf" \
	"exit-after=900" "" >/dev/null || exit 1

port=$((24000 + ($$ % 1000) * 2))
pgid=""
stop() {
	[ -n "$pgid" ] || return 0
	kill -- "-$pgid" 2>/dev/null
	wait "$pgid" 2>/dev/null
	# QEMU may outlive qemu.sh a moment, holding the forwarded ports.
	while kill -0 -- "-$pgid" 2>/dev/null; do sleep 0.1; done
	pgid=""
}
trap stop EXIT

# One boot: netecho up, then the three measurements, appended to the arrays.
measure() {
	local log=$dir/serial.log i
	rm -f "$log"
	# No --timeout: its `timeout` would take QEMU out of this process group.
	setsid "$images/qemu.sh" --iso "$dir/netecho.iso" --log "$log" --quiet \
		--net "user,hostfwd=udp:127.0.0.1:$port-:7,hostfwd=tcp:127.0.0.1:$port-:7" \
		</dev/null 2>"$dir/qemu.err" &
	pgid=$!
	for ((i = 0; i < 600; i++)); do
		grep -aq '^netecho: up' "$log" 2>/dev/null && break
		sleep 0.1
	done
	grep -aq '^netecho: up' "$log" 2>/dev/null ||
		{ echo "net.sh: netecho never came up" >&2; tail -n 20 "$log" "$dir/qemu.err" >&2; return 1; }
	"$bin/udpecho" -p "$port" -n 3000 -w 1 >"$dir/rtt.out" 2>&1 &&
		"$bin/udpecho" -p "$port" -n 20000 -w 32 >"$dir/rate.out" 2>&1 &&
		"$bin/tcpecho" -p "$port" -m 64 >"$dir/tcp.out" 2>&1 ||
		{ echo "net.sh: an echo failed:" >&2; cat "$dir"/*.out >&2; return 1; }
	rtt+=("$(sed -nE 's/.* rtt_median_us ([0-9]+) .*/\1/p' "$dir/rtt.out")")
	rate+=("$(sed -nE 's/.* per_s ([0-9]+) .*/\1/p' "$dir/rate.out")")
	tcp+=("$(sed -nE 's/.* MBps ([0-9.]+).*/\1/p' "$dir/tcp.out")")
	stop
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rtt=() rate=() tcp=()
for _ in $(seq "$runs"); do
	measure || exit 1
done
echo "net_udp_echo_rtt_us $(median "${rtt[@]}") us"
echo "net_udp_echo_per_s $(median "${rate[@]}") datagrams/s"
echo "net_tcp_echo_MBps $(median "${tcp[@]}") MB/s"
