#!/bin/bash
# tests/bench/net.sh BUILD: prints "NAME VALUE UNIT" lines for the network
# figures, payload netecho on QEMU's user network with a host port forwarded
# to its port 7, measured from the host by tests/net/:
#   net_udp_echo_rtt_us   median round trip of one datagram (1..1472 bytes)
#                         alone in flight
#   net_udp_echo_per_s    datagrams echoed per second, 32 in flight
#   net_tcp_echo_MBps     a 64 MiB stream echoed, MB (10^6 bytes) per second
#   extsync_udp_echo_rtt_us  net_udp_echo_rtt_us of syncecho, netecho under
#                         STRATA_PAYLOAD_EXTSYNC, on a disk: every echo waits
#                         for a durable checkpoint (the price of a durable
#                         reply, beside commit_1page_us)
# Each is the median of RUNS boots (STRATA_BENCH_RUNS, 3).  Under TCG these
# measure the emulator as much as Strata; compare them run to run.
set -u
build=$1
images=$(cd "$(dirname "$0")/../../images" && pwd)
runs=${STRATA_BENCH_RUNS:-3}
dir=$build/bench/net
bin=$build/bin
mkdir -p "$dir"
for p in netecho syncecho; do
	[ -f "$build/layer1/$p.elf" ] || { echo "net.sh: $build/layer1/$p.elf not built" >&2; exit 1; }
done
port=$((24000 + ($$ % 1000) * 2))
# shellcheck source=../net/netecho.sh
. "$(dirname "$0")/../net/netecho.sh"
trap netecho_stop EXIT

# up PAYLOAD [DISK]: PAYLOAD booted and answering.
up() {
	netecho_start "$dir" serial "" "user,hostfwd=udp:127.0.0.1:$port-:7,hostfwd=tcp:127.0.0.1:$port-:7" \
		"$@" || return 1
	netecho_await "$dir/serial.log" '^netecho: up' 60 ||
		{ echo "net.sh: $1 never came up" >&2; tail -n 20 "$dir/serial.log" "$dir/serial.err" >&2; return 1; }
}

# Two boots: netecho and the three measurements, then syncecho on a new
# disk and its round trip, appended to the arrays.
measure() {
	up netecho || return 1
	"$bin/udpecho" -p "$port" -n 3000 -w 1 >"$dir/rtt.out" 2>&1 &&
		"$bin/udpecho" -p "$port" -n 20000 -w 32 >"$dir/rate.out" 2>&1 &&
		"$bin/tcpecho" -p "$port" -m 64 >"$dir/tcp.out" 2>&1 ||
		{ echo "net.sh: an echo failed:" >&2; cat "$dir"/*.out >&2; return 1; }
	rtt+=("$(sed -nE 's/.* rtt_median_us ([0-9]+) .*/\1/p' "$dir/rtt.out")")
	rate+=("$(sed -nE 's/.* per_s ([0-9]+) .*/\1/p' "$dir/rate.out")")
	tcp+=("$(sed -nE 's/.* MBps ([0-9.]+).*/\1/p' "$dir/tcp.out")")
	netecho_stop
	rm -f "$dir/syncecho.img"
	truncate -s 64M "$dir/syncecho.img"
	up syncecho "$dir/syncecho.img" || return 1
	"$bin/udpecho" -p "$port" -n 3000 -w 1 >"$dir/extsync.out" 2>&1 ||
		{ echo "net.sh: syncecho's echo failed:" >&2; cat "$dir/extsync.out" >&2; return 1; }
	extsync+=("$(sed -nE 's/.* rtt_median_us ([0-9]+) .*/\1/p' "$dir/extsync.out")")
	netecho_stop
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

rtt=() rate=() tcp=() extsync=()
for _ in $(seq "$runs"); do
	measure || exit 1
done
echo "net_udp_echo_rtt_us $(median "${rtt[@]}") us"
echo "net_udp_echo_per_s $(median "${rate[@]}") datagrams/s"
echo "net_tcp_echo_MBps $(median "${tcp[@]}") MB/s"
echo "extsync_udp_echo_rtt_us $(median "${extsync[@]}") us"
