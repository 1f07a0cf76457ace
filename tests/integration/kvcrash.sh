#!/bin/bash
# tests/integration/kvcrash.sh BUILD: kvstore's durable=sync promise under a
# SIGKILL of QEMU.  tests/net/kvtool loads KVSTORE_SETS sets (default
# 10,000) over 16 connections, logging each set the moment its STORED
# arrives, and kills QEMU (SIGKILL, the disk's cache `unsafe`, as in
# tests/crash/) the moment a random one of them, from the tenth to the
# ninetieth percent, is answered: a reply sent before its commit is durable
# is then caught with the commit still under way.  The next boot of the same
# disk resumes, and every key whose set was answered must be there with its
# value.  KVSTORE_CUTS=N (default 1) repeats the load and the cut N times
# on the one disk, checking every key answered so far after each.
# Prints one "ok", "FAIL" or "skip" line per cut, as tests/run.sh counts them.
# integration: sequential
set -u
build=${1:-build} kind=kvstore
. "$(dirname "$0")/../crash/lib.sh"
sets=${KVSTORE_SETS:-10000}
cuts=${KVSTORE_CUTS:-1}
kvtool=$build/bin/kvtool

# shellcheck source=../net/report.sh
. "$(dirname "$0")/../net/report.sh"
lwip_payload_built kvstore kvstore-sync-sigkill || exit 0

port=$((28000 + ($$ % 1000) * 2))
net=(-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:11211" -device virtio-net-pci,netdev=net0)
"$images/mkiso.sh" "$out/kvstore.iso" "$build/layer0.elf" "$build/layer1/kvstore.elf" \
	"durable=sync" "" >/dev/null
truncate -s 256M "$out/disk.img"
: >"$out/acked"
trap stop_qemu EXIT

# boot LOG: a machine on the disk, waited for until kvstore serves; 1 if not.
boot() {
	boot_bg "$1" "$out/disk.img" "$out/kvstore.iso" "${net[@]}"
	[ -n "$qpid" ] && wait_line "$1" 0 '^kvstore: (up|resumed)'
}

if ! boot "$out/boot-0.log"; then
	echo "FAIL kvstore-sync-sigkill: the first boot never served"
	tail -15 "$out/boot-0.log" | sed 's/^/    | /'
	exit 0
fi
for i in $(seq "$cuts"); do
	before=$(wc -l <"$out/acked")
	# The cut: kvtool kills QEMU the moment a random one of the sets is answered.
	at=$((sets / 10 + (RANDOM * 32768 + RANDOM) % (sets * 8 / 10)))
	"$kvtool" load -p "$port" -n "$sets" -c 16 -k "$qpid" -a "$at" -o "$out/acked" \
		>"$out/load-$i.log" 2>&1
	stop_qemu
	acked=$(($(wc -l <"$out/acked") - before))
	name="kvstore-sync-sigkill-$i"
	if [ "$acked" = 0 ]; then
		echo "FAIL $name: no set was answered before the kill"
		tail -n 5 "$out/load-$i.log" "$out/boot-$((i - 1)).log" | sed 's/^/    | /'
		break
	fi
	if ! boot "$out/boot-$i.log"; then
		echo "FAIL $name: the boot after the kill never served"
		tail -15 "$out/boot-$i.log" | sed 's/^/    | /'
		break
	fi
	if ! grep -aq '^kvstore: resumed' "$out/boot-$i.log"; then
		echo "FAIL $name: the boot after the kill did not resume"
		tail -15 "$out/boot-$i.log" | sed 's/^/    | /'
		break
	fi
	if "$kvtool" verify -p "$port" -f "$out/acked" >"$out/verify-$i.log" 2>&1; then
		echo "ok   $name (killed at set $at of $sets; $acked answered before the kill, all $(wc -l <"$out/acked") answered so far there after the resume)"
	else
		echo "FAIL $name: $acked sets answered before the kill: $(tail -1 "$out/verify-$i.log")"
		break
	fi
done
stop_qemu
rm -f "$out/disk.img"
