/*
 * Which pages are dirty since the last checkpoint, and the pages of the next.
 *
 * A page is mapped writable only after layer 1's first write to it faults
 * (make_writable), which puts it on the dirty list; a checkpoint takes the
 * write permission of every listed page back, with the dirty bit the CPU set
 * (so the next write faults again), and empties the list.  The list is the
 * checkpoint's page set, whatever the size of the cache: a checkpoint costs
 * the pages written since the last one.
 *
 * The pages of a checkpoint are written to the journal while layer 1 runs:
 * each keeps its frame, marked SNAP, until the record is done, and a write to
 * one meanwhile moves the page to a copy (copy_on_write).  The same holds for
 * a page whose home write is in flight (HOMING).
 *
 * A page in a durable checkpoint and not yet home is *journaled*: dirty, and
 * allowed home, and its home write starts at once in the background
 * (pager_writeback.c).  It may change again before that: the journal keeps
 * its version until a cleaning, which comes only after a checkpoint of every
 * dirty page (checkpoint.c), so no version is lost.
 */
#include "defs.h"
#include "journal.h"
#include "pager_impl.h"

/* Moves the PTE's dirty bit into the descriptor. */
void harvest(struct cpage *c)
{
	pte_t *e = pte_of(c);

	if (e != 0 && (c->flags & CP_WRITABLE) && vm_take_dirty(e, page_va(c->dpn)))
		c->flags |= CP_DIRTY;
}

void dirty_list_add(uint32_t i)
{
	struct cpage *c = &pg.cp[i];

	if (c->flags & CP_LISTED)
		return;
	c->flags |= CP_LISTED;
	c->lidx = pg.ndirty;
	pg.dirty[pg.ndirty++] = i;
}

/* Swaps the last entry into i's place: the list has no order. */
void dirty_list_remove(uint32_t i)
{
	struct cpage *c = &pg.cp[i];
	uint32_t last;

	if (!(c->flags & CP_LISTED))
		return;
	last = pg.dirty[--pg.ndirty];
	pg.dirty[c->lidx] = last;
	pg.cp[last].lidx = c->lidx;
	c->flags &= ~CP_LISTED;
}

/* A frame for a copy, or 0 when memory is too short to spare one. */
static uint64_t copy_frame(void)
{
	return pmm_free_pages() > LOW_WATER / 2 ? pmm_alloc_uninit() : 0;
}

/*
 * Page i is about to change while its frame is being written: to the
 * journal (SNAP) or home (HOMING).  The page moves to a copy, and the old
 * frame stays with that write, which frees it when done (pager_checkpoint_done,
 * home_reap): so layer 1 never waits for a checkpoint's writes.  Without
 * memory for a copy, it waits for those writes instead.
 */
void copy_on_write(uint32_t i)
{
	struct cpage *c = &pg.cp[i];
	uint64_t pa;

	if (!(c->flags & (CP_SNAP | CP_HOMING)))
		return;
	if ((pa = copy_frame()) == 0) {
		pg.st.cow_waits++;
		if (c->flags & CP_SNAP)
			pg.drain();
		if (c->flags & CP_HOMING)
			home_reap(true);
		return;
	}
	pg.st.cow_copies++;
	memcpy(p2v(pa), p2v(c->pa), PAGE_SIZE);
	if (c->flags & CP_HOMING)
		c->flags |= CP_GHOST;	/* its next home write waits for the old one */
	c->flags &= ~(CP_SNAP | CP_HOMING);
	c->pa = pa;
	frame_owned(i);
	if (c->flags & CP_MAPPED)
		vm_set_leaf(c->pte, page_va(c->dpn), pa, pg.perm(c->dpn * PAGE_SIZE) & ~PTE_W);
}

/*
 * Lets layer 1 write page i (its region allows it): on the list from now on.
 * A journaled page may change: its version stays in the journal until a
 * cleaning, which checkpoints every dirty page first (checkpoint.c).
 */
void make_writable(uint32_t i)
{
	struct cpage *c = &pg.cp[i];

	copy_on_write(i);
	pg.st.write_faults++;
	c->flags = (c->flags | CP_WRITABLE) & ~CP_JOURNALED;
	dirty_list_add(i);
	if (c->flags & CP_MAPPED)
		vm_set_writable(c->pte, page_va(c->dpn), true);
}

int pager_write_fault(uint64_t off)
{
	uint32_t i = desc_split_out(off / PAGE_SIZE);

	if (i == NIL)
		return pager_fault(off, true);	/* gone meanwhile (a read error) */
	make_writable(i);
	return 0;
}

uint32_t pager_dirty_count(void)
{
	return pg.ndirty;
}

uint32_t pager_pages_max(void)
{
	return pg.ncp;
}

uint32_t pager_checkpoint_pages(struct jpage *out)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < pg.ndirty; k++) {
		uint32_t i = pg.dirty[k];
		struct cpage *c = &pg.cp[i];

		if ((c->flags & CP_WRITABLE) && (c->flags & CP_MAPPED) &&
		    vm_write_protect(c->pte, page_va(c->dpn)))
			c->flags |= CP_DIRTY;
		c->flags &= ~(CP_WRITABLE | CP_LISTED);
		if (!(c->flags & CP_DIRTY))
			continue;
		c->flags |= CP_SNAP;
		out[n++] = (struct jpage){ .home = c->dpn, .pa = c->pa };
	}
	pg.ndirty = 0;
	return n;
}

/*
 * A record is done.  Each of its frames is still its page's (then the page
 * is journaled if durable, dirty again if not), or was copied from and is
 * the record's to free.
 */
void pager_checkpoint_done(const struct jpage *pages, uint32_t n, bool durable)
{
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = desc_keyed(pages[k].home);
		struct cpage *c = i == NIL ? 0 : &pg.cp[i];

		if (c == 0 || c->pa != pages[k].pa) {
			pmm_free(pages[k].pa);
			continue;
		}
		c->flags &= ~CP_SNAP;
		if (durable)
			c->flags = (c->flags | CP_JOURNALED) & ~CP_NO_WRITEBACK;
		else
			dirty_list_add(i);	/* dirty still: the next checkpoint takes it */
	}
	if (durable)
		home_start(pages, n);
}
