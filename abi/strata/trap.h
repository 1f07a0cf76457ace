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
 * Sync (ABI 1.1), the durability barrier: rdi = 0 (flags, none defined yet).
 * Since ABI 1.3 a sync is a commit (below) and returns what a commit would:
 * with rax = STRATA_SYNC_OK every byte layer 1 wrote to the disk window
 * before the trap is in a durable checkpoint, so it survives a reset or power
 * loss.  rax = STRATA_SYNC_IO_ERROR when a write or a flush failed: nothing
 * is lost while the machine runs, and the next sync or commit tries again.
 * Without a disk it returns STRATA_SYNC_OK at once.
 */
#define STRATA_TRAP_SYNC		STRATA_U32(0xe1)
#define STRATA_SYNC_OK			STRATA_U32(0)
#define STRATA_SYNC_IO_ERROR		STRATA_U32(1)

/*
 * Wait (ABI 1.1): rdi = a deadline on the info page's clock (ns), 0 for none.
 * Returns when info->rx_delivered differs from rsi (the count layer 1 has
 * seen), with rax = STRATA_WAIT_RX, or when the deadline passes, with
 * rax = STRATA_WAIT_TIMEOUT.  Returns at once if rsi is already stale or the
 * deadline already passed.  Layer 1's registers other than rax are preserved.
 * rdi = 0 without an RX ring (no NIC, or none asked for) is a violation:
 * nothing could end the wait.
 */
#define STRATA_TRAP_WAIT		STRATA_U32(0xe2)
#define STRATA_WAIT_TIMEOUT		STRATA_U32(0)
#define STRATA_WAIT_RX			STRATA_U32(1)

/*
 * Commit (ABI 1.3): rdi = 0 (flags, none defined yet).  Returns when a
 * checkpoint is durable that holds every byte layer 1 wrote to the disk
 * window before the trap and its registers as the trap returns them
 * (rax = STRATA_COMMIT_OK, RIP after the int): a machine reset or cut after
 * that resumes no earlier than this return.  rax = STRATA_COMMIT_IO_ERROR
 * when a journal write or flush failed: the previous checkpoint stands,
 * nothing is lost while the machine runs, and the next commit tries again.
 * Without a disk there is nothing to resume from: STRATA_COMMIT_OK at once.
 */
#define STRATA_TRAP_COMMIT		STRATA_U32(0xe3)
#define STRATA_COMMIT_OK		STRATA_U32(0)
#define STRATA_COMMIT_IO_ERROR		STRATA_U32(1)

/*
 * Prefetch (ABI 1.5): rdi = a window address, rsi = a length in bytes, both
 * multiples of STRATA_PAGE_SIZE, rsi > 0, and every page of the range layer
 * 1's (its stack, its image, the free area).  Layer 0 starts reading the
 * pages of the range that are not in RAM and returns without waiting for
 * them (making room may evict pages, as a fault does); rax = how many page
 * reads it started (0 when every page is cached, reads are already in flight
 * for them, or prefetch has its share of the cache).  A later touch of a page still being read waits for that read
 * alone; a page that could not be read is reported at its touch (DISK-IO),
 * as without prefetch.  A misaligned or empty range is V-TRAP; a range with
 * a page that is not layer 1's is V-OUTSIDE.  Purely a hint: dropping it
 * changes no byte layer 1 reads.
 */
#define STRATA_TRAP_PREFETCH		STRATA_U32(0xe4)

#define STRATA_TRAP_FIRST		STRATA_TRAP_EXIT
#define STRATA_TRAP_LAST		STRATA_TRAP_PREFETCH

#endif
