#!/bin/bash
# tests/integration/interval.sh BUILD: the counter that never commits
# (every=0) under periodic checkpoints (checkpoint=50), cut INTERVAL_CUTS
# (default 4) times by SIGKILL and as many by system_reset: each resume must
# find it within one interval of where it was, and consistent (tests/crash/
# lib.sh, tally_marks).  An ok or FAIL line per kind, with its summary;
# `make crash` runs the same at checkpoint=10 and 1000 cuts.
# integration: sequential
set -u
build=${1:-build}
crash=$(cd "$(dirname "$0")/../crash" && pwd)
for kind in sigkill reset; do
	log=$build/tests/out/crash-$kind-cp50.log
	mkdir -p "$(dirname "$log")"
	if "$crash/$kind.sh" "$build" "${INTERVAL_CUTS:-4}" 50 >"$log" 2>&1; then
		echo "ok   interval-$kind ($(tail -1 "$log"))"
	else
		echo "FAIL interval-$kind: $(grep "^$kind-cp50: cuts:" "$log" || echo "no summary")"
		sed 's/^/    | /' "$log" | tail -20
	fi
done
