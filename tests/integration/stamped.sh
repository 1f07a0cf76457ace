# tests/integration/stamped.sh: a boot whose serial lines are stamped on
# the host as they arrive, and which can be cut (QEMU killed with SIGKILL)
# at the line the caller names.  Sourced by tests/bench/checkpoint.sh, which
# times resumes with it, and tests/integration/benchmodes.sh, which checks
# the modes that benchmark uses; the caller sets $images.
# integration: helper
# shellcheck shell=bash

# stamped_boot LOG CUT QEMU.SH-ARGS... -- [QEMU ARGS...]: boots through
# images/qemu.sh (its arguments must include the "--"), the serial console
# in LOG and, each line prefixed with the ms since layer 0's first line
# ("strata: layer 0 starting"; -1 before it), in LOG.ms.  The first line
# matching the extended regex CUT, unless CUT is empty, has QEMU killed at
# once, as a power cut would stop it.  Returns what qemu.sh returned (125
# after a cut).
stamped_boot() {
	local log=$1 cut=$2 l0=0 line now
	shift 2
	rm -f "$log.pid"
	: >"$log.ms"
	while IFS= read -r line; do
		now=${EPOCHREALTIME/./}
		line=${line%$'\r'}
		if [ "$l0" = 0 ] && [[ $line == "strata: layer 0 starting"* ]]; then
			l0=$now
		fi
		echo "$(( l0 ? (now - l0) / 1000 : -1 )) $line" >>"$log.ms"
		if [ -n "$cut" ] && [[ $line =~ $cut ]]; then
			# No pid file: QEMU has exited already (and removed it).
			[ -f "$log.pid" ] && kill -KILL "$(cat "$log.pid")" 2>/dev/null
			cut=""
		fi
	done < <("$images/qemu.sh" --log "$log" "$@" -pidfile "$log.pid" </dev/null 2>"$log.err")
	wait $!
}

# stamp_ms LOG REGEX: the ms stamp of the first line of LOG (stamped_boot's)
# after layer 0's first that matches the extended regex REGEX, or nothing.
stamp_ms() {
	awk -v re="$2" '$1 >= 0 { ms = $1; sub(/^[-0-9]+ /, ""); if ($0 ~ re) { print ms; exit } }' "$1.ms"
}
