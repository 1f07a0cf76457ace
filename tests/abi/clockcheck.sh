#!/bin/bash
# tests/abi/clockcheck.sh BUILD: the C that doc/abi.md gives for the clock
# (the ```c block after "**The clock.**") computes the right time after long
# uptimes, with an info page filled the way layer 0 fills it (timer.c): a
# 32.32 fixed-point tsc_ns_mult.  A formula whose product wraps in 64 bits
# fails within seconds of uptime.
set -u
build=${1:-build}
doc=doc/abi.md
dir=$build/tests/clockcheck
mkdir -p "$dir"
snippet=$(awk '/^\*\*The clock\.\*\*/ { found = 1 } found && /^```c$/ { on = 1; next }
	on && /^```$/ { exit } on { print }' "$doc")
[ -n "$snippet" ] || { echo "clockcheck: no \`\`\`c block after **The clock.** in $doc"; exit 1; }
cat >"$dir/clock.c" <<EOC
#include <stdio.h>
#include "strata/info.h"

static uint64_t fake_tsc;
#define __builtin_ia32_rdtsc() fake_tsc

static uint64_t doc_clock(const struct strata_info *info)
{
$snippet
	return ns;
}

int main(void)
{
	static const double hz[] = { 1.0e9, 2.5e9, 3.0e9, 4.7e9 };
	static const double uptime_s[] = { 0.001, 1, 10, 3600, 30 * 86400.0 };
	struct strata_info info = { .tsc_base = 123456789 };
	int bad = 0;

	for (unsigned i = 0; i < sizeof hz / sizeof hz[0]; i++) {
		/* As timer.c calibrates: 10 ms worth of ticks. */
		uint64_t ticks_10ms = (uint64_t)(hz[i] / 100);
		info.tsc_ns_mult = ((uint64_t)10 * 1000000 << 32) / ticks_10ms;
		for (unsigned j = 0; j < sizeof uptime_s / sizeof uptime_s[0]; j++) {
			double want = uptime_s[j] * 1e9;
			fake_tsc = info.tsc_base + (uint64_t)(uptime_s[j] * hz[i]);
			double got = (double)doc_clock(&info);
			if (got < want * (1 - 1e-6) - 1000 || got > want * (1 + 1e-6) + 1000) {
				printf("clockcheck: at %.1f GHz after %g s the doc's clock says %.0f ns, not %.0f\n",
				    hz[i] / 1e9, uptime_s[j], got, want);
				bad = 1;
			}
		}
	}
	return bad;
}
EOC
gcc -std=gnu11 -O1 -Wall -Wextra -Werror -Iabi "$dir/clock.c" -o "$dir/clock" ||
	{ echo "clockcheck: the doc's clock code does not compile"; exit 1; }
"$dir/clock"
