#!/bin/bash
# tests/integration/kvscale.sh BUILD: kvstore scaled out behind twemproxy.
# Three kvstore machines (kvplain durable=sync, each its own disk and forwarded host
# port) and Debian's nutcracker in front of them, with a config written here
# (ketama over the three, memcache protocol, no ejection: doc/kvscale.md says
# why).  Checks, one "ok"/"FAIL" line each:
#   kvscale-memcaslap  memcaslap through the proxy runs clean (values verified)
#   kvscale-memccp     memccp and memccat through the proxy round-trip files
#   kvscale-spread     sets through the proxy read back through the proxy, and
#                      the keys lie on all three machines, each on one only
#   kvscale-down       machine b killed (SIGKILL of its QEMU): a's keys are
#                      served through the proxy, b's refused with an error,
#                      not remapped to the others
#   kvscale-restart    b booted again on its disk resumes, and serves every
#                      key it held, read directly and through the proxy
# Ports: five consecutive free ones of 31000-31999 (the proxy, the three
# machines, nutcracker's stats), the search starting from the pid.  Every
# QEMU and nutcracker it starts is killed on exit.
# integration: sequential
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
images=$here/../../images
out=$build/tests/out/kvscale
kvtool=$build/bin/kvtool
keys=${KVSCALE_KEYS:-3000}
rm -rf "$out"
mkdir -p "$out"

# shellcheck source=../net/report.sh
. "$here/../net/report.sh"
lwip_payload_built kvplain kvscale || exit 0
if ! command -v nutcracker >/dev/null || ! command -v memcaslap >/dev/null; then
	echo "skip kvscale: nutcracker or memcaslap is not installed (images/deps.sh)"
	exit 0
fi

# shellcheck source=../net/ports.sh
. "$here/../net/ports.sh"
base=$(free_ports 5) || { fail kvscale "no 5 free ports in 31000-31999"; exit 0; }
proxy=$base
names=(a b c)
declare -A port qpid qsh qlog
for i in 0 1 2; do
	port[${names[$i]}]=$((base + 1 + i))
done
nutpid=""

# stop NAME: SIGKILL of machine NAME's QEMU, waited for (its pid from its
# pidfile if it was not read yet).
stop() {
	[ -z "${qpid[$1]:-}" ] && [ -n "${qlog[$1]:-}" ] && [ -s "${qlog[$1]}.pid" ] &&
		qpid[$1]=$(cat "${qlog[$1]}.pid")
	[ -n "${qpid[$1]:-}" ] && kill -9 "${qpid[$1]}" 2>/dev/null
	[ -n "${qsh[$1]:-}" ] && wait "${qsh[$1]}" 2>/dev/null
	qpid[$1]="" qsh[$1]="" qlog[$1]=""
}
cleanup() {
	for m in "${names[@]}"; do stop "$m"; done
	[ -n "$nutpid" ] && kill "$nutpid" 2>/dev/null && wait "$nutpid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$images/mkiso.sh" "$out/kvstore.iso" "$build/layer0.elf" "$build/layer1/kvplain.elf" \
	"durable=sync" "" >/dev/null || { fail kvscale "no ISO"; exit 0; }

# start NAME LOG: boots machine NAME on its disk (made blank on first use),
# serial output in LOG, in the background; sets qpid and qsh.
start() {
	local m=$1 log=$2
	[ -f "$out/$m.img" ] || truncate -s 128M "$out/$m.img"
	rm -f "$log.pid"
	"$images/qemu.sh" --iso "$out/kvstore.iso" --disk "$out/$m.img" --disk-cache unsafe \
		--mem 64M --timeout 600 --net "user,hostfwd=tcp:127.0.0.1:${port[$m]}-:11211" \
		--log "$log" --quiet -- -pidfile "$log.pid" </dev/null 2>>"$out/qemu.err" &
	qsh[$m]=$! qlog[$m]=$log
}

# serving NAME LOG: waits until machine NAME says it serves; 1 if its QEMU
# ended or 90 s went by (three machines boot at once on a loaded host).
serving() {
	local m=$1 log=$2
	for _ in $(seq 900); do
		[ -z "${qpid[$m]:-}" ] && [ -s "$log.pid" ] && qpid[$m]=$(cat "$log.pid")
		grep -aqE '^kvstore: (up|resumed)' "$log" 2>/dev/null && return 0
		kill -0 "${qsh[$m]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

for m in "${names[@]}"; do start "$m" "$out/$m-0.log"; done
for m in "${names[@]}"; do
	if ! serving "$m" "$out/$m-0.log"; then
		fail kvscale "machine $m never served" "$out/$m-0.log"
		exit 0
	fi
done

# The pool: ketama over the three by name, memcached's ASCII protocol.
cat >"$out/nutcracker.yml" <<EOF
kvstore:
  listen: 127.0.0.1:$proxy
  hash: fnv1a_64
  distribution: ketama
  auto_eject_hosts: false
  timeout: 10000
  servers:
   - 127.0.0.1:${port[a]}:1 a
   - 127.0.0.1:${port[b]}:1 b
   - 127.0.0.1:${port[c]}:1 c
EOF
if ! nutcracker -t -c "$out/nutcracker.yml" >"$out/nutcracker-t.log" 2>&1; then
	fail kvscale "nutcracker refuses the config" "$out/nutcracker-t.log"
	exit 0
fi
nutcracker -c "$out/nutcracker.yml" -s $((base + 4)) -o "$out/nutcracker.log" -v 5 &
nutpid=$!

# memcaslap's own check: a tenth of its gets compare the value with what it set.
if timeout 120 memcaslap -s "127.0.0.1:$proxy" -T 1 -c 16 -t 5s -X 1024 -v 0.1 >"$out/memcaslap.log" 2>&1 &&
	tps=$(sed -nE 's/^Run time: .* TPS: ([0-9]+).*/\1/p' "$out/memcaslap.log" | tail -1) &&
	[ "${tps:-0}" -gt 0 ] && grep -q '^verify_failed: 0$' "$out/memcaslap.log" &&
	grep -q '^verify_misses: 0$' "$out/memcaslap.log" && ! grep -qi 'error' "$out/memcaslap.log"; then
	ok "kvscale-memcaslap ($tps ops/s through the proxy, values verified)"
else
	fail kvscale-memcaslap "memcaslap through the proxy did not run clean" "$out/memcaslap.log"
fi

# Files through the proxy with memccp and back with memccat, byte for byte.
head -c 102400 /dev/urandom >"$out/file-100k"
head -c 1000000 /dev/urandom >"$out/file-1m"
# (memccp names each value by the path it is given: from $out, the file's name.)
if (cd "$out" && timeout 120 memccp --servers="127.0.0.1:$proxy" file-100k file-1m) >"$out/memccp.log" 2>&1 &&
	timeout 120 memccat --servers="127.0.0.1:$proxy" --file="$out/copy-100k" file-100k >>"$out/memccp.log" 2>&1 &&
	timeout 120 memccat --servers="127.0.0.1:$proxy" --file="$out/copy-1m" file-1m >>"$out/memccp.log" 2>&1 &&
	cmp "$out/file-100k" "$out/copy-100k" >>"$out/memccp.log" 2>&1 &&
	cmp "$out/file-1m" "$out/copy-1m" >>"$out/memccp.log" 2>&1; then
	ok "kvscale-memccp (100 KiB and 1,000,000 bytes through the proxy, byte-exact)"
else
	fail kvscale-memccp "memccp/memccat through the proxy did not round-trip byte-exact" "$out/memccp.log"
fi

# The verify pass: KEYS sets through the proxy, read back through it.
if ! "$kvtool" load -p "$proxy" -n "$keys" -c 8 -o "$out/acked" >"$out/load.log" 2>&1 ||
	! grep -q "^kvtool: load: $keys stored" "$out/load.log"; then
	fail kvscale-spread "the sets through the proxy failed: $(tail -1 "$out/load.log")"
	exit 0
fi
if ! "$kvtool" verify -p "$proxy" -f "$out/acked" >"$out/verify.log" 2>&1; then
	fail kvscale-spread "the keys set through the proxy do not read back: $(tail -1 "$out/verify.log")"
	exit 0
fi
# held NAME: the keys machine NAME itself holds, one number a line.
held() {
	sed 's/.*/get key:&\r/' "$out/acked" | "$kvtool" talk -p "${port[$1]}" -q 2000 |
		sed -nE 's/^VALUE key:([0-9]+) .*/\1/p'
}
for m in "${names[@]}"; do held "$m" >"$out/held-$m"; done
na=$(wc -l <"$out/held-a") nb=$(wc -l <"$out/held-b") nc=$(wc -l <"$out/held-c")
if [ "$(sort -n "$out"/held-? | uniq -d | wc -l)" != 0 ] ||
	[ "$(sort -nu "$out"/held-? | wc -l)" != "$keys" ] || [ "$na" = 0 ] || [ "$nb" = 0 ] || [ "$nc" = 0 ]; then
	fail kvscale-spread "the $keys keys are not each on exactly one machine, all three used (a/b/c hold $na/$nb/$nc)"
	exit 0
fi
ok "kvscale-spread ($keys sets through the proxy read back through it; a/b/c hold $na/$nb/$nc)"

# The kill: machine b's QEMU, SIGKILLed with every set answered (durable=sync:
# each was committed before its reply), then booted again on its disk.
stop b
# While b is down, no ejection: a's keys are served, b's are refused with an
# error, not answered as misses (which would mean they map elsewhere, where
# a set would strand a newer value than b brings back).
ka=$(head -1 "$out/held-a") kb=$(head -1 "$out/held-b")
printf 'get key:%s\r\nget key:%s\r\n' "$ka" "$kb" | "$kvtool" talk -p "$proxy" -q 3000 >"$out/down.log"
if grep -q "^VALUE key:$ka " "$out/down.log" && grep -q '^SERVER_ERROR' "$out/down.log" &&
	! grep -q "^VALUE key:$kb " "$out/down.log"; then
	ok "kvscale-down (b killed: a's key:$ka served, b's key:$kb refused: $(grep -m1 '^SERVER_ERROR' "$out/down.log" | tr -d '\r'))"
else
	fail kvscale-down "with b down, expected a's key:$ka served and b's key:$kb refused" "$out/down.log"
fi
start b "$out/b-1.log"
if ! serving b "$out/b-1.log"; then
	fail kvscale-restart "machine b never served again after the kill" "$out/b-1.log"
	exit 0
fi
if ! grep -aq '^kvstore: resumed' "$out/b-1.log"; then
	fail kvscale-restart "machine b did not resume its disk after the kill" "$out/b-1.log"
	exit 0
fi
if ! "$kvtool" verify -p "${port[b]}" -f "$out/held-b" >"$out/verify-b.log" 2>&1; then
	fail kvscale-restart "machine b lost keys it held before the kill: $(tail -1 "$out/verify-b.log")" "$out/b-1.log"
	exit 0
fi
# nutcracker finds b again at its next request for it; the first may fail
# while it reconnects, so a probe of one of b's keys comes first.
probe=$(head -1 "$out/held-b")
for _ in $(seq 20); do
	printf 'get key:%s\r\n' "$probe" | "$kvtool" talk -p "$proxy" -q 1000 | grep -q '^VALUE' && break
	sleep 0.5
done
if ! "$kvtool" verify -p "$proxy" -f "$out/acked" >"$out/verify-proxy.log" 2>&1; then
	fail kvscale-restart "after b's restart, the keys do not read back through the proxy: $(tail -1 "$out/verify-proxy.log")" "$out/nutcracker.log"
	exit 0
fi
ok "kvscale-restart (b killed and resumed its disk: its $(wc -l <"$out/held-b") keys read back directly, all $keys through the proxy)"
