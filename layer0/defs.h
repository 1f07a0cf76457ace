/*
 * The map of layer 0's internal interface.  The core files (boot, CPU,
 * memory, page tables, traps, reports) declare here what they offer the
 * rest, grouped by the file that defines it.  A subsystem with a header of
 * its own is declared there alone, and listed here:
 *
 *	pager.h		the disk window's page cache (pager*.c; pager_impl.h is
 *			what its four files share, and no one else)
 *	ring.h		the slot rings' state machine (ring.c)
 *	layer1.h	the running payload (load.c, install.c, l1fault.c)
 *	nic.h		the NIC rings (nic.c)
 *	disklabel.h	the disk label (disklabel.c)
 *	journal.h	the checkpoint journal (journal*.c; journal_impl.h is
 *			what its three files share, and no one else)
 *	drivers/blkdev.h	disks: the interface, its drivers and self-test
 *	drivers/netdev.h	NICs: the interface, its drivers and self-test
 *	drivers/pci.h, msix.h, virtio.h	what the drivers share
 *
 * The ABI with layer 1 is abi/strata/; nothing here crosses into layer 1.
 */
#ifndef DEFS_H
#define DEFS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memlayout.h"

#define PAGE_SIZE	4096ULL
#define PAGE_ROUND_DOWN(x)	((uint64_t)(x) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_UP(x)	PAGE_ROUND_DOWN((uint64_t)(x) + PAGE_SIZE - 1)
#define HUGE_PAGES	512ULL	/* 4 KiB pages in one 2 MiB page */
#define HUGE_SIZE	(HUGE_PAGES * PAGE_SIZE)
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define NORETURN	__attribute__((noreturn))
#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))

/* A physical address range [base, base + len). */
struct range {
	uint64_t base;
	uint64_t len;
};

/* The registers as the trap entry stubs save them; trap() may change them. */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t by_int;	/* an int instruction raised it, not the CPU or a device (trap.c) */
	uint64_t vector, error;
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};

#define MAX_MODULES	8
#define MAX_RANGES	64

struct module {
	uint64_t start, end;	/* physical */
	char cmdline[2048];
};

/* What the multiboot2 information says, copied out before it can be overwritten. */
struct boot_info {
	char cmdline[256];		/* layer 0's own command line */
	struct range avail[MAX_RANGES];	/* usable RAM */
	int navail;
	struct range reserved[MAX_RANGES]; /* inside avail but not free: kernel, modules, MBI */
	int nreserved;
	struct module mods[MAX_MODULES];
	int nmods;
	uint64_t ram_bytes;
	/* layer 0's own ELF section headers, for symbols (0 if GRUB gave none) */
	uint64_t shdr_phys;
	uint32_t shdr_num, shdr_entsize, shdr_strndx;
};

/* A symbol table to resolve addresses in reports. */
struct symtab {
	const void *syms;	/* Elf64_Sym[] */
	uint64_t nsyms;
	const char *strs;
	uint64_t strsz;
};

/* boot.asm */
extern char kernel_start[], kernel_end[];	/* virtual, from the linker script */
extern char text_start[], text_end[], rodata_start[], rodata_end[];
extern char data_start[], data_end[];

/* cpu.c: the interrupt stacks (TSS IST slots 1..7) */
#define IST_PAGE_FAULT		1
#define IST_DOUBLE_FAULT	2
#define IST_NMI			3
#define IST_MACHINE_CHECK	4
#define IST_TRAP		5	/* layer 1's traps */
#define IST_IRQ			6	/* device and timer interrupts */
#define IST_EXCEPTION		7	/* every other CPU exception */
#define IST_COUNT		7
/* Vectors: 0..31 CPU exceptions, then these (0xe0..0xef are layer 1's traps). */
#define TIMER_VECTOR		0x20
#define DEVICE_VECTOR_FIRST	0x30	/* MSI-X vectors, handed out by irq.c */
#define DEVICE_VECTOR_LAST	0x3f
#define SPURIOUS_VECTOR		0xff
void cpu_init(void);			/* GDT, TSS, IDT (on one early stack), SSE on */
void cpu_set_ist(int ist, uint64_t stack_top);
void cpu_break_gate(int vector);	/* marks a gate not present (a self-test) */
static inline void cli(void) { __asm__ volatile("cli"); }
static inline void sti(void) { __asm__ volatile("sti"); }
static inline void hlt(void) { __asm__ volatile("hlt"); }
/*
 * With interrupts off: sleeps until an interrupt has been taken, and returns
 * with interrupts off again.  sti holds interrupts off for one more
 * instruction, so one already pending is taken only once hlt has begun and
 * wakes it: a check made before the call cannot miss the interrupt that
 * would have made it true.
 */
static inline void sleep_until_interrupt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cs(void) { uint64_t v; __asm__ volatile("mov %%cs, %0" : "=r"(v)); return v; }
static inline uint64_t read_ss(void) { uint64_t v; __asm__ volatile("mov %%ss, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }

/* serial.c */
void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, size_t n);

/* printf.c */
int vsnprintf_(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf_(char *buf, size_t size, const char *fmt, ...) PRINTFLIKE(3, 4);
void kprintf(const char *fmt, ...) PRINTFLIKE(1, 2);

/* string.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* build_id.c */
uint64_t layer0_build(void);		/* this build's ID (the linker's), first 8 bytes; 0: none */

/* crc32c.c: CRC-32C (Castagnoli); extend continues a CRC over more bytes */
uint32_t crc32c(const void *p, uint64_t n);
uint32_t crc32c_extend(uint32_t crc, const void *p, uint64_t n);

/* mb2.c */
void mb2_parse(uint64_t mbi_phys, struct boot_info *bi);
const char *cmdline_option(const char *cmdline, const char *key); /* "key=value": value, else 0 */
bool option_is(const char *value, const char *word);	/* value (up to a space) == word */
uint64_t option_number(const char *cmdline, const char *key, uint64_t dflt); /* "key=N", else dflt */

/* pmm.c: physical pages, 4 KiB each, lowest address first */
void pmm_init(const struct range *avail, int navail, const struct range *reserved, int nreserved);
uint64_t pmm_alloc(void);		/* a zeroed page, or 0 when none is left */
uint64_t pmm_alloc_uninit(void);	/* the same, not zeroed: for a page about to be overwritten whole */
uint64_t pmm_alloc_huge(void);	/* HUGE_PAGES free pages at a 2 MiB boundary, not zeroed, or 0 */
void pmm_free(uint64_t pa);
void pmm_free_huge(uint64_t pa);	/* all of a pmm_alloc_huge run */
uint64_t pmm_direct_pages(void);	/* pages below the direct map's limit that the bitmap covers */
bool pmm_page_free(uint64_t pa);
bool pmm_take_huge(uint64_t pa);	/* the free aligned run at pa, taken whole; false if any of it is not free */
uint64_t pmm_free_pages(void);
void pmm_set_direct_limit(uint64_t limit); /* vm_init: RAM below limit is now direct-mapped */
void *p2v(uint64_t pa);			/* through the direct map */
uint64_t v2p(const void *va);		/* direct-map or kernel-image address to physical */

/* vm.c: 4-level page tables */
#define PTE_P		(1ULL << 0)
#define PTE_W		(1ULL << 1)
#define PTE_U		(1ULL << 2)
#define PTE_PWT		(1ULL << 3)
#define PTE_PCD		(1ULL << 4)
#define PTE_A		(1ULL << 5)
#define PTE_D		(1ULL << 6)
#define PTE_PS		(1ULL << 7)
#define PTE_G		(1ULL << 8)
#define PTE_NX		(1ULL << 63)
#define PTE_ADDR_MASK	0x000ffffffffff000ULL
typedef uint64_t pte_t;
extern uint64_t kernel_root;		/* physical address of the one PML4 */
void vm_init(const struct boot_info *bi); /* final tables: W^X kernel, NX direct map; loads CR3 */
pte_t *vm_walk(uint64_t root, uint64_t va, bool create); /* the 4 KiB leaf entry, or 0 */
int vm_map(uint64_t root, uint64_t va, uint64_t pa, uint64_t flags);	/* 0, or -1 out of memory */
int vm_map_range(uint64_t root, uint64_t va, uint64_t pa, uint64_t len, uint64_t flags);
pte_t vm_unmap(uint64_t root, uint64_t va);	/* clears the entry, returns the old one */
void vm_flush(uint64_t va);		/* invlpg */
void vm_flush_all(void);		/* reloads CR3: every non-global entry */
void *vm_map_mmio(uint64_t pa, uint64_t len);	/* uncached, in the MMIO area */
uint64_t vm_alloc_stack(void);		/* a guarded L0_STACK_SIZE stack; returns its top */
void *vm_alloc_area(uint64_t bytes);	/* zeroed layer-0 memory, mapped for good */
bool vm_present(uint64_t root, uint64_t va);	/* mapped by a 4 KiB or 2 MiB page */
pte_t *vm_walk_pde(uint64_t root, uint64_t va, bool create); /* the 2 MiB-level entry, or 0 */
bool vm_prune(uint64_t root, uint64_t va); /* frees the empty tables on va's path: true if any */
uint64_t vm_count_tables(uint64_t root, uint64_t lo, uint64_t hi, uint64_t *empty); /* tables mapping [lo, hi) */
/* Entry stores given the entry and its address; the TLB rule of each is in vm.c's header. */
void vm_set_leaf(pte_t *e, uint64_t va, uint64_t pa, uint64_t flags);	/* a 4 KiB page */
void vm_set_huge_leaf(pte_t *e, uint64_t va, uint64_t pa, uint64_t flags); /* a 2 MiB page, e from vm_walk_pde */
void vm_clear_leaf(pte_t *e, uint64_t va);	/* 4 KiB or 2 MiB */
/* Sets leaf e (clears it if pa is 0), no flush: the old entry.  Inline: the NIC rings call it per frame. */
static inline pte_t vm_swap_leaf(pte_t *e, uint64_t pa, uint64_t flags)
{
	pte_t old = *e;

	*e = pa != 0 ? pa | flags | PTE_P : 0;
	return old;
}
void vm_set_writable(pte_t *e, uint64_t va, bool writable);
bool vm_write_protect(pte_t *e, uint64_t va);	/* takes W and the dirty bit: true if it was dirty */
bool vm_leaf_dirty(const pte_t *e);
bool vm_leaf_accessed(const pte_t *e);
bool vm_take_dirty(pte_t *e, uint64_t va);	/* clears the dirty bit: true if it was set */
bool vm_take_accessed(pte_t *e, uint64_t va);	/* clears the accessed bit: true if it was set */
pte_t *vm_split_huge(pte_t *e, uint64_t va, uint64_t table_pa, uint64_t flags); /* 2 MiB into a table of 4 KiB leaves */

/* timer.c */
#define TICK_HZ		100		/* the timer interrupt: a halted CPU wakes at least this often */
void timer_window_open(void);		/* at kmain's start: the PIT window timer_init measures against */
void timer_init(void);			/* calibrates the TSC, starts the LAPIC timer */
void timer_fast(void);			/* a tick every millisecond from now on */
uint64_t clock_ns(void);		/* monotonic, since timer_init */
uint64_t timer_tsc_base(void);
uint64_t timer_tsc_ns_mult(void);	/* 32.32 ns per TSC tick */
void timer_publish(volatile uint64_t *where); /* each tick stores clock_ns() here */
void timer_tick(void);			/* from trap() on the timer vector */
void timer_resume_at(uint64_t ns);	/* the clock carries on from ns (a resume) */

/*
 * How long a wait on a device has run with the machine running: the
 * clock's steps between two looks, each counted up to WAIT_STEP_MAX_NS.  A
 * longer step is the host stopping the whole machine (a paused or migrated
 * VM, QEMU descheduled): the clock jumps, but the device had no more chance
 * to answer than the CPU did, so the jump is not the device's silence.
 * Waiters look at least once a timer tick, far below the cap.
 */
#define WAIT_STEP_MAX_NS	1000000000ULL
struct waited {
	uint64_t last;			/* clock_ns() at the last look */
	uint64_t ns;			/* the steps so far, each capped */
};
static inline void waited_start(struct waited *w)
{
	w->last = clock_ns();
	w->ns = 0;
}
static inline uint64_t waited_step(struct waited *w)
{
	uint64_t now = clock_ns(), step = now - w->last;

	w->last = now;
	w->ns += step < WAIT_STEP_MAX_NS ? step : WAIT_STEP_MAX_NS;
	return w->ns;
}

void lapic_eoi(void);
uint32_t lapic_id(void);		/* this CPU's, where an MSI is addressed */
bool lapic_in_service(uint64_t vector);	/* a delivered interrupt, not an int instruction; false before timer_init */

/* irq.c: device interrupts on DEVICE_VECTOR_FIRST..DEVICE_VECTOR_LAST */
int irq_register(void (*fn)(void *ctx), void *ctx); /* a vector of its own for fn, or -1 if none is left */
bool irq_dispatch(uint64_t vector);	/* runs vector's handler: false if it has none */

/* insn.c: a doorbell read layer 0 completes itself */
/*
 * code holds a plain load into a general register (optional REX, mov 8B,
 * no SIB, not into rsp): 0 with its register (0 rax .. 15 r15, the
 * encoding's numbers) and its length, else -1.
 */
int insn_plain_load(const uint8_t *code, unsigned *reg, unsigned *len);

/* trap.c */
void trap(struct trapframe *tf);	/* from the entry stubs, every vector */
#define RFLAGS_TF	0x100	/* trap flag: a debug trap after the next instruction */
#define RFLAGS_RF	0x10000	/* resume flag: no instruction breakpoint on the next one */

/* Layer 1 lives in the lower half, layer 0 in the upper: RIP says who trapped. */
static inline bool trap_from_layer1(const struct trapframe *tf) { return tf->rip < 0x0000800000000000ULL; }

/* report.c: the fault report, then the machine stops */
NORETURN void report_fault(const struct trapframe *tf, const char *who,
    const char *rule, const char *detail, uint32_t exit_code);
NORETURN void panic(const char *fmt, ...) PRINTFLIKE(1, 2);
/* A device that answers no more, or asked for a reset: STRATA_EXIT_DEVICE. */
NORETURN void report_device(const char *device, const char *waiting_for, uint64_t waited_ns,
    const char *why);
const char *vector_name(uint64_t vector);	/* "page fault", "timer interrupt", ... */

/* symbols.c */
void sym_init_layer0(const struct boot_info *bi);
void sym_set_layer1(const struct symtab *st);
const char *sym_lookup(uint64_t addr, uint64_t *offset); /* name of the symbol holding addr, or 0 */

/* exit.c */
NORETURN void machine_exit(uint32_t code);	/* isa-debug-exit, else halt forever */

/* selftest.c: layer-0 faults forced on purpose (cmdline selftest=NAME) */
void selftest_run(const char *name);

/* main.c, from boot.asm */
void kmain(uint64_t mbi_phys, uint32_t magic);

/* boot.asm */
NORETURN void stack_switch(uint64_t top, void (*fn)(void));

/* trapentry.asm: returns into the frame tf as if from the trap that saved it */
NORETURN void trap_resume(const struct trapframe *tf);

/* load.c: the payload */
struct l1_image;
void payload_load(const struct boot_info *bi);	/* validates, maps, fills the info page */
NORETURN void payload_enter(void);

/* console.c: the console ring, and the payload's end */
void console_load(uint32_t nslots);	/* the ring of nslots slots, mapped for layer 1 */
NORETURN void l1_exit(uint32_t code);	/* layer 1 exited with code: statistics, then stop */

/* nic.c: the NIC rings (the interface is nic.h) */

/* l1fault.c: layer-1 page faults and traps, by the ABI's rules */
void l1_page_fault(struct trapframe *tf);
void l1_trap(struct trapframe *tf);
bool l1_debug_trap(struct trapframe *tf);	/* the end of a doorbell read; false if not one */
bool l1_stepping(void);				/* a doorbell read is being single-stepped */

/* drivers/probe.c: finding the devices at boot */
void probe_disks(void);			/* attaches every disk's driver, prints one line each */
void probe_nics(void);			/* attaches every NIC's driver, prints one line each */

#endif
