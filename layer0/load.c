/*
 * Loading the payload: validate the module with the same checks abicheck
 * runs, copy its segments into pages mapped at their link addresses, give it
 * a stack, the info page and the console ring, and enter it.
 */
#include "defs.h"
#include "layer1.h"
#include "strata/abi.h"

struct layer1 l1;

void l1_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	vm_unmap(kernel_root, va);
	if (pa != 0 && vm_map(kernel_root, va, pa, flags | PTE_P) != 0)
		panic("out of memory mapping layer-1 page %#lx", (unsigned long)va);
}

/* A fresh zeroed page, or the machine stops: layer 1 cannot start without it. */
static uint64_t page_or_die(const char *what)
{
	uint64_t pa = pmm_alloc();

	if (pa == 0) {
		kprintf("strata: out of memory for the payload's %s\n", what);
		kprintf("strata: exit %u (out of memory)\n", STRATA_EXIT_L0_NOMEM);
		machine_exit(STRATA_EXIT_L0_NOMEM);
	}
	return pa;
}

static void print_reason(void *ctx, enum strata_reason r, const char *detail)
{
	bool *version = ctx;

	if (r == SR_ABI_VERSION)
		*version = true;
	kprintf("strata:   %s: %s\n", strata_reason_name(r), detail);
}

/* Validates the module; stops the machine with the reasons when it is not loadable. */
static void payload_validate(const struct module *m)
{
	bool version = false;
	int n;

	l1.file = p2v(m->start);
	n = strata_validate(l1.file, m->end - m->start, STRATA_ABI_MAJOR,
	    STRATA_ABI_MINOR, &l1.img, print_reason, &version);
	if (n == 0)
		return;
	kprintf("strata: the payload is not loadable (%d problem%s above)\n", n, n == 1 ? "" : "s");
	if (version) {
		kprintf("strata: exit %u (ABI version mismatch)\n", STRATA_EXIT_ABI_VERSION);
		machine_exit(STRATA_EXIT_ABI_VERSION);
	}
	kprintf("strata: exit %u (bad payload)\n", STRATA_EXIT_BAD_PAYLOAD);
	machine_exit(STRATA_EXIT_BAD_PAYLOAD);
}

static uint64_t segment_flags(const struct strata_segment *s)
{
	uint64_t f = 0;

	if (s->flags & STRATA_SEG_W)
		f |= PTE_W;
	if (!(s->flags & STRATA_SEG_X))
		f |= PTE_NX;
	return f;
}

/* Copies one segment into new pages at its link address; the tail is zero. */
static void segment_load(const struct strata_segment *s)
{
	uint64_t start = PAGE_ROUND_DOWN(s->vaddr);
	uint64_t end = PAGE_ROUND_UP(s->vaddr + s->memsz);

	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t pa = page_or_die("image");
		uint8_t *dst = p2v(pa);
		/* The file bytes [s->vaddr, s->vaddr + filesz) that land in this page. */
		uint64_t lo = va > s->vaddr ? va : s->vaddr;
		uint64_t hi = s->vaddr + s->filesz;

		if (hi > va + PAGE_SIZE)
			hi = va + PAGE_SIZE;
		if (lo < hi)
			memcpy(dst + (lo - va), l1.file + s->offset + (lo - s->vaddr), hi - lo);
		l1_map(va, pa, segment_flags(s));
	}
}

static void stack_load(void)
{
	l1.stack_bytes = l1.img.hdr.stack_bytes ? l1.img.hdr.stack_bytes : STRATA_L1_STACK_DEFAULT;
	for (uint64_t va = STRATA_L1_STACK_TOP - l1.stack_bytes; va < STRATA_L1_STACK_TOP; va += PAGE_SIZE)
		l1_map(va, page_or_die("stack"), PTE_W | PTE_NX);
}

static void info_load(const struct module *m, const struct boot_info *bi)
{
	uint64_t pa = page_or_die("info page");
	struct strata_info *in = p2v(pa);

	in->magic = STRATA_INFO_MAGIC;
	in->abi_major = STRATA_ABI_MAJOR;
	in->abi_minor = STRATA_ABI_MINOR;
	in->ram_bytes = bi->ram_bytes;
	in->tsc_base = timer_tsc_base();
	in->tsc_ns_mult = timer_tsc_ns_mult();
	in->clock_ns = clock_ns();
	in->disk_bytes = 0;
	in->l1_disk_limit = 0;
	in->console_slots = l1.console.nslots;
	in->stack_bytes = (uint32_t)l1.stack_bytes;
	in->image_end = l1.img.image_end;
	memcpy(in->cmdline, m->cmdline, strnlen(m->cmdline, STRATA_CMDLINE_MAX - 1));
	l1_map(STRATA_INFO_BASE, pa, PTE_NX);
	l1.info = in;
	timer_publish(&in->clock_ns);
}

static void console_load(void)
{
	uint32_t n = l1.img.hdr.console_slots ? l1.img.hdr.console_slots : STRATA_CONSOLE_SLOTS_DEFAULT;

	for (uint32_t i = 0; i < n; i++) {
		l1.console.slot[i].pa = page_or_die("console ring");
		l1.console.slot[i].page = p2v(l1.console.slot[i].pa);
	}
	ring_init(&l1.console, "console", STRATA_CONSOLE_BASE, n, page_or_die("doorbell"),
	    &console_ops, 0);
}

static void symbols_load(void)
{
	struct symtab st;

	if (l1.img.symtab_size == 0)
		return;
	st.syms = l1.file + l1.img.symtab_off;
	st.nsyms = l1.img.symtab_size / 24;	/* sizeof(Elf64_Sym) */
	st.strs = (const char *)l1.file + l1.img.strtab_off;
	st.strsz = l1.img.strtab_size;
	sym_set_layer1(&st);
}

void payload_load(const struct boot_info *bi)
{
	const struct module *m = &bi->mods[0];

	if (bi->nmods < 1) {
		kprintf("strata: no payload: give GRUB a module2 line with a layer-1 ELF\n");
		kprintf("strata: exit %u (no payload)\n", STRATA_EXIT_NO_PAYLOAD);
		machine_exit(STRATA_EXIT_NO_PAYLOAD);
	}
	payload_validate(m);
	for (int i = 0; i < l1.img.nseg; i++)
		segment_load(&l1.img.seg[i]);
	stack_load();
	console_load();
	info_load(m, bi);
	symbols_load();
	kprintf("strata: payload \"%s\" ABI %u.%u: %d segments, entry %#lx, stack %lu KiB, console %u slots\n",
	    l1.img.hdr.name, l1.img.hdr.abi_major, l1.img.hdr.abi_minor, l1.img.nseg,
	    (unsigned long)l1.img.entry, (unsigned long)(l1.stack_bytes / 1024), l1.console.nslots);
}

void payload_enter(void)
{
	kprintf("strata: entering layer 1\n");
	/*
	 * Clean registers, the stack top as the ABI fixes it, the info page in
	 * rdi, interrupts on so the clock keeps ticking.
	 */
	__asm__ volatile(
	    "mov %%rax, %%rsp\n\t"
	    "mov %%rsi, %%r15\n\t"
	    "xor %%eax, %%eax\n\t"
	    "xor %%ebx, %%ebx\n\t"
	    "xor %%ecx, %%ecx\n\t"
	    "xor %%edx, %%edx\n\t"
	    "xor %%esi, %%esi\n\t"
	    "xor %%ebp, %%ebp\n\t"
	    "xor %%r8d, %%r8d\n\t"
	    "xor %%r9d, %%r9d\n\t"
	    "xor %%r10d, %%r10d\n\t"
	    "xor %%r11d, %%r11d\n\t"
	    "xor %%r12d, %%r12d\n\t"
	    "xor %%r13d, %%r13d\n\t"
	    "xor %%r14d, %%r14d\n\t"
	    "sti\n\t"
	    "jmp *%%r15"
	    :: "a"(STRATA_L1_STACK_TOP), "D"(STRATA_INFO_BASE), "S"(l1.img.entry)
	    : "memory");
	__builtin_unreachable();
}
