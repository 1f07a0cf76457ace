# kvstore's durability modes against its payload header (doc/kvstore.md):
# kvstore's header asks for external synchrony, so it gives durable=extsync
# (its default) and refuses sync and interval; kvplain, the same program
# under a plain header, gives sync (its default) and interval and refuses
# extsync.  A refusal says which payload to run instead and exits 5 before
# it touches the disk or the NIC; the defaults boot with both and say the
# mode on the "up" line.  Skipped with kvstore when lwIP could not be
# fetched (kvstore.sh says so).
# integration: cases
# shellcheck shell=bash

if [ -f "$build/layer1/kvstore.elf" ] && [ -f "$build/layer1/kvplain.elf" ]; then
	kvnet="-netdev user,id=kvn0 -device virtio-net-pci,netdev=kvn0"
	t kvstore-refuses-sync kvstore 5 "durable=sync" "" \
		'^kvstore: durable=sync needs a payload header without STRATA_PAYLOAD_EXTSYNC.*run kvplain for durable=sync' \
		'^strata: exit 5 '
	t kvstore-refuses-interval kvstore 5 "durable=interval" "" \
		'^kvstore: durable=interval needs .*run kvplain for durable=interval' '^strata: exit 5 '
	t kvplain-refuses-extsync kvplain 5 "durable=extsync" "" \
		"^kvstore: durable=extsync needs the payload header's STRATA_PAYLOAD_EXTSYNC, which kvplain's lacks: run kvstore" \
		'^strata: exit 5 '
	DISK=256M QEMUARGS=$kvnet t kvstore-default-extsync kvstore 0 "exit-after=1" "" \
		'^kvstore: up 10\.0\.2\.15 port 11211 durable=extsync' '^strata: exit 0 '
	DISK=256M QEMUARGS=$kvnet t kvplain-default-sync kvplain 0 "exit-after=1" "" \
		'^kvstore: up 10\.0\.2\.15 port 11211 durable=sync' '^strata: exit 0 '
	DISK=256M QEMUARGS=$kvnet t kvplain-interval kvplain 0 "durable=interval exit-after=1" "" \
		'^kvstore: up 10\.0\.2\.15 port 11211 durable=interval' '^strata: exit 0 '
fi
