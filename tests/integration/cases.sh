# The QEMU integration cases of `make test`, one call each:
#   t NAME PAYLOAD EXIT "PAYLOAD ARGS" "LAYER-0 ARGS" PATTERN...
# EXIT is what images/qemu.sh returns (abi/strata/exit.h); every PATTERN
# (grep -E) must match the serial output.  UEFI=1 before t boots through OVMF.
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

# Layer-0 faults forced by a self-test: the report, never a silent reset.
t l0-divide hello 64 "" "selftest=divide" 'FAULT in layer 0' '^strata: exit 64 '
t l0-pagefault hello 64 "" "selftest=l0-pagefault" 'FAULT in layer 0' 'CR2' '^strata: exit 64 '
t l0-stack-overflow hello 64 "" "selftest=l0-stack-overflow" 'FAULT in layer 0: page fault' 'more times' '^strata: exit 64 '
t l0-double-fault hello 69 "" "selftest=double-fault" 'double fault' '^strata: exit 69 '

# Layer 0 refuses what it cannot run, with the reasons, before entering it.
t refuse-no-payload - 66 "" "" 'no payload' '^strata: exit 66 '
t refuse-abi-version tests/abi/bad/abi-version.elf 68 "" "" \
	'abi-version: payload needs ABI 2\.0, this kernel implements 1\.2' '^strata: exit 68 '
t refuse-write-exec tests/abi/bad/write-exec.elf 67 "" "" 'write-exec: ' 'not loadable' '^strata: exit 67 '
t refuse-not-elf tests/abi/bad/not-elf.elf 67 "" "" 'not-elf: ' '^strata: exit 67 '
t refuse-bad-ring tests/abi/bad/bad-ring.elf 67 "" "" 'bad-ring: ' '^strata: exit 67 '

# The NIC driver on its own (layer-0 "nettest"): raw TX rate, ARP round trip.
QEMUARGS="-netdev user,id=n0 -device virtio-net-pci,netdev=n0" t nettest hello 0 "" "nettest" \
	'net0: virtio-net, MAC 52:54:00:12:34:56' 'net raw tx: 10000 frames' 'ARP reply from 10\.0\.2\.2' '^strata: exit 0 '
