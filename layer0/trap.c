/*
 * Every interrupt and exception arrives here from trapentry.asm.  What layer 0
 * handles on purpose: layer 1's page faults and traps (by the fault ABI, in
 * l1fault.c), the timer and the device interrupts of irq.c.  Everything else
 * ends in a report.
 */
#include "defs.h"
#include "layer1.h"
#include "strata/exit.h"
#include "strata/trap.h"

#define VEC_DEBUG		1
#define VEC_NMI			2
#define VEC_DOUBLE_FAULT	8
#define VEC_PAGE_FAULT		14
#define VEC_MACHINE_CHECK	18

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
	if (tf->vector == VEC_DEBUG && l1_debug_trap(tf))
		return;		/* a doorbell read has completed */
	snprintf_(rule, sizeof(rule), "L1-EXCEPTION: layer 1 raised CPU exception %lu (%s)",
	    (unsigned long)tf->vector, vector_name(tf->vector));
	report_fault(tf, "layer 1", rule, 0, STRATA_EXIT_L1_EXCEPTION_BASE + (uint32_t)tf->vector);
}

static void interrupt(struct trapframe *tf)
{
	switch (tf->vector) {
	case TIMER_VECTOR:
		timer_tick();
		nic_poll();	/* frames flow even while layer 1 never faults */
		lapic_eoi();
		return;
	case SPURIOUS_VECTOR:
		return;		/* the local APIC's: no EOI */
	}
	/* In service means the APIC delivered it: layer 1's int on a device
	 * vector is not an interrupt, and is judged as a trap below. */
	if (tf->vector >= DEVICE_VECTOR_FIRST && tf->vector <= DEVICE_VECTOR_LAST &&
	    lapic_in_service(tf->vector) && irq_dispatch(tf->vector)) {
		lapic_eoi();
		return;
	}
	if (trap_from_layer1(tf)) {
		l1_trap(tf);	/* a trap vector, or a violation */
		return;
	}
	report_fault(tf, "layer 0", "an interrupt no device should raise", 0, STRATA_EXIT_L0_PANIC);
}

void trap(struct trapframe *tf)
{
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
