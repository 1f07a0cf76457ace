/*
 * What the parts of the pager share, and nothing outside them includes:
 * the page descriptors, their flags and the cache's state.
 *
 *   pager.c            the cache: descriptors, hash, map/split/drop, CLOCK
 *                      eviction, the memory report and the entry points
 *   pager_readahead.c  reading pages in: misses, read-ahead of sequential
 *                      streams in the background, fault-around
 *   pager_writeback.c  writing dirty pages home: eviction's clusters and
 *                      pager_sync(), through page_out() alone
 *   pager_prefetch.c   reads layer 1 asked for ahead of need (the prefetch
 *                      trap), and their share of the cache
 *   pager_dirty.c      which pages are dirty since the last checkpoint, the
 *                      pages of the next one, and copies of pages written
 *                      while a checkpoint or a home write holds their frame
 *   pager_compact.c    a free 2 MiB run for a stream made by evicting the
 *                      small pages of one, and which page owns each frame
 */
#ifndef PAGER_IMPL_H
#define PAGER_IMPL_H

#include "defs.h"
#include "journal.h"
#include "pager.h"
#include "strata/abi.h"

#define RA_FIRST	16	/* pages read when a fault continues the last read */
#define RA_MAX		256	/* the largest read-ahead: 1 MiB */
#define LOW_WATER	512	/* free pages the cache leaves to layer 0 */
#define NIL		0xffffffffU

#define CP_MAPPED	0x01	/* a PTE points at the frame */
#define CP_DIRTY	0x02	/* newer than the disk */
#define CP_REF		0x04	/* referenced since the hand last passed (unmapped pages) */
#define CP_BUSY		0x08	/* being faulted in: not evictable */
#define CP_NO_WRITEBACK	0x10	/* dirty but cannot be written back: no disk, or the write failed */
#define CP_JOURNALED	0x20	/* dirty, but this version is in a durable checkpoint: may go home */
#define CP_INFLIGHT	0x40	/* a background read is filling it (also BUSY) */
#define CP_HUGE		0x80	/* 2 MiB: HUGE_PAGES pages from dpn, mapped by a PDE, never dirty */
#define CP_WRITABLE	0x100	/* mapped writable: layer 1 may be dirtying it unseen */
#define CP_LISTED	0x200	/* on the dirty list, at lidx */
#define CP_HOMING	0x400	/* journaled, this frame's home write in flight */
#define CP_SNAP		0x800	/* this frame is in a checkpoint record being written */
#define CP_GHOST	0x1000	/* an older frame of this page is being written home: no other home write yet */
#define CP_PREFETCHED	0x2000	/* read by a prefetch, not touched yet: counts against its share */
#define CP_PINNED	(CP_BUSY | CP_NO_WRITEBACK | CP_HOMING | CP_SNAP | CP_GHOST) /* the CLOCK passes it by */

struct cpage {
	uint64_t dpn;		/* disk page number: window offset / 4096 */
	uint64_t pa;		/* the frame; 0 when the descriptor is free */
	pte_t *pte;		/* its PTE (PDE if huge) while CP_MAPPED: no walk to find it again */
	uint32_t next;		/* hash chain, or the free list */
	uint32_t flags;
	uint32_t lidx;		/* its place on the dirty list while CP_LISTED */
};

struct pager_state {
	struct blkdev *dev;
	pager_perm_fn perm;
	pager_steal_fn steal;	/* from pager_checkpoints() on: dirty pages go home only journaled */
	pager_drain_fn drain;	/* waits until no checkpoint record is in flight */
	uint32_t faultaround;
	struct cpage *cp;
	uint32_t ncp;
	uint32_t used;		/* descriptors ever taken: every live one is below */
	uint32_t *hash;
	uint32_t hmask;
	uint32_t free;		/* first free descriptor */
	uint32_t nhuge;		/* 2 MiB pages cached */
	uint32_t *huge;		/* their descriptors, oldest first: huge_recycle's queue */
	uint32_t hand;
	uint32_t *dirty;	/* the dirty list: pages written since the last checkpoint, or maybe */
	uint32_t ndirty;
	uint64_t stream_from;	/* the page of a stream's first fault */
	uint64_t stream_at;	/* the page of its last fault: layer 1 is at or past it */
	uint64_t seq_next;	/* the page a sequential stream faults on next */
	uint64_t ra_end;	/* the end of the furthest read issued for it */
	uint32_t ra_pages;	/* the size of its last read */
	uint64_t ra_limit;	/* pages a stream may have read ahead: a slice of the cache */
	uint32_t *order;	/* scratch: dirty descriptors sorted by page */
	bool no_wait;		/* in an interrupt: evict clean pages only, wait for nothing */
	struct pager_stats st;
};
extern struct pager_state pg;

static inline uint64_t page_va(uint64_t dpn)
{
	return STRATA_DISK_WINDOW_BASE + dpn * PAGE_SIZE;
}

static inline uint64_t pages_of(const struct cpage *c)
{
	return (c->flags & CP_HUGE) ? HUGE_PAGES : 1;
}

/* The PTE of a mapped page, or 0. */
static inline pte_t *pte_of(const struct cpage *c)
{
	return (c->flags & CP_MAPPED) ? c->pte : 0;
}

/* pager.c */
uint32_t desc_keyed(uint64_t dpn);	/* the descriptor whose first page is dpn, 4 KiB or 2 MiB; NIL */
uint32_t desc_holding(uint64_t dpn);	/* the descriptor holding page dpn: its own or a 2 MiB one; NIL */
uint32_t desc_split_out(uint64_t dpn);	/* page dpn's own 4 KiB descriptor, read over, 2 MiB split; NIL */
uint32_t page_alloc(uint64_t dpn, bool zero);	/* a new BUSY cache page, or NIL */
uint32_t huge_alloc(uint64_t dpn);	/* a new 2 MiB cache page being read, or NIL */
void map(uint32_t i);
void drop(uint32_t i);
void drop_unflushed(uint32_t i);	/* a 4 KiB page's drop, its entry left to the caller's CR3 reload */
NORETURN void out_of_memory(void);

/* pager_readahead.c */
uint32_t gather(uint64_t dpn, uint32_t n, uint32_t *idx, uint64_t *pages, uint32_t extra);
uint32_t read_in(uint64_t dpn, uint32_t n, uint32_t *nread, bool *err);
uint32_t read_miss(uint64_t dpn, bool sequential);
void fault_around(uint64_t dpn);
uint64_t map_run(uint64_t dpn, uint32_t n);
void prefetch_reap(void);
void prefetch_wait(uint64_t dpn, bool refill_ok);
void prefetch_more(void);

/* pager_prefetch.c: the hooks of the fault path, map() and hash_remove() */
uint32_t desc_settled(uint64_t dpn);	/* desc_holding, once a prefetch read of dpn is over */
void pf_reap(void);			/* finishes the prefetch reads that are over, without waiting */
void pager_prefetch_touched(uint32_t i);	/* page i mapped or taken by layer 0 */
void pager_prefetch_dropped(uint32_t i);	/* the PREFETCHED page i leaves the cache untouched */

/* pager_compact.c */
void compact_init(void);		/* pager_init: the frame owners, all unknown */
void frame_owned(uint32_t i);		/* descriptor i has just taken its frame */
uint64_t compact(uint64_t spare);	/* a 2 MiB run emptied of small pages and taken, at most spare of it free; or 0 */
bool page_droppable(uint32_t i);	/* clean, unpinned, not being read: drop() may take it now */

/* pager_writeback.c */
int page_out_cluster(uint32_t victim);
void home_start(const struct jpage *pages, uint32_t n);
bool home_reap(bool wait);
bool home_write_allowed(const struct cpage *c);

/* pager_dirty.c */
void harvest(struct cpage *c);
void dirty_list_add(uint32_t i);
void dirty_list_remove(uint32_t i);
void make_writable(uint32_t i);
void copy_on_write(uint32_t i);

#endif
