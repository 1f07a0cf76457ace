#!/bin/bash
# tests/abi/rulecheck.sh: every violation rule has an integration case.
# The rules are the V-... names in doc/abi.md's tables and the
# STRATA_EXIT_V_* constants of abi/strata/exit.h (V_L0_REGION is V-L0-REGION).
# A rule is covered when some `t` line of tests/integration/*.sh expects its
# exit code and has a pattern naming it as 'rule: V-...'.  Prints an ok or
# FAIL line per rule; fails when a rule is uncovered or only one side names it.
set -u
cd "$(dirname "$0")/../.." || exit 1
doc=doc/abi.md exit_h=abi/strata/exit.h

declare -A code indoc
while read -r name value; do
	code[V-${name//_/-}]=$value
done < <(sed -nE 's/^#define[[:space:]]+STRATA_EXIT_V_([A-Z0-9_]+)[[:space:]]+STRATA_U32\(([0-9]+)\).*/\1 \2/p' "$exit_h")
for r in $(grep -E '^\|' "$doc" | grep -oE '\bV-[A-Z0-9]+(-[A-Z0-9]+)*' | sort -u); do
	indoc[$r]=1
done
[ ${#code[@]} -gt 0 ] && [ ${#indoc[@]} -gt 0 ] || { echo "FAIL rulecheck: no rules read"; exit 1; }

# Every case on one line (continuations joined), without UEFI=1 and the like.
cases=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' tests/integration/*.sh \
	| sed -nE 's/^([A-Z_]+=[^ ]* )*t /t /p')

bad=0
for r in $(printf '%s\n' "${!code[@]}" "${!indoc[@]}" | sort -u); do
	if [ -z "${indoc[$r]+x}" ]; then
		echo "FAIL $r: $exit_h defines it, no table of $doc names it"; bad=1; continue
	fi
	if [ -z "${code[$r]+x}" ]; then
		echo "FAIL $r: $doc names it, $exit_h has no STRATA_EXIT_${r//-/_}"; bad=1; continue
	fi
	names=$(echo "$cases" | awk -v want="${code[$r]}" '$4 == want { print }' \
		| grep -E "rule: $r([^A-Z0-9-]|\$)" | awk '{ print $2 }' | paste -sd ' ')
	if [ -n "$names" ]; then
		echo "ok   $r (exit ${code[$r]}): $names"
	else
		echo "FAIL $r: no case in tests/integration/*.sh expects exit ${code[$r]} and 'rule: $r'"; bad=1
	fi
done
exit $bad
