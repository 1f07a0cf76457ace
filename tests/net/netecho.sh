# Sourced by tests/integration/net.sh, extsync.sh and tests/bench/net.sh:
# netecho (or syncecho) booted in the background, waited for, and stopped.
# Needs $build and $images.
#
# QEMU runs in qemu.sh's own new process group, so netecho_stop ends both
# with one kill; qemu.sh is given no --timeout, whose `timeout` would put
# QEMU in a group of its own.  netecho's exit-after is the backstop that ends
# the machine should the calling script die before netecho_stop runs.
# shellcheck shell=bash

netecho_pgid=""

# The result lines and the built check, shared with the other network tests.
# shellcheck source=report.sh
. "$(dirname "${BASH_SOURCE[0]}")/report.sh"

# netecho_start DIR NAME "ARGS" NETSPEC [PAYLOAD [DISK]]: serial log in
# DIR/NAME.log.  PAYLOAD is netecho or syncecho (its program under another
# header), DISK a disk image for it (default: none).
netecho_start() {
	local iso=$1/$2.iso disk=()
	[ -n "${6:-}" ] && disk=(--disk "$6")
	"$images/mkiso.sh" "$iso" "$build/layer0.elf" "$build/layer1/${5:-netecho}.elf" \
		"$3 exit-after=900" "" >/dev/null || return 1
	rm -f "$1/$2.log"
	setsid "$images/qemu.sh" --iso "$iso" --net "$4" "${disk[@]}" --log "$1/$2.log" --quiet \
		</dev/null 2>"$1/$2.err" &
	netecho_pgid=$!
}

netecho_stop() {
	[ -n "$netecho_pgid" ] || return 0
	kill -- "-$netecho_pgid" 2>/dev/null
	wait "$netecho_pgid" 2>/dev/null
	# QEMU may outlive qemu.sh a moment, holding the forwarded ports.
	while kill -0 -- "-$netecho_pgid" 2>/dev/null; do sleep 0.1; done
	netecho_pgid=""
}

# netecho_await LOG REGEX SECONDS: true once LOG has a line matching REGEX.
netecho_await() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -aqE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$netecho_pgid" 2>/dev/null || break
		sleep 0.1
	done
	grep -aqE "$2" "$1" 2>/dev/null
}
