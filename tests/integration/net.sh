#!/bin/bash
# tests/integration/net.sh BUILD: the network cases of `make test`, payload
# netecho (layer1/netecho) with the host tools of tests/net/.  Prints one
# "ok   NAME" or "FAIL NAME: why" line per check, as tests/run.sh counts them.
#
# Two boots, one after the other (TCG throughput wants the cores):
#
#   1. QEMU's user network, the guest on DHCP, host ports forwarded to its
#      port 7 (a port of 20000..23999 from our pid, so a `make run` on 10007
#      does not clash): the DHCP lease, the ping self-test (the guest pings
#      the gateway: QEMU's user network cannot send ICMP echo from the host),
#      10,000 UDP datagrams of 1..1472 bytes and a 64 MiB TCP stream, each
#      echoed byte-exact.
#   2. QEMU's UDP socket backend, whose only other end is tests/net/junk: an
#      ARP request and an ICMP echo request frame answered, a flood of random
#      frames (runts, oversized, random ARP and IPv4), then the UDP echo
#      still byte-exact.  That wire reaches nothing but junk, so no junk can
#      leave the machine (junk.c says more).
# integration: sequential
set -u
build=${1:-build}
images=$(cd "$(dirname "$0")/../../images" && pwd)
out=$build/tests/out/net
bin=$build/bin
rm -rf "$out"
mkdir -p "$out"

# shellcheck source=../net/netecho.sh
. "$(dirname "$0")/../net/netecho.sh"
lwip_payload_built netecho net || exit 0
port=$((20000 + ($$ % 1000) * 4))
trap netecho_stop EXIT
start() { netecho_start "$out" "$@"; }
stop() { netecho_stop; }
await() { netecho_await "$out/$1.log" "$2" "$3"; }

# ---- boot 1: user network ------------------------------------------------
start user "dhcp selftest-ping" \
	"user,hostfwd=udp:127.0.0.1:$port-:7,hostfwd=tcp:127.0.0.1:$port-:7"
if await user '^netecho: up 10\.0\.2\.15 mac ([0-9a-f]{2}:){5}[0-9a-f]{2}' 120; then
	ok net-dhcp-up
	if await user '^netecho: ping 10\.0\.2\.2 (reply|no reply)' 30 &&
		grep -aqE '^netecho: ping 10\.0\.2\.2 reply seq [0-9]+ bytes 40 ' "$out/user.log"; then
		ok net-ping-gateway
	else
		fail net-ping-gateway "no echo reply from the gateway" "$out/user.log"
	fi
	if "$bin/udpecho" -p "$port" -n 10000 -t 300 >"$out/udp.log" 2>&1; then
		ok "net-udp-echo-10000 ($(sed -n 's/^udpecho: ok //p' "$out/udp.log"))"
	else
		fail net-udp-echo-10000 "$(tail -1 "$out/udp.log")" "$out/user.log"
	fi
	if "$bin/tcpecho" -p "$port" -m 64 -t 600 >"$out/tcp.log" 2>&1; then
		ok "net-tcp-echo-64MiB ($(sed -n 's/^tcpecho: ok //p' "$out/tcp.log"))"
	else
		fail net-tcp-echo-64MiB "$(tail -1 "$out/tcp.log")" "$out/user.log"
	fi
else
	fail net-dhcp-up "netecho never said it was up" "$out/user.log"
	cat "$out/user.err" 2>/dev/null | sed 's/^/    | /'
fi
stop

# ---- boot 2: the junk wire -------------------------------------------------
start junk "" "socket,udp=127.0.0.1:$((port + 1)),localaddr=127.0.0.1:$((port + 2))"
"$bin/junk" -l $((port + 1)) -r $((port + 2)) -n 5000 -e 1000 >"$out/junk.out" 2>&1
pick() { grep -a "^junk: $1" "$out/junk.out"; }
if pick 'arp ok' >/dev/null; then ok net-arp-frame; else fail net-arp-frame "$(tail -1 "$out/junk.out")" "$out/junk.log"; fi
if pick 'icmp ok' >/dev/null; then
	ok net-icmp-frame-after-flood
else
	fail net-icmp-frame-after-flood "$(pick 'FAIL icmp' || tail -1 "$out/junk.out")" "$out/junk.log"
fi
if pick 'udp ok' >/dev/null; then
	ok "net-junk-flood-then-udp-echo ($(pick 'flood' | sed 's/^junk: flood: //'))"
else
	fail net-junk-flood-then-udp-echo "$(pick 'FAIL udp' || tail -1 "$out/junk.out")" "$out/junk.log"
fi
# Still running after the flood: up, no final report, QEMU alive.  A
# missing or empty log is a boot that never happened, not a pass.
if ! grep -aq '^netecho: up ' "$out/junk.log" 2>/dev/null; then
	fail net-junk-no-stop "no 'netecho: up' in the serial log: the machine never came up" "$out/junk.log"
elif grep -aq '^strata: exit' "$out/junk.log"; then
	fail net-junk-no-stop "the machine stopped" "$out/junk.log"
elif ! kill -0 "$netecho_pgid" 2>/dev/null; then
	fail net-junk-no-stop "QEMU is gone, with no final report" "$out/junk.log"
else
	ok net-junk-no-stop
fi
stop
