#!/bin/bash
# tests/bench.sh BUILD: runs every benchmark, prints "bench: NAME VALUE UNIT"
# for each figure and writes them all to BUILD/bench.json.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build/bench"
figures=$build/bench/figures
: >"$figures"
for b in "$here"/bench/*.sh; do
	"$b" "$build" >>"$figures" || { echo "bench: $(basename "$b") failed" >&2; exit 1; }
done
# Ratios the issues ask for, computed from figures measured in this run.
awk '$1 == "boot_to_layer1_ms" { l = $2 } $1 == "boot_floor_ms" { f = $2 }
	END { if (l && f) printf "boot_layer0_ratio %.3f x\n", l / f }' "$figures" >>"$figures"
sed 's/^/bench: /' "$figures"
awk 'BEGIN { printf "{\n" } { printf "%s  \"%s\": {\"value\": %s, \"unit\": \"%s\"}", (NR > 1 ? ",\n" : ""), $1, $2, $3 }
	END { printf "\n}\n" }' "$figures" >"$build/bench.json"
