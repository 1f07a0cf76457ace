#!/bin/sh
# mkiso.sh OUT.iso LAYER0.elf PAYLOAD.elf "PAYLOAD ARGS" "LAYER0 ARGS"
# Builds one bootable ISO (BIOS and UEFI) holding layer 0 and one payload.
# PAYLOAD "-" leaves the module out (to test layer 0 without a payload).
set -e
[ $# -eq 5 ] || { echo "usage: $0 OUT.iso LAYER0.elf PAYLOAD.elf ARGS L0ARGS" >&2; exit 2; }
out=$1 l0=$2 payload=$3 args=$4 l0args=$5
for f in "$l0" "$payload"; do
	[ "$f" = - ] || [ -f "$f" ] || { echo "mkiso: no such file: $f" >&2; exit 1; }
done

# GRUB's parser is shell-like: single-quote each word so that it reaches the
# payload as typed.  (GRUB joins the words with single spaces; a word holding
# a space would come back double-quoted, so words are split on blanks.)
quote() {
	set -f
	for w in $1; do
		printf "'%s' " "$(printf '%s' "$w" | sed "s/'/'\\\\''/g")"
	done
}
name=$(basename "$payload" .elf)
stage=$(mktemp -d "${TMPDIR:-/tmp}/strata-iso.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub" "$(dirname "$out")"
# GRUB reads every section of layer 0's ELF through the firmware, the
# unloaded ones too (they are handed over for the symbol table): the DWARF
# is four fifths of the file and only gdb needs it, from the build's copy.
objcopy --strip-debug "$l0" "$stage/boot/layer0.elf"
nomodule=""
if [ "$payload" = - ]; then
	nomodule="/module2/d"
else
	cp "$payload" "$stage/boot/payload.elf"
fi
qargs=""; [ -n "$args" ] && qargs=$(quote "$args")
ql0=""; [ -n "$l0args" ] && ql0=$(quote "$l0args")
sed -e "s|@NAME@|$name|" -e "$nomodule" "$(dirname "$0")/grub.cfg.in" \
	| awk -v a="$qargs" -v k="$ql0" '{ gsub(/@ARGS@/, a); gsub(/@L0ARGS@/, k); print }' \
	> "$stage/boot/grub/grub.cfg"
# xorriso 1.5.4 (Debian 12) now and then dies of SIGSEGV while shutting down,
# after it wrote a complete image (seen once in about 250 builds in CI).  A
# failed build is therefore tried again, up to three times in all, and only
# the last failure's log is shown.
try=1
until grub-mkrescue -o "$out" "$stage" >"$stage.log" 2>&1; do
	if [ $try -ge 3 ] || ! grep -q 'SIGSEGV' "$stage.log"; then
		cat "$stage.log" >&2; rm -f "$stage.log" "$out"; exit 1
	fi
	echo "mkiso: xorriso crashed (try $try of 3), building $out again" >&2
	try=$((try + 1))
done
rm -f "$stage.log"
echo "$out"
