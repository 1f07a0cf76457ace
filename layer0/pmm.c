/*
 * Physical pages: a bitmap with one bit per 4 KiB page, set when the page is
 * free, from physical 0 up to the highest usable page.
 *
 * pmm_init() turns the multiboot map into a sorted list of runs, the pages
 * this allocator owns: usable RAM rounded inward, minus the reserved ranges
 * rounded outward, minus everything below 1 MiB (page 0 is the failure value
 * and the rest is BIOS and real-mode leftovers), minus the bitmap itself.
 * The runs stay after init so pmm_free() can tell a page it owns from one it
 * never had.
 *
 * Pages are reached through the direct map: p2v(pa) is direct_base + pa.
 * direct_base is a variable, not the constant, so that a host unit test can
 * point the "direct map" at an arena it allocated.
 *
 * Until vm_init() has mapped all of RAM, only the boot page tables' first
 * BOOT_DIRECT_MAP bytes can be reached, so pmm_alloc() hands out nothing at
 * or above pmm_direct_limit; vm_init raises it with pmm_set_direct_limit().
 */
#include "defs.h"


#define LOW_LIMIT	0x100000ULL	/* nothing below 1 MiB is handed out */
#define MAX_RUNS	(2 * MAX_RANGES + 8)
#define WORD_BITS	64
#define DIRECT_SPAN	(MMIO_BASE - DIRECT_BASE)

uint64_t direct_base = DIRECT_BASE;
uint64_t pmm_direct_limit = BOOT_DIRECT_MAP;

static struct range runs[MAX_RUNS];	/* sorted, disjoint, page aligned */
static int nruns;
static uint64_t *bitmap;		/* bit set: the page is free */
static uint64_t npages;			/* pages the bitmap covers */
static uint64_t cursor;			/* no free page in words below it */
static uint64_t nfree;

void *p2v(uint64_t pa)
{
	return (void *)(direct_base + pa);
}

/* The kernel is linked so that KERNEL_BASE + P is physical P. */
uint64_t v2p(const void *va)
{
	uint64_t a = (uint64_t)va;

	if (a >= KERNEL_BASE)
		return a - KERNEL_BASE;
	if (a - direct_base < DIRECT_SPAN)
		return a - direct_base;
	panic("v2p: %p is neither in the direct map nor in the kernel image", va);
}

/* base + len, saturated: a map entry may run to the top of the address space. */
static uint64_t range_end(const struct range *r)
{
	return r->base + r->len < r->base ? UINT64_MAX : r->base + r->len;
}

/* Inserts [base, end) keeping runs sorted by base; merging comes later. */
static void run_insert(uint64_t base, uint64_t end)
{
	int i;

	if (nruns == MAX_RUNS)
		panic("pmm: more than %d memory runs", MAX_RUNS);
	for (i = nruns; i > 0 && runs[i - 1].base > base; i--)
		runs[i] = runs[i - 1];
	runs[i].base = base;
	runs[i].len = end - base;
	nruns++;
}

/* Joins runs that overlap or touch: the multiboot map may repeat itself. */
static void runs_merge(void)
{
	int i, n = 0;

	for (i = 0; i < nruns; i++) {
		if (n > 0 && runs[i].base <= range_end(&runs[n - 1])) {
			if (range_end(&runs[i]) > range_end(&runs[n - 1]))
				runs[n - 1].len = range_end(&runs[i]) - runs[n - 1].base;
		} else
			runs[n++] = runs[i];
	}
	nruns = n;
}

/* Removes [base, end) from every run, splitting the one it falls inside. */
static void runs_remove(uint64_t base, uint64_t end)
{
	int i, j;

	for (i = 0; i < nruns; i++) {
		uint64_t rb = runs[i].base, re = range_end(&runs[i]);

		if (end <= rb || base >= re)
			continue;
		if (base > rb && end < re) {
			if (nruns == MAX_RUNS)
				panic("pmm: more than %d memory runs", MAX_RUNS);
			for (j = nruns; j > i + 1; j--)
				runs[j] = runs[j - 1];
			nruns++;
			runs[i].len = base - rb;
			runs[i + 1].base = end;
			runs[i + 1].len = re - end;
			return;
		}
		if (base > rb)
			runs[i].len = base - rb;
		else if (end < re) {
			runs[i].base = end;
			runs[i].len = re - end;
		} else {
			for (j = i; j + 1 < nruns; j++)
				runs[j] = runs[j + 1];
			nruns--;
			i--;
		}
	}
}

static bool bit_free(uint64_t pg)
{
	return bitmap[pg / WORD_BITS] >> (pg % WORD_BITS) & 1;
}

static void bit_set(uint64_t pg, bool free)
{
	if (free)
		bitmap[pg / WORD_BITS] |= 1ULL << (pg % WORD_BITS);
	else
		bitmap[pg / WORD_BITS] &= ~(1ULL << (pg % WORD_BITS));
}

/*
 * Pages [first, end) become free, whole words at once: a bit at a time cost
 * every boot about 4 ms per GiB of RAM under emulation (TCG).
 */
static void bits_set_free(uint64_t first, uint64_t end)
{
	uint64_t pg = first;

	for (; pg < end && pg % WORD_BITS != 0; pg++)
		bit_set(pg, true);
	for (; pg + WORD_BITS <= end; pg += WORD_BITS)
		bitmap[pg / WORD_BITS] = ~0ULL;
	for (; pg < end; pg++)
		bit_set(pg, true);
	nfree += end - first;
}

/* Places the bitmap in the lowest run that holds it and is reachable now. */
static void bitmap_place(void)
{
	uint64_t bytes = PAGE_ROUND_UP((npages + WORD_BITS - 1) / WORD_BITS * 8);
	int i;

	for (i = 0; i < nruns; i++) {
		uint64_t b = runs[i].base;

		if (runs[i].len >= bytes && b + bytes <= pmm_direct_limit) {
			bitmap = p2v(b);
			memset(bitmap, 0, bytes);
			runs_remove(b, b + bytes);
			return;
		}
	}
	panic("pmm: no free run holds the %lu-byte page bitmap", (unsigned long)bytes);
}

void pmm_init(const struct range *avail, int navail, const struct range *reserved,
    int nreserved)
{
	uint64_t base, end;
	int i;

	nruns = 0;
	for (i = 0; i < navail; i++) {
		base = PAGE_ROUND_UP(avail[i].base);
		end = PAGE_ROUND_DOWN(range_end(&avail[i]));
		if (base < LOW_LIMIT)
			base = LOW_LIMIT;
		if (base < end && base >= avail[i].base)	/* not wrapped */
			run_insert(base, end);
	}
	runs_merge();
	for (i = 0; i < nreserved; i++) {
		end = range_end(&reserved[i]);
		runs_remove(PAGE_ROUND_DOWN(reserved[i].base),
		    end > UINT64_MAX - PAGE_SIZE ? UINT64_MAX : PAGE_ROUND_UP(end));
	}
	if (nruns == 0)
		panic("pmm: no usable RAM above 1 MiB");

	npages = range_end(&runs[nruns - 1]) / PAGE_SIZE;
	bitmap_place();
	nfree = 0;
	for (i = 0; i < nruns; i++)
		bits_set_free(runs[i].base / PAGE_SIZE, range_end(&runs[i]) / PAGE_SIZE);
	cursor = 0;
}

/* Only pages below the limit can be zeroed through the direct map today. */
void pmm_set_direct_limit(uint64_t limit)
{
	pmm_direct_limit = limit;
}

/* The lowest free page, its contents as they were, or 0. */
uint64_t pmm_alloc_uninit(void)
{
	uint64_t limit = pmm_direct_limit / PAGE_SIZE;
	uint64_t w, pg;

	if (limit > npages)
		limit = npages;
	for (w = cursor; w * WORD_BITS < limit; w++) {
		if (bitmap[w] == 0)
			continue;
		cursor = w;
		pg = w * WORD_BITS + (uint64_t)__builtin_ctzll(bitmap[w]);
		if (pg >= limit)
			return 0;
		bit_set(pg, false);
		nfree--;
		return pg * PAGE_SIZE;
	}
	cursor = w;
	return 0;
}

/*
 * The highest 2 MiB-aligned run of HUGE_PAGES free pages, contents as they
 * were, or 0.  From the top: single pages come from the bottom, so the two
 * kinds keep out of each other's way.  A run goes back page by page
 * (pmm_free) or whole (pmm_free_huge).
 */
uint64_t pmm_alloc_huge(void)
{
	const uint64_t words = HUGE_PAGES / WORD_BITS;
	uint64_t limit = pmm_direct_limit / PAGE_SIZE, w, k;

	if (limit > npages)
		limit = npages;
	for (w = limit / HUGE_PAGES * words; w >= words; w -= words) {
		for (k = 1; k <= words && bitmap[w - k] == ~0ULL; k++)
			;
		if (k <= words)
			continue;
		for (k = 1; k <= words; k++)
			bitmap[w - k] = 0;
		nfree -= HUGE_PAGES;
		return (w - words) * WORD_BITS * PAGE_SIZE;
	}
	return 0;
}

/* The pages a caller may ask pmm_page_free and pmm_take_huge about: [0, this). */
uint64_t pmm_direct_pages(void)
{
	uint64_t limit = pmm_direct_limit / PAGE_SIZE;

	return limit < npages ? limit : npages;
}

/* Whether the page at pa is free. */
bool pmm_page_free(uint64_t pa)
{
	return pa / PAGE_SIZE < npages && bit_free(pa / PAGE_SIZE);
}

/*
 * The run at pa (2 MiB aligned, below the direct limit), taken as
 * pmm_alloc_huge would give it, if all of it is free: the pager empties
 * one run of its small pages and then takes that very one.
 */
bool pmm_take_huge(uint64_t pa)
{
	const uint64_t words = HUGE_PAGES / WORD_BITS;
	uint64_t w = pa / PAGE_SIZE / WORD_BITS;

	if (pa % HUGE_SIZE != 0 || pa / PAGE_SIZE + HUGE_PAGES > pmm_direct_pages())
		return false;
	for (uint64_t k = 0; k < words; k++)
		if (bitmap[w + k] != ~0ULL)
			return false;
	for (uint64_t k = 0; k < words; k++)
		bitmap[w + k] = 0;
	nfree -= HUGE_PAGES;
	return true;
}

uint64_t pmm_alloc(void)
{
	uint64_t pa = pmm_alloc_uninit();

	if (pa != 0)
		memset(p2v(pa), 0, PAGE_SIZE);
	return pa;
}

/* Whether pa lies in a run, i.e. is a page this allocator owns. */
static bool owned(uint64_t pa)
{
	int i;

	for (i = 0; i < nruns; i++)
		if (pa >= runs[i].base && pa < range_end(&runs[i]))
			return true;
	return false;
}

void pmm_free(uint64_t pa)
{
	uint64_t pg = pa / PAGE_SIZE;

	if (pa % PAGE_SIZE != 0 || !owned(pa))
		panic("pmm_free: %#lx is not a page of free RAM", (unsigned long)pa);
	if (bit_free(pg))
		panic("pmm_free: %#lx freed twice", (unsigned long)pa);
	bit_set(pg, true);
	nfree++;
	if (pg / WORD_BITS < cursor)
		cursor = pg / WORD_BITS;
}

/* Frees a run that pmm_alloc_huge gave, whole: one test and eight stores, not 512 frees. */
void pmm_free_huge(uint64_t pa)
{
	const uint64_t words = HUGE_PAGES / WORD_BITS;
	uint64_t w = pa / PAGE_SIZE / WORD_BITS;

	if (pa % HUGE_SIZE != 0 || !owned(pa) || !owned(pa + HUGE_SIZE - PAGE_SIZE))
		panic("pmm_free_huge: %#lx is not 2 MiB of free RAM", (unsigned long)pa);
	for (uint64_t k = 0; k < words; k++)
		if (bitmap[w + k] != 0)
			panic("pmm_free_huge: a page of %#lx is free already", (unsigned long)pa);
	for (uint64_t k = 0; k < words; k++)
		bitmap[w + k] = ~0ULL;
	nfree += HUGE_PAGES;
	if (w < cursor)
		cursor = w;
}

uint64_t pmm_free_pages(void)
{
	return nfree;
}
