/*
 * The layer-1 virtual address map.
 *
 * Layer 1 runs in ring 0 with the whole lower canonical half to itself; layer 0
 * lives in the upper half and is never mapped where layer 1 can name it.  Every
 * region below is 1 GiB aligned so that each owns its own page directories.
 *
 *   0x0000_0000_0000_0000 +--------------------------+
 *                         | null guard (never mapped)|  1 GiB
 *   0x0000_0000_4000_0000 +--------------------------+
 *                         | info page (read-only)    |  4 KiB, rest guard
 *   0x0000_0000_8000_0000 +--------------------------+
 *                         | console ring             |  1 GiB of slots
 *   0x0000_0000_c000_0000 +--------------------------+
 *                         | NIC TX ring              |  1 GiB of slots
 *   0x0000_0001_0000_0000 +--------------------------+
 *                         | NIC RX ring              |  1 GiB of slots
 *   0x0000_0001_4000_0000 +--------------------------+
 *                         | unassigned (violation)   |
 *   0x0000_0080_0000_0000 +--------------------------+
 *                         | layer-0 reserved         |  512 GiB
 *   0x0000_0100_0000_0000 +--------------------------+
 *                         | unassigned (violation)   |
 *   0x0000_1000_0000_0000 +--------------------------+  STRATA_DISK_WINDOW_BASE
 *                         | disk window: byte N of   |  64 TiB
 *                         | the disk at BASE + N     |
 *   0x0000_5000_0000_0000 +--------------------------+
 *                         | unassigned (violation)   |
 *   0x0000_8000_0000_0000 +--------------------------+  end of the lower half
 *
 * The disk window is itself laid out by disk.h: layer 0's head sectors, the
 * layer-1 stack, the layer-1 image at its fixed link address, free space for
 * layer 1, and the journal at the end of the disk.
 */
#ifndef STRATA_LAYOUT_H
#define STRATA_LAYOUT_H

#include "types.h"

#define STRATA_PAGE_SIZE		STRATA_U64(0x1000)
#define STRATA_REGION_ALIGN		STRATA_U64(0x40000000)

/* Never mapped: catches null and small-offset pointers. */
#define STRATA_NULL_GUARD_BASE		STRATA_U64(0x0000000000000000)
#define STRATA_NULL_GUARD_SIZE		STRATA_U64(0x0000000040000000)

/* One read-only page: struct strata_info (info.h).  The rest of its 1 GiB is guard. */
#define STRATA_INFO_BASE		STRATA_U64(0x0000000040000000)
#define STRATA_INFO_SIZE		STRATA_U64(0x0000000000001000)

/* Console ring: slots of ring.h, count from the payload header. */
#define STRATA_CONSOLE_BASE		STRATA_U64(0x0000000080000000)
#define STRATA_CONSOLE_REGION_SIZE	STRATA_U64(0x0000000040000000)

/* NIC transmit ring: slots as ring.h, frames as net.h. */
#define STRATA_NIC_TX_BASE		STRATA_U64(0x00000000c0000000)
#define STRATA_NIC_TX_REGION_SIZE	STRATA_U64(0x0000000040000000)

/* NIC receive ring. */
#define STRATA_NIC_RX_BASE		STRATA_U64(0x0000000100000000)
#define STRATA_NIC_RX_REGION_SIZE	STRATA_U64(0x0000000040000000)

/*
 * Reserved for layer 0's own use in layer 1's half (copy-on-write shadows of
 * window pages while a checkpoint writes them).  Any touch is a violation.
 */
#define STRATA_L0_RESERVED_BASE		STRATA_U64(0x0000008000000000)
#define STRATA_L0_RESERVED_SIZE		STRATA_U64(0x0000008000000000)

/* The disk, byte for byte: disk offset N is at STRATA_DISK_WINDOW_BASE + N. */
#define STRATA_DISK_WINDOW_BASE		STRATA_U64(0x0000100000000000)
#define STRATA_DISK_WINDOW_SIZE		STRATA_U64(0x0000400000000000)

/* The end of the lower canonical half: nothing of layer 1's lies above it. */
#define STRATA_L1_VA_LIMIT		STRATA_U64(0x0000800000000000)

#endif
