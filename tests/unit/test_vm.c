/*
 * Page tables over a fake RAM: an mmap'd arena is physical [0, 64 MiB), the
 * tables come from the real pmm.c, and vm.c is built with STRATA_HOST_TEST
 * so "CR3" is vm_host_cr3 and invlpg only counts.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS */
#include <check.h>

#include "fake.h"
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "defs.h"

extern uint64_t direct_base;
extern uint64_t vm_host_cr3;
extern unsigned long vm_host_flushes;

#define MIB	0x100000ULL
#define ARENA	(64 * MIB)

static uint8_t *arena;
static uint64_t root;

static void setup(void)
{
	struct range ram = { MIB, ARENA - MIB };

	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(arena, MAP_FAILED);
	direct_base = (uint64_t)arena;
	pmm_init(&ram, 1, NULL, 0);
	root = pmm_alloc();
	ck_assert_uint_ne(root, 0);
	kernel_root = root;
	vm_host_cr3 = 0;
	vm_host_flushes = 0;
}

static void teardown(void)
{
	munmap(arena, ARENA);
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

/* The entry for va at a level (4: PML4 ... 1: PT), read by hand, or 0. */
static pte_t entry(uint64_t va, int level)
{
	pte_t *t = p2v(root), e = 0;
	int l;

	for (l = 4; l >= level; l--) {
		e = t[va >> (12 + 9 * (l - 1)) & 511];
		if (!(e & PTE_P))
			return l == level ? e : 0;
		t = p2v(e & PTE_ADDR_MASK);
	}
	return e;
}

START_TEST(map_then_walk_finds_the_entry)
{
	pte_t *e;

	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W | PTE_NX), 0);
	e = vm_walk(root, 0x400000, false);
	ck_assert_ptr_nonnull(e);
	ck_assert_uint_eq(*e, 0x5000 | PTE_P | PTE_W | PTE_NX);
	ck_assert_ptr_eq(vm_walk(root, 0x400abc, false), e);
}
END_TEST

START_TEST(tables_are_made_once_without_u_or_nx)
{
	uint64_t f = pmm_free_pages();
	int l;

	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	ck_assert_uint_eq(pmm_free_pages(), f - 3);
	ck_assert_int_eq(vm_map(root, 0x401000, 0x6000, PTE_W), 0);
	ck_assert_int_eq(vm_map(root, 0x400000, 0x7000, 0), 0);
	ck_assert_uint_eq(pmm_free_pages(), f - 3);
	for (l = 4; l >= 2; l--) {
		pte_t e = entry(0x400000, l);

		ck_assert_uint_eq(e & ~PTE_ADDR_MASK, PTE_P | PTE_W);
	}
	ck_assert_uint_eq(entry(0x400000, 1), 0x7000 | PTE_P);
}
END_TEST

START_TEST(walk_without_create_finds_nothing_and_allocates_nothing)
{
	uint64_t f = pmm_free_pages();

	ck_assert_ptr_null(vm_walk(root, 0x400000, false));
	ck_assert_uint_eq(pmm_free_pages(), f);
	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	/* same tables, other leaf: an entry, but an empty one */
	ck_assert_uint_eq(*vm_walk(root, 0x402000, false), 0);
	/* another PD */
	ck_assert_ptr_null(vm_walk(root, 0x40000000, false));
}
END_TEST

START_TEST(unmap_returns_the_old_entry)
{
	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W | PTE_G), 0);
	ck_assert_uint_eq(vm_unmap(root, 0x400000), 0x5000 | PTE_P | PTE_W | PTE_G);
	ck_assert_uint_eq(*vm_walk(root, 0x400000, false), 0);
	ck_assert_uint_eq(vm_unmap(root, 0x400000), 0);
	ck_assert_uint_eq(vm_unmap(root, 0x7000000000), 0);
}
END_TEST

START_TEST(a_large_page_in_the_way_stops_the_walk)
{
	pte_t *pd;

	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	pd = p2v(entry(0x400000, 3) & PTE_ADDR_MASK);
	pd[0x600000 >> 21] = 0x200000 | PTE_P | PTE_W | PTE_PS;
	ck_assert_ptr_null(vm_walk(root, 0x600000, false));
	ck_assert_ptr_null(vm_walk(root, 0x601000, true));
	ck_assert_int_eq(vm_map(root, 0x600000, 0x5000, PTE_W), -1);
	ck_assert_uint_eq(pd[0x600000 >> 21], 0x200000 | PTE_P | PTE_W | PTE_PS);
}
END_TEST

/* vm_walk_pde finds the 2 MiB-level entry; vm_present sees both sizes of page. */
START_TEST(present_sees_4k_and_2m_pages)
{
	pte_t *pde;

	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	ck_assert(vm_present(root, 0x400000) && !vm_present(root, 0x401000));
	ck_assert(!vm_present(root, 0x600000) && !vm_present(root, 0x40000000));
	ck_assert_ptr_null(vm_walk_pde(root, 0x40000000, false));
	pde = vm_walk_pde(root, 0x600000, true);
	ck_assert_ptr_nonnull(pde);
	ck_assert_uint_eq(*pde, 0);
	*pde = 0x200000 | PTE_P | PTE_PS;
	ck_assert(vm_present(root, 0x600000) && vm_present(root, 0x7ff000));
	ck_assert(!vm_present(root, 0x800000));
}
END_TEST

START_TEST(map_range_maps_every_page)
{
	uint64_t va = 0x10100000, pa = 0x800000, off;	/* mid-PT */

	ck_assert_int_eq(vm_map_range(root, va, pa, 20 * PAGE_SIZE, PTE_NX), 0);
	for (off = 0; off < 20 * PAGE_SIZE; off += PAGE_SIZE)
		ck_assert_uint_eq(*vm_walk(root, va + off, false), (pa + off) | PTE_P | PTE_NX);
	ck_assert_uint_eq(*vm_walk(root, va + off, false), 0);
	ck_assert_uint_eq(*vm_walk(root, va - PAGE_SIZE, false), 0);
}
END_TEST

START_TEST(map_range_crosses_table_boundaries)
{
	uint64_t va = 0x7fffffe00000 - 2 * PAGE_SIZE;	/* two PTs, top of the lower half */

	ck_assert_int_eq(vm_map_range(root, va, 0x900000, 4 * PAGE_SIZE, PTE_W), 0);
	ck_assert_uint_eq(*vm_walk(root, va, false), 0x900000 | PTE_P | PTE_W);
	ck_assert_uint_eq(*vm_walk(root, va + 3 * PAGE_SIZE, false), 0x903000 | PTE_P | PTE_W);
	ck_assert_ptr_ne(vm_walk(root, va, false), vm_walk(root, va + 3 * PAGE_SIZE, false));
}
END_TEST

START_TEST(addresses_at_both_ends_of_both_halves)
{
	uint64_t va[] = { 0x1000, 0x7ffffffff000, DIRECT_BASE, 0xffffffff80200000, 0xfffffffffffff000 };
	unsigned i;

	for (i = 0; i < ARRAY_LEN(va); i++)
		ck_assert_int_eq(vm_map(root, va[i], 0x100000 + i * PAGE_SIZE, PTE_W), 0);
	for (i = 0; i < ARRAY_LEN(va); i++)
		ck_assert_uint_eq(*vm_walk(root, va[i], false), (0x100000 + i * PAGE_SIZE) | PTE_P | PTE_W);
	/* the PML4 slots: 0, 255 (last of the lower half), 256, 511 */
	ck_assert_uint_ne(((pte_t *)p2v(root))[0], 0);
	ck_assert_uint_ne(((pte_t *)p2v(root))[255], 0);
	ck_assert_uint_ne(((pte_t *)p2v(root))[256], 0);
	ck_assert_uint_ne(((pte_t *)p2v(root))[511], 0);
	ck_assert_uint_eq(((pte_t *)p2v(root))[1], 0);
}
END_TEST

START_TEST(out_of_memory_fails_cleanly_and_recovers)
{
	static uint64_t held[20000];
	uint64_t pa;
	int n = 0;

	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	while ((pa = pmm_alloc()) != 0) {
		ck_assert_int_lt(n, (int)ARRAY_LEN(held));
		held[n++] = pa;
	}
	/* needs a PDPT, a PD and a PT: none to be had, then only one */
	ck_assert_int_eq(vm_map(root, 0x8000000000, 0x6000, PTE_W), -1);
	pmm_free(held[--n]);
	ck_assert_int_eq(vm_map(root, 0x8000000000, 0x6000, PTE_W), -1);
	ck_assert_ptr_null(vm_walk(root, 0x8000000000, false));
	/* what was mapped still is, and the same tables serve without memory */
	ck_assert_uint_eq(*vm_walk(root, 0x400000, false), 0x5000 | PTE_P | PTE_W);
	ck_assert_int_eq(vm_map(root, 0x401000, 0x6000, PTE_W), 0);
	pmm_free(held[--n]);
	pmm_free(held[--n]);
	ck_assert_int_eq(vm_map(root, 0x8000000000, 0x6000, PTE_W), 0);
	ck_assert_uint_eq(*vm_walk(root, 0x8000000000, false), 0x6000 | PTE_P | PTE_W);
	ck_assert_uint_eq(pmm_free_pages(), 0);
}
END_TEST

START_TEST(only_the_loaded_root_is_flushed_and_only_when_it_held_a_page)
{
	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	ck_assert_int_eq(vm_map(root, 0x400000, 0x6000, PTE_W), 0);
	ck_assert_uint_eq(vm_unmap(root, 0x400000), 0x6000 | PTE_P | PTE_W);
	ck_assert_uint_eq(vm_host_flushes, 0);		/* root not loaded */

	vm_host_cr3 = root;
	ck_assert_int_eq(vm_map(root, 0x400000, 0x5000, PTE_W), 0);
	ck_assert_uint_eq(vm_host_flushes, 0);		/* was not present */
	ck_assert_int_eq(vm_map(root, 0x400000, 0x6000, PTE_W), 0);
	ck_assert_uint_eq(vm_host_flushes, 1);
	vm_unmap(root, 0x400000);
	ck_assert_uint_eq(vm_host_flushes, 2);
	vm_unmap(root, 0x400000);
	ck_assert_uint_eq(vm_host_flushes, 2);
}
END_TEST

/* ---- the entry stores others use: vm.c's TLB rule, each flushing a present entry only ---- */

/* The entry holds v, and invlpg ran flushes times in all. */
static void expect_entry(const pte_t *e, pte_t v, unsigned long flushes)
{
	ck_assert_uint_eq(*e, v);
	ck_assert_uint_eq(vm_host_flushes, flushes);
}

START_TEST(set_and_clear_leaf_flush_only_what_was_present)
{
	uint64_t va = 0x400000;
	pte_t *e = vm_walk(root, va, true);

	ck_assert_ptr_nonnull(e);
	vm_set_leaf(e, va, 0x5000, PTE_W | PTE_NX);
	expect_entry(e, 0x5000 | PTE_P | PTE_W | PTE_NX, 0);
	vm_set_leaf(e, va, 0x6000, 0);
	expect_entry(e, 0x6000 | PTE_P, 1);
	vm_clear_leaf(e, va);
	expect_entry(e, 0, 2);
	vm_clear_leaf(e, va);
	expect_entry(e, 0, 2);
}
END_TEST

START_TEST(a_huge_leaf_maps_2mib_and_clears_like_a_small_one)
{
	uint64_t va = 0x600000;
	pte_t *pde = vm_walk_pde(root, va, true);

	ck_assert_ptr_nonnull(pde);
	vm_set_huge_leaf(pde, va, 0x200000, PTE_NX);
	expect_entry(pde, 0x200000 | PTE_P | PTE_PS | PTE_NX, 0);
	ck_assert(vm_present(root, va) && vm_present(root, va + 2 * MIB - PAGE_SIZE));
	vm_clear_leaf(pde, va);
	expect_entry(pde, 0, 1);
	ck_assert(!vm_present(root, va));
}
END_TEST

/* The NIC batches its flushes: a swap stores and hands the old entry back. */
START_TEST(swap_leaf_returns_the_old_entry_and_flushes_nothing)
{
	pte_t *e = vm_walk(root, 0x400000, true);

	ck_assert_uint_eq(vm_swap_leaf(e, 0x5000, PTE_W), 0);
	ck_assert_uint_eq(*e, 0x5000 | PTE_P | PTE_W);
	ck_assert_uint_eq(vm_swap_leaf(e, 0, PTE_W), 0x5000 | PTE_P | PTE_W);
	ck_assert_uint_eq(*e, 0);
	ck_assert_uint_eq(vm_host_flushes, 0);
}
END_TEST

START_TEST(taking_the_dirty_and_accessed_bits_clears_them_and_flushes_once)
{
	uint64_t va = 0x400000;
	pte_t *e = vm_walk(root, va, true);

	vm_set_leaf(e, va, 0x5000, PTE_W);
	ck_assert(!vm_leaf_dirty(e) && !vm_leaf_accessed(e));
	ck_assert(!vm_take_dirty(e, va) && !vm_take_accessed(e, va));
	ck_assert_uint_eq(vm_host_flushes, 0);
	*e |= PTE_D | PTE_A;		/* what the CPU does on a write */
	ck_assert(vm_leaf_dirty(e) && vm_leaf_accessed(e));
	ck_assert(vm_take_dirty(e, va));
	expect_entry(e, 0x5000 | PTE_P | PTE_W | PTE_A, 1);
	ck_assert(vm_take_accessed(e, va));
	expect_entry(e, 0x5000 | PTE_P | PTE_W, 2);
	ck_assert(!vm_take_dirty(e, va) && !vm_take_accessed(e, va));
	ck_assert_uint_eq(vm_host_flushes, 2);
}
END_TEST

START_TEST(set_writable_gives_and_takes_w_alone)
{
	uint64_t va = 0x400000;
	pte_t *e = vm_walk(root, va, true);

	vm_set_leaf(e, va, 0x5000, PTE_W | PTE_NX);
	vm_set_writable(e, va, false);
	expect_entry(e, 0x5000 | PTE_P | PTE_NX, 1);
	vm_set_writable(e, va, true);
	expect_entry(e, 0x5000 | PTE_P | PTE_W | PTE_NX, 2);
}
END_TEST

/* A split maps the same frames page by page, through a table entry like every other. */
START_TEST(split_huge_maps_the_same_frames_in_512_small_pages)
{
	uint64_t va = 0x600000, tpa = pmm_alloc();
	pte_t *pde = vm_walk_pde(root, va, true), *pt;

	vm_set_huge_leaf(pde, va, 0x200000, 0);
	pt = vm_split_huge(pde, va, tpa, PTE_W | PTE_NX);
	ck_assert_ptr_eq(pt, p2v(tpa));
	expect_entry(pde, tpa | PTE_P | PTE_W, 1);
	for (uint64_t k = 0; k < HUGE_PAGES; k++)
		ck_assert_uint_eq(pt[k], (0x200000 + k * PAGE_SIZE) | PTE_P | PTE_W | PTE_NX);
	ck_assert_ptr_eq(vm_walk(root, va + 5 * PAGE_SIZE, false), &pt[5]);
}
END_TEST

/* ---- vm_prune: a sparse window's tables shrink with it, at every level ---- */

#define GIB	(1024 * MIB)

START_TEST(prune_frees_every_empty_table_but_the_root)
{
	uint64_t va = 0x100000000000, f = pmm_free_pages();	/* PML4 slot 32: the disk window's */

	ck_assert_int_eq(vm_map(root, va, 0x5000, PTE_W), 0);
	ck_assert_uint_eq(pmm_free_pages(), f - 3);
	vm_unmap(root, va);
	ck_assert(vm_prune(root, va));
	ck_assert_uint_eq(pmm_free_pages(), f);
	ck_assert_uint_eq(((pte_t *)p2v(root))[32], 0);
	ck_assert_ptr_null(vm_walk_pde(root, va, false));
	/* nothing left to free, and the root stays */
	ck_assert(!vm_prune(root, va));
	ck_assert_uint_eq(pmm_free_pages(), f);
	ck_assert_int_eq(vm_map(root, va, 0x5000, PTE_W), 0);
	ck_assert_uint_eq(pmm_free_pages(), f - 3);
}
END_TEST

/* One page per GiB touched costs a directory each; they go back with the pages. */
START_TEST(prune_gives_back_a_directory_per_gib)
{
	uint64_t base = 0x100000000000, f = pmm_free_pages();
	int k;

	for (k = 0; k < 64; k++)
		ck_assert_int_eq(vm_map(root, base + k * GIB + 0x3000, 0x5000, PTE_W), 0);
	ck_assert_uint_eq(pmm_free_pages(), f - 1 - 64 * 2);	/* one PDPT, 64 PDs and PTs */
	for (k = 0; k < 63; k++) {
		vm_unmap(root, base + k * GIB + 0x3000);
		ck_assert(vm_prune(root, base + k * GIB + 0x3000));
		ck_assert_ptr_null(vm_walk_pde(root, base + k * GIB, false));
	}
	ck_assert_uint_eq(pmm_free_pages(), f - 3);
	ck_assert_uint_eq(*vm_walk(root, base + 63 * GIB + 0x3000, false), 0x5000 | PTE_P | PTE_W);
}
END_TEST

START_TEST(prune_stops_at_the_first_table_still_in_use)
{
	uint64_t va = 0x100000000000, f;

	ck_assert_int_eq(vm_map(root, va, 0x5000, PTE_W), 0);
	ck_assert_int_eq(vm_map(root, va + 0x1ff000, 0x6000, PTE_W), 0);	/* same PT, last entry */
	ck_assert_int_eq(vm_map(root, va + 2 * MIB, 0x7000, PTE_W), 0);	/* same PD, next PT */
	f = pmm_free_pages();
	vm_unmap(root, va);
	ck_assert(!vm_prune(root, va));			/* its PT still maps a page */
	ck_assert_uint_eq(pmm_free_pages(), f);
	vm_unmap(root, va + 0x1ff000);
	ck_assert(vm_prune(root, va + 0x1ff000));	/* the PT goes, the PD stays */
	ck_assert_uint_eq(pmm_free_pages(), f + 1);
	ck_assert_ptr_null(vm_walk(root, va, false));
	ck_assert_uint_eq(*vm_walk(root, va + 2 * MIB, false), 0x7000 | PTE_P | PTE_W);
}
END_TEST

/* A 2 MiB page has no PT: once its PDE is cleared, its directory can go. */
START_TEST(prune_after_a_2mib_page_frees_its_directory)
{
	uint64_t va = 0x100000000000 + 5 * GIB + 4 * MIB, f = pmm_free_pages();
	pte_t *pde = vm_walk_pde(root, va, true);

	ck_assert_ptr_nonnull(pde);
	*pde = 0x200000 | PTE_P | PTE_PS;
	ck_assert(!vm_prune(root, va));			/* the page is still there */
	ck_assert_uint_eq(pmm_free_pages(), f - 2);
	*pde = 0;
	ck_assert(vm_prune(root, va));
	ck_assert_uint_eq(pmm_free_pages(), f);
	ck_assert_uint_eq(((pte_t *)p2v(root))[32], 0);
}
END_TEST

/* The CPU may cache walks through a freed table: pruning the loaded root flushes. */
START_TEST(prune_of_the_loaded_root_flushes)
{
	uint64_t va = 0x100000000000;

	ck_assert_int_eq(vm_map(root, va, 0x5000, PTE_W), 0);
	vm_host_cr3 = root;
	vm_unmap(root, va);
	ck_assert_uint_eq(vm_host_flushes, 1);
	ck_assert(vm_prune(root, va));
	ck_assert_uint_eq(vm_host_flushes, 2);
	ck_assert(!vm_prune(root, va));
	ck_assert_uint_eq(vm_host_flushes, 2);
}
END_TEST

/* The memory report's count: every table below the root in the range, and the unused ones. */
START_TEST(count_tables_sees_every_level_and_the_empty_ones)
{
	uint64_t base = 0x100000000000, empty = 99;

	ck_assert_uint_eq(vm_count_tables(root, base, base + (64ULL << 40), &empty), 0);
	ck_assert_uint_eq(empty, 0);
	ck_assert_int_eq(vm_map(root, base, 0x5000, PTE_W), 0);
	ck_assert_int_eq(vm_map(root, base + 2 * MIB, 0x6000, PTE_W), 0);
	ck_assert_int_eq(vm_map(root, base + (1ULL << 39), 0x7000, PTE_W), 0);	/* next PDPT */
	ck_assert_int_eq(vm_map(root, 0x400000, 0x8000, PTE_W), 0);		/* outside the range */
	ck_assert_uint_eq(vm_count_tables(root, base, base + (64ULL << 40), &empty), 7);
	ck_assert_uint_eq(empty, 0);
	vm_unmap(root, base + 2 * MIB);				/* not pruned: left empty */
	ck_assert_uint_eq(vm_count_tables(root, base, base + (64ULL << 40), &empty), 7);
	ck_assert_uint_eq(empty, 1);
}
END_TEST

START_TEST(bad_arguments_panic)
{
	ck_assert(PANICS(vm_map(root, 0x400800, 0x5000, PTE_W)));
	ck_assert(PANICS(vm_map(root, 0x400000, 0x5800, PTE_W)));
	ck_assert(PANICS(vm_map(root, 0x400000, 0x5000, 0x1000)));
	ck_assert(PANICS(vm_map(root, 0x800000000000, 0x5000, PTE_W)));	/* non-canonical */
	ck_assert(PANICS(vm_walk(0, 0x400000, true)));
	ck_assert(PANICS(vm_walk(root, 0x800000000000, true)));
}
END_TEST

/* The fault report walks whatever addresses a broken stack holds. */
START_TEST(lookups_of_any_address_do_not_panic)
{
	ck_assert_ptr_null(vm_walk(root, 0x800000000000, false));
	ck_assert_ptr_null(vm_walk(root, 0xdeadbeefdeadb000, false));
	ck_assert_ptr_null(vm_walk(0, 0x400000, false));
	ck_assert_uint_eq(vm_unmap(root, 0x800000000000), 0);
}
END_TEST

START_TEST(mmio_is_uncached_offset_and_separated_by_a_gap)
{
	uint64_t pa = 0xe000000123, va, va2, page;
	uint64_t fl = PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_G;

	va = (uint64_t)vm_map_mmio(pa, 0x2000);		/* touches 3 pages */
	ck_assert_uint_ge(va, MMIO_BASE);
	ck_assert_uint_lt(va, STACKS_BASE);
	ck_assert_uint_eq(va & 0xfff, 0x123);
	page = PAGE_ROUND_DOWN(va);
	ck_assert_uint_eq(*vm_walk(root, page, false), 0xe000000000 | fl);
	ck_assert_uint_eq(*vm_walk(root, page + 2 * PAGE_SIZE, false), 0xe000002000 | fl);
	ck_assert_uint_eq(*vm_walk(root, page + 3 * PAGE_SIZE, false), 0);	/* the gap */

	va2 = (uint64_t)vm_map_mmio(0xfee00000, PAGE_SIZE);
	ck_assert_uint_eq(va2, page + 4 * PAGE_SIZE);
	ck_assert_uint_eq(*vm_walk(root, va2, false), 0xfee00000 | fl);
}
END_TEST

START_TEST(stacks_are_fresh_ram_above_a_guard_page)
{
	uint64_t top = vm_alloc_stack(), top2 = vm_alloc_stack(), va;
	pte_t e;

	ck_assert_uint_ge(top - L0_STACK_SIZE, STACKS_BASE + PAGE_SIZE);
	ck_assert_uint_eq(top % PAGE_SIZE, 0);
	for (va = top - L0_STACK_SIZE; va < top; va += PAGE_SIZE) {
		e = *vm_walk(root, va, false);
		ck_assert_uint_eq(e & ~PTE_ADDR_MASK, PTE_P | PTE_W | PTE_NX | PTE_G);
		ck_assert_uint_ge(e & PTE_ADDR_MASK, MIB);
	}
	ck_assert_uint_eq(*vm_walk(root, top - L0_STACK_SIZE - PAGE_SIZE, false), 0);
	ck_assert_uint_eq(top2, top + PAGE_SIZE + L0_STACK_SIZE);
	ck_assert_uint_eq(*vm_walk(root, top, false), 0);	/* top2's guard */
}
END_TEST

START_TEST(mmio_and_stacks_need_vm_init)
{
	kernel_root = 0;
	ck_assert(PANICS(vm_map_mmio(0xfee00000, PAGE_SIZE)));
	ck_assert(PANICS(vm_alloc_stack()));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vm");
	TCase *tc = tcase_create("vm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, map_then_walk_finds_the_entry);
	tcase_add_test(tc, tables_are_made_once_without_u_or_nx);
	tcase_add_test(tc, walk_without_create_finds_nothing_and_allocates_nothing);
	tcase_add_test(tc, unmap_returns_the_old_entry);
	tcase_add_test(tc, a_large_page_in_the_way_stops_the_walk);
	tcase_add_test(tc, present_sees_4k_and_2m_pages);
	tcase_add_test(tc, map_range_maps_every_page);
	tcase_add_test(tc, map_range_crosses_table_boundaries);
	tcase_add_test(tc, addresses_at_both_ends_of_both_halves);
	tcase_add_test(tc, out_of_memory_fails_cleanly_and_recovers);
	tcase_add_test(tc, only_the_loaded_root_is_flushed_and_only_when_it_held_a_page);
	tcase_add_test(tc, set_and_clear_leaf_flush_only_what_was_present);
	tcase_add_test(tc, a_huge_leaf_maps_2mib_and_clears_like_a_small_one);
	tcase_add_test(tc, swap_leaf_returns_the_old_entry_and_flushes_nothing);
	tcase_add_test(tc, taking_the_dirty_and_accessed_bits_clears_them_and_flushes_once);
	tcase_add_test(tc, set_writable_gives_and_takes_w_alone);
	tcase_add_test(tc, split_huge_maps_the_same_frames_in_512_small_pages);
	tcase_add_test(tc, prune_frees_every_empty_table_but_the_root);
	tcase_add_test(tc, prune_gives_back_a_directory_per_gib);
	tcase_add_test(tc, prune_stops_at_the_first_table_still_in_use);
	tcase_add_test(tc, prune_after_a_2mib_page_frees_its_directory);
	tcase_add_test(tc, prune_of_the_loaded_root_flushes);
	tcase_add_test(tc, count_tables_sees_every_level_and_the_empty_ones);
	tcase_add_test(tc, bad_arguments_panic);
	tcase_add_test(tc, lookups_of_any_address_do_not_panic);
	tcase_add_test(tc, mmio_is_uncached_offset_and_separated_by_a_gap);
	tcase_add_test(tc, stacks_are_fresh_ram_above_a_guard_page);
	tcase_add_test(tc, mmio_and_stacks_need_vm_init);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite(), false);
}
