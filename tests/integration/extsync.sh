#!/bin/bash
# tests/integration/extsync.sh BUILD [CUTS]: external synchrony
# (doc/abi.md, "External synchrony"), payload syncecho: netecho's program
# under a header with STRATA_PAYLOAD_EXTSYNC, whose counter on UDP port 8
# answers each request with the count it just raised (layer1/netecho/count.c).
# Prints one "ok   NAME" or "FAIL NAME: why" line per check.
#
#   1. Without a disk nothing is durable and the flag changes nothing: layer
#      0 says so, and the UDP echo and the counter answer as netecho's do.
#   2. With a disk, CUTS cuts (default 10, or EXTSYNC_CUTS): the host asks
#      the counter for values one after the other (tests/net/udpcount.c,
#      which keeps every reply), QEMU is killed (SIGKILL, the disk's cache
#      `unsafe` as in tests/crash/) at a random instant up to a second after
#      the first reply of its boot, and the next boot of the same disk
#      resumes.  Its first reply must be above every value the host received
#      before the cut: the count a client has seen is never taken back.
#   3. The same with CUTS cuts by `system_reset` over QMP, all in one QEMU
#      (as tests/crash/reset.sh), one udpcount asking throughout: a reset
#      drops the frames layer 0 holds, and the machine resumes its last
#      durable checkpoint, which covers every reply it let out.  So the
#      counts the host receives, across every reset, only ever go up.
#   4. The same under power loss, CUTS cuts (tests/crash/powerloss-extsync.sh):
#      a crash image must answer above every count the host received
#      before its cut, which loses the disk's volatile cache.
# integration: sequential
set -u
build=${1:-build} n=${2:-${EXTSYNC_CUTS:-10}} kind=extsync
# shellcheck source=../crash/lib.sh
. "$(dirname "$0")/../crash/lib.sh"
bin=$build/bin
port=$((26000 + ($$ % 1000) * 2))

# shellcheck source=../net/netecho.sh
. "$(dirname "$0")/../net/netecho.sh"
lwip_payload_built syncecho syncecho || exit 0

# ---- 1. no disk: as netecho ---------------------------------------------
qpid="" qsh="" cpid=""
trap 'netecho_stop; stop_qemu; [ -n "$cpid" ] && kill "$cpid" 2>/dev/null' EXIT
netecho_start "$out" nodisk "" \
	"user,hostfwd=udp:127.0.0.1:$port-:7,hostfwd=udp:127.0.0.1:$((port + 1))-:8" syncecho
if ! netecho_await "$out/nodisk.log" '^netecho: up ' 120; then
	fail extsync-no-disk "syncecho never said it was up" "$out/nodisk.log"
elif ! grep -aq 'external synchrony asked for, but without a disk nothing is durable' \
	"$out/nodisk.log"; then
	fail extsync-no-disk "layer 0 did not say that without a disk the flag changes nothing" \
		"$out/nodisk.log"
elif ! "$bin/udpecho" -p "$port" -n 1000 -t 120 >"$out/nodisk-udp.log" 2>&1; then
	fail extsync-no-disk "the UDP echo: $(tail -1 "$out/nodisk-udp.log")" "$out/nodisk.log"
elif ! "$bin/udpcount" -p $((port + 1)) -n 20 >"$out/nodisk-count.log" 2>&1 ||
	[ "$(tr '\n' ' ' <"$out/nodisk-count.log")" != "$(seq -s ' ' 20) " ]; then
	fail extsync-no-disk "the counter did not answer 1 to 20: $(tr '\n' ' ' <"$out/nodisk-count.log")" \
		"$out/nodisk.log"
else
	ok "extsync-no-disk ($(sed -n 's/^udpecho: ok //p' "$out/nodisk-udp.log"))"
fi
netecho_stop

# ---- 2. cuts: no reply is taken back -------------------------------------
# await_first FILE: true once udpcount ($cpid) has printed its first reply.
await_first() {
	for _ in $(seq 300); do
		[ -s "$1" ] && return 0
		kill -0 "$cpid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# max FILE: the largest count in FILE, 0 if none.
max() { sort -n "$1" | tail -1 | grep . || echo 0; }

"$images/mkiso.sh" "$out/syncecho.iso" "$build/layer0.elf" "$build/layer1/syncecho.elf" "" "" \
	>/dev/null || { fail extsync-sigkill "no ISO"; exit 0; }
truncate -s 64M "$out/disk.img"
qemu_net="user,hostfwd=udp:127.0.0.1:$((port + 1))-:8"
seen=0 lowest=""
for i in $(seq 0 "$n"); do
	log=$out/boot-$i.log replies=$out/replies-$i.txt
	boot_bg "$log" "$out/disk.img" "$out/syncecho.iso"
	if [ -z "$qpid" ]; then
		fail extsync-sigkill "boot $i: QEMU did not start" "$out/qemu.err"
		exit 0
	fi
	"$bin/udpcount" -p $((port + 1)) -t 60 >"$replies" 2>"$replies.err" &
	cpid=$!
	if ! await_first "$replies"; then
		fail extsync-sigkill "boot $i: no reply from the counter: $(cat "$replies.err")" "$log"
		exit 0
	fi
	first=$(head -1 "$replies")
	if [ "$i" -gt 0 ] && ! grep -aq '^strata: checkpoint: resuming checkpoint' "$log"; then
		fail extsync-sigkill "boot $i did not resume the checkpoint of the boot before" "$log"
		exit 0
	fi
	if [ "$first" -le "$seen" ]; then
		fail extsync-sigkill "cut $i: the host received $seen before the cut, the resumed counter \
answered $first" "$log"
		exit 0
	fi
	gap=$((first - seen))
	[ "$i" -gt 0 ] && { [ -z "$lowest" ] || [ "$gap" -lt "$lowest" ]; } && lowest=$gap
	[ "$i" = "$n" ] || rand_sleep 1000
	stop_qemu
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	cpid=""
	seen=$(max "$replies")
done
ok "extsync-sigkill ($n cuts, $seen counts; the first reply after a resume was at least $lowest \
above the last before its cut)"

# ---- 3. resets: no reply is taken back -----------------------------------
# replies FILE: how many replies FILE holds.
replies() { wc -l <"$1"; }

# resumes: how many boots have resumed a checkpoint so far.
resumes() { grep -ac '^strata: checkpoint: resuming checkpoint' "$out/reset.log"; }

# answered_after R: waits until R boots have resumed and then the machine has
# answered anew; 1 if it never did.  The wait for the resume comes first: a
# reply the boot before sent just ahead of its reset may reach udpcount late,
# and is no sign of this one.
answered_after() {
	local had
	for _ in $(seq 600); do
		[ "$(resumes)" -ge "$1" ] && break
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.1
	done
	had=$(replies "$out/reset-replies.txt")
	for _ in $(seq 600); do
		[ "$(replies "$out/reset-replies.txt")" -gt "$had" ] && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# reset_cuts: n resets at random instants, each once the boot before has
# answered anew, then the last boot's answer; 1 if a boot never answered.
reset_cuts() {
	for i in $(seq 1 "$n"); do
		answered_after $((i - 1)) || return 1
		rand_sleep 1000
		echo '{"execute": "system_reset"}' >&3
		sleep 0.2
	done
	answered_after "$n"
}

rm -f "$out/disk.img" "$out/reset.log"
truncate -s 64M "$out/disk.img"
mkfifo "$out/qmp.in" "$out/qmp.out"
qemu_timeout=$((60 + n * 10))
boot_bg "$out/reset.log" "$out/disk.img" "$out/syncecho.iso" -action reboot=reset \
	-chardev "pipe,id=qmp,path=$out/qmp" -mon chardev=qmp,mode=control
cat "$out/qmp.out" >"$out/qmp.log" &
drain=$!
exec 3<>"$out/qmp.in"
echo '{"execute": "qmp_capabilities"}' >&3
"$bin/udpcount" -p $((port + 1)) -t 60 >"$out/reset-replies.txt" 2>"$out/reset-replies.err" &
cpid=$!
reset_cuts
answered=$?
echo '{"execute": "quit"}' >&3
exec 3>&-
sleep 1
stop_qemu
kill "$cpid" "$drain" 2>/dev/null
wait "$cpid" "$drain" 2>/dev/null
cpid=""
resumed=$(resumes)
fell=$(awk 'NR > 1 && $1 + 0 <= last { print NR ": " $1 " after " last; exit } { last = $1 + 0 }' \
	"$out/reset-replies.txt")
if [ "$answered" != 0 ]; then
	fail extsync-reset "a boot after a reset never resumed and answered: $(cat "$out/reset-replies.err")" \
		"$out/reset.log"
elif [ "$resumed" != "$n" ]; then
	fail extsync-reset "$n resets, but $resumed boots resumed a checkpoint" "$out/reset.log"
elif [ -n "$fell" ]; then
	fail extsync-reset "a count the host had seen was taken back: reply $fell" "$out/reset.log"
else
	ok "extsync-reset ($n resets, $(replies "$out/reset-replies.txt") replies, every one above \
those before it)"
fi
rm -f "$out/disk.img" "$out/syncecho.iso" "$out/qmp.in" "$out/qmp.out"

# ---- 4. power loss: no reply is taken back either ------------------------
"$(dirname "$0")/../crash/powerloss-extsync.sh" "$build" "$n" >"$out/powerloss.txt" 2>&1
if [ $? = 0 ]; then
	ok "extsync-powerloss ($(sed -n 's/^powerloss-extsync: //p' "$out/powerloss.txt"))"
else
	fail extsync-powerloss "$(grep -a '^powerloss-extsync: cuts' "$out/powerloss.txt")" "$out/powerloss.txt"
fi
