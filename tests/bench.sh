#!/bin/bash
# tests/bench.sh BUILD: runs every benchmark, prints "bench: NAME VALUE UNIT"
# for each figure and writes them all to BUILD/bench.json.
#
# At its end, ratios of figures from this same run (one whose inputs were not
# both measured is left out):
#   kv_vs_memcached_ratio_interval  kv_ops_per_s_interval / linux_memcached_ops_per_s
#   kv_vs_memcached_ratio_extsync   kv_ops_per_s_extsync / linux_memcached_ops_per_s
#   kv_vs_memcached_ratio_extsync_c64  the same at 64 connections (tests/bench/kv.sh)
#   disk_prefetch_ratio_to_linux_qd32  disk_random_prefetch_per_s / linux_randread_qd32_per_s
# (the linux_* figures are tests/bench/linux.sh's Linux guest in the same
# QEMU configuration).  net_udp_rtt_ratio_to_linux (net_udp_echo_rtt_us /
# linux_udp_echo_rtt_us) is linux.sh's own: the median of paired batches to
# netecho and to the guest, both up at once.  The prefetch's gain over
# faults alone is random.sh's own disk_random_prefetch_ratio.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/bench"
figures=$build/bench/figures
: >"$figures"
for b in "$here"/bench/*.sh; do
	"$b" "$build" >>"$figures" || { echo "bench: $(basename "$b") failed" >&2; exit 1; }
done
# Ratios the issues ask for, computed from figures measured in this run.
# ratio NAME A B: "NAME A/B x" when this run measured both A and B.
ratio() {
	awk -v n="$1" -v a="$2" -v b="$3" '$1 == a { x = $2 } $1 == b { y = $2 }
		END { if (x != "" && y + 0 != 0) printf "%s %.3f x\n", n, x / y }' "$figures" >>"$figures"
}
ratio kv_vs_memcached_ratio_interval kv_ops_per_s_interval linux_memcached_ops_per_s
ratio kv_vs_memcached_ratio_extsync kv_ops_per_s_extsync linux_memcached_ops_per_s
ratio kv_vs_memcached_ratio_extsync_c64 kv_ops_per_s_extsync_c64 linux_memcached_ops_per_s_c64
ratio disk_prefetch_ratio_to_linux_qd32 disk_random_prefetch_per_s linux_randread_qd32_per_s
sed 's/^/bench: /' "$figures"
awk 'BEGIN { printf "{\n" } { printf "%s  \"%s\": {\"value\": %s, \"unit\": \"%s\"}", (NR > 1 ? ",\n" : ""), $1, $2, $3 }
	END { printf "\n}\n" }' "$figures" >"$build/bench.json"
