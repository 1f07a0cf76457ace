#!/bin/bash
# tests/abi/constants.sh BUILD: prints "NAME VALUE" (value in hex) for every
# numeric constant the abi/strata headers define, computed by the compiler
# from the headers themselves.
set -eu
build=$1
mkdir -p "$build/tests"
names=$(gcc -dM -E -Iabi abi/strata/abi.h \
	| awk '$1 == "#define" && $2 ~ /^STRATA_[A-Z0-9_]+$/ { print $2 }' \
	| grep -vE '^STRATA_(C_TYPES|NOTE_NAME)$|_H$' | sort)
src=$build/tests/constants.c
{
	echo '#include <stdio.h>'
	echo '#include "strata/abi.h"'
	echo 'int main(void) {'
	for n in $names; do
		echo "	printf(\"%s 0x%llx\\n\", \"$n\", (unsigned long long)($n));"
	done
	echo '	return 0;'
	echo '}'
} >"$src"
gcc -std=c11 -Wall -Werror -Iabi "$src" -o "$build/tests/constants"
"$build/tests/constants"
