/* The ring state machine: slot ownership, doorbells, batching, blocking, give-back. */
#include <check.h>

#include "fake.h"
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define NSLOTS 4
#define DOORBELL_PA 0xd000

static struct ring r;
static uint8_t pages[NSLOTS][4096] __attribute__((aligned(4096)));
static int take_hold;			/* the fake device holds what it takes */
static uint32_t took[64];		/* the order slots were taken in */
static int ntook;
static int waits;

/*
 * The fake page table: what layer 0 mapped at each address, and the
 * accessed and dirty bits the CPU sets when layer 1 touches a present page
 * (a new mapping starts with both clear).
 */
static struct fake_pte {
	uint64_t va, pa;
	bool accessed, dirty;
} mapped[64];
static int nmapped;

static struct fake_pte *pte(uint64_t va)
{
	for (int i = 0; i < nmapped; i++)
		if (mapped[i].va == va)
			return &mapped[i];
	mapped[nmapped].va = va;
	return &mapped[nmapped++];
}

static int fake_take(struct ring *rr, uint32_t i, const struct strata_slot *s)
{
	(void)rr;
	(void)s;
	took[ntook++] = i;
	return take_hold ? RING_TAKE_HOLD : RING_TAKE_DONE;
}

static void fake_map(struct ring *rr, uint64_t va, uint64_t pa, bool writable)
{
	struct fake_pte *e = pte(va);

	(void)rr;
	(void)writable;
	*e = (struct fake_pte){ .va = va, .pa = pa };
}

/* The fake device finishes the oldest held slot on each wait. */
static void fake_wait(struct ring *rr)
{
	waits++;
	for (uint32_t i = 0; i < rr->nslots; i++)
		if (rr->slot[i].owner == SLOT_QUEUED) {
			ring_release(rr, i);
			return;
		}
}

static int receiving;			/* the ring is an RX ring (rx_setup) */

/* What the fake CPU's accessed and dirty bits say of slot i's data page. */
static bool fake_used(struct ring *rr, uint32_t i)
{
	struct fake_pte *e = pte(STRATA_SLOT_ADDR(rr->base, i));

	return e->dirty || (receiving && e->accessed);
}

static const struct ring_ops ops = {
	.take = fake_take, .map = fake_map, .wait = fake_wait, .used = fake_used,
};

static uint64_t data_va(uint32_t i) { return STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, i); }
static uint64_t bell_va(uint32_t i) { return STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, i); }

/* A ring of n slots (at most NSLOTS), all layer 1's. */
static void ring_setup(uint32_t n)
{
	memset(&r, 0, sizeof(r));
	memset(pages, 0, sizeof(pages));
	memset(mapped, 0, sizeof(mapped));
	ntook = nmapped = waits = take_hold = receiving = 0;
	for (uint32_t i = 0; i < n; i++) {
		r.slot[i].pa = 0x10000 + (uint64_t)i * 0x1000;
		r.slot[i].page = (struct strata_slot *)pages[i];
	}
	ring_init(&r, "test", STRATA_CONSOLE_BASE, n, DOORBELL_PA, &ops, 0);
}

static void setup(void)
{
	ring_setup(NSLOTS);
}

/* Layer 1 writes text into slot i, whose data page must be present. */
static void write_slot(uint32_t i, const char *text)
{
	struct fake_pte *e = pte(data_va(i));

	ck_assert_uint_eq(e->pa, r.slot[i].pa);
	e->accessed = e->dirty = true;
	r.slot[i].page->len = (uint32_t)strlen(text);
	memcpy(r.slot[i].page->data, text, strlen(text));
}

/* Layer 1 reads slot i (a frame delivered to it); its length. */
static uint32_t read_slot(uint32_t i)
{
	struct fake_pte *e = pte(data_va(i));

	ck_assert_uint_eq(e->pa, r.slot[i].pa);
	e->accessed = true;
	return r.slot[i].page->len;
}

/*
 * Layer 1 reads slot j's doorbell, as the CPU runs it: a page fault only if
 * the page is not present, handled by ring_doorbell; then the read completes,
 * here single-stepped (ring_doorbell_step), and the debug trap after it calls
 * ring_doorbell_done.  0, or -1 for a violation.
 */
static const char *why;		/* ring_doorbell's reason for a -1 */

static int read_doorbell(uint32_t j)
{
	why = 0;
	if (pte(bell_va(j))->pa != 0)
		return 0;		/* no fault: layer 0 never sees it */
	if (ring_doorbell(&r, j, &why) < 0)
		return -1;
	ck_assert_uint_eq(pte(bell_va(j))->pa, 0);	/* taken, the page still not there */
	ring_doorbell_step(&r, j);
	ck_assert_uint_eq(pte(bell_va(j))->pa, DOORBELL_PA);	/* the read can complete */
	ring_doorbell_done(&r);
	return 0;
}

START_TEST(init_maps_every_data_page_and_no_doorbell)
{
	for (uint32_t i = 0; i < NSLOTS; i++) {
		ck_assert_uint_eq(pte(data_va(i))->pa, r.slot[i].pa);
		ck_assert_uint_eq(pte(bell_va(i))->pa, 0);
	}
}
END_TEST

START_TEST(locate_tells_data_doorbell_and_beyond)
{
	uint32_t s = 99;

	ck_assert_int_eq(ring_locate(&r, data_va(2) + 100, &s), RING_DATA);
	ck_assert_uint_eq(s, 2);
	ck_assert_int_eq(ring_locate(&r, bell_va(3) + 8, &s), RING_DOORBELL);
	ck_assert_uint_eq(s, 3);
	ck_assert_int_eq(ring_locate(&r, data_va(NSLOTS), &s), RING_BEYOND);
	ck_assert_int_eq(ring_locate(&r, STRATA_CONSOLE_BASE - 1, &s), RING_BEYOND);
}
END_TEST

START_TEST(one_doorbell_takes_a_whole_batch_in_order)
{
	write_slot(0, "a");
	write_slot(1, "b");
	write_slot(2, "c");
	ck_assert_int_eq(read_doorbell(2), 0);
	ck_assert_int_eq(ntook, 3);
	ck_assert_uint_eq(took[0], 0);
	ck_assert_uint_eq(took[2], 2);
	ck_assert_uint_eq(r.next, 3);
	ck_assert_uint_eq(r.doorbells, 1);
}
END_TEST

START_TEST(doorbell_is_mapped_only_while_its_read_completes)
{
	const char *w;

	write_slot(0, "a");
	ck_assert_int_eq(ring_doorbell(&r, 0, &w), 0);
	ck_assert_uint_eq(pte(bell_va(0))->pa, 0);	/* a read completed by hand needs no page */
	ring_doorbell_step(&r, 0);
	ck_assert_uint_eq(pte(bell_va(0))->pa, DOORBELL_PA);
	ring_doorbell_done(&r);
	ck_assert_uint_eq(pte(bell_va(0))->pa, 0);
	ck_assert_int_eq(r.rung, -1);
}
END_TEST

START_TEST(taken_slot_comes_back_with_len_zero)
{
	write_slot(0, "hello");
	read_doorbell(0);
	ck_assert_uint_eq(r.slot[0].page->len, 0);
	ck_assert_int_eq(r.slot[0].owner, SLOT_LAYER1);
}
END_TEST

START_TEST(doorbells_wrap_around_the_ring)
{
	for (uint32_t k = 0; k < 3 * NSLOTS; k++) {
		write_slot(k % NSLOTS, "x");
		ck_assert_int_eq(read_doorbell(k % NSLOTS), 0);
	}
	ck_assert_int_eq(ntook, 3 * NSLOTS);
	ck_assert_uint_eq(r.next, 0);
}
END_TEST

START_TEST(oversized_slot_is_refused_and_nothing_taken)
{
	write_slot(0, "ok");
	r.slot[1].page->len = STRATA_SLOT_DATA_MAX + 1;
	ck_assert_int_eq(read_doorbell(1), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ntook, 0);
	ck_assert_uint_eq(r.next, 0);
}
END_TEST

START_TEST(nonzero_flags_are_refused)
{
	write_slot(0, "ok");
	r.slot[0].page->flags = 1;
	ck_assert_int_eq(read_doorbell(0), -1);
}
END_TEST

START_TEST(held_slots_are_unmapped_and_block_until_released)
{
	take_hold = 1;
	write_slot(0, "a");
	write_slot(1, "b");
	read_doorbell(1);
	ck_assert_int_eq(r.slot[0].owner, SLOT_QUEUED);
	ck_assert_uint_eq(pte(data_va(0))->pa, 0);
	ck_assert_uint_eq(pte(data_va(1))->pa, 0);
	ring_wait_slot(&r, 1);	/* the fake releases slot 0 first, then 1 */
	ck_assert_int_eq(waits, 2);
	ck_assert_int_eq(r.slot[1].owner, SLOT_LAYER1);
	ck_assert_uint_eq(pte(data_va(1))->pa, r.slot[1].pa);
}
END_TEST

START_TEST(doorbell_over_a_held_slot_is_a_violation)
{
	take_hold = 1;
	write_slot(0, "a");
	read_doorbell(0);
	/* Slots 1..3 then 0 again: slot 0 is still held by layer 0. */
	for (uint32_t i = 1; i < NSLOTS; i++)
		write_slot(i, "b");
	ck_assert_int_eq(read_doorbell(0), -1);
	ck_assert_ptr_nonnull(why);
}
END_TEST

/* Receiving: every slot starts held; frames are delivered; a doorbell gives them back. */
static void rx_setup(void)
{
	take_hold = 1;
	receiving = 1;
	ring_hold_all(&r);
}

START_TEST(rx_slots_start_held_and_unmapped)
{
	rx_setup();
	for (uint32_t i = 0; i < NSLOTS; i++) {
		ck_assert_int_eq(r.slot[i].owner, SLOT_QUEUED);
		ck_assert_uint_eq(pte(data_va(i))->pa, 0);
	}
}
END_TEST

START_TEST(rx_delivery_maps_the_slot_with_its_length_and_clean_header)
{
	rx_setup();
	r.slot[0].page->flags = 0xdead;		/* the device's header overlapped these */
	r.slot[0].page->reserved = 0xbeef;
	ring_deliver(&r, 0, 60);
	ck_assert_int_eq(r.slot[0].owner, SLOT_LAYER1);
	ck_assert_uint_eq(pte(data_va(0))->pa, r.slot[0].pa);
	ck_assert_uint_eq(r.slot[0].page->len, 60);
	ck_assert_uint_eq(r.slot[0].page->flags, 0);
	ck_assert_uint_eq(r.slot[0].page->reserved, 0);
}
END_TEST

START_TEST(rx_doorbell_gives_delivered_slots_back_in_one_batch)
{
	rx_setup();
	ring_deliver(&r, 0, 60);
	ring_deliver(&r, 1, 1514);
	ring_deliver(&r, 2, 14);
	ck_assert_int_eq(read_doorbell(1), 0);
	ck_assert_int_eq(ntook, 2);
	ck_assert_uint_eq(took[0], 0);
	ck_assert_uint_eq(took[1], 1);
	ck_assert_int_eq(r.slot[0].owner, SLOT_QUEUED);
	ck_assert_uint_eq(pte(data_va(1))->pa, 0);
	ck_assert_int_eq(r.slot[2].owner, SLOT_LAYER1);	/* not given back yet */
}
END_TEST

START_TEST(rx_doorbell_over_an_undelivered_slot_is_a_violation)
{
	rx_setup();
	ring_deliver(&r, 0, 60);
	ck_assert_int_eq(read_doorbell(1), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ntook, 0);
	ck_assert_int_eq(r.slot[0].owner, SLOT_LAYER1);
}
END_TEST

START_TEST(drain_takes_written_but_unrung_slots)
{
	write_slot(0, "a");
	read_doorbell(0);
	write_slot(1, "b");
	write_slot(2, "c");
	ck_assert_int_eq(ring_drain(&r, &why), 0);
	ck_assert_int_eq(ntook, 3);
	ck_assert_uint_eq(took[2], 2);
	ck_assert_uint_eq(r.next, 3);
}
END_TEST

START_TEST(drain_of_a_full_ring_stops_after_one_lap)
{
	for (uint32_t i = 0; i < NSLOTS; i++)
		write_slot(i, "z");
	ck_assert_int_eq(ring_drain(&r, &why), 0);
	ck_assert_int_eq(ntook, NSLOTS);
}
END_TEST

/*
 * A batch of the whole ring ends on the slot rung last.  Layer 1 wrote the
 * slot after it since it came back, so the doorbell takes every slot.
 */
START_TEST(whole_ring_batch_on_the_slot_rung_last_takes_every_slot)
{
	write_slot(0, "a");
	ck_assert_int_eq(read_doorbell(0), 0);
	for (uint32_t i = 1; i <= NSLOTS; i++)
		write_slot(i % NSLOTS, "b");
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(ntook, 1 + NSLOTS);
	for (int k = 1; k <= (int)NSLOTS; k++)
		ck_assert_uint_eq(took[k], k % NSLOTS);
	ck_assert_uint_eq(r.next, 1);
	ck_assert_uint_eq(r.doorbells, 2);
}
END_TEST

START_TEST(whole_ring_batches_back_to_back)
{
	for (int lap = 0; lap < 3; lap++) {
		for (uint32_t i = 0; i < NSLOTS; i++)
			write_slot(i, "c");
		ck_assert_int_eq(read_doorbell(NSLOTS - 1), 0);
	}
	ck_assert_int_eq(ntook, 3 * NSLOTS);
	ck_assert_uint_eq(r.next, 0);
}
END_TEST

/* Nothing written since: the second read of one doorbell takes nothing. */
START_TEST(ringing_the_slot_rung_last_again_takes_nothing)
{
	write_slot(0, "a");
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(ntook, 1);
	ck_assert_uint_eq(r.next, 1);
	ck_assert_uint_eq(r.doorbells, 1);
}
END_TEST

/*
 * A console slot is given back inside the doorbell, still mapped: its dirty
 * bit must start clear again, or a repeated doorbell would print it twice.
 */
START_TEST(repeat_after_a_whole_ring_takes_nothing)
{
	for (uint32_t i = 0; i < NSLOTS; i++)
		write_slot(i, "d");
	ck_assert_int_eq(read_doorbell(NSLOTS - 1), 0);
	ck_assert_int_eq(read_doorbell(NSLOTS - 1), 0);
	ck_assert_int_eq(ntook, NSLOTS);
}
END_TEST

/* A whole ring whose first slot layer 0 still holds is refused, not dropped. */
START_TEST(whole_ring_batch_over_a_held_slot_is_a_violation)
{
	take_hold = 1;
	write_slot(0, "a");
	ck_assert_int_eq(read_doorbell(0), 0);
	ring_wait_slot(&r, 0);
	write_slot(1, "b");
	ck_assert_int_eq(read_doorbell(1), 0);	/* slot 1 now held */
	for (uint32_t i = 2; i <= NSLOTS; i++)
		write_slot(i % NSLOTS, "c");
	ck_assert_int_eq(read_doorbell(1), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ntook, 2);
}
END_TEST

/* RX: every slot delivered and read, the doorbell of the one given back last. */
START_TEST(rx_whole_ring_given_back_on_the_slot_given_back_last)
{
	rx_setup();
	ring_deliver(&r, 0, 60);
	read_slot(0);
	ck_assert_int_eq(read_doorbell(0), 0);
	for (uint32_t i = 1; i <= NSLOTS; i++) {
		ring_deliver(&r, i % NSLOTS, 60);
		read_slot(i % NSLOTS);
	}
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(ntook, 1 + NSLOTS);
	for (uint32_t i = 0; i < NSLOTS; i++)
		ck_assert_int_eq(r.slot[i].owner, SLOT_QUEUED);
}
END_TEST

/* RX: a repeated doorbell gives nothing back while layer 1 has not read on. */
START_TEST(rx_ringing_again_before_reading_gives_nothing_back)
{
	rx_setup();
	ring_deliver(&r, 0, 60);
	read_slot(0);
	ck_assert_int_eq(read_doorbell(0), 0);
	for (uint32_t i = 1; i <= NSLOTS; i++)
		ring_deliver(&r, i % NSLOTS, 60);
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(ntook, 1);
	ck_assert_int_eq(r.slot[1].owner, SLOT_LAYER1);
}
END_TEST

/* One slot: every doorbell is on the slot rung last, and each takes it. */
START_TEST(one_slot_ring_takes_its_slot_at_every_doorbell)
{
	ring_setup(1);
	take_hold = 1;
	for (int k = 0; k < 5; k++) {
		ring_wait_slot(&r, 0);
		write_slot(0, "x");
		ck_assert_int_eq(read_doorbell(0), 0);
		ck_assert_int_eq(read_doorbell(0), 0);	/* again: nothing new */
	}
	ck_assert_int_eq(ntook, 5);
}
END_TEST

START_TEST(one_slot_rx_ring_is_given_back_at_every_doorbell)
{
	ring_setup(1);
	rx_setup();
	for (int k = 0; k < 5; k++) {
		ring_deliver(&r, 0, 60);
		ck_assert_uint_eq(read_slot(0), 60);
		ck_assert_int_eq(read_doorbell(0), 0);
		ck_assert_int_eq(r.slot[0].owner, SLOT_QUEUED);
	}
	ck_assert_int_eq(ntook, 5);
}
END_TEST

/* A ring with a content check, as the TX ring checks frame lengths: it refuses len 0. */
static int refuse_empty(const struct ring *rr, uint32_t first, uint32_t n, const char **w)
{
	for (uint32_t k = 0, i = first; k < n; k++, i = ring_succ(rr, i))
		if (rr->slot[i].page->len == 0) {
			*w = "empty";
			return -1;
		}
	return 0;
}

static const struct ring_ops checked_ops = {
	.take = fake_take, .check = refuse_empty, .map = fake_map, .wait = fake_wait,
	.used = fake_used,
};

/* The same check, counting its calls and the slots each covered. */
static int checks;
static uint32_t checked_first[8], checked_n[8];

static int count_checks(const struct ring *rr, uint32_t first, uint32_t n, const char **w)
{
	checked_first[checks] = first;
	checked_n[checks++] = n;
	return refuse_empty(rr, first, n, w);
}

static const struct ring_ops counted_ops = {
	.take = fake_take, .check = count_checks, .map = fake_map, .wait = fake_wait,
	.used = fake_used,
};

START_TEST(check_refuses_a_batch_before_any_slot_is_taken)
{
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &checked_ops, 0);
	write_slot(0, "a");
	write_slot(1, "");
	ck_assert_int_eq(read_doorbell(1), -1);
	ck_assert_str_eq(why, "empty");
	ck_assert_int_eq(ntook, 0);
}
END_TEST

/*
 * A resume: the ring is set up afresh (every slot empty and layer 1's) and
 * takes up at slot 1, where the checkpoint left it.  Layer 1 had written
 * slots 1 and 2 before the checkpoint and writes slot 3 after it; its
 * doorbell on 3 must take 3 alone, the lost 1 and 2 as empty, unchecked.
 */
START_TEST(after_a_resume_slots_lost_with_it_are_taken_empty)
{
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &checked_ops, 0);
	ring_resume(&r, 1, 3);
	write_slot(3, "c");
	ck_assert_int_eq(read_doorbell(3), 0);
	ck_assert_int_eq(ntook, 1);
	ck_assert_uint_eq(took[0], 3);
	ck_assert_uint_eq(r.next, 0);
	write_slot(0, "d");		/* lost, but written since: an ordinary slot */
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(ntook, 2);
	ck_assert_uint_eq(took[1], 0);
}
END_TEST

/* A batch's contents are checked in one call for the run, wrapping, not slot by slot. */
START_TEST(check_covers_a_whole_run_in_one_call)
{
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &counted_ops, 0);
	checks = 0;
	r.next = 2;
	write_slot(2, "a");
	write_slot(3, "b");
	write_slot(0, "c");
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(checks, 1);
	ck_assert_uint_eq(checked_first[0], 2);
	ck_assert_uint_eq(checked_n[0], 3);
}
END_TEST

/* With a slot lost in a resume among them, each slot not lost is checked alone. */
START_TEST(check_skips_a_lost_slot_and_covers_the_others_one_by_one)
{
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &counted_ops, 0);
	ring_resume(&r, 1, 3);
	checks = 0;
	write_slot(1, "a");
	write_slot(3, "c");		/* slot 2 lost and not written: taken empty */
	ck_assert_int_eq(read_doorbell(3), 0);
	ck_assert_int_eq(checks, 2);
	ck_assert_uint_eq(checked_first[0], 1);
	ck_assert_uint_eq(checked_n[0], 1);
	ck_assert_uint_eq(checked_first[1], 3);
	ck_assert_uint_eq(checked_n[1], 1);
	ck_assert_int_eq(ntook, 2);		/* the lost one carried nothing to take */
	ck_assert_uint_eq(r.next, 0);
}
END_TEST

/* Without the resume's mark the same doorbell is V-RING: the test above can fail. */
START_TEST(without_a_resume_an_empty_slot_is_checked)
{
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &checked_ops, 0);
	r.next = 1;
	r.doorbells = 3;
	write_slot(3, "c");
	ck_assert_int_eq(read_doorbell(3), -1);
	ck_assert_str_eq(why, "empty");
}
END_TEST

/* The slots a repeated doorbell would span came back empty: none is checked. */
START_TEST(repeated_doorbell_checks_no_slot)
{
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &checked_ops, 0);
	write_slot(0, "a");
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(ntook, 1);
}
END_TEST

/* A ring whose user hears of each doorbell, as the NIC rings notify the device. */
static int rungs, took_at_rung;
static bool bell_mapped_at_rung;

static void count_rung(struct ring *rr)
{
	rungs++;
	took_at_rung = ntook;
	for (uint32_t i = 0; i < rr->nslots; i++)
		bell_mapped_at_rung |= pte(bell_va(i))->pa != 0;
}

static const struct ring_ops rung_ops = {
	.take = fake_take, .check = refuse_empty, .map = fake_map, .wait = fake_wait,
	.used = fake_used, .rung = count_rung,
};

START_TEST(rung_hook_runs_once_per_doorbell_after_its_slots_are_taken)
{
	rungs = 0;
	bell_mapped_at_rung = false;
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &rung_ops, 0);
	write_slot(0, "a");
	write_slot(1, "b");
	ck_assert_int_eq(read_doorbell(1), 0);
	ck_assert_int_eq(rungs, 1);
	ck_assert_int_eq(took_at_rung, 2);
	ck_assert(!bell_mapped_at_rung);	/* heard before the read completes, by hand or a step */
	ck_assert_int_eq(read_doorbell(1), 0);	/* a repeat takes nothing, but is still heard */
	ck_assert_int_eq(rungs, 2);
	write_slot(2, "");
	ck_assert_int_eq(read_doorbell(2), -1);	/* a refused doorbell is not */
	ck_assert_int_eq(rungs, 2);
}
END_TEST

/*
 * A ring that takes a doorbell's run in one go, as the TX ring does: each
 * page unmapped, then its slot taken and held.  The fake device may send
 * one slot of the run before the run is over (a wait for room in the
 * device gives it back): run_release, or -1.
 */
static int runs;
static int run_release;

static void fake_hold_run(struct ring *rr, uint32_t first, uint32_t n)
{
	runs++;
	for (uint32_t k = 0, i = first; k < n; k++, i = (i + 1) % rr->nslots) {
		ck_assert_int_eq(rr->slot[i].owner, SLOT_QUEUED);
		fake_map(rr, STRATA_SLOT_ADDR(rr->base, i), 0, false);
		ck_assert_uint_ne(rr->slot[i].page->len, 0);	/* still there to be read */
		took[ntook++] = i;
	}
	if (run_release >= 0)
		ring_release(rr, (uint32_t)run_release);
}

static const struct ring_ops run_ops = {
	.take = fake_take, .hold_run = fake_hold_run, .check = refuse_empty, .map = fake_map,
	.wait = fake_wait, .used = fake_used,
};

static void run_setup(void)
{
	runs = 0;
	run_release = -1;
	take_hold = 1;
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &run_ops, 0);
}

START_TEST(run_is_taken_in_one_go_and_held_like_slot_by_slot)
{
	run_setup();
	write_slot(0, "a");
	write_slot(1, "b");
	write_slot(2, "c");
	ck_assert_int_eq(read_doorbell(2), 0);
	ck_assert_int_eq(runs, 1);
	ck_assert_int_eq(ntook, 3);
	for (uint32_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(took[i], i);
		ck_assert_int_eq(r.slot[i].owner, SLOT_QUEUED);
		ck_assert_uint_eq(r.slot[i].page->len, 0);
		ck_assert_uint_eq(pte(data_va(i))->pa, 0);
	}
	ck_assert_uint_eq(r.next, 3);
	ck_assert_uint_eq(r.taken, 3);
	ck_assert_uint_eq(r.doorbells, 1);
	ring_release(&r, 1);
	ck_assert_int_eq(r.slot[1].owner, SLOT_LAYER1);
	ck_assert_uint_eq(pte(data_va(1))->pa, r.slot[1].pa);
}
END_TEST

START_TEST(run_slot_sent_before_the_run_ends_comes_back_to_layer1)
{
	run_setup();
	run_release = 0;
	write_slot(0, "a");
	write_slot(1, "b");
	ck_assert_int_eq(read_doorbell(1), 0);
	ck_assert_int_eq(r.slot[0].owner, SLOT_LAYER1);
	ck_assert_uint_eq(pte(data_va(0))->pa, r.slot[0].pa);
	ck_assert_uint_eq(r.slot[0].page->len, 0);
	ck_assert_int_eq(r.slot[1].owner, SLOT_QUEUED);
	ck_assert_uint_eq(pte(data_va(1))->pa, 0);
}
END_TEST

START_TEST(run_of_the_whole_ring_wraps_and_a_bad_slot_stops_it_before_any_take)
{
	run_setup();
	write_slot(0, "a");
	ck_assert_int_eq(read_doorbell(0), 0);
	ring_release(&r, 0);
	for (uint32_t i = 1; i < NSLOTS; i++)
		write_slot(i, "b");
	write_slot(0, "");
	ck_assert_int_eq(read_doorbell(0), -1);	/* the whole ring, slot 0 refused */
	ck_assert_int_eq(runs, 1);
	ck_assert_int_eq(ntook, 1);
	write_slot(0, "c");
	ck_assert_int_eq(read_doorbell(0), 0);
	ck_assert_int_eq(runs, 2);
	ck_assert_int_eq(ntook, 1 + NSLOTS);
	ck_assert_uint_eq(took[1], 1);
	ck_assert_uint_eq(took[NSLOTS], 0);
}
END_TEST

/* A poll's worth of sent slots comes back at once; a slot not held is left as it is. */
START_TEST(release_many_gives_back_each_held_slot)
{
	uint32_t sent[3] = { 2, 0, 3 };

	run_setup();
	for (uint32_t i = 0; i < NSLOTS; i++)
		write_slot(i, "x");
	ck_assert_int_eq(read_doorbell(2), 0);	/* slots 0..2 held, 3 still layer 1's */
	ring_release_many(&r, sent, 3);
	for (uint32_t i = 0; i < NSLOTS; i++)
		if (i == 1) {
			ck_assert_int_eq(r.slot[i].owner, SLOT_QUEUED);
			ck_assert_uint_eq(pte(data_va(i))->pa, 0);
		} else {
			ck_assert_int_eq(r.slot[i].owner, SLOT_LAYER1);
			ck_assert_uint_eq(pte(data_va(i))->pa, r.slot[i].pa);
		}
	ck_assert_uint_eq(r.slot[3].page->len, 1);	/* never taken: its frame is still there */
}
END_TEST

/* A run with a slot lost in a resume goes slot by slot: the lost one is taken empty, unchecked. */
START_TEST(run_with_a_lost_slot_goes_slot_by_slot)
{
	run_setup();
	ring_resume(&r, 1, 3);
	write_slot(3, "c");
	ck_assert_int_eq(read_doorbell(3), 0);
	ck_assert_int_eq(runs, 0);
	ck_assert_int_eq(ntook, 1);
	ck_assert_uint_eq(took[0], 3);
	write_slot(0, "d");
	ck_assert_int_eq(read_doorbell(0), 0);	/* nothing lost any more: a run */
	ck_assert_int_eq(runs, 1);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *t = tcase_create("core");

	tcase_add_checked_fixture(t, setup, 0);
	tcase_add_test(t, init_maps_every_data_page_and_no_doorbell);
	tcase_add_test(t, locate_tells_data_doorbell_and_beyond);
	tcase_add_test(t, one_doorbell_takes_a_whole_batch_in_order);
	tcase_add_test(t, doorbell_is_mapped_only_while_its_read_completes);
	tcase_add_test(t, taken_slot_comes_back_with_len_zero);
	tcase_add_test(t, doorbells_wrap_around_the_ring);
	tcase_add_test(t, oversized_slot_is_refused_and_nothing_taken);
	tcase_add_test(t, nonzero_flags_are_refused);
	tcase_add_test(t, held_slots_are_unmapped_and_block_until_released);
	tcase_add_test(t, doorbell_over_a_held_slot_is_a_violation);
	tcase_add_test(t, rx_slots_start_held_and_unmapped);
	tcase_add_test(t, rx_delivery_maps_the_slot_with_its_length_and_clean_header);
	tcase_add_test(t, rx_doorbell_gives_delivered_slots_back_in_one_batch);
	tcase_add_test(t, rx_doorbell_over_an_undelivered_slot_is_a_violation);
	tcase_add_test(t, drain_takes_written_but_unrung_slots);
	tcase_add_test(t, drain_of_a_full_ring_stops_after_one_lap);
	tcase_add_test(t, whole_ring_batch_on_the_slot_rung_last_takes_every_slot);
	tcase_add_test(t, whole_ring_batches_back_to_back);
	tcase_add_test(t, ringing_the_slot_rung_last_again_takes_nothing);
	tcase_add_test(t, repeat_after_a_whole_ring_takes_nothing);
	tcase_add_test(t, whole_ring_batch_over_a_held_slot_is_a_violation);
	tcase_add_test(t, rx_whole_ring_given_back_on_the_slot_given_back_last);
	tcase_add_test(t, rx_ringing_again_before_reading_gives_nothing_back);
	tcase_add_test(t, one_slot_ring_takes_its_slot_at_every_doorbell);
	tcase_add_test(t, one_slot_rx_ring_is_given_back_at_every_doorbell);
	tcase_add_test(t, check_refuses_a_batch_before_any_slot_is_taken);
	tcase_add_test(t, repeated_doorbell_checks_no_slot);
	tcase_add_test(t, after_a_resume_slots_lost_with_it_are_taken_empty);
	tcase_add_test(t, without_a_resume_an_empty_slot_is_checked);
	tcase_add_test(t, check_covers_a_whole_run_in_one_call);
	tcase_add_test(t, check_skips_a_lost_slot_and_covers_the_others_one_by_one);
	tcase_add_test(t, rung_hook_runs_once_per_doorbell_after_its_slots_are_taken);
	tcase_add_test(t, run_is_taken_in_one_go_and_held_like_slot_by_slot);
	tcase_add_test(t, run_slot_sent_before_the_run_ends_comes_back_to_layer1);
	tcase_add_test(t, run_of_the_whole_ring_wraps_and_a_bad_slot_stops_it_before_any_take);
	tcase_add_test(t, release_many_gives_back_each_held_slot);
	tcase_add_test(t, run_with_a_lost_slot_goes_slot_by_slot);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(ring_suite(), false);
}
