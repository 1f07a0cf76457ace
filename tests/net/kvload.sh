#!/bin/bash
# tests/net/kvload.sh HOST:PORT SECONDS [CONNS]: drives a memcached server
# with Debian's memcaslap (TCP, ASCII, memcaslap's default mix of 90% get and
# 10% set, 1 KiB values, CONNS connections on one thread, default 16) for
# SECONDS and prints "OPS_PER_S P99_US".  The same load serves kvstore and a
# Linux guest's memcached, so their figures compare.
#
# memcaslap reports latency only as a log2 histogram ("Log2 Dist": row k
# lists buckets k .. k+3, bucket b counting latencies below 2^b us and at
# least 2^(b-1), as its Avg line confirms), so P99 is the upper bound of the
# bucket that holds the 99th percentile: a power of two, not an exact value.
set -u
server=$1 seconds=$2 conns=${3:-16}
# memcaslap waits for its connections past -t when the server stops
# answering: the deadline is timeout's.
limit=$((seconds + 30))
out=$(timeout -k 5 "$limit" memcaslap -s "$server" -T 1 -c "$conns" -t "${seconds}s" -X 1024 \
	-S "${seconds}s" 2>&1)
rc=$?
[ $rc = 124 ] || [ $rc = 137 ] && out="$out
kvload: memcaslap was still running after $limit s: the server stopped answering"
[ $rc = 0 ] || {
	echo "kvload: memcaslap failed against $server:" >&2
	echo "$out" | tail -5 >&2
	exit 1
}
ops=$(echo "$out" | sed -nE 's/^Run time: .* TPS: ([0-9]+).*/\1/p' | tail -1)
# The last "Total Statistics" block's histogram: the cumulative count in
# bucket order until 99% of the events are covered.
p99=$(echo "$out" | awk '
	/^Total Statistics/ { n = 0; total = $3; sub(/\(/, "", total); inlog = 0; delete c; next }
	total && /Log2 Dist:/ { inlog = 1; next }
	inlog && /^ *[0-9]+:/ { row = $1 + 0; for (i = 2; i <= NF; i++) c[row + i - 2] = $i; next }
	inlog { inlog = 0; done = total }
	END {
		if (!done) exit 1
		want = done * 0.99; sum = 0
		for (b = 0; b < 64; b++) { sum += c[b]; if (sum >= want) { print 2 ^ b; exit } }
		exit 1
	}')
if [ -z "$ops" ] || [ -z "$p99" ]; then
	echo "kvload: no figures in memcaslap's output against $server:" >&2
	echo "$out" | tail -5 >&2
	exit 1
fi
echo "$ops $p99"
