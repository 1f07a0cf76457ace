# Sourced by tests/net/kvfill.sh and tests/integration/kvscale.sh: host
# ports of the range 31000-31999 kept for them, so that their QEMUs'
# forwarded ports and nutcracker do not collide with other tests' or
# another engineer's run.
# shellcheck shell=bash

# free_ports N: the first of N consecutive ports of the range, none of them
# listening now; the search starts at a place picked from the shell's pid,
# so that two runs at once start apart.
free_ports() {
	local n=$1 slots=$((1000 / $1)) s base busy
	busy=$(ss -Hltn 2>/dev/null | awk '{ sub(/.*:/, "", $4); print $4 }')
	for s in $(seq 0 $((slots - 1))); do
		base=$((31000 + (($$ + s) % slots) * n))
		if ! echo "$busy" | awk -v lo="$base" -v hi="$((base + n - 1))" \
			'$1 >= lo && $1 <= hi { found = 1 } END { exit !found }'; then
			echo "$base"
			return 0
		fi
	done
	return 1
}
