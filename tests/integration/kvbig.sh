#!/bin/bash
# tests/integration/kvbig.sh BUILD: kvstore's store of 4x the guest's RAM,
# small: a 32 MiB guest (a 24 MiB page cache) filled with 128 MiB of 32 KiB
# values, then every key read once in a shuffled order, each value checked
# byte for byte (tests/net/kvfill.sh; about 40 s here).  Its 4096 keys take
# the index past its first size (3584 of 4096 entries, layer1/kvstore/
# table.c), so a doubling is part of what is checked.  The big one, a
# 128 MiB guest and 512 MiB of 4 KiB values, is tests/bench/kvbig.sh in
# `make bench`.  Prints one "ok" or "FAIL" line.
# integration: sequential
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../net/report.sh
. "$here/../net/report.sh"
lwip_payload_built kvplain kvstore-4x-ram || exit 0
if "$here/../net/kvfill.sh" "$build" 32M 128 32768 "$build/tests/out/kvbig" >"$build/tests/out/kvbig.out" 2>&1; then
	ok "kvstore-4x-ram (32 MiB guest: $(sed -n 's/^kvfill: //p' "$build/tests/out/kvbig.out" | paste -sd ';'))"
else
	fail kvstore-4x-ram "$(grep '^kvfill' "$build/tests/out/kvbig.out" | tail -1)"
	grep '^    |' "$build/tests/out/kvbig.out"
fi
rm -f "$build/tests/out/kvbig/disk.img"
