# The QEMU integration cases of `make test`, one call each:
#   t NAME PAYLOAD EXIT "PAYLOAD ARGS" "LAYER-0 ARGS" PATTERN...
# EXIT is what images/qemu.sh returns (abi/strata/exit.h); every PATTERN
# (grep -E) must match the serial output.  UEFI=1 before t boots through OVMF.
# integration: cases
# shellcheck shell=bash

# Boot and the console/exit ABI.
t hello hello 0 "" "" '^strata: layer 0 starting' 'Hello from layer 1' '^strata: exit 0 '
UEFI=1 t hello-uefi hello 0 "" "" 'Hello from layer 1' '^strata: exit 0 '
t args-exit-code args 7 "one two exit=7" "" 'argv\[1\] = one' 'argv\[2\] = two' '^strata: exit 7 '
t args-bad-exit-code args 87 "exit=200" "" 'rule: V-TRAP' '^strata: exit 87 '

# Layer-1 faults: each ends in a report naming the rule and its exit code.
t crash-div0 crash 96 "div0" "" 'FAULT in layer 1' 'divide' 'RIP' '^strata: exit 96 '
t crash-ud crash 102 "ud" "" 'FAULT in layer 1' 'invalid opcode' '^strata: exit 102 '
t crash-gp crash 109 "gp" "" 'FAULT in layer 1' 'general protection' '^strata: exit 109 '
t crash-breakpoint crash 99 "breakpoint" "" 'FAULT in layer 1' '^strata: exit 99 '
t crash-null crash 81 "null" "" 'rule: V-NULL' 'CR2.*0x0*10\b' '^strata: exit 81 '
t crash-outside crash 80 "outside" "" 'rule: V-OUTSIDE' '^strata: exit 80 '
t crash-readonly crash 82 "readonly" "" 'rule: V-READONLY' '^strata: exit 82 '
t crash-l0 crash 83 "l0" "" 'rule: V-L0-REGION' '^strata: exit 83 '
t crash-exec crash 84 "exec" "" 'rule: V-EXEC' '^strata: exit 84 '
t crash-stack crash 85 "stack" "" 'rule: V-STACK' '^strata: exit 85 '
t crash-ring crash 86 "ring" "" 'rule: V-RING' '^strata: exit 86 '
t crash-badtrap crash 87 "badtrap" "" 'rule: V-TRAP' '^strata: exit 87 '
t crash-symbolised crash 96 "div0" "" 'RIP.*<[a-z_]+'

# int on a vector that is not a trap is V-TRAP naming the vector, whatever the
# vector means when the CPU or a device raises it (int3, above, stays #BP).
t crash-int-0 crash 87 "int-0" "" 'int instruction \(vector 0\)' 'rule: V-TRAP' 'detail: int \$0x0: ' '^strata: exit 87 '
t crash-int-2 crash 87 "int-2" "" 'rule: V-TRAP' 'detail: int \$0x2: ' '^strata: exit 87 '
t crash-int-3 crash 87 "int-3" "" 'rule: V-TRAP' 'detail: int \$0x3: .*breakpoint' '^strata: exit 87 '
t crash-int-8 crash 87 "int-8" "" 'rule: V-TRAP' 'detail: int \$0x8: ' '^strata: exit 87 '
t crash-int-13 crash 87 "int-13" "" 'rule: V-TRAP' 'detail: int \$0xd: ' '<crash_int_13\+' '^strata: exit 87 '
t crash-int-14 crash 87 "int-14" "" 'rule: V-TRAP' 'detail: int \$0xe: ' '<crash_int_14\+' '^strata: exit 87 '
t crash-int-18 crash 87 "int-18" "" 'rule: V-TRAP' 'detail: int \$0x12: ' '^strata: exit 87 '
t crash-int-0x20 crash 87 "int-0x20" "" 'rule: V-TRAP' 'detail: int \$0x20: ' '^strata: exit 87 '
t crash-int-0xff crash 87 "int-0xff" "" 'rule: V-TRAP' 'detail: int \$0xff: ' '^strata: exit 87 '

# Layer-0 faults forced by a self-test: the report, never a silent reset.
t l0-divide hello 64 "" "selftest=divide" 'FAULT in layer 0' '^strata: exit 64 '
t l0-pagefault hello 64 "" "selftest=l0-pagefault" 'FAULT in layer 0' 'CR2' '^strata: exit 64 '
t l0-stack-overflow hello 64 "" "selftest=l0-stack-overflow" 'FAULT in layer 0: page fault' 'more times' '^strata: exit 64 '
t l0-double-fault hello 69 "" "selftest=double-fault" 'double fault' '^strata: exit 69 '

# A device that asks for a reset (a malformed chain makes QEMU mark it broken)
# ends the first wait on it in a DEVICE report naming it, never in a hang:
# the disk label's read, a TX slot wrapped onto, the wait trap.
DISK=64M t disk-needs-reset hello 77 "" "selftest=disk-needs-reset" \
	'DEVICE: disk0 \(virtio-blk\): the device needs a reset' 'waiting for: a read of 8 sectors at sector 0' \
	'waited: [0-9]+ ms' '^strata: exit 77 '
QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" t net-needs-reset-tx rawnet 77 "wrap" \
	"selftest=net-needs-reset" 'DEVICE: net0 \(virtio-net\): the device needs a reset' 'waited: [0-9]+ ms' \
	'^strata: exit 77 '
QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" t net-needs-reset-wait rawnet 77 "arp" \
	"selftest=net-needs-reset" 'DEVICE: net0 \(virtio-net\): the device needs a reset' '^strata: exit 77 '
# A device whose notifications are lost (selftest=disk-deaf, net-deaf: kicks
# publish but do not notify) is notified again by the wait after 2 s, and
# the boot goes on: the disk label's read, 3 laps of the TX ring.
DISK=64M t disk-deaf hello 0 "" "selftest=disk-deaf" \
	'disk0: [0-9]+ ms waiting for a read of 8 sectors at sector 0: notified the device again' \
	'Hello from layer 1' '^strata: exit 0 '
QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" t net-deaf rawnet 0 "wrap" \
	"selftest=net-deaf" 'net0: [0-9]+ frames held to send for [0-9]+ ms: notified the device again' \
	'rawnet: wrap: 768 frames through 256 slots' '^strata: exit 0 '
# A disk throttled to a byte a second answers nothing more within the bound.
DISK=64M QEMUARGS="-drive file=@DISK@,if=none,id=d0,format=raw,throttling.bps-total=1 -device virtio-blk-pci,drive=d0" \
	t disk-silent hello 77 "" "" 'DEVICE: disk0 \(virtio-blk\): the device completed nothing in 30 s' \
	'waited: 3[0-9][0-9][0-9][0-9] ms' '^strata: exit 77 '
# A wait with neither a deadline nor an RX ring could never return.
t crash-wait-forever crash 87 "wait-forever" "" 'rule: V-TRAP' 'wait: no deadline' '^strata: exit 87 '

# Layer 0 refuses what it cannot run, with the reasons, before entering it.
t refuse-no-payload - 66 "" "" 'no payload' '^strata: exit 66 '
t refuse-abi-version tests/abi/bad/abi-version.elf 68 "" "" \
	'abi-version: payload needs ABI 2\.0, this kernel implements 1\.5' '^strata: exit 68 '
t refuse-write-exec tests/abi/bad/write-exec.elf 67 "" "" 'write-exec: ' 'not loadable' '^strata: exit 67 '
t refuse-not-elf tests/abi/bad/not-elf.elf 67 "" "" 'not-elf: ' '^strata: exit 67 '
t refuse-bad-ring tests/abi/bad/bad-ring.elf 67 "" "" 'bad-ring: ' '^strata: exit 67 '
# Bit 0 (STRATA_PAYLOAD_EXTSYNC, ABI 1.4) is known; bit 31 beside it is not.
t refuse-bad-flags tests/abi/bad/bad-flags.elf 67 "" "" 'bad-flags: unknown header flags 0x80000000' \
	'^strata: exit 67 '

# The NIC driver on its own (layer-0 "nettest"): raw TX rate, ARP round trip.
QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" t nettest hello 0 "" "nettest" \
	'net0: virtio-net, MAC 52:54:00:12:34:56' 'net raw tx: 10000 frames' 'ARP reply from 10\.0\.2\.2' '^strata: exit 0 '
# The benchmark's count (tests/bench/nictx.sh): nettest=N times N frames.
QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" t nettest-frames hello 0 "" "nettest=30000" \
	'net raw tx: 30000 frames' '^strata: exit 0 '
