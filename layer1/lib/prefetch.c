/* The prefetch trap (abi/strata/trap.h, ABI 1.5): reads of pages ahead of need. */
#include "runtime.h"

long strata_prefetch(const void *addr, size_t len)
{
	uint64_t lo = (uint64_t)(uintptr_t)addr & ~(uint64_t)(STRATA_PAGE_SIZE - 1);
	uint64_t hi = ((uint64_t)(uintptr_t)addr + len + STRATA_PAGE_SIZE - 1) &
	    ~(uint64_t)(STRATA_PAGE_SIZE - 1);
	uint64_t r;

	if (len == 0)
		return 0;	/* the trap takes whole pages, at least one */
	/* No "memory" clobber: the trap changes no byte layer 1 can see. */
	__asm__ volatile("int %1" : "=a"(r) : "i"(STRATA_TRAP_PREFETCH), "D"(lo), "S"(hi - lo));
	return (long)r;
}
