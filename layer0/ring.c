/*
 * Rings: the slot ownership rules of abi/strata/ring.h.
 *
 * Layer 0 takes slots in order, from r->next.  A taken slot has its length
 * cleared before it goes back to layer 1, so a slot with len 0 is one layer 1
 * has not written since: that is what lets ring_drain() find unrung text and
 * makes a stray doorbell harmless.
 *
 * The doorbell page of the last slot rung is mapped read-only so the faulting
 * read can complete when it is restarted; it is unmapped at the next doorbell.
 * Two doorbells in a row on one slot would need a batch of a whole ring, which
 * the protocol cannot express, so one mapped doorbell at a time is enough.
 */
#include "ring.h"

static uint32_t ring_succ(const struct ring *r, uint32_t i)
{
	return i + 1 == r->nslots ? 0 : i + 1;
}

static uint64_t slot_va(const struct ring *r, uint32_t i)
{
	return STRATA_SLOT_ADDR(r->base, i);
}

void ring_init(struct ring *r, const char *name, uint64_t base, uint32_t nslots,
    uint64_t doorbell_pa, const struct ring_ops *ops, void *ctx)
{
	r->name = name;
	r->base = base;
	r->nslots = nslots;
	r->next = 0;
	r->rung = -1;
	r->doorbell_pa = doorbell_pa;
	r->ops = ops;
	r->ctx = ctx;
	r->doorbells = r->taken = 0;
	for (uint32_t i = 0; i < nslots; i++) {
		r->slot[i].owner = SLOT_LAYER1;
		r->slot[i].page->len = 0;
		ops->map(r, slot_va(r, i), r->slot[i].pa, true);
	}
}

enum ring_part ring_locate(const struct ring *r, uint64_t va, uint32_t *slot)
{
	uint64_t off = va - r->base;
	uint64_t i = off / STRATA_SLOT_STRIDE;

	if (va < r->base || i >= r->nslots)
		return RING_BEYOND;
	*slot = (uint32_t)i;
	return off % STRATA_SLOT_STRIDE < STRATA_SLOT_DOORBELL_OFFSET ? RING_DATA : RING_DOORBELL;
}

/* Checks a slot header layer 1 wrote.  0, or -1 with *why set. */
static int slot_check(const struct strata_slot *s, const char **why)
{
	if (s->len > STRATA_SLOT_DATA_MAX) {
		*why = "slot length is larger than STRATA_SLOT_DATA_MAX";
		return -1;
	}
	if (s->flags != 0 || s->reserved != 0) {
		*why = "slot flags or reserved field is not zero";
		return -1;
	}
	return 0;
}

/* Takes slot i: hands it to ops->take and either gives it back or queues it. */
static void slot_take(struct ring *r, uint32_t i)
{
	struct ring_slot *sl = &r->slot[i];

	r->taken++;
	if (r->ops->take(r, i, sl->page) == RING_TAKE_DONE) {
		sl->page->len = 0;
		return;
	}
	sl->owner = SLOT_QUEUED;
	r->ops->map(r, slot_va(r, i), 0, false);
}

/* Checks that every slot in [next, last] is layer 1's and well formed. */
static int range_check(const struct ring *r, uint32_t last, const char **why)
{
	for (uint32_t i = r->next;; i = ring_succ(r, i)) {
		if (r->slot[i].owner != SLOT_LAYER1) {
			*why = "doorbell covers a slot layer 0 still holds";
			return -1;
		}
		if (slot_check(r->slot[i].page, why) < 0)
			return -1;
		if (i == last)
			return 0;
	}
}

int ring_doorbell(struct ring *r, uint32_t j, const char **why)
{
	if (range_check(r, j, why) < 0)
		return -1;
	for (uint32_t i = r->next;; i = ring_succ(r, i)) {
		slot_take(r, i);
		if (i == j)
			break;
	}
	r->next = ring_succ(r, j);
	r->doorbells++;
	if (r->rung >= 0)
		r->ops->map(r, STRATA_DOORBELL_ADDR(r->base, (uint32_t)r->rung), 0, false);
	r->ops->map(r, STRATA_DOORBELL_ADDR(r->base, j), r->doorbell_pa, false);
	r->rung = (int32_t)j;
	return 0;
}

void ring_wait_slot(struct ring *r, uint32_t i)
{
	while (r->slot[i].owner == SLOT_QUEUED)
		r->ops->wait(r);
}

void ring_release(struct ring *r, uint32_t i)
{
	struct ring_slot *sl = &r->slot[i];

	if (sl->owner != SLOT_QUEUED)
		return;
	sl->page->len = 0;
	sl->owner = SLOT_LAYER1;
	r->ops->map(r, slot_va(r, i), sl->pa, true);
}

void ring_hold_all(struct ring *r)
{
	for (uint32_t i = 0; i < r->nslots; i++) {
		r->slot[i].owner = SLOT_QUEUED;
		r->ops->map(r, slot_va(r, i), 0, false);
	}
}

void ring_deliver(struct ring *r, uint32_t i, uint32_t len)
{
	struct ring_slot *sl = &r->slot[i];

	sl->page->len = len;
	sl->page->flags = 0;	/* the device's header overlapped these */
	sl->page->reserved = 0;
	sl->owner = SLOT_LAYER1;
	r->ops->map(r, slot_va(r, i), sl->pa, true);
}

int ring_drain(struct ring *r, const char **why)
{
	uint32_t i = r->next;

	while (r->slot[i].owner == SLOT_LAYER1 && r->slot[i].page->len != 0) {
		if (slot_check(r->slot[i].page, why) < 0)
			return -1;
		slot_take(r, i);
		i = ring_succ(r, i);
		r->next = i;
	}
	return 0;
}
