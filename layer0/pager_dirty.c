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
 * A page in a durable checkpoint and not yet home is *journaled*: read-only,
 * dirty, and allowed home.  Before it changes again, by layer 1 or layer 0,
 * home_first() writes it home, so that the journal never holds the only copy
 * of a version RAM has moved past, and cleaning the journal (write home what
 * is journaled, then let the records go) never loses one.
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

/*
 * A journaled page is about to change: its version goes home first.  False
 * when that write failed (the page stays journaled and must not change).
 */
bool home_first(uint32_t i)
{
	if (!(pg.cp[i].flags & CP_JOURNALED))
		return true;
	pg.st.homed_first++;
	return page_out_one(i) == 0 && !(pg.cp[i].flags & CP_JOURNALED);
}

/* Lets layer 1 write page i (its region allows it): on the list from now on. */
void make_writable(uint32_t i)
{
	struct cpage *c = &pg.cp[i];

	pg.st.write_faults++;
	c->flags |= CP_WRITABLE;
	dirty_list_add(i);
	if (c->flags & CP_MAPPED)
		vm_set_writable(c->pte, page_va(c->dpn), true);
}

int pager_write_fault(uint64_t off)
{
	uint32_t i = desc_split_out(off / PAGE_SIZE);

	if (i == NIL)
		return pager_fault(off, true);	/* gone meanwhile (a read error) */
	if (!home_first(i))
		return -1;
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

	pg.ncpset = 0;
	for (uint32_t k = 0; k < pg.ndirty; k++) {
		uint32_t i = pg.dirty[k];
		struct cpage *c = &pg.cp[i];

		if ((c->flags & CP_WRITABLE) && (c->flags & CP_MAPPED) &&
		    vm_write_protect(c->pte, page_va(c->dpn)))
			c->flags |= CP_DIRTY;
		c->flags &= ~(CP_WRITABLE | CP_LISTED);
		if (!(c->flags & CP_DIRTY))
			continue;
		pg.cpset[pg.ncpset++] = i;
		out[n++] = (struct jpage){ .home = c->dpn, .pa = c->pa };
	}
	pg.ndirty = 0;
	return n;
}

void pager_checkpoint_done(bool durable)
{
	for (uint32_t k = 0; k < pg.ncpset; k++) {
		uint32_t i = pg.cpset[k];

		if (durable)
			pg.cp[i].flags = (pg.cp[i].flags | CP_JOURNALED) & ~CP_NO_WRITEBACK;
		else
			dirty_list_add(i);	/* dirty still: the next checkpoint takes it */
	}
	pg.ncpset = 0;
}
