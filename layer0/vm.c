/*
 * Page tables: x86-64 4-level paging.  Leaves are 4 KiB pages, or 2 MiB pages
 * at the directory level: the direct map's, and the pager's stream pages in
 * the disk window.  vm_walk() refuses to go through a 2 MiB page.
 *
 * There is one address space and one PML4, kernel_root: layer 0 in the upper
 * half, layer 1 in the lower half.  Intermediate entries are always P|W and
 * never U or NX, so each leaf alone decides what a page allows.  Only
 * vm_prune() frees tables, those left empty on one address's path, at every
 * level below the root; an empty one left behind by a failed vm_map() is
 * simply reused by the next call.
 *
 * This is the only file that writes a page-table entry: every store goes
 * through store().  Others name the change, given the entry (from vm_walk(),
 * vm_walk_pde() or a pointer they keep) and its address.  TLB rules:
 *   - vm_map(), vm_unmap(): invalidate va when root is the loaded CR3 and the
 *     entry they replace was present; no CPU caches any other root.
 *   - vm_set_leaf(), vm_set_huge_leaf(), vm_clear_leaf(), vm_set_writable(),
 *     vm_write_protect(), vm_take_dirty(), vm_take_accessed(), vm_split_huge(): the entry is in
 *     the loaded tables; each invalidates va when the entry it changes was
 *     present (no CPU caches a translation through a non-present entry).
 *   - vm_swap_leaf(): no flush; the caller invalidates va before it relies on
 *     the change if the entry returned was present (the NIC batches them).
 *   - a walk installs tables over non-present entries only: no flush;
 *     vm_prune() invalidates va once when it freed any table.
 *
 * The privileged instructions sit in small helpers at the top.  A host unit
 * test compiles this file with -DSTRATA_HOST_TEST, which swaps them for
 * stand-ins: "CR3" is the variable vm_host_cr3 and each invlpg counts in
 * vm_host_flushes.
 */
#include "defs.h"

#define CR0_WP		(1ULL << 16)
#define CR4_PGE		(1ULL << 7)
#define MSR_EFER	0xc0000080
#define EFER_NXE	(1ULL << 11)

uint64_t kernel_root;

static uint64_t mmio_next = MMIO_BASE;
static uint64_t stacks_next = STACKS_BASE;
static uint64_t area_next = AREA_BASE;

#ifndef STRATA_HOST_TEST
static inline uint64_t hw_cr3(void) { return read_cr3() & PTE_ADDR_MASK; }
static inline void hw_load_cr3(uint64_t pa) { __asm__ volatile("mov %0, %%cr3" :: "r"(pa) : "memory"); }
static inline void hw_invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }

static inline uint64_t hw_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void hw_set_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline uint64_t hw_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void hw_set_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }

static inline uint64_t hw_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void hw_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
#else
uint64_t vm_host_cr3;
unsigned long vm_host_flushes;

static inline uint64_t hw_cr3(void) { return vm_host_cr3; }
static inline void hw_load_cr3(uint64_t pa) { vm_host_cr3 = pa; }
static inline void hw_invlpg(uint64_t va) { (void)va; vm_host_flushes++; }
static inline uint64_t hw_cr0(void) { return 0; }
static inline void hw_set_cr0(uint64_t v) { (void)v; }
static inline uint64_t hw_cr4(void) { return 0; }
static inline void hw_set_cr4(uint64_t v) { (void)v; }
static inline uint64_t hw_rdmsr(uint32_t msr) { (void)msr; return 0; }
static inline void hw_wrmsr(uint32_t msr, uint64_t v) { (void)msr; (void)v; }
#endif

void vm_flush(uint64_t va)
{
	hw_invlpg(va);
}

/* Every non-global entry: layer 0's own mappings are global and stay. */
void vm_flush_all(void)
{
	hw_load_cr3(hw_cr3());
}

/* Bits 63..47 must all equal bit 47, else the CPU faults on the address. */
static bool canonical(uint64_t va)
{
	uint64_t top = va >> 47;

	return top == 0 || top == 0x1ffff;
}

/* The one store of a page-table entry; returns the entry it replaced. */
static pte_t store(pte_t *e, pte_t v)
{
	pte_t old = *e;

	*e = v;
	return old;
}

/* A store into the loaded tables, then drops the translation the CPU may hold for va. */
static void replace(pte_t *e, uint64_t va, pte_t v)
{
	if (store(e, v) & PTE_P)
		hw_invlpg(va);
}

/* The entry of the table at pa, with the flags every intermediate entry has. */
static pte_t table_entry(uint64_t pa)
{
	return pa | PTE_P | PTE_W;
}

/*
 * The entry for va at the given level (1: PT, 2: PD, 3: PDPT), making the
 * tables above it if create.  0 if a table is missing and !create, if a large
 * page is in the way, or if there is no memory for a table.  Panics on a bad
 * root or a non-canonical va only when asked to create.
 */
static pte_t *walk(uint64_t root, uint64_t va, bool create, int level)
{
	pte_t *table, *e;
	uint64_t pa;
	int l;

	/* A look-up may come from the fault report with any address: no panic. */
	if (root == 0 || root % PAGE_SIZE != 0 || !canonical(va)) {
		if (create)
			panic("vm: root %#lx, address %#lx", (unsigned long)root,
			    (unsigned long)va);
		return 0;
	}
	table = p2v(root);
	for (l = 4; l > level; l--) {
		e = &table[va >> (12 + 9 * (l - 1)) & 511];
		if (!(*e & PTE_P)) {
			if (!create || (pa = pmm_alloc()) == 0)
				return 0;
			store(e, table_entry(pa));
		} else if (*e & PTE_PS)
			return 0;
		table = p2v(*e & PTE_ADDR_MASK);
	}
	return &table[va >> (12 + 9 * (level - 1)) & 511];
}

pte_t *vm_walk(uint64_t root, uint64_t va, bool create)
{
	return walk(root, va, create, 1);
}

/* Stores a leaf, then drops any stale translation the CPU may hold for it. */
static void set_entry(uint64_t root, uint64_t va, pte_t *e, pte_t v)
{
	if ((store(e, v) & PTE_P) && root == hw_cr3())
		hw_invlpg(va);
}

/* va and pa page aligned; flags without address bits.  0, or -1 out of memory. */
int vm_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags)
{
	pte_t *e;

	if (va % PAGE_SIZE != 0 || pa % PAGE_SIZE != 0 || (pa & ~PTE_ADDR_MASK) ||
	    (flags & PTE_ADDR_MASK))
		panic("vm_map: va %#lx pa %#lx flags %#lx", (unsigned long)va,
		    (unsigned long)pa, (unsigned long)flags);
	if ((e = vm_walk(root, va, true)) == 0)
		return -1;
	set_entry(root, va, e, pa | flags | PTE_P);
	return 0;
}

/* Page by page; on failure the pages before the one that failed stay mapped. */
int vm_map_range(uint64_t root, uint64_t va, uint64_t pa, uint64_t len, uint64_t flags)
{
	uint64_t off;

	for (off = 0; off < len; off += PAGE_SIZE)
		if (vm_map(root, va + off, pa + off, flags) != 0)
			return -1;
	return 0;
}

pte_t vm_unmap(uint64_t root, uint64_t va)
{
	pte_t *e, old;

	if ((e = vm_walk(root, PAGE_ROUND_DOWN(va), false)) == 0 || !(*e & PTE_P))
		return 0;
	old = *e;
	set_entry(root, PAGE_ROUND_DOWN(va), e, 0);
	return old;
}

/*
 * Device registers, uncached, at fresh addresses in the MMIO area with an
 * unmapped page between mappings so an overrun faults.  Returns the address
 * of pa itself, or 0 when page tables cannot be had.
 */
void *vm_map_mmio(uint64_t pa, uint64_t len)
{
	uint64_t start = PAGE_ROUND_DOWN(pa);
	uint64_t size = PAGE_ROUND_UP(pa + (len ? len : 1)) - start;
	uint64_t va = mmio_next;

	if (kernel_root == 0)
		panic("vm_map_mmio before vm_init");
	if (size > STACKS_BASE - PAGE_SIZE - va)
		panic("vm_map_mmio: %#lx bytes at %#lx exhaust the MMIO area",
		    (unsigned long)len, (unsigned long)pa);
	mmio_next += size + PAGE_SIZE;
	if (vm_map_range(kernel_root, va, start, size,
	    PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_G) != 0)
		return 0;
	return (void *)(va + (pa - start));
}

/* Whether va is mapped, by a 4 KiB page or a 2 MiB one. */
bool vm_present(uint64_t root, uint64_t va)
{
	pte_t *e = walk(root, va, false, 2);

	if (e != 0 && (*e & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
		return true;
	e = walk(root, va, false, 1);
	return e != 0 && (*e & PTE_P);
}

pte_t *vm_walk_pde(uint64_t root, uint64_t va, bool create)
{
	return walk(root, va, create, 2);
}

/*
 * Whether none of the 512 entries of the table at pa is in use, looking from
 * the one after index i on: in a sequential sweep the live entries are there.
 */
static bool table_empty(uint64_t pa, uint64_t i)
{
	const pte_t *t = p2v(pa);

	for (uint64_t k = 1; k <= 512; k++)
		if (t[(i + k) & 511] != 0)
			return false;
	return true;
}

/*
 * Frees the tables on va's path that no longer map anything: its page table,
 * then the directory above, and so on up to (never including) the root, so
 * that the tables of a sparse disk window shrink with its cache (one
 * directory per GiB touched, one PDPT per 512 GiB).  The caller has cleared
 * va's entry.  True if any table went: entry pointers kept into va's tables
 * are then stale.  A walk the CPU cached through a freed table is dropped.
 */
bool vm_prune(uint64_t root, uint64_t va)
{
	bool freed = false;

	for (int level = 2; level <= 4; level++) {
		pte_t *e = walk(root, va, false, level);
		uint64_t pa;

		if (e == 0 || (*e & PTE_PS))
			break;
		if (!(*e & PTE_P))
			continue;	/* no table below here: a 2 MiB page was cleared */
		pa = *e & PTE_ADDR_MASK;
		if (!table_empty(pa, va >> (12 + 9 * (level - 2)) & 511))
			break;
		store(e, 0);
		pmm_free(pa);
		freed = true;
	}
	if (freed && root == hw_cr3())
		hw_invlpg(va);
	return freed;
}

/* The 4 KiB leaf e maps va to pa with flags (no address bits; PTE_P is added). */
void vm_set_leaf(pte_t *e, uint64_t va, uint64_t pa, uint64_t flags)
{
	replace(e, va, pa | flags | PTE_P);
}

/* The directory entry e maps the 2 MiB page at va to the aligned block at pa. */
void vm_set_huge_leaf(pte_t *e, uint64_t va, uint64_t pa, uint64_t flags)
{
	replace(e, va, pa | flags | PTE_PS | PTE_P);
}

/* The leaf e (4 KiB or 2 MiB) maps nothing. */
void vm_clear_leaf(pte_t *e, uint64_t va)
{
	replace(e, va, 0);
}

/* vm_set_leaf(), or a clear if pa is 0, not flushed: the old entry, for the caller to flush. */
/* Gives or takes the write permission of the present leaf e. */
void vm_set_writable(pte_t *e, uint64_t va, bool writable)
{
	replace(e, va, writable ? *e | PTE_W : *e & ~PTE_W);
}

/* Takes the write permission and the dirty bit of the present leaf e at once: true if it was dirty. */
bool vm_write_protect(pte_t *e, uint64_t va)
{
	bool dirty = (*e & PTE_D) != 0;

	if (*e & (PTE_W | PTE_D))
		replace(e, va, *e & ~(PTE_W | PTE_D));
	return dirty;
}

bool vm_leaf_dirty(const pte_t *e)
{
	return (*e & PTE_D) != 0;
}

bool vm_leaf_accessed(const pte_t *e)
{
	return (*e & PTE_A) != 0;
}

/* Clears bit in the leaf e; true if it was set (then va is flushed). */
static bool take_bit(pte_t *e, uint64_t va, pte_t bit)
{
	if (!(*e & bit))
		return false;
	replace(e, va, *e & ~bit);
	return true;
}

/* Whether the page was written since the last call (or since it was mapped). */
bool vm_take_dirty(pte_t *e, uint64_t va)
{
	return take_bit(e, va, PTE_D);
}

/* Whether the page was touched since the last call (or since it was mapped). */
bool vm_take_accessed(pte_t *e, uint64_t va)
{
	return take_bit(e, va, PTE_A);
}

/*
 * Turns the 2 MiB page of the directory entry e, at va, into a table at
 * table_pa (overwritten) of HUGE_PAGES 4 KiB leaves mapping the same frames
 * with flags.  Returns the table's entries.
 */
pte_t *vm_split_huge(pte_t *e, uint64_t va, uint64_t table_pa, uint64_t flags)
{
	uint64_t pa = *e & PTE_ADDR_MASK & ~(HUGE_SIZE - 1);
	pte_t *pt = p2v(table_pa);

	for (uint64_t k = 0; k < HUGE_PAGES; k++)
		store(&pt[k], (pa + k * PAGE_SIZE) | flags | PTE_P);
	replace(e, va, table_entry(table_pa));
	return pt;
}

/* The tables below the one at pa (of the given level, 1: a PT), itself included. */
static uint64_t tables_below(uint64_t pa, int level, uint64_t *empty)
{
	const pte_t *t = p2v(pa);
	uint64_t n = 1;
	bool used = false;

	for (int i = 0; i < 512; i++) {
		if (t[i] == 0)
			continue;
		used = true;
		if (level > 1 && (t[i] & PTE_P) && !(t[i] & PTE_PS))
			n += tables_below(t[i] & PTE_ADDR_MASK, level - 1, empty);
	}
	if (!used)
		(*empty)++;
	return n;
}

/*
 * The page-table pages below root that map [lo, hi) (whole PML4 slots), and
 * in *empty how many of them have no entry in use.  For the memory report.
 */
uint64_t vm_count_tables(uint64_t root, uint64_t lo, uint64_t hi, uint64_t *empty)
{
	const pte_t *pml4 = p2v(root);
	uint64_t n = 0;

	*empty = 0;
	for (uint64_t i = lo >> 39 & 511; i <= ((hi - 1) >> 39 & 511); i++)
		if ((pml4[i] & PTE_P) && !(pml4[i] & PTE_PS))
			n += tables_below(pml4[i] & PTE_ADDR_MASK, 3, empty);
	return n;
}

/* Zeroed layer-0 memory of its own pages, never freed: tables sized at boot. */
void *vm_alloc_area(uint64_t bytes)
{
	uint64_t va = area_next, off, pa;

	if (kernel_root == 0)
		panic("vm_alloc_area before vm_init");
	bytes = PAGE_ROUND_UP(bytes);
	if (bytes > MMIO_BASE - va)
		panic("vm_alloc_area: %#lx bytes exhaust the area", (unsigned long)bytes);
	area_next += bytes + PAGE_SIZE;
	for (off = 0; off < bytes; off += PAGE_SIZE) {
		if ((pa = pmm_alloc()) == 0 ||
		    vm_map(kernel_root, va + off, pa, PTE_W | PTE_NX | PTE_G) != 0)
			panic("vm_alloc_area: out of memory for %#lx bytes", (unsigned long)bytes);
	}
	return (void *)va;
}

/* A layer-0 stack of fresh RAM above an unmapped guard page; returns its top. */
uint64_t vm_alloc_stack(void)
{
	uint64_t base = stacks_next + PAGE_SIZE, off, pa;

	if (kernel_root == 0)
		panic("vm_alloc_stack before vm_init");
	stacks_next = base + L0_STACK_SIZE;
	for (off = 0; off < L0_STACK_SIZE; off += PAGE_SIZE) {
		if ((pa = pmm_alloc()) == 0 ||
		    vm_map(kernel_root, base + off, pa, PTE_W | PTE_NX | PTE_G) != 0)
			panic("vm_alloc_stack: out of memory");
	}
	return base + L0_STACK_SIZE;
}

/* All of physical memory up to end, at DIRECT_BASE, in 2 MiB pages. */
static void map_direct(uint64_t root, uint64_t end)
{
	uint64_t pa;
	pte_t *e;

	for (pa = 0; pa < end; pa += HUGE_SIZE) {
		if ((e = walk(root, DIRECT_BASE + pa, true, 2)) == 0)
			panic("vm_init: out of memory for the direct map");
		store(e, pa | PTE_P | PTE_W | PTE_PS | PTE_NX | PTE_G);
	}
}

/* One section of layer 0's image; the linker script page-aligns each. */
static void map_image(uint64_t root, const char *start, const char *end, uint64_t flags)
{
	uint64_t va = (uint64_t)start;

	if (va % PAGE_SIZE != 0)
		panic("vm_init: image section at %p is not page aligned", (const void *)start);
	for (; va < (uint64_t)end; va += PAGE_SIZE)
		if (vm_map(root, va, v2p((void *)va), flags) != 0)
			panic("vm_init: out of memory mapping layer 0");
}

/*
 * The final tables: the direct map of all RAM (and at least the first
 * BOOT_DIRECT_MAP bytes), layer 0's image W^X, and
 * nothing in the lower half.  The boot tables are abandoned, so the caller's
 * stack and data must be in the image or the direct map, not the identity map.
 */
void vm_init(const struct boot_info *bi)
{
	uint64_t root, end = 0, cr4;
	int i;

	for (i = 0; i < bi->navail; i++)
		if (bi->avail[i].base + bi->avail[i].len > end)
			end = bi->avail[i].base + bi->avail[i].len;
	/*
	 * Never less than the boot tables mapped, so nothing reachable before
	 * (ACPI tables past the last usable range, say) is lost by the switch.
	 */
	if (end < BOOT_DIRECT_MAP)
		end = BOOT_DIRECT_MAP;
	end = (end + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1);
	if ((root = pmm_alloc()) == 0)
		panic("vm_init: no page for the PML4");

	map_direct(root, end);
	map_image(root, text_start, text_end, PTE_G);
	map_image(root, rodata_start, rodata_end, PTE_NX | PTE_G);
	map_image(root, data_start, kernel_end, PTE_W | PTE_NX | PTE_G);

	hw_wrmsr(MSR_EFER, hw_rdmsr(MSR_EFER) | EFER_NXE);
	hw_load_cr3(root);
	kernel_root = root;
	/* Turning PGE off and on again flushes every entry, global ones too. */
	cr4 = hw_cr4();
	hw_set_cr4(cr4 & ~CR4_PGE);
	hw_set_cr4(cr4 | CR4_PGE);
	hw_set_cr0(hw_cr0() | CR0_WP);
	pmm_set_direct_limit(end);
}
