/*
 * The ring state machine (abi/strata/ring.h): which slots layer 1 owns, which
 * layer 0 holds, what a doorbell takes.  It knows nothing of page tables or
 * devices; those come in through struct ring_ops, so the host unit tests can
 * drive it with fakes.
 */
#ifndef RING_H
#define RING_H

#include <stdbool.h>
#include <stdint.h>

#include "strata/ring.h"

enum { RING_TAKE_DONE, RING_TAKE_HOLD };

enum slot_owner {
	SLOT_LAYER1,	/* data page present and writable */
	SLOT_QUEUED,	/* taken by layer 0, data page not present */
};

struct ring_slot {
	uint64_t pa;			/* the data page */
	struct strata_slot *page;	/* layer 0's view of it */
	uint8_t owner;			/* enum slot_owner */
	bool lost;			/* emptied by a resume, not written since (ring.c) */
};

struct ring;

struct ring_ops {
	/* Takes a slot's contents: RING_TAKE_DONE, RING_TAKE_HOLD (queued until ring_release()). */
	int (*take)(struct ring *r, uint32_t i, const struct strata_slot *s);
	/*
	 * Optional, for a ring whose take always holds: takes the n slots
	 * from first on (wrapping), checked, none lost in a resume, and
	 * already marked SLOT_QUEUED: for each, what map(not present) and
	 * take would do, in one loop.  It may give slots back (ring_release),
	 * those of the run too once their page is unmapped.
	 */
	void (*hold_run)(struct ring *r, uint32_t first, uint32_t n);
	/*
	 * Optional: checks the contents of the n slots from first on
	 * (wrapping) that a doorbell covers, before any is taken: one call
	 * for the run, not one per slot.  0, or -1 with *why set.
	 */
	int (*check)(const struct ring *r, uint32_t first, uint32_t n, const char **why);
	/* Makes va present (writable or read-only) at pa, or not present when pa == 0. */
	void (*map)(struct ring *r, uint64_t va, uint64_t pa, bool writable);
	/* Waits for progress on queued slots (device completions); may return without any. */
	void (*wait)(struct ring *r);
	/*
	 * Whether layer 1 has used slot i since map() last gave it its data
	 * page: written it, on a ring layer 1 sends on; read or written it, on
	 * a ring it receives on (the PTE's dirty or accessed bit).
	 */
	bool (*used)(struct ring *r, uint32_t i);
	/*
	 * Optional: a doorbell was read and its slots taken (none, if it was
	 * a repeat); called before layer 1 runs again, so that one device
	 * notification carries the whole batch.
	 */
	void (*rung)(struct ring *r);
};

struct ring {
	const char *name;
	uint64_t base;			/* layer-1 address of slot 0 */
	uint32_t nslots;
	uint32_t next;			/* first slot layer 0 has not taken */
	int32_t rung;			/* the doorbell mapped while its read completes, -1 none */
	uint64_t doorbell_pa;		/* the read-only zero page doorbells show */
	const struct ring_ops *ops;
	void *ctx;
	uint64_t doorbells, taken;	/* statistics: doorbells that took slots, slots taken */
	struct ring_slot slot[STRATA_RING_SLOTS_MAX];
};

enum ring_part { RING_BEYOND, RING_DATA, RING_DOORBELL };

/* The slot after i, wrapping. */
static inline uint32_t ring_succ(const struct ring *r, uint32_t i)
{
	return i + 1 == r->nslots ? 0 : i + 1;
}

/* Sets up r over nslots pages already in r->slot[] (pa, page) and maps them for layer 1. */
void ring_init(struct ring *r, const char *name, uint64_t base, uint32_t nslots,
    uint64_t doorbell_pa, const struct ring_ops *ops, void *ctx);
/* Which part of which slot va falls in (va must be inside the ring's region). */
enum ring_part ring_locate(const struct ring *r, uint64_t va, uint32_t *slot);
/*
 * Layer 1 read the doorbell of slot j: take every slot from next up to j
 * and call ops->rung.  0, or -1 with *why set.  The read itself is the
 * caller's to complete: by hand, or by ring_doorbell_step.
 */
int ring_doorbell(struct ring *r, uint32_t j, const char **why);
/* Maps slot j's doorbell page so that the read of it can complete, one instruction. */
void ring_doorbell_step(struct ring *r, uint32_t j);
/* The read ring_doorbell_step() let through has completed: unmap its doorbell again. */
void ring_doorbell_done(struct ring *r);
/* Layer 1 touched the data page of queued slot i: wait until it is given back. */
void ring_wait_slot(struct ring *r, uint32_t i);
/* Layer 0 is done with queued slot i: give it back to layer 1 (its len was cleared when taken). */
void ring_release(struct ring *r, uint32_t i);
/* ring_release of slots[0..n), in one loop (a poll's worth of sent frames). */
void ring_release_many(struct ring *r, const uint32_t *slots, uint32_t n);
/*
 * Receiving rings use the same machine the other way round: every slot starts
 * held (posted to the device), ring_deliver() hands a filled one to layer 1,
 * and a doorbell takes consumed slots back to post them again.
 */
void ring_hold_all(struct ring *r);
void ring_deliver(struct ring *r, uint32_t i, uint32_t len);
/* Takes every slot written but not yet rung (at exit).  0, or -1 with *why set. */
int ring_drain(struct ring *r, const char **why);
/* After a resume: next and the doorbell count as a checkpoint saved them (next < nslots). */
void ring_resume(struct ring *r, uint32_t next, uint64_t doorbells);

#endif
