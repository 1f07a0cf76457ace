/*
 * The machine as layer 1 finds it: the entry state, the info page, the
 * stack, the read-only regions, the clock and the exit trap (doc/abi.md
 * "Entry", "Info page", "Address map", "Traps").
 */
#include "conform.h"
#include "../lib/runtime.h"

#define RFLAGS_IF	(1ULL << 9)

/* Set by the linker script: the first address after the image. */
extern char _end[] __attribute__((visibility("hidden")));

/* Layer 0 zeroes .bss and loads .data from the file: both are checked. */
static uint8_t zero_block[8192];
static uint32_t data_block[] = { 0x53545241, 2, 3, 5, 7, 11, 13, 0xfeedface };
static const uint32_t data_want[] = { 0x53545241, 2, 3, 5, 7, 11, 13, 0xfeedface };

/* Reads through a pointer the compiler cannot see through. */
static uint8_t peek8(const void *p)
{
	return *(const volatile uint8_t *)p;
}

static uint64_t rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

/*
 * Scalar double and packed integer arithmetic on the XMM registers: with SSE
 * off this raises #UD and the machine stops with exit 102 instead.
 * (7 / 2) * 2 + the same = 14, and 1+2+3+4 lane sums to 4, 6.
 */
static bool sse_works(void)
{
	static const uint32_t a[4] __attribute__((aligned(16))) = { 1, 2, 3, 4 };
	static const uint32_t b[4] __attribute__((aligned(16))) = { 3, 4, 3, 2 };
	uint32_t sum[4] __attribute__((aligned(16)));
	int64_t d;

	__asm__ volatile(
	    "cvtsi2sdq %1, %%xmm0\n\t"
	    "cvtsi2sdq %2, %%xmm1\n\t"
	    "divsd %%xmm1, %%xmm0\n\t"
	    "mulsd %%xmm1, %%xmm0\n\t"
	    "addsd %%xmm0, %%xmm0\n\t"
	    "cvttsd2siq %%xmm0, %0"
	    : "=r"(d) : "r"((int64_t)7), "r"((int64_t)2) : "xmm0", "xmm1");
	__asm__ volatile(
	    "movdqa %1, %%xmm2\n\t"
	    "paddd %2, %%xmm2\n\t"
	    "movdqa %%xmm2, %0"
	    : "=m"(sum) : "m"(a), "m"(b) : "xmm2");
	return d == 14 && sum[0] == 4 && sum[1] == 6 && sum[2] == 6 && sum[3] == 6;
}

static int check_regs(void)
{
	static const char *const names[ENTRY_NREGS] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rflags",
	};
	const uint64_t *r = strata_entry_regs;

	if (r[ENTRY_RDI] != STRATA_INFO_BASE)
		return failed("rdi = 0x%lx at entry, not STRATA_INFO_BASE", r[ENTRY_RDI]);
	if (r[ENTRY_RSP] != STRATA_L1_STACK_TOP)
		return failed("rsp = 0x%lx at entry, not STRATA_L1_STACK_TOP", r[ENTRY_RSP]);
	if (!(r[ENTRY_RFLAGS] & RFLAGS_IF))
		return failed("interrupts disabled at entry (rflags 0x%lx)", r[ENTRY_RFLAGS]);
	for (int i = 0; i < ENTRY_RFLAGS; i++) {
		if (i == ENTRY_RDI || i == ENTRY_RSP || r[i] == 0)
			continue;
		return failed("%s = 0x%lx at entry, doc/abi.md says 0", names[i], r[i]);
	}
	return 0;
}

int check_entry(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (check_regs() != 0)
		return 1;
	if (!(rflags() & RFLAGS_IF))
		return failed("interrupts disabled in main (rflags 0x%lx)", rflags());
	if (!sse_works())
		return failed("SSE arithmetic gave a wrong result");
	for (size_t i = 0; i < sizeof zero_block; i++)
		if (peek8(&zero_block[i]) != 0)
			return failed(".bss byte %zu is 0x%x, not zero", i, peek8(&zero_block[i]));
	for (size_t i = 0; i < sizeof data_block / sizeof data_block[0]; i++)
		if (((volatile uint32_t *)data_block)[i] != data_want[i])
			return failed(".data word %zu is 0x%x, not 0x%x", i, data_block[i], data_want[i]);
	return passed();
}

/* info->cmdline is the payload's arguments as GRUB joined them: one blank apart. */
static int check_cmdline(const struct strata_info *in, int argc, char **argv)
{
	char want[STRATA_CMDLINE_MAX];
	size_t n = 0;

	want[0] = '\0';
	for (int i = 1; i < argc; i++)
		n += (size_t)strata_snprintf(want + n, sizeof want - n, "%s%s", i > 1 ? " " : "", argv[i]);
	strata_printf("conform: info cmdline \"%s\"\n", in->cmdline);
	if (strnlen(in->cmdline, STRATA_CMDLINE_MAX) == STRATA_CMDLINE_MAX)
		return failed("cmdline is not NUL-terminated");
	if (strcmp(in->cmdline, want) != 0)
		return failed("cmdline \"%s\", argv says \"%s\"", in->cmdline, want);
	return 0;
}

/* What the header asked for, with the ABI's defaults for 0. */
static int check_grants(const struct strata_info *in)
{
	const struct strata_payload_header *h = &strata_payload_note.hdr;
	uint32_t slots = h->console_slots ? h->console_slots : STRATA_CONSOLE_SLOTS_DEFAULT;
	uint64_t stack = h->stack_bytes ? h->stack_bytes : STRATA_L1_STACK_DEFAULT;

	if (in->console_slots != slots)
		return failed("console_slots %u, the header asks for %u", in->console_slots, slots);
	if (in->stack_bytes != stack)
		return failed("stack_bytes 0x%x, the header asks for 0x%lx", in->stack_bytes, stack);
	if (in->tx_slots != h->tx_slots || in->rx_slots != h->rx_slots)
		return failed("NIC slots %u/%u granted, none asked for", in->tx_slots, in->rx_slots);
	if (in->l1_disk_limit > in->disk_bytes)
		return failed("l1_disk_limit 0x%lx beyond disk_bytes 0x%lx", in->l1_disk_limit, in->disk_bytes);
	if (in->ram_bytes == 0)
		return failed("ram_bytes is 0");
	return 0;
}

static int check_image_end(const struct strata_info *in)
{
	uint64_t end = (uint64_t)(uintptr_t)_end;

	if (in->image_end < end)
		return failed("image_end 0x%lx is below the image's own _end 0x%lx", in->image_end, end);
	if (in->image_end > STRATA_L1_IMAGE_BASE + STRATA_L1_IMAGE_SIZE)
		return failed("image_end 0x%lx is beyond the image region", in->image_end);
	if (in->image_end % STRATA_PAGE_SIZE != 0)
		return failed("image_end 0x%lx is not page aligned", in->image_end);
	return 0;
}

/*
 * A 50 ms busy wait on the TSC formula must see clock_ns refreshed several
 * times (100 Hz: about five).  Two refreshes are required, not five, so that
 * a host too busy to deliver every tick on time does not fail the check.
 * The wait also ends if clock_ns runs 500 ms ahead, so a TSC formula that
 * stands still cannot hang it.
 */
static int check_refresh(const struct strata_info *in)
{
	uint64_t c0 = in->clock_ns, last = c0, t0 = strata_now_ns(), t, c;
	unsigned int changes = 0;

	do {
		t = strata_now_ns();
		c = in->clock_ns;
		if (c != last) {
			if (c < last)
				return failed("clock_ns went back from %lu to %lu", last, c);
			changes++;
			last = c;
		}
	} while (t >= t0 && t - t0 < 50 * MS && c - c0 < 500 * MS);
	if (t < t0)
		return failed("the TSC clock went backwards");
	if (t - t0 < 50 * MS)
		return failed("the TSC clock advanced %lu ns while clock_ns advanced %lu",
		    t - t0, c - c0);
	if (changes < 2)
		return failed("clock_ns changed %u times in 50 ms, from %lu to %lu", changes, c0, c);
	return 0;
}

/*
 * Just after a refresh, clock_ns and the TSC formula must agree: both are
 * the same clock.  Measured right after the change so that a late tick is
 * not mistaken for skew.
 */
static int check_agree(const struct strata_info *in)
{
	uint64_t c0 = in->clock_ns, t0 = strata_now_ns(), c, now, skew;

	while ((c = in->clock_ns) == c0 && strata_now_ns() - t0 < 500 * MS)
		__asm__ volatile("pause");
	now = strata_now_ns();
	if (c == c0)
		return failed("clock_ns did not change in 500 ms");
	skew = now > c ? now - c : c - now;
	if (skew > 20 * MS)
		return failed("the TSC formula gives %lu ns just after clock_ns became %lu", now, c);
	return 0;
}

static int check_clock(const struct strata_info *in)
{
	return check_refresh(in) || check_agree(in);
}

static int check_reserved(const struct strata_info *in)
{
	for (size_t i = 0; i < sizeof in->reserved; i++)
		if (in->reserved[i] != 0)
			return failed("reserved byte %zu is 0x%x, not zero", i, in->reserved[i]);
	return 0;
}

int check_info(int argc, char **argv)
{
	const struct strata_info *in = strata_info();

	if ((uint64_t)(uintptr_t)in != STRATA_INFO_BASE)
		return failed("the runtime got the info page at %p", (const void *)in);
	if (in->magic != STRATA_INFO_MAGIC)
		return failed("magic 0x%x", in->magic);
	if (in->abi_major != STRATA_ABI_MAJOR || in->abi_minor != STRATA_ABI_MINOR)
		return failed("ABI %u.%u, this payload was built for %u.%u", in->abi_major,
		    in->abi_minor, STRATA_ABI_MAJOR, STRATA_ABI_MINOR);
	if (check_cmdline(in, argc, argv) || check_grants(in) || check_image_end(in) ||
	    check_reserved(in) || check_clock(in))
		return 1;
	return passed();
}

/*
 * Each level takes a 1 KiB frame and checks it is intact on the way back.
 * The deepest one stops with its frame within two pages of the bottom and
 * writes every byte from there down to the bottom itself.
 */
__attribute__((noinline)) static uint64_t descend(uint64_t bottom, uint64_t depth)
{
	volatile uint8_t frame[1024];
	uint64_t here = (uint64_t)(uintptr_t)frame, bad;

	frame[0] = frame[sizeof frame - 1] = (uint8_t)depth;
	if (here - bottom < 2 * STRATA_PAGE_SIZE) {
		for (uint64_t a = bottom; a < here; a++)
			*(volatile uint8_t *)(uintptr_t)a = (uint8_t)a;
		return 0;
	}
	bad = descend(bottom, depth + 1);
	__asm__ volatile("" : : : "memory");
	return bad + (frame[0] != (uint8_t)depth) + (frame[sizeof frame - 1] != (uint8_t)depth);
}

int check_stack(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	uint64_t bottom = STRATA_L1_STACK_TOP - in->stack_bytes, bad;

	(void)argc;
	(void)argv;
	bad = descend(bottom, 0);
	if (bad != 0)
		return failed("%lu frame bytes changed on the way back up", bad);
	if (peek8((const void *)(uintptr_t)bottom) != (uint8_t)bottom)
		return failed("the stack's lowest byte did not keep its value");
	return passed();
}

/* Known bytes in .text: mov $0x5a4e4f43, %eax; ret. */
__asm__(".pushsection .text\n"
	".type conform_marker, @function\n"
	"conform_marker:\n"
	"\tmovl $0x5a4e4f43, %eax\n"
	"\tret\n"
	".size conform_marker, . - conform_marker\n"
	".popsection");
extern uint32_t conform_marker(void) __attribute__((visibility("hidden")));
static const uint8_t marker_bytes[] = { 0xb8, 0x43, 0x4f, 0x4e, 0x5a, 0xc3 };

static const char ro_text[] = "read-only data, loaded from the payload's file";
static char rw_text[] = "read-only data, loaded from the payload's file";

/* Sums every byte of [start, end): each read must complete without a fault. */
static uint64_t sum_bytes(uint64_t start, uint64_t end)
{
	uint64_t s = 0;

	for (uint64_t a = start; a < end; a++)
		s += peek8((const void *)(uintptr_t)a);
	return s;
}

static uint64_t page_down(const void *p)
{
	return (uint64_t)(uintptr_t)p & ~(STRATA_PAGE_SIZE - 1);
}

int check_readonly_read(int argc, char **argv)
{
	uint64_t text_end = page_down((const void *)conform_marker) + STRATA_PAGE_SIZE;
	uint64_t ro = page_down(ro_text), note = page_down(&strata_payload_note);

	(void)argc;
	(void)argv;
	if (sum_bytes(STRATA_INFO_BASE, STRATA_INFO_BASE + STRATA_INFO_SIZE) == 0)
		return failed("the info page reads as all zero");
	if (sum_bytes(STRATA_L1_IMAGE_BASE, text_end) == 0)
		return failed(".text reads as all zero");
	for (size_t i = 0; i < sizeof marker_bytes; i++)
		if (peek8((const uint8_t *)conform_marker + i) != marker_bytes[i])
			return failed(".text byte %zu of conform_marker differs from the file", i);
	if (conform_marker() != 0x5a4e4f43)
		return failed("conform_marker returned the wrong value");
	if (sum_bytes(ro, ro + STRATA_PAGE_SIZE) == 0 || sum_bytes(note, note + STRATA_PAGE_SIZE) == 0)
		return failed(".rodata reads as all zero");
	for (size_t i = 0; i < sizeof ro_text; i++)
		if (peek8(&ro_text[i]) != peek8(&rw_text[i]))
			return failed(".rodata byte %zu differs from the file", i);
	if (((const volatile uint32_t *)&strata_payload_note.hdr.magic)[0] != STRATA_PAYLOAD_MAGIC)
		return failed("the header note's magic reads wrong");
	return passed();
}

/*
 * Fills the 4 KiB below rsp with a pattern, spins until clock_ns has moved
 * 50 ms (five or more timer interrupts taken meanwhile), and counts the
 * quadwords that changed.  All in one asm statement: a call would itself
 * write below rsp.  The spin gives up after 2^31 rounds so a dead clock
 * fails instead of hanging.  Returns the changed count, or -1 on timeout.
 */
static int64_t below_rsp_changes(const volatile uint64_t *clock, uint64_t wait_ns)
{
	int64_t changed;

	__asm__ volatile(
	    "movq %%rsp, %%rdi\n\t"
	    "subq $4096, %%rdi\n\t"
	    "movl $512, %%ecx\n\t"
	    "movabsq $0x5354524154412d31, %%rax\n\t"
	    "cld\n\t"
	    "rep stosq\n\t"
	    "movq (%[clk]), %%rdx\n\t"
	    "addq %[wait], %%rdx\n\t"
	    "movl $0x80000000, %%ecx\n"
	    "1:\n\t"
	    "pause\n\t"
	    "cmpq (%[clk]), %%rdx\n\t"
	    "jbe 2f\n\t"
	    "decq %%rcx\n\t"
	    "jnz 1b\n\t"
	    "movq $-1, %[changed]\n\t"
	    "jmp 4f\n"
	    "2:\n\t"
	    "xorl %k[changed], %k[changed]\n\t"
	    "movq %%rsp, %%rdi\n\t"
	    "subq $4096, %%rdi\n"
	    "3:\n\t"
	    "cmpq %%rax, (%%rdi)\n\t"
	    "setne %%cl\n\t"
	    "movzbl %%cl, %%ecx\n\t"
	    "addq %%rcx, %[changed]\n\t"
	    "addq $8, %%rdi\n\t"
	    "cmpq %%rsp, %%rdi\n\t"
	    "jb 3b\n"
	    "4:"
	    : [changed] "=&r"(changed)
	    : [clk] "r"(clock), [wait] "r"(wait_ns)
	    : "rax", "rcx", "rdx", "rdi", "cc", "memory");
	return changed;
}

int check_stack_untouched(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	int64_t changed;

	(void)argc;
	(void)argv;
	changed = below_rsp_changes(&in->clock_ns, 50 * MS);
	if (changed < 0)
		return failed("clock_ns did not advance 50 ms");
	if (changed > 0)
		return failed("%ld of 512 quadwords below rsp changed while interrupts came in",
		    changed);
	return passed();
}

/* The largest payload exit code goes through as the machine's. */
int check_exit_max(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	strata_printf("conform: exit-max ok\n");
	strata_exit(STRATA_EXIT_PAYLOAD_MAX);
}
