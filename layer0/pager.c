/*
 * The page cache behind the disk window (pager.h says what it promises).
 *
 * Each cached page has a descriptor: its disk page number, its frame, its
 * state.  Descriptors are found by a hash of the page number and swept by a
 * CLOCK hand that uses the accessed bit of the page's PTE (or, for pages read
 * ahead and not mapped yet, a software referenced bit) as the second chance.
 * Frames come from the physical allocator one by one and go back to it on
 * eviction; the cache grows until free memory falls to LOW_WATER, which keeps
 * room for the page tables a sparse window needs.
 *
 * A sequential stream reads ahead in 2 MiB pages where it can: one aligned
 * block of HUGE_PAGES frames, one descriptor, one read, one PDE.  Under
 * emulation the per-page work of the cache costs more than the copy, so this
 * is what lets a mapped scan come near the device's own speed.  A 2 MiB page
 * is mapped without write permission and stays clean: the first write to it,
 * or layer 0 wanting one of its pages, splits it into HUGE_PAGES ordinary
 * pages in the same frames, each with its own dirty bit.  So dirty sets,
 * write-back and write protection only ever see 4 KiB pages.
 */
#include "defs.h"
#include "blkdev.h"
#include "pager.h"
#include "strata/abi.h"

#define RA_FIRST	16	/* pages read when a fault continues the last read */
#define RA_MAX		256	/* the largest read-ahead: 1 MiB */
#define RA_INFLIGHT	4	/* background reads ahead of a sequential stream */
#define WB_MAX		256	/* pages in one write-back request */
#define WB_INFLIGHT	8	/* write-back requests in flight at once */
#define LOW_WATER	512	/* free pages the cache leaves to layer 0 */
#define NIL		0xffffffffU

#define CP_MAPPED	0x01	/* a PTE points at the frame */
#define CP_DIRTY	0x02	/* newer than the disk */
#define CP_REF		0x04	/* referenced since the hand last passed (unmapped pages) */
#define CP_BUSY		0x08	/* being faulted in: not evictable */
#define CP_PINNED	0x10	/* cannot be written back: no disk, or the write failed */
#define CP_WPROT	0x20	/* write-protected while a checkpoint writes it */
#define CP_INFLIGHT	0x40	/* a background read is filling it (also BUSY) */
#define CP_HUGE		0x80	/* 2 MiB: HUGE_PAGES pages from dpn, mapped by a PDE, never dirty */

struct cpage {
	uint64_t dpn;		/* disk page number: window offset / 4096 */
	uint64_t pa;		/* the frame; 0 when the descriptor is free */
	uint64_t dirty_epoch;	/* the epoch it was last found dirty in */
	pte_t *pte;		/* its PTE (PDE if huge) while CP_MAPPED: no walk to find it again */
	uint32_t next;		/* hash chain, or the free list */
	uint32_t flags;
};

static struct {
	struct blkdev *dev;
	pager_perm_fn perm;
	uint32_t faultaround;
	struct cpage *cp;
	uint32_t ncp;
	uint32_t used;		/* descriptors ever taken: every live one is below */
	uint32_t *hash;
	uint32_t hmask;
	uint32_t free;		/* first free descriptor */
	uint32_t nhuge;		/* 2 MiB pages cached */
	uint32_t hand;
	uint64_t epoch;
	uint64_t seq_next;	/* the page a sequential stream faults on next */
	uint64_t ra_end;	/* the end of the furthest read issued for it */
	uint32_t ra_pages;	/* the size of its last read */
	uint64_t ra_limit;	/* pages a stream may have read ahead: a slice of the cache */
	uint32_t *order;	/* scratch: dirty descriptors sorted by page */
	struct pager_stats st;
} pg;

static uint64_t list[RA_MAX];	/* physical pages of the read in progress */

/* A read ahead of a sequential stream, running while layer 1 goes on. */
struct prefetch {
	struct blkreq req;
	uint64_t pages[RA_MAX];
	uint64_t buf;		/* a 2 MiB page's frames, read as one buffer; else 0 */
	uint32_t idx[RA_MAX];	/* its descriptors: one if huge */
	uint32_t ndesc;
	uint64_t dpn;
	uint32_t n;		/* pages */
	bool active;
};
static struct prefetch pf[RA_INFLIGHT];

static uint64_t page_va(uint64_t dpn)
{
	return STRATA_DISK_WINDOW_BASE + dpn * PAGE_SIZE;
}

static uint32_t hash_of(uint64_t dpn)
{
	return (uint32_t)((dpn * 0x9e3779b97f4a7c15ULL) >> 32) & pg.hmask;
}

static uint32_t lookup(uint64_t dpn)
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
static uint32_t find(uint64_t dpn)
{
	uint32_t i = lookup(dpn);

	if (i == NIL && pg.nhuge > 0 && dpn % HUGE_PAGES != 0 &&
	    (i = lookup(dpn - dpn % HUGE_PAGES)) != NIL && !(pg.cp[i].flags & CP_HUGE))
		i = NIL;
	return i;
}

static void hash_remove(uint32_t i)
{
	uint32_t *p = &pg.hash[hash_of(pg.cp[i].dpn)];

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
	for (uint32_t i = 0; i < hsize; i++)
		pg.hash[i] = NIL;
	for (uint32_t i = 0; i < pg.ncp; i++)
		pg.cp[i].next = i + 1 < pg.ncp ? i + 1 : NIL;
	pg.free = 0;
	pg.epoch = 1;
	last_map.pte = 0;
	/* Read-ahead never takes more than an eighth of the cache. */
	cache = pmm_free_pages() > LOW_WATER ? pmm_free_pages() - LOW_WATER : 0;
	pg.ra_limit = cache / 8 < RA_FIRST ? RA_FIRST : cache / 8;
	kprintf("strata: pager: %s, cache up to %lu MiB, fault-around %u pages\n",
	    dev ? dev->name : "no disk (RAM only)", (unsigned long)(cache >> 8), pg.faultaround);
}

/* The PTE of a mapped page, or 0. */
static pte_t *pte_of(const struct cpage *c)
{
	return (c->flags & CP_MAPPED) ? c->pte : 0;
}


/* Moves the PTE's dirty bit into the descriptor. */
static void harvest(struct cpage *c)
{
	pte_t *e = pte_of(c);

	if (e == 0 || !(*e & PTE_D))
		return;
	*e &= ~PTE_D;
	vm_flush(page_va(c->dpn));
	c->flags |= CP_DIRTY;
	c->dirty_epoch = pg.epoch;
}

uint64_t pager_harvest(void)
{
	for (uint32_t i = 0; i < pg.used; i++)
		if (pg.cp[i].pa != 0)
			harvest(&pg.cp[i]);
	return pg.epoch++;
}

uint64_t pager_dirty_since(uint64_t epoch, void (*fn)(void *ctx, uint64_t off), void *ctx)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < pg.used; i++) {
		const struct cpage *c = &pg.cp[i];

		if (c->pa != 0 && (c->flags & CP_DIRTY) && c->dirty_epoch >= epoch) {
			fn(ctx, c->dpn * PAGE_SIZE);
			n++;
		}
	}
	return n;
}

/*
 * May the dirty page c overwrite its home location on the disk now?  Always,
 * until checkpoints exist: then only if it is not newer than the last durable
 * checkpoint, or that checkpoint's successor is durable.  Every write of a
 * page to its home asks here first.
 */
static bool home_write_allowed(const struct cpage *c)
{
	(void)c;
	return true;
}

/* One write request in flight: its pages and the descriptors they came from. */
struct wb_req {
	struct blkreq req;
	uint64_t pages[WB_MAX];
	uint32_t idx[WB_MAX];
	uint32_t n;
};
static struct wb_req wb[WB_INFLIGHT];

static void wb_finish(struct wb_req *w, int *failed)
{
	enum blk_status s = blk_wait(pg.dev, &w->req);

	for (uint32_t k = 0; k < w->n; k++) {
		struct cpage *c = &pg.cp[w->idx[k]];

		if (s == BLK_OK)
			c->flags &= ~CP_DIRTY;
	}
	if (s != BLK_OK) {
		kprintf("strata: pager: writing %u pages at disk offset %#lx failed: %s\n",
		    w->n, (unsigned long)(pg.cp[w->idx[0]].dpn * PAGE_SIZE), blk_status_name(s));
		(*failed)++;
	}
	w->n = 0;
}

static void wb_submit(struct wb_req *w)
{
	w->req = (struct blkreq){
		.op = BLK_WRITE,
		.sector = pg.cp[w->idx[0]].dpn * BLK_SECTORS_PER_PAGE,
		.nsectors = w->n * BLK_SECTORS_PER_PAGE,
		.pages = w->pages,
	};
	pg.st.writes++;
	pg.st.write_pages += w->n;
	blk_submit(pg.dev, &w->req);	/* a final status is kept in req.status */
}

/*
 * page_out: the one way a dirty page goes to its home on the disk.  Writes
 * the n descriptors of order[] (dirty, sorted by page), joining runs of
 * consecutive pages into requests of up to WB_MAX pages, WB_INFLIGHT at a
 * time.  Returns how many requests failed.
 */
static int page_out(const uint32_t *order, uint32_t n)
{
	int failed = 0;
	uint32_t slot = 0;
	struct wb_req *w = &wb[0];

	for (uint32_t k = 0; k < n; k++) {
		struct cpage *c = &pg.cp[order[k]];

		if (!home_write_allowed(c))
			continue;
		if (w->n > 0 && (w->n == WB_MAX || pg.cp[w->idx[w->n - 1]].dpn + 1 != c->dpn)) {
			wb_submit(w);
			slot = (slot + 1) % WB_INFLIGHT;
			w = &wb[slot];
			if (w->n > 0)
				wb_finish(w, &failed);
		}
		w->pages[w->n] = c->pa;
		w->idx[w->n++] = order[k];
	}
	if (w->n > 0)
		wb_submit(w);
	for (uint32_t s = 0; s < WB_INFLIGHT; s++)
		if (wb[s].n > 0)
			wb_finish(&wb[s], &failed);
	return failed;
}

/* True, with its descriptor in *i, when page p is cached, dirty and may be written. */
static bool writable_dirty(uint64_t p, uint32_t *i)
{
	if ((*i = lookup(p)) == NIL)
		return false;
	harvest(&pg.cp[*i]);
	return (pg.cp[*i].flags & (CP_DIRTY | CP_PINNED | CP_WPROT)) == CP_DIRTY;
}

/* The victim and the dirty pages next to it on the disk, written as one run. */
static int page_out_cluster(uint32_t victim)
{
	uint64_t dpn = pg.cp[victim].dpn, first = dpn;
	uint32_t n = 0, i;

	while (first > 0 && dpn - first < WB_MAX / 2 && writable_dirty(first - 1, &i))
		first--;
	for (uint64_t p = first; n < WB_MAX && writable_dirty(p, &i); p++)
		pg.order[n++] = i;
	return page_out(pg.order, n);
}

static void unmap(struct cpage *c)
{
	if (!(c->flags & CP_MAPPED))
		return;
	*c->pte = 0;
	vm_flush(page_va(c->dpn));
	if (vm_prune(kernel_root, page_va(c->dpn)))
		last_map.pte = 0;
	c->flags &= ~CP_MAPPED;
}

static uint64_t pages_of(const struct cpage *c)
{
	return (c->flags & CP_HUGE) ? HUGE_PAGES : 1;
}

static void drop(uint32_t i)
{
	struct cpage *c = &pg.cp[i];

	unmap(c);
	hash_remove(i);
	pg.st.evictions += pages_of(c);
	if (c->flags & CP_HUGE) {
		pmm_free_huge(c->pa);
		pg.nhuge--;
	} else {
		pmm_free(c->pa);
	}
	c->pa = 0;
	c->flags = 0;
	c->next = pg.free;
	pg.free = i;
}

/* Clears the page's referenced state; true if it had been referenced. */
static bool referenced(struct cpage *c)
{
	pte_t *e = pte_of(c);
	bool ref = (c->flags & CP_REF) != 0;

	c->flags &= ~CP_REF;
	if (e != 0 && (*e & PTE_A)) {
		*e &= ~PTE_A;
		vm_flush(page_va(c->dpn));
		ref = true;
	}
	return ref;
}

/* CLOCK: evicts one page that was not referenced since the hand last passed it. */
static bool evict_one(void)
{
	for (uint64_t step = 0; step < 3ULL * pg.used; step++) {
		uint32_t i = pg.hand;
		struct cpage *c = &pg.cp[i];

		pg.hand = pg.hand + 1 >= pg.used ? 0 : pg.hand + 1;
		if (c->pa == 0 || (c->flags & (CP_BUSY | CP_PINNED | CP_WPROT)) || referenced(c))
			continue;
		harvest(c);
		if (c->flags & CP_DIRTY) {
			if (pg.dev == 0) {
				c->flags |= CP_PINNED;	/* RAM is its only home */
				continue;
			}
			if (page_out_cluster(i) != 0 || (c->flags & CP_DIRTY)) {
				c->flags |= CP_PINNED;
				continue;
			}
		}
		drop(i);
		return true;
	}
	return false;
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
static uint32_t page_alloc(uint64_t dpn, bool zero)
{
	uint64_t pa;
	uint32_t i;

	while (pmm_free_pages() < LOW_WATER || pg.free == NIL)
		if (!evict_one())
			return NIL;
	if ((pa = zero ? pmm_alloc() : pmm_alloc_uninit()) == 0)
		return NIL;
	i = take_descriptor();
	pg.cp[i] = (struct cpage){ .dpn = dpn, .pa = pa, .flags = CP_REF | CP_BUSY };
	hash_insert(i);
	return i;
}

/*
 * A 2 MiB descriptor and block of frames for the HUGE_PAGES pages from dpn,
 * to be read in the background, or NIL.  It evicts only what the same read
 * in 4 KiB pages would: when as many frames are free but none of the aligned
 * blocks is, memory is fragmented and the stream goes on in 4 KiB pages.
 */
static uint32_t huge_alloc(uint64_t dpn)
{
	uint64_t pa = 0;
	uint32_t i;

	while (pmm_free_pages() < LOW_WATER + HUGE_PAGES || pg.free == NIL)
		if (!evict_one())
			return NIL;
	if ((pa = pmm_alloc_huge()) == 0)
		return NIL;
	i = take_descriptor();
	pg.cp[i] = (struct cpage){ .dpn = dpn, .pa = pa,
	    .flags = CP_REF | CP_BUSY | CP_INFLIGHT | CP_HUGE };
	hash_insert(i);
	pg.nhuge++;
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
		if (c->flags & (CP_BUSY | CP_PINNED | CP_WPROT))
			m->stuck += pages_of(c);
		if (c->flags & CP_PINNED)
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
static NORETURN void out_of_memory(void)
{
	struct memory m;

	memory_now(&m);
	print_memory("out of memory", &m);
	if (m.stuck >= m.tables && m.stuck >= m.other && m.pinned + 1 >= m.cached)
		/* (the one page short is the one being faulted in) */
		kprintf("strata: pager: no page can be evicted: every cached page is dirty and %s\n",
		    pg.dev ? "its write to the disk failed" : "there is no disk to write it to");
	else if (m.stuck >= m.tables && m.stuck >= m.other)
		kprintf("strata: pager: no page can be evicted: the cached pages are being read, "
		    "written back or protected\n");
	else if (m.tables >= m.other)
		kprintf("strata: pager: the disk window's page tables hold the memory, not the cache\n");
	else
		kprintf("strata: pager: the rest of layer 0 holds the memory, not the cache\n");
	kprintf("strata: exit %u (out of memory)\n", STRATA_EXIT_L0_NOMEM);
	machine_exit(STRATA_EXIT_L0_NOMEM);
}

/* The next read of a sequential stream: twice the last, from RA_FIRST up to RA_MAX. */
static uint32_t grow(void)
{
	uint32_t most = pg.ra_limit < RA_MAX ? (uint32_t)pg.ra_limit : RA_MAX;

	pg.ra_pages = pg.ra_pages < RA_FIRST ? RA_FIRST : pg.ra_pages * 2;
	if (pg.ra_pages > most)
		pg.ra_pages = most;
	return pg.ra_pages;
}

/*
 * Gathers up to n new cache pages from dpn (which is not cached) for one
 * read, stopping before a page that is cached or not layer 1's; flags them
 * extra.  How many.
 */
static uint32_t gather(uint64_t dpn, uint32_t n, uint32_t *idx, uint64_t *pages, uint32_t extra)
{
	uint32_t got;

	for (got = 0; got < n; got++) {
		uint64_t p = dpn + got;

		if (got > 0 && (find(p) != NIL || pg.perm(p * PAGE_SIZE) == 0))
			break;
		if ((idx[got] = page_alloc(p, pg.dev == 0)) == NIL)
			break;
		pg.cp[idx[got]].flags |= extra;
		pages[got] = pg.cp[idx[got]].pa;
	}
	return got;
}

/*
 * Reads up to n pages from dpn into new cache pages, stopping before a page
 * that is cached or not layer 1's.  Returns the descriptor of dpn (BUSY), or
 * NIL with *err set on a read error.
 */
static uint32_t read_in(uint64_t dpn, uint32_t n, uint32_t *nread, bool *err)
{
	uint32_t idx[RA_MAX], got;
	enum blk_status s;

	*err = false;
	if ((got = gather(dpn, n, idx, list, 0)) == 0)
		out_of_memory();
	*nread = got;
	if (pg.dev == 0)
		return idx[0];		/* the frame is zero: that is the page */
	pg.st.reads++;
	pg.st.read_pages += got;
	s = blk_rw_sync(pg.dev, BLK_READ, dpn * BLK_SECTORS_PER_PAGE, got * BLK_SECTORS_PER_PAGE, list);
	for (uint32_t k = 1; k < got; k++)
		pg.cp[idx[k]].flags &= ~CP_BUSY;
	if (s == BLK_OK)
		return idx[0];
	kprintf("strata: pager: reading %u pages at disk offset %#lx failed: %s\n", got,
	    (unsigned long)(dpn * PAGE_SIZE), blk_status_name(s));
	for (uint32_t k = 0; k < got; k++)
		drop(idx[k]);
	*err = true;
	return NIL;
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
	*e = c->pa | (pg.perm(c->dpn * PAGE_SIZE) & ~PTE_W) | PTE_PS | PTE_P;
	vm_flush(va);
	c->pte = e;
	c->flags = (c->flags | CP_MAPPED) & ~CP_BUSY;
	c->flags |= busy;
}

static void map(uint32_t i)
{
	struct cpage *c = &pg.cp[i];
	uint64_t flags = pg.perm(c->dpn * PAGE_SIZE);
	uint32_t busy = c->flags & CP_BUSY;
	pte_t *e;

	if (c->flags & CP_INFLIGHT)
		panic("pager: mapping page %#lx while a read is filling it", (unsigned long)c->dpn);
	if (c->flags & CP_HUGE) {
		map_huge(c);
		return;
	}
	if (c->flags & CP_WPROT)
		flags &= ~PTE_W;
	c->flags |= CP_BUSY;
	if (last_map.pte != 0 && c->dpn == last_map.dpn + 1 && c->dpn % 512 != 0) {
		e = last_map.pte + 1;	/* the next entry of the same page table */
	} else {
		while ((e = vm_walk(kernel_root, page_va(c->dpn), true)) == 0)
			if (!evict_one())
				out_of_memory();	/* not even a page table could be had */
	}
	if (*e & PTE_P)
		vm_flush(page_va(c->dpn));
	*e = c->pa | flags | PTE_P;
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
	uint64_t base = c->dpn, pa = c->pa, flags = pg.perm(base * PAGE_SIZE), tpa;
	uint32_t keep = c->flags & (CP_BUSY | CP_MAPPED), next = c->next;
	pte_t *pt = 0;

	if (keep & CP_MAPPED) {
		c->flags |= CP_BUSY;
		while ((tpa = pmm_alloc_uninit()) == 0)
			if (!evict_one())
				out_of_memory();
		pt = p2v(tpa);
		for (uint64_t k = 0; k < HUGE_PAGES; k++)
			pt[k] = (pa + k * PAGE_SIZE) | flags | PTE_P;
		*c->pte = tpa | PTE_P | PTE_W;	/* as vm.c makes every table entry */
		vm_flush(page_va(base));
	}
	pg.nhuge--;
	pg.st.splits++;
	for (uint64_t k = 0; k < HUGE_PAGES; k++) {
		uint32_t j = k == 0 ? i : take_descriptor();

		pg.cp[j] = (struct cpage){ .dpn = base + k, .pa = pa + k * PAGE_SIZE,
		    .pte = pt ? &pt[k] : 0, .next = next, .flags = CP_REF | (keep & CP_MAPPED) };
		if (k > 0)
			hash_insert(j);
	}
	pg.cp[i].flags |= keep & CP_BUSY;
}

/* Maps the cached pages of the aligned fault-around block holding dpn. */
static void fault_around(uint64_t dpn)
{
	uint64_t first = dpn - dpn % pg.faultaround;

	for (uint64_t p = first; p < first + pg.faultaround; p++) {
		uint32_t i;

		/* Not a page a background read is still filling: it has no contents yet. */
		if (p != dpn && (i = find(p)) != NIL &&
		    !(pg.cp[i].flags & (CP_MAPPED | CP_INFLIGHT)) && pg.perm(p * PAGE_SIZE) != 0)
			map(i);
	}
}

/* A background read is over: its pages join the cache, or go if it failed. */
static void prefetch_finish(struct prefetch *p)
{
	enum blk_status s = blk_wait(pg.dev, &p->req);

	for (uint32_t k = 0; k < p->ndesc; k++) {
		if (s == BLK_OK)
			pg.cp[p->idx[k]].flags &= ~(CP_INFLIGHT | CP_BUSY);
		else
			drop(p->idx[k]);	/* a fault will read it again, and report */
	}
	p->active = false;
}

/* Finishes the background reads that completed, without waiting. */
static void prefetch_reap(void)
{
	bool any = false;

	for (int k = 0; k < RA_INFLIGHT; k++)
		any |= pf[k].active;
	if (!any)
		return;
	blk_poll(pg.dev);
	for (int k = 0; k < RA_INFLIGHT; k++)
		if (pf[k].active && pf[k].req.status != BLK_PENDING)
			prefetch_finish(&pf[k]);
}

/* Waits for the background read that is filling page dpn. */
static void prefetch_wait(uint64_t dpn)
{
	for (int k = 0; k < RA_INFLIGHT; k++)
		if (pf[k].active && dpn - pf[k].dpn < pf[k].n)
			prefetch_finish(&pf[k]);
}

/*
 * Whether streams read ahead in 2 MiB pages: only with fault-around on (a
 * 2 MiB page is mapped whole) and a stream's slice of the cache holding one.
 */
static bool huge_streams(void)
{
	return pg.faultaround > 1 && pg.ra_limit >= HUGE_PAGES;
}

/*
 * Sets p up to read the aligned block at p->dpn as one 2 MiB page, if none
 * of it is cached and all of it is mapped alike.
 */
static bool prefetch_huge(struct prefetch *p)
{
	uint64_t dpn = p->dpn, flags = pg.perm(dpn * PAGE_SIZE);
	uint32_t i;

	if (!huge_streams() || dpn % HUGE_PAGES != 0)
		return false;
	if (find(dpn) != NIL)
		return false;
	for (uint64_t k = 1; k < HUGE_PAGES; k++)	/* no 2 MiB page here: its own pages only */
		if (lookup(dpn + k) != NIL || pg.perm((dpn + k) * PAGE_SIZE) != flags)
			return false;
	if ((i = huge_alloc(dpn)) == NIL)
		return false;
	p->buf = pg.cp[i].pa;
	p->idx[0] = i;
	p->ndesc = 1;
	p->n = HUGE_PAGES;
	return true;
}

/*
 * Sets p up to read the next pages of the stream into 4 KiB pages: up to the
 * next 2 MiB boundary at most, when the stream could go on in 2 MiB pages.
 */
static bool prefetch_small(struct prefetch *p)
{
	uint32_t n = grow();

	if (huge_streams() && n > HUGE_PAGES - p->dpn % HUGE_PAGES)
		n = (uint32_t)(HUGE_PAGES - p->dpn % HUGE_PAGES);
	p->buf = 0;
	p->n = p->ndesc = gather(p->dpn, n, p->idx, p->pages, CP_INFLIGHT | CP_BUSY);
	return p->n > 0;
}

/* Keeps RA_INFLIGHT reads going ahead of a sequential stream. */
static void prefetch_more(void)
{
	for (int k = 0; k < RA_INFLIGHT; k++) {
		struct prefetch *p = &pf[k];
		uint32_t i;

		if (p->active)
			continue;
		/* Pages already cached need no read (and must not get a second descriptor). */
		while (pg.ra_end - pg.seq_next < pg.ra_limit && (i = find(pg.ra_end)) != NIL)
			pg.ra_end = pg.cp[i].dpn + pages_of(&pg.cp[i]);
		if (pg.ra_end - pg.seq_next >= pg.ra_limit || pg.perm(pg.ra_end * PAGE_SIZE) == 0)
			return;		/* far enough ahead, or the stream leaves layer 1's pages */
		if (huge_streams() && pg.ra_end % HUGE_PAGES == 0 &&
		    pg.ra_end + HUGE_PAGES - pg.seq_next > pg.ra_limit)
			return;		/* a 2 MiB read, once the stream has room for it */
		p->dpn = pg.ra_end;
		if (!prefetch_huge(p) && !prefetch_small(p))
			return;
		pg.ra_end += p->n;
		p->req = (struct blkreq){ .op = BLK_READ, .sector = p->dpn * BLK_SECTORS_PER_PAGE,
		    .nsectors = p->n * BLK_SECTORS_PER_PAGE, .pages = p->buf ? 0 : p->pages,
		    .buf = p->buf };
		p->active = true;
		pg.st.reads++;
		pg.st.read_pages += p->n;
		blk_submit(pg.dev, &p->req);	/* a final status at once is kept in req.status */
	}
}

/* Maps the run of cached pages after dpn (up to n of them): a stream reads them next. */
static uint64_t map_run(uint64_t dpn, uint32_t n)
{
	uint64_t p = dpn + 1;
	uint32_t i;

	while (p < dpn + n && (i = find(p)) != NIL && !(pg.cp[i].flags & CP_INFLIGHT)) {
		if (!(pg.cp[i].flags & CP_MAPPED))
			map(i);
		p = pg.cp[i].dpn + pages_of(&pg.cp[i]);
	}
	return p;
}

/*
 * The page of a fault, cached: hit, or read (with read-ahead when the fault
 * continues a stream).  It comes back BUSY: nothing evicts it before the
 * fault is over.  NIL on a read error.
 */
static uint32_t fault_page(uint64_t dpn, bool sequential)
{
	uint32_t i = find(dpn), n = 1;
	bool err;

	if (i != NIL && (pg.cp[i].flags & CP_INFLIGHT)) {
		prefetch_wait(dpn);
		i = find(dpn);	/* gone if that read failed */
	}
	if (i != NIL && (pg.cp[i].flags & (CP_HUGE | CP_MAPPED)) == (CP_HUGE | CP_MAPPED)) {
		split(i);	/* a fault on a mapped 2 MiB page: a write */
		i = lookup(dpn);
	}
	if (i != NIL) {
		pg.st.hits++;
		pg.cp[i].flags |= CP_BUSY;
		return i;
	}
	pg.st.misses++;
	if (!sequential) {
		i = read_in(dpn, 1, &n, &err);
		pg.ra_pages = 1;	/* a new stream may start here */
		pg.seq_next = dpn + 1;
		pg.ra_end = dpn + 1;
		return i;
	}
	/* A bad sector in the read-ahead must not fail a page that reads fine alone. */
	if ((i = read_in(dpn, grow(), &n, &err)) == NIL && n > 1)
		i = read_in(dpn, 1, &n, &err);
	if (i != NIL && dpn + n > pg.ra_end)
		pg.ra_end = dpn + n;
	return i;
}

int pager_fault(uint64_t off)
{
	uint64_t dpn = off / PAGE_SIZE;
	bool sequential;
	uint32_t i;

	pg.st.faults++;
	prefetch_reap();
	sequential = pg.dev != 0 && dpn == pg.seq_next;
	if ((i = fault_page(dpn, sequential)) == NIL)
		return -1;
	map(i);
	if (sequential) {
		/* Map what the stream has in, and keep reads going ahead of it. */
		pg.seq_next = pg.faultaround > 1 ? map_run(dpn, (uint32_t)pg.ra_limit) : dpn + 1;
		prefetch_more();
	} else {
		fault_around(dpn);
	}
	pg.cp[i].flags &= ~CP_BUSY;
	return 0;
}

/*
 * Page dpn's own descriptor, after the read filling it is over and the 2 MiB
 * page around it is split; NIL if it is not cached.
 */
static uint32_t own_page(uint64_t dpn)
{
	uint32_t i = find(dpn);

	if (i != NIL && (pg.cp[i].flags & CP_INFLIGHT)) {
		prefetch_wait(dpn);
		i = find(dpn);
	}
	if (i != NIL && (pg.cp[i].flags & CP_HUGE)) {
		split(i);
		i = lookup(dpn);
	}
	return i;
}

void *pager_page(uint64_t off, bool read)
{
	uint64_t dpn = off / PAGE_SIZE;
	uint32_t i = own_page(dpn), n;
	bool err;

	if (i == NIL) {
		if (read) {
			if ((i = read_in(dpn, 1, &n, &err)) == NIL)
				return 0;
		} else if ((i = page_alloc(dpn, true)) == NIL) {
			out_of_memory();
		}
	}
	pg.cp[i].flags = (pg.cp[i].flags | CP_DIRTY) & ~(CP_BUSY | CP_PINNED);
	pg.cp[i].dirty_epoch = pg.epoch;
	return p2v(pg.cp[i].pa);
}

/* Heap sort of order[0..n) by page number: no memory, no recursion. */
static void sift(uint32_t *a, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1, t;

		if (child >= n)
			return;
		if (child + 1 < n && pg.cp[a[child + 1]].dpn > pg.cp[a[child]].dpn)
			child++;
		if (pg.cp[a[root]].dpn >= pg.cp[a[child]].dpn)
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

static void sort_by_page(uint32_t *a, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (uint32_t end = n; end-- > 1;) {
		uint32_t t = a[0];

		a[0] = a[end];
		a[end] = t;
		sift(a, 0, end);
	}
}

int pager_sync(void)
{
	uint32_t n = 0;
	int failed;

	pg.st.syncs++;
	pager_harvest();
	if (pg.dev == 0)
		return 0;
	for (uint32_t i = 0; i < pg.used; i++) {
		struct cpage *c = &pg.cp[i];

		if (c->pa != 0 && (c->flags & CP_DIRTY)) {
			c->flags &= ~CP_PINNED;	/* a failed page gets another try */
			pg.order[n++] = i;
		}
	}
	sort_by_page(pg.order, n);
	failed = page_out(pg.order, n);
	if (blk_rw_sync(pg.dev, BLK_FLUSH, 0, 0, 0) != BLK_OK)
		failed++;
	return failed == 0 ? 0 : -1;
}

void pager_protect(uint64_t off, bool protect)
{
	/* A 2 MiB page is never protected: only protecting splits it. */
	uint32_t i = protect ? own_page(off / PAGE_SIZE) : find(off / PAGE_SIZE);
	pte_t *e;

	if (i == NIL || (pg.cp[i].flags & CP_HUGE))
		return;
	harvest(&pg.cp[i]);
	if (protect)
		pg.cp[i].flags |= CP_WPROT;
	else
		pg.cp[i].flags &= ~CP_WPROT;
	if ((e = pte_of(&pg.cp[i])) != 0) {
		uint64_t w = pg.perm(off) & PTE_W;

		*e = protect ? *e & ~PTE_W : *e | w;
		vm_flush(page_va(pg.cp[i].dpn));
	}
}

bool pager_protected(uint64_t off)
{
	uint32_t i = find(off / PAGE_SIZE);

	return i != NIL && (pg.cp[i].flags & CP_WPROT);
}

const struct pager_stats *pager_stats(void)
{
	return &pg.st;
}

void pager_print_stats(void)
{
	const struct pager_stats *s = &pg.st;
	struct memory m;

	kprintf("strata: pager: %lu faults (%lu hits, %lu misses), %lu reads (%lu pages, "
	    "%lu of 2 MiB, %lu split), %lu writes (%lu pages), %lu evictions, %lu syncs\n",
	    s->faults, s->hits, s->misses, s->reads, s->read_pages, s->huge_reads, s->splits,
	    s->writes, s->write_pages, s->evictions, s->syncs);
	memory_now(&m);
	print_memory("memory", &m);
}
