#!/bin/bash
# debug.sh BUILD ISO PAYLOAD.elf MEM: QEMU halted at the first instruction with
# its gdb stub on :1234, and gdb attached with the symbols of layer 0 and of
# the payload (both are linked at the addresses they run at).
set -eu
build=$1 iso=$2 payload=$3 mem=$4
script=$build/debug.gdb
cat >"$script" <<GDB
set confirm off
set pagination off
file $build/layer0.elf
add-symbol-file $payload
target remote localhost:1234
hbreak kmain
echo Strata: QEMU is halted; 'continue' boots. Layer 0 and payload symbols are loaded.\n
GDB
qemu-system-x86_64 -M q35 -m "$mem" -display none -no-reboot -vga none -nic none \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -cdrom "$iso" -boot d \
	-serial file:"$build/debug-serial.log" -s -S &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
echo "debug.sh: serial console in $build/debug-serial.log"
gdb -q -x "$script"
