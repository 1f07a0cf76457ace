/* The durability traps, sync and commit (abi/strata/trap.h); exit.c and net.c raise the others. */
#include "runtime.h"

int strata_sync(void)
{
	uint64_t r;

	/*
	 * "memory": every store to the window must be issued before layer 0
	 * looks for dirty pages, and nothing may be cached across the trap.
	 */
	__asm__ volatile("int %1" : "=a"(r) : "i"(STRATA_TRAP_SYNC), "D"((uint64_t)0)
	    : "memory");
	return r == STRATA_SYNC_OK ? 0 : -1;
}

int strata_commit(void)
{
	uint64_t r;

	/* "memory" as for the sync: the checkpoint must see every store before it. */
	__asm__ volatile("int %1" : "=a"(r) : "i"(STRATA_TRAP_COMMIT), "D"((uint64_t)0)
	    : "memory");
	return r == STRATA_COMMIT_OK ? 0 : -1;
}
