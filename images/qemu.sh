#!/bin/bash
# qemu.sh --iso FILE [--mem 128M] [--disk PATH] [--disk-cache MODE] [--uefi 0|1]
#         [--net SPEC|none] [--timeout SEC] [--log FILE] [--quiet] [-- extra qemu args]
# qemu.sh --kernel BZIMAGE --initrd CPIO [--append CMDLINE] [same options]
#
# Boots a Strata ISO in QEMU (q35, TCG) with the serial console on stdout and
# returns what the machine returned: the payload's exit code (0..63), layer
# 0's code for a fault or violation (64..127, see abi/strata/exit.h), or
#   124  the timeout ran out
#   125  the machine reset or stopped without layer 0's final "strata: exit" line
#   126  QEMU itself failed to start
# --disk-cache gives the disk QEMU's cache=MODE: `unsafe` makes the guest's
# flushes free on the host, for tests that kill QEMU (the host keeps what
# QEMU wrote) but do not cut the host's power.
# --kernel boots a Linux kernel and initramfs instead of an ISO, in the same
# machine (the Linux guest of tests/bench/linux.sh): that guest never prints
# layer 0's report, so its status is 124, 125 or 126 as above.
set -u
iso="" kernel="" initrd="" append="" mem=128M disk="" cache="" uefi=0 net=none timeout=0 log="" quiet=0 extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--iso) iso=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--disk) disk=$2; shift 2 ;;
	--disk-cache) cache=",cache=$2"; shift 2 ;;
	--uefi) uefi=$2; shift 2 ;;
	--net) net=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--) shift; extra=("$@"); break ;;
	*) echo "qemu.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
args=(-M q35 -m "$mem" -display none -no-reboot -vga none
	-device isa-debug-exit,iobase=0xf4,iosize=0x04)
if [ -n "$kernel" ]; then
	[ -f "$kernel" ] && [ -f "$initrd" ] ||
		{ echo "qemu.sh: no kernel or initramfs: $kernel $initrd" >&2; exit 2; }
	args+=(-kernel "$kernel" -initrd "$initrd" -append "$append")
else
	[ -f "$iso" ] || { echo "qemu.sh: no ISO: $iso" >&2; exit 2; }
	args+=(-cdrom "$iso" -boot d)
fi

if [ -n "$disk" ]; then
	if [ ! -e "$disk" ]; then
		mkdir -p "$(dirname "$disk")"
		truncate -s 256M "$disk"
	fi
	fmt=raw; case "$disk" in *.qcow2) fmt=qcow2 ;; esac
	args+=(-drive "file=$disk,if=none,id=disk0,format=$fmt$cache"
		-device virtio-blk-pci,drive=disk0)
fi

if [ "$net" != none ]; then
	args+=(-netdev "$net,id=net0" -device virtio-net-pci,netdev=net0)
else
	args+=(-nic none)
fi

if [ "$uefi" = 1 ]; then
	args+=(-bios /usr/share/ovmf/OVMF.fd)
fi

# Interactive: Ctrl-C reaches QEMU and ends it.  Otherwise QEMU must not read
# a standard input that may be closed or /dev/null.
if [ -t 0 ]; then
	args+=(-chardev stdio,id=ser0,signal=on -serial chardev:ser0)
else
	args+=(-chardev file,id=ser0,path=/dev/stdout -serial chardev:ser0)
fi

[ -n "$log" ] || log=$(mktemp "${TMPDIR:-/tmp}/strata-serial.XXXXXX")
errlog=$log.qemu-stderr
runner=()
[ "$timeout" != 0 ] && runner=(timeout -k 5 "$timeout")
if [ "$quiet" = 1 ]; then
	"${runner[@]}" qemu-system-x86_64 "${args[@]}" "${extra[@]}" >"$log" 2>"$errlog" </dev/null
	rc=$?
else
	"${runner[@]}" qemu-system-x86_64 "${args[@]}" "${extra[@]}" 2>"$errlog" | tee "$log"
	rc=${PIPESTATUS[0]}
fi

result() { rm -f "$errlog"; exit "$1"; }
if [ "$rc" = 124 ]; then
	echo "qemu.sh: timed out after ${timeout}s" >&2
	result 124
fi
if grep -q '^strata: exit [0-9]' "$log" 2>/dev/null && [ $((rc % 2)) = 1 ]; then
	result $(((rc - 1) / 2))
fi
if [ "$rc" = 0 ] || [ $((rc % 2)) = 1 ]; then
	echo "qemu.sh: the machine stopped without layer 0's final report (QEMU status $rc)" >&2
	result 125
fi
echo "qemu.sh: QEMU failed (status $rc):" >&2
cat "$errlog" >&2
result 126
