/*
 * Sending on a ring (abi/strata/ring.h, doc/abi.md "Rings").
 *
 * Layer 1 fills slots in order and reads the doorbell of the last one
 * filled; layer 0 takes everything from the first slot it has not taken up
 * to there.  The only thing layer 1 assumes about a slot after its doorbell
 * is that touching it again is safe: if layer 0 still holds it, the touch
 * blocks until it is given back.
 *
 * A batch is rung early once it holds nslots - 1 slots, though layer 0 takes
 * a whole ring too: strata_tx_frame() hands out the buffer of the slot after
 * the batch before it is committed, and that slot must not be one of the
 * batch's.
 */
#include "runtime.h"

static struct strata_slot *slot_at(const struct txring *r, uint32_t i)
{
	return (struct strata_slot *)(uintptr_t)STRATA_SLOT_ADDR(r->base, i);
}

static uint32_t succ(const struct txring *r, uint32_t i)
{
	return i + 1 == r->nslots ? 0 : i + 1;
}

static uint32_t pred(const struct txring *r, uint32_t i)
{
	return i == 0 ? r->nslots - 1 : i - 1;
}

/* The doorbell: a read that faults into layer 0; its value means nothing. */
static void doorbell(const struct txring *r, uint32_t i)
{
	uint64_t addr = STRATA_DOORBELL_ADDR(r->base, i), v;

	/* "memory": every slot store must be done before layer 0 looks. */
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	(void)v;
}

void txring_init(struct txring *r, uint64_t base, uint32_t nslots)
{
	r->base = base;
	r->nslots = nslots;
	r->cur = 0;
	r->written = 0;
	r->open = false;
}

struct strata_slot *txring_slot(struct txring *r)
{
	struct strata_slot *s = slot_at(r, r->cur);

	if (r->open)
		return s;
	if (r->written + 1 >= r->nslots)
		txring_ring(r);
	/* Blocks here, inside layer 0's fault, if the slot is still queued. */
	s->len = 0;
	s->flags = 0;
	s->reserved = 0;
	r->open = true;
	r->written++;
	return s;
}

void txring_close(struct txring *r)
{
	if (!r->open)
		return;
	r->open = false;
	r->cur = succ(r, r->cur);
}

void txring_ring(struct txring *r)
{
	if (r->written == 0)
		return;
	/* Layer 0 takes the open slot too, so it can no longer be appended to. */
	txring_close(r);
	doorbell(r, pred(r, r->cur));
	r->written = 0;
}
