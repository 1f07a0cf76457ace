#!/bin/bash
# tests/crash/sigkill.sh BUILD N [MS]: N cuts by SIGKILL.  The counter commits at
# every step on one disk; QEMU is killed at a random instant of each run, and
# the next QEMU, booting the same ISO on the same disk, must resume at a
# committed state (lib.sh, tally; cut_point says when cuts come).  What QEMU wrote to the image before the
# kill stays (the host's page cache keeps it): the cut of a machine that
# stops dead with its disk intact.  Ends with the line
# "sigkill: cuts: N, resumed: N, lost commits: 0, inconsistent: 0"; exit 0
# when it says so.  With MS, the counter never commits and layer 0 takes a
# checkpoint every MS ms (lib.sh, interval; the kind is then sigkill-cpMS).
set -u
build=${1:-build} n=${2:-20} interval=${3:-} kind=sigkill${3:+-cp$3}
. "$(dirname "$0")/lib.sh"

crash_prepare_kind "every=1" ""
: >"$out/serial.log"
# Boot i + 1 checks cut i; the last boot is killed too, but checks nothing.
for i in $(seq 0 "$n"); do
	boot_bg "$out/boot.log" "$out/disk.img" "$out/counter.iso"
	ok=1
	[ -n "$qpid" ] && cut_point "$out/boot.log" 0 "$i" || ok=0
	stop_qemu
	{ cat "$out/boot.log"; echo; } >>"$out/serial.log"
	if [ "$ok" = 0 ]; then
		echo "  $kind: boot $((i + 1)) never got to its cut; its end:" >&2
		boot_end "$out/boot.log" 0
		break
	fi
done
read -r cuts resumed lost inconsistent bad < <(tally_kind "$out/serial.log")
summary "$cuts" "$resumed" "$lost" "$inconsistent" "$bad" || exit 1
rm -f "$out/disk.img" "$out/counter.iso"
