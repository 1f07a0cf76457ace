/*
 * Rings: how layer 1 hands data to layer 0 (console, NIC TX) and takes it
 * back (NIC RX) with nothing but memory accesses.
 *
 * A ring is an array of slots at a fixed base.  Each slot is two pages:
 *
 *   base + i*STRATA_SLOT_STRIDE  +------------------------+
 *                                | struct strata_slot     |  data page
 *                                | payload bytes          |
 *                                +------------------------+
 *                                | doorbell page          |  never present
 *                                +------------------------+
 *
 * Layer 1 writes slot i and then reads the page after it, the doorbell of
 * slot i.  That read faults; layer 0 takes every slot from the first one it has
 * not yet taken up to and including i, in order, so several slots written back
 * to back, up to the whole ring, cost one fault.  Every read of a doorbell
 * faults; read again with nothing written since, it takes nothing.  A slot
 * layer 0 holds (queued, not yet consumed) has its data page not present:
 * touching it blocks layer 1 until the slot is given back.  doc/abi.md gives
 * the full protocol of each ring.
 */
#ifndef STRATA_RING_H
#define STRATA_RING_H

#include "layout.h"

#define STRATA_SLOT_STRIDE		(2 * STRATA_PAGE_SIZE)
#define STRATA_SLOT_DOORBELL_OFFSET	STRATA_PAGE_SIZE
#define STRATA_SLOT_HEADER_SIZE		STRATA_U32(16)
/* The most payload bytes one slot carries. */
#define STRATA_SLOT_DATA_MAX		(STRATA_U32(4096) - STRATA_SLOT_HEADER_SIZE)

/* Console ring size when the payload header asks for 0, and its bounds. */
#define STRATA_CONSOLE_SLOTS_DEFAULT	STRATA_U32(8)
#define STRATA_RING_SLOTS_MAX		STRATA_U32(4096)

#ifdef STRATA_C_TYPES
/* The first bytes of every slot's data page. */
struct strata_slot {
	uint32_t len;		/* payload bytes that follow, 0..STRATA_SLOT_DATA_MAX */
	uint32_t flags;		/* none defined yet: must be 0 */
	uint64_t reserved;	/* must be 0 */
	uint8_t data[];		/* len bytes */
};
STRATA_LAYOUT(struct strata_slot, 16);
STRATA_OFFSET(struct strata_slot, data, STRATA_SLOT_HEADER_SIZE);
#endif

/* The address of slot i's data page and of its doorbell in a ring at base. */
#define STRATA_SLOT_ADDR(base, i)	((base) + (uint64_t)(i) * STRATA_SLOT_STRIDE)
#define STRATA_DOORBELL_ADDR(base, i)	(STRATA_SLOT_ADDR(base, i) + STRATA_SLOT_DOORBELL_OFFSET)

#endif
