#!/bin/bash
# tests/integration/crashlog.sh BUILD: the power-cut model the crash tests
# will use, checked against QEMU itself.  A disktest run writes and syncs
# through QEMU's blklogwrites driver; build/bin/mkcrash must then rebuild,
# from the log and the disk as it was before, exactly the disk QEMU left
# (every write applied), and a cut right after each flush must hold what
# the disk held at that flush: a prefix of the final image's changes, with
# the last flush's image again the final one (disktest's last act is a sync).
# Prints one "ok   NAME" or "FAIL NAME: why" line per check.
# integration: sequential
set -u
build=${1:-build}
images=$(cd "$(dirname "$0")/../../images" && pwd)
out=$build/tests/out/crashlog
mkcrash=$build/bin/mkcrash
rm -rf "$out"
mkdir -p "$out"

fail() { echo "FAIL $1"; [ -f "$out/serial.log" ] && tail -15 "$out/serial.log" | sed 's/^/    | /'; }

truncate -s 64M "$out/disk.img"
cp --sparse=always "$out/disk.img" "$out/base.img"
: >"$out/log.bin"
"$images/mkiso.sh" "$out/dt.iso" "$build/layer0.elf" "$build/layer1/disktest.elf" "write seed=3" "" \
	>/dev/null 2>"$out/mkiso.err" || { fail "crashlog-boot: no ISO"; exit 0; }
"$images/qemu.sh" --iso "$out/dt.iso" --mem 128M --timeout 120 --log "$out/serial.log" --quiet -- \
	-blockdev "driver=file,filename=$out/disk.img,node-name=base,cache.no-flush=on" \
	-blockdev "driver=file,filename=$out/log.bin,node-name=logf,cache.no-flush=on" \
	-blockdev driver=blklogwrites,file=base,log=logf,node-name=lw,log-sector-size=512,log-super-update-interval=1 \
	-device virtio-blk-pci,drive=lw,request-merging=off 2>"$out/qemu.err"
rc=$?
if [ "$rc" != 0 ]; then fail "crashlog-boot: disktest write exited $rc"; exit 0; fi
echo "ok   crashlog-boot"

read -r _ entries _ writes _ flushes < <("$mkcrash" "$out/log.bin")
if [ "${flushes:-0}" -lt 2 ] || [ "${writes:-0}" -lt 2 ]; then
	fail "crashlog-log: $entries entries, $writes writes, $flushes flushes: the log saw no syncs"; exit 0
fi
"$mkcrash" "$out/log.bin" "$out/base.img" "$out/all.img" $((flushes + 1))
if cmp -s "$out/all.img" "$out/disk.img"; then
	echo "ok   crashlog-replay-all ($writes writes, $flushes flushes)"
else
	fail "crashlog-replay-all: the log replayed on the old disk is not the disk QEMU left"
fi
# Nothing follows the last flush, so the cut after it is the final disk; the
# cut after the first flush is not (disktest writes after it).
"$mkcrash" "$out/log.bin" "$out/base.img" "$out/last.img" "$flushes"
"$mkcrash" "$out/log.bin" "$out/base.img" "$out/first.img" 1
"$mkcrash" "$out/log.bin" "$out/base.img" "$out/sub.img" 1 7
if cmp -s "$out/last.img" "$out/disk.img" && ! cmp -s "$out/first.img" "$out/disk.img" &&
	! cmp -s "$out/sub.img" "$out/first.img"; then
	echo "ok   crashlog-cuts"
else
	fail "crashlog-cuts: a cut after the last flush must be the final disk, after the first not, and a subset differ"
fi
rm -f "$out"/*.img "$out/log.bin" "$out/dt.iso"
