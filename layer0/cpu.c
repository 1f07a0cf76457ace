/*
 * The CPU's tables: a GDT with one code and one data segment and the TSS,
 * the TSS's interrupt stacks, and the IDT.
 *
 * Layer 1 runs in ring 0 too, so an interrupt never switches stacks by
 * privilege change.  Every vector therefore runs on an IST stack of layer 0's:
 * layer 1's stack is never written by layer 0, a layer-1 stack overflow still
 * gets its page fault handled, and each kind of entry has its own stack so that
 * the kinds that can nest (an interrupt inside a blocked page fault, a page
 * fault inside a trap) never share one.
 */
#include "defs.h"
#include "strata/trap.h"

#define SEL_CODE	0x08
#define SEL_DATA	0x10
#define SEL_TSS		0x18

struct __attribute__((packed)) tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;		/* present, DPL 0, 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};

struct __attribute__((packed)) table_ptr {
	uint16_t limit;
	uint64_t base;
};

#define GATE_INTERRUPT	0x8e

static uint64_t gdt[5];
static struct tss tss;
static struct gate idt[256];
extern const uint64_t trap_stubs[256];	/* trapentry.asm */

/* Until vm_init can give each IST its own guarded stack, they share this one. */
static uint8_t early_stack[8192] __attribute__((aligned(16)));

/* Which IST stack each vector runs on (see the comment at the top). */
static int ist_of(int vector)
{
	switch (vector) {
	case 14: return IST_PAGE_FAULT;
	case 8: return IST_DOUBLE_FAULT;
	case 2: return IST_NMI;
	case 18: return IST_MACHINE_CHECK;
	}
	if (vector < 32)
		return IST_EXCEPTION;
	if (vector >= (int)STRATA_TRAP_FIRST && vector <= (int)STRATA_TRAP_LAST)
		return IST_TRAP;
	return IST_IRQ;
}

static void set_gate(int v, uint64_t handler)
{
	idt[v] = (struct gate){
		.offset_lo = (uint16_t)handler,
		.selector = SEL_CODE,
		.ist = (uint8_t)ist_of(v),
		.type = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

static void gdt_load(void)
{
	uint64_t base = (uint64_t)&tss;
	struct table_ptr p = { sizeof(gdt) - 1, (uint64_t)gdt };

	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffULL;		/* 64-bit code, ring 0 */
	gdt[2] = 0x00cf92000000ffffULL;		/* data */
	/* A 16-byte available 64-bit TSS descriptor. */
	gdt[3] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
	    (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;
	__asm__ volatile(
	    "lgdt %0\n\t"
	    "mov %1, %%ds\n\t"
	    "mov %1, %%es\n\t"
	    "mov %1, %%ss\n\t"
	    "pushq %2\n\t"
	    "leaq 1f(%%rip), %%rax\n\t"
	    "pushq %%rax\n\t"
	    "lretq\n"
	    "1:\n\t"
	    "ltr %w3"
	    :: "m"(p), "r"((uint64_t)SEL_DATA), "i"(SEL_CODE), "r"((uint64_t)SEL_TSS)
	    : "rax", "memory");
}

static void idt_load(void)
{
	struct table_ptr p = { sizeof(idt) - 1, (uint64_t)idt };

	for (int v = 0; v < 256; v++)
		set_gate(v, trap_stubs[v]);
	__asm__ volatile("lidt %0" :: "m"(p));
}

/* Layer 1 may use SSE; layer 0 never does (-mgeneral-regs-only), so it need not save it. */
static void sse_enable(void)
{
	uint64_t cr0, cr4;

	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 & ~(1ULL << 2)) | (1ULL << 1);	/* no EM, MP */
	__asm__ volatile("mov %0, %%cr0" :: "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1ULL << 9) | (1ULL << 10);		/* OSFXSR, OSXMMEXCPT */
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
}

void cpu_init(void)
{
	for (int i = 1; i <= 7; i++)
		tss.ist[i - 1] = (uint64_t)early_stack + sizeof(early_stack);
	tss.iomap_base = sizeof(tss);
	gdt_load();
	idt_load();
	sse_enable();
}

void cpu_set_ist(int ist, uint64_t stack_top)
{
	tss.ist[ist - 1] = stack_top;
}

/* For the double-fault self-test: a vector whose gate is not present raises #NP. */
void cpu_break_gate(int vector)
{
	idt[vector].type &= 0x7f;
}
