/*
 * Dirty epochs and write protection, for the checkpoints to come.
 *
 * A page's dirty bit is moved from its PTE into its descriptor (harvested)
 * together with the epoch it was seen in; pager_harvest() ends an epoch, and
 * pager_dirty_since() gives the pages dirtied since one.  A page being
 * written by a checkpoint is write-protected so that layer 1's next write
 * faults first.
 */
#include "defs.h"
#include "pager_impl.h"

/* Moves the PTE's dirty bit into the descriptor. */
void harvest(struct cpage *c)
{
	pte_t *e = pte_of(c);

	if (e == 0 || !vm_take_dirty(e, page_va(c->dpn)))
		return;
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

void pager_protect(uint64_t off, bool protect)
{
	/* A 2 MiB page is never protected: only protecting splits it. */
	uint32_t i = protect ? desc_split_out(off / PAGE_SIZE) : desc_holding(off / PAGE_SIZE);
	pte_t *e;

	if (i == NIL || (pg.cp[i].flags & CP_HUGE))
		return;
	harvest(&pg.cp[i]);
	if (protect)
		pg.cp[i].flags |= CP_WPROT;
	else
		pg.cp[i].flags &= ~CP_WPROT;
	if ((e = pte_of(&pg.cp[i])) != 0)
		vm_set_writable(e, page_va(pg.cp[i].dpn), !protect && (pg.perm(off) & PTE_W));
}

bool pager_protected(uint64_t off)
{
	uint32_t i = desc_holding(off / PAGE_SIZE);

	return i != NIL && (pg.cp[i].flags & CP_WPROT);
}
