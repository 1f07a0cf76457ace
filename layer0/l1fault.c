/*
 * The fault ABI, enforced: every page fault and trap layer 1 raises is either
 * an agreed signal (a doorbell, a wait on a queued slot, a trap) or a broken
 * rule, which ends in a report naming the rule (doc/abi.md, "Violations").
 */
#include "defs.h"
#include "checkpoint.h"
#include "layer1.h"
#include "nic.h"
#include "pager.h"
#include "profile.h"
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

/*
 * The ring whose doorbell page is mapped for the one instruction that read
 * it, which runs single-stepped (ring.c says why); 0 when none is.
 */
static struct ring *stepping;

/* Layer 1's general register number reg (the encoding's: 0 rax .. 15 r15, not 4 rsp). */
static uint64_t *l1_reg(struct trapframe *tf, unsigned reg)
{
	uint64_t *regs[16] = {
		&tf->rax, &tf->rcx, &tf->rdx, &tf->rbx, 0, &tf->rbp, &tf->rsi, &tf->rdi,
		&tf->r8, &tf->r9, &tf->r10, &tf->r11, &tf->r12, &tf->r13, &tf->r14, &tf->r15,
	};

	return regs[reg];
}

/*
 * A doorbell read: take its slots, then complete the read.  A plain load is
 * completed here: its register gets the zero the page holds, and layer 1
 * goes on after it, with no page mapped and no debug trap (the step cost 7
 * to 14 us a doorbell, and under TCG the debug trap waited for the device's
 * thread while it sent the batch).  Any other read gets the page for one
 * single-stepped instruction.  The checkpoint a doorbell may take
 * (extsync) sees layer 1 at the read either way.
 */
static void doorbell_fault(struct trapframe *tf, struct ring *r, uint32_t i, uint64_t err)
{
	const char *why;
	unsigned reg, len;

	if (err & PF_WRITE)
		violation(tf, STRATA_EXIT_V_RING, "a doorbell page was written; ring it with a read");
	if (stepping != 0)
		violation(tf, STRATA_EXIT_V_RING, "one instruction read two doorbell pages");
	if (ring_doorbell(r, i, &why) < 0)
		violation(tf, STRATA_EXIT_V_RING, why);
	if (insn_plain_load((const uint8_t *)tf->rip, &reg, &len) == 0) {
		*l1_reg(tf, reg) = 0;
		tf->rip += len;
		return;
	}
	ring_doorbell_step(r, i);
	stepping = r;
	tf->rflags |= RFLAGS_TF;
}

bool l1_stepping(void)
{
	return stepping != 0;
}

/*
 * The debug trap after an instruction layer 0 single-stepped: a doorbell
 * read (the doorbell goes again, and the stepping), or the one a periodic
 * checkpoint waited for, or both.
 */
bool l1_debug_trap(struct trapframe *tf)
{
	bool ours = stepping != 0;

	if (stepping != 0) {
		ring_doorbell_done(stepping);
		stepping = 0;
		tf->rflags &= ~RFLAGS_TF;
	}
	return checkpoint_step(tf) || ours;
}

/* A fault in a ring: a doorbell, a wait on a held slot, or a broken rule; which part it was in. */
static enum ring_part ring_fault(struct trapframe *tf, struct ring *r, uint64_t va, uint64_t err)
{
	char detail[96];
	uint32_t i = 0;
	enum ring_part part = ring_locate(r, va, &i);

	if (part == RING_BEYOND) {
		snprintf_(detail, sizeof(detail), "beyond the %u slots granted in the %s ring",
		    r->nslots, r->name);
		violation(tf, STRATA_EXIT_V_OUTSIDE, detail);
	}
	if (err & PF_FETCH)
		violation(tf, STRATA_EXIT_V_EXEC, "ring pages are never executable");
	switch (part) {
	case RING_BEYOND:
		break;		/* reported above */
	case RING_DATA:
		if (err & PF_PRESENT)
			violation(tf, STRATA_EXIT_V_RING, "unexpected protection fault on a ring slot");
		ring_wait_slot(r, i);
		break;
	case RING_DOORBELL:
		doorbell_fault(tf, r, i, err);
		break;
	}
	return part;
}

/* The NIC regions: a ring if one was granted, else nothing is there. */
static void nic_fault(struct trapframe *tf, struct ring *r, uint64_t va, uint64_t err)
{
	uint64_t t0 = r == &l1.tx ? prof_begin() : 0, taken = r->taken;

	if (r->nslots == 0)
		violation(tf, STRATA_EXIT_V_OUTSIDE, "no NIC ring was granted (no NIC, or the header asked for none)");
	if (ring_fault(tf, r, va, err) != RING_DOORBELL)
		prof_end(PROF_TX_WAIT, t0);
	else	/* counted in frames: a batch's cost per frame */
		prof_end_n(r->taken - taken > 1 ? PROF_TX_BATCH : PROF_TX, t0, r->taken - taken);
}

/* The PTE flags of a payload segment's pages. */
static uint64_t segment_perm(const struct strata_segment *s)
{
	return PTE_P | (s->flags & STRATA_SEG_W ? PTE_W : 0) | (s->flags & STRATA_SEG_X ? 0 : PTE_NX);
}

/*
 * How layer 1 sees the window page at disk offset off: its stack, its image
 * with the segments' permissions, and with a disk everything after the image
 * up to the journal as read-write data.  0: not layer 1's.
 */
uint64_t l1_window_perm(uint64_t off)
{
	uint64_t va = STRATA_DISK_WINDOW_BASE + PAGE_ROUND_DOWN(off);

	/* The free area first: it lies above everything else and takes most faults. */
	if (l1.dev != 0 && va >= l1.img.image_end && off < l1.geom.l1_disk_limit)
		return PTE_P | PTE_W | PTE_NX;
	if (va >= STRATA_L1_STACK_TOP - l1.stack_bytes && va < STRATA_L1_STACK_TOP)
		return PTE_P | PTE_W | PTE_NX;
	for (int i = 0; i < l1.img.nseg; i++) {
		const struct strata_segment *s = &l1.img.seg[i];

		if (va >= PAGE_ROUND_DOWN(s->vaddr) && va < PAGE_ROUND_UP(s->vaddr + s->memsz))
			return segment_perm(s);
	}
	return 0;
}

/* The regions of the window layer 1 may not touch, each with its rule. */
static void window_rules(struct trapframe *tf, uint64_t off)
{
	if (off < STRATA_DISK_HEAD_SIZE)
		violation(tf, STRATA_EXIT_V_L0_REGION, "the disk's first MiB belongs to layer 0");
	if (l1.dev != 0 && off >= l1.geom.disk_bytes)
		violation(tf, STRATA_EXIT_V_OUTSIDE, "beyond the end of the disk");
	if (l1.dev != 0 && off >= l1.geom.l1_disk_limit)
		violation(tf, STRATA_EXIT_V_L0_REGION, "the journal at the end of the disk belongs to layer 0");
	if (STRATA_DISK_WINDOW_BASE + off < STRATA_L1_STACK_TOP - l1.stack_bytes)
		violation(tf, STRATA_EXIT_V_STACK, "below the layer-1 stack (recursion too deep or frame too large)");
}

/* A fault in the disk window: a page to bring in, or a broken rule. */
static void window_fault(struct trapframe *tf, uint64_t va, uint64_t err)
{
	uint64_t off = va - STRATA_DISK_WINDOW_BASE;
	uint64_t perm;
	char detail[96];

	window_rules(tf, off);
	if ((perm = l1_window_perm(off)) == 0)
		violation(tf, STRATA_EXIT_V_OUTSIDE, l1.dev ? "a gap between the payload's segments" :
		    "the disk window beyond the payload (no disk is attached)");
	if ((err & PF_WRITE) && !(perm & PTE_W))
		violation(tf, STRATA_EXIT_V_READONLY, "write to a read-only segment of the payload");
	if ((err & PF_FETCH) && (perm & PTE_NX))
		violation(tf, STRATA_EXIT_V_EXEC, "instruction fetch from a data page of the window");
	if (err & PF_WRITE)
		checkpoint_room(tf);	/* the page may join the dirty set */
	if ((err & (PF_PRESENT | PF_WRITE)) == (PF_PRESENT | PF_WRITE)) {
		if (pager_write_fault(off) == 0)
			return;
		snprintf_(detail, sizeof(detail), "the disk could not be written at offset %#lx",
		    (unsigned long)PAGE_ROUND_DOWN(off));
		report_fault(tf, "layer 1", "DISK-IO: a page of the window could not be written home "
		    "before it changed", detail, STRATA_EXIT_DISK_IO);
	}
	if (pager_fault(off, (err & PF_WRITE) != 0) == 0)
		return;
	snprintf_(detail, sizeof(detail), "the disk could not be read at offset %#lx",
	    (unsigned long)PAGE_ROUND_DOWN(off));
	report_fault(tf, "layer 1", "DISK-IO: a page of the window could not be brought in",
	    detail, STRATA_EXIT_DISK_IO);
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
		ring_fault(tf, &l1.console, va, err);
		return;
	}
	if (in(va, STRATA_NIC_TX_BASE, STRATA_NIC_TX_REGION_SIZE)) {
		nic_fault(tf, &l1.tx, va, err);
		return;
	}
	if (in(va, STRATA_NIC_RX_BASE, STRATA_NIC_RX_REGION_SIZE)) {
		nic_fault(tf, &l1.rx, va, err);
		return;
	}
	if (in(va, STRATA_L0_RESERVED_BASE, STRATA_L0_RESERVED_SIZE))
		violation(tf, STRATA_EXIT_V_L0_REGION, "the layer-0 reserved region");
	if (in(va, STRATA_DISK_WINDOW_BASE, STRATA_DISK_WINDOW_SIZE)) {
		window_fault(tf, va, err);
		return;
	}
	violation(tf, STRATA_EXIT_V_OUTSIDE, "no region is assigned at this address");
}

static void trap_exit(struct trapframe *tf)
{
	const char *why;

	if (ring_drain(&l1.console, &why) < 0)
		violation(tf, STRATA_EXIT_V_RING, why);
	if (tf->rdi > STRATA_EXIT_PAYLOAD_MAX)
		violation(tf, STRATA_EXIT_V_TRAP, "exit code in rdi is larger than STRATA_EXIT_PAYLOAD_MAX (63)");
	checkpoint_exit(tf);
	l1_exit((uint32_t)tf->rdi);
}

/*
 * Prefetch (ABI 1.5): rdi, rsi name whole pages, every one layer 1's; the
 * reads start and the trap returns (pager_prefetch.c).  The free area is one
 * run, passed in one step (it may be terabytes); elsewhere (the stack, the
 * image's segments, at most a few hundred MiB) each page is asked, up to
 * the first one that is not layer 1's.
 */
static void trap_prefetch(struct trapframe *tf)
{
	uint64_t va = tf->rdi, len = tf->rsi, off = va - STRATA_DISK_WINDOW_BASE;
	uint64_t free_lo = l1.img.image_end - STRATA_DISK_WINDOW_BASE;
	char detail[96];

	if (va % STRATA_PAGE_SIZE != 0 || len % STRATA_PAGE_SIZE != 0 || len == 0)
		violation(tf, STRATA_EXIT_V_TRAP,
		    "prefetch: rdi and rsi must be whole pages, rsi not 0");
	if (!in(va, STRATA_DISK_WINDOW_BASE, STRATA_DISK_WINDOW_SIZE) ||
	    len > STRATA_DISK_WINDOW_SIZE - off)
		violation(tf, STRATA_EXIT_V_OUTSIDE, "prefetch: the range leaves the disk window");
	for (uint64_t p = off; p < off + len; p += STRATA_PAGE_SIZE) {
		if (l1.dev != 0 && p >= free_lo && p < l1.geom.l1_disk_limit) {
			p = l1.geom.l1_disk_limit - STRATA_PAGE_SIZE;	/* the free area's last page */
			continue;
		}
		if (l1_window_perm(p) != 0)
			continue;
		snprintf_(detail, sizeof(detail),
		    "prefetch: the page at disk offset %#lx is not layer 1's", (unsigned long)p);
		violation(tf, STRATA_EXIT_V_OUTSIDE, detail);
	}
	tf->rax = pager_prefetch(off, len);
}

void l1_trap(struct trapframe *tf)
{
	char detail[80];

	switch (tf->vector) {
	case STRATA_TRAP_EXIT:
		trap_exit(tf);
		return;
	case STRATA_TRAP_SYNC:
		/* A sync is a commit (ABI 1.3). */
		if (tf->rdi != 0)
			violation(tf, STRATA_EXIT_V_TRAP, "sync: rdi (flags) must be 0");
		tf->rax = checkpoint_commit(tf) == 0 ? STRATA_SYNC_OK : STRATA_SYNC_IO_ERROR;
		return;
	case STRATA_TRAP_WAIT:
		/* Without an RX ring only the deadline ends a wait: without one, nothing would. */
		if (tf->rdi == 0 && l1.rx.nslots == 0)
			violation(tf, STRATA_EXIT_V_TRAP, "wait: no deadline (rdi 0) and no NIC RX ring");
		nic_wait_trap(tf);
		return;
	case STRATA_TRAP_COMMIT:
		if (tf->rdi != 0)
			violation(tf, STRATA_EXIT_V_TRAP, "commit: rdi (flags) must be 0");
		tf->rax = checkpoint_commit(tf) == 0 ? STRATA_COMMIT_OK : STRATA_COMMIT_IO_ERROR;
		return;
	case STRATA_TRAP_PREFETCH:
		trap_prefetch(tf);
		return;
	default:
		snprintf_(detail, sizeof(detail), "int $%#lx: vector %lu (%s) is not a trap",
		    (unsigned long)tf->vector, (unsigned long)tf->vector, vector_name(tf->vector));
		violation(tf, STRATA_EXIT_V_TRAP, detail);
	}
}
