/*
 * Breaks one rule on purpose, named by the first argument, so the tests can
 * check layer 0's report and exit code for each (tests/integration/cases.sh).
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
