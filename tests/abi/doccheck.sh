#!/bin/bash
# tests/abi/doccheck.sh BUILD: doc/abi.md and the abi/strata headers agree.
# Every numeric constant of the headers must stand in a table row of the doc
# as  | `NAME` | `VALUE` | ...  with the same value, and every such row must
# name a constant the headers define.  The clock's C in the doc must also
# compute the right time (clockcheck.sh).
set -u
build=$1
doc=doc/abi.md
declare -A hdr
while read -r name value; do hdr[$name]=$value; done < <(tests/abi/constants.sh "$build")
[ ${#hdr[@]} -gt 0 ] || { echo "doccheck: no constants read from abi/strata"; exit 1; }

bad=0
declare -A seen
while IFS='|' read -r _ name value _; do
	name=$(echo "$name" | tr -d ' `') value=$(echo "$value" | tr -d ' `_')
	seen[$name]=1
	if [ -z "${hdr[$name]+x}" ]; then
		echo "doccheck: $doc documents $name, which abi/strata does not define"; bad=1
	elif [ $((value)) != $((hdr[$name])) ]; then
		echo "doccheck: $doc says $name = $value, abi/strata says ${hdr[$name]}"; bad=1
	fi
done < <(grep -E '^\| *`STRATA_[A-Z0-9_]+` *\| *`[0-9a-fx_]+`' "$doc")
for name in "${!hdr[@]}"; do
	[ -n "${seen[$name]+x}" ] || { echo "doccheck: $name is not in a table of $doc"; bad=1; }
done
# A row cut off from its table (a blank line before it) renders as text.
while read -r line; do
	echo "doccheck: $doc line $line: a constant row outside a table (the line above is not a row)"
	bad=1
done < <(awk '/^\| *`STRATA_/ && prev !~ /^\|/ { print NR } { prev = $0 }' "$doc")
tests/abi/clockcheck.sh "$build" || bad=1
exit $bad
