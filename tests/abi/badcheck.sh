#!/bin/bash
# tests/abi/badcheck.sh BUILD: abicheck rejects every file of the bad-payload
# corpus, tests/abi/bad/REASON[.VARIANT].elf (made by tests/abi/mkbad.c), with
# exit status 1 and a line naming REASON.  One line per file; exits nonzero
# if any file was not rejected as its name says.
set -u
build=${1:-build}
abicheck=$build/bin/abicheck
dir=$(dirname "$0")/bad
[ -x "$abicheck" ] || { echo "FAIL abicheck-bad: no $abicheck (make $abicheck)"; exit 1; }

failed=0 n=0
for f in "$dir"/*.elf; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=$(basename "$f" .elf)
	reason=${name%%.*}
	out=$("$abicheck" "$f" 2>&1)
	rc=$?
	if [ $rc -ne 1 ]; then
		echo "FAIL abicheck-bad $name: exit $rc, not 1"
	elif ! grep -q -F -- "$f: $reason: " <<<"$out"; then
		echo "FAIL abicheck-bad $name: no \"$reason\" among the reasons given"
	else
		echo "ok   abicheck-bad $name"
		continue
	fi
	failed=$((failed + 1))
	sed 's/^/    /' <<<"$out"
done
[ $n -gt 0 ] || { echo "FAIL abicheck-bad: no files in $dir"; exit 1; }
[ $failed -eq 0 ]
