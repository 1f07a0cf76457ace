#!/bin/bash
# case.sh BUILD SPEC: boots one integration case and writes SPEC's .result:
# "ok   NAME" or "FAIL NAME: why" with the serial log after it.
set -u
build=$1 spec=$2
readarray -t f <"$spec"
uefi=${f[0]} name=${f[1]} payload=${f[2]} want=${f[3]} args=${f[4]} l0args=${f[5]}
patterns=("${f[@]:6}")
result=${spec%.spec}.result
iso=$build/tests/iso/$name.iso
log=$build/tests/out/$name.serial
images=$(dirname "$0")/../../images

case "$payload" in
-|*/*) elf=$payload ;;			# no module at all, or a file of its own
*) elf=$build/layer1/$payload.elf ;;
esac
if ! "$images/mkiso.sh" "$iso" "$build/layer0.elf" "$elf" "$args" "$l0args" >/dev/null 2>"$log.err"; then
	{ echo "FAIL $name: could not build its ISO"; sed 's/^/    /' "$log.err"; } >"$result"
	exit 0
fi
"$images/qemu.sh" --iso "$iso" --uefi "$uefi" --timeout "${STRATA_TEST_TIMEOUT:-120}" --log "$log" --quiet 2>"$log.err"
rc=$?
why=""
[ "$rc" = "$want" ] || why="exit code $rc, expected $want"
for p in "${patterns[@]}"; do
	[ -n "$why" ] && break
	grep -qE -- "$p" "$log" || why="serial output lacks /$p/"
done
if [ -z "$why" ]; then
	echo "ok   $name" >"$result"
else
	{ echo "FAIL $name: $why"; sed 's/^/    | /' "$log" "$log.err" | tail -40; } >"$result"
fi
exit 0
