/*
 * Every interrupt and exception arrives here from trapentry.asm.  What layer 0
 * handles on purpose: layer 1's page faults and traps (by the fault ABI, in
 * l1fault.c), the timer and the device interrupts of irq.c.  Everything else
 * ends in a report.
 *
 * Layer 1 runs in ring 0, so it may execute `int` on any vector, and the CPU
 * then runs that vector's handler as if the exception or interrupt had
 * happened.  So before anything else trap() asks who raised the vector: an
 * int instruction is a trap (or a V-TRAP violation), whatever its vector.
 */
#include "defs.h"
#include "checkpoint.h"
#include "nic.h"
#include "pager.h"
#include "strata/exit.h"
#include "strata/trap.h"

#define VEC_DEBUG		1
#define VEC_NMI			2
#define VEC_DOUBLE_FAULT	8
#define VEC_PAGE_FAULT		14
#define VEC_MACHINE_CHECK	18

#define INSN_INT		0xcd	/* int imm8 */
#define USER_HALF_END		0x0000800000000000ULL

/* A code byte that can be read without faulting: layer 1's half or layer 0's image. */
static bool code_byte(uint64_t va, uint8_t *b)
{
	if (va >= USER_HALF_END && va < KERNEL_BASE)
		return false;
	if (!vm_present(kernel_root, va))
		return false;
	*b = *(const volatile uint8_t *)va;
	return true;
}

/*
 * Who raised tf->vector: true for an int instruction.  The stubs of the
 * vectors that push an error code know (trapentry.asm; the list below is
 * theirs).  A vector the local APIC delivered is in service.  Else the two
 * bytes before the saved RIP are `int imm8` with this vector whenever an int
 * raised it.  The converse is all but certain: an exception without error
 * code saves the RIP of the faulting instruction, or of the one after a trap
 * (int3 is 0xcc), and an interrupt arrives between instructions; only an
 * instruction that happens to end in those two bytes would make a real
 * exception on that vector look like an int, and be reported as V-TRAP.
 */
static bool raised_by_int(const struct trapframe *tf)
{
	uint8_t op, vec;

	if (tf->by_int)
		return true;
	switch (tf->vector) {
	case 8: case 10: case 11: case 12: case 13: case 14: case 17: case 21: case 29: case 30:
		return false;	/* the CPU pushed an error code */
	}
	if (tf->vector >= 32 && lapic_in_service(tf->vector))
		return false;
	return code_byte(tf->rip - 2, &op) && code_byte(tf->rip - 1, &vec) &&
	    op == INSN_INT && vec == tf->vector;
}

/* CPU exceptions that stop the machine whoever was running. */
static void fatal_exceptions(struct trapframe *tf)
{
	const char *who = trap_from_layer1(tf) ? "layer 1" : "layer 0";

	switch (tf->vector) {
	case VEC_DOUBLE_FAULT:
		report_fault(tf, who, "double fault: a fault while delivering another",
		    "layer 0 could not handle the first fault", STRATA_EXIT_DOUBLE_FAULT);
	case VEC_MACHINE_CHECK:
		report_fault(tf, who, "machine check", "the hardware reported an error",
		    STRATA_EXIT_MACHINE_CHECK);
	case VEC_NMI:
		report_fault(tf, who, "unexpected NMI", 0, STRATA_EXIT_NMI);
	}
}

static void layer1_exception(struct trapframe *tf)
{
	char rule[80];

	if (tf->vector == VEC_PAGE_FAULT) {
		l1_page_fault(tf);
		return;
	}
	snprintf_(rule, sizeof(rule), "L1-EXCEPTION: layer 1 raised CPU exception %lu (%s)",
	    (unsigned long)tf->vector, vector_name(tf->vector));
	report_fault(tf, "layer 1", rule, 0, STRATA_EXIT_L1_EXCEPTION_BASE + (uint32_t)tf->vector);
}

/* An int instruction: layer 1's trap or violation; layer 0 never executes one. */
static void int_instruction(struct trapframe *tf)
{
	char detail[64];

	if (trap_from_layer1(tf)) {
		l1_trap(tf);
		return;
	}
	snprintf_(detail, sizeof(detail), "int $%#lx", (unsigned long)tf->vector);
	report_fault(tf, "layer 0", "an int instruction in layer 0", detail, STRATA_EXIT_L0_PANIC);
}

/* Interrupts the local APIC delivered (raised_by_int said so). */
static void interrupt(struct trapframe *tf)
{
	switch (tf->vector) {
	case TIMER_VECTOR:
		timer_tick();
		nic_poll();	/* frames flow even while layer 1 never faults */
		lapic_eoi();
		if (trap_from_layer1(tf))
			checkpoint_interrupt(tf);
		return;
	case SPURIOUS_VECTOR:
		return;		/* the local APIC's: no EOI */
	}
	if (irq_dispatch(tf->vector)) {
		lapic_eoi();
		if (trap_from_layer1(tf)) {
			checkpoint_interrupt(tf);	/* the disk's: a record moves on */
			pager_interrupt();		/* and a stream's read-ahead */
		}
		return;
	}
	report_fault(tf, trap_from_layer1(tf) ? "layer 1" : "layer 0",
	    "an interrupt no device should raise", 0, STRATA_EXIT_L0_PANIC);
}

void trap(struct trapframe *tf)
{
	if (trap_from_layer1(tf))
		l1_frame = tf;		/* what a checkpoint taken in this entry saves */
	/*
	 * A doorbell read layer 0 single-stepped has completed: the #DB comes
	 * right after that one instruction, whatever its last bytes look like.
	 */
	if (tf->vector == VEC_DEBUG && trap_from_layer1(tf) && l1_debug_trap(tf))
		return;
	if (raised_by_int(tf)) {
		tf->by_int = 1;		/* (a checkpoint runs an unfinished trap again) */
		int_instruction(tf);
		return;
	}
	fatal_exceptions(tf);
	if (tf->vector >= 32) {
		interrupt(tf);
		return;
	}
	if (trap_from_layer1(tf)) {
		layer1_exception(tf);
		return;
	}
	report_fault(tf, "layer 0", "layer 0 raised a CPU exception", 0, STRATA_EXIT_L0_PANIC);
}
