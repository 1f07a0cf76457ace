/*
 * The page cache behind the disk window (pager.h says what it promises;
 * pager_impl.h lists the parts of the pager and what they share).
 *
 * Each cached page has a descriptor: its disk page number, its frame, its
 * state.  Descriptors are found by a hash of the page number and swept by a
 * CLOCK hand that uses the accessed bit of the page's PTE (or, for pages read
 * ahead and not mapped yet, a software referenced bit) as the second chance.
 * Frames come from the physical allocator one by one and go back to it on
 * eviction; the cache grows until free memory falls to LOW_WATER, which keeps
 * room for the page tables a sparse window needs.
 *
 * A 2 MiB page (read ahead by a stream) is mapped read-only and stays clean:
 * the first write to it, or layer 0 wanting one of its pages, splits it into
 * HUGE_PAGES 4 KiB pages in the same frames, each with its own dirty bit, so
 * dirty sets, write-back and write protection only ever see 4 KiB pages.
 */
#include "defs.h"
#include "blkdev.h"
#include "pager_impl.h"
#include "profile.h"

struct pager_state pg;

/*
 * The bucket of page dpn.  The pages of an aligned group of HASH_GROUP have
 * neighbouring buckets (one cache line, one page of the table): fault-around
 * looks up a block of neighbours at each random fault, and under emulation
 * each page of the table it touches costs a TLB fill.
 */
#define HASH_GROUP	16

static uint32_t hash_of(uint64_t dpn)
{
	uint64_t group = dpn / HASH_GROUP;

	return ((uint32_t)((group * 0x9e3779b97f4a7c15ULL) >> 32) * HASH_GROUP +
	    (uint32_t)(dpn % HASH_GROUP)) & pg.hmask;
}

/* The descriptor keyed by dpn: a 4 KiB page, or a 2 MiB page that starts there; NIL. */
uint32_t desc_keyed(uint64_t dpn)
{
	uint32_t i = pg.hash[hash_of(dpn)];

	while (i != NIL && pg.cp[i].dpn != dpn)
		i = pg.cp[i].next;
	return i;
}

static void hash_insert(uint32_t i)
{
	uint32_t *head = &pg.hash[hash_of(pg.cp[i].dpn)];

	pg.cp[i].next = *head;
	*head = i;
}

/* The descriptor holding page dpn: its own, or the 2 MiB page around it; NIL. */
uint32_t desc_holding(uint64_t dpn)
{
	uint32_t i = desc_keyed(dpn);

	if (i == NIL && pg.nhuge > 0 && dpn % HUGE_PAGES != 0 &&
	    (i = desc_keyed(dpn - dpn % HUGE_PAGES)) != NIL && !(pg.cp[i].flags & CP_HUGE))
		i = NIL;
	return i;
}

static void hash_remove(uint32_t i)
{
	uint32_t *p = &pg.hash[hash_of(pg.cp[i].dpn)];

	if (pg.cp[i].flags & CP_PREFETCHED)
		pager_prefetch_dropped(i);	/* leaves the cache before its touch: cancelled */

	while (*p != i)
		p = &pg.cp[*p].next;
	*p = pg.cp[i].next;
}

/*
 * The PTE mapped last, so that mapping a run of pages walks the tables once
 * per page table, not once per page.  Forgotten when a page table is freed.
 */
static struct {
	uint64_t dpn;
	pte_t *pte;
} last_map;

void pager_init(struct blkdev *dev, pager_perm_fn perm, uint32_t faultaround)
{
	uint64_t frames = pmm_free_pages(), cache;
	uint32_t hsize = 1;

	pg.dev = dev;
	pg.perm = perm;
	pg.faultaround = faultaround == 0 ? 1 : faultaround > 512 ? 512 : faultaround;
	/* One descriptor per page of RAM: the cache can never need more. */
	pg.ncp = (uint32_t)frames;
	while (hsize < pg.ncp)
		hsize <<= 1;
	pg.hmask = hsize - 1;
	pg.cp = vm_alloc_area((uint64_t)pg.ncp * sizeof(*pg.cp));
	pg.hash = vm_alloc_area((uint64_t)hsize * sizeof(*pg.hash));
	pg.order = vm_alloc_area((uint64_t)pg.ncp * sizeof(*pg.order));
	pg.dirty = vm_alloc_area((uint64_t)pg.ncp * sizeof(*pg.dirty));
	pg.huge = vm_alloc_area((uint64_t)(pg.ncp / HUGE_PAGES + 1) * sizeof(*pg.huge));
	for (uint32_t i = 0; i < hsize; i++)
		pg.hash[i] = NIL;
	for (uint32_t i = 0; i < pg.ncp; i++)
		pg.cp[i].next = i + 1 < pg.ncp ? i + 1 : NIL;
	pg.free = 0;
	last_map.pte = 0;
	compact_init();
	/*
	 * Read-ahead never takes more than a quarter of the cache: room for a
	 * stream's reads in flight (RA_INFLIGHT, pager_readahead.c) and some
	 * read and not yet reached, so that new reads can start while the
	 * stream waits for one (in 128 MiB of RAM, 15 blocks of 2 MiB: 12 in
	 * flight at most; a smaller cache bounds a stream by its share first).
	 */
	cache = pmm_free_pages() > LOW_WATER ? pmm_free_pages() - LOW_WATER : 0;
	pg.ra_limit = cache / 4 < RA_FIRST ? RA_FIRST : cache / 4;
	kprintf("strata: pager: %s, cache up to %lu MiB, fault-around %u pages\n",
	    dev ? dev->name : "no disk (RAM only)", (unsigned long)(cache >> 8), pg.faultaround);
}

void pager_checkpoints(pager_steal_fn steal, pager_drain_fn drain)
{
	pg.steal = steal;
	pg.drain = drain;
}

/* The k-th 2 MiB page leaves the list, which keeps its order (it is short: one per 2 MiB). */
static void huge_list_cut(uint32_t k)
{
	memmove(&pg.huge[k], &pg.huge[k + 1], (pg.nhuge - k - 1) * sizeof(*pg.huge));
	pg.nhuge--;
}

static void huge_list_remove(uint32_t i)
{
	uint32_t k = 0;

	while (pg.huge[k] != i)
		k++;
	huge_list_cut(k);
}

/* Clears the page's entry; unflushed, the caller reloads CR3 before layer 1 runs again. */
static void unmap(struct cpage *c, bool flush)
{
	if (!(c->flags & CP_MAPPED))
		return;
	if (flush)
		vm_clear_leaf(c->pte, page_va(c->dpn));
	else
		vm_swap_leaf(c->pte, 0, 0);
	if (vm_prune(kernel_root, page_va(c->dpn)))
		last_map.pte = 0;
	c->flags &= ~CP_MAPPED;
}

/*
 * Takes page i out of the cache, its descriptor freed: its frame, which the
 * caller now owns.  flush: as unmap's.
 */
static uint64_t forget_page(uint32_t i, bool flush)
{
	struct cpage *c = &pg.cp[i];
	uint64_t pa = c->pa;

	unmap(c, flush);
	dirty_list_remove(i);
	hash_remove(i);
	pg.st.evictions += pages_of(c);
	if (c->flags & CP_HUGE)
		huge_list_remove(i);
	c->pa = 0;
	c->flags = 0;
	c->next = pg.free;
	pg.free = i;
	return pa;
}

static uint64_t forget(uint32_t i)
{
	return forget_page(i, true);
}

void drop(uint32_t i)
{
	bool huge = (pg.cp[i].flags & CP_HUGE) != 0;
	uint64_t pa = forget(i);

	if (huge)
		pmm_free_huge(pa);
	else
		pmm_free(pa);
}

/* drop() of a 4 KiB page, its entry cleared unflushed (unmap): for pages dropped in a batch. */
void drop_unflushed(uint32_t i)
{
	pmm_free(forget_page(i, false));
}

/* Clears the page's referenced state; true if it had been referenced. */
static bool referenced(struct cpage *c)
{
	pte_t *e = pte_of(c);
	bool ref = (c->flags & CP_REF) != 0;

	c->flags &= ~CP_REF;
	if (e != 0 && vm_take_accessed(e, page_va(c->dpn)))
		ref = true;
	return ref;
}

/*
 * The steal rule: a dirty page no checkpoint holds may not go home, so the
 * CLOCK that wants it takes a checkpoint first (checkpoint early, never
 * refuse): afterwards the page is journaled and may go.
 */
static bool may_go_home(struct cpage *c)
{
	if (!home_write_allowed(c) && pg.steal != 0) {
		uint64_t t0 = prof_begin();

		pg.steal();
		prof_end(PROF_STEAL, t0);
	}
	return home_write_allowed(c);
}

/*
 * CLOCK: evicts one page that was not referenced since the hand last passed
 * it, a dirty one only if dirty_ok.  evict_one asks for a clean page first:
 * a dirty page costs a write and, before a checkpoint holds it, a
 * checkpoint (the steal), so a stream passing through the cache would
 * otherwise checkpoint and write layer 1's stack and data in its middle.
 */
static bool evict_sweep(bool dirty_ok)
{
	for (uint64_t step = 0; step < 3ULL * pg.used; step++) {
		uint32_t i = pg.hand;
		struct cpage *c = &pg.cp[i];

		pg.hand = pg.hand + 1 >= pg.used ? 0 : pg.hand + 1;
		if (c->pa == 0 || (c->flags & CP_PINNED) || referenced(c))
			continue;
		harvest(c);
		if (c->flags & CP_DIRTY) {
			if (!dirty_ok)
				continue;
			if (pg.dev == 0) {
				c->flags |= CP_NO_WRITEBACK;	/* RAM is its only home */
				continue;
			}
			if (!may_go_home(c))
				continue;	/* the checkpoint failed: it stays */
			if (page_out_cluster(i) != 0 || (c->flags & CP_DIRTY)) {
				c->flags |= CP_NO_WRITEBACK;
				continue;
			}
		}
		drop(i);
		return true;
	}
	return false;
}

/*
 * Whether the stream may not have passed page c yet: read ahead, or mapped
 * ahead (by map_run, up to seq_next) of where layer 1 last faulted.
 */
static bool ahead_of_stream(const struct cpage *c)
{
	return c->dpn + pages_of(c) > pg.stream_at && c->dpn < pg.ra_end;
}

/*
 * The 2 MiB pages alone, oldest first, with a second chance: the frames of
 * the oldest one not referenced since it was last looked at, taken out of
 * the cache, or 0; a referenced one goes to the back.  A stream's frames go
 * round this way, the ones it passed longest ago first, without a trip
 * through the allocator, and without a sweep over the small pages that may
 * fill the rest of the cache.  Never one the stream may not have passed
 * yet (ahead_of_stream): on a list this short it would lose its second
 * chance within two calls and be read again, and layer 1, still in it or
 * before it, would fault off the stream.  (A 2 MiB page is never dirty: the
 * first write splits it.)
 */
static uint64_t huge_recycle(void)
{
	uint32_t k = 0;

	for (uint32_t step = 0; step < 2 * pg.nhuge && k < pg.nhuge; step++) {
		uint32_t i = pg.huge[k];

		if ((pg.cp[i].flags & CP_PINNED) || ahead_of_stream(&pg.cp[i])) {
			k++;
		} else if (referenced(&pg.cp[i])) {
			huge_list_cut(k);
			pg.huge[pg.nhuge++] = i;
		} else {
			return forget(i);
		}
	}
	return 0;
}

/* One page evicted: a clean one if the CLOCK finds one, else a dirty one. */
static bool evict_clean_first(void)
{
	return evict_sweep(false) || evict_sweep(true);
}

/*
 * One page evicted, waiting for the background home writes, then for the
 * checkpoint records in flight, if they pin every candidate.
 */
static bool evict_one(void)
{
	uint64_t t0 = prof_begin();
	bool done;

	home_reap(false);
	if (pg.no_wait)
		done = evict_sweep(false);
	else
		done = evict_clean_first() || (home_reap(true) && evict_clean_first());
	if (!done && !pg.no_wait && pg.drain != 0) {
		pg.drain();
		done = evict_clean_first();
	}
	prof_end(PROF_EVICT, t0);
	return done;
}

/*
 * A free descriptor: there is one per page of RAM, so one is always left.
 * Freed ones are taken again first, which keeps the live ones low in the
 * array and the sweeps (the CLOCK hand, harvest, sync) short when 2 MiB
 * pages leave most of them unused.
 */
static uint32_t take_descriptor(void)
{
	uint32_t i = pg.free;

	if (i == NIL)
		panic("pager: no free page descriptor");
	pg.free = pg.cp[i].next;
	if (i >= pg.used)
		pg.used = i + 1;
	return i;
}

/*
 * A descriptor and a frame for page dpn, or NIL when memory is exhausted.
 * The frame is zeroed unless the caller is about to read the disk into it.
 */
uint32_t page_alloc(uint64_t dpn, bool zero)
{
	uint64_t pa, t0;
	uint32_t i;

	while (pmm_free_pages() < LOW_WATER || pg.free == NIL)
		if (!evict_one())
			return NIL;
	t0 = prof_begin();
	pa = zero ? pmm_alloc() : pmm_alloc_uninit();
	prof_end(PROF_ALLOC, t0);
	if (pa == 0)
		return NIL;
	i = take_descriptor();
	pg.cp[i] = (struct cpage){ .dpn = dpn, .pa = pa, .flags = CP_REF | CP_BUSY };
	frame_owned(i);
	hash_insert(i);
	return i;
}

/*
 * A 2 MiB descriptor and block of frames for the HUGE_PAGES pages from dpn,
 * to be read in the background, or NIL.  It evicts only what the same read
 * in 4 KiB pages would: nothing while a free run is left above LOW_WATER,
 * else the oldest 2 MiB page the stream passed (huge_recycle), else the
 * small pages of one run (compact(): memory short, or fragmented by small
 * pages).  NIL only when every run holds something that must stay: the
 * stream goes on in 4 KiB pages.
 */
uint32_t huge_alloc(uint64_t dpn)
{
	uint64_t pa = 0, t0;
	uint32_t i;

	while (pg.free == NIL)
		if (!evict_one())
			return NIL;
	if (pmm_free_pages() >= LOW_WATER + HUGE_PAGES) {
		t0 = prof_begin();
		pa = pmm_alloc_huge();
		prof_end(PROF_ALLOC, t0);
	}
	if (pa == 0) {
		t0 = prof_begin();
		pa = huge_recycle();
		prof_end(PROF_RECYCLE, t0);
	}
	if (pa == 0 && pmm_free_pages() >= LOW_WATER) {
		t0 = prof_begin();
		pa = compact(pmm_free_pages() - LOW_WATER);
		prof_end(PROF_COMPACT, t0);
	}
	if (pa == 0)
		return NIL;
	i = take_descriptor();
	pg.cp[i] = (struct cpage){ .dpn = dpn, .pa = pa,
	    .flags = CP_REF | CP_BUSY | CP_INFLIGHT | CP_HUGE };
	hash_insert(i);
	pg.huge[pg.nhuge++] = i;
	pg.st.huge_reads++;
	return i;
}

/* Where the RAM is, in pages: for the out-of-memory report and the statistics. */
struct memory {
	uint64_t free;
	uint64_t cached, dirty, stuck;	/* cached pages; dirty ones; those no sweep can evict */
	uint64_t pinned;		/* of those, dirty ones that cannot be written */
	uint64_t tables, empty;		/* the window's page tables; those mapping nothing */
	uint64_t other;			/* taken since pager_init by the rest of layer 0 */
};

static void memory_now(struct memory *m)
{
	*m = (struct memory){ .free = pmm_free_pages() };
	for (uint32_t i = 0; i < pg.used; i++) {
		const struct cpage *c = &pg.cp[i];

		if (c->pa == 0)
			continue;
		m->cached += pages_of(c);
		if (c->flags & CP_DIRTY)
			m->dirty += pages_of(c);
		if (c->flags & (CP_BUSY | CP_NO_WRITEBACK))
			m->stuck += pages_of(c);
		if (c->flags & CP_NO_WRITEBACK)
			m->pinned += pages_of(c);
	}
	m->tables = vm_count_tables(kernel_root, STRATA_DISK_WINDOW_BASE,
	    STRATA_DISK_WINDOW_BASE + STRATA_DISK_WINDOW_SIZE, &m->empty);
	/* pg.ncp is what was free at pager_init; its own arrays count as layer 0's. */
	if (pg.ncp > m->free + m->cached + m->tables)
		m->other = pg.ncp - m->free - m->cached - m->tables;
}

static void print_memory(const char *what, const struct memory *m)
{
	kprintf("strata: pager: %s: %lu pages free, %lu cached (%lu dirty, %lu not evictable), "
	    "%lu page tables for the window (%lu empty), %lu taken by the rest of layer 0\n", what,
	    (unsigned long)m->free, (unsigned long)m->cached, (unsigned long)m->dirty,
	    (unsigned long)m->stuck, (unsigned long)m->tables, (unsigned long)m->empty,
	    (unsigned long)m->other);
}

/*
 * No page could be had: says what holds the memory, the largest of the
 * pages the cache cannot give up, the window's page tables and the rest of
 * layer 0, then stops the machine.
 */
NORETURN void out_of_memory(void)
{
	struct memory m;

	memory_now(&m);
	print_memory("out of memory", &m);
	if (m.stuck >= m.tables && m.stuck >= m.other && m.pinned + 1 >= m.cached)
		/* (the one page short is the one being faulted in) */
		kprintf("strata: pager: no page can be evicted: every cached page is dirty and %s\n",
		    pg.dev ? "its write to the disk failed" : "there is no disk to write it to");
	else if (m.stuck >= m.tables && m.stuck >= m.other)
		kprintf("strata: pager: no page can be evicted: the cached pages are being read "
		    "or written back\n");
	else if (m.tables >= m.other)
		kprintf("strata: pager: the disk window's page tables hold the memory, not the cache\n");
	else
		kprintf("strata: pager: the rest of layer 0 holds the memory, not the cache\n");
	kprintf("strata: exit %u (out of memory)\n", STRATA_EXIT_L0_NOMEM);
	machine_exit(STRATA_EXIT_L0_NOMEM);
}

/* Maps the 2 MiB page c with one PDE, without write permission: a write splits it. */
static void map_huge(struct cpage *c)
{
	uint64_t va = page_va(c->dpn);
	uint32_t busy = c->flags & CP_BUSY;
	pte_t *e;

	c->flags |= CP_BUSY;
	/*
	 * A table left there maps nothing: no page of the block was cached.  It
	 * goes first, with any directory it leaves empty, then the walk.
	 */
	e = vm_walk_pde(kernel_root, va, false);
	if (e != 0 && (*e & PTE_P) && !(*e & PTE_PS)) {
		if (!vm_prune(kernel_root, va))
			panic("pager: 2 MiB page %#lx over a live page table", (unsigned long)c->dpn);
		last_map.pte = 0;
	}
	while ((e = vm_walk_pde(kernel_root, va, true)) == 0)
		if (!evict_one())
			out_of_memory();
	vm_set_huge_leaf(e, va, c->pa, pg.perm(c->dpn * PAGE_SIZE) & ~PTE_W);
	c->pte = e;
	c->flags = (c->flags | CP_MAPPED) & ~CP_BUSY;
	c->flags |= busy;
}

void map(uint32_t i)
{
	struct cpage *c = &pg.cp[i];
	uint64_t flags = pg.perm(c->dpn * PAGE_SIZE);
	uint32_t busy = c->flags & CP_BUSY;
	pte_t *e;

	if (c->flags & CP_INFLIGHT)
		panic("pager: mapping page %#lx while a read is filling it", (unsigned long)c->dpn);
	/*
	 * Mapped: layer 1 has it.  The one touch of the fault path, here rather
	 * than in desc_settled(), because fault-around and a stream map pages
	 * no fault asked for, and those are touches too.
	 */
	pager_prefetch_touched(i);
	if (c->flags & CP_HUGE) {
		map_huge(c);
		return;
	}
	if (!(c->flags & CP_WRITABLE))
		flags &= ~PTE_W;	/* the first write faults: pager_dirty.c */
	c->flags |= CP_BUSY;
	if (last_map.pte != 0 && c->dpn == last_map.dpn + 1 && c->dpn % 512 != 0) {
		e = last_map.pte + 1;	/* the next entry of the same page table */
	} else {
		while ((e = vm_walk(kernel_root, page_va(c->dpn), true)) == 0)
			if (!evict_one())
				out_of_memory();	/* not even a page table could be had */
	}
	vm_set_leaf(e, page_va(c->dpn), c->pa, flags);
	c->pte = e;
	last_map.dpn = c->dpn;
	last_map.pte = e;
	c->flags = (c->flags | CP_MAPPED) & ~CP_BUSY;
	c->flags |= busy;	/* whoever made it busy still holds it */
}

/*
 * Turns the 2 MiB page i into HUGE_PAGES ordinary pages in the same frames,
 * mapped by a new page table in place of its PDE if it was mapped: before
 * layer 1 writes it, each page then with a dirty bit of its own, or when
 * layer 0 needs one of its pages.  Descriptor i becomes the first page.
 */
static void split(uint32_t i)
{
	struct cpage *c = &pg.cp[i];
	uint64_t base = c->dpn, pa = c->pa, flags = pg.perm(base * PAGE_SIZE) & ~PTE_W, tpa;
	uint32_t keep = c->flags & (CP_BUSY | CP_MAPPED), next = c->next;
	pte_t *pt = 0;

	if (keep & CP_MAPPED) {
		c->flags |= CP_BUSY;
		while ((tpa = pmm_alloc_uninit()) == 0)
			if (!evict_one())
				out_of_memory();
		pt = vm_split_huge(c->pte, page_va(base), tpa, flags);
	}
	huge_list_remove(i);
	pg.st.splits++;
	for (uint64_t k = 0; k < HUGE_PAGES; k++) {
		uint32_t j = k == 0 ? i : take_descriptor();

		pg.cp[j] = (struct cpage){ .dpn = base + k, .pa = pa + k * PAGE_SIZE,
		    .pte = pt ? &pt[k] : 0, .next = next, .flags = CP_REF | (keep & CP_MAPPED) };
		frame_owned(j);
		if (k > 0)
			hash_insert(j);
	}
	pg.cp[i].flags |= keep & CP_BUSY;
}

/*
 * Page dpn's descriptor once no read is filling it: a prefetch read of it
 * finished (desc_settled), a stream's waited for, starting the stream's
 * next reads meanwhile if refill (a fault: nothing of layer 0's is half
 * done, so the reads may evict).  NIL if it is not cached, or that read
 * failed.
 */
static uint32_t desc_read_over(uint64_t dpn, bool refill)
{
	uint32_t i = desc_settled(dpn);

	if (i != NIL && (pg.cp[i].flags & CP_INFLIGHT)) {
		uint64_t t0 = prof_begin();

		prefetch_wait(dpn, refill);
		prof_end(PROF_WAIT, t0);
		i = desc_holding(dpn);	/* gone if that read failed */
	}
	return i;
}

/*
 * The page of a fault, cached: hit, or read (with read-ahead when the fault
 * continues a stream).  It comes back BUSY: nothing evicts it before the
 * fault is over.  NIL on a read error.
 */
static uint32_t fault_page(uint64_t dpn, bool sequential)
{
	uint32_t i = desc_read_over(dpn, true);

	if (i != NIL && (pg.cp[i].flags & (CP_HUGE | CP_MAPPED)) == (CP_HUGE | CP_MAPPED)) {
		split(i);	/* a fault on a mapped 2 MiB page: a write */
		i = desc_keyed(dpn);
	}
	if (i != NIL) {
		pg.st.hits++;
		pg.cp[i].flags |= CP_BUSY;
		return i;
	}
	pg.st.misses++;
	return read_miss(dpn, sequential);
}

int pager_fault(uint64_t off, bool write)
{
	uint64_t dpn = off / PAGE_SIZE, t0 = prof_begin(), t;
	bool sequential;
	uint32_t i;

	pg.st.faults++;
	t = prof_begin();
	prefetch_reap();
	prof_end(PROF_REAP, t);
	sequential = pg.dev != 0 && dpn == pg.seq_next;
	pg.stream_at = dpn;
	if ((i = fault_page(dpn, sequential)) == NIL)
		return -1;
	t = prof_begin();
	map(i);
	if (sequential) {
		/* Map what the stream has in, and keep reads going ahead of it. */
		pg.seq_next = pg.faultaround > 1 ? map_run(dpn, (uint32_t)pg.ra_limit) : dpn + 1;
		prof_end(PROF_MAP, t);
		t = prof_begin();
		prefetch_more();
		prof_end(PROF_ISSUE, t);
	} else {
		uint64_t ta = prof_begin();

		fault_around(dpn);
		prof_end(PROF_AROUND, ta);
		prof_end(PROF_MAP, t);
	}
	pg.cp[i].flags &= ~CP_BUSY;
	prof_end(PROF_FAULT, t0);
	return write ? pager_write_fault(off) : 0;
}

/* Page dpn's own descriptor, its read over, split out of a 2 MiB page; NIL if not cached. */
uint32_t desc_split_out(uint64_t dpn)
{
	uint32_t i = desc_read_over(dpn, false);

	if (i != NIL)
		pager_prefetch_touched(i);	/* taken by layer 0, which map() does not see */
	if (i != NIL && (pg.cp[i].flags & CP_HUGE)) {
		split(i);
		i = desc_keyed(dpn);
	}
	return i;
}

void *pager_page_for_write(uint64_t off, bool read)
{
	uint64_t dpn = off / PAGE_SIZE;
	uint32_t i = desc_split_out(dpn), n;
	bool err;

	if (i == NIL) {
		if (read) {
			if ((i = read_in(dpn, 1, &n, &err)) == NIL)
				return 0;
		} else if ((i = page_alloc(dpn, true)) == NIL) {
			out_of_memory();
		}
	}
	copy_on_write(i);
	pg.cp[i].flags = (pg.cp[i].flags | CP_DIRTY) & ~(CP_BUSY | CP_NO_WRITEBACK | CP_JOURNALED);
	dirty_list_add(i);
	return p2v(pg.cp[i].pa);
}

const struct pager_stats *pager_stats(void)
{
	return &pg.st;
}

void pager_print_stats(void)
{
	const struct pager_stats *s = &pg.st;
	struct memory m;

	kprintf("strata: pager: %lu faults (%lu hits, %lu misses, %lu first writes), %lu reads "
	    "(%lu pages, %lu of 2 MiB, %lu split, %lu runs compacted, %lu small pages absorbed), "
	    "%lu writes (%lu pages), %lu copies on write (%lu waited), %lu evictions, %lu syncs\n",
	    s->faults, s->hits, s->misses, s->write_faults, s->reads, s->read_pages, s->huge_reads,
	    s->splits, s->compactions, s->absorbed, s->writes, s->write_pages, s->cow_copies,
	    s->cow_waits, s->evictions, s->syncs);
	pager_prefetch_print();
	memory_now(&m);
	print_memory("memory", &m);
}
