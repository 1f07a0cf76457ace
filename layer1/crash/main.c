/*
 * Breaks one rule on purpose, named by the first argument, so the tests can
 * check layer 0's report and exit code for each (tests/integration/cases.sh,
 * conform.sh).
 * Every fault is an asm statement or a volatile access: the compiler must not
 * be able to prove it away.  Each mode is its own non-inlined function so the
 * report's RIP names it.
 */
#include <strata.h>

STRATA_PAYLOAD("crash", 0, 0);

#define CRASH __attribute__((noinline)) static void

static uint64_t load(uint64_t addr)
{
	uint64_t v;

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

CRASH crash_div0(void)
{
	__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
}

CRASH crash_ud(void)
{
	__asm__ volatile("ud2");
}

/* Not canonical: the CPU refuses it before paging is asked. */
CRASH crash_gp(void)
{
	load(0x8000000000000000ULL);
}

CRASH crash_null(void)
{
	load(0x10);
}

/* Between the NIC RX ring and the layer-0 reserved region: no region at all. */
CRASH crash_outside(void)
{
	load(0x0000020000000000ULL);
}

CRASH crash_readonly(void)
{
	__asm__ volatile("movl $0, (%0)" : : "r"(STRATA_INFO_BASE) : "memory");
}

CRASH crash_l0(void)
{
	load(STRATA_L0_RESERVED_BASE);
}

/* A `ret` in .data: the bytes are fine, the page is not executable. */
static uint8_t data_code[16] = { 0xc3 };

CRASH crash_exec(void)
{
	__asm__ volatile("call *%0" : : "r"(data_code) : "memory");
}

/* The asm after the call keeps it from becoming a loop. */
__attribute__((noinline)) static uint64_t recurse(uint64_t depth)
{
	volatile uint8_t frame[512];
	uint64_t r;

	frame[depth % sizeof frame] = (uint8_t)depth;
	if (depth == UINT64_MAX)
		return 0;
	r = recurse(depth + 1);
	__asm__ volatile("" : : : "memory");
	return r + frame[0];
}

CRASH crash_stack(void)
{
	recurse(0);
}

/* The exit trap with a code above STRATA_EXIT_PAYLOAD_MAX. */
CRASH crash_trap(void)
{
	__asm__ volatile("int %0" : : "i"(STRATA_TRAP_EXIT), "D"(200ULL) : "memory");
}

/* A vector that is neither a trap nor reserved. */
CRASH crash_badtrap(void)
{
	__asm__ volatile("int $0x90" : : : "memory");
}

/*
 * A slot longer than a slot can be.  "crash: ring" went out in slot 0 and was
 * rung, so slot 1 is the runtime's next and its doorbell is not the mapped one.
 */
CRASH crash_ring(void)
{
	volatile struct strata_slot *s =
	    (volatile struct strata_slot *)STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, 1);

	s->flags = 0;
	s->reserved = 0;
	s->len = STRATA_SLOT_DATA_MAX + 1;
	load(STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, 1));
}

CRASH crash_breakpoint(void)
{
	__asm__ volatile("int3");
}

/* ---- one mode per row of doc/abi.md's fault table ----------------------- */

static void call(uint64_t addr)
{
	__asm__ volatile("call *%0" : : "r"(addr) : "memory");
}

static void store(uint64_t addr)
{
	__asm__ volatile("movq $0, (%0)" : : "r"(addr) : "memory");
}

CRASH crash_null_write(void)
{
	store(0x10);
}

CRASH crash_null_exec(void)
{
	call(0x10);
}

/* The clock field, which layer 0 itself keeps writing. */
CRASH crash_info_write(void)
{
	store(STRATA_INFO_BASE + offsetof(struct strata_info, clock_ns));
}

CRASH crash_info_exec(void)
{
	call(STRATA_INFO_BASE);
}

/* The rest of the info page's gigabyte is unassigned. */
CRASH crash_info_gap(void)
{
	load(STRATA_INFO_BASE + STRATA_INFO_SIZE);
}

/*
 * "crash: NAME" went out in slot 0 and was rung, so slot 1 is the runtime's
 * next, still empty.
 */
static volatile struct strata_slot *console_slot(uint32_t i)
{
	return (volatile struct strata_slot *)STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, i);
}

CRASH crash_slot_flags(void)
{
	volatile struct strata_slot *s = console_slot(1);

	s->len = 0;
	s->reserved = 0;
	s->flags = 1;
	load(STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, 1));
}

CRASH crash_slot_reserved(void)
{
	volatile struct strata_slot *s = console_slot(1);

	s->len = 0;
	s->flags = 0;
	s->reserved = 1;
	load(STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, 1));
}

/* The doorbell of the slot rung last, which a read would ring again. */
CRASH crash_doorbell_write(void)
{
	store(STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, 0));
}

CRASH crash_doorbell_exec(void)
{
	call(STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, 1));
}

/* A `ret` in a slot layer 1 owns: writable, never executable. */
CRASH crash_ring_exec(void)
{
	console_slot(1)->data[0] = 0xc3;
	call((uint64_t)(uintptr_t)&console_slot(1)->data[0]);
}

static uint64_t beyond_ring(void)
{
	return STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, strata_info()->console_slots);
}

CRASH crash_beyond_ring(void)
{
	load(beyond_ring());
}

CRASH crash_beyond_ring_exec(void)
{
	call(beyond_ring());
}

/* The header asks for no NIC slots: neither ring is granted. */
CRASH crash_nic_tx(void)
{
	load(STRATA_NIC_TX_BASE);
}

CRASH crash_nic_rx(void)
{
	load(STRATA_NIC_RX_BASE);
}

CRASH crash_outside_write(void)
{
	store(0x0000020000000000ULL);
}

CRASH crash_outside_exec(void)
{
	call(0x0000020000000000ULL);
}

/* Layer 0's label and checkpoint superblocks: byte 0 of the disk. */
CRASH crash_disk_head(void)
{
	load(STRATA_DISK_WINDOW_BASE);
}

/* Past the image, without a disk: nothing backs the window there. */
CRASH crash_window_gap(void)
{
	load(strata_info()->image_end);
}

/*
 * Layer 0's half: most of it is mapped and ring 0 could read it unnoticed;
 * the direct map ends long before 64 TiB, so this address is a hole.
 */
CRASH crash_upper_half(void)
{
	load(0xffffc00000000000ULL);
}

/* Bit 47 set, bits 63..48 clear: not canonical, so #GP rather than a page fault. */
CRASH crash_noncanonical(void)
{
	load(0x0000900000000000ULL);
}

CRASH crash_text_write(void)
{
	store((uint64_t)(uintptr_t)crash_ud);
}

static const uint8_t rodata_code[16] = { 0xc3 };

CRASH crash_rodata_write(void)
{
	store((uint64_t)(uintptr_t)rodata_code);
}

CRASH crash_rodata_exec(void)
{
	call((uint64_t)(uintptr_t)rodata_code);
}

CRASH crash_stack_exec(void)
{
	volatile uint8_t code[16] = { 0xc3 };

	call((uint64_t)(uintptr_t)code);
}

/* One past STRATA_EXIT_PAYLOAD_MAX: the first code a payload may not give. */
CRASH crash_exit_64(void)
{
	__asm__ volatile("int %0" : : "i"(STRATA_TRAP_EXIT),
	    "D"((uint64_t)STRATA_EXIT_PAYLOAD_MAX + 1) : "memory");
}

/* A defined trap with a bad argument: commit's flags must be 0 (ABI 1.3). */
CRASH crash_commit_flags(void)
{
	__asm__ volatile("int %0" : : "i"(STRATA_TRAP_COMMIT), "D"(1ULL) : "rax", "memory");
}

/* A defined trap with a bad argument: sync's flags must be 0. */
CRASH crash_sync_flags(void)
{
	__asm__ volatile("int %0" : : "i"(STRATA_TRAP_SYNC), "D"(1ULL) : "rax", "memory");
}

/* The prefetch trap (ABI 1.5) raised by hand: the runtime's wrapper would widen a bad range. */
static void prefetch(uint64_t addr, uint64_t len)
{
	__asm__ volatile("int %0" : : "i"(STRATA_TRAP_PREFETCH), "D"(addr), "S"(len) : "rax", "memory");
}

/* A range of the stack that does not start on a page: V-TRAP. */
CRASH crash_prefetch_misaligned(void)
{
	prefetch(STRATA_L1_STACK_TOP - STRATA_PAGE_SIZE + 8, STRATA_PAGE_SIZE);
}

/* An empty range: V-TRAP. */
CRASH crash_prefetch_empty(void)
{
	prefetch(STRATA_L1_STACK_TOP - STRATA_PAGE_SIZE, 0);
}

/* The info page is not in the disk window: V-OUTSIDE. */
CRASH crash_prefetch_outside(void)
{
	prefetch(STRATA_INFO_BASE, STRATA_PAGE_SIZE);
}

/* The disk's head is layer 0's: V-OUTSIDE, not V-L0-REGION, for a prefetch. */
CRASH crash_prefetch_head(void)
{
	prefetch(STRATA_DISK_WINDOW_BASE, STRATA_PAGE_SIZE);
}

/* The last free page and the journal's first (with a disk): V-OUTSIDE. */
CRASH crash_prefetch_journal(void)
{
	prefetch(STRATA_DISK_WINDOW_BASE + strata_info()->l1_disk_limit - STRATA_PAGE_SIZE,
	    2 * STRATA_PAGE_SIZE);
}

/*
 * From the free area to the window's end (with a disk): V-OUTSIDE at the
 * journal, found without walking the terabytes of the range page by page.
 */
CRASH crash_prefetch_huge(void)
{
	uint64_t lo = strata_info()->image_end;

	prefetch(lo, STRATA_DISK_WINDOW_BASE + STRATA_DISK_WINDOW_SIZE - lo);
}

/*
 * A wait with no deadline and no RX ring (the header asks for none): nothing
 * could ever end it.
 */
CRASH crash_wait_forever(void)
{
	__asm__ volatile("int %0" : : "i"(STRATA_TRAP_WAIT), "D"(0ULL), "S"(0ULL) : "rax", "memory");
}

/*
 * int on vectors that are not traps: each is V-TRAP, whatever the CPU or a
 * device means by the vector.  13 and 14 are exceptions that push an error
 * code, where an int pushes none; 2, 8 and 18 stop the machine when the
 * hardware raises them; 0x20 is the timer's and 0xff the APIC's spurious one.
 */
#define CRASH_INT(vec) CRASH crash_int_##vec(void) { __asm__ volatile("int $" #vec ::: "memory"); }
CRASH_INT(0)
CRASH_INT(2)
CRASH_INT(8)
CRASH_INT(13)
CRASH_INT(14)
CRASH_INT(18)
CRASH_INT(0x20)
CRASH_INT(0xff)

/* The assembler writes `int $3` as int3 (0xcc), the breakpoint: spell it out. */
CRASH crash_int_3(void)
{
	__asm__ volatile(".byte 0xcd, 0x03" ::: "memory");
}

static const struct mode {
	const char *name;
	void (*crash)(void);
} modes[] = {
	{ "div0", crash_div0 },		{ "ud", crash_ud },
	{ "gp", crash_gp },		{ "null", crash_null },
	{ "outside", crash_outside },	{ "readonly", crash_readonly },
	{ "l0", crash_l0 },		{ "exec", crash_exec },
	{ "stack", crash_stack },	{ "trap", crash_trap },
	{ "badtrap", crash_badtrap },	{ "ring", crash_ring },
	{ "breakpoint", crash_breakpoint },
	{ "null-write", crash_null_write },	{ "null-exec", crash_null_exec },
	{ "info-write", crash_info_write },	{ "info-exec", crash_info_exec },
	{ "info-gap", crash_info_gap },		{ "slot-flags", crash_slot_flags },
	{ "slot-reserved", crash_slot_reserved },
	{ "doorbell-write", crash_doorbell_write },
	{ "doorbell-exec", crash_doorbell_exec },
	{ "ring-exec", crash_ring_exec },	{ "beyond-ring", crash_beyond_ring },
	{ "beyond-ring-exec", crash_beyond_ring_exec },
	{ "nic-tx", crash_nic_tx },		{ "nic-rx", crash_nic_rx },
	{ "outside-write", crash_outside_write },
	{ "outside-exec", crash_outside_exec },
	{ "disk-head", crash_disk_head },	{ "window-gap", crash_window_gap },
	{ "upper-half", crash_upper_half },	{ "noncanonical", crash_noncanonical },
	{ "text-write", crash_text_write },	{ "rodata-write", crash_rodata_write },
	{ "rodata-exec", crash_rodata_exec },	{ "stack-exec", crash_stack_exec },
	{ "exit-64", crash_exit_64 },		{ "commit-flags", crash_commit_flags },
	{ "sync-flags", crash_sync_flags },
	{ "int-0", crash_int_0 },		{ "int-2", crash_int_2 },
	{ "int-3", crash_int_3 },		{ "int-8", crash_int_8 },
	{ "int-13", crash_int_13 },		{ "int-14", crash_int_14 },
	{ "int-18", crash_int_18 },		{ "int-0x20", crash_int_0x20 },
	{ "int-0xff", crash_int_0xff },	{ "wait-forever", crash_wait_forever },
	{ "prefetch-misaligned", crash_prefetch_misaligned },
	{ "prefetch-empty", crash_prefetch_empty },
	{ "prefetch-outside", crash_prefetch_outside },
	{ "prefetch-head", crash_prefetch_head },
	{ "prefetch-journal", crash_prefetch_journal },
	{ "prefetch-huge", crash_prefetch_huge },
};

static void usage(void)
{
	strata_printf("usage: crash MODE, MODE one of:");
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		strata_printf(" %s", modes[i].name);
	strata_printf("\n");
}

int main(int argc, char **argv)
{
	for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof modes[0]; i++) {
		if (strcmp(argv[1], modes[i].name) != 0)
			continue;
		strata_printf("crash: %s\n", modes[i].name);
		strata_flush();
		modes[i].crash();
		strata_printf("crash: %s did not fault\n", modes[i].name);
		return 1;
	}
	usage();
	return 2;
}
