/*
 * Loading the payload: what runs, and into it.  With a module, validate it
 * with the same checks abicheck runs and install its segments in the disk
 * window (on the disk when there is one, so its code runs from the disk), if
 * the disk may take it; without one, start the payload the disk holds
 * afresh (install.c does both).  The rings and the info page come first,
 * then the pager and the image, and in.
 */
#include "defs.h"
#include "blkdev.h"
#include "checkpoint.h"
#include "disklabel.h"
#include "layer1.h"
#include "nic.h"
#include "pager.h"
#include "strata/abi.h"

#define FAULTAROUND_DEFAULT	16

struct layer1 l1;
static struct disklabel label;	/* the disk's, as this boot leaves it */
static bool resuming;		/* a checkpoint is resumed, not the payload started */

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

void load_stop(uint32_t code, const char *why)
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
		load_stop(STRATA_EXIT_L0_NOMEM, "out of memory");
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
		load_stop(STRATA_EXIT_ABI_VERSION, "ABI version mismatch");
	load_stop(STRATA_EXIT_BAD_PAYLOAD, "bad payload");
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
		load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	if (head != HEAD_LABEL && head != HEAD_OLD_LABEL)
		memset(lb, 0, sizeof(*lb));	/* nothing of a foreign head is kept */
	if (l1.dev != 0)
		checkpoint_recover(lb, bi->nmods > 0 && install_forced(bi)); /* before anything judges the disk */
	if (bi->nmods > 0) {
		payload_validate(&bi->mods[0]);
		/* Once: the install and the checkpoints both compare it with the label's. */
		if (l1.dev != 0)
			l1.file_hash = fnv1a(l1.file, l1.file_bytes);
		install_check(bi, head, lb, why);
		return true;
	}
	disk_boot_check(head, lb, why);
	image_from_label(lb);
	kprintf("strata: running the payload \"%s\" installed on %s\n",
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
	load_stop(STRATA_EXIT_DISK_SMALL, "disk too small");
}

static void disk_check_size(void)
{
	uint64_t need = l1.img.image_end - STRATA_DISK_WINDOW_BASE;

	if (l1.dev == 0)
		return;
	if (l1.geom.l1_disk_limit < need) {
		kprintf("strata: %s is too small: the payload needs %lu MiB before the journal, the disk gives %lu\n",
		    l1.dev->name, (unsigned long)(need >> 20), (unsigned long)(l1.geom.l1_disk_limit >> 20));
		load_stop(STRATA_EXIT_DISK_SMALL, "disk too small");
	}
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
	in->l1_disk_limit = l1.geom.l1_disk_limit;
	in->console_slots = l1.console.nslots;
	in->stack_bytes = (uint32_t)l1.stack_bytes;
	in->image_end = l1.img.image_end;
	nic_info(in);
	memcpy(in->cmdline, cmdline, strnlen(cmdline, STRATA_CMDLINE_MAX - 1));
	l1_map(STRATA_INFO_BASE, pa, PTE_NX);
	l1.info = in;
	timer_publish(&in->clock_ns);
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

/* A fresh start: the payload as built (installed from the module, or from the disk's copy). */
static void fresh_load(const struct boot_info *bi, struct disklabel *lb, bool from_module)
{
	if (from_module)
		payload_install(bi, lb);
	else
		fresh_start();
	if (l1.dev != 0)
		stack_clear();
	nic_start();
	checkpoint_fresh(lb);
}

void payload_load(const struct boot_info *bi)
{
	struct disklabel *lb = &label;
	bool from_module;

	l1.dev = blkdev_get(0);
	if (l1.dev != 0)
		disk_geometry(l1.dev, &l1.geom);
	disk_check_head();
	from_module = choose_payload(bi, lb);
	disk_check_size();
	l1.stack_bytes = l1.img.hdr.stack_bytes ? l1.img.hdr.stack_bytes : STRATA_L1_STACK_DEFAULT;
	/* The rings before the pager, which sizes its cache by the RAM left. */
	console_load(l1.img.hdr.console_slots ? l1.img.hdr.console_slots : STRATA_CONSOLE_SLOTS_DEFAULT);
	nic_load(l1.img.hdr.tx_slots, l1.img.hdr.rx_slots);
	info_load(bi, from_module ? bi->mods[0].cmdline : lb->cmdline);
	pager_init(l1.dev, l1_window_perm,
	    (uint32_t)option_number(bi->cmdline, "faultaround", FAULTAROUND_DEFAULT));
	resuming = checkpoint_boot(bi, lb, from_module);
	if (!resuming)
		fresh_load(bi, lb, from_module);
	symbols_load();
	kprintf("strata: payload \"%s\" ABI %u.%u: %d segments, entry %#lx, stack %lu KiB, console %u slots\n",
	    l1.img.hdr.name, l1.img.hdr.abi_major, l1.img.hdr.abi_minor, l1.img.nseg,
	    (unsigned long)l1.img.entry, (unsigned long)(l1.stack_bytes / 1024), l1.console.nslots);
	if (l1.dev != 0)
		kprintf("strata: disk window: %lu MiB for layer 1, journal %lu MiB\n",
		    (unsigned long)(l1.geom.l1_disk_limit >> 20),
		    (unsigned long)((l1.geom.disk_bytes - l1.geom.l1_disk_limit) >> 20));
}

/* The payload's entry point, where payload_enter's jump reads it (no register may carry it). */
static uint64_t entry_point;

void payload_enter(void)
{
	if (resuming)
		checkpoint_resume(&label);
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
