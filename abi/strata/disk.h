/*
 * The layout of the disk, and so of the disk window (layout.h).
 *
 *   disk offset 0        +-----------------------------+
 *                        | layer-0 head: label, check- |  STRATA_DISK_HEAD_SIZE
 *                        | point superblocks, a copy   |  layer 1: violation
 *                        | of the writable pages       |
 *               1 MiB    +-----------------------------+
 *                        | guard page                  |  never mapped
 *                        | layer-1 stack, grows down   |  stack_bytes of the header
 *              16 MiB    +-----------------------------+  STRATA_L1_STACK_TOP
 *                        | layer-1 image: the payload  |  its PT_LOAD segments,
 *                        | ELF at its link address     |  within STRATA_L1_IMAGE_SIZE
 *     info->image_end    +-----------------------------+
 *                        | free for layer 1: read,     |  zero on a new disk
 *                        | write, never execute        |
 *     info->l1_disk_limit+-----------------------------+
 *                        | journal (layer 0)           |  layer 1: violation
 *     info->disk_bytes   +-----------------------------+
 *                        | beyond the disk             |  layer 1: violation
 *
 * Layer 0 installs the payload's segments on the disk at their link
 * addresses, so the code runs from the disk (through RAM, which caches it),
 * and keeps in the head a copy of the writable pages as built, from which a
 * boot without a module starts .data afresh (doc/abi.md, "Installing").
 * A disk larger than the window is used up to the window's end:
 * info->disk_bytes is at most STRATA_DISK_WINDOW_SIZE.
 * Every page from STRATA_L1_STACK_TOP - stack_bytes to l1_disk_limit is
 * layer 1's: its stack, its image (with the segments' permissions) and its
 * data, all of it on the disk.
 *
 * Without a disk the window is backed by RAM alone: the stack and the image,
 * nothing after image_end (info->disk_bytes and l1_disk_limit are 0).
 */
#ifndef STRATA_DISK_H
#define STRATA_DISK_H

#include "layout.h"

#define STRATA_SECTOR_SIZE		STRATA_U64(512)

/* The first MiB of every Strata disk belongs to layer 0 (its layout: layer0/disklabel.h). */
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

/*
 * The journal layer 0 keeps at the end of the disk, for checkpoints: a
 * sixteenth of the disk, at least STRATA_JOURNAL_MIN, at most
 * STRATA_JOURNAL_MAX, in whole MiB.  info->l1_disk_limit is where it starts.
 */
#define STRATA_JOURNAL_MIN		STRATA_U64(0x0000000001000000)
#define STRATA_JOURNAL_MAX		STRATA_U64(0x0000000100000000)

#endif
