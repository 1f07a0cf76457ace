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
static uint64_t mapped[64][2];		/* va -> pa of the fake page table */
static int nmapped;
static int waits;

static int fake_take(struct ring *rr, uint32_t i, const struct strata_slot *s)
{
	(void)rr;
	(void)s;
	took[ntook++] = i;
	return take_hold ? RING_TAKE_HOLD : RING_TAKE_DONE;
}

static uint64_t *pte(uint64_t va)
{
	for (int i = 0; i < nmapped; i++)
		if (mapped[i][0] == va)
			return &mapped[i][1];
	mapped[nmapped][0] = va;
	return &mapped[nmapped++][1];
}

static void fake_map(struct ring *rr, uint64_t va, uint64_t pa, bool writable)
{
	(void)rr;
	(void)writable;
	*pte(va) = pa;
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

static const struct ring_ops ops = { fake_take, fake_map, fake_wait };

static void setup(void)
{
	memset(&r, 0, sizeof(r));
	memset(pages, 0, sizeof(pages));
	ntook = nmapped = waits = take_hold = 0;
	for (int i = 0; i < NSLOTS; i++) {
		r.slot[i].pa = 0x10000 + (uint64_t)i * 0x1000;
		r.slot[i].page = (struct strata_slot *)pages[i];
	}
	ring_init(&r, "test", STRATA_CONSOLE_BASE, NSLOTS, DOORBELL_PA, &ops, 0);
}

static void write_slot(uint32_t i, const char *text)
{
	r.slot[i].page->len = (uint32_t)strlen(text);
	memcpy(r.slot[i].page->data, text, strlen(text));
}

static uint64_t data_va(uint32_t i) { return STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, i); }
static uint64_t bell_va(uint32_t i) { return STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, i); }

START_TEST(init_maps_every_data_page_and_no_doorbell)
{
	for (uint32_t i = 0; i < NSLOTS; i++) {
		ck_assert_uint_eq(*pte(data_va(i)), r.slot[i].pa);
		ck_assert_uint_eq(*pte(bell_va(i)), 0);
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
	const char *why;

	write_slot(0, "a");
	write_slot(1, "b");
	write_slot(2, "c");
	ck_assert_int_eq(ring_doorbell(&r, 2, &why), 0);
	ck_assert_int_eq(ntook, 3);
	ck_assert_uint_eq(took[0], 0);
	ck_assert_uint_eq(took[2], 2);
	ck_assert_uint_eq(r.next, 3);
	ck_assert_uint_eq(r.doorbells, 1);
}
END_TEST

START_TEST(rung_doorbell_is_mapped_until_the_next_one)
{
	const char *why;

	write_slot(0, "a");
	ring_doorbell(&r, 0, &why);
	ck_assert_uint_eq(*pte(bell_va(0)), DOORBELL_PA);
	write_slot(1, "b");
	ring_doorbell(&r, 1, &why);
	ck_assert_uint_eq(*pte(bell_va(0)), 0);
	ck_assert_uint_eq(*pte(bell_va(1)), DOORBELL_PA);
}
END_TEST

START_TEST(taken_slot_comes_back_with_len_zero)
{
	const char *why;

	write_slot(0, "hello");
	ring_doorbell(&r, 0, &why);
	ck_assert_uint_eq(r.slot[0].page->len, 0);
	ck_assert_int_eq(r.slot[0].owner, SLOT_LAYER1);
}
END_TEST

START_TEST(doorbells_wrap_around_the_ring)
{
	const char *why;

	for (uint32_t k = 0; k < 3 * NSLOTS; k++) {
		write_slot(k % NSLOTS, "x");
		ck_assert_int_eq(ring_doorbell(&r, k % NSLOTS, &why), 0);
	}
	ck_assert_int_eq(ntook, 3 * NSLOTS);
	ck_assert_uint_eq(r.next, 0);
}
END_TEST

START_TEST(oversized_slot_is_refused_and_nothing_taken)
{
	const char *why = 0;

	write_slot(0, "ok");
	r.slot[1].page->len = STRATA_SLOT_DATA_MAX + 1;
	ck_assert_int_eq(ring_doorbell(&r, 1, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ntook, 0);
	ck_assert_uint_eq(r.next, 0);
}
END_TEST

START_TEST(nonzero_flags_are_refused)
{
	const char *why = 0;

	write_slot(0, "ok");
	r.slot[0].page->flags = 1;
	ck_assert_int_eq(ring_doorbell(&r, 0, &why), -1);
}
END_TEST

START_TEST(held_slots_are_unmapped_and_block_until_released)
{
	const char *why;

	take_hold = 1;
	write_slot(0, "a");
	write_slot(1, "b");
	ring_doorbell(&r, 1, &why);
	ck_assert_int_eq(r.slot[0].owner, SLOT_QUEUED);
	ck_assert_uint_eq(*pte(data_va(0)), 0);
	ck_assert_uint_eq(*pte(data_va(1)), 0);
	ring_wait_slot(&r, 1);	/* the fake releases slot 0 first, then 1 */
	ck_assert_int_eq(waits, 2);
	ck_assert_int_eq(r.slot[1].owner, SLOT_LAYER1);
	ck_assert_uint_eq(*pte(data_va(1)), r.slot[1].pa);
}
END_TEST

START_TEST(doorbell_over_a_held_slot_is_a_violation)
{
	const char *why = 0;

	take_hold = 1;
	write_slot(0, "a");
	ring_doorbell(&r, 0, &why);
	/* Slots 1..3 then 0 again: slot 0 is still held by layer 0. */
	for (uint32_t i = 1; i < NSLOTS; i++)
		write_slot(i, "b");
	ck_assert_int_eq(ring_doorbell(&r, 0, &why), -1);
	ck_assert_ptr_nonnull(why);
}
END_TEST

/* Receiving: every slot starts held; frames are delivered; a doorbell gives them back. */
static void rx_setup(void)
{
	take_hold = 1;
	ring_hold_all(&r);
}

START_TEST(rx_slots_start_held_and_unmapped)
{
	rx_setup();
	for (uint32_t i = 0; i < NSLOTS; i++) {
		ck_assert_int_eq(r.slot[i].owner, SLOT_QUEUED);
		ck_assert_uint_eq(*pte(data_va(i)), 0);
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
	ck_assert_uint_eq(*pte(data_va(0)), r.slot[0].pa);
	ck_assert_uint_eq(r.slot[0].page->len, 60);
	ck_assert_uint_eq(r.slot[0].page->flags, 0);
	ck_assert_uint_eq(r.slot[0].page->reserved, 0);
}
END_TEST

START_TEST(rx_doorbell_gives_delivered_slots_back_in_one_batch)
{
	const char *why;

	rx_setup();
	ring_deliver(&r, 0, 60);
	ring_deliver(&r, 1, 1514);
	ring_deliver(&r, 2, 14);
	ck_assert_int_eq(ring_doorbell(&r, 1, &why), 0);
	ck_assert_int_eq(ntook, 2);
	ck_assert_uint_eq(took[0], 0);
	ck_assert_uint_eq(took[1], 1);
	ck_assert_int_eq(r.slot[0].owner, SLOT_QUEUED);
	ck_assert_uint_eq(*pte(data_va(1)), 0);
	ck_assert_int_eq(r.slot[2].owner, SLOT_LAYER1);	/* not given back yet */
}
END_TEST

START_TEST(rx_doorbell_over_an_undelivered_slot_is_a_violation)
{
	const char *why = 0;

	rx_setup();
	ring_deliver(&r, 0, 60);
	ck_assert_int_eq(ring_doorbell(&r, 1, &why), -1);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(ntook, 0);
	ck_assert_int_eq(r.slot[0].owner, SLOT_LAYER1);
}
END_TEST

START_TEST(drain_takes_written_but_unrung_slots)
{
	const char *why;

	write_slot(0, "a");
	ring_doorbell(&r, 0, &why);
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
	const char *why;

	for (uint32_t i = 0; i < NSLOTS; i++)
		write_slot(i, "z");
	ck_assert_int_eq(ring_drain(&r, &why), 0);
	ck_assert_int_eq(ntook, NSLOTS);
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
	tcase_add_test(t, rung_doorbell_is_mapped_until_the_next_one);
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
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(ring_suite(), false);
}
