# The ABI conformance cases of `make test`: every rule of doc/abi.md used
# the legal way (payload conform, one check per first word, which prints
# "conform: NAME ok") and broken the illegal way (payload crash, one mode per
# rule, which layer 0 must stop with the rule's report and exit code).
# Syntax as cases.sh:  t NAME PAYLOAD EXIT "PAYLOAD ARGS" "LAYER-0 ARGS" PATTERN...
# Serial lines end in "\r\n": a pattern anchored at the end uses '.?$'.
# tests/abi/rulecheck.sh fails when a V- rule has no case here or in cases.sh.
# integration: cases
# shellcheck shell=bash

# "Entry": rdi, rsp, the other registers, IF, SSE, .bss zero, .data loaded.
t conform-entry conform 0 "entry" "" '^conform: entry ok' '^strata: exit 0 '

# "Info page": magic, version, cmdline, grants, image_end, clock_ns and the TSC formula.
t conform-info conform 0 "info two  words=2" "" '^conform: info cmdline "info two words=2"' \
	'^conform: info ok' '^strata: exit 0 '

# "Rings", sending: a batch is one doorbell; slots are taken in order and come back empty.
t conform-batch conform 0 "batch" "" '^batch: 1 2 3 4 5.?$' '^conform: batch ok' \
	'^strata: console: 6 slots in 2 doorbells' '^strata: exit 0 '
t conform-wrap conform 0 "wrap" "" \
	'^wrap: 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20 21 22 23.?$' \
	'^conform: wrap ok' '^strata: console: 25 slots in 4 doorbells' '^strata: exit 0 '
# A batch of the whole ring ends on the slot rung last: taken at its doorbell, not at exit.
t conform-full-batch conform 0 "full-batch" "" '^full: 00 01 02 03 04 05 06 07.?$' \
	'^full: 08 09 10 11 12 13 14 15.?$' '^conform: full-batch ok' \
	'^strata: console: 17 slots in 3 doorbells' '^strata: exit 0 '
# Any load of a doorbell rings it, whatever its width; a prefetch never does.
t conform-doorbell-loads conform 0 "doorbell-loads" "" '^loads: movzb movzw movl movq movdqu.?$' \
	'^conform: doorbell-loads ok' '^strata: console: 7 slots in 6 doorbells' '^strata: exit 0 '
# Ringing the same slot twice in a row has no effect.
t conform-ring-twice conform 0 "ring-twice" "" '^conform: ring-twice first' \
	'^conform: ring-twice ok' '^strata: console: 2 slots in 2 doorbells' '^strata: exit 0 '
# Ringing never skips a slot: one written with len 0 is taken and carries nothing.
t conform-empty-slot conform 0 "empty-slot" "" '^conform: empty-slot ok.?$' \
	'^strata: console: 4 slots in 2 doorbells' '^strata: exit 0 '

# "Traps", exit: slots written but not rung are printed; 0..63 is the machine's code.
t conform-unrung-at-exit conform 0 "unrung-at-exit" "" '^conform: unrung-at-exit rung' \
	'^conform: unrung-at-exit unrung' '^conform: unrung-at-exit ok' \
	'^strata: console: 3 slots in 1 doorbells' '^strata: exit 0 '
t conform-exit-max conform 63 "exit-max" "" '^conform: exit-max ok' '^strata: exit 63 \(payload exit\)'
t crash-exit-64 crash 87 "exit-64" "" 'rule: V-TRAP' '^strata: exit 87 '
# A reserved vector, before its ABI minor defines it, is V-TRAP.
t crash-commit-flags crash 87 "commit-flags" "" 'rule: V-TRAP' 'commit: rdi' '^strata: exit 87 '
t crash-sync-flags crash 87 "sync-flags" "" 'rule: V-TRAP' 'sync: rdi' '^strata: exit 87 '
# Prefetch (ABI 1.5): whole pages, at least one, all layer 1's; a page read
# ahead is the disk's, a cached one costs no read (conform prefetch).
t crash-prefetch-misaligned crash 87 "prefetch-misaligned" "" 'rule: V-TRAP' \
	'prefetch: rdi and rsi must be whole pages' '^strata: exit 87 '
t crash-prefetch-empty crash 87 "prefetch-empty" "" 'rule: V-TRAP' \
	'prefetch: rdi and rsi must be whole pages' '^strata: exit 87 '
t crash-prefetch-outside crash 80 "prefetch-outside" "" 'rule: V-OUTSIDE' \
	'prefetch: the range leaves the disk window' '^strata: exit 80 '
t crash-prefetch-head crash 80 "prefetch-head" "" 'rule: V-OUTSIDE' \
	'prefetch: the page at disk offset 0x0 is not layer 1' '^strata: exit 80 '
DISK=64M t crash-prefetch-journal crash 80 "prefetch-journal" "" 'rule: V-OUTSIDE' \
	'prefetch: the page at disk offset 0x[0-9a-f]+ is not layer 1' '^strata: exit 80 '
# The free area to the window's end on a disk as large as the window (QEMU's
# null-co): V-OUTSIDE at the journal, without walking 64 TiB page by page.
QEMUARGS="-blockdev driver=null-co,size=$((65 << 40)),read-zeroes=on,node-name=nul0 -device virtio-blk-pci,drive=nul0" \
	t crash-prefetch-huge crash 80 "prefetch-huge" "" 'rule: V-OUTSIDE' \
	'prefetch: the page at disk offset 0x3f[0-9a-f]+ is not layer 1' '^strata: exit 80 '
DISK=64M t conform-prefetch conform 0 "prefetch" "" '^conform: prefetch ok' \
	'^strata: pager: prefetch: 3 traps, 1 reads \(16 pages\), [0-9]+ runs cached, 16 pages used' \
	'^strata: exit 0 '
# A read that fails is reported at the touch, not at the trap: QEMU's
# blkdebug fails the free area's first page (conform's _end), which the
# check prefetches and then reads (as disk.sh's disk-ioerror).
blkdebug_end conform-prefetch-error conform
DISK=64M QEMUARGS=$blkdebug_qemu \
	t conform-prefetch-error conform 72 "prefetch-error" "" '^conform: prefetch-error trap returned 16' \
	'prefetch of 16 pages at disk offset .* failed: I/O error \(reported at the touch\)' \
	'DISK-IO: a page of the window could not be brought in' '^strata: exit 72 '

# Address map, disk window: the whole stack is layer 1's, and layer 0 takes
# interrupts on its own stacks (nothing below rsp changes).
t conform-stack conform 0 "stack" "" '^conform: stack ok' '^strata: exit 0 '
t conform-stack-untouched conform 0 "stack-untouched" "" '^conform: stack-untouched ok' '^strata: exit 0 '
t crash-stack-exec crash 84 "stack-exec" "" 'rule: V-EXEC' '^strata: exit 84 '

# Address map: info page, payload text and read-only data read without a fault.
t conform-readonly-read conform 0 "readonly-read" "" '^conform: readonly-read ok' '^strata: exit 0 '

# Address map, null guard: R, W and X are all V-NULL.
t crash-null-write crash 81 "null-write" "" 'rule: V-NULL' '^strata: exit 81 '
t crash-null-exec crash 81 "null-exec" "" 'rule: V-NULL' '^strata: exit 81 '

# Address map, info page: W is V-READONLY, X is V-EXEC, the rest of its GiB unassigned.
t crash-info-write crash 82 "info-write" "" 'rule: V-READONLY' '^strata: exit 82 '
t crash-info-exec crash 84 "info-exec" "" 'rule: V-EXEC' '^strata: exit 84 '
t crash-info-gap crash 80 "info-gap" "" 'rule: V-OUTSIDE' '^strata: exit 80 '

# Address map, console ring: slot header, doorbell written, X anywhere, beyond the slots.
t crash-slot-flags crash 86 "slot-flags" "" 'rule: V-RING' '^strata: exit 86 '
t crash-slot-reserved crash 86 "slot-reserved" "" 'rule: V-RING' '^strata: exit 86 '
t crash-doorbell-write crash 86 "doorbell-write" "" 'rule: V-RING' '^strata: exit 86 '
t crash-doorbell-exec crash 84 "doorbell-exec" "" 'rule: V-EXEC' '^strata: exit 84 '
t crash-ring-exec crash 84 "ring-exec" "" 'rule: V-EXEC' '^strata: exit 84 '
t crash-beyond-ring crash 80 "beyond-ring" "" 'rule: V-OUTSIDE' '^strata: exit 80 '
t crash-beyond-ring-exec crash 80 "beyond-ring-exec" "" 'rule: V-OUTSIDE' '^strata: exit 80 '

# Address map, NIC rings not granted (no slots asked for): V-OUTSIDE.
t crash-nic-tx crash 80 "nic-tx" "" 'rule: V-OUTSIDE' '^strata: exit 80 '
t crash-nic-rx crash 80 "nic-rx" "" 'rule: V-OUTSIDE' '^strata: exit 80 '

# Address map, layer 0's regions: disk head and upper half are V-L0-REGION.
t crash-disk-head crash 83 "disk-head" "" 'rule: V-L0-REGION' '^strata: exit 83 '
t crash-upper-half crash 83 "upper-half" "" 'rule: V-L0-REGION' '^strata: exit 83 '

# Address map, disk window: payload text and read-only data are W V-READONLY,
# read-only data X V-EXEC; past the image without a disk is V-OUTSIDE.
t crash-text-write crash 82 "text-write" "" 'rule: V-READONLY' '^strata: exit 82 '
t crash-rodata-write crash 82 "rodata-write" "" 'rule: V-READONLY' '^strata: exit 82 '
t crash-rodata-exec crash 84 "rodata-exec" "" 'rule: V-EXEC' '^strata: exit 84 '
t crash-window-gap crash 80 "window-gap" "" 'rule: V-OUTSIDE' '^strata: exit 80 '

# Address map, unassigned: W and X as well as R are V-OUTSIDE.
t crash-outside-write crash 80 "outside-write" "" 'rule: V-OUTSIDE' '^strata: exit 80 '
t crash-outside-exec crash 80 "outside-exec" "" 'rule: V-OUTSIDE' '^strata: exit 80 '

# "Violations": a CPU exception is 96 + its vector; a non-canonical address is #GP.
t crash-noncanonical crash 109 "noncanonical" "" 'rule: L1-EXCEPTION: .* exception 13 ' '^strata: exit 109 '
