/*
 * Loading the payload.  With a module, validate it with the same checks
 * abicheck runs and install its segments in the disk window (on the disk when
 * there is one, so its code runs from the disk), if the disk may take it;
 * without one, start the payload the disk holds afresh.  The rings and the
 * info page come first, then the pager and the image, and in.
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

	if (e == 0) {
		if (pa == 0)
			return;		/* nothing was mapped there */
		panic("out of memory mapping layer-1 page %#lx", (unsigned long)va);
	}
	if (pa != 0)
		vm_set_leaf(e, va, pa, flags);
	else
		vm_clear_leaf(e, va);
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

/*
 * Window page va of segment s as the payload starts it: the segment's file
 * bytes from src (src[0] belongs at s->vaddr), zero everywhere else.
 */
static void page_image(uint8_t *dst, uint64_t va, const struct strata_segment *s, const uint8_t *src)
{
	uint64_t lo = va > s->vaddr ? va : s->vaddr;
	uint64_t hi = s->vaddr + s->filesz;

	memset(dst, 0, PAGE_SIZE);
	if (hi > va + PAGE_SIZE)
		hi = va + PAGE_SIZE;
	if (lo < hi)
		memcpy(dst + (lo - va), src + (lo - s->vaddr), hi - lo);
}

static uint8_t *window_page(uint64_t va)
{
	return pager_page_for_write(va - STRATA_DISK_WINDOW_BASE, false);
}

/* Copies one segment of the module into its window pages. */
static void segment_install(const struct strata_segment *s)
{
	for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < PAGE_ROUND_UP(s->vaddr + s->memsz); va += PAGE_SIZE)
		page_image(window_page(va), va, s, l1.file + s->offset);
}

static void label_from_image(struct disklabel *lb, const char *cmdline)
{
	lb->nseg = (uint32_t)l1.img.nseg;
	lb->disk_bytes = l1.geom.disk_bytes;
	lb->l1_limit = l1.geom.l1_limit;
	lb->payload_hash = fnv1a(l1.file, l1.file_bytes);
	lb->payload_bytes = l1.file_bytes;
	lb->entry = l1.img.entry;
	lb->image_end = l1.img.image_end;
	lb->data_pages = label_data_pages(l1.img.seg, lb->nseg);
	lb->hdr = l1.img.hdr;
	memcpy(lb->seg, l1.img.seg, sizeof(lb->seg));
	memset(lb->cmdline, 0, sizeof(lb->cmdline));
	memcpy(lb->cmdline, cmdline, strnlen(cmdline, sizeof(lb->cmdline) - 1));
}

static void image_from_label(const struct disklabel *lb)
{
	l1.img.nseg = (int)lb->nseg;
	l1.img.entry = lb->entry;
	l1.img.image_end = lb->image_end;
	l1.img.hdr = lb->hdr;
	memcpy(l1.img.seg, lb->seg, sizeof(l1.img.seg));
}

static bool forced(const struct boot_info *bi)
{
	return option_is(cmdline_option(bi->cmdline, "install"), "force");
}

/* Whether window pages [lo, hi) of the disk hold a byte that is not zero: 1, 0, or -1 on an I/O error. */
static int disk_holds_data(uint64_t lo, uint64_t hi)
{
	uint64_t pa = page_or_die("disk check");
	int r = 0;

	for (uint64_t off = lo; r == 0 && off < hi; off += PAGE_SIZE) {
		const uint64_t *w = p2v(pa);

		if (blk_rw_sync(l1.dev, BLK_READ, off / BLK_SECTOR_SIZE, BLK_SECTORS_PER_PAGE, &pa) != BLK_OK)
			r = -1;
		for (uint64_t i = 0; r == 0 && i < PAGE_SIZE / 8; i++)
			r = w[i] != 0;
	}
	pmm_free(pa);
	return r;
}

/*
 * A new build larger than the one installed takes pages that were the free
 * area: only where layer 1 never wrote (they are all zero) does that lose
 * nothing.
 */
static void overlap_check(const struct boot_info *bi, const struct disklabel *lb)
{
	uint64_t lo = lb->image_end - STRATA_DISK_WINDOW_BASE;
	uint64_t hi = l1.img.image_end - STRATA_DISK_WINDOW_BASE;
	int r;

	if (hi <= lo || forced(bi))
		return;
	if (hi > l1.geom.l1_limit)
		hi = l1.geom.l1_limit;	/* disk_check_size reports the rest */
	if ((r = disk_holds_data(lo, hi)) < 0)
		stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	if (r == 0)
		return;
	kprintf("strata: %s: the new build of \"%s\" ends at %#lx, the installed one at %#lx: its image\n"
	    "strata: would overwrite %lu KiB of the free area, which holds layer 1's data.\n"
	    "strata: add install=force to layer 0's command line to install it over that data.\n",
	    l1.dev->name, l1.img.hdr.name, (unsigned long)l1.img.image_end,
	    (unsigned long)lb->image_end, (unsigned long)((hi - lo) >> 10));
	stop(STRATA_EXIT_IMAGE_OVERLAP, "the new image would overwrite layer 1's data");
}

/* A disk boot starts .data from the copy in the disk's head, which has room for LABEL_DATA_MAX. */
static void data_size_check(void)
{
	uint64_t n = label_data_pages(l1.img.seg, (uint32_t)l1.img.nseg);

	if (l1.dev == 0 || n * PAGE_SIZE <= LABEL_DATA_MAX)
		return;
	kprintf("strata: the payload is not loadable on a disk: its writable segments' file bytes\n"
	    "strata: fill %lu KiB of pages, and a disk keeps at most %lu KiB of them (doc/abi.md, \"Installing\")\n",
	    (unsigned long)(n * PAGE_SIZE >> 10), (unsigned long)(LABEL_DATA_MAX >> 10));
	stop(STRATA_EXIT_BAD_PAYLOAD, "bad payload");
}

/* With a module: may it be installed on what the disk holds? */
static void install_check(const struct boot_info *bi, enum head head, const struct disklabel *lb,
    const char *why)
{
	data_size_check();
	if (l1.dev == 0 || head == HEAD_BLANK)
		return;
	if (head == HEAD_FOREIGN && !forced(bi)) {
		kprintf("strata: %s is not a Strata disk: %s.\n"
		    "strata: not installing \"%s\" over it: attach a blank disk, or add install=force\n"
		    "strata: to layer 0's command line to overwrite it.\n",
		    l1.dev->name, why, l1.img.hdr.name);
		stop(STRATA_EXIT_DISK_FOREIGN, "the disk is not a Strata disk");
	}
	if (head == HEAD_FOREIGN) {
		kprintf("strata: %s is not a Strata disk (%s); overwriting it: install=force\n",
		    l1.dev->name, why);
		return;
	}
	if (strncmp(lb->hdr.name, l1.img.hdr.name, sizeof(lb->hdr.name)) != 0 && !forced(bi)) {
		kprintf("strata: %s holds the payload \"%s\"; not overwriting it with \"%s\".\n"
		    "strata: boot without a module to run it, or add install=force to layer 0's command line.\n",
		    l1.dev->name, lb->hdr.name, l1.img.hdr.name);
		stop(STRATA_EXIT_DISK_OTHER, "the disk holds another payload");
	}
	overlap_check(bi, lb);
	if (head == HEAD_OLD_LABEL)
		kprintf("strata: %s: its label is of version 1 (an older layer 0); installing writes version %u\n",
		    l1.dev->name, LABEL_VERSION);
	else if (lb->state == LABEL_INSTALLING)
		kprintf("strata: %s: the install of \"%s\" there was cut short; installing again\n",
		    l1.dev->name, lb->hdr.name);
	else if (lb->payload_hash != fnv1a(l1.file, l1.file_bytes))
		kprintf("strata: %s: replacing the installed \"%s\" with a new build of it\n",
		    l1.dev->name, lb->hdr.name);
}

/* Without a module: can the disk's payload start fresh? */
static void disk_boot_check(enum head head, const struct disklabel *lb, const char *why)
{
	if (l1.dev == 0 || head == HEAD_BLANK) {
		kprintf("strata: no payload: give GRUB a module2 line with a layer-1 ELF%s\n",
		    l1.dev ? ", or boot a disk that holds one" : "");
		stop(STRATA_EXIT_NO_PAYLOAD, "no payload");
	}
	if (head == HEAD_FOREIGN) {
		kprintf("strata: no payload: %s is not a Strata disk (%s)\n", l1.dev->name, why);
		stop(STRATA_EXIT_NO_PAYLOAD, "no payload");
	}
	if (head == HEAD_OLD_LABEL) {
		kprintf("strata: %s holds \"%s\" as an older layer 0 installed it (label version 1), without\n"
		    "strata: the copy of its .data a fresh start needs: boot once with its module to install it again\n",
		    l1.dev->name, lb->hdr.name);
		stop(STRATA_EXIT_REINSTALL, "the disk's payload must be installed again");
	}
	if (lb->state == LABEL_INSTALLING) {
		kprintf("strata: %s: the install of \"%s\" was cut short, so its image may be half new:\n"
		    "strata: not running it.  Boot with its module to install it again.\n",
		    l1.dev->name, lb->hdr.name);
		stop(STRATA_EXIT_REINSTALL, "the disk's payload must be installed again");
	}
}

/*
 * Decides what runs: the module (to be installed) or the disk's payload.
 * No field of the disk's head is used before head_read has judged it whole.
 */
static bool choose_payload(const struct boot_info *bi, struct disklabel *lb)
{
	enum head head = HEAD_BLANK;
	const char *why = "";

	if (l1.dev != 0 && (head = head_read(l1.dev, lb, &why)) == HEAD_IOERR)
		stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	if (head != HEAD_LABEL && head != HEAD_OLD_LABEL)
		memset(lb, 0, sizeof(*lb));	/* nothing of a foreign head is kept */
	if (bi->nmods > 0) {
		payload_validate(&bi->mods[0]);
		install_check(bi, head, lb, why);
		return true;
	}
	disk_boot_check(head, lb, why);
	image_from_label(lb);
	kprintf("strata: running the payload \"%s\" installed on %s, from a fresh start\n",
	    l1.img.hdr.name, l1.dev->name);
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

/* A test of a cut install (layer-0 option installstop=STEP): the machine stops after STEP. */
static void install_stop(const struct boot_info *bi, const char *step)
{
	if (!option_is(cmdline_option(bi->cmdline, "installstop"), step))
		return;
	kprintf("strata: installstop=%s: stopping the install here, as asked\n", step);
	stop(STRATA_EXIT_REINSTALL, "install stopped by installstop");
}

/* The copy of the writable pages, in the head: what a boot from the disk starts .data from. */
static void data_copy_write(void)
{
	uint64_t pa = page_or_die("install"), i = 0;

	for (int k = 0; k < l1.img.nseg; k++) {
		const struct strata_segment *s = &l1.img.seg[k];

		if (!(s->flags & STRATA_SEG_W) || s->filesz == 0)
			continue;
		for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < s->vaddr + s->filesz; va += PAGE_SIZE) {
			page_image(p2v(pa), va, s, l1.file + s->offset);
			if (label_data_io(l1.dev, true, i++, pa) < 0)
				stop(STRATA_EXIT_DISK_IO, "disk I/O error");
		}
	}
	pmm_free(pa);
}

/*
 * Puts the module's segments in the window and, on a disk, makes them
 * durable in an order where every instant is safe: a label that says
 * "installing" (a boot without the module then refuses, a boot with it
 * installs again), then the image and the copy of its writable pages,
 * flushed, then the label that says "ready", flushed.
 */
static void install(const struct boot_info *bi, struct disklabel *lb)
{
	const char *cmdline = bi->mods[0].cmdline;
	uint64_t old_end = lb->image_end;	/* 0 unless the disk held a label */

	if (l1.dev != 0) {
		label_from_image(lb, cmdline);
		lb->state = LABEL_INSTALLING;
		lb->installs++;
		if (label_write(l1.dev, lb) != 0)
			stop(STRATA_EXIT_DISK_IO, "disk I/O error");
		install_stop(bi, "begun");
	}
	for (int i = 0; i < l1.img.nseg; i++)
		segment_install(&l1.img.seg[i]);
	if (l1.dev == 0)
		return;
	/* What a larger build left after a smaller one is free area again, zero as on a new disk. */
	for (uint64_t va = l1.img.image_end; va < old_end; va += PAGE_SIZE)
		memset(window_page(va), 0, PAGE_SIZE);
	data_copy_write();
	if (pager_sync() != 0)
		stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	install_stop(bi, "image");
	lb->state = LABEL_READY;
	if (label_write(l1.dev, lb) != 0)
		stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	kprintf("strata: installed \"%s\" on %s (install %lu)\n", l1.img.hdr.name, l1.dev->name,
	    (unsigned long)lb->installs);
}

/*
 * A boot from the disk is a fresh start of the installed payload: its
 * writable segments as its ELF has them (.data from the copy in the head,
 * .bss zero), while the free area stays as the disk holds it.
 */
static void fresh_start(void)
{
	uint64_t pa = page_or_die("fresh start"), i = 0;

	for (int k = 0; k < l1.img.nseg; k++) {
		const struct strata_segment *s = &l1.img.seg[k];
		uint64_t copied = s->filesz == 0 ? 0 : PAGE_ROUND_UP(s->vaddr + s->filesz);

		if (!(s->flags & STRATA_SEG_W))
			continue;
		for (uint64_t va = PAGE_ROUND_DOWN(s->vaddr); va < PAGE_ROUND_UP(s->vaddr + s->memsz); va += PAGE_SIZE) {
			uint8_t *dst = window_page(va);

			if (va >= copied) {
				memset(dst, 0, PAGE_SIZE);
				continue;
			}
			if (label_data_io(l1.dev, false, i++, pa) < 0)
				stop(STRATA_EXIT_DISK_IO, "disk I/O error");
			memcpy(dst, p2v(pa), PAGE_SIZE);
		}
	}
	pmm_free(pa);
}

/* Every start begins with a zero stack: nothing of a previous run shows below rsp. */
static void stack_clear(void)
{
	for (uint64_t va = STRATA_L1_STACK_TOP - l1.stack_bytes; va < STRATA_L1_STACK_TOP; va += PAGE_SIZE)
		memset(window_page(va), 0, PAGE_SIZE);
}

/* cmdline: the module's, or for a boot from the disk the one the label kept. */
static void info_load(const struct boot_info *bi, const char *cmdline)
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
	memcpy(in->cmdline, cmdline, strnlen(cmdline, STRATA_CMDLINE_MAX - 1));
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
	info_load(bi, from_module ? bi->mods[0].cmdline : lb.cmdline);
	pager_init(l1.dev, l1_window_perm, 0, faultaround(bi));
	if (from_module)
		install(bi, &lb);
	else
		fresh_start();
	if (l1.dev != 0)
		stack_clear();
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
