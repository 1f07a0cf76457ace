/*
 * Traps: the only other way into layer 0, an `int` instruction on one of
 * these vectors.  Arguments in rdi, rsi, rdx; the result in rax; every other
 * register is preserved.  Any other vector raised by layer 1 with `int` is a
 * violation (STRATA_EXIT_V_TRAP).
 */
#ifndef STRATA_TRAP_H
#define STRATA_TRAP_H

#include "types.h"

/*
 * Exit: rdi = exit code, 0..STRATA_EXIT_PAYLOAD_MAX.  Does not return.  Every
 * console slot written before it (doorbell rung or not) is printed first.
 */
#define STRATA_TRAP_EXIT		STRATA_U32(0xe0)

/*
 * Reserved for the next ABI minors, in this order: the durability barrier
 * (pager), wait-with-deadline (NIC), checkpoint commit.  Raising one before it
 * is defined is a violation.
 */
#define STRATA_TRAP_SYNC		STRATA_U32(0xe1)
#define STRATA_TRAP_WAIT		STRATA_U32(0xe2)
#define STRATA_TRAP_COMMIT		STRATA_U32(0xe3)

#define STRATA_TRAP_FIRST		STRATA_TRAP_EXIT
#define STRATA_TRAP_LAST		STRATA_TRAP_COMMIT

#endif
