# tests/crash/lib.sh: what the three crash scripts share (sourced, not run).
# Each script boots the counter payload, cuts the machine at random instants
# and checks, from the serial output, that every boot after a cut resumed at
# a committed state: at or past the newest value printed as committed before
# the cut (or the newest checkpoint durable on a power-loss image), and never
# INCONSISTENT.  The caller sets build and kind first; its files go to out.
# Set SEED to repeat a campaign's random choices.

images=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../images" && pwd)
out=$build/tests/out/crash-$kind
RANDOM=${SEED:-$$}
rm -rf "$out"
mkdir -p "$out"

# crash_prepare ARGS L0ARGS: the counter's ISO, $out/counter.iso, and a blank
# 64 MiB disk, $out/disk.img.  Every boot of a script uses the one ISO, so
# the module is the installed build and layer 0 resumes.
crash_prepare() {
	if ! "$images/mkiso.sh" "$out/counter.iso" "$build/layer0.elf" "$build/layer1/counter.elf" \
		"$1" "$2" >/dev/null; then
		echo "  $kind: no ISO" >&2
		summary 0 0 0 0 0
		exit 1
	fi
	truncate -s 64M "$out/disk.img"
}

# With an interval (the scripts' third argument, MS), the counter never
# commits (every=0) and layer 0 checkpoints it every MS ms: a cut must then
# find it resumed within one interval of where it was (tally_marks), give or
# take MARGIN_MS: a periodic checkpoint starts at the first timer tick after
# it is due (10 ms apart at the 100 Hz timer), it is durable some ms after
# it starts, and the machine shares two cores with other QEMUs, whose turns
# stall it for tens of ms at times (the campaign's largest lags: see
# tally_marks's line).
MARGIN_MS=${CRASH_MARGIN_MS:-30}

# crash_prepare_kind ARGS L0ARGS: crash_prepare with these, or without commits
# and with checkpoints every $interval ms when the script was given one.
crash_prepare_kind() {
	if [ -n "${interval:-}" ]; then
		crash_prepare "every=0" "checkpoint=$interval"
	else
		crash_prepare "$1" "$2"
	fi
}

# tally_kind LOG: tally of a script's serial output, or tally_marks with an interval.
tally_kind() {
	if [ -n "${interval:-}" ]; then
		tally_marks "$1" $((interval + MARGIN_MS))
	else
		tally "$1" 0 0
	fi
}

# rand_sleep MS: sleeps a random time in [0, MS) milliseconds.
rand_sleep() {
	local ms=$((RANDOM % $1))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
}

# boot_bg LOG DISK ISO [QEMU WORDS...]: starts a machine in the background
# with its serial output in LOG; sets qpid to QEMU's own process id (from
# its pidfile, so that a kill reaches QEMU itself, not qemu.sh), empty if
# QEMU did not start within 30 s.  QEMU is stopped after qemu_timeout
# seconds (default 600): a script that runs many cuts in one QEMU sets more.
# The machine has no NIC unless qemu_net gives qemu.sh's --net spec.
# The disk's cache is `unsafe`: a kill or a
# reset leaves the host's copy of what QEMU wrote, so the guest's flushes
# need not reach the host's disk.
boot_bg() {
	local log=$1 disk=$2 iso=$3
	shift 3
	rm -f "$log.pid"
	"$images/qemu.sh" --iso "$iso" --disk "$disk" --disk-cache unsafe --mem 128M \
		--timeout "${qemu_timeout:-600}" --net "${qemu_net:-none}" \
		--log "$log" --quiet \
		-- -pidfile "$log.pid" "$@" </dev/null 2>>"$out/qemu.err" &
	qsh=$!
	qpid=""
	for _ in $(seq 300); do
		[ -s "$log.pid" ] && qpid=$(cat "$log.pid") && [ -n "$qpid" ] && return
		kill -0 "$qsh" 2>/dev/null || return
		sleep 0.1
	done
}

# wait_line LOG FROM PATTERN: waits until LOG shows, past byte FROM, a line
# matching PATTERN; 1 if QEMU ($qpid) ended or 60 s went by first.
wait_line() {
	local log=$1 from=$2 pattern=$3
	for _ in $(seq 600); do
		tail -c +"$((from + 1))" "$log" 2>/dev/null | grep -aqE "$pattern" && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_start LOG FROM: wait_line for the counter's first line.
wait_start() {
	wait_line "$1" "$2" '^counter: (fresh|resumed) at [0-9]+'
}

# cut_point LOG FROM I: waits for the instant of cut I (of n) in the boot
# whose output starts past byte FROM of LOG; 1 if that boot never got there.
# One cut in four (never the first boot's, the install, nor the last's,
# which checks the cut before it) comes within 300 ms of layer 0's first
# line, while it recovers the journal, resumes or starts the counter; the
# others come up to 700 ms after the counter's first line.
cut_point() {
	if [ "$3" -gt 0 ] && [ "$3" -lt "$n" ] && [ $((RANDOM % 4)) = 0 ]; then
		wait_line "$1" "$2" '^strata: layer 0 starting' && rand_sleep 300
	else
		wait_start "$1" "$2" && { [ "$3" = "$n" ] || rand_sleep 700; }
	fi
}

# boot_end LOG FROM: what a boot that stopped short printed last (its output
# past byte FROM of LOG) without the backtrace, so a report's own lines
# (which device, what it waited for, the queue) show, then QEMU's complaints.
boot_end() {
	tail -c +"$(($2 + 1))" "$1" | grep -av '^  trace ' | tail -n 12 | sed 's/^/    | /' >&2
	[ -s "$out/qemu.err" ] && tail -n 5 "$out/qemu.err" | sed 's/^/    | qemu: /' >&2
	return 0
}

# stop_qemu: kills QEMU and waits for qemu.sh to notice.
stop_qemu() {
	[ -n "$qpid" ] && kill -9 "$qpid" 2>/dev/null
	wait "$qsh" 2>/dev/null
}

# tally LOG FLOOR FIRST_IS_CUT [CEILING]: reads the serial output of
# consecutive boots of the counter (each begins at layer 0's first line) and
# prints "CUTS RESUMED LOST INCONSISTENT BAD", with a line on stderr for
# each thing wrong.  Every boot but the first (all, if FIRST_IS_CUT) follows
# a cut.  The cuts since the last counter line are resumed when the next
# boot's first counter line comes, at a value not below the newest committed
# one before them and FLOOR (and not above CEILING, when given: no
# checkpoint past it can be on the disk); a boot cut before that line hands
# its cut on to the next.  A fresh start after a cut counts only before any
# commit, or when layer 0 says the run had exited.  BAD counts boots that
# stopped with a nonzero exit.
tally() {
	tr -d '\r' <"$1" | awk -v floor="$2" -v firstcut="$3" -v ceiling="${4:--1}" -v kind="$kind" '
	function report(what) { printf "  %s: boot %d: %s\n", kind, boot, what > "/dev/stderr" }
	BEGIN { maxc = floor + 0 }
	/^strata: layer 0 starting/ {
		boot++; started = 0; exited = 0
		if (boot > 1 || firstcut)
			pending++
		next
	}
	/^strata: checkpoint: fresh start \(.*exit/ { exited = 1 }
	/^counter: INCONSISTENT/ { inconsistent++; report($0) }
	/^strata: exit [0-9]+/ && $3 != 0 { bad++; report($0) }
	/^counter: (fresh|resumed) at [0-9]+$/ && !started {
		started = 1
		if (pending == 0)
			next
		v = $4 + 0
		if (v < maxc) {
			lost++
			report($0 ", but " maxc " was committed before the cut")
		} else if (ceiling >= 0 && v > ceiling) {
			inconsistent++
			report($0 ", past checkpoint " ceiling ", the newest the disk can hold")
		} else if ($2 == "resumed" || maxc == 0 || exited) {
			resumed += pending
		} else {
			report($0 ": a fresh start after a cut, with " maxc " committed")
		}
		pending = 0
	}
	/^counter: committed [0-9]+$/ && $3 + 0 > maxc { maxc = $3 + 0 }
	END { print boot - (firstcut ? 0 : 1), resumed + 0, lost + 0, inconsistent + 0, bad + 0 }'
}

# tally_marks LOG WINDOW_MS: tally's counterpart for a counter that never
# commits (every=0) under periodic checkpoints, from its marks (layer1/
# counter/main.c): at a cut, the last mark before it says the counter was at
# most W; each mark is stamped with the clock, which carries on over resumes,
# and with the clock of layer 0's last timer tick.  The next boot must
# resume (layer 0's "resuming checkpoint S") a checkpoint at least as new as
# the newest durable one the marks showed, at a value not above W, and not
# below the value of the newest mark whose tick was WINDOW_MS or more before
# the last mark's: a periodic checkpoint starts at a tick, so one started
# after that tick was durable at the cut.  Ticks, not the clock itself,
# because QEMU delivers them from its main thread, which a busy host may
# hold up for tens of ms while the CPU thread runs on.  The "resumed from
# clock" line ends the timeline there (marks printed after that clock were
# undone).  A fresh start after a cut counts only while no checkpoint was
# durable, and not below that same value either (so a run without
# checkpoints fails).  Prints what tally does, and on stderr the largest
# lag seen: the last mark's tick minus the clock resumed.
tally_marks() {
	tr -d '\r' <"$1" | awk -v window="$(($2 * 1000))" -v kind="$kind" '
	function report(what) { printf "  %s: boot %d: %s\n", kind, boot, what > "/dev/stderr" }
	function below(why) {
		lost++
		report($0 ", " why ", below " V[i] ", printed at tick " K[i] " us, " window / 1000 \
		    " ms or more before the last mark, at tick " K[h] " us")
	}
	/^strata: layer 0 starting/ {
		boot++; started = 0; seq = -1
		if (boot > 1)
			pending++
		next
	}
	/^strata: checkpoint: resuming checkpoint [0-9]+ / { seq = $5 + 0 }
	/^counter: INCONSISTENT/ { inconsistent++; report($0) }
	/^strata: exit [0-9]+/ && $3 != 0 { bad++; report($0) }
	/^counter: (fresh|resumed) at [0-9]+$/ && !started {
		started = 1
		v = $4 + 0
		for (i = h; i > 0 && K[i] > K[h] - window; i--)
			;
		if (pending == 0) {
			# the first boot
		} else if ($2 == "fresh" && durable > 0) {
			lost++
			report($0 ": a fresh start after a cut, with checkpoint " durable " durable")
		} else if (i > 0 && v < V[i]) {
			below($2 == "fresh" ? "a fresh start after a cut" : "a resume")
		} else if ($2 == "resumed" && seq < durable) {
			lost++
			report("resumed checkpoint " seq ", but " durable " was durable before the cut")
		} else if ($2 == "resumed" && h > 0 && v > W[h]) {
			inconsistent++
			report($0 ", past " W[h] ", the most the counter reached before the cut")
		} else {
			resumed += pending
		}
		last = K[h]
		if ($2 == "fresh")
			h = durable = 0
		pending = 0
	}
	/^counter: resumed from clock [0-9]+ us$/ {
		if (last - $5 > lag)
			lag = last - $5
		while (h > 0 && T[h] > $5 + 0)
			h--
	}
	/^counter: mark [0-9]+ to [0-9]+ at [0-9]+ us tick [0-9]+ us seq [0-9]+$/ {
		h++; V[h] = $3 + 0; W[h] = $5 + 0; T[h] = $7 + 0; K[h] = $10 + 0
		if ($13 + 0 > durable)
			durable = $13 + 0
	}
	END {
		printf "  %s: the largest lag of a resume behind the last tick before its cut: %.1f ms\n",
		    kind, lag / 1000 > "/dev/stderr"
		print boot - 1, resumed + 0, lost + 0, inconsistent + 0, bad + 0
	}'
}

# tally_sum DIR: the sums of the tallies DIR/*.tally, one per cut, each
# "CUTS RESUMED LOST INCONSISTENT BAD", in the same form.
tally_sum() {
	cat "$1"/*.tally | awk '{ for (f = 1; f <= 5; f++) s[f] += $f }
		END { print s[1] + 0, s[2] + 0, s[3] + 0, s[4] + 0, s[5] + 0 }'
}

# summary CUTS RESUMED LOST INCONSISTENT BAD: the kind's line; 0 if all is well.
summary() {
	echo "$kind: cuts: $1, resumed: $2, lost commits: $3, inconsistent: $4"
	[ "$5" -gt 0 ] && echo "  $kind: $5 boots stopped with a nonzero exit"
	[ "$1" -gt 0 ] && [ "$1" = "$2" ] && [ "$3" = 0 ] && [ "$4" = 0 ] && [ "$5" = 0 ]
}
