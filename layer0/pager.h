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
 * Layer 1 writes a page only through a writable PTE, and a page is mapped
 * writable only after a write fault on it (pager_fault with write set, or
 * pager_write_fault): so the pages written since the last checkpoint are a
 * list the pager keeps, and a checkpoint costs what was dirtied, not what is
 * cached.  Layer 0 filling a page (pager_page_for_write) puts it on the list
 * too.
 *
 * Once pager_checkpoints() is called, the checkpoint rule holds: a dirty page
 * reaches its home on the disk only in the version a durable checkpoint holds
 * (it is *journaled*).  It may change again before it gets there: its
 * version stays in the journal, which is cleaned only after a checkpoint of
 * every dirty page (checkpoint.c).  Every home write goes through page_out() in
 * pager_writeback.c, which asks home_write_allowed() there.  When the CLOCK
 * must evict a dirty page no checkpoint holds yet, it asks for a checkpoint
 * first (the steal function).  Before that call (installing the payload),
 * dirty pages go home freely.
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
struct jpage;

/* PTE flags for the window page at disk offset off: PTE_P and W/NX as its region says, or 0 if it is not layer 1's. */
typedef uint64_t (*pager_perm_fn)(uint64_t off);
/* The CLOCK needs a page that no checkpoint holds yet: take a checkpoint now, durable when it returns. */
typedef void (*pager_steal_fn)(void);
/* Waits until every checkpoint record in flight is done (pager_checkpoint_done was called for it). */
typedef void (*pager_drain_fn)(void);

struct pager_stats {
	uint64_t faults, hits, misses;	/* layer-1 faults the pager served */
	uint64_t reads, read_pages;	/* device requests and the pages they carried */
	uint64_t huge_reads, splits;	/* reads into 2 MiB pages; those split into 4 KiB pages */
	uint64_t compactions;		/* runs emptied of small pages for a 2 MiB page */
	uint64_t absorbed;		/* small pages dropped for a stream's 2 MiB read of their block */
	uint64_t writes, write_pages;
	uint64_t evictions, syncs;	/* evictions in 4 KiB pages */
	uint64_t write_faults;		/* first writes to a page since it was mapped or checkpointed */
	uint64_t cow_copies;		/* pages copied because they changed while a write held their frame */
	uint64_t cow_waits;		/* changes that waited for that write instead: no memory to copy */
};

/*
 * dev may be 0 (no disk).  faultaround: how many pages, in an aligned block
 * around a fault, are mapped at once when they are already cached; above 1,
 * sequential streams may also be read and mapped in 2 MiB pages.
 */
void pager_init(struct blkdev *dev, pager_perm_fn perm, uint32_t faultaround);
/* From now on the checkpoint rule holds (above); steal is called when the CLOCK needs it. */
void pager_checkpoints(pager_steal_fn steal, pager_drain_fn drain);
/*
 * Brings the page at off in (reading ahead when the faults are sequential)
 * and maps it, writable if write (its region must allow it).  0, or -1 on a
 * read error.
 */
int pager_fault(uint64_t off, bool write);
/* Layer 1 wrote the present read-only page at off, which its region lets it write.  0, or -1 on an I/O error. */
int pager_write_fault(uint64_t off);
/* The page at off, cached and marked dirty, for layer 0 to fill: its disk contents if read, else zeros.  0 on a read error. */
void *pager_page_for_write(uint64_t off, bool read);
/*
 * Writes every dirty page that may go home (all of them before
 * pager_checkpoints(), the journaled ones after) and flushes the device: 0,
 * or -1 if a write or the flush failed (those pages stay dirty).
 */
int pager_sync(void);
/* How many pages may have been dirtied since the last checkpoint: a checkpoint holds at most this many. */
uint32_t pager_dirty_count(void);
/* The most pages the cache can ever hold, and so the dirty set. */
uint32_t pager_pages_max(void);
/*
 * A checkpoint's pages: write-protects every page dirtied since the last one,
 * and fills out[] with the dirty ones (at most pager_dirty_count()).  How many.
 * Their frames stay unchanged until pager_checkpoint_done() for them: a
 * write meanwhile moves the page to a copy.  Several checkpoints may be in
 * flight; they are done in the order they were taken.
 */
uint32_t pager_checkpoint_pages(struct jpage *out);
/* The record of those pages is durable (they are journaled), or failed (they stay for the next one). */
void pager_checkpoint_done(const struct jpage *pages, uint32_t n, bool durable);
/*
 * A device interrupted layer 1: finishes the background reads that are done
 * and starts the next ones of the stream, so that its read-ahead keeps going
 * between its faults.  Never waits, and evicts only clean pages.
 */
void pager_interrupt(void);
const struct pager_stats *pager_stats(void);
void pager_print_stats(void);
/*
 * Prefetch (pager_prefetch.c): starts reading the pages of [off, off + len)
 * that are not cached, without waiting; how many page reads it started.
 * Every page must be layer 1's (the caller checks).
 */
uint64_t pager_prefetch(uint64_t off, uint64_t len);
struct pager_prefetch_stats {
	uint64_t traps, reads, pages;	/* calls; reads started and the pages they carry */
	uint64_t cached;		/* runs skipped: in RAM or being read already */
	uint64_t used, cancelled;	/* prefetched pages touched; evicted untouched */
	uint64_t waits, errors;		/* touches that waited for their read; reads that failed */
	uint64_t refused_share, refused_queue;	/* calls cut short by the share or the slots */
	uint64_t untouched;		/* prefetched pages not touched yet (the share counts these) */
	uint64_t share;			/* the most of those at once */
	uint64_t inflight;		/* reads in flight */
};
const struct pager_prefetch_stats *pager_prefetch_stats(void);
void pager_prefetch_print(void);

#endif
