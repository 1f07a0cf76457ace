/*
 * The pager: the disk window of abi/strata/layout.h backed by a block device,
 * with RAM as a bounded cache of it.
 *
 * Pages are named by their offset in the window (= their disk offset).  The
 * pager knows nothing of the ABI's regions: l1fault.c decides what layer 1 may
 * touch and asks the pager only for legal pages, and the permission function
 * given at init says how each page is mapped.  It knows nothing of virtio
 * either: it speaks drivers/blkdev.h.
 *
 * A page is dirty when layer 1 wrote it (the hardware dirty bit, harvested
 * into the page's descriptor with the epoch it was seen in) or when layer 0
 * filled it.  A dirty page reaches the disk only through page_out() in
 * pager_writeback.c: eviction and pager_sync() both go that way, and it asks
 * the home-write hook given at init first, so the checkpoint rule ("nothing
 * newer than the last checkpoint overwrites its home location before the next
 * checkpoint is durable") is the checkpoint code's and has one place to apply.
 *
 * Pages read in 2 MiB units are mapped read-only and split into 4 KiB pages
 * at the first write, so everything above speaks of 4 KiB pages only.
 *
 * Without a device the window is RAM alone: pages start zero and dirty pages
 * can never leave RAM.
 */
#ifndef PAGER_H
#define PAGER_H

#include "defs.h"

struct blkdev;

/* PTE flags for the window page at disk offset off: PTE_P and W/NX as its region says, or 0 if it is not layer 1's. */
typedef uint64_t (*pager_perm_fn)(uint64_t off);
/* May the dirty page at off, last found dirty in epoch, overwrite its home on the disk now? */
typedef bool (*pager_home_write_fn)(uint64_t off, uint64_t epoch);

struct pager_stats {
	uint64_t faults, hits, misses;	/* layer-1 faults the pager served */
	uint64_t reads, read_pages;	/* device requests and the pages they carried */
	uint64_t huge_reads, splits;	/* reads into 2 MiB pages; those split into 4 KiB pages */
	uint64_t writes, write_pages;
	uint64_t evictions, syncs;	/* evictions in 4 KiB pages */
};

/*
 * dev may be 0 (no disk); home_write_allowed may be 0 (always).  faultaround: how many pages, in an aligned block
 * around a fault, are mapped at once when they are already cached; above 1,
 * sequential streams may also be read and mapped in 2 MiB pages.
 */
void pager_init(struct blkdev *dev, pager_perm_fn perm, pager_home_write_fn home_write_allowed,
    uint32_t faultaround);
/* Brings the page at off in (reading ahead when the faults are sequential) and maps it.  0, or -1 on a read error. */
int pager_fault(uint64_t off);
/* The page at off, cached and marked dirty, for layer 0 to fill: its disk contents if read, else zeros.  0 on a read error. */
void *pager_page_for_write(uint64_t off, bool read);
/* Writes every dirty page back and flushes the device: 0, or -1 if a write failed (those pages stay dirty). */
int pager_sync(void);
/* Moves the hardware dirty bits into the descriptors; starts a new epoch.  Returns the epoch that ended. */
uint64_t pager_harvest(void);
/*
 * The dirty set since epoch: fn(ctx, off) for every cached page that is dirty
 * and was last found dirty in epoch or later (harvest first to include the
 * current one).  How many.  A checkpoint's page set is this since the epoch
 * its predecessor closed.
 */
uint64_t pager_dirty_since(uint64_t epoch, void (*fn)(void *ctx, uint64_t off), void *ctx);
/* Write-protects the page at off (a checkpoint writing its old contents) or lifts that. */
void pager_protect(uint64_t off, bool protect);
/* True when off is cached and write-protected by pager_protect. */
bool pager_protected(uint64_t off);
const struct pager_stats *pager_stats(void);
void pager_print_stats(void);

#endif
