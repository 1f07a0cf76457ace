#!/bin/bash
# tests/integration/persist.sh BUILD: the disk cases whose boots depend on
# each other, run in order: what one boot wrote and synced, the next boot of
# the same disk and payload must read back.  Prints one "ok   NAME" or
# "FAIL NAME: why" line per boot, as tests/run.sh counts them; once a boot
# of a chain fails, the boots after it in that chain are failed unrun.
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
