#!/bin/bash
# tests/crash/reset.sh BUILD N [MS]: N cuts by `system_reset` over QMP, all in
# one QEMU.  images/qemu.sh passes -no-reboot, under which QEMU 7.2 turns a
# reset into an exit; `-action reboot=reset` after it makes the reset reboot
# the machine in the same process, from the same ISO, so that each cut is
# followed by a boot that must resume at a committed state (lib.sh, tally;
# cut_point says when cuts come).
# The counter commits every 100000 steps (some tens of ms) and layer 0 takes
# a periodic checkpoint every 5 ms besides, at whatever instruction layer 1
# is at, so these cuts resume mid-step too (sigkill.sh's, at commits).
# QMP runs over a pipe chardev (OUT/qmp.in and qmp.out), so the script needs
# no socket client.  Ends with the line
# "reset: cuts: N, resumed: N, lost commits: 0, inconsistent: 0"; exit 0
# when it says so.  With MS, the counter never commits and layer 0 takes a
# checkpoint every MS ms (lib.sh, interval; the kind is then reset-cpMS).
set -u
build=${1:-build} n=${2:-20} interval=${3:-} kind=reset${3:+-cp$3}
. "$(dirname "$0")/lib.sh"

crash_prepare_kind "every=100000" "checkpoint=5"
mkfifo "$out/qmp.in" "$out/qmp.out"
qemu_timeout=$((60 + n * 10))	# a cut takes about a second
boot_bg "$out/serial.log" "$out/disk.img" "$out/counter.iso" -action reboot=reset \
	-chardev "pipe,id=qmp,path=$out/qmp" -mon chardev=qmp,mode=control
# Drain QEMU's replies and events, or the pipe fills and QEMU blocks.
cat "$out/qmp.out" >"$out/qmp.log" &
drain=$!
# Read-write, so that the open does not wait for QEMU nor a write kill the script if it died.
exec 3<>"$out/qmp.in"
echo '{"execute": "qmp_capabilities"}' >&3
from=0
for i in $(seq 0 "$n"); do
	if [ -z "$qpid" ] || ! cut_point "$out/serial.log" "$from" "$i"; then
		echo "  $kind: boot $((i + 1)) never got to its cut; its end:" >&2
		boot_end "$out/serial.log" "$from"
		break
	fi
	[ "$i" = "$n" ] && break
	from=$(stat -c %s "$out/serial.log")
	echo '{"execute": "system_reset"}' >&3
done
echo '{"execute": "quit"}' >&3
exec 3>&-
sleep 1
stop_qemu
kill "$drain" 2>/dev/null
wait "$drain" 2>/dev/null
read -r cuts resumed lost inconsistent bad < <(tally_kind "$out/serial.log")
summary "$cuts" "$resumed" "$lost" "$inconsistent" "$bad" || exit 1
rm -f "$out/disk.img" "$out/counter.iso"
