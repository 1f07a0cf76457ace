/*
 * Loading the payload.  With a module, validate it with the same checks
 * abicheck runs and install its segments in the disk window (on the disk when
 * there is one, so its code runs from the disk); without one, run the payload
 * the disk already holds.  Then the info page and the console ring, and in.
 */
#include "defs.h"
#include "blkdev.h"
#include "disklabel.h"
#include "layer1.h"
#include "pager.h"
#include "strata/abi.h"

#define FAULTAROUND_DEFAULT	16

struct layer1 l1;

/* One walk and one store: rings map and unmap their slots for every frame. */
void l1_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	pte_t *e = vm_walk(kernel_root, va, pa != 0);
	pte_t old;

	if (e == 0) {
		if (pa == 0)
			return;		/* nothing was mapped there */
		panic("out of memory mapping layer-1 page %#lx", (unsigned long)va);
	}
	old = *e;
	*e = pa != 0 ? pa | flags | PTE_P : 0;
	if (old & PTE_P)
		vm_flush(va);
}

static NORETURN void stop(uint32_t code, const char *why)
{
	kprintf("strata: exit %u (%s)\n", code, why);
	machine_exit(code);
}

/* A fresh zeroed page, or the machine stops: layer 1 cannot start without it. */
uint64_t page_or_die(const char *what)
{
	uint64_t pa = pmm_alloc();

	if (pa == 0) {
		kprintf("strata: out of memory for the payload's %s\n", what);
		stop(STRATA_EXIT_L0_NOMEM, "out of memory");
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
	l1.file_bytes = m->end - m->start;
	n = strata_validate(l1.file, l1.file_bytes, STRATA_ABI_MAJOR,
	    STRATA_ABI_MINOR, &l1.img, print_reason, &version);
	if (n == 0)
		return;
	kprintf("strata: the payload is not loadable (%d problem%s above)\n", n, n == 1 ? "" : "s");
	if (version)
		stop(STRATA_EXIT_ABI_VERSION, "ABI version mismatch");
	stop(STRATA_EXIT_BAD_PAYLOAD, "bad payload");
}

/* Copies one segment into its window pages; the rest of them is zero. */
static void segment_install(const struct strata_segment *s)
{
	uint64_t start = PAGE_ROUND_DOWN(s->vaddr);
	uint64_t end = PAGE_ROUND_UP(s->vaddr + s->memsz);

	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		uint8_t *dst = pager_page(va - STRATA_DISK_WINDOW_BASE, false);
		/* The file bytes [s->vaddr, s->vaddr + filesz) that land in this page. */
		uint64_t lo = va > s->vaddr ? va : s->vaddr;
		uint64_t hi = s->vaddr + s->filesz;

		memset(dst, 0, PAGE_SIZE);
		if (hi > va + PAGE_SIZE)
			hi = va + PAGE_SIZE;
		if (lo < hi)
			memcpy(dst + (lo - va), l1.file + s->offset + (lo - s->vaddr), hi - lo);
	}
}

static void label_from_image(struct disklabel *lb)
{
	lb->nseg = (uint32_t)l1.img.nseg;
	lb->disk_bytes = l1.geom.disk_bytes;
	lb->l1_limit = l1.geom.l1_limit;
	lb->payload_hash = fnv1a(l1.file, l1.file_bytes);
	lb->payload_bytes = l1.file_bytes;
	lb->entry = l1.img.entry;
	lb->image_end = l1.img.image_end;
	lb->hdr = l1.img.hdr;
	memcpy(lb->seg, l1.img.seg, sizeof(lb->seg));
}

static void image_from_label(const struct disklabel *lb)
{
	l1.img.nseg = (int)lb->nseg;
	l1.img.entry = lb->entry;
	l1.img.image_end = lb->image_end;
	l1.img.hdr = lb->hdr;
	l1.img.hdr.name[sizeof(l1.img.hdr.name) - 1] = '\0';
	memcpy(l1.img.seg, lb->seg, sizeof(l1.img.seg));
}

/*
 * Decides what runs: the module (installing it) or the disk's payload.  A
 * disk that holds another payload (another name) is only overwritten with
 * install=force; a new build of the same payload replaces the old one.
 */
static bool choose_payload(const struct boot_info *bi, struct disklabel *lb)
{
	int have = 0;

	if (l1.dev != 0 && (have = label_read(l1.dev, lb)) < 0)
		stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	if (bi->nmods > 0) {
		payload_validate(&bi->mods[0]);
		if (have && strncmp(lb->hdr.name, l1.img.hdr.name, sizeof(lb->hdr.name)) != 0 &&
		    !option_is(cmdline_option(bi->cmdline, "install"), "force")) {
			kprintf("strata: %s holds the payload \"%s\"; not overwriting it with \"%s\".\n"
			    "strata: boot without a module to run it, or add install=force to layer 0's command line.\n",
			    l1.dev->name, lb->hdr.name, l1.img.hdr.name);
			stop(STRATA_EXIT_DISK_OTHER, "the disk holds another payload");
		}
		if (have && lb->payload_hash != fnv1a(l1.file, l1.file_bytes))
			kprintf("strata: %s: replacing the installed \"%s\" with a new build of it\n",
			    l1.dev->name, lb->hdr.name);
		return true;
	}
	if (!have) {
		kprintf("strata: no payload: give GRUB a module2 line with a layer-1 ELF%s\n",
		    l1.dev ? ", or boot a disk that holds one" : "");
		stop(STRATA_EXIT_NO_PAYLOAD, "no payload");
	}
	image_from_label(lb);
	kprintf("strata: running the payload \"%s\" installed on %s\n", l1.img.hdr.name, l1.dev->name);
	return false;
}

/* A disk smaller than layer 0's head cannot even hold a label. */
static void disk_check_head(void)
{
	if (l1.dev == 0 || l1.geom.disk_bytes >= STRATA_DISK_HEAD_SIZE)
		return;
	kprintf("strata: %s is too small: %lu bytes, less than the %lu KiB head layer 0 keeps on every disk\n",
	    l1.dev->name, (unsigned long)(l1.dev->sectors * l1.dev->sector_size),
	    (unsigned long)(STRATA_DISK_HEAD_SIZE >> 10));
	stop(STRATA_EXIT_DISK_SMALL, "disk too small");
}

static void disk_check_size(void)
{
	uint64_t need = l1.img.image_end - STRATA_DISK_WINDOW_BASE;

	if (l1.dev == 0)
		return;
	if (l1.geom.l1_limit < need) {
		kprintf("strata: %s is too small: the payload needs %lu MiB before the journal, the disk gives %lu\n",
		    l1.dev->name, (unsigned long)(need >> 20), (unsigned long)(l1.geom.l1_limit >> 20));
		stop(STRATA_EXIT_DISK_SMALL, "disk too small");
	}
}

/* Puts the module's segments in the window and, on a disk, makes them durable with the label. */
static void install(struct disklabel *lb)
{
	for (int i = 0; i < l1.img.nseg; i++)
		segment_install(&l1.img.seg[i]);
	if (l1.dev == 0)
		return;
	label_from_image(lb);
	lb->installs++;
	if (pager_sync() != 0 || label_write(l1.dev, lb) != 0)
		stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	kprintf("strata: installed \"%s\" on %s (install %lu)\n", l1.img.hdr.name, l1.dev->name,
	    (unsigned long)lb->installs);
}

static void info_load(const struct boot_info *bi)
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
	in->disk_bytes = l1.geom.disk_bytes;
	in->l1_disk_limit = l1.geom.l1_limit;
	in->console_slots = l1.console.nslots;
	in->stack_bytes = (uint32_t)l1.stack_bytes;
	in->image_end = l1.img.image_end;
	nic_info(in);
	if (bi->nmods > 0)
		memcpy(in->cmdline, bi->mods[0].cmdline,
		    strnlen(bi->mods[0].cmdline, STRATA_CMDLINE_MAX - 1));
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

	if (l1.file == 0 || l1.img.symtab_size == 0)
		return;
	st.syms = l1.file + l1.img.symtab_off;
	st.nsyms = l1.img.symtab_size / 24;	/* sizeof(Elf64_Sym) */
	st.strs = (const char *)l1.file + l1.img.strtab_off;
	st.strsz = l1.img.strtab_size;
	sym_set_layer1(&st);
}

static uint32_t faultaround(const struct boot_info *bi)
{
	const char *v = cmdline_option(bi->cmdline, "faultaround");
	uint32_t n = 0;

	if (v == 0)
		return FAULTAROUND_DEFAULT;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (uint32_t)(*v - '0');
	return n;
}

void payload_load(const struct boot_info *bi)
{
	struct disklabel lb;
	bool from_module;

	memset(&lb, 0, sizeof(lb));
	l1.dev = blkdev_get(0);
	if (l1.dev != 0)
		disk_geometry(l1.dev, &l1.geom);
	disk_check_head();
	from_module = choose_payload(bi, &lb);
	disk_check_size();
	l1.stack_bytes = l1.img.hdr.stack_bytes ? l1.img.hdr.stack_bytes : STRATA_L1_STACK_DEFAULT;
	/* The rings before the pager, which sizes its cache by the RAM left. */
	console_load();
	nic_load(l1.img.hdr.tx_slots, l1.img.hdr.rx_slots);
	info_load(bi);
	pager_init(l1.dev, l1_window_perm, faultaround(bi));
	if (from_module)
		install(&lb);
	symbols_load();
	kprintf("strata: payload \"%s\" ABI %u.%u: %d segments, entry %#lx, stack %lu KiB, console %u slots\n",
	    l1.img.hdr.name, l1.img.hdr.abi_major, l1.img.hdr.abi_minor, l1.img.nseg,
	    (unsigned long)l1.img.entry, (unsigned long)(l1.stack_bytes / 1024), l1.console.nslots);
	if (l1.dev != 0)
		kprintf("strata: disk window: %lu MiB for layer 1, journal %lu MiB\n",
		    (unsigned long)(l1.geom.l1_limit >> 20),
		    (unsigned long)((l1.geom.disk_bytes - l1.geom.l1_limit) >> 20));
}

/* The payload's entry point, where payload_enter's jump reads it (no register may carry it). */
static uint64_t entry_point;

void payload_enter(void)
{
	kprintf("strata: entering layer 1\n");
	entry_point = l1.img.entry;
	/*
	 * Clean registers, the stack top as the ABI fixes it, the info page in
	 * rdi, interrupts on so the clock keeps ticking.
	 */
	__asm__ volatile(
	    "mov %%rax, %%rsp\n\t"
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
	    "xor %%r15d, %%r15d\n\t"
	    "sti\n\t"
	    "jmp *%0"
	    :: "m"(entry_point), "a"(STRATA_L1_STACK_TOP), "D"(STRATA_INFO_BASE)
	    : "memory");
	__builtin_unreachable();
}
