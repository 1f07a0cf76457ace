#!/bin/bash
# tests/net/kvfill.sh BUILD MEM MIB SIZE DIR: the store larger than RAM.
# Boots kvplain (kvstore, durable=interval: a fill at the pager's pace, not a commit's)
# in a guest of MEM (QEMU's -m) on a blank disk sized for MIB MiB of values
# plus the table's index and slack, fills it with MIB MiB of SIZE-byte values
# (key:0 .. key:N-1, each value made from its key by tests/net/kvtool), then
# gets every key once in a shuffled order and checks each value byte for
# byte.  The values are MIB / RAM times the guest's memory, so the pager must
# evict and read back from the disk for most gets.  Files go to DIR.
# Prints "kvfill: fill N sets of SIZE bytes in MS ms, R sets/s" and
# "kvfill: gets N in S s, R gets/s, every value exact", and
# exits 0 when every value came back; 1 with a "kvfill: ..." line saying
# what went wrong and the serial log's tail.  Every QEMU it starts is killed
# on exit.
set -u
build=$1 mem=$2 mib=$3 size=$4 dir=$5
images=$(cd "$(dirname "$0")/../../images" && pwd)
kvtool=$build/bin/kvtool
n=$((mib * 1024 * 1024 / size))
# The disk: the values, a fifth more for the chunks' rounding up to their
# slab class and the index, and 96 MiB for the image, the journal and the table's alignment.
# KVFILL_DISK_MIB= gives another size (a disk much larger than the store).
disk_mib=${KVFILL_DISK_MIB:-$((mib + mib / 5 + 96))}
# shellcheck source=ports.sh
. "$(dirname "$0")/ports.sh"
rm -rf "$dir"
mkdir -p "$dir"
qpid=""
# QEMU's pid from its pidfile, even if the wait for it was cut short.
trap '[ -z "$qpid" ] && [ -s "$dir/qemu.pid" ] && qpid=$(cat "$dir/qemu.pid"); [ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null' EXIT
trap 'exit 1' INT TERM HUP

die() {
	echo "kvfill: $1"
	tail -15 "$dir/serial.log" 2>/dev/null | sed 's/^/    | /'
	exit 1
}

port=$(free_ports 1) || die "no free port in 31000-31999"
"$images/mkiso.sh" "$dir/kvstore.iso" "$build/layer0.elf" "$build/layer1/kvplain.elf" \
	"durable=interval" "" >/dev/null || die "no ISO"
truncate -s "${disk_mib}M" "$dir/disk.img"
"$images/qemu.sh" --iso "$dir/kvstore.iso" --disk "$dir/disk.img" --disk-cache unsafe \
	--mem "$mem" --timeout 1800 --net "user,hostfwd=tcp:127.0.0.1:$port-:11211" \
	--log "$dir/serial.log" --quiet -- -pidfile "$dir/qemu.pid" </dev/null 2>"$dir/qemu.err" &
qsh=$!
for _ in $(seq 600); do
	[ -z "$qpid" ] && [ -s "$dir/qemu.pid" ] && qpid=$(cat "$dir/qemu.pid")
	grep -aq '^kvstore: up' "$dir/serial.log" 2>/dev/null && break
	kill -0 "$qsh" 2>/dev/null || die "QEMU ended before kvstore served"
	sleep 0.1
done
grep -aq '^kvstore: up' "$dir/serial.log" || die "kvstore did not serve within 60 s"

t0=$(date +%s%N)
"$kvtool" load -p "$port" -n "$n" -c 16 -s "$size" -o "$dir/acked" >"$dir/load.log" 2>&1 ||
	die "the fill failed: $(tail -1 "$dir/load.log")"
t1=$(date +%s%N)
grep -q "^kvtool: load: $n stored" "$dir/load.log" || die "the fill stopped: $(tail -1 "$dir/load.log")"
ms=$(((t1 - t0) / 1000000))
echo "kvfill: fill $n sets of $size bytes in $ms ms, $((n * 1000 / (ms > 0 ? ms : 1))) sets/s"
"$kvtool" verify -p "$port" -n "$n" -s "$size" -r "$$" >"$dir/verify.log" 2>&1 ||
	die "the random gets failed: $(tail -1 "$dir/verify.log")"
echo "kvfill: gets $n in $(sed -n 's/^kvtool: verify: ok [0-9]* keys in //p' "$dir/verify.log"), every value exact"
kill -0 "$qpid" 2>/dev/null || die "QEMU ended during the check"
