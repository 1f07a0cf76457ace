/*
 * Compaction: an aligned 2 MiB run of frames for a stream's next 2 MiB page
 * when no run is free and no 2 MiB page can be recycled.
 *
 * Once random faults or prefetches have filled the cache with 4 KiB pages,
 * their frames lie all over RAM and the CLOCK frees them one at a time in
 * its own order: no aligned run ever comes free, and a stream would read
 * on in 4 KiB pages, several times slower under emulation (each page its
 * own descriptor, entry and eviction; doc/architecture.md has the figures).
 * Instead, compact() empties one run: the next, in physical order from
 * where the last search stopped (a CLOCK over runs), whose every frame is
 * free or holds a clean 4 KiB page that nothing pins, and whose free frames
 * layer 0 can spare (they count in its LOW_WATER, which taking the run must
 * not break: in an interrupt the CLOCK could not make up for them).  A
 * first round takes only runs whose pages were not referenced since the
 * CLOCK last passed them; a second takes any.  It evicts at most
 * HUGE_PAGES pages, as the same read in 4 KiB pages would have, and never a
 * dirty page: a run that holds one, or a frame of layer 0's own (a page
 * table, a journal buffer), or a 2 MiB page, or a page being read or
 * written, is passed by.
 *
 * Which page owns a frame comes from owner[], one entry per frame below the
 * direct map's limit, set whenever a descriptor gets a frame (frame_owned)
 * and checked against the descriptor when read: an entry left behind by a
 * page that went is simply stale, never trusted.
 */
#include "defs.h"
#include "pager_impl.h"

static uint32_t *owner;		/* per frame: the descriptor that last took it */
static uint64_t nframes;	/* frames owner[] covers */
static uint64_t run_hand;	/* the run compact() looks at next */

void compact_init(void)
{
	nframes = pmm_direct_pages();
	owner = vm_alloc_area(nframes * sizeof(*owner));
	for (uint64_t f = 0; f < nframes; f++)
		owner[f] = NIL;
	run_hand = 0;
}

void frame_owned(uint32_t i)
{
	uint64_t f = pg.cp[i].pa / PAGE_SIZE;

	if (f < nframes)
		owner[f] = i;
}

/* The 4 KiB cache page whose frame is pa, or NIL. */
static uint32_t small_page_at(uint64_t pa)
{
	uint32_t i = owner[pa / PAGE_SIZE];

	if (i == NIL || i >= pg.used || pg.cp[i].pa != pa || (pg.cp[i].flags & CP_HUGE))
		return NIL;
	return i;
}

/* Whether a clean page was referenced since the CLOCK last passed it (read, not cleared). */
static bool recently_used(const struct cpage *c)
{
	const pte_t *e = pte_of(c);

	return (c->flags & CP_REF) || (e != 0 && vm_leaf_accessed(e));
}

/*
 * Whether 4 KiB page i may leave the cache at once, dropped: clean (a
 * writable mapping's dirty bit is read, not taken: nothing was written
 * since the last harvest), nothing pins it and no read is filling it.
 */
bool page_droppable(uint32_t i)
{
	const struct cpage *c = &pg.cp[i];
	const pte_t *e = pte_of(c);

	if (c->flags & (CP_HUGE | CP_PINNED | CP_INFLIGHT | CP_DIRTY))
		return false;
	return !(e != 0 && (c->flags & CP_WRITABLE) && vm_leaf_dirty(e));
}

/* Whether the page of frame pa may be evicted for a run: droppable, and unreferenced unless any_ok. */
static bool evictable_for_run(uint64_t pa, bool any_ok)
{
	uint32_t i = small_page_at(pa);

	return i != NIL && page_droppable(i) && (any_ok || !recently_used(&pg.cp[i]));
}

/* Whether run r can be emptied: each frame evictable or free, at most spare of them free. */
static bool run_emptiable(uint64_t r, bool any_ok, uint64_t spare)
{
	uint64_t base = r * HUGE_SIZE, free = 0;

	for (uint64_t pa = base; pa < base + HUGE_SIZE; pa += PAGE_SIZE) {
		if (pmm_page_free(pa)) {
			if (++free > spare)
				return false;
		} else if (!evictable_for_run(pa, any_ok)) {
			return false;
		}
	}
	return true;
}

/* Evicts run r's pages, one TLB flush for all of them, and takes the run. */
static uint64_t empty_run(uint64_t r)
{
	uint64_t base = r * HUGE_SIZE, evicted = 0;

	for (uint64_t pa = base; pa < base + HUGE_SIZE; pa += PAGE_SIZE)
		if (!pmm_page_free(pa)) {
			drop_unflushed(small_page_at(pa));
			evicted++;
		}
	vm_flush_all();		/* before any of these frames is used again */
	pg.st.compactions++;
	if (!pmm_take_huge(base))
		panic("pager: run %#lx not free after its %lu pages were evicted",
		    (unsigned long)base, (unsigned long)evicted);
	return base;
}

uint64_t compact(uint64_t spare)
{
	uint64_t runs = nframes / HUGE_PAGES;

	for (int round = 0; round < 2; round++) {
		for (uint64_t step = 0; step < runs; step++) {
			uint64_t r = run_hand;

			run_hand = run_hand + 1 >= runs ? 0 : run_hand + 1;
			if (run_emptiable(r, round == 1, spare))
				return empty_run(r);
		}
	}
	return 0;
}
