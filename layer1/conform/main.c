/*
 * ABI conformance: each check uses one rule of doc/abi.md the legal way and
 * verifies what layer 1 can see of layer 0's answer.  The illegal ways are
 * layer1/crash's modes; tests/integration/conform.sh runs both and checks
 * the serial output and exit code for what layer 1 cannot see.
 *
 * Nothing is printed before a check starts: the ring checks drive the
 * console ring by hand from slot 0 and depend on the runtime not having
 * touched it, so that layer 0's exit summary counts only their slots.
 */
#include "conform.h"

STRATA_PAYLOAD("conform", 0, 0);

const char *check_name = "?";

static const struct check {
	const char *name;
	int (*run)(int argc, char **argv);
} checks[] = {
	{ "entry", check_entry },
	{ "info", check_info },
	{ "stack", check_stack },
	{ "readonly-read", check_readonly_read },
	{ "stack-untouched", check_stack_untouched },
	{ "exit-max", check_exit_max },
	{ "batch", check_batch },
	{ "wrap", check_wrap },
	{ "unrung-at-exit", check_unrung_at_exit },
	{ "ring-twice", check_ring_twice },
	{ "empty-slot", check_empty_slot },
	{ "full-batch", check_full_batch },
	{ "doorbell-loads", check_doorbell_loads },
	{ "prefetch", check_prefetch },
	{ "prefetch-error", check_prefetch_error },
};

int passed(void)
{
	strata_printf("conform: %s ok\n", check_name);
	return 0;
}

int failed(const char *fmt, ...)
{
	va_list ap;

	strata_printf("conform: %s FAILED: ", check_name);
	va_start(ap, fmt);
	strata_vprintf(fmt, ap);
	va_end(ap);
	strata_printf("\n");
	return 1;
}

static int usage(void)
{
	strata_printf("usage: conform CHECK [ARGS], CHECK one of:");
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
		strata_printf(" %s", checks[i].name);
	strata_printf("\n");
	return 2;
}

int main(int argc, char **argv)
{
	for (size_t i = 0; argc >= 2 && i < sizeof checks / sizeof checks[0]; i++) {
		if (strcmp(argv[1], checks[i].name) != 0)
			continue;
		check_name = checks[i].name;
		return checks[i].run(argc, argv);
	}
	return usage();
}
