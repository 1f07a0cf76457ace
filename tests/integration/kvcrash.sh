#!/bin/bash
# tests/integration/kvcrash.sh BUILD: kvstore's durability promise under a
# SIGKILL of QEMU, in the two modes that promise every answered set:
# durable=sync (kvplain, which commits before it replies) and
# durable=extsync (kvstore, whose replies layer 0 holds until a checkpoint
# covers them).  For each, tests/net/kvtool loads KVSTORE_SETS sets (default
# 10,000) over 16 connections, logging each set the moment its STORED
# arrives, and kills QEMU (SIGKILL, the disk's cache `unsafe`, as in
# tests/crash/) the moment a random one of them, from the tenth to the
# ninetieth percent, is answered: a reply that left before its state was
# durable is then caught with the commit or checkpoint still under way.
# The next boot of the same disk resumes, and every key whose set was
# answered must be there with its value.  KVSTORE_CUTS=N (default 1)
# repeats the load and the cut N times on the one disk, checking every key
# answered so far after each; KVSTORE_MODES= picks the modes (default
# "sync extsync").  Prints one "ok", "FAIL" or "skip" line per cut, as
# tests/run.sh counts them.
# integration: sequential
set -u
build=${1:-build} kind=kvstore
. "$(dirname "$0")/../crash/lib.sh"
sets=${KVSTORE_SETS:-10000}
cuts=${KVSTORE_CUTS:-1}
kvtool=$build/bin/kvtool

# shellcheck source=../net/report.sh
. "$(dirname "$0")/../net/report.sh"
lwip_payload_built kvstore kvstore-sigkill || exit 0
lwip_payload_built kvplain kvstore-sigkill || exit 0

port=$((28000 + ($$ % 1000) * 2))
net=(-netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:11211" -device virtio-net-pci,netdev=net0)
trap stop_qemu EXIT

# boot LOG: a machine on the disk, waited for until kvstore serves; 1 if not.
boot() {
	boot_bg "$1" "$out/disk-$mode.img" "$out/$mode.iso" "${net[@]}"
	[ -n "$qpid" ] && wait_line "$1" 0 '^kvstore: (up|resumed)'
}

# crash_mode MODE PAYLOAD: the loads and cuts of one mode, on a disk of its own.
crash_mode() {
	local mode=$1 payload=$2 i before acked at name
	"$images/mkiso.sh" "$out/$mode.iso" "$build/layer0.elf" "$build/layer1/$payload.elf" \
		"durable=$mode" "" >/dev/null
	rm -f "$out/disk-$mode.img"
	truncate -s 256M "$out/disk-$mode.img"
	: >"$out/acked-$mode"
	if ! boot "$out/boot-$mode-0.log"; then
		echo "FAIL kvstore-$mode-sigkill: the first boot never served"
		tail -15 "$out/boot-$mode-0.log" | sed 's/^/    | /'
		return
	fi
	for i in $(seq "$cuts"); do
		before=$(wc -l <"$out/acked-$mode")
		# The cut: kvtool kills QEMU the moment a random one of the sets is answered.
		at=$((sets / 10 + (RANDOM * 32768 + RANDOM) % (sets * 8 / 10)))
		"$kvtool" load -p "$port" -n "$sets" -c 16 -k "$qpid" -a "$at" -o "$out/acked-$mode" \
			>"$out/load-$mode-$i.log" 2>&1
		stop_qemu
		acked=$(($(wc -l <"$out/acked-$mode") - before))
		name="kvstore-$mode-sigkill-$i"
		if [ "$acked" = 0 ]; then
			echo "FAIL $name: no set was answered before the kill"
			tail -n 5 "$out/load-$mode-$i.log" "$out/boot-$mode-$((i - 1)).log" | sed 's/^/    | /'
			return
		fi
		if ! boot "$out/boot-$mode-$i.log"; then
			echo "FAIL $name: the boot after the kill never served"
			tail -15 "$out/boot-$mode-$i.log" | sed 's/^/    | /'
			return
		fi
		if ! grep -aq '^kvstore: resumed' "$out/boot-$mode-$i.log"; then
			echo "FAIL $name: the boot after the kill did not resume"
			tail -15 "$out/boot-$mode-$i.log" | sed 's/^/    | /'
			return
		fi
		if "$kvtool" verify -p "$port" -f "$out/acked-$mode" >"$out/verify-$mode-$i.log" 2>&1; then
			echo "ok   $name (killed at set $at of $sets; $acked answered before the kill, all $(wc -l <"$out/acked-$mode") answered so far there after the resume)"
		else
			echo "FAIL $name: $acked sets answered before the kill: $(tail -1 "$out/verify-$mode-$i.log")"
			return
		fi
	done
}

for mode in ${KVSTORE_MODES:-sync extsync}; do
	case $mode in
	sync) crash_mode sync kvplain ;;
	extsync) crash_mode extsync kvstore ;;
	*) echo "FAIL kvstore-$mode-sigkill: no such mode (sync, extsync)" ;;
	esac
	stop_qemu
	rm -f "$out/disk-$mode.img"
done
