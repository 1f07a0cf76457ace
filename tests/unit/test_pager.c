/*
 * The pager over a fake machine: an mmap'd arena is physical RAM from 1 MiB
 * (a few MiB, so the cache fills and evicts), the page tables are the real
 * vm.c and pmm.c, and the disk is the fake driver of fake_disk.c under the
 * real blkdev.c.
 *
 * The fake disk is sparse: a sector never written reads as pattern(offset).
 * Requests complete only when the pager waits or polls, oldest first, so
 * write-back really has requests in flight.  Every request the driver gets
 * is logged (op, sector, nsectors, outcome) for the assertions, and the
 * device can be told to fail the Nth request or any request touching a range
 * of sectors.
 *
 * Layer 1 is simulated at the page-table level, since the window's addresses
 * are never dereferenced here: "layer 1 touches a page" is pager_fault_r() if
 * the leaf is not present, then the accessed bit set by hand in the leaf;
 * a write is pager_write_fault() if the leaf is read-only (as every page is
 * before its first write), then the dirty bit and a change of the frame.
 *
 * The pager keeps its descriptors in vm_alloc_area() memory, whose addresses
 * lie in layer 0's upper half, out of a host process's reach.  The .deps file
 * links with --wrap=vm_alloc_area: the real function still takes and maps the
 * pages, so the accounting is the kernel's, and the pager gets host memory of
 * the same size.
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_NORESERVE */
#include <check.h>

#include "fake.h"
#include "fake_disk.h"
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "defs.h"
#include "blkdev.h"
#include "journal.h"
#include "pager.h"
#include "strata/abi.h"

extern uint64_t direct_base;

#define MIB		0x100000ULL
#define WORDS		(PAGE_SIZE / 8)

static uint8_t *arena;
static uint64_t arena_bytes;
static jmp_buf *exit_jmp;
static uint32_t exit_code;

/* ---- the rest of the machine --------------------------------------------- */

void machine_exit(uint32_t code)
{
	exit_code = code;
	if (exit_jmp != 0)
		longjmp(*exit_jmp, 1);
	ck_abort_msg("machine_exit(%u)", code);
	abort();
}

void *__real_vm_alloc_area(uint64_t bytes);
void *__wrap_vm_alloc_area(uint64_t bytes);

void *__wrap_vm_alloc_area(uint64_t bytes)
{
	void *p;

	__real_vm_alloc_area(bytes);
	p = mmap(NULL, PAGE_ROUND_UP(bytes), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

/* Like l1_window_perm with a disk: all of it is layer 1's, read-write data. */
static uint64_t perm(uint64_t off)
{
	return off < DISK_BYTES ? PTE_P | PTE_W | PTE_NX : 0;
}

static void setup(void)
{
	fake_disk_create();
}

static void teardown(void)
{
	fake_disk_destroy();
	if (arena != 0)
		munmap(arena, arena_bytes);
}

/* Fake RAM of ram_mib from 1 MiB, a PML4, and the pager on dev. */
static void boot(uint64_t ram_mib, struct blkdev *dev, uint32_t faultaround)
{
	struct range ram = { MIB, ram_mib * MIB };

	arena_bytes = MIB + ram_mib * MIB;
	arena = mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(arena, MAP_FAILED);
	direct_base = (uint64_t)arena;
	pmm_init(&ram, 1, NULL, 0);
	kernel_root = pmm_alloc();
	ck_assert_uint_ne(kernel_root, 0);
	pager_init(dev, perm, faultaround);
	nlog = 0;
}

/* ---- layer 1, as the page tables see it ----------------------------------- */

/* The entry that maps the page: its PTE, or the PDE of the 2 MiB page around it. */
static pte_t *leaf(uint64_t page)
{
	uint64_t va = STRATA_DISK_WINDOW_BASE + page * PAGE_SIZE;
	pte_t *pde = vm_walk_pde(kernel_root, va, false);

	if (pde != 0 && (*pde & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
		return pde;
	return vm_walk(kernel_root, va, false);
}

static bool huge(uint64_t page)
{
	pte_t *e = leaf(page);

	return e != 0 && (*e & PTE_PS);
}

static bool mapped(uint64_t page)
{
	pte_t *e = leaf(page);

	return e != 0 && (*e & PTE_P);
}

static uint64_t *frame(uint64_t page)
{
	ck_assert_msg(mapped(page), "page %lu is not mapped", (unsigned long)page);
	if (huge(page))
		return p2v((*leaf(page) & PTE_ADDR_MASK & ~(HUGE_SIZE - 1)) + page % HUGE_PAGES * PAGE_SIZE);
	return p2v(*leaf(page) & PTE_ADDR_MASK);
}

/* Layer 1 reads the page: a fault if it is not mapped, then the CPU sets A. */
/* A read fault, as l1fault.c raises it for a load. */
static int pager_fault_r(uint64_t off)
{
	return pager_fault(off, false);
}

static void touch(uint64_t page)
{
	if (!mapped(page))
		ck_assert_int_eq(pager_fault_r(page * PAGE_SIZE), 0);
	*leaf(page) |= PTE_A;
}

/* Layer 1 fills the page with byte: as touch, and the CPU sets D. */
static void scribble(uint64_t page, uint8_t byte)
{
	touch(page);
	if (!(*leaf(page) & PTE_W))	/* the first write since it was mapped or checkpointed */
		ck_assert_int_eq(pager_write_fault(page * PAGE_SIZE), 0);
	ck_assert(*leaf(page) & PTE_W);
	*leaf(page) |= PTE_D;
	memset(frame(page), byte, PAGE_SIZE);
}

static bool holds_disk(const uint64_t *mem, uint64_t page)
{
	for (uint64_t w = 0; w < WORDS; w++)
		if (mem[w] != pattern(page * PAGE_SIZE + w * 8))
			return false;
	return true;
}

static bool filled(const void *mem, uint8_t byte)
{
	const uint64_t *w = mem;

	for (uint64_t i = 0; i < WORDS; i++)
		if (w[i] != byte * 0x0101010101010101ULL)
			return false;
	return true;
}

/* Pages cached now, when every one came from a read that succeeded. */
static uint64_t cached_pages(void)
{
	return pager_stats()->read_pages - pager_stats()->evictions;
}

/* The page-table pages of this table and the tables below it (level 1: a PT). */
static uint64_t tables_below(uint64_t pa, int level)
{
	const pte_t *t = p2v(pa);
	uint64_t n = 1;

	if (level == 1)
		return 1;
	for (int i = 0; i < 512; i++)
		if ((t[i] & PTE_P) && !(t[i] & PTE_PS))
			n += tables_below(t[i] & PTE_ADDR_MASK, level - 1);
	return n;
}

/* The page-table pages that map the disk window (not the PML4). */
static uint64_t window_tables(void)
{
	const pte_t *pml4 = p2v(kernel_root);
	uint64_t first = STRATA_DISK_WINDOW_BASE >> 39;
	uint64_t end = (STRATA_DISK_WINDOW_BASE + STRATA_DISK_WINDOW_SIZE) >> 39;
	uint64_t n = 0;

	for (uint64_t i = first; i < end; i++)
		if (pml4[i] & PTE_P)
			n += tables_below(pml4[i] & PTE_ADDR_MASK, 3);
	return n;
}

/* ---- reads ------------------------------------------------------------------ */

START_TEST(a_random_miss_reads_one_page)
{
	boot(8, &disk, 1);
	ck_assert_int_eq(pager_fault_r(100 * PAGE_SIZE + 123), 0);
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_READ, 100, 1);
	ck_assert(holds_disk(frame(100), 100));
	ck_assert_int_eq(pager_fault_r(40 * PAGE_SIZE), 0);
	ck_assert_int_eq(pager_fault_r(300 * PAGE_SIZE), 0);
	ck_assert_int_eq(nlog, 3);
	expect_req(1, BLK_READ, 40, 1);
	expect_req(2, BLK_READ, 300, 1);
	ck_assert(!mapped(41) && !mapped(101) && !mapped(301));
	ck_assert_uint_eq(pager_stats()->misses, 3);
	ck_assert_uint_eq(pager_stats()->read_pages, 3);
}
END_TEST

/*
 * A stream's first page is one small read; the second starts read-ahead:
 * 16 pages at once, then background reads that double up to 256 pages, each
 * starting where the last ended, so every page is read exactly once.
 */
START_TEST(sequential_reads_grow_and_cover_the_stream_once)
{
	uint64_t first = 2000, n = 600, next = first;
	uint32_t want = 16;

	boot(8, &disk, 1);
	for (uint64_t p = first; p < first + n; p++) {
		touch(p);
		ck_assert(holds_disk(frame(p), p));
	}
	expect_req(0, BLK_READ, first, 1);
	expect_req(1, BLK_READ, first + 1, 16);
	for (int k = 0; k < nlog; k++) {
		ck_assert_int_eq(reqlog[k].op, BLK_READ);
		ck_assert_uint_eq(reqlog[k].sector, next * BLK_SECTORS_PER_PAGE);
		next += reqlog[k].nsectors / BLK_SECTORS_PER_PAGE;
		if (k >= 2) {
			want = want * 2 > 256 ? 256 : want * 2;
			ck_assert_uint_le(reqlog[k].nsectors / BLK_SECTORS_PER_PAGE, want);
		}
	}
	ck_assert_uint_ge(next, first + n);
	ck_assert_int_lt(nlog, (int)(n / 16));
	ck_assert_uint_eq(pager_stats()->evictions, 0);
}
END_TEST

START_TEST(read_ahead_stops_where_the_window_stops_being_layer_1s)
{
	uint64_t end = DISK_PAGES;

	boot(8, &disk, 1);
	touch(end - 10);
	touch(end - 9);
	ck_assert_int_eq(nlog, 2);
	expect_req(1, BLK_READ, end - 9, 9);
	ck_assert_uint_eq(reqlog[1].status, BLK_OK);
}
END_TEST

START_TEST(read_ahead_stops_at_a_cached_page)
{
	boot(8, &disk, 1);
	touch(5010);
	touch(5000);
	touch(5001);		/* continues the read of 5000: 16 wanted, 9 free */
	ck_assert_int_ge(nlog, 3);
	expect_req(2, BLK_READ, 5001, 9);
	/* and what is read ahead in the background skips the cached page */
	for (int k = 3; k < nlog; k++)
		ck_assert_uint_ge(reqlog[k].sector, 5011 * BLK_SECTORS_PER_PAGE);
}
END_TEST

/*
 * Fault-around must not map pages a background read is still filling: layer
 * 1 would read garbage, and its writes would be overwritten when the read
 * lands (this lost data under memory pressure once).
 */
START_TEST(fault_around_skips_pages_still_being_read)
{
	boot(8, &disk, 16);
	touch(2000);
	touch(2001);		/* reads 2001..2016; 2017..2048, 2049..2112 in the background */
	ck_assert(mapped(2016));
	ck_assert_int_ge(npending, 2);
	/* The fault reaps the first background read (the fake device completes
	 * one request a poll): 2048 is a hit, 2049.. are still being read. */
	ck_assert_int_eq(pager_fault_r(2048 * PAGE_SIZE), 0);
	ck_assert(mapped(2048));
	ck_assert(!mapped(2049));
	ck_assert(!mapped(2063));
	touch(2049);		/* waits for its read, then has the disk's data */
	ck_assert(holds_disk(frame(2049), 2049));
}
END_TEST

/* A checkpoint's pages: those written since the last checkpoint, harvested and write-protected. */
static struct jpage cp_pages[4096];

static void steal_none(void)
{
}

static void drain_none(void)
{
}

static bool in_checkpoint(uint32_t n, uint64_t page)
{
	for (uint32_t k = 0; k < n; k++)
		if (cp_pages[k].home == page)
			return true;
	return false;
}

START_TEST(a_checkpoint_takes_the_pages_written_since_the_last)
{
	uint32_t n;

	boot(8, &disk, 1);
	pager_checkpoints(steal_none, drain_none);
	scribble(100, 1);
	scribble(101, 2);
	touch(102);			/* read only: never on the list */
	ck_assert_uint_eq(pager_dirty_count(), 2);
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 2);
	ck_assert(in_checkpoint(n, 100) && in_checkpoint(n, 101));
	ck_assert(cp_pages[0].pa != 0 && p2v(cp_pages[0].pa) == frame(cp_pages[0].home));
	ck_assert(!(*leaf(100) & (PTE_W | PTE_D)) && !(*leaf(101) & (PTE_W | PTE_D)));
	pager_checkpoint_done(cp_pages, n, true);
	ck_assert_uint_eq(pager_dirty_count(), 0);
	scribble(200, 3);
	scribble(100, 4);		/* written again while its home write is in flight: a copy */
	ck_assert_uint_eq(pager_stats()->cow_copies, 1);
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert(disk_filled(100, 1));	/* the journaled version went home, not the new one */
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 2);
	ck_assert(in_checkpoint(n, 100) && in_checkpoint(n, 200) && !in_checkpoint(n, 101));
	pager_checkpoint_done(cp_pages, n, true);
}
END_TEST

/* A checkpoint that did not become durable leaves its pages for the next. */
START_TEST(a_failed_checkpoint_keeps_its_pages_for_the_next)
{
	boot(8, &disk, 1);
	scribble(300, 7);
	scribble(301, 8);
	ck_assert_uint_eq(pager_checkpoint_pages(cp_pages), 2);
	pager_checkpoint_done(cp_pages, 2, false);
	ck_assert_uint_eq(pager_dirty_count(), 2);
	ck_assert_uint_eq(pager_checkpoint_pages(cp_pages), 2);
	pager_checkpoint_done(cp_pages, 2, true);
}
END_TEST

/*
 * Layer 1 writes a page whose frame a checkpoint record is being written
 * from: it goes on in a copy, and the record's frame keeps the version the
 * checkpoint took until the record is done, which frees it.
 */
START_TEST(a_write_during_a_checkpoint_goes_to_a_copy)
{
	uint64_t snap, free_before;
	uint32_t n;

	boot(8, &disk, 1);
	pager_checkpoints(steal_none, drain_none);
	scribble(60, 1);
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 1);
	snap = cp_pages[0].pa;
	scribble(60, 2);
	ck_assert_uint_eq(pager_stats()->cow_copies, 1);
	ck_assert(v2p(frame(60)) != snap);
	ck_assert(filled(p2v(snap), 1) && filled(frame(60), 2));
	ck_assert_uint_eq(pager_dirty_count(), 1);
	free_before = pmm_free_pages();
	pager_checkpoint_done(cp_pages, n, true);
	ck_assert_uint_eq(pmm_free_pages(), free_before + 1);	/* the record's frame */
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 1);
	ck_assert(filled(p2v(cp_pages[0].pa), 2));
	pager_checkpoint_done(cp_pages, n, true);
}
END_TEST

/*
 * A page written twice while one record is in flight is copied once; with
 * two records in flight each keeps its own version, and they end in order.
 */
START_TEST(a_page_written_twice_is_copied_once_per_record)
{
	static struct jpage second[16];
	uint32_t n1, n2;

	boot(8, &disk, 1);
	pager_checkpoints(steal_none, drain_none);
	scribble(61, 1);
	n1 = pager_checkpoint_pages(cp_pages);
	scribble(61, 2);
	scribble(61, 3);		/* writable already: no fault, no second copy */
	ck_assert_uint_eq(pager_stats()->cow_copies, 1);
	n2 = pager_checkpoint_pages(second);
	ck_assert_uint_eq(n2, 1);
	scribble(61, 4);
	ck_assert_uint_eq(pager_stats()->cow_copies, 2);
	ck_assert(filled(p2v(cp_pages[0].pa), 1) && filled(p2v(second[0].pa), 3));
	pager_checkpoint_done(cp_pages, n1, true);
	pager_checkpoint_done(second, n2, true);
	ck_assert(filled(frame(61), 4));
	ck_assert_uint_eq(pager_dirty_count(), 1);
	n1 = pager_checkpoint_pages(cp_pages);
	ck_assert(n1 == 1 && filled(p2v(cp_pages[0].pa), 4));
	pager_checkpoint_done(cp_pages, n1, true);
}
END_TEST

static struct jpage *pending_pages;
static uint32_t pending_n;
static int drains;

/* checkpoint.c's drain: the record in flight ends, durable. */
static void drain_pending(void)
{
	drains++;
	if (pending_pages != 0)
		pager_checkpoint_done(pending_pages, pending_n, true);
	pending_pages = 0;
}

/*
 * The CLOCK never evicts a page whose frame a record is being written
 * from; when such pages pin all it could take, it waits for the records.
 */
START_TEST(the_clock_leaves_a_page_under_a_checkpoint_alone)
{
	uint32_t n;

	boot(4, &disk, 1);
	pager_checkpoints(steal_none, drain_pending);
	for (uint64_t p = 0; p < 300; p++)
		scribble(7000 + p, (uint8_t)(p + 1));
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 300);
	pending_pages = cp_pages;
	pending_n = n;
	for (uint64_t p = 0; p < 3000; p++)
		touch(90000 + p);	/* reads that need the cache's every page */
	ck_assert_uint_gt(pager_stats()->evictions, 0);
	if (pending_pages != 0)
		for (uint32_t k = 0; k < n; k++)
			ck_assert_msg(filled(p2v(cp_pages[k].pa), (uint8_t)(cp_pages[k].home - 7000 + 1)),
			    "page %lu", (unsigned long)cp_pages[k].home);
	ck_assert_int_le(drains, 1);
	drain_pending();
	for (uint64_t p = 0; p < 300; p++) {
		touch(7000 + p);
		ck_assert(filled(frame(7000 + p), (uint8_t)(p + 1)));
	}
}
END_TEST

/* A record that failed gives its pages back to the next checkpoint, in their newest version. */
START_TEST(a_failed_record_leaves_the_newest_version_for_the_next)
{
	uint64_t free_before;
	uint32_t n;

	boot(8, &disk, 1);
	pager_checkpoints(steal_none, drain_none);
	scribble(70, 1);
	scribble(71, 1);
	n = pager_checkpoint_pages(cp_pages);
	scribble(70, 2);		/* a copy: the record keeps version 1 */
	free_before = pmm_free_pages();
	pager_checkpoint_done(cp_pages, n, false);
	ck_assert_uint_eq(pmm_free_pages(), free_before + 1);
	ck_assert_uint_eq(pager_dirty_count(), 2);
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert(disk_pristine(70) && disk_pristine(71));	/* neither is journaled */
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 2);
	for (uint32_t k = 0; k < n; k++)
		ck_assert(filled(p2v(cp_pages[k].pa), cp_pages[k].home == 70 ? 2 : 1));
	pager_checkpoint_done(cp_pages, n, true);
}
END_TEST

START_TEST(a_hit_issues_no_io)
{
	int before;

	boot(8, &disk, 1);
	touch(500);
	touch(501);		/* reads 501..516, and more in the background */
	expect_req(1, BLK_READ, 501, 16);
	before = nlog;
	ck_assert(!mapped(510));
	ck_assert_int_eq(pager_fault_r(510 * PAGE_SIZE), 0);
	ck_assert(mapped(510));
	ck_assert(holds_disk(frame(510), 510));
	ck_assert_int_eq(nlog, before);
	ck_assert_uint_eq(pager_stats()->hits, 1);
	ck_assert_uint_eq(pager_stats()->misses, 2);
}
END_TEST

START_TEST(fault_around_maps_the_cached_pages_of_its_block_only)
{
	static const uint64_t cached[] = { 97, 110, 112, 120 };

	boot(8, &disk, 16);
	for (size_t k = 0; k < ARRAY_LEN(cached); k++)	/* cached, not mapped */
		ck_assert_ptr_nonnull(pager_page_for_write(cached[k] * PAGE_SIZE, true));
	ck_assert_int_eq(pager_fault_r(105 * PAGE_SIZE), 0);	/* a random miss */
	ck_assert_int_eq(nlog, 5);
	expect_req(4, BLK_READ, 105, 1);
	for (uint64_t p = 90; p < 130; p++)
		ck_assert_msg(mapped(p) == (p == 97 || p == 105 || p == 110),
		    "page %lu mapped: %d", (unsigned long)p, mapped(p));
	ck_assert_int_eq(pager_fault_r(120 * PAGE_SIZE), 0);	/* a hit */
	ck_assert_int_eq(nlog, 5);
	ck_assert(mapped(112) && mapped(120));
	ck_assert(holds_disk(frame(112), 112));
	ck_assert(!mapped(111) && !mapped(128));
}
END_TEST

START_TEST(with_fault_around_a_sequential_read_is_mapped_at_once)
{
	boot(8, &disk, 16);
	ck_assert_int_eq(pager_fault_r(100 * PAGE_SIZE), 0);
	ck_assert_int_eq(pager_fault_r(101 * PAGE_SIZE), 0);	/* reads 101..116 */
	expect_req(1, BLK_READ, 101, 16);
	for (uint64_t p = 96; p < 130; p++)
		ck_assert_msg(mapped(p) == (p >= 100 && p < 117),
		    "page %lu mapped: %d", (unsigned long)p, mapped(p));
	for (uint64_t p = 101; p < 117; p++)
		ck_assert(holds_disk(frame(p), p));
	ck_assert_uint_eq(pager_stats()->faults, 2);
}
END_TEST

START_TEST(pager_page_for_write_gives_the_disk_contents_or_zeros_and_marks_them_dirty)
{
	uint64_t *a, *b;

	boot(8, &disk, 1);
	a = pager_page_for_write(3000 * PAGE_SIZE + 5, true);
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_READ, 3000, 1);
	ck_assert(holds_disk(a, 3000));
	ck_assert_ptr_eq(pager_page_for_write(3000 * PAGE_SIZE, true), a);
	b = pager_page_for_write(3001 * PAGE_SIZE, false);
	ck_assert(filled(b, 0));
	ck_assert_int_eq(nlog, 1);
	memset(b, 0x5e, PAGE_SIZE);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 2);
	expect_req(0, BLK_WRITE, 3000, 2);
	expect_req(1, BLK_FLUSH, 0, 0);
	ck_assert(disk_filled(3001, 0x5e));
}
END_TEST

START_TEST(a_read_error_fails_the_fault_and_caches_nothing)
{
	uint64_t free0;

	boot(8, &disk, 1);
	free0 = pmm_free_pages();
	fail_pages(500, 1);
	ck_assert_int_eq(pager_fault_r(500 * PAGE_SIZE), -1);
	ck_assert_int_eq(nlog, 1);
	ck_assert_uint_eq(reqlog[0].status, BLK_IOERR);
	ck_assert(!mapped(500));
	ck_assert_uint_eq(pmm_free_pages(), free0);
	ck_assert_ptr_null(pager_page_for_write(500 * PAGE_SIZE, true));
	ck_assert_uint_eq(pmm_free_pages(), free0);
	fail_pages(0, 0);
	ck_assert_int_eq(pager_fault_r(500 * PAGE_SIZE), 0);
	ck_assert_int_eq(nlog, 3);
	expect_req(2, BLK_READ, 500, 1);
	ck_assert(holds_disk(frame(500), 500));
}
END_TEST

/*
 * Read-ahead is a guess: a bad sector in a page layer 1 did not ask for must
 * not fail the fault of a page that reads fine.
 */
START_TEST(a_read_ahead_error_does_not_fail_a_readable_page)
{
	boot(8, &disk, 1);
	touch(700);
	fail_pages(710, 1);
	ck_assert_int_eq(pager_fault_r(701 * PAGE_SIZE), 0);
	ck_assert(holds_disk(frame(701), 701));
	ck_assert(!mapped(710));
}
END_TEST

/* ---- write-back ------------------------------------------------------------- */

START_TEST(sync_writes_dirty_pages_in_order_in_runs_of_at_most_256)
{
	boot(8, &disk, 1);
	scribble(1005, 0xa5);
	for (uint64_t p = 1003; p >= 1000; p--)
		scribble(p, 0xa1);
	for (uint64_t p = 600; p < 860; p++)
		scribble(p, 0xb2);
	touch(1004);
	touch(1006);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 5);
	expect_req(0, BLK_WRITE, 600, 256);
	expect_req(1, BLK_WRITE, 856, 4);
	expect_req(2, BLK_WRITE, 1000, 4);
	expect_req(3, BLK_WRITE, 1005, 1);
	expect_req(4, BLK_FLUSH, 0, 0);
	for (uint64_t p = 600; p < 860; p++)
		ck_assert(disk_filled(p, 0xb2));
	ck_assert(disk_filled(1000, 0xa1) && disk_filled(1003, 0xa1));
	ck_assert(disk_filled(1005, 0xa5));
	ck_assert(disk_pristine(860) && disk_pristine(1004) && disk_pristine(1006));
	ck_assert(!(*leaf(1005) & PTE_D));
	ck_assert_uint_eq(pager_stats()->write_pages, 265);
}
END_TEST

START_TEST(a_sync_with_nothing_dirty_writes_nothing_but_flushes)
{
	boot(8, &disk, 1);
	scribble(42, 1);
	ck_assert_int_eq(pager_sync(), 0);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_FLUSH, 0, 0);
}
END_TEST

START_TEST(sync_keeps_at_most_8_writes_in_flight)
{
	boot(8, &disk, 1);
	for (uint64_t r = 0; r < 10; r++)
		for (uint64_t p = 4000 + 10 * r; p < 4004 + 10 * r; p++)
			scribble(p, (uint8_t)(r + 1));
	nlog = 0;
	max_inflight = 0;
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(count_ops(BLK_WRITE), 10);
	ck_assert_int_eq(max_inflight, 8);
	for (uint64_t r = 0; r < 10; r++)
		ck_assert(disk_filled(4003 + 10 * r, (uint8_t)(r + 1)));
	expect_req(10, BLK_FLUSH, 0, 0);
}
END_TEST

START_TEST(a_write_error_in_sync_returns_minus_1_and_the_pages_stay_dirty)
{
	boot(8, &disk, 1);
	for (uint64_t p = 100; p < 104; p++)
		scribble(p, 0x11);
	scribble(200, 0x22);
	scribble(201, 0x22);
	fail_pages(200, 1);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), -1);
	ck_assert_int_eq(nlog, 3);
	expect_req(0, BLK_WRITE, 100, 4);
	expect_req(1, BLK_WRITE, 200, 2);
	ck_assert_uint_eq(reqlog[1].status, BLK_IOERR);
	expect_req(2, BLK_FLUSH, 0, 0);
	ck_assert(disk_filled(100, 0x11));
	ck_assert(disk_pristine(200) && disk_pristine(201));
	fail_pages(0, 0);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 2);
	expect_req(0, BLK_WRITE, 200, 2);
	ck_assert(disk_filled(200, 0x22) && disk_filled(201, 0x22));
}
END_TEST

static int steals;

/* The checkpoint code's part, as checkpoint.c plays it: every dirty page into a durable checkpoint. */
static void steal_by_checkpoint(void)
{
	uint32_t n;

	steals++;
	n = pager_checkpoint_pages(cp_pages);
	pager_checkpoint_done(cp_pages, n, true);
}

/* With checkpoints on, a page goes home only in a version a durable checkpoint holds. */
START_TEST(only_journaled_pages_go_home)
{
	boot(8, &disk, 1);
	pager_checkpoints(steal_by_checkpoint, drain_none);
	for (uint64_t p = 10; p < 14; p++)
		scribble(p, 0x33);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 1);		/* the flush alone */
	expect_req(0, BLK_FLUSH, 0, 0);
	ck_assert(disk_pristine(10) && disk_pristine(13));
	ck_assert_uint_eq(pager_checkpoint_pages(cp_pages), 4);
	nlog = 0;
	pager_checkpoint_done(cp_pages, 4, true);	/* durable: their home write starts at once */
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_WRITE, 10, 4);
	ck_assert_int_eq(pager_sync(), 0);	/* waits for it; nothing is left to write */
	ck_assert_int_eq(nlog, 2);
	expect_req(1, BLK_FLUSH, 0, 0);
	ck_assert(disk_filled(10, 0x33) && disk_filled(13, 0x33));
	ck_assert_int_eq(steals, 0);
}
END_TEST

/*
 * Layer 0 overwriting a page whose home write is in flight gets a copy too:
 * the journaled version goes home, the new one waits for its checkpoint.
 */
START_TEST(layer_0_writing_a_page_going_home_gets_a_copy)
{
	uint8_t *mem;

	boot(8, &disk, 1);
	pager_checkpoints(steal_by_checkpoint, drain_none);
	scribble(40, 0x5e);
	nlog = 0;
	steal_by_checkpoint();
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_WRITE, 40, 1);
	mem = pager_page_for_write(40 * PAGE_SIZE, true);
	ck_assert_ptr_nonnull(mem);
	ck_assert_uint_eq(pager_stats()->cow_copies, 1);
	ck_assert(filled(mem, 0x5e));
	memset(mem, 0x5f, PAGE_SIZE);
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert(disk_filled(40, 0x5e));	/* the new version is in no checkpoint yet */
	steal_by_checkpoint();
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert(disk_filled(40, 0x5f));
}
END_TEST

/*
 * The steal rule: when the CLOCK wants a dirty page no checkpoint holds, a
 * checkpoint comes first, and no home location ever gets a version newer
 * than the last checkpoint.
 */
START_TEST(the_clock_checkpoints_before_it_evicts_a_page_no_checkpoint_holds)
{
	boot(4, &disk, 1);
	pager_checkpoints(steal_by_checkpoint, drain_none);
	for (uint64_t p = 0; p < 4000; p++) {
		scribble(50000 + p, (uint8_t)p);
		if (pager_dirty_count() >= 1000)
			steal_by_checkpoint();	/* checkpoint.c's early checkpoint */
	}
	ck_assert_int_gt(steals, 4);
	ck_assert_uint_gt(pager_stats()->evictions, 0);
	for (uint64_t p = 0; p < 4000; p++) {
		touch(50000 + p);
		ck_assert_msg(filled(frame(50000 + p), (uint8_t)p), "page %lu", (unsigned long)p);
	}
}
END_TEST

START_TEST(a_failed_flush_fails_the_sync)
{
	boot(8, &disk, 1);
	scribble(42, 1);
	nlog = 0;
	fail_nth = 2;
	ck_assert_int_eq(pager_sync(), -1);
	expect_req(1, BLK_FLUSH, 0, 0);
}
END_TEST

/* ---- eviction --------------------------------------------------------------- */

/* Random misses, one page each, from page first by twos until n were faulted. */
static uint64_t fault_randomly(uint64_t first, uint64_t n, bool accessed)
{
	for (uint64_t k = 0; k < n; k++) {
		ck_assert_int_eq(pager_fault_r((first + 2 * k) * PAGE_SIZE), 0);
		if (accessed)
			*leaf(first + 2 * k) |= PTE_A;
	}
	return first + 2 * n;
}

START_TEST(eviction_gives_pages_with_the_accessed_bit_a_second_chance)
{
	uint64_t base = 10000, n = 0, evicted = 0, last = 0, next;

	boot(4, &disk, 1);
	/* Fill the cache; the first eviction has cleared every referenced bit. */
	while (pager_stats()->evictions == 0) {
		fault_randomly(base + 2 * n, 1, false);
		ck_assert_uint_lt(++n, 4096);
	}
	ck_assert_uint_gt(n, 100);
	for (uint64_t k = 1; k < n; k += 2)
		*leaf(base + 2 * k) |= PTE_A;
	next = fault_randomly(base + 2 * n, n / 4, true);
	for (uint64_t k = 1; k < n; k++) {
		bool in = mapped(base + 2 * k);

		if (k % 2 == 1)
			ck_assert_msg(in, "page %lu was accessed, yet evicted", (unsigned long)k);
		else if (!in) {
			evicted++;
			last = k;
		}
	}
	ck_assert_uint_ge(evicted, n / 4);
	/* the accessed pages the hand passed have used their chance */
	for (uint64_t k = 1; k < last; k += 2)
		ck_assert(!(*leaf(base + 2 * k) & PTE_A));
	for (uint64_t p = base + 2 * n; p < next; p += 2)
		ck_assert(mapped(p));
	ck_assert_int_eq(count_ops(BLK_WRITE), 0);
}
END_TEST

/* Whether the log holds a write that starts at page. */
static bool written_at(uint64_t page)
{
	for (int k = 0; k < nlog; k++)
		if (reqlog[k].op == BLK_WRITE && reqlog[k].sector == page * BLK_SECTORS_PER_PAGE)
			return true;
	return false;
}

/* Layer 1 writes n pages two apart from first, one after another: the cache fills with dirty pages. */
static uint64_t scribble_randomly(uint64_t first, uint64_t n, uint8_t byte)
{
	for (uint64_t k = 0; k < n; k++)
		scribble(first + 2 * k, byte);
	return first + 2 * n;
}

START_TEST(eviction_takes_clean_pages_before_dirty_ones)
{
	boot(4, &disk, 1);
	for (uint64_t q = 20000; q < 20005; q++)
		scribble(q, 0xc3);
	/* Several times the cache in clean pages, each one accessed. */
	fault_randomly(30000, 4000, true);
	ck_assert_uint_gt(pager_stats()->evictions, 2000);
	ck_assert_int_eq(count_ops(BLK_WRITE), 0);
	for (uint64_t q = 20000; q < 20005; q++)
		ck_assert(mapped(q));
}
END_TEST

/*
 * A disk interrupt moves a stream's read-ahead on, but never writes or
 * waits there: with the cache full of dirty pages it evicts clean pages
 * only, and reads less if it has to.
 */
START_TEST(the_disk_interrupt_moves_read_ahead_on_without_writing)
{
	uint64_t reads = 0, stream = 100;

	boot(64, &disk, 16);
	scribble_randomly(40001, 15400, 0x5a);	/* before checkpoints: they could go home freely */
	nlog = 0;
	for (int round = 0; round < 40; round++) {
		for (int k = 0; k < 8; k++)
			touch(stream++);
		nlog = 0;
		pager_interrupt();
		reads += (uint64_t)count_ops(BLK_READ);
		ck_assert_int_eq(count_ops(BLK_WRITE), 0);
	}
	ck_assert_uint_gt(reads, 0);
	ck_assert_uint_gt(pager_stats()->evictions, 0);
	for (uint64_t p = 100; p < stream; p++)
		touch(p);
}
END_TEST

START_TEST(a_dirty_victim_is_written_with_its_dirty_neighbours_then_dropped)
{
	uint64_t p = 30001;
	bool gone = false;
	int first = -1;

	boot(4, &disk, 1);
	for (uint64_t q = 20000; q < 20005; q++)
		scribble(q, 0xc3);		/* 20005.. are cached too, clean */
	/* Only dirty pages left to evict: the CLOCK takes them in its order. */
	while (!gone) {
		p = scribble_randomly(p, 1, 0x3c);
		ck_assert_uint_lt(p, 40000);
		gone = true;
		for (uint64_t q = 20000; q < 20005; q++)
			gone = gone && !mapped(q);
	}
	for (int k = 0; k < nlog; k++)
		if (reqlog[k].op == BLK_WRITE && reqlog[k].sector < 30000 * BLK_SECTORS_PER_PAGE) {
			ck_assert_int_eq(first, -1);	/* one write for the five */
			first = k;
		}
	ck_assert_int_ge(first, 0);
	expect_req(first, BLK_WRITE, 20000, 5);
	for (uint64_t q = 20000; q < 20005; q++)
		ck_assert(disk_filled(q, 0xc3));
	ck_assert(disk_pristine(20005));
	nlog = 0;
	touch(20002);
	expect_req(0, BLK_READ, 20002, 1);
	ck_assert(filled(frame(20002), 0xc3));
}
END_TEST

START_TEST(a_victim_whose_write_fails_stays_until_a_sync_writes_it)
{
	boot(4, &disk, 1);
	scribble(20000, 0x77);
	fail_pages(20000, 1);
	scribble_randomly(30001, 2000, 0x3c);
	ck_assert(written_at(20000));	/* it was a victim, and its write failed */
	ck_assert(mapped(20000));
	ck_assert(filled(frame(20000), 0x77));
	ck_assert(disk_pristine(20000));
	fail_pages(0, 0);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	expect_req(0, BLK_WRITE, 20000, 1);	/* then the dirty pages that stayed */
	ck_assert(disk_filled(20000, 0x77));
	fault_randomly(40000, 2000, true);
	ck_assert(!mapped(20000));
}
END_TEST

START_TEST(evicting_a_sparse_window_gives_its_page_tables_back)
{
	uint64_t free0, p = 1500000, tables;
	bool gone = false;

	boot(4, &disk, 1);
	free0 = pmm_free_pages();
	/* 100 pages 4 MiB apart: each has a page table of its own */
	for (uint64_t k = 0; k < 100; k++)
		touch(1024 * k + 7);
	ck_assert_uint_ge(free0 - pmm_free_pages(), 200);
	while (!gone) {
		touch(p++);
		ck_assert_uint_lt(p, 1500000 + 20000);
		gone = true;
		for (uint64_t k = 0; k < 100; k++)
			gone = gone && !mapped(1024 * k + 7);
	}
	for (uint64_t k = 0; k < 100; k++)
		ck_assert_ptr_null(leaf(1024 * k + 7));
	/* what is still taken: the pressure pages and a few tables for them */
	tables = window_tables();
	ck_assert_uint_eq(free0 - pmm_free_pages(), cached_pages() + tables);
	ck_assert_uint_le(tables, 8);
}
END_TEST

/* A page per GiB costs a directory per GiB: evicting the pages gives those back too. */
START_TEST(evicting_pages_a_gib_apart_gives_their_directories_back)
{
	uint64_t free0, p = 1000, gib = 262144;
	bool gone = false;

	boot(4, &disk, 1);
	free0 = pmm_free_pages();
	for (uint64_t k = 1; k < 8; k++)
		touch(k * gib + 7);
	ck_assert_uint_ge(free0 - pmm_free_pages(), 7 * 3);	/* the page, its PT and its PD */
	while (!gone) {			/* pressure in the first GiB only */
		touch(p++);
		ck_assert_uint_lt(p, 1000 + 20000);
		gone = true;
		for (uint64_t k = 1; k < 8; k++)
			gone = gone && !mapped(k * gib + 7);
	}
	for (uint64_t k = 1; k < 8; k++)
		ck_assert_ptr_null(vm_walk_pde(kernel_root, STRATA_DISK_WINDOW_BASE + k * gib * PAGE_SIZE,
		    false));
	ck_assert_uint_eq(free0 - pmm_free_pages(), cached_pages() + window_tables());
	ck_assert_uint_le(window_tables(), 8);
}
END_TEST

/* ---- 2 MiB pages -------------------------------------------------------------- */

#define SPP	BLK_SECTORS_PER_PAGE

/* Layer 1 reads pages [first, end) in order, each checked against the disk. */
static void stream(uint64_t first, uint64_t end)
{
	for (uint64_t p = first; p < end; p++) {
		touch(p);
		ck_assert_msg(holds_disk(frame(p), p), "page %lu", (unsigned long)p);
	}
}

/*
 * With fault-around on, a stream's small reads stop at a 2 MiB boundary and
 * from there it reads aligned blocks whole, each mapped by one PDE; every
 * page is still read once, and there is about one fault per read.
 */
START_TEST(a_long_stream_reads_aligned_2mib_blocks_whole)
{
	uint64_t first = 100, end = 4100, next = first;
	uint64_t blocks = 0;

	boot(32, &disk, 16);
	stream(first, end);
	for (int k = 0; k < nlog; k++) {
		ck_assert_int_eq(reqlog[k].op, BLK_READ);
		ck_assert_uint_eq(reqlog[k].sector, next * SPP);
		ck_assert(reqlog[k].one_buffer == (reqlog[k].nsectors == HUGE_PAGES * SPP));
		if (reqlog[k].one_buffer) {
			ck_assert_uint_eq(next % HUGE_PAGES, 0);
			blocks++;
		}
		next += reqlog[k].nsectors / SPP;
	}
	ck_assert_uint_ge(next, end);
	ck_assert_uint_ge(blocks, 7);
	ck_assert_uint_eq(pager_stats()->huge_reads, blocks);
	ck_assert(huge(512) && huge(1024 + 300) && huge(4095));
	ck_assert(!huge(100) && !huge(511) && mapped(511));
	ck_assert_uint_lt(pager_stats()->faults, 30);
	ck_assert_uint_eq(pager_stats()->evictions, 0);
}
END_TEST

/*
 * While a fault waits for the stream's read of its page, the reads after it
 * that the device completes first join the cache and their slots take new
 * reads at once: the device is not left with less to do until the fault is
 * over.  Every page is still read once, in order.
 */
START_TEST(a_fault_waiting_on_a_stream_read_starts_reads_as_others_complete)
{
	uint64_t next = 0, end = 8 * HUGE_PAGES;
	int before, waited = -1, during = 0;

	boot(128, &disk, 16);
	stream(0, end);
	while (mapped(end))
		end++;			/* the stream's next fault: a read in flight */
	disk_oldest_last = true;	/* it completes after every read behind it */
	before = nlog;
	touch(end);
	for (int k = 0; k < nlog; k++) {
		uint64_t first = reqlog[k].sector / SPP;

		ck_assert_uint_eq(first, next);
		next += reqlog[k].nsectors / SPP;
		if (end >= first && end < next)
			waited = k;
	}
	ck_assert_int_ge(waited, 0);
	ck_assert_int_lt(waited, before);
	for (int k = before; k < nlog; k++)
		during += reqlog[k].done_before < reqlog[waited].done_seq;
	ck_assert_int_gt(during, 0);
	stream(end, next);
}
END_TEST

/*
 * A stream keeps 12 reads in flight ahead of it when its share of the cache
 * has room: the first fault that continues a read starts them all.
 */
START_TEST(a_stream_keeps_12_reads_in_flight)
{
	boot(128, &disk, 16);
	touch(1000);		/* a random miss: one read */
	touch(1001);		/* continues it: a read of its own, then the stream's */
	ck_assert_int_eq(npending, 12);
	ck_assert_int_eq(nlog, 14);
	stream(1002, 8 * HUGE_PAGES);
	ck_assert_int_le(max_inflight, 12);
}
END_TEST

/* Without fault-around a stream stays in 4 KiB pages: nothing maps more than asked. */
START_TEST(without_fault_around_no_2mib_pages)
{
	boot(32, &disk, 1);
	stream(0, 3000);
	ck_assert_uint_eq(pager_stats()->huge_reads, 0);
	ck_assert(!huge(1024));
	for (int k = 0; k < nlog; k++)
		ck_assert_uint_le(reqlog[k].nsectors, 256 * SPP);
}
END_TEST

/* A 2 MiB page is clean and read-only; a write splits it and dirties one page. */
START_TEST(a_write_splits_a_2mib_page_and_dirties_that_page_alone)
{
	boot(32, &disk, 16);
	stream(0, 2048);
	ck_assert(huge(1031));
	ck_assert(!(*leaf(1031) & PTE_W));
	nlog = 0;
	scribble(1031, 0xab);
	ck_assert(!huge(1024) && !huge(1031) && !huge(1535));
	ck_assert_uint_eq(pager_stats()->splits, 1);
	ck_assert_int_eq(nlog, 0);
	for (uint64_t p = 1024; p < 1536; p++)
		ck_assert_msg(p == 1031 ? filled(frame(p), 0xab) : holds_disk(frame(p), p),
		    "page %lu", (unsigned long)p);
	ck_assert(huge(1536));
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 2);
	expect_req(0, BLK_WRITE, 1031, 1);
	expect_req(1, BLK_FLUSH, 0, 0);
	ck_assert(disk_filled(1031, 0xab));
	ck_assert(disk_pristine(1030) && disk_pristine(1032));
}
END_TEST

/* Layer 0's pages are 4 KiB pages: asking for one splits a 2 MiB page, read-only. */
START_TEST(pager_page_for_write_splits_a_2mib_page)
{
	uint64_t *mem;

	boot(32, &disk, 16);
	stream(0, 2048);
	ck_assert(huge(600) && huge(1500));
	mem = pager_page_for_write(600 * PAGE_SIZE, true);
	ck_assert(holds_disk(mem, 600));
	ck_assert(!huge(600) && mapped(600) && frame(600) == mem);
	ck_assert(!(*leaf(600) & PTE_W) && !(*leaf(601) & PTE_W));	/* writes still fault */
	ck_assert(huge(1500));
	ck_assert_uint_eq(pager_stats()->splits, 1);
	nlog = 0;
	ck_assert_int_eq(pager_sync(), 0);
	expect_req(0, BLK_WRITE, 600, 1);
	ck_assert_int_eq(nlog, 2);
}
END_TEST

/* A failed 2 MiB read caches nothing; its readable pages still read, the bad one fails. */
START_TEST(a_failed_2mib_read_fails_only_the_bad_page)
{
	boot(32, &disk, 16);
	fail_pages(1030, 1);
	stream(0, 1030);
	ck_assert_int_eq(pager_fault_r(1030 * PAGE_SIZE), -1);
	ck_assert(!mapped(1030));
	fail_pages(0, 0);
	stream(1031, 1600);
}
END_TEST

/* A stream far past the cache evicts whole 2 MiB pages and keeps no frame it should not. */
START_TEST(streaming_past_the_cache_evicts_2mib_pages_and_leaks_nothing)
{
	uint64_t free0;

	boot(24, &disk, 16);
	free0 = pmm_free_pages();
	stream(0, 16384);
	ck_assert_uint_gt(pager_stats()->huge_reads, 8);
	ck_assert_uint_gt(pager_stats()->evictions, 8192);
	ck_assert_uint_eq(free0 - pmm_free_pages(), cached_pages() + window_tables());
}
END_TEST

/* A stream past the cache takes the frames of its own old 2 MiB pages: the small pages stay. */
START_TEST(a_stream_recycles_its_2mib_pages_and_leaves_small_pages_cached)
{
	uint64_t free0;

	boot(24, &disk, 16);
	free0 = pmm_free_pages();
	for (uint64_t k = 0; k < 100; k++)
		touch(40000 + 64 * k);
	stream(0, 16384);
	ck_assert_uint_gt(pager_stats()->evictions, 8192);
	for (uint64_t k = 0; k < 100; k++)
		ck_assert_msg(mapped(40000 + 64 * k), "page %lu", (unsigned long)(40000 + 64 * k));
	ck_assert_uint_eq(free0 - pmm_free_pages(), cached_pages() + window_tables());
}
END_TEST

/*
 * Random reads fill the cache with 4 KiB pages spread over the window and
 * over RAM; streams through the window afterwards still read and map
 * aligned 2 MiB blocks (pager_compact.c), and read each page about once a
 * pass: the small pages in a block are given up for its 2 MiB read, and
 * the frames of a run are emptied for it.
 */
START_TEST(streams_after_random_reads_still_read_2mib_pages)
{
	uint64_t free0, pages = 16384, st = 0x9e3779b97f4a7c15ULL;

	boot(24, &disk, 16);
	free0 = pmm_free_pages();
	for (int k = 0; k < 8000; k++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		touch(st % pages);
	}
	ck_assert_uint_eq(pager_stats()->huge_reads, 0);
	for (int pass = 0; pass < 3; pass++) {
		uint64_t huge0 = pager_stats()->huge_reads, read0 = pager_stats()->read_pages;

		stream(0, pages);
		ck_assert_uint_ge(pager_stats()->huge_reads - huge0, pages / HUGE_PAGES * 3 / 4);
		ck_assert_uint_le(pager_stats()->read_pages - read0, pages * 5 / 4);
	}
	ck_assert_uint_gt(pager_stats()->compactions, 0);
	ck_assert_uint_gt(pager_stats()->absorbed, 0);
	ck_assert_uint_eq(free0 - pmm_free_pages(), cached_pages() + window_tables());
}
END_TEST

/*
 * Neither a block's small pages given up for its 2 MiB read nor a run
 * emptied for one ever include a dirty page: layer 1's writes, spread over
 * the stream's blocks and over RAM among clean pages, are all still there
 * after the streams, and the blocks that hold them stay in 4 KiB pages.
 */
START_TEST(streams_after_random_reads_keep_every_dirty_page)
{
	uint64_t pages = 16384, st = 0x2545f4914f6cdd1dULL;

	boot(24, &disk, 16);
	for (uint64_t q = 100; q < pages; q += 1024)
		scribble(q, (uint8_t)(q / 1024 + 1));	/* one in every other block */
	for (int k = 0; k < 8000; k++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		touch(st % pages);
	}
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t p = 0; p < pages; p++) {
			touch(p);
			if (p % 1024 == 100)
				ck_assert_msg(filled(frame(p), (uint8_t)(p / 1024 + 1)), "page %lu", (unsigned long)p);
			else
				ck_assert_msg(holds_disk(frame(p), p), "page %lu", (unsigned long)p);
		}
	ck_assert_uint_gt(pager_stats()->absorbed, 0);
	for (uint64_t q = 100; q < pages; q += 1024)
		ck_assert(!huge(q));
}
END_TEST

/*
 * Two neighbouring pages of a random load (a value across a page boundary)
 * start a stream, but the cache keeps its small pages in the blocks ahead:
 * only a stream that went through a block's worth gives them up.
 */
START_TEST(a_two_page_stream_gives_up_no_small_pages)
{
	uint64_t pages = 16384, st = 0x9e3779b97f4a7c15ULL, p = 1000, pages_read;

	boot(24, &disk, 16);
	for (int k = 0; k < 8000; k++) {
		st ^= st << 13, st ^= st >> 7, st ^= st << 17;
		touch(st % pages);
	}
	while (mapped(p) || mapped(p + 1) || mapped(p + 2))
		p++;
	pages_read = pager_stats()->read_pages;
	touch(p);
	touch(p + 1);
	for (int k = 0; k < 40; k++)
		pager_interrupt();
	ck_assert_uint_gt(pager_stats()->read_pages - pages_read, 16);	/* it read ahead */
	ck_assert_uint_eq(pager_stats()->absorbed, 0);
}
END_TEST

/* ---- everything at once ----------------------------------------------------- */

#define MODEL_MAX	12000
#define PRISTINE	(-1)

static int16_t model[MODEL_MAX];	/* each page's byte, or PRISTINE */
static uint64_t model_pages;		/* the pages in play */
static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static bool page_is(const void *mem, uint64_t page)
{
	return model[page] == PRISTINE ? holds_disk(mem, page) : filled(mem, (uint8_t)model[page]);
}

static bool disk_is(uint64_t page)
{
	return model[page] == PRISTINE ? disk_pristine(page) : disk_filled(page, (uint8_t)model[page]);
}

/* One step of layer 1 and layer 0 at random, on model_pages pages through a smaller cache. */
static void random_step(void)
{
	static uint64_t seq;
	uint64_t p = rnd(model_pages), op = rnd(100);
	uint8_t *mem;

	nlog = 0;
	if (op < 30) {				/* a run of reads */
		for (uint64_t k = 0; k < 20 && seq < model_pages; k++, seq++) {
			touch(seq);
			ck_assert_msg(page_is(frame(seq), seq), "page %lu", (unsigned long)seq);
		}
		if (seq == model_pages)
			seq = rnd(model_pages);
	} else if (op < 60) {
		touch(p);
		ck_assert_msg(page_is(frame(p), p), "page %lu", (unsigned long)p);
	} else if (op < 90) {
		model[p] = (int16_t)(1 + rnd(255));
		scribble(p, (uint8_t)model[p]);
	} else if (op < 95) {			/* layer 0 fills a page, read first or not */
		mem = pager_page_for_write(p * PAGE_SIZE, op % 2 == 0);
		ck_assert_msg(op % 2 != 0 || page_is(mem, p), "page %lu", (unsigned long)p);
		model[p] = (int16_t)rnd(256);
		memset(mem, model[p], PAGE_SIZE);
	} else {
		ck_assert_int_eq(pager_sync(), 0);
	}
}

/* 3000 pages through a cache of about 490. */
static void random_traffic(uint32_t faultaround)
{
	boot(4, &disk, faultaround);
	model_pages = 3000;
	for (uint64_t p = 0; p < model_pages; p++)
		model[p] = PRISTINE;
	for (int k = 0; k < 8000; k++)
		random_step();
	ck_assert_uint_gt(pager_stats()->evictions, 2000);
	ck_assert_int_eq(pager_sync(), 0);
	for (uint64_t p = 0; p < model_pages; p++)
		ck_assert_msg(disk_is(p), "disk page %lu", (unsigned long)p);
}

START_TEST(random_traffic_never_loses_or_mixes_up_data)
{
	random_traffic(1);
}
END_TEST

START_TEST(random_traffic_with_fault_around_never_loses_or_mixes_up_data)
{
	random_traffic(16);
}
END_TEST

/*
 * Streams that read 2 MiB pages, each followed by writes, reads, layer-0
 * fills and syncs at random inside what it read, which split those pages;
 * 12000 pages through a cache of about 5600.
 */
START_TEST(streams_mixed_with_writes_never_lose_or_mix_up_data)
{
	const uint64_t len = 4096;

	boot(24, &disk, 16);
	model_pages = MODEL_MAX;
	for (uint64_t p = 0; p < model_pages; p++)
		model[p] = PRISTINE;
	for (int round = 0; round < 8; round++) {
		uint64_t first = rnd(model_pages - len);

		for (uint64_t p = first; p < first + len; p++) {
			touch(p);
			ck_assert_msg(page_is(frame(p), p), "page %lu", (unsigned long)p);
		}
		for (int k = 0; k < 200; k++) {
			uint64_t p = first + rnd(len), op = rnd(4);
			uint8_t *mem;

			if (op == 0) {
				model[p] = (int16_t)(1 + rnd(255));
				scribble(p, (uint8_t)model[p]);
			} else if (op == 1) {
				touch(p);
				ck_assert_msg(page_is(frame(p), p), "page %lu", (unsigned long)p);
			} else if (op == 2) {
				mem = pager_page_for_write(p * PAGE_SIZE, true);
				ck_assert_msg(page_is(mem, p), "page %lu", (unsigned long)p);
				model[p] = (int16_t)rnd(256);
				memset(mem, model[p], PAGE_SIZE);
			} else if (k % 20 == 0) {
				ck_assert_int_eq(pager_sync(), 0);
			}
		}
	}
	ck_assert_uint_gt(pager_stats()->huge_reads, 8);
	ck_assert_uint_gt(pager_stats()->splits, 8);
	ck_assert_uint_gt(pager_stats()->evictions, 8192);
	ck_assert_int_eq(pager_sync(), 0);
	for (uint64_t p = 0; p < model_pages; p++)
		ck_assert_msg(disk_is(p), "disk page %lu", (unsigned long)p);
}
END_TEST

/* ---- no disk ---------------------------------------------------------------- */

START_TEST(without_a_disk_pages_are_zero_and_sync_does_no_io)
{
	boot(4, 0, 16);
	ck_assert(filled(pager_page_for_write(5 * PAGE_SIZE, true), 0));
	touch(9);
	ck_assert(mapped(5));			/* fault-around: it is cached */
	touch(10);
	ck_assert(filled(frame(9), 0) && filled(frame(10), 0));
	ck_assert(!mapped(11));			/* no read-ahead without a disk */
	scribble(9, 0x33);
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(nlog, 0);
	ck_assert(filled(frame(9), 0x33));
}
END_TEST

START_TEST(without_a_disk_all_dirty_means_out_of_memory)
{
	jmp_buf jb;
	volatile uint64_t n = 0;

	boot(4, 0, 1);
	touch(3);				/* clean: may go */
	exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		for (;;) {
			scribble(100 + n, (uint8_t)n);
			n = n + 1;
			ck_assert_uint_lt(n, 5000);
		}
	}
	exit_jmp = 0;
	ck_assert_uint_eq(exit_code, STRATA_EXIT_L0_NOMEM);
	ck_assert_ptr_nonnull(strstr(fake_console,
	    "every cached page is dirty and there is no disk to write it to"));
	ck_assert_uint_gt(n, 100);
	ck_assert(!mapped(3));
	for (uint64_t k = 0; k < n; k++)	/* dirty pages never left RAM */
		ck_assert(filled(frame(100 + k), (uint8_t)k));
	ck_assert_int_eq(nlog, 0);
}
END_TEST

/* Runs layer 1 touching new pages from first until layer 0 stops; the exit code. */
static uint32_t touch_until_exit(uint64_t first)
{
	jmp_buf jb;
	volatile uint64_t p = first;

	exit_code = 0;
	exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		for (;;) {
			touch(p);
			p = p + 1;
			ck_assert_uint_lt(p, first + 5000);
		}
	}
	exit_jmp = 0;
	return exit_code;
}

/* Out of memory with nothing dirty: the message blames what does hold the RAM. */
START_TEST(out_of_memory_held_by_layer_0_says_so)
{
	boot(4, &disk, 1);
	touch(3);
	while (pmm_alloc() != 0)	/* layer 0 takes every free page */
		;
	ck_assert_uint_eq(touch_until_exit(100), STRATA_EXIT_L0_NOMEM);
	ck_assert_ptr_nonnull(strstr(fake_console, "strata: pager: out of memory: "));
	ck_assert_ptr_nonnull(strstr(fake_console, " pages free, 0 cached (0 dirty, 0 not evictable)"));
	ck_assert_ptr_nonnull(strstr(fake_console, "the rest of layer 0 holds the memory, not the cache"));
	ck_assert_ptr_null(strstr(fake_console, "dirty and its write"));
}
END_TEST

START_TEST(out_of_memory_held_by_the_windows_page_tables_says_so)
{
	uint64_t k;

	boot(4, &disk, 1);
	/* empty tables all over the window, as a leak of them would leave */
	for (k = 1; vm_walk(kernel_root, STRATA_DISK_WINDOW_BASE + (k << 30), true) != 0; k++)
		;
	ck_assert_uint_gt(k, 300);
	ck_assert_uint_eq(touch_until_exit(100), STRATA_EXIT_L0_NOMEM);
	ck_assert_ptr_nonnull(strstr(fake_console, "page tables for the window"));
	ck_assert_ptr_nonnull(strstr(fake_console,
	    "the disk window's page tables hold the memory, not the cache"));
	ck_assert_ptr_null(strstr(fake_console, "dirty and its write"));
}
END_TEST

/* ---- prefetch ---------------------------------------------------------------- */

static uint64_t prefetch(uint64_t page, uint64_t n)
{
	return pager_prefetch(page * PAGE_SIZE, n * PAGE_SIZE);
}

/*
 * The trap starts reads and returns: nothing completes before a touch, which
 * waits for its own read alone and finds the disk's bytes; a run of pages is
 * one read, pages apart are one read each, several dozen in flight at once.
 */
START_TEST(a_prefetch_starts_reads_and_a_touch_waits_for_its_own_alone)
{
	boot(8, &disk, 1);
	ck_assert_uint_eq(prefetch(100, 4), 4);
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_READ, 100, 4);
	ck_assert_int_eq(npending, 1);
	touch(102);		/* its poll finishes the read: no wait, no other read */
	ck_assert(holds_disk(frame(102), 102));
	ck_assert_int_eq(nlog, 1);
	ck_assert_uint_eq(pager_stats()->misses, 0);
	ck_assert_uint_eq(pager_prefetch_stats()->waits, 0);
	/* Every other page cached: one trap starts 40 one-page reads, all in flight. */
	for (uint64_t k = 0; k <= 40; k++)
		touch(1000 + 2 * k);
	nlog = 0;
	ck_assert_uint_eq(prefetch(1000, 81), 40);
	ck_assert_int_eq(nlog, 40);
	ck_assert_int_eq(npending, 40);
	for (int k = 0; k < 40; k++)
		expect_req(k, BLK_READ, 1001 + 2 * (uint64_t)k, 1);
	ck_assert_uint_eq(pager_prefetch_stats()->inflight, 40);
	/* The last one's touch waits for it (the fake completes the older ones first). */
	touch(1079);
	ck_assert_int_eq(npending, 0);
	ck_assert(holds_disk(frame(1079), 1079));
	ck_assert_uint_eq(pager_prefetch_stats()->waits, 1);
	touch(1001);
	ck_assert(holds_disk(frame(1001), 1001));
	ck_assert_int_eq(nlog, 40);
	ck_assert_uint_eq(pager_prefetch_stats()->waits, 1);
	ck_assert_uint_eq(pager_prefetch_stats()->used, 3);
}
END_TEST

/*
 * Prefetch reads are lazy (the device may be told of them with the next
 * ones), a fault's own read is not; a touch of a page whose read the device
 * was not told of yet still gets it, because its wait tells the device.
 */
START_TEST(prefetch_reads_are_lazy_and_a_touch_still_gets_its_page)
{
	boot(8, &disk, 1);
	disk_holds_lazy = true;
	ck_assert_uint_eq(prefetch(100, 4), 4);
	ck_assert_int_eq(nlog, 1);
	ck_assert(reqlog[0].lazy);
	touch(500);
	ck_assert_int_eq(nlog, 2);
	ck_assert(!reqlog[1].lazy);
	ck_assert_int_eq(npending, 0);	/* the miss's wait told the device of both */
	touch(102);
	ck_assert(holds_disk(frame(102), 102));
	ck_assert_int_eq(nlog, 2);
	ck_assert_int_ge(ntells, 1);
}
END_TEST

/*
 * A fault on a page still in flight waits for it: two reads in flight, and
 * the fault's own poll finishes only the older (the fake completes one
 * request a poll).  The fault continues the stream of 701, so read-ahead
 * goes on after it, from 703: those reads are all that is left in flight.
 */
START_TEST(a_touch_of_a_page_in_flight_waits_for_it)
{
	boot(8, &disk, 1);
	touch(701);
	ck_assert_uint_eq(prefetch(700, 3), 2);
	ck_assert_int_eq(npending, 2);
	ck_assert(!mapped(702));
	touch(702);
	ck_assert_int_gt(nlog, 3);
	ck_assert_int_eq(npending, nlog - 3);
	expect_req(3, BLK_READ, 703, 16);
	ck_assert(holds_disk(frame(702), 702));
	ck_assert_uint_eq(pager_prefetch_stats()->waits, 1);
	ck_assert(!mapped(700));
	touch(700);
	ck_assert(holds_disk(frame(700), 700));
	ck_assert_uint_eq(pager_prefetch_stats()->waits, 1);
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, 0);
}
END_TEST

/*
 * A stream's fault may map pages past its last read that are cached
 * already (here one the trap read): read-ahead goes on from the stream's
 * next page, not from its last read, which is behind it.
 */
START_TEST(a_stream_past_its_last_read_still_reads_ahead)
{
	boot(8, &disk, 1);
	touch(801);			/* a miss: a stream may start here, read up to 802 */
	ck_assert_uint_eq(prefetch(802, 2), 2);
	nlog = 0;
	touch(802);			/* a hit that continues it: its next page is 803 */
	ck_assert_int_gt(nlog, 0);
	expect_req(0, BLK_READ, 804, 16);	/* 803 is the trap's */
	for (uint64_t p = 803; p < 830; p++)
		touch(p);
	ck_assert_uint_eq(pager_stats()->misses, 1);
}
END_TEST

/* A page in RAM, or being read, costs nothing: no read, 0 started. */
START_TEST(a_prefetch_of_cached_pages_reads_nothing)
{
	boot(8, &disk, 1);
	touch(300);
	touch(302);
	ck_assert_int_eq(nlog, 2);
	ck_assert_uint_eq(prefetch(300, 1), 0);
	ck_assert_int_eq(nlog, 2);
	/* 301 alone is missing: one read of it, between the two cached pages. */
	ck_assert_uint_eq(prefetch(300, 3), 1);
	ck_assert_int_eq(nlog, 3);
	expect_req(2, BLK_READ, 301, 1);
	ck_assert_uint_eq(prefetch(300, 3), 0);	/* 301 in flight: not read twice */
	ck_assert_int_eq(nlog, 3);
	touch(301);
	ck_assert(holds_disk(frame(301), 301));
	ck_assert_uint_eq(prefetch(300, 3), 0);
	ck_assert_int_eq(nlog, 3);
}
END_TEST

/*
 * A prefetched page the CLOCK evicts before its touch is dropped, never
 * written, and counted as cancelled; its touch reads it again.
 */
START_TEST(a_prefetched_page_evicted_untouched_is_cancelled)
{
	uint64_t base = 10000, n = 0;

	boot(4, &disk, 1);
	ck_assert_uint_eq(prefetch(500, 8), 8);
	touch(600);		/* polls: the read completes, the pages are evictable */
	ck_assert_int_eq(npending, 0);
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, 8);
	while (pager_prefetch_stats()->cancelled < 8) {
		fault_randomly(base + 2 * n, 1, true);
		ck_assert_uint_lt(++n, 8192);
	}
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, 0);
	ck_assert_uint_eq(pager_prefetch_stats()->used, 0);
	ck_assert_int_eq(count_ops(BLK_WRITE), 0);
	nlog = 0;
	touch(503);
	ck_assert_int_eq(nlog, 1);
	expect_req(0, BLK_READ, 503, 1);
	ck_assert(holds_disk(frame(503), 503));
}
END_TEST

/*
 * A read that fails is not the trap's error: the trap started it and
 * returned; its pages go, and the touch reads again and fails there (the
 * DISK-IO report l1fault.c makes of -1).
 */
START_TEST(a_prefetch_read_error_is_reported_at_the_touch)
{
	uint64_t free0;

	boot(8, &disk, 1);
	free0 = pmm_free_pages();
	fail_pages(900, 1);
	ck_assert_uint_eq(prefetch(899, 3), 3);
	ck_assert_int_eq(nlog, 1);
	ck_assert_int_eq(pager_fault_r(900 * PAGE_SIZE), -1);
	ck_assert_uint_eq(pager_prefetch_stats()->errors, 1);
	ck_assert_int_eq(nlog, 2);
	expect_req(1, BLK_READ, 900, 1);
	ck_assert_uint_eq(reqlog[1].status, BLK_IOERR);
	ck_assert(!mapped(900));
	ck_assert_uint_eq(pmm_free_pages(), free0);	/* its frames went back */
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, 0);
	ck_assert_uint_eq(pager_prefetch_stats()->cancelled, 0);
	/* The good pages of the failed read are read again at their touch. */
	fail_pages(0, 0);
	touch(899);
	ck_assert(holds_disk(frame(899), 899));
}
END_TEST

/*
 * The share: pages prefetched and not touched stay within a sixteenth of
 * the cache; a call that would pass it starts only what fits, the next none;
 * a touch makes room for one more.
 */
START_TEST(prefetch_never_holds_more_than_its_share_of_the_cache)
{
	uint64_t share, started = 0;

	boot(8, &disk, 1);
	share = pager_prefetch_stats()->share;
	ck_assert_uint_gt(share, 32);
	ck_assert_uint_lt(share, pager_pages_max() / 8);
	for (uint64_t k = 0; k < share + 10; k++)
		started += prefetch(5000 + 2 * k, 1);
	ck_assert_uint_eq(started, share);
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, share);
	ck_assert_uint_ge(pager_prefetch_stats()->refused_share, 10);
	ck_assert_uint_eq(prefetch(9000, 1), 0);
	touch(5000);
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, share - 1);
	ck_assert_uint_eq(prefetch(9000, 4), 1);
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, share);
	/* A long range stops at the share too. */
	touch(5002);
	touch(5004);
	ck_assert_uint_eq(prefetch(20000, 1000), 2);
}
END_TEST

/*
 * Checkpoints and syncs see nothing of a prefetch: a page in flight, or read
 * and not touched, is not dirty.  Layer 0 taking a page in flight (as a
 * resume or an install would) waits for its read first; then it is dirty
 * like any page layer 0 fills, and the next checkpoint holds it.
 */
START_TEST(a_prefetched_page_is_in_no_checkpoint_until_written)
{
	uint64_t *mem;
	uint32_t n;

	boot(8, &disk, 1);
	pager_checkpoints(steal_none, drain_none);
	scribble(50, 5);
	ck_assert_uint_eq(prefetch(400, 8), 8);
	ck_assert_uint_eq(pager_dirty_count(), 1);
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 1);
	ck_assert(in_checkpoint(n, 50));
	pager_checkpoint_done(cp_pages, n, true);
	ck_assert_int_eq(pager_sync(), 0);
	ck_assert_int_eq(count_ops(BLK_WRITE), 1);	/* page 50 alone went home */
	ck_assert(disk_pristine(400));
	mem = pager_page_for_write(403 * PAGE_SIZE, true);
	ck_assert_ptr_nonnull(mem);
	ck_assert(holds_disk(mem, 403));		/* its read was over first */
	ck_assert_uint_eq(pager_prefetch_stats()->untouched, 7);
	n = pager_checkpoint_pages(cp_pages);
	ck_assert_uint_eq(n, 1);
	ck_assert(in_checkpoint(n, 403));
	pager_checkpoint_done(cp_pages, n, true);
}
END_TEST

/* Without a disk there is nothing to read. */
START_TEST(without_a_disk_a_prefetch_does_nothing)
{
	boot(8, 0, 1);
	ck_assert_uint_eq(prefetch(100, 16), 0);
	ck_assert_int_eq(nlog, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pager");
	TCase *tc = tcase_create("pager");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_random_miss_reads_one_page);
	tcase_add_test(tc, sequential_reads_grow_and_cover_the_stream_once);
	tcase_add_test(tc, read_ahead_stops_where_the_window_stops_being_layer_1s);
	tcase_add_test(tc, read_ahead_stops_at_a_cached_page);
	tcase_add_test(tc, a_fault_waiting_on_a_stream_read_starts_reads_as_others_complete);
	tcase_add_test(tc, fault_around_skips_pages_still_being_read);
	tcase_add_test(tc, a_checkpoint_takes_the_pages_written_since_the_last);
	tcase_add_test(tc, a_failed_checkpoint_keeps_its_pages_for_the_next);
	tcase_add_test(tc, a_write_during_a_checkpoint_goes_to_a_copy);
	tcase_add_test(tc, a_page_written_twice_is_copied_once_per_record);
	tcase_add_test(tc, the_clock_leaves_a_page_under_a_checkpoint_alone);
	tcase_add_test(tc, a_failed_record_leaves_the_newest_version_for_the_next);
	tcase_add_test(tc, a_hit_issues_no_io);
	tcase_add_test(tc, fault_around_maps_the_cached_pages_of_its_block_only);
	tcase_add_test(tc, with_fault_around_a_sequential_read_is_mapped_at_once);
	tcase_add_test(tc, pager_page_for_write_gives_the_disk_contents_or_zeros_and_marks_them_dirty);
	tcase_add_test(tc, a_read_error_fails_the_fault_and_caches_nothing);
	tcase_add_test(tc, a_read_ahead_error_does_not_fail_a_readable_page);
	tcase_add_test(tc, sync_writes_dirty_pages_in_order_in_runs_of_at_most_256);
	tcase_add_test(tc, a_sync_with_nothing_dirty_writes_nothing_but_flushes);
	tcase_add_test(tc, sync_keeps_at_most_8_writes_in_flight);
	tcase_add_test(tc, a_write_error_in_sync_returns_minus_1_and_the_pages_stay_dirty);
	tcase_add_test(tc, only_journaled_pages_go_home);
	tcase_add_test(tc, layer_0_writing_a_page_going_home_gets_a_copy);
	tcase_add_test(tc, the_clock_checkpoints_before_it_evicts_a_page_no_checkpoint_holds);
	tcase_add_test(tc, a_failed_flush_fails_the_sync);
	tcase_add_test(tc, eviction_gives_pages_with_the_accessed_bit_a_second_chance);
	tcase_add_test(tc, eviction_takes_clean_pages_before_dirty_ones);
	tcase_add_test(tc, the_disk_interrupt_moves_read_ahead_on_without_writing);
	tcase_add_test(tc, a_dirty_victim_is_written_with_its_dirty_neighbours_then_dropped);
	tcase_add_test(tc, a_victim_whose_write_fails_stays_until_a_sync_writes_it);
	tcase_add_test(tc, evicting_a_sparse_window_gives_its_page_tables_back);
	tcase_add_test(tc, evicting_pages_a_gib_apart_gives_their_directories_back);
	tcase_add_test(tc, random_traffic_never_loses_or_mixes_up_data);
	tcase_add_test(tc, random_traffic_with_fault_around_never_loses_or_mixes_up_data);
	tcase_add_test(tc, streams_mixed_with_writes_never_lose_or_mix_up_data);
	tcase_add_test(tc, a_long_stream_reads_aligned_2mib_blocks_whole);
	tcase_add_test(tc, without_fault_around_no_2mib_pages);
	tcase_add_test(tc, a_stream_keeps_12_reads_in_flight);
	tcase_add_test(tc, a_write_splits_a_2mib_page_and_dirties_that_page_alone);
	tcase_add_test(tc, pager_page_for_write_splits_a_2mib_page);
	tcase_add_test(tc, a_failed_2mib_read_fails_only_the_bad_page);
	tcase_add_test(tc, streaming_past_the_cache_evicts_2mib_pages_and_leaks_nothing);
	tcase_add_test(tc, a_stream_recycles_its_2mib_pages_and_leaves_small_pages_cached);
	tcase_add_test(tc, streams_after_random_reads_still_read_2mib_pages);
	tcase_add_test(tc, streams_after_random_reads_keep_every_dirty_page);
	tcase_add_test(tc, a_two_page_stream_gives_up_no_small_pages);
	tcase_add_test(tc, without_a_disk_pages_are_zero_and_sync_does_no_io);
	tcase_add_test(tc, without_a_disk_all_dirty_means_out_of_memory);
	tcase_add_test(tc, out_of_memory_held_by_layer_0_says_so);
	tcase_add_test(tc, out_of_memory_held_by_the_windows_page_tables_says_so);
	tcase_add_test(tc, a_prefetch_starts_reads_and_a_touch_waits_for_its_own_alone);
	tcase_add_test(tc, prefetch_reads_are_lazy_and_a_touch_still_gets_its_page);
	tcase_add_test(tc, a_touch_of_a_page_in_flight_waits_for_it);
	tcase_add_test(tc, a_stream_past_its_last_read_still_reads_ahead);
	tcase_add_test(tc, a_prefetch_of_cached_pages_reads_nothing);
	tcase_add_test(tc, a_prefetched_page_evicted_untouched_is_cancelled);
	tcase_add_test(tc, a_prefetch_read_error_is_reported_at_the_touch);
	tcase_add_test(tc, prefetch_never_holds_more_than_its_share_of_the_cache);
	tcase_add_test(tc, a_prefetched_page_is_in_no_checkpoint_until_written);
	tcase_add_test(tc, without_a_disk_a_prefetch_does_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	/* The pager's state is global and pager_init is once per boot: one process per test. */
	return run_suite(suite(), true);
}
