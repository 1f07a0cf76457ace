/*
 * The layout of the disk, and so of the disk window (layout.h).
 *
 *   disk offset 0        +-----------------------------+
 *                        | layer-0 head: label sector, |  STRATA_DISK_HEAD_SIZE
 *                        | checkpoint superblocks      |  layer 1: violation
 *               1 MiB    +-----------------------------+
 *                        | guard page                  |  never mapped
 *                        | layer-1 stack, grows down   |  stack_bytes of the header
 *              16 MiB    +-----------------------------+  STRATA_L1_STACK_TOP
 *                        | layer-1 image: the payload  |  its PT_LOAD segments,
 *                        | ELF at its link address     |  within STRATA_L1_IMAGE_SIZE
 *             272 MiB    +-----------------------------+
 *                        | free for layer 1            |
 *     info->l1_disk_limit+-----------------------------+
 *                        | journal (layer 0)           |  layer 1: violation
 *     info->disk_bytes   +-----------------------------+
 *
 * Until the pager lands (no disk attached), the stack and image are backed by
 * RAM at the same addresses; everything else in the window is a violation.
 */
#ifndef STRATA_DISK_H
#define STRATA_DISK_H

#include "layout.h"

#define STRATA_SECTOR_SIZE		STRATA_U64(512)

/* The first MiB of every Strata disk belongs to layer 0. */
#define STRATA_DISK_HEAD_SIZE		STRATA_U64(0x0000000000100000)

/* The layer-1 stack: its top is fixed, its size comes from the payload header. */
#define STRATA_L1_STACK_TOP		(STRATA_DISK_WINDOW_BASE + STRATA_U64(0x0000000001000000))
#define STRATA_L1_STACK_MIN		STRATA_U64(0x0000000000004000)
#define STRATA_L1_STACK_DEFAULT		STRATA_U64(0x0000000000040000)
/* One page below the largest stack stays unmapped as its guard. */
#define STRATA_L1_STACK_MAX \
	(STRATA_L1_STACK_TOP - STRATA_DISK_WINDOW_BASE - STRATA_DISK_HEAD_SIZE - STRATA_PAGE_SIZE)

/* Every payload is linked here; its loadable segments stay inside the image region. */
#define STRATA_L1_IMAGE_BASE		(STRATA_DISK_WINDOW_BASE + STRATA_U64(0x0000000001000000))
#define STRATA_L1_IMAGE_SIZE		STRATA_U64(0x0000000010000000)

#endif
