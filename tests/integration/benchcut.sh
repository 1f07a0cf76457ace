#!/bin/bash
# tests/integration/benchcut.sh BUILD: the boots of the checkpoint
# benchmark (tests/bench/checkpoint.sh) that depend on each other, run small
# and in order:
#   benchcut-blkbench-keeps-data  blkbench=all on a disk disktest wrote: it
#                       rewrites the disk's own bytes, so the data (and the
#                       head and journal the boot reads) still verify
#   benchcut-cut        disktest resume mib=1 commits and waits; QEMU is
#                       killed (SIGKILL) at its line
#   benchcut-resume     the next boot resumes that checkpoint, the payload
#                       says so and finds its 1 MiB as committed; the line
#                       has a stamp (stamped.sh) from layer 0's first line
#   benchcut-fresh      a copy of the cut disk booted with "fresh" starts
#                       fresh, its first line stamped
# Prints one "ok   NAME" or "FAIL NAME: why" line each, as tests/run.sh
# counts them; a boot whose disk an earlier one failed to write is failed
# unrun.
# integration: sequential
set -u
build=${1:-build}
images=$(cd "$(dirname "$0")/../../images" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$build/tests/out/benchcut
rm -rf "$out"
mkdir -p "$out"
# shellcheck source=stamped.sh
. "$here/stamped.sh"

# fail NAME WHY LOG: the FAIL line and the log's end.
fail() { echo "FAIL $1: $2"; sed 's/^/    | /' "$3" | tail -25; }

# iso NAME ARGS L0ARGS: disktest's ISO for NAME.
iso() { "$images/mkiso.sh" "$out/$1.iso" "$build/layer0.elf" "$build/layer1/disktest.elf" "$2" "$3" >/dev/null; }

# boot NAME DISK: NAME's ISO on DISK, its log in $out/NAME.log; returns qemu.sh's code.
boot() {
	"$images/qemu.sh" --iso "$out/$1.iso" --disk "$2" --timeout 120 --log "$out/$1.log" --quiet \
		2>"$out/$1.err"
}

# A number of ms: a stamp_ms that found its line.
is_ms() { [[ $1 =~ ^[0-9]+$ ]]; }

d=$out/data.img
truncate -s 64M "$d"
iso write "write seed=5" ""
iso verify "verify seed=5" "blkbench=all"
if ! boot write "$d"; then
	fail benchcut-blkbench-keeps-data "disktest write seed=5 failed" "$out/write.log"
elif boot verify "$d" && grep -q '^disktest: verified [0-9]* MiB seed 5 ' "$out/verify.log" &&
	grep -q '^strata: blkbench: write: 64 MiB at sector 0' "$out/verify.log"; then
	echo "ok   benchcut-blkbench-keeps-data"
else
	fail benchcut-blkbench-keeps-data "after blkbench=all the disk no longer verifies" "$out/verify.log"
fi

r=$out/resume.img
truncate -s 64M "$r"
iso resume "resume mib=1" "checkpoint=0"
iso fresh "resume mib=1" "checkpoint=0 fresh"
stamped_boot "$out/cut.log" 'waiting for a cut' --iso "$out/resume.iso" --disk "$r" --timeout 120 --
seq=$(sed -nE 's/^disktest: resume: 1 MiB committed in checkpoint ([0-9]+), waiting for a cut.*/\1/p' \
	"$out/cut.log" | tr -d '\r')
if [ -z "$seq" ] || grep -q '^strata: exit' "$out/cut.log"; then
	fail benchcut-cut "no 'committed in checkpoint S, waiting for a cut', or the machine exited" "$out/cut.log"
	echo "FAIL benchcut-resume: not run, benchcut-cut failed"
	echo "FAIL benchcut-fresh: not run, benchcut-cut failed"
	exit 0
fi
echo "ok   benchcut-cut (checkpoint $seq)"

cp --sparse=always "$r" "$r.copy"
stamped_boot "$out/resumed.log" '' --iso "$out/resume.iso" --disk "$r" --timeout 120 --
rc=$?
ms=$(stamp_ms "$out/resumed.log" '^disktest: resume: resumed \(resume 1\)')
if [ "$rc" = 0 ] && grep -q "resuming checkpoint $seq of \"disktest\" (resume 1)" "$out/resumed.log" &&
	grep -q '^disktest: resume: 1 MiB as committed' "$out/resumed.log" && is_ms "$ms"; then
	echo "ok   benchcut-resume (the payload again $ms ms after layer 0's first line)"
else
	fail benchcut-resume "exit $rc; wanted 0, checkpoint $seq resumed, 1 MiB as committed, a stamp ('$ms')" \
		"$out/resumed.log"
fi

stamped_boot "$out/fresh.log" '^disktest: ' --iso "$out/fresh.iso" --disk "$r.copy" --timeout 120 --
ms=$(stamp_ms "$out/fresh.log" '^disktest: ')
if grep -q 'checkpoint: fresh start' "$out/fresh.log" && is_ms "$ms"; then
	echo "ok   benchcut-fresh (the payload's first line $ms ms after layer 0's)"
else
	fail benchcut-fresh "no 'checkpoint: fresh start', or no stamp ('$ms')" "$out/fresh.log"
fi
rm -f "$d" "$r" "$r.copy"
exit 0
