#!/bin/bash
# tests/crash/campaign.sh BUILD N: the crash campaign, `make crash N=...`:
# N cuts of each kind (SIGKILL, system_reset over QMP, power loss), then of
# each again at 100 checkpoints a second (checkpoint=10, a counter that
# never commits: kinds sigkill-cp10, reset-cp10, powerloss-cp10), and power
# loss with the counter churning the journal through cleanings (CHURN=256,
# kind powerloss-churn), and power loss under external synchrony
# (powerloss-extsync.sh: no reply the host received is taken back), each
# kind's script printing its own summary line, then the total in the same
# form: "cuts: N, resumed: N, lost commits: 0, inconsistent: 0".  Exit 0 when
# every kind passed.
set -u
build=${1:-build} n=${2:-1000}
here=$(cd "$(dirname "$0")" && pwd)
status=0 total=(0 0 0 0)
mkdir -p "$build/tests/out"
for run in sigkill reset powerloss sigkill:10 reset:10 powerloss:10 powerloss-churn powerloss-extsync; do
	script=${run%:*} interval=${run#"$script"} interval=${interval#:}
	churn=""
	[ "${script%-churn}" = "$script" ] || { script=${script%-churn} churn=256; }
	kind=$script${interval:+-cp$interval}${churn:+-churn}
	log=$build/tests/out/crash-$kind.log
	# shellcheck disable=SC2086 # no interval, no word
	CHURN=$churn "$here/$script.sh" "$build" "$n" $interval 2>&1 | tee "$log"
	[ "${PIPESTATUS[0]}" = 0 ] || status=1
	read -r -a got < <(sed -nE "s/^$kind: cuts: ([0-9]+), resumed: ([0-9]+), lost commits: ([0-9]+), inconsistent: ([0-9]+)$/\1 \2 \3 \4/p" "$log")
	[ "${#got[@]}" = 4 ] || { status=1; continue; }
	for f in 0 1 2 3; do
		total[f]=$((total[f] + got[f]))
	done
done
echo "cuts: ${total[0]}, resumed: ${total[1]}, lost commits: ${total[2]}, inconsistent: ${total[3]}"
exit $status
