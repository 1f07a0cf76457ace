# Sourced by the network test scripts (tests/integration/net.sh,
# kvstore.sh, kvcrash.sh): their result lines, as tests/run.sh counts them,
# and the check that their lwIP payload was built.  Needs $build.
# shellcheck shell=bash

ok() { echo "ok   $1"; }

# fail NAME WHY [LOG]: a FAIL line, and LOG's last lines under it.
fail() {
	echo "FAIL $1: $2"
	[ -n "${3:-}" ] && [ -f "$3" ] && tail -15 "$3" | sed 's/^/    | /'
}

# lwip_payload_built PAYLOAD NAME: true if build/layer1/PAYLOAD.elf is
# there; if not, says so as NAME (FAIL, or skip when lwIP's sources could
# not be fetched) and is false.
lwip_payload_built() {
	[ -f "$build/layer1/$1.elf" ] && return 0
	if [ -f "$build/lwip/stamp" ]; then
		fail "$2" "$1.elf was not built"
	else
		echo "skip $2: lwIP's sources could not be fetched, so $1 was not built"
	fi
	return 1
}
