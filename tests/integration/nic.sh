# The NIC rings (doc/abi.md, "The NIC rings"), driven slot by slot by the
# rawnet payload over QEMU's user network.
# integration: cases
# shellcheck shell=bash
nic="-netdev user,id=n0 -device virtio-net-pci,netdev=n0"

# Sending and receiving the legal way.
QEMUARGS=$nic t nic-arp-round-trip rawnet 0 "arp" "" \
	'rawnet: ARP reply from 10\.0\.2\.2 is 52:55:0a:00:02:02' 'net0: 1 frames sent, 1 received'
QEMUARGS=$nic t nic-tx-batch rawnet 0 "batch 40" "" 'rawnet: batch of 40 frames sent' 'net0: 40 frames sent'
# A batch of the whole TX ring ends on the slot rung last: it must still be sent.
QEMUARGS=$nic t nic-tx-full-batch rawnet 0 "full-batch" "" 'rawnet: full batch of 256 frames sent' \
	'net0: 257 frames sent'
# Every RX slot held while more frames arrive: they wait in the device, none
# is dropped, and one doorbell on the slot given back last gives back all.
QEMUARGS=$nic t nic-rx-full-ring rawnet 0 "rx-full" "" \
	'rawnet: rx-full: 64 slots given back at once, 8 frames waited, none dropped' \
	'net0: [0-9]+ frames sent, [0-9]+ received; dropped 0 runt, 0 oversize, 0 errors'
# One slot in every ring: each doorbell is on the slot rung last, and each must work.
QEMUARGS=$nic t nic-one-slot-rings tinyring 0 "" "" '^tinyring: line 0.?$' '^tinyring: line 19.?$' \
	'^tinyring: ok: 20 lines, 20 ARP round trips' 'net0: rings of 1 TX and 1 RX slots' \
	'^strata: console: 2[0-9] slots in 2[0-9] doorbells'
QEMUARGS=$nic t nic-tx-wrap-blocks rawnet 0 "wrap" "" 'rawnet: wrap: 768 frames through 256 slots' \
	'net0: 768 frames sent'
QEMUARGS=$nic t nic-wait-deadline rawnet 0 "wait-timeout" "" 'rawnet: wait-timeout ok'
# A device that offers its notify capability in an I/O BAR as well
# (modern-pio-notify, listed first) is driven through the memory one.
QEMUARGS="$nic,modern-pio-notify=on" t nic-pio-notify-offered rawnet 0 "arp" "" \
	'rawnet: ARP reply from 10\.0\.2\.2' 'net0: 1 frames sent, 1 received'
# The benchmark's mode (tests/bench/nictx.sh): N batched frames, M single.
QEMUARGS=$nic t nic-pps rawnet 0 "pps 3000 500" "" \
	'rawnet: pps batched [1-9][0-9]* single [1-9][0-9]* \(3000 and 500 frames' 'net0: 3500 frames sent'

# Breaking the rules: each a V-RING report.
QEMUARGS=$nic t nic-tx-runt rawnet 86 "tx-runt" "" 'rule: V-RING' 'shorter than STRATA_NET_FRAME_MIN' \
	'^strata: exit 86 '
QEMUARGS=$nic t nic-tx-doorbell-rmw rawnet 86 "tx-rmw" "" 'rule: V-RING' 'doorbell page was written' \
	'^strata: exit 86 '
QEMUARGS=$nic t nic-two-doorbells-one-instruction rawnet 86 "two-doorbells" "" 'rule: V-RING' \
	'one instruction read two doorbell pages' '^strata: exit 86 '
QEMUARGS=$nic t nic-rx-doorbell-early rawnet 86 "rx-early" "" 'rule: V-RING' 'still holds' '^strata: exit 86 '

# Without a NIC the rings are not granted and their regions are unassigned.
t nic-none rawnet 2 "arp" "" 'rawnet: no NIC rings'
