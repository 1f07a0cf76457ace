#!/bin/bash
# tests/crash/powerloss-extsync.sh BUILD N: N power cuts of external
# synchrony (doc/abi.md, "External synchrony"): a reply that reached the host
# is never taken back, even by a cut that loses the disk's volatile cache.
#
# One run of syncecho (netecho's program under STRATA_PAYLOAD_EXTSYNC, its
# counter on UDP port 8) goes through QEMU's blklogwrites driver, which logs
# every write and flush once the disk completed it, while tests/net/udpcount
# asks the counter for values one after the other and writes beside each
# count the size the log had right after the reply came (-l).  A reply
# leaves the machine only once a flush covering its count completed, and
# that flush was logged before: so a count that came while the log had not
# reached the end of flush K + 1's entry is covered by flush K or an older
# one.  mkcrash then builds N crash images from the log, each every write
# before a flush K plus a random subset, torn by sector, of those after it
# (the CrashMonkey model, as powerloss.sh), and each is booted: its
# counter's first answer must be above every count that came before the log
# reached flush K + 1 (for the last flush, every count that came at all).
# K is drawn among the flushes after which a new count came before the next
# one was logged, the cuts that can tell.  A layer 0 that let a reply out
# before its flush completed fails here: the cut just before that flush
# loses the count.  The disk's flushes reach the host's (no cache.no-flush
# on the image), so that they take long enough for such a reply to come
# before the flush is logged.
#
# Ends with "powerloss-extsync: cuts: N, resumed: N, lost commits: L,
# inconsistent: 0"; resumed counts boots that answered, lost those whose
# answer was a count the host had seen.  Exit 0 when every cut passed.
set -u
build=${1:-build} n=${2:-10} kind=powerloss-extsync
. "$(dirname "$0")/lib.sh"
mkcrash=$build/bin/mkcrash udpcount=$build/bin/udpcount
port=$((27000 + ($$ % 500) * 4))
mkdir -p "$out/cuts"

fail() { echo "  $kind: $1" >&2; summary 0 0 0 0 0; exit 1; }

[ -f "$build/layer1/syncecho.elf" ] || fail "syncecho is not built (lwIP missing?)"
"$images/mkiso.sh" "$out/syncecho.iso" "$build/layer0.elf" "$build/layer1/syncecho.elf" \
	"exit-after=120" "" >/dev/null || fail "no ISO"
truncate -s 64M "$out/disk.img"
cp --sparse=always "$out/disk.img" "$out/base.img"
: >"$out/log.bin"

# The logged run: until RUN_REPLIES counts came (default 300), then QEMU is killed.
"$images/qemu.sh" --iso "$out/syncecho.iso" --mem 128M --timeout 120 --log "$out/logged.log" \
	--quiet --net "user,hostfwd=udp:127.0.0.1:$port-:8" -- -pidfile "$out/logged.pid" \
	-blockdev "driver=file,filename=$out/disk.img,node-name=base" \
	-blockdev "driver=file,filename=$out/log.bin,node-name=logf,cache.no-flush=on" \
	-blockdev driver=blklogwrites,file=base,log=logf,node-name=lw,log-sector-size=512,log-super-update-interval=1 \
	-device virtio-blk-pci,drive=lw,request-merging=off </dev/null 2>"$out/qemu.err" &
qsh=$!
"$udpcount" -p "$port" -n "${RUN_REPLIES:-300}" -t 60 -l "$out/log.bin" >"$out/replies.txt" \
	2>"$out/replies.err"
counted=$?
kill -9 "$(cat "$out/logged.pid" 2>/dev/null)" 2>/dev/null
wait "$qsh" 2>/dev/null
[ "$counted" = 0 ] || fail "the logged run's counter stopped answering: $(cat "$out/replies.err")"

# end[K]: the log's size once flush K was logged; head[K]: the newest record
# head logged before flush K.
"$mkcrash" "$out/log.bin" flushes >"$out/flushes.txt" || fail "mkcrash could not read the log"
"$mkcrash" "$out/log.bin" seals >"$out/seals.txt" || fail "mkcrash could not read the log"
mapfile -t end < <(awk 'BEGIN { print 0 } { print $2 }' "$out/flushes.txt")
mapfile -t head < <(cut -d' ' -f3 "$out/seals.txt")
flushes=$((${#end[@]} - 1))
[ "$flushes" -gt 10 ] || fail "the log holds only $flushes flushes"
# The cuts start at the last flush before the first record (the install's
# label, torn, is refused: powerloss.sh says why).
first=0
while [ "${head[first + 1]}" = 0 ]; do first=$((first + 1)); done

# seen[K]: the largest count that came before the log reached flush K + 1
# (K = F: every count).
mapfile -t seen < <(awk -v flushes="$flushes" '
	FNR == NR { end[$1] = $2; next }
	{ size[FNR] = $2; count[FNR] = $1; n = FNR }
	END {
		for (k = 0; k <= flushes; k++) {
			m = 0
			for (i = 1; i <= n; i++)
				if ((k == flushes || size[i] < end[k + 1]) && count[i] > m)
					m = count[i]
			print m
		}
	}' "$out/flushes.txt" "$out/replies.txt")
# The cuts that can tell: at a flush K after which a new count came before
# flush K + 1 was logged.  Such a count is covered by flush K or an older
# one; a layer 0 that let it out before its own flush completed has it
# covered only by flush K + 1, and the cut loses it.
mapfile -t telling < <(for k in $(seq "$first" "$flushes"); do
	[ "$k" -gt 0 ] && [ "${seen[k]}" -gt "${seen[k - 1]}" ] && echo "$k"; done)
[ "${#telling[@]}" -gt 0 ] || fail "no count came between two flushes"

# crash_cut I K SEED SLOT: builds and boots crash image I, cut at flush K
# with the subset after it SEED draws, asks its counter once; writes its tally.
crash_cut() {
	local i=$1 k=$2 img=$out/cuts/$1.img log=$out/cuts/$1.log p=$((port + 1 + $4))
	local got bound ok=0 lost=0 bad=0
	"$mkcrash" "$out/log.bin" "$out/base.img" "$img" "$k" "$3"
	"$images/qemu.sh" --iso "$out/syncecho.iso" --disk "$img" --mem 128M --timeout 120 \
		--log "$log" --quiet --net "user,hostfwd=udp:127.0.0.1:$p-:8" -- -pidfile "$log.pid" \
		</dev/null 2>>"$out/qemu.err" &
	local q=$!
	got=$("$udpcount" -p "$p" -n 1 -t 60 2>"$log.udp" | head -1)
	kill -9 "$(cat "$log.pid" 2>/dev/null)" 2>/dev/null
	wait "$q" 2>/dev/null
	bound=${seen[k]}
	if [ -z "$got" ]; then
		bad=1
		echo "  $kind: cut $i (flush $k of $flushes, seed $3): the counter never answered:" \
			"$(tr -d '\r' <"$log" | grep -a '^strata: \(exit\|checkpoint\|journal\)' | tail -3)" >&2
	elif [ "$got" -le "$bound" ]; then
		lost=1
		echo "  $kind: cut $i (flush $k of $flushes, seed $3): the counter answered $got, but the" \
			"host had seen $bound before the cut" >&2
	else
		ok=1
	fi
	echo "1 $ok $lost 0 $bad" >"$out/cuts/$i.tally"
	rm -f "$img"
}

# Two boots at a time: the machine has two cores, and each boot is one QEMU.
for i in $(seq 1 "$n"); do
	k=${telling[RANDOM % ${#telling[@]}]} seed=$((RANDOM * 32768 + RANDOM))
	crash_cut "$i" "$k" "$seed" $((i % 2)) &
	[ $((i % 2)) = 0 ] && wait
done
wait
# shellcheck disable=SC2046 # five numbers
summary $(tally_sum "$out/cuts") || exit 1
rm -f "$out"/*.img "$out/log.bin" "$out/syncecho.iso"
