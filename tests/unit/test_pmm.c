/*
 * The physical page allocator, against a fake RAM: an mmap'd arena standing
 * at a chosen fake physical address, reached through direct_base as the
 * kernel reaches real RAM through the direct map.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS */
#include <check.h>

#include "fake.h"
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "defs.h"

void pmm_set_direct_limit(uint64_t limit);
extern uint64_t direct_base;

#define MIB	0x100000ULL
#define ARENA	(64 * MIB)

static uint8_t *arena;

/* The arena becomes physical [base, base + ARENA). */
static void ram_at(uint64_t base)
{
	direct_base = (uint64_t)arena - base;
}

static void setup(void)
{
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(arena, MAP_FAILED);
	ram_at(0);
	pmm_set_direct_limit(BOOT_DIRECT_MAP);
}

static void teardown(void)
{
	munmap(arena, ARENA);
}

static void init1(uint64_t base, uint64_t len)
{
	struct range r = { base, len };

	pmm_init(&r, 1, NULL, 0);
}

/* Whether the call panicked; fake.c's panic() longjmps back here. */
#define PANICS(call) ({							\
	jmp_buf jb_;							\
	volatile int p_ = 1;						\
	fake_panic_jmp = &jb_;						\
	if (setjmp(jb_) == 0) {						\
		call;							\
		fake_panic_jmp = NULL;					\
		p_ = 0;							\
	}								\
	p_;								\
})

START_TEST(avail_is_rounded_inward)
{
	struct range r[] = { { 0x100000, 0x1000 }, { 0x200800, 0x2800 } };

	/* the bitmap takes the one page of the first range */
	pmm_init(r, 2, NULL, 0);
	ck_assert_uint_eq(pmm_free_pages(), 2);
	ck_assert_uint_eq(pmm_alloc(), 0x201000);
	ck_assert_uint_eq(pmm_alloc(), 0x202000);
	ck_assert_uint_eq(pmm_alloc(), 0);
}
END_TEST

START_TEST(nothing_below_1mib_and_never_page_0)
{
	uint64_t pa, n = 0;

	init1(0, 2 * MIB);
	ck_assert_uint_eq(pmm_free_pages(), 255);
	while ((pa = pmm_alloc()) != 0) {
		ck_assert_uint_ge(pa, MIB);
		ck_assert_uint_lt(pa, 2 * MIB);
		n++;
	}
	ck_assert_uint_eq(n, 255);
}
END_TEST

START_TEST(reserved_is_rounded_outward_and_never_returned)
{
	struct range a = { MIB, MIB };
	struct range r = { 0x180800, 0x1000 };	/* touches two pages */
	uint64_t pa, n = 0;

	pmm_init(&a, 1, &r, 1);
	ck_assert_uint_eq(pmm_free_pages(), 256 - 1 - 2);
	while ((pa = pmm_alloc()) != 0) {
		ck_assert(pa < 0x180000 || pa >= 0x182000);
		n++;
	}
	ck_assert_uint_eq(n, 256 - 1 - 2);
}
END_TEST

/* pmm_init frees whole bitmap words at once: runs that start and end inside a word too. */
START_TEST(runs_free_exactly_their_pages_across_word_edges)
{
	struct range a[] = { { MIB, 200 * PAGE_SIZE }, { 4 * MIB + 3 * PAGE_SIZE, 70 * PAGE_SIZE } };
	struct range r = { MIB + 100 * PAGE_SIZE, PAGE_SIZE };
	uint64_t pa, prev = 0, n = 0;

	/* the bitmap takes the first page; the reserved page splits the first run */
	pmm_init(a, 2, &r, 1);
	ck_assert_uint_eq(pmm_free_pages(), 199 - 1 + 70);
	while ((pa = pmm_alloc()) != 0) {
		ck_assert_uint_gt(pa, prev);
		ck_assert((pa > MIB && pa < MIB + 200 * PAGE_SIZE && pa != r.base) ||
		    (pa >= a[1].base && pa < a[1].base + a[1].len));
		prev = pa;
		n++;
	}
	ck_assert_uint_eq(n, 199 - 1 + 70);
}
END_TEST

START_TEST(reserved_covering_a_whole_range_removes_it)
{
	struct range a[] = { { MIB, MIB }, { 4 * MIB, MIB } };
	struct range r[] = { { 4 * MIB - 1, MIB + 2 } };

	pmm_init(a, 2, r, 1);
	ck_assert_uint_eq(pmm_free_pages(), 255);
}
END_TEST

START_TEST(lowest_page_first)
{
	uint64_t prev, pa;
	int i;

	init1(MIB, 8 * MIB);
	prev = pmm_alloc();
	ck_assert_uint_eq(prev, MIB + PAGE_SIZE);	/* after the bitmap */
	for (i = 0; i < 100; i++) {
		pa = pmm_alloc();
		ck_assert_uint_eq(pa, prev + PAGE_SIZE);
		prev = pa;
	}
}
END_TEST

START_TEST(unsorted_ranges_still_lowest_first)
{
	struct range r[] = { { 8 * MIB, MIB }, { 2 * MIB, MIB } };

	pmm_init(r, 2, NULL, 0);
	ck_assert_uint_eq(pmm_alloc(), 2 * MIB + PAGE_SIZE);
}
END_TEST

START_TEST(pages_come_zeroed)
{
	uint64_t pa;
	uint8_t *p;
	int i;

	init1(MIB, MIB);
	pa = pmm_alloc();
	memset(p2v(pa), 0xaa, PAGE_SIZE);
	pmm_free(pa);
	ck_assert_uint_eq(pmm_alloc(), pa);
	p = p2v(pa);
	for (i = 0; i < (int)PAGE_SIZE; i++)
		ck_assert_uint_eq(p[i], 0);
}
END_TEST

START_TEST(freed_page_is_reused_lowest_first)
{
	uint64_t a, b, c;

	init1(MIB, MIB);
	a = pmm_alloc();
	b = pmm_alloc();
	c = pmm_alloc();
	pmm_free(b);
	ck_assert_uint_eq(pmm_alloc(), b);
	ck_assert_uint_eq(pmm_alloc(), c + PAGE_SIZE);
	pmm_free(a);
	pmm_free(c);
	ck_assert_uint_eq(pmm_alloc(), a);
	ck_assert_uint_eq(pmm_alloc(), c);
}
END_TEST

START_TEST(exhaustion_returns_0_and_a_free_revives)
{
	uint64_t pa, last = 0;

	init1(MIB, MIB);
	while ((pa = pmm_alloc()) != 0)
		last = pa;
	ck_assert_uint_eq(pmm_free_pages(), 0);
	ck_assert_uint_eq(pmm_alloc(), 0);
	pmm_free(last);
	ck_assert_uint_eq(pmm_free_pages(), 1);
	ck_assert_uint_eq(pmm_alloc(), last);
	ck_assert_uint_eq(pmm_alloc(), 0);
}
END_TEST

START_TEST(free_count_follows_alloc_and_free)
{
	uint64_t n, a, b;

	init1(MIB, 4 * MIB);
	n = pmm_free_pages();
	ck_assert_uint_eq(n, 1023);
	a = pmm_alloc();
	b = pmm_alloc();
	ck_assert_uint_eq(pmm_free_pages(), n - 2);
	pmm_free(a);
	pmm_free(b);
	ck_assert_uint_eq(pmm_free_pages(), n);
}
END_TEST

START_TEST(double_free_panics)
{
	uint64_t pa;

	init1(MIB, MIB);
	pa = pmm_alloc();
	pmm_free(pa);
	ck_assert(PANICS(pmm_free(pa)));
	ck_assert_ptr_nonnull(strstr(fake_panic_msg, "twice"));
}
END_TEST

START_TEST(freeing_what_was_never_free_ram_panics)
{
	struct range a = { MIB, MIB };
	struct range r = { 0x180000, 0x1000 };

	pmm_init(&a, 1, &r, 1);
	ck_assert(PANICS(pmm_free(0)));			/* page 0 */
	ck_assert(PANICS(pmm_free(0x9f000)));		/* below 1 MiB */
	ck_assert(PANICS(pmm_free(0x180000)));		/* reserved */
	ck_assert(PANICS(pmm_free(MIB)));		/* the bitmap */
	ck_assert(PANICS(pmm_free(3 * MIB)));		/* past the end of RAM */
	ck_assert(PANICS(pmm_free(0x1c0010)));		/* not a page address */
	ck_assert_uint_eq(pmm_free_pages(), 256 - 2);
}
END_TEST

START_TEST(overlapping_ranges_are_merged)
{
	struct range r[] = {
		{ MIB, 0x80000 }, { 0x140000, 0x80000 }, { MIB, 0x10000 }, { 0x1c0000, 0 },
	};
	uint64_t pa, prev = MIB, n = 0;

	pmm_init(r, 4, NULL, 0);
	ck_assert_uint_eq(pmm_free_pages(), 0xc0 - 1);
	while ((pa = pmm_alloc()) != 0) {
		ck_assert_uint_eq(pa, prev + PAGE_SIZE);	/* each page once */
		prev = pa;
		n++;
	}
	ck_assert_uint_eq(n, 0xc0 - 1);
	ck_assert_uint_eq(prev, 0x1bf000);
}
END_TEST

START_TEST(no_usable_ram_panics)
{
	struct range a = { 0, 0x9f000 };

	ck_assert(PANICS(pmm_init(&a, 1, NULL, 0)));
}
END_TEST

START_TEST(pages_above_the_boot_direct_map_wait_for_vm_init)
{
	uint64_t base = BOOT_DIRECT_MAP - 32 * MIB, pa, below = 0;

	ram_at(base);
	init1(base, ARENA);
	while ((pa = pmm_alloc()) != 0) {
		ck_assert_uint_lt(pa, BOOT_DIRECT_MAP);
		below++;
	}
	ck_assert_uint_eq(pmm_free_pages(), 32 * MIB / PAGE_SIZE);
	pmm_set_direct_limit(BOOT_DIRECT_MAP + 32 * MIB);
	ck_assert_uint_eq(pmm_alloc(), BOOT_DIRECT_MAP);
	ck_assert_uint_eq(below + pmm_free_pages() + 1, 2 * 32 * MIB / PAGE_SIZE - 33);
}
END_TEST

START_TEST(p2v_and_v2p_invert_each_other)
{
	init1(MIB, MIB);
	ck_assert_ptr_eq(p2v(0x123456), arena + 0x123456);
	ck_assert_uint_eq(v2p(p2v(0x123456)), 0x123456);
	ck_assert_uint_eq(v2p((void *)(KERNEL_BASE + KERNEL_PHYS)), KERNEL_PHYS);
	ck_assert(PANICS(v2p((void *)((uintptr_t)arena - PAGE_SIZE))));
}
END_TEST

/* 2 MiB runs come aligned from the top, never overlap single pages, and go back whole or page by page. */
START_TEST(huge_runs_are_aligned_from_the_top)
{
	uint64_t a, b, c, free0;

	init1(MIB, 9 * MIB - 0x3000);		/* RAM 1 MiB .. 10 MiB - 12 KiB */
	free0 = pmm_free_pages();
	a = pmm_alloc_huge();
	ck_assert_uint_eq(a, 6 * MIB);		/* 8..10 MiB is not whole */
	b = pmm_alloc_huge();
	ck_assert_uint_eq(b, 4 * MIB);
	ck_assert_uint_eq(pmm_free_pages(), free0 - 2 * HUGE_PAGES);
	c = pmm_alloc();
	ck_assert(c < 4 * MIB);
	pmm_free_huge(a);
	ck_assert_uint_eq(pmm_alloc_huge(), 6 * MIB);
	for (uint64_t k = 0; k < HUGE_PAGES; k++)	/* a run may go back page by page */
		pmm_free(b + k * PAGE_SIZE);
	ck_assert_uint_eq(pmm_alloc_huge(), 4 * MIB);
}
END_TEST

START_TEST(no_huge_run_when_memory_is_fragmented)
{
	uint64_t pages[2048], n = 0, pa;

	init1(MIB, 8 * MIB);
	while ((pa = pmm_alloc()) != 0)
		pages[n++] = pa;
	for (uint64_t k = 0; k < n; k += 2)	/* half of it free, no two pages side by side */
		pmm_free(pages[k]);
	ck_assert_uint_ge(pmm_free_pages(), HUGE_PAGES);
	ck_assert_uint_eq(pmm_alloc_huge(), 0);
}
END_TEST

START_TEST(freeing_a_huge_run_twice_or_unaligned_panics)
{
	uint64_t a;

	init1(MIB, 8 * MIB);
	a = pmm_alloc_huge();
	ck_assert_uint_ne(a, 0);
	ck_assert(PANICS(pmm_free_huge(a + PAGE_SIZE)));
	pmm_free_huge(a);
	ck_assert(PANICS(pmm_free_huge(a)));
}
END_TEST

/* A run is taken by its address only when all of it is free, aligned and direct-mapped. */
START_TEST(taking_a_named_run_needs_all_of_it_free)
{
	uint64_t pa, free0, taken = 1;

	init1(MIB, 9 * MIB - 0x3000);		/* RAM 1 MiB .. 10 MiB - 12 KiB */
	free0 = pmm_free_pages();
	ck_assert(pmm_page_free(4 * MIB) && !pmm_page_free(MIB - PAGE_SIZE));
	ck_assert(!pmm_take_huge(4 * MIB + PAGE_SIZE));	/* not aligned */
	ck_assert(!pmm_take_huge(8 * MIB));		/* runs past the end of RAM */
	while ((pa = pmm_alloc()) < 4 * MIB)
		taken++;
	ck_assert_uint_eq(pa, 4 * MIB);			/* the run's first page taken */
	ck_assert(!pmm_page_free(pa) && !pmm_take_huge(4 * MIB));
	ck_assert_uint_eq(pmm_free_pages(), free0 - taken);
	pmm_free(pa);
	ck_assert(pmm_take_huge(4 * MIB));
	ck_assert_uint_eq(pmm_free_pages(), free0 - (taken - 1) - HUGE_PAGES);
	ck_assert(!pmm_page_free(4 * MIB + HUGE_SIZE - PAGE_SIZE));
	pmm_free_huge(4 * MIB);
	ck_assert_uint_eq(pmm_free_pages(), free0 - (taken - 1));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pmm");
	TCase *tc = tcase_create("pmm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, avail_is_rounded_inward);
	tcase_add_test(tc, nothing_below_1mib_and_never_page_0);
	tcase_add_test(tc, reserved_is_rounded_outward_and_never_returned);
	tcase_add_test(tc, runs_free_exactly_their_pages_across_word_edges);
	tcase_add_test(tc, reserved_covering_a_whole_range_removes_it);
	tcase_add_test(tc, lowest_page_first);
	tcase_add_test(tc, unsorted_ranges_still_lowest_first);
	tcase_add_test(tc, pages_come_zeroed);
	tcase_add_test(tc, freed_page_is_reused_lowest_first);
	tcase_add_test(tc, exhaustion_returns_0_and_a_free_revives);
	tcase_add_test(tc, free_count_follows_alloc_and_free);
	tcase_add_test(tc, double_free_panics);
	tcase_add_test(tc, freeing_what_was_never_free_ram_panics);
	tcase_add_test(tc, overlapping_ranges_are_merged);
	tcase_add_test(tc, no_usable_ram_panics);
	tcase_add_test(tc, pages_above_the_boot_direct_map_wait_for_vm_init);
	tcase_add_test(tc, p2v_and_v2p_invert_each_other);
	tcase_add_test(tc, huge_runs_are_aligned_from_the_top);
	tcase_add_test(tc, no_huge_run_when_memory_is_fragmented);
	tcase_add_test(tc, freeing_a_huge_run_twice_or_unaligned_panics);
	tcase_add_test(tc, taking_a_named_run_needs_all_of_it_free);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite(), false);
}
