/*
 * The fault ABI, enforced: every page fault and trap layer 1 raises is either
 * an agreed signal (a doorbell, a wait on a queued slot, a trap) or a broken
 * rule, which ends in a report naming the rule (doc/abi.md, "Violations").
 */
#include "defs.h"
#include "layer1.h"
#include "strata/abi.h"

#define PF_PRESENT	0x1	/* page-fault error code bits */
#define PF_WRITE	0x2
#define PF_FETCH	0x10

/* The rule behind each violation exit code, as doc/abi.md names it. */
static const char *rule_name(uint32_t code)
{
	switch (code) {
	case STRATA_EXIT_V_OUTSIDE: return "V-OUTSIDE: access outside every layer-1 region";
	case STRATA_EXIT_V_NULL: return "V-NULL: access in the null guard";
	case STRATA_EXIT_V_READONLY: return "V-READONLY: write to a read-only page";
	case STRATA_EXIT_V_L0_REGION: return "V-L0-REGION: touch of a region layer 0 keeps for itself";
	case STRATA_EXIT_V_EXEC: return "V-EXEC: execution of a non-executable page";
	case STRATA_EXIT_V_STACK: return "V-STACK: stack overflow into the guard below the stack";
	case STRATA_EXIT_V_RING: return "V-RING: ring protocol broken";
	case STRATA_EXIT_V_TRAP: return "V-TRAP: unknown trap or bad trap arguments";
	}
	return "V-UNKNOWN";
}

static NORETURN void violation(const struct trapframe *tf, uint32_t code, const char *detail)
{
	report_fault(tf, "layer 1", rule_name(code), detail, code);
}

static bool in(uint64_t va, uint64_t base, uint64_t size)
{
	return va >= base && va - base < size;
}

/* A fault in the console ring: a doorbell, a wait, or a broken rule. */
static void console_fault(struct trapframe *tf, uint64_t va, uint64_t err)
{
	const char *why;
	uint32_t i;

	switch (ring_locate(&l1.console, va, &i)) {
	case RING_BEYOND:
		violation(tf, STRATA_EXIT_V_OUTSIDE, "beyond the console ring's granted slots");
	case RING_DATA:
		if (err & PF_PRESENT)
			violation(tf, STRATA_EXIT_V_RING, "unexpected protection fault on a console slot");
		ring_wait_slot(&l1.console, i);
		return;
	case RING_DOORBELL:
		if (err & PF_WRITE)
			violation(tf, STRATA_EXIT_V_RING, "a doorbell page was written; ring it with a read");
		if (ring_doorbell(&l1.console, i, &why) < 0)
			violation(tf, STRATA_EXIT_V_RING, why);
		return;
	}
}

/* Where in the disk window va is, for a fault there. */
static NORETURN void window_fault(struct trapframe *tf, uint64_t va, uint64_t err)
{
	uint64_t stack_low = STRATA_L1_STACK_TOP - l1.stack_bytes;

	if (va - STRATA_DISK_WINDOW_BASE < STRATA_DISK_HEAD_SIZE)
		violation(tf, STRATA_EXIT_V_L0_REGION, "the disk's first MiB belongs to layer 0");
	if (va < stack_low)
		violation(tf, STRATA_EXIT_V_STACK, "below the layer-1 stack (recursion too deep or frame too large)");
	if (va < STRATA_L1_STACK_TOP)
		violation(tf, STRATA_EXIT_V_OUTSIDE, "unexpected fault on a stack page");
	if ((err & PF_PRESENT) && (err & PF_WRITE))
		violation(tf, STRATA_EXIT_V_READONLY, "write to a read-only segment of the payload");
	if (va < l1.img.image_end)
		violation(tf, STRATA_EXIT_V_OUTSIDE, "a gap between the payload's segments");
	violation(tf, STRATA_EXIT_V_OUTSIDE, "the disk window beyond the payload (no disk is attached)");
}

void l1_page_fault(struct trapframe *tf)
{
	uint64_t va = read_cr2();
	uint64_t err = tf->error;

	if ((err & PF_FETCH) && (err & PF_PRESENT))
		violation(tf, STRATA_EXIT_V_EXEC, "instruction fetch from a no-execute page");
	if (va >= STRATA_L1_VA_LIMIT)
		violation(tf, STRATA_EXIT_V_L0_REGION, "layer 0's half of the address space");
	if (in(va, STRATA_NULL_GUARD_BASE, STRATA_NULL_GUARD_SIZE))
		violation(tf, STRATA_EXIT_V_NULL, "a null or small-offset pointer");
	if (in(va, STRATA_INFO_BASE, STRATA_INFO_SIZE))
		violation(tf, err & PF_WRITE ? STRATA_EXIT_V_READONLY : STRATA_EXIT_V_EXEC,
		    "the info page is read-only");
	if (in(va, STRATA_CONSOLE_BASE, STRATA_CONSOLE_REGION_SIZE)) {
		if (err & PF_FETCH)
			violation(tf, STRATA_EXIT_V_EXEC, "ring pages are never executable");
		console_fault(tf, va, err);
		return;
	}
	if (in(va, STRATA_L0_RESERVED_BASE, STRATA_L0_RESERVED_SIZE))
		violation(tf, STRATA_EXIT_V_L0_REGION, "the layer-0 reserved region");
	if (in(va, STRATA_DISK_WINDOW_BASE, STRATA_DISK_WINDOW_SIZE))
		window_fault(tf, va, err);
	violation(tf, STRATA_EXIT_V_OUTSIDE, "no region is assigned at this address");
}

/* The console's take: print the slot, done with it at once. */
static int console_take(struct ring *r, uint32_t i, const struct strata_slot *s)
{
	(void)r;
	(void)i;
	serial_write((const char *)s->data, s->len);
	return RING_TAKE_DONE;
}

static void console_map(struct ring *r, uint64_t va, uint64_t pa, bool writable)
{
	(void)r;
	l1_map(va, pa, PTE_NX | (writable ? PTE_W : 0));
}

/* The console never holds a slot, so there is never anything to wait for. */
static void console_wait(struct ring *r)
{
	(void)r;
	hlt();
}

const struct ring_ops console_ops = {
	.take = console_take,
	.map = console_map,
	.wait = console_wait,
};

void l1_exit(uint32_t code)
{
	kprintf("strata: console: %lu slots in %lu doorbells\n",
	    (unsigned long)l1.console.taken, (unsigned long)l1.console.doorbells);
	kprintf("strata: layer 1 exited with code %u\n", code);
	kprintf("strata: exit %u (payload exit)\n", code);
	machine_exit(code);
}

static void trap_exit(struct trapframe *tf)
{
	const char *why;

	if (ring_drain(&l1.console, &why) < 0)
		violation(tf, STRATA_EXIT_V_RING, why);
	if (tf->rdi > STRATA_EXIT_PAYLOAD_MAX)
		violation(tf, STRATA_EXIT_V_TRAP, "exit code in rdi is larger than STRATA_EXIT_PAYLOAD_MAX (63)");
	l1_exit((uint32_t)tf->rdi);
}

void l1_trap(struct trapframe *tf)
{
	switch (tf->vector) {
	case STRATA_TRAP_EXIT:
		trap_exit(tf);
		return;
	case STRATA_TRAP_SYNC:
	case STRATA_TRAP_WAIT:
	case STRATA_TRAP_COMMIT:
		violation(tf, STRATA_EXIT_V_TRAP, "this trap is reserved for a later ABI minor");
	default:
		violation(tf, STRATA_EXIT_V_TRAP, "int on a vector that is not a trap");
	}
}
