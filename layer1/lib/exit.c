/* Leaving, and the clock: the two ways layer 1 uses the machine directly. */
#include "runtime.h"

_Noreturn void strata_exit(int code)
{
	/* Layer 0 would print unrung slots anyway; ringing keeps the protocol honest. */
	strata_flush();
	for (;;)
		__asm__ volatile("int %0" : : "i"(STRATA_TRAP_EXIT),
		    "D"((uint64_t)(int64_t)code) : "memory");
}

uint64_t strata_now_ns(void)
{
	const struct strata_info *info = strata_info();
	uint32_t lo, hi;
	uint64_t ticks;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	ticks = ((uint64_t)hi << 32 | lo) - info->tsc_base;
	/* 64x64->128 multiply is one instruction; a division would need libgcc. */
	return (uint64_t)(((unsigned __int128)ticks * info->tsc_ns_mult) >> 32);
}
