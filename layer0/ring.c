/*
 * Rings: the slot ownership rules of abi/strata/ring.h.
 *
 * Layer 0 takes slots in order, from r->next.  A taken slot has its length
 * cleared as it is taken (ops->take has read it), so a slot with len 0 is
 * one layer 1 has not written since it came back: that is what lets
 * ring_drain() find unrung text and makes a stray doorbell harmless.
 * Cleared then, while layer 0 has just touched the page, not when the slot
 * comes back: under TCG each first touch of a page after a TLB flush is a
 * page walk, and a TX slot comes back after the next doorbell's flush.
 *
 * Every read of a doorbell must fault, or a doorbell is lost.  So a doorbell
 * page is never left mapped.  A plain load (insn.c) is completed by layer 0
 * itself, which writes the zero the page would have given.  Any other read
 * gets the page (read-only, the zero page) for its one instruction
 * (ring_doorbell_step): l1fault.c single-steps that instruction and calls
 * ring_doorbell_done() from the debug trap that follows it.  That costs a
 * second exception per doorbell, not per slot, so batches keep their price.
 * The other way, leaving the page mapped and write-protecting slot next so
 * that the next batch's first write unmaps it, costs a fault per batch too,
 * but needs a third kind of slot and never sees a receiving ring's next
 * batch, whose slots layer 1 reads and does not write.
 *
 * A doorbell on slot j takes next..j.  When j is the slot before next, the
 * one rung last, that is the whole ring or nothing: the whole ring if layer
 * 1 has used slot next since it had it (ops->used), nothing if not, so that
 * reading the same doorbell twice in a row has no effect.  A one-slot ring
 * rings nothing else.
 */
#include "ring.h"

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

/*
 * Takes slot i: hands it to ops->take and either gives it back or queues it.
 * Given back at once, its page is mapped afresh all the same, so that
 * ops->used tells whether layer 1 writes it again.
 */
static void slot_take(struct ring *r, uint32_t i)
{
	struct ring_slot *sl = &r->slot[i];
	int took = r->ops->take(r, i, sl->page);

	r->taken++;
	sl->page->len = 0;
	if (took == RING_TAKE_DONE) {
		r->ops->map(r, slot_va(r, i), sl->pa, true);
		return;
	}
	sl->owner = SLOT_QUEUED;
	r->ops->map(r, slot_va(r, i), 0, false);
}

/*
 * Slot i was layer 1's when a checkpoint was taken and lost its contents in
 * the resume, and layer 1 has not written it since: a doorbell takes it as
 * empty, without a look at it (an empty TX slot would otherwise be V-RING).
 */
static bool slot_lost(struct ring *r, uint32_t i)
{
	return r->slot[i].lost && !r->ops->used(r, i);
}

/*
 * The ring's own check of the slots in [next, last] not lost: in one call
 * for a run with none lost, the common case, else slot by slot.
 */
static int contents_check(struct ring *r, uint32_t last, bool lost, const char **why)
{
	uint32_t n = (last + r->nslots - r->next) % r->nslots + 1;

	if (r->ops->check == 0)
		return 0;
	if (!lost)
		return r->ops->check(r, r->next, n, why);
	for (uint32_t i = r->next;; i = ring_succ(r, i)) {
		if (!slot_lost(r, i) && r->ops->check(r, i, 1, why) < 0)
			return -1;
		if (i == last)
			return 0;
	}
}

/*
 * Checks that every slot in [next, last] is layer 1's and well formed;
 * *lost says whether any of them was lost in a resume (and is taken empty).
 */
static int range_check(struct ring *r, uint32_t last, bool *lost, const char **why)
{
	*lost = false;
	for (uint32_t i = r->next;; i = ring_succ(r, i)) {
		if (r->slot[i].owner != SLOT_LAYER1) {
			*why = "doorbell covers a slot layer 0 still holds";
			return -1;
		}
		if (slot_lost(r, i))
			*lost = true;
		else if (slot_check(r->slot[i].page, why) < 0)
			return -1;
		if (i == last)
			return contents_check(r, last, *lost, why);
	}
}

/* Takes next..last slot by slot, the lost ones empty. */
static void slots_take(struct ring *r, uint32_t last)
{
	for (uint32_t i = r->next;; i = ring_succ(r, i)) {
		if (!slot_lost(r, i))
			slot_take(r, i);
		r->slot[i].lost = false;
		if (i == last)
			return;
	}
}

/*
 * Takes next..last, checked and none lost, as a run: the same result as
 * slots_take() with a take that holds, for less.  Slot by slot, the round
 * trips through take and map cost more than the work they did; here
 * ops->hold_run goes over the run in one loop of its own.  The slots are
 * marked held before it, since it may wait for the device and so give some
 * of them back already (ring_release), and their lengths cleared after it,
 * since it reads them.
 */
static void run_take(struct ring *r, uint32_t last)
{
	uint32_t n = (last + r->nslots - r->next) % r->nslots + 1, i, k;

	for (i = r->next, k = 0; k < n; k++, i = ring_succ(r, i))
		r->slot[i].owner = SLOT_QUEUED;
	r->ops->hold_run(r, r->next, n);
	for (i = r->next, k = 0; k < n; k++, i = ring_succ(r, i))
		r->slot[i].page->len = 0;
	r->taken += n;
}

/* A doorbell on j read again, with nothing used since: it covers no slot. */
static bool doorbell_repeated(struct ring *r, uint32_t j)
{
	return r->doorbells > 0 && ring_succ(r, j) == r->next && !r->ops->used(r, r->next);
}

int ring_doorbell(struct ring *r, uint32_t j, const char **why)
{
	bool lost;

	if (!doorbell_repeated(r, j)) {
		if (range_check(r, j, &lost, why) < 0)
			return -1;
		if (r->ops->hold_run != 0 && !lost)
			run_take(r, j);
		else
			slots_take(r, j);
		r->next = ring_succ(r, j);
		r->doorbells++;
	}
	if (r->ops->rung != 0)
		r->ops->rung(r);
	return 0;
}

void ring_doorbell_step(struct ring *r, uint32_t j)
{
	r->ops->map(r, STRATA_DOORBELL_ADDR(r->base, j), r->doorbell_pa, false);
	r->rung = (int32_t)j;
}

void ring_doorbell_done(struct ring *r)
{
	if (r->rung < 0)
		return;
	r->ops->map(r, STRATA_DOORBELL_ADDR(r->base, (uint32_t)r->rung), 0, false);
	r->rung = -1;
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
	sl->owner = SLOT_LAYER1;
	r->ops->map(r, slot_va(r, i), sl->pa, true);
}

void ring_release_many(struct ring *r, const uint32_t *slots, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		ring_release(r, slots[k]);
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

/*
 * A resumed checkpoint: layer 1 goes on from slot next with its own index
 * there, while every slot's contents are gone (console and TX slots empty
 * and layer 1's, RX slots held, as ring_init and ring_hold_all left them).
 */
void ring_resume(struct ring *r, uint32_t next, uint64_t doorbells)
{
	r->next = next;
	r->doorbells = doorbells;
	for (uint32_t i = 0; i < r->nslots; i++)
		r->slot[i].lost = r->slot[i].owner == SLOT_LAYER1;
}
