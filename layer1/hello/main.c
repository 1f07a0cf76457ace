/* The smallest useful payload: a greeting and what layer 0 says about the machine. */
#include <strata.h>

STRATA_PAYLOAD("hello", 0, 0);

int main(int argc, char **argv)
{
	const struct strata_info *info = strata_info();

	(void)argc;
	(void)argv;
	strata_puts("Hello from layer 1");
	strata_printf("hello: ABI %u.%u, %llu MiB of RAM, %u console slots, %llu ns since boot\n",
	    info->abi_major, info->abi_minor,
	    (unsigned long long)(info->ram_bytes >> 20), info->console_slots,
	    (unsigned long long)strata_now_ns());
	return 0;
}
