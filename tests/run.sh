#!/bin/bash
# tests/run.sh BUILD: every test of `make test`: the host unit tests, the
# validator on the shipped payloads, and the QEMU integration cases, which run
# in parallel.  Ends with the line "N passed, N failed, N skipped"; exits
# nonzero if anything failed, or (under CI, which sets CI=true) if anything
# that should have run was skipped.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$build/tests/out
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0 skipped=0

pass() { passed=$((passed + $1)); }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# What a sanitizer prints when it finds something (ASan, LSan, UBSan).
sanitizer_report='^SUMMARY: [A-Za-z]+Sanitizer|runtime error:|ERROR: [A-Za-z]+Sanitizer'

# unit BIN: runs one Check binary, printing an ok or FAIL line; sets u_pass
# and u_fail to its checks passed and failed, u_rc to its exit status.  A binary that fails without a
# Check failure (a sanitizer or leak report, a crash outside a test) counts
# one failure of its own.
unit() {
	local t=$1 log rc line
	log=$out/$(basename "$t").log
	"$t" >"$log" 2>&1
	rc=$?
	u_pass=0 u_fail=1 u_rc=$rc
	line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL $(basename "$t"): no Check summary (exit $rc)"; sed 's/^/    /' "$log"; return
	fi
	set -- $(echo "$line" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
	u_pass=$(($1 - $2 - $3)) u_fail=$(($2 + $3))
	if [ $u_fail -gt 0 ] || [ $rc -ne 0 ] || grep -qE "$sanitizer_report" "$log"; then
		[ $u_fail -gt 0 ] || u_fail=1
		echo "FAIL $(basename "$t"): exit $rc, $2 failures, $3 errors:"
		grep -vE '^(Running|[0-9]+%)' "$log" | sed 's/^/    /'
	else
		echo "ok   $(basename "$t") ($1 checks)"
	fi
}

# Unit tests: each binary is one Check suite; count its checks.
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	unit "$t"
	pass $u_pass
	failed=$((failed + u_fail))
done

# The harness itself: binaries built as the unit tests are, whose every
# Check test passes, but which then trip UBSan or leak outside any test
# (tests/unit/canary_*.c).  Each must exit nonzero (UBSan built not to
# recover, LSan) and count as failed above, or a real one would pass unseen.
for c in canary_ub canary_leak; do
	if ! make --no-print-directory BUILD="$build" "$build/tests/$c" >"$out/$c.build.log" 2>&1; then
		fail "harness-$c: it did not build"; sed 's/^/    /' "$out/$c.build.log"
	elif unit "$build/tests/$c" >"$out/$c.unit.log" && [ "$u_fail" -gt 0 ] && [ "$u_rc" -ne 0 ]; then
		pass 1; echo "ok   harness-$c (counted as failed: $(head -1 "$out/$c.unit.log"))"
	else
		fail "harness-$c: exit $u_rc, $u_fail counted failed; expected a nonzero exit counted as failed"
		sed 's/^/    /' "$out/$c.unit.log"
	fi
done

# The validator accepts every payload we ship.
for elf in "$build"/layer1/*.elf; do
	if "$build/bin/abicheck" "$elf" >"$out/abicheck.log" 2>&1; then
		pass 1; echo "ok   abicheck $(basename "$elf")"
	else
		fail "abicheck $(basename "$elf")"; sed 's/^/    /' "$out/abicheck.log"
	fi
done

# The validator rejects every crafted bad payload, each for its own reason.
tests/abi/badcheck.sh "$build" >"$out/badcheck.log" 2>&1
pass "$(grep -c '^ok' "$out/badcheck.log")"
failed=$((failed + $(grep -c '^FAIL' "$out/badcheck.log")))
grep '^FAIL' -A3 "$out/badcheck.log"
echo "ok   abicheck rejects $(grep -c '^ok' "$out/badcheck.log") crafted bad payloads"

# doc/abi.md and abi/strata agree on every constant.
if tests/abi/doccheck.sh "$build" >"$out/doccheck.log" 2>&1; then
	pass 1; echo "ok   doc/abi.md matches abi/strata"
else
	fail "doc/abi.md and abi/strata disagree:"; sed 's/^/    /' "$out/doccheck.log"
fi

# Every violation rule of doc/abi.md and abi/strata has an integration case.
if tests/abi/rulecheck.sh >"$out/rulecheck.log" 2>&1; then
	pass 1; echo "ok   every ABI violation rule has a case"
else
	fail "ABI violation rules without a case:"; grep -v '^ok' "$out/rulecheck.log" | sed 's/^/    /'
fi

# Integration cases, as many QEMUs at a time as there are cores.  Each case
# is a spec file, one field a line: UEFI, MEM, DISK, QEMUARGS (set before t,
# as in `UEFI=1 t ...`; integration/case.sh says what they mean), then name,
# payload, exit, args, l0args, and the patterns its serial output must match.
# The prefixes must not leak in from the environment (`make test` exports
# make's own MEM and DISK), so they start unset.
unset UEFI MEM DISK QEMUARGS
ncase=0
t() {
	ncase=$((ncase + 1))
	printf '%s\n' "${UEFI:-0}" "${MEM:-}" "${DISK:-}" "${QEMUARGS:-}" "$@" >"$out/case-$ncase.spec"
}

# blkdebug_end NAME PAYLOAD: a disk that fails every read of one sector, the
# first of the free area (PAYLOAD's _end, the page after its image), so the
# label and the image read fine and the payload's first touch of the free
# area is what fails.  Sets blkdebug_conf, QEMU's blkdebug config written
# as $out/NAME.blkdebug, and blkdebug_qemu, the QEMUARGS that put it under
# the case's disk.  The rule fires only when the raw format above blkdebug
# raises its read_aio event, that is on every read.
blkdebug_end() {
	local end
	end=$(nm "$build/layer1/$2.elf" 2>/dev/null | awk '$3 == "_end" { print $1 }')
	blkdebug_conf=$out/$1.blkdebug
	printf '[inject-error]\nevent = "read_aio"\nerrno = "5"\nsector = "%s"\n' \
		"$(( (0x${end:-0} - 0x100000000000) / 512 ))" >"$blkdebug_conf"
	blkdebug_qemu="-drive if=none,id=d0,format=raw,file=blkdebug:$blkdebug_conf:@DISK@"
	blkdebug_qemu+=" -device virtio-blk-pci,drive=d0"
}

# Every tests/integration/*.sh is taken.  Its header says what it is, in a
# line "# integration: KIND": "cases", a list of t calls sourced here (the
# cases run in parallel); "sequential", a script run in turn after them,
# with BUILD, for boots that depend on each other or want the machine to
# themselves, which prints an ok, FAIL or skip line per check and leaves a
# result beside each case spec it wrote; "helper", used by the others.  A
# file without the line fails, so that none is left out unseen.
sequential=()
for f in "$here"/integration/*.sh; do
	case $(sed -n 's/^# integration: //p' "$f" | head -1) in
	cases)
		# shellcheck source=/dev/null
		. "$f" ;;
	sequential)
		sequential+=("$f") ;;
	helper) ;;
	*)
		fail "$(basename "$f"): no line '# integration: cases', 'sequential' or 'helper'" ;;
	esac
done
ls "$out"/case-*.spec 2>/dev/null | xargs -r -P "$(nproc 2>/dev/null || echo 2)" -n 1 \
	"$here/integration/case.sh" "$build"
for spec in "$out"/case-*.spec; do
	[ -f "$spec" ] || continue
	r=${spec%.spec}.result
	if [ ! -f "$r" ]; then
		fail "$(sed -n 5p "$spec"): the case wrote no result"
	elif grep -q '^ok' "$r"; then
		pass 1; cat "$r"
	else
		failed=$((failed + 1)); cat "$r"
	fi
done

# The sequential scripts, in turn, after the parallel cases (the 64 TiB
# disk's timing and the network's throughput want the machine to
# themselves).  Each exits 0.
for f in "${sequential[@]}"; do
	s=$(basename "$f" .sh)
	"$f" "$build" >"$out/$s.log" 2>&1
	rc=$?
	pass "$(grep -c '^ok' "$out/$s.log")"
	failed=$((failed + $(grep -c '^FAIL' "$out/$s.log")))
	skipped=$((skipped + $(grep -c '^skip' "$out/$s.log")))
	cat "$out/$s.log"
	[ $rc -eq 0 ] || fail "$s.sh: exit $rc"
	grep -qE '^(ok|FAIL|skip) ' "$out/$s.log" || fail "$s.sh: no ok, FAIL or skip line"
	for spec in "$out/$s"/case-*.spec; do
		[ -f "$spec" ] && [ ! -f "${spec%.spec}.result" ] &&
			fail "$(sed -n 5p "$spec"): the case wrote no result"
	done
done

# `make run` itself, as a user without a terminal runs it.  GNU make exits 2
# for any failed recipe, so the payload's code shows in make's "Error N".
log=$out/make-run.log
make --no-print-directory run BUILD="$build" PAYLOAD=args ARGS="exit=5 via-make-run" NET=none \
	DISK="$build/tests/make-run.img" </dev/null >"$log" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q 'argv\[2\] = via-make-run' "$log" && grep -q '^strata: exit 5 ' "$log" \
	&& grep -q 'Error 5' "$log"; then
	pass 1; echo "ok   make-run-exit-code"
else
	fail "make-run-exit-code: make returned $rc, expected 2 and 'Error 5'"; tail -20 "$log" | sed 's/^/    | /'
fi

# `make debug`: gdb stops in layer 0 and, with the payload's symbols, in its main.
log=$out/make-debug.log
printf 'continue\nbt 1\ndelete\nhbreak main\ncontinue\nbt 1\nkill\nquit\n' \
	| timeout 120 make --no-print-directory debug BUILD="$build" PAYLOAD=hello >"$log" 2>&1
if grep -q '#0  kmain ' "$log" && grep -q 'Breakpoint 2, main .*' "$log" && grep -q 'layer1/hello/main.c' "$log"; then
	pass 1; echo "ok   make-debug"
else
	fail "make-debug: gdb did not stop in kmain and in the payload's main"; tail -20 "$log" | sed 's/^/    | /'
fi

echo "$passed passed, $failed failed, $skipped skipped"
if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "FAIL under CI nothing may be skipped: $skipped skipped (the skip lines above say why)"
	exit 1
fi
[ "$failed" -eq 0 ]
