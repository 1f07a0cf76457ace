#!/bin/bash
# tests/integration/crash.sh BUILD: the crash campaign in small, for `make
# test`: CRASH_CUTS (default 20) cuts of each kind (tests/crash/: SIGKILL,
# system_reset over QMP, power loss from a blklogwrites log, and power loss
# during journal cleanings), each an ok or
# FAIL line with the kind's summary; `make crash N=1000` is the long one.
# integration: sequential
set -u
build=${1:-build}
crash=$(cd "$(dirname "$0")/../crash" && pwd)
# powerloss-churn: power loss with the counter churning pages through the
# journal (CHURN, tests/crash/powerloss.sh), so that cuts fall in cleanings.
for kind in sigkill reset powerloss powerloss-churn; do
	script=${kind%-churn} churn=""
	[ "$kind" = "$script" ] || churn=256
	log=$build/tests/out/crash-$kind.log
	mkdir -p "$(dirname "$log")"
	if CHURN=$churn "$crash/$script.sh" "$build" "${CRASH_CUTS:-20}" >"$log" 2>&1; then
		echo "ok   crash-$kind ($(tail -1 "$log"))"
	else
		echo "FAIL crash-$kind: $(grep "^$kind: cuts:" "$log" || echo "no summary")"
		sed 's/^/    | /' "$log" | tail -20
	fi
done
