#!/bin/bash
# case.sh BUILD SPEC: boots one integration case and writes SPEC's .result:
# "ok   NAME" or "FAIL NAME: why" with the serial log after it.
# integration: helper
set -u
build=$1 spec=$2
readarray -t f <"$spec"
uefi=${f[0]} mem=${f[1]} disk=${f[2]} qemuargs=${f[3]}
name=${f[4]} payload=${f[5]} want=${f[6]} args=${f[7]} l0args=${f[8]}
patterns=("${f[@]:9}")
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

# The machine: RAM, and a disk.  DISK is a size (a fresh sparse raw image made
# for this boot, $build/tests/disks/NAME.img) or the path of an image an
# earlier boot wrote.  QEMUARGS are extra QEMU words; when they name the
# image as @DISK@ they attach it themselves (blkdebug) instead of --disk.
opts=(--iso "$iso" --uefi "$uefi" --timeout "${STRATA_TEST_TIMEOUT:-120}" --log "$log" --quiet)
[ -n "$mem" ] && opts+=(--mem "$mem")
img=""
if [[ $disk =~ ^[0-9]+[KMGT]?$ ]]; then
	img=$build/tests/disks/$name.img
	mkdir -p "$(dirname "$img")"
	rm -f "$img"
	truncate -s "$disk" "$img"
elif [ -n "$disk" ]; then
	img=$disk
	[ -f "$img" ] || { echo "FAIL $name: no disk image $img" >"$result"; exit 0; }
fi
if [ -n "$img" ] && [[ $qemuargs != *@DISK@* ]]; then
	opts+=(--disk "$img")
fi
set -f
# shellcheck disable=SC2206 # the words are split on blanks on purpose
extra=(${qemuargs//@DISK@/$img})
set +f
"$images/qemu.sh" "${opts[@]}" -- "${extra[@]}" 2>"$log.err"
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
