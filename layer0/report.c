/*
 * The fault report: what every exception layer 0 does not handle, and every
 * ABI violation, ends in.  It prints who was running, the vector, the rule
 * broken, the error code, CR2, RIP with its symbol, every register and a
 * frame-pointer backtrace, then the final "strata: exit N (...)" line, and
 * stops the machine with that code.  A device that can make no progress
 * gets a report of its own (report_device): which device, what layer 0 was
 * waiting for, for how long, and why it gave up.
 */
#include "defs.h"
#include "strata/exit.h"
#include "strata/trap.h"

static bool is_trap_vector(uint64_t v)
{
	return v >= STRATA_TRAP_FIRST && v <= STRATA_TRAP_LAST;
}

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range exceeded",
	"invalid opcode", "device not available", "double fault", "coprocessor segment overrun",
	"invalid TSS", "segment not present", "stack-segment fault", "general protection",
	"page fault", "reserved (15)", "x87 floating point", "alignment check", "machine check",
	"SIMD floating point", "virtualization", "control protection", "reserved (22)",
	"reserved (23)", "reserved (24)", "reserved (25)", "reserved (26)", "reserved (27)",
	"hypervisor injection", "VMM communication", "security", "reserved (31)",
};

const char *vector_name(uint64_t v)
{
	if (v < 32)
		return exception_names[v];
	if (v == TIMER_VECTOR)
		return "timer interrupt";
	if (is_trap_vector(v))
		return "trap";
	return "interrupt";
}

static bool reporting;

/* "0x... <symbol+0x..>" for a code address. */
static void print_addr(const char *label, uint64_t addr)
{
	uint64_t off;
	const char *name = sym_lookup(addr, &off);

	if (name != 0)
		kprintf("  %-6s %#018lx <%s+%#lx>\n", label, (unsigned long)addr, name, (unsigned long)off);
	else
		kprintf("  %-6s %#018lx\n", label, (unsigned long)addr);
}

/* Reads a word only if its page is mapped: the backtrace follows untrusted pointers. */
static bool safe_read(uint64_t va, uint64_t *v)
{
	if ((va & 7) != 0)
		return false;
	if (va >= DIRECT_BASE && va < MMIO_BASE) {
		*v = *(const uint64_t *)va;
		return true;
	}
	if (!vm_present(kernel_root, va))
		return false;
	*v = *(const uint64_t *)va;
	return true;
}

/* The return addresses up the frame-pointer chain; runs of one (recursion) once. */
static void backtrace(uint64_t rbp)
{
	uint64_t last = 0, repeats = 0;

	for (int depth = 0; depth < 64 && rbp != 0; depth++) {
		uint64_t next, ret;

		if (!safe_read(rbp, &next) || !safe_read(rbp + 8, &ret) || ret == 0)
			break;
		if (ret == last) {
			repeats++;
		} else {
			if (repeats > 0)
				kprintf("         (the frame above %lu more times)\n", (unsigned long)repeats);
			print_addr(depth == 0 ? "trace" : "", ret);
			last = ret;
			repeats = 0;
		}
		if (next <= rbp)
			break;
		rbp = next;
	}
	if (repeats > 0)
		kprintf("         (the frame above %lu more times)\n", (unsigned long)repeats);
}

static void print_registers(const struct trapframe *tf)
{
	kprintf("  RAX %016lx  RBX %016lx  RCX %016lx  RDX %016lx\n",
	    tf->rax, tf->rbx, tf->rcx, tf->rdx);
	kprintf("  RSI %016lx  RDI %016lx  RBP %016lx  RSP %016lx\n",
	    tf->rsi, tf->rdi, tf->rbp, tf->rsp);
	kprintf("  R8  %016lx  R9  %016lx  R10 %016lx  R11 %016lx\n",
	    tf->r8, tf->r9, tf->r10, tf->r11);
	kprintf("  R12 %016lx  R13 %016lx  R14 %016lx  R15 %016lx\n",
	    tf->r12, tf->r13, tf->r14, tf->r15);
	kprintf("  CS %04lx  SS %04lx  RFLAGS %08lx\n", tf->cs, tf->ss, tf->rflags);
}

/* A report inside a report: the first one is broken; say so and stop. */
static NORETURN void nested_report(const char *who)
{
	kprintf("\nstrata: FAULT while reporting a fault (in %s)\n", who);
	kprintf("strata: exit %u (layer-0 panic)\n", STRATA_EXIT_L0_PANIC);
	machine_exit(STRATA_EXIT_L0_PANIC);
}

void report_fault(const struct trapframe *tf, const char *who, const char *rule,
    const char *detail, uint32_t code)
{
	cli();
	if (reporting)
		nested_report(who);
	reporting = true;
	kprintf("\nstrata: FAULT in %s: %s (vector %lu)\n", who,
	    tf->by_int && !is_trap_vector(tf->vector) ? "int instruction" : vector_name(tf->vector),
	    (unsigned long)tf->vector);
	if (rule != 0)
		kprintf("  rule: %s\n", rule);
	if (detail != 0)
		kprintf("  detail: %s\n", detail);
	kprintf("  error  %#018lx  CR2 %#018lx\n", tf->error, read_cr2());
	print_addr("RIP", tf->rip);
	print_registers(tf);
	backtrace(tf->rbp);
	kprintf("strata: exit %u (%s)\n", code, rule != 0 ? rule : vector_name(tf->vector));
	machine_exit(code);
}

void report_device(const char *device, const char *waiting_for, uint64_t waited_ns,
    const char *why)
{
	uint64_t rbp;

	cli();
	if (reporting)
		nested_report("device report");
	reporting = true;
	kprintf("\nstrata: DEVICE: %s: %s\n", device, why);
	kprintf("  waiting for: %s\n", waiting_for);
	kprintf("  waited: %lu ms\n", (unsigned long)(waited_ns / 1000000));
	__asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
	backtrace(rbp);
	kprintf("strata: exit %u (DEVICE: a device stopped answering or needs a reset)\n",
	    STRATA_EXIT_DEVICE);
	machine_exit(STRATA_EXIT_DEVICE);
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	uint64_t rbp;

	cli();
	va_start(ap, fmt);
	vsnprintf_(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (reporting)
		nested_report("panic");
	reporting = true;
	kprintf("\nstrata: PANIC in layer 0: %s\n", msg);
	__asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
	backtrace(rbp);
	kprintf("strata: exit %u (layer-0 panic)\n", STRATA_EXIT_L0_PANIC);
	machine_exit(STRATA_EXIT_L0_PANIC);
}
