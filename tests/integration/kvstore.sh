#!/bin/bash
# tests/integration/kvstore.sh BUILD: the kvstore payload (layer1/kvstore)
# against stock memcached clients (Debian's libmemcached-tools) and
# tests/net/kvtool.  Prints one "ok   NAME", "FAIL NAME: why" or "skip
# NAME: why" line per check, as tests/run.sh counts them.
#
# One boot, QEMU's user network with a host port (24000..27999, from our
# pid, so a `make run` on 11211 does not clash) forwarded to the guest's
# 11211, a fresh 256 MiB disk:
#
#   1. memccapable's tests, ASCII and binary, all pass.  How many there
#      are is taken from a stock memcached run here on another port, never
#      hard-coded.
#   2. memccp stores files of 1 B, 100 KiB and 1 MiB.
#   3. Bad input, each answered with memcached's own reply and then a valid
#      command on the same connection: a malformed command, a key of 251
#      bytes, a value of 2 MiB, junk lines, and a client that vanishes
#      halfway through a value; in the binary protocol an unknown opcode
#      and a 2 MiB value, and a header whose lengths do not add up, which
#      gets "Invalid arguments" and a closed connection.
#   4. memccat gives the three files back byte-exact: the bad input lost
#      nothing and the store kept serving.
#   5. UDP on the same port, through tests/net/kvudp (memcached's 8-byte
#      frame header): a set and a get; the 100 KiB file stored above read
#      back in many datagrams, each numbered and carrying the request id
#      and the count, byte-exact; a runt, a header alone and a request
#      spread over two datagrams dropped without a reply, and the store
#      still answering after them.
#   6. memcslap's set, get and mget tests (300 keys; mget's one get line
#      of 300 keys, some 16 KiB, is longer than a connection's 8 KiB line
#      buffer) and memcaslap over TCP (16 connections, 5 s) and UDP (4,
#      5 s), with every value read verified: each must end without an
#      error, a miss or a failed check.
# integration: sequential
set -u
build=${1:-build}
images=$(cd "$(dirname "$0")/../../images" && pwd)
out=$build/tests/out/kvstore
kvtool=$build/bin/kvtool
rm -rf "$out"
mkdir -p "$out"

# shellcheck source=../net/report.sh
. "$(dirname "$0")/../net/report.sh"
lwip_payload_built kvstore kvstore || exit 0
for tool in memcached memccapable memccp memccat; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip kvstore: no $tool (images/deps.sh installs memcached and libmemcached-tools)"
		exit 0
	fi
done

port=$((24000 + ($$ % 1000) * 4))
qpgid="" mpid=""
stop_all() {
	[ -n "$qpgid" ] && kill -- "-$qpgid" 2>/dev/null && wait "$qpgid" 2>/dev/null
	[ -n "$mpid" ] && kill "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
	qpgid="" mpid=""
}
trap stop_all EXIT

# ---- 1. memccapable, stock memcached first --------------------------------
memcached -p $((port + 1)) -U 0 -l 127.0.0.1 -u "$(id -un)" >"$out/memcached.log" 2>&1 &
mpid=$!
for _ in $(seq 50); do
	memccapable -h 127.0.0.1 -p $((port + 1)) -T "ascii version" >/dev/null 2>&1 && break
	sleep 0.1
done
memccapable -h 127.0.0.1 -p $((port + 1)) -t 10 >"$out/capable-stock.log" 2>&1
kill "$mpid" 2>/dev/null; wait "$mpid" 2>/dev/null; mpid=""
want=$(grep -oE '\[(pass|FAIL)\]' "$out/capable-stock.log" | wc -l)

"$images/mkiso.sh" "$out/kvstore.iso" "$build/layer0.elf" "$build/layer1/kvstore.elf" \
	"exit-after=900" "" >/dev/null
truncate -s 256M "$out/disk.img"
setsid "$images/qemu.sh" --iso "$out/kvstore.iso" --disk "$out/disk.img" \
	--net "user,hostfwd=tcp:127.0.0.1:$port-:11211,hostfwd=udp:127.0.0.1:$port-:11211" --log "$out/serial.log" --quiet \
	</dev/null 2>"$out/qemu.err" &
qpgid=$!
up=0
for _ in $(seq 1200); do
	grep -aq '^kvstore: up ' "$out/serial.log" 2>/dev/null && { up=1; break; }
	kill -0 "$qpgid" 2>/dev/null || break
	sleep 0.1
done
if [ $up = 0 ]; then
	fail kvstore-up "kvstore never said it was up" "$out/serial.log"
	exit 0
fi
ok kvstore-up

timeout 300 memccapable -h 127.0.0.1 -p "$port" -t 20 >"$out/capable.log" 2>&1
got=$(grep -oE '\[pass\]' "$out/capable.log" | wc -l)
if [ "$want" -gt 0 ] && [ "$got" = "$want" ] && grep -q 'All tests passed' "$out/capable.log"; then
	ok "kvstore-memccapable-ascii-binary ($got of $want, as stock memcached)"
else
	fail kvstore-memccapable-ascii-binary "$got passed, stock memcached passed $want" "$out/capable.log"
fi

# ---- 2. memccp ----------------------------------------------------------------
files=(one:1 hundredk:102400 onemeg:1048576)
for f in "${files[@]}"; do
	head -c "${f#*:}" /dev/urandom >"$out/${f%%:*}"
done
servers=--servers=127.0.0.1:$port
if (cd "$out" && timeout 120 memccp "$servers" one hundredk onemeg) >"$out/memccp.log" 2>&1; then
	ok "kvstore-memccp (1 B, 100 KiB, 1 MiB)"
else
	fail kvstore-memccp "memccp failed" "$out/memccp.log"
fi

# ---- 3. bad input ---------------------------------------------------------------
# talk NAME EXPECTED: sends stdin on one connection; the replies must be EXPECTED.
talk() {
	printf '%b' "$2" >"$out/$1.want"
	timeout 60 "$kvtool" talk -p "$port" -q 3000 >"$out/$1.got" 2>&1
	if cmp -s "$out/$1.want" "$out/$1.got"; then
		ok "kvstore-$1"
	else
		fail "kvstore-$1" "got $(od -c "$out/$1.got" | head -5 | tr -s ' ' | tr '\n' ' ')"
	fi
}
after='set after 0 0 2\r\nok\r\nget after\r\n'
after_reply='STORED\r\nVALUE after 0 2\r\nok\r\nEND\r\n'
printf "set a x 0 1\r\nx\r\nbogus\r\n$after" |
	talk bad-command "CLIENT_ERROR bad command line format\r\nERROR\r\nERROR\r\n$after_reply"
key251=$(head -c 251 /dev/zero | tr '\0' k)
printf "set $key251 0 0 1\r\nx\r\nget $key251\r\n$after" |
	talk key-251-bytes "CLIENT_ERROR bad command line format\r\nERROR\r\nCLIENT_ERROR bad command line format\r\n$after_reply"
{ printf 'set big 0 0 2097152\r\n'; head -c 2097152 /dev/zero; printf "\r\nget big\r\n$after"; } |
	talk value-2MiB "SERVER_ERROR object too large for cache\r\nEND\r\n$after_reply"
printf "set short 0 0 2\r\nabc\r\nGET after\r\n#!@ junk 1 2 3\r\n\r\n$after" |
	talk junk-then-command "CLIENT_ERROR bad data chunk\r\nERROR\r\nERROR\r\nERROR\r\nERROR\r\n$after_reply"
printf 'set half 0 0 100\r\nonly part of it' | timeout 60 "$kvtool" talk -p "$port" -x
printf "get half\r\n$after" | talk vanished-mid-value "END\r\n$after_reply"

# The binary protocol: bin OP KEYLEN EXTLEN BODYLEN is a request header,
# res OP STATUS BODYLEN a response header (opaque 0xdeadbeef, cas 0).
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
zero8='\x00\x00\x00\x00\x00\x00\x00\x00'
bin() { printf '%b' "\\x80\\x$(printf %02x "$1")\\x00\\x$(printf %02x "$2")\\x$(printf %02x "$3")\\x00\\x00\\x00$(be32 "$4")\\xde\\xad\\xbe\\xef$zero8"; }
res() { printf '%s' "\\x81\\x$(printf %02x "$1")\\x00\\x00\\x00\\x00\\x00\\x$(printf %02x "$2")$(be32 "$3")\\xde\\xad\\xbe\\xef$zero8"; }
{ bin 0x0a 0 0 0; bin 0x55 0 0 0; bin 0x0a 0 0 0; } |
	talk binary-unknown-opcode "$(res 0x0a 0 0)$(res 0x55 0x81 15)Unknown command$(res 0x0a 0 0)"
{ bin 0x01 1 8 $((8 + 1 + 2097152)); printf '%b' "${zero8}k"; head -c 2097152 /dev/zero; bin 0x0a 0 0 0; } |
	talk binary-value-2MiB "$(res 0x01 3 10)Too large.$(res 0x0a 0 0)"
{ bin 0x00 10 0 5; printf abcde; } |
	talk binary-wrong-length "$(res 0x00 4 17)Invalid arguments"

# ---- 4. memccat -------------------------------------------------------------
bad=""
for f in "${files[@]}"; do
	n=${f%%:*}
	rm -f "$out/$n.back"
	timeout 120 memccat "$servers" --file="$out/$n.back" "$n" >>"$out/memccat.log" 2>&1
	cmp -s "$out/$n" "$out/$n.back" || bad="$bad $n"
done
if [ -z "$bad" ]; then
	ok "kvstore-memccat-byte-exact (1 B, 100 KiB, 1 MiB)"
else
	fail kvstore-memccat-byte-exact "differs:$bad" "$out/memccat.log"
fi
# ---- 5. UDP ---------------------------------------------------------------------
# udp NAME EXPECTED [kvudp ARGS]: sends stdin as one UDP request; the reply must be EXPECTED.
udp() {
	local name=$1 want=$2
	shift 2
	printf '%b' "$want" >"$out/$name.want"
	timeout 60 "$build/bin/kvudp" -p "$port" "$@" >"$out/$name.got" 2>"$out/$name.err"
	if cmp -s "$out/$name.want" "$out/$name.got"; then
		ok "kvstore-$name ($(cat "$out/$name.err"))"
	else
		fail "kvstore-$name" "got $(od -c "$out/$name.got" | head -3 | tr -s ' ' | tr '\n' ' ')" \
			"$out/$name.err"
	fi
}
printf 'set viaudp 3 0 5\r\nhello\r\n' | udp udp-set 'STORED\r\n'
printf 'get viaudp\r\n' | udp udp-get 'VALUE viaudp 3 5\r\nhello\r\nEND\r\n' -i 65535
{ printf 'VALUE hundredk 0 102400\r\n'; cat "$out/hundredk"; printf '\r\nEND\r\n'; } >"$out/udp-100k.want"
timeout 60 "$build/bin/kvudp" -p "$port" -i 7 >"$out/udp-100k.got" 2>"$out/udp-100k.err" <<<"get hundredk"$'\r'
if cmp -s "$out/udp-100k.want" "$out/udp-100k.got" && grep -q '^kvudp: 7[0-9] datagrams' "$out/udp-100k.err"; then
	ok "kvstore-udp-100KiB-value ($(cat "$out/udp-100k.err"))"
else
	fail kvstore-udp-100KiB-value "not byte-exact or not in 70-79 datagrams" "$out/udp-100k.err"
fi
# Dropped: no reply at all may come.
nothing() {
	if printf '%b' "$2" | timeout 60 "$build/bin/kvudp" -p "$port" -r -n -q 1500 2>"$out/$1.err"; then
		ok "kvstore-$1"
	else
		fail "kvstore-$1" "$(cat "$out/$1.err")"
	fi
}
nothing udp-runt 'get'
nothing udp-header-only '\x00\x01\x00\x00\x00\x01\x00\x00'
nothing udp-two-datagram-request '\x00\x02\x00\x00\x00\x02\x00\x00get viaudp\r\n'
nothing udp-second-datagram '\x00\x03\x00\x01\x00\x02\x00\x00get viaudp\r\n'
printf 'get viaudp\r\n' | udp udp-after-drops 'VALUE viaudp 3 5\r\nhello\r\nEND\r\n'

# ---- 6. memcslap and memcaslap ------------------------------------------------
# memcslap runs one thread: QEMU's user network accepts a forwarded port's
# connections one at a time (slirp listens with a backlog of 1), so the host
# drops simultaneous SYNs and libmemcached's connect can time out on retries
# that have nothing to do with the payload (4 threads here: 1 s stalls, once
# a "TIMEOUT OCCURRED"; memcaslap connects one after another).
for t in set get mget; do
	timeout 300 memcslap --servers=127.0.0.1:$port --concurrency=1 --execute-number=300 \
		--test=$t >"$out/memcslap-$t.log" 2>&1
	rc=$?
	if [ $rc = 0 ] && ! grep -qiE 'error|fail|timeout' "$out/memcslap-$t.log" &&
	    grep -qE "^Time to $t +300 keys" "$out/memcslap-$t.log"; then
		ok "kvstore-memcslap-$t ($(grep -E "^Time to $t " "$out/memcslap-$t.log" | tr -s ' '))"
	else
		fail "kvstore-memcslap-$t" "exit $rc, or an error, or not 300 keys" "$out/memcslap-$t.log"
	fi
done
# memcaslap_clean NAME FIELDS... [-- memcaslap ARGS]: each FIELD's count must be 0.
memcaslap_clean() {
	local name=$1 fields=() f bad=""
	shift
	while [ "$1" != -- ]; do fields+=("$1"); shift; done
	shift
	timeout 120 memcaslap -s 127.0.0.1:$port -T 1 -X 1024 -v 1.0 "$@" >"$out/$name.log" 2>&1
	for f in cmd_get "${fields[@]}"; do
		grep -qE "^$f: [0-9]+" "$out/$name.log" || bad="$bad no-$f"
	done
	for f in "${fields[@]}"; do
		grep -qE "^$f: 0$" "$out/$name.log" || bad="$bad $(grep -E "^$f:" "$out/$name.log" | tr -d ' ')"
	done
	if [ -z "$bad" ] && ! grep -qE '^cmd_get: 0$' "$out/$name.log"; then
		ok "kvstore-$name ($(grep -E '^Run time' "$out/$name.log" | tail -1))"
	else
		fail "kvstore-$name" "$bad" "$out/$name.log"
	fi
}
memcaslap_clean memcaslap-tcp get_misses verify_misses verify_failed -- -c 16 -t 5s
memcaslap_clean memcaslap-udp get_misses verify_misses verify_failed packet_drop packet_disorder \
	udp_timeout -- -c 4 -t 5s -U

if grep -aq '^strata: exit' "$out/serial.log"; then
	fail kvstore-still-running "the machine stopped" "$out/serial.log"
else
	ok kvstore-still-running
fi
