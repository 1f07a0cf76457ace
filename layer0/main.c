/*
 * Layer 0's C entry: from boot.asm, in the higher half on the boot stack.
 * The order matters: the console first (so everything after can report), the
 * IDT before anything can fault, memory, then the guarded stacks, then the
 * devices and the payload.
 */
#include "defs.h"
#include "blkdev.h"
#include "netdev.h"
#include "profile.h"
#include "strata/version.h"

#define MB2_BOOT_MAGIC	0x36d76289

static struct boot_info bi;

static NORETURN void kmain_on_stack(void)
{
	const char *test, *bench;

	timer_init();
	probe_disks();
	if (cmdline_option(bi.cmdline, "blktest") != 0)
		blk_selftest((uint32_t)option_number(bi.cmdline, "rawpasses", 1));
	bench = cmdline_option(bi.cmdline, "blkbench");
	if (bench != 0)
		blk_bench(bench);
	probe_nics();
	if (cmdline_option(bi.cmdline, "nettest") != 0)
		net_selftest((uint32_t)option_number(bi.cmdline, "nettest", 0));
	test = cmdline_option(bi.cmdline, "selftest");
	if (test != 0)
		selftest_run(test);
	payload_load(&bi);
	payload_enter();
}

/* Each kind of interrupt entry gets its own guarded stack (cpu.c says why). */
static void stacks_init(void)
{
	for (int ist = 1; ist <= IST_COUNT; ist++)
		cpu_set_ist(ist, vm_alloc_stack());
}

void kmain(uint64_t mbi_phys, uint32_t magic)
{
	serial_init();
	timer_window_open();
	/* GRUB leaves the cursor after a bare CR: start on a line of our own. */
	kprintf("\nstrata: layer 0 starting (ABI %u.%u, build %016lx)\n", STRATA_ABI_MAJOR,
	    STRATA_ABI_MINOR, (unsigned long)__builtin_bswap64(layer0_build()));
	cpu_init();
	if (magic != MB2_BOOT_MAGIC)
		panic("not started by a multiboot2 loader (magic %#x)", magic);
	mb2_parse(mbi_phys, &bi);
	prof_on = cmdline_option(bi.cmdline, "profile") != 0;
	if (bi.cmdline[0] != '\0')
		kprintf("strata: command line: %s\n", bi.cmdline);
	pmm_init(bi.avail, bi.navail, bi.reserved, bi.nreserved);
	vm_init(&bi);
	sym_init_layer0(&bi);
	stacks_init();
	kprintf("strata: %lu MiB of RAM, %lu MiB free\n", (unsigned long)(bi.ram_bytes >> 20),
	    (unsigned long)(pmm_free_pages() >> 8));
	stack_switch(vm_alloc_stack(), kmain_on_stack);
}
