#!/bin/bash
# tests/bench/kvbig.sh BUILD: kvstore's store of 4x the guest's RAM, big: a
# 128 MiB guest filled with 512 MiB of 4 KiB values (131,072 sets over 16
# connections, durable=interval), then every key read once in a shuffled
# order over one connection, 50 keys a get line, each value checked byte for
# byte (tests/net/kvfill.sh).  Prints the fill's sets per second and the
# random gets per second as NAME VALUE UNIT lines; fails if any value is
# wrong or missing.  KVBIG_MIB= changes the 512.
set -u
build=$1
out=$build/bench/kvbig
mkdir -p "$build/bench"
mib=${KVBIG_MIB:-512}
if ! "$(dirname "$0")/../net/kvfill.sh" "$build" 128M "$mib" 4096 "$out" >"$out.log" 2>&1; then
	echo "kvbig.sh: the 4x-RAM store failed:" >&2
	cat "$out.log" >&2
	exit 1
fi
rm -f "$out/disk.img"
sed -nE 's/^kvfill: fill .*, ([0-9]+) sets\/s$/kv_data_4x_ram_fill_per_s \1 sets\/s/p' "$out.log"
sed -nE 's/^kvfill: gets .*, ([0-9]+) gets\/s, .*/kv_data_4x_ram_ops_per_s \1 gets\/s/p' "$out.log"
