#!/bin/bash
# tests/integration/persist.sh BUILD: the disk cases whose boots depend on
# each other, run in order: what one boot wrote and synced, the next boot of
# the same disk and payload must read back.  Prints one "ok   NAME" or
# "FAIL NAME: why" line per boot, as tests/run.sh counts them; once a boot
# of a chain fails, the boots after it in that chain are failed unrun.
# integration: sequential
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$build/tests/out/persist
disks=$build/tests/disks
rm -rf "$out"
mkdir -p "$out"
n=0 broken=""

# boot DISK MEM NAME PAYLOAD EXIT ARGS L0ARGS PATTERN...: one boot, through
# the spec file tests/run.sh's t() writes and integration/case.sh reads.
boot() {
	local disk=$1 mem=$2 spec r
	shift 2
	if [ -n "$broken" ]; then
		echo "FAIL $1: not run, $broken failed"
		return
	fi
	n=$((n + 1))
	spec=$out/case-$n.spec r=$out/case-$n.result
	printf '%s\n' 0 "$mem" "$disk" "" "$@" >"$spec"
	"$here/case.sh" "$build" "$spec"
	cat "$r"
	grep -q '^ok' "$r" || broken=$1
}

# Written and synced in one boot, there in the next; and a wrong seed fails,
# so a verify that passes means something.
p=$disks/disk-persist-write.img
boot 64M "" disk-persist-write disktest 0 "write seed=7" "" \
	'^disktest: wrote [0-9]+ MiB seed 7 ' '^strata: exit 0 '
boot "$p" "" disk-persist-verify disktest 0 "verify seed=7" "" \
	'^disktest: verified [0-9]+ MiB seed 7 ' '^strata: exit 0 '
boot "$p" "" disk-persist-verify-wrong-seed disktest 1 "verify seed=8" "" \
	'^disktest: FAILED verify seed 8: word at 0x' '^strata: exit 1 '
# Random reads of what was written, 32 prefetched ahead (issue 17): every word
# read is the written one, the reads were the prefetch's; the wrong seed fails.
boot "$p" "" disk-persist-randread disktest 0 "randread n=2000 prefetch=32 seed=7" "" \
	'^disktest: randread 2000 pages prefetch 32 in [0-9]+ ms = [0-9]+ reads/s, every word right' \
	'^strata: pager: prefetch: 2000 traps, [1-9][0-9]* reads' '^strata: exit 0 '
boot "$p" "" disk-persist-randread-wrong-seed disktest 1 "randread n=2000 prefetch=32 seed=8" "" \
	'^disktest: FAILED randread: 2000 of 2000 words wrong' '^strata: exit 1 '
broken=""

# What the disk holds decides what an install may do; a boot without a
# module after the payload exited starts it afresh, with the command line it
# was installed with.
d=$disks/disk-label-install.img
boot 64M "" disk-label-install args 0 "one two" "" \
	'^strata: installed "args" on disk0 \(install 1\)' 'argv\[2\] = two' '^strata: exit 0 '
boot "$d" "" disk-label-from-disk - 0 "" "" \
	'running the payload "args" installed on disk0' 'checkpoint: fresh start \(the payload exited\)' '^argc = 3' \
	'argv\[1\] = one' 'argv\[2\] = two' '^strata: exit 0 '
boot "$d" "" disk-label-other hello 73 "" "" \
	'holds the payload "args"; not overwriting it with "hello"' '^strata: exit 73 '
boot "$d" "" disk-label-force hello 0 "" "install=force" \
	'^strata: installed "hello" on disk0 \(install 2\)' 'Hello from layer 1' '^strata: exit 0 '
# One bit flipped in the label (a flag of the payload header it keeps):
# the disk is no longer a Strata disk, and only install=force takes it.
if [ -z "$broken" ]; then
	b=$(od -An -tu1 -j100 -N1 "$d" | tr -d ' ')
	printf "\\$(printf '%03o' $((b ^ 1)))" | dd of="$d" bs=1 seek=100 conv=notrunc status=none
fi
boot "$d" "" disk-label-flipped-bit hello 75 "" "" \
	'disk0 is not a Strata disk: a damaged Strata label \(its checksum does not match\)' '^strata: exit 75 '
boot "$d" "" disk-label-flipped-bit-from-disk - 66 "" "" 'not a Strata disk' '^strata: exit 66 '
boot "$d" "" disk-label-flipped-bit-force hello 0 "" "install=force" \
	'overwriting it: install=force' '^strata: installed "hello" on disk0 \(install 1\)' '^strata: exit 0 '
broken=""

# A start from the disk after an exit is as fresh as one from the module:
# .data as built, .bss and the stack zero, though the last run dirtied and
# synced them all.
f=$disks/disk-fresh-install.img
boot 64M "" disk-fresh-install disktest 0 "state" "" '^disktest: state fresh' '^strata: exit 0 '
boot "$f" "" disk-fresh-from-disk - 0 "" "" 'checkpoint: fresh start \(the payload exited\)' '^disktest: state fresh' '^strata: exit 0 '
boot "$f" "" disk-fresh-from-disk-again - 0 "" "" '^disktest: state fresh' '^strata: exit 0 '
broken=""

# An install cut short (installstop=STEP stops the machine after STEP) never
# leaves a disk that runs: a boot without the module refuses it until a boot
# with the module has installed it again.
c=$disks/disk-cut-old.img
boot 64M "" disk-cut-old args 0 "old" "" 'argv\[1\] = old' '^strata: exit 0 '
boot "$c" "" disk-cut-image args 78 "new" "installstop=image" \
	'installstop=image: stopping the install here' '^strata: exit 78 '
boot "$c" "" disk-cut-image-from-disk - 78 "" "" 'the install of "args" was cut short' '^strata: exit 78 '
boot "$c" "" disk-cut-again args 0 "again" "" 'was cut short; installing again' \
	'argv\[1\] = again' '^strata: exit 0 '
boot "$c" "" disk-cut-again-from-disk - 0 "" "" 'argv\[1\] = again' '^strata: exit 0 '
broken=""
cb=$disks/disk-cut-begun.img
boot 64M "" disk-cut-begun hello 78 "" "installstop=begun" \
	'installstop=begun: stopping the install here' '^strata: exit 78 '
boot "$cb" "" disk-cut-begun-from-disk - 78 "" "" 'the install of "hello" was cut short' '^strata: exit 78 '
broken=""

# Builds of disktest with more .data, linked as the GNUmakefile links
# disktest: 64 KiB more (its image ends 64 KiB later), and 1 MiB more (its
# writable pages no longer fit the disk's head).
grown() {
	printf '.section .data.grow, "aw"\n.fill %s, 1, 0x47\n' "$1" | as -o "$out/grow-$1.o" - &&
	ld -static -nostdlib -z max-page-size=0x1000 -z noexecstack -T "$build/layer1/payload.ld" \
		"$build"/l1/layer1/disktest/*.o "$out/grow-$1.o" "$build/layer1/libstrata.a" \
		-o "$out/disktest-grown-$1.elf"
}
grown 65536 && grown 1048576 || echo "FAIL disk-grown: could not link the grown builds of disktest"

# A larger build may take free-area pages layer 1 never wrote, not those
# holding its data.
o=$disks/disk-overlap-write.img
boot 64M "" disk-overlap-write disktest 0 "write seed=5" "" '^disktest: wrote [0-9]+ MiB seed 5 '
boot "$o" "" disk-overlap-grown "$out/disktest-grown-65536.elf" 76 "verify seed=5" "" \
	'would overwrite [0-9]+ KiB of the free area, which holds layer 1.s data' '^strata: exit 76 '
boot "$o" "" disk-overlap-kept disktest 0 "verify seed=5" "" '^disktest: verified [0-9]+ MiB seed 5 ' \
	'^strata: exit 0 '
broken=""
g=$disks/disk-grow-install.img
boot 64M "" disk-grow-install disktest 0 "edge" "" '^disktest: edge ok' '^strata: exit 0 '
boot "$g" "" disk-grow-grown "$out/disktest-grown-65536.elf" 0 "edge" "" \
	'replacing the installed "disktest" with a new build of it' '^disktest: edge ok' '^strata: exit 0 '
broken=""
boot 64M "" disk-data-too-large "$out/disktest-grown-1048576.elf" 67 "edge" "" \
	'a disk keeps at most 960 KiB of them' '^strata: exit 67 '
broken=""

# A disk 30 times the RAM: every page of it passes through a cache that
# holds a few percent of it, so write-back and eviction carry the data.
# About 30 s under TCG on two cores; the image is 2 GiB of host disk once
# written, so it is removed when the chain passes.
big=$disks/disk-big-write.img
boot 2G 64M disk-big-write disktest 0 "write seed=3" "" \
	'^disktest: wrote [0-9]+ MiB seed 3 ' 'pager: .* [1-9][0-9]* evictions' '^strata: exit 0 '
boot "$big" 64M disk-big-verify disktest 0 "verify seed=3" "" \
	'^disktest: verified [0-9]+ MiB seed 3 ' '^strata: exit 0 '
[ -z "$broken" ] && rm -f "$big"
exit 0
