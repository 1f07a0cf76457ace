/*
 * Checkpoints: taking one, and resuming from the newest at boot.
 *
 * A checkpoint is one journal record (journal.c): every window page dirtied
 * since the previous checkpoint (the pager's dirty list, pager_dirty.c) and a
 * state blob: layer 1's registers and FPU state, where its rings stand, the
 * clock.  Layer 1 is stopped while it is written; the cost is the pages it
 * dirtied, never the size of the disk or of RAM.
 *
 * Any instant of layer 1 is a valid checkpoint, so one is taken wherever
 * layer 0 holds layer 1 stopped at a whole instruction:
 *   - at a commit or sync trap, with the registers the trap returns;
 *   - every checkpoint=MS (default 1000) of the clock, at a timer tick that
 *     interrupted layer 1 or while it waits;
 *   - early, before a write would take the dirty set past what one record
 *     may hold (a quarter of the journal), and when the CLOCK must evict a
 *     page no checkpoint holds yet (the steal rule, pager.c): checkpoint
 *     early, never refuse;
 *   - at exit, marked so that the next boot starts afresh.
 * A fault's registers re-run the faulting instruction; a trap that is not
 * over yet (a wait) is saved to run again from its int instruction.
 *
 * When the journal is full, it is cleaned: every journaled page is written
 * home and flushed, and every record but the newest is released.  Pages
 * reach home lazily otherwise, by eviction or before they change
 * (pager_dirty.c), off the commit's path.
 */
#include "defs.h"
#include "blkdev.h"
#include "checkpoint.h"
#include "disklabel.h"
#include "journal.h"
#include "layer1.h"
#include "nic.h"
#include "pager.h"
#include "strata/abi.h"

#define STATE_MAGIC	0x3154534b43525453ULL	/* "STRCKST1" */
#define STATE_EXITED	0x1	/* layer 1 exited: the next boot starts afresh */
#define PERIOD_DEFAULT_MS	1000
#define EXTSYNC_DEFAULT_MS	2
#define INSN_INT_BYTES	2	/* int imm8 */

enum { RING_CONSOLE, RING_TX, RING_RX, NRINGS };

/* What a record holds besides the pages: all of layer 1 that is not in the window. */
struct cpstate {
	uint64_t magic;
	uint64_t flags;			/* STATE_* */
	uint64_t payload_hash;		/* the build that ran (the label's) */
	uint64_t resumes;		/* info->resumes when it was taken */
	uint64_t clock_ns;		/* the info page's clock then */
	struct trapframe regs;		/* as layer 1 is to run again */
	uint32_t ring_next[NRINGS];	/* each ring's first slot not taken */
	uint32_t ring_slots[NRINGS];
	uint64_t ring_doorbells[NRINGS];
	struct nic_state nic;		/* the RX count and slots (nic_save) */
	uint8_t fpu[512] __attribute__((aligned(16)));	/* fxsave's image */
};

static struct {
	bool recovered;			/* the journal held a checkpoint: it is in st */
	bool on;			/* checkpoints are taken (a disk, layer 1 started) */
	bool taking;
	bool armed;			/* a periodic checkpoint waits for layer 1's next instruction */
	struct journal j;
	struct jpage *pages;		/* a checkpoint's pages: room for every page of the cache */
	uint32_t limit;			/* pages a checkpoint holds, unless the ones before failed */
	uint64_t period_ns, last_ns;	/* periodic checkpoints; 0: none */
	uint64_t payload_hash;
	uint64_t resumes;
	uint64_t taken, failed, cleanings;
	struct cpstate st;		/* the one being built, or the one resumed */
} cp;

/* The layer-1 frame of the current entry into layer 0 (trap.c sets it). */
struct trapframe *l1_frame;

static struct ring *ring_of(int k)
{
	return k == RING_CONSOLE ? &l1.console : k == RING_TX ? &l1.tx : &l1.rx;
}

static void state_save(const struct trapframe *f, uint64_t flags)
{
	struct cpstate *s = &cp.st;

	s->magic = STATE_MAGIC;
	s->flags = flags;
	s->payload_hash = cp.payload_hash;
	s->resumes = cp.resumes;
	s->clock_ns = clock_ns();
	s->regs = *f;
	if (f->by_int)
		s->regs.rip -= INSN_INT_BYTES;	/* a trap not over yet runs again */
	s->regs.by_int = 0;
	for (int k = 0; k < NRINGS; k++) {
		s->ring_next[k] = ring_of(k)->next;
		s->ring_slots[k] = ring_of(k)->nslots;
		s->ring_doorbells[k] = ring_of(k)->doorbells;
	}
	nic_save(&s->nic);
	__asm__ volatile("fxsave64 %0" : "=m"(s->fpu));
}

/* Writes home everything the journal holds and lets all records but the newest go. */
static enum journal_error clean(void)
{
	cp.cleanings++;
	if (pager_sync() != 0)
		return J_IOERR;
	return journal_release(&cp.j, cp.j.next_seq - 1);
}

static enum journal_error commit_record(uint32_t n)
{
	enum journal_error e = journal_commit(&cp.j, cp.pages, n, &cp.st, sizeof(cp.st));

	if (e == J_NOSPACE && (e = clean()) == J_OK)
		e = journal_commit(&cp.j, cp.pages, n, &cp.st, sizeof(cp.st));
	return e;
}

/* One checkpoint of layer 1 as frame f shows it: 0, or -1 if the journal failed. */
static int take(const struct trapframe *f, uint64_t flags)
{
	enum journal_error e;
	uint32_t n;

	if (cp.taking)
		panic("checkpoint: another checkpoint was asked for while one is written");
	cp.taking = true;
	state_save(f, flags);
	n = pager_checkpoint_pages(cp.pages);
	e = commit_record(n);
	pager_checkpoint_done(e == J_OK);
	cp.last_ns = clock_ns();
	cp.taking = false;
	if (e != J_OK) {
		cp.failed++;
		kprintf("strata: checkpoint: writing %u pages to the journal failed: %s\n", n,
		    journal_error_name(e));
		return -1;
	}
	cp.taken++;
	l1.info->checkpoint_seq = cp.j.next_seq - 1;
	nic_covered();
	return 0;
}

int checkpoint_commit(struct trapframe *tf)
{
	struct trapframe f = *tf;

	if (!cp.on)
		return 0;
	f.rax = STRATA_COMMIT_OK;	/* a resume returns from the trap as it does now */
	f.by_int = 0;
	return take(&f, 0);
}

static bool due(void)
{
	return cp.on && cp.period_ns != 0 && !cp.taking && clock_ns() - cp.last_ns >= cp.period_ns;
}

void checkpoint_tick(struct trapframe *tf)
{
	if (due())
		take(tf, 0);
}

/*
 * A tick that interrupted layer 1 does not write the checkpoint itself: the
 * disk's waits take interrupts, which would run on this interrupt's own
 * stack.  It arms a single step instead, and the debug trap after layer 1's
 * next instruction takes it (checkpoint_step), on the exceptions' stack.
 */
void checkpoint_tick_irq(struct trapframe *tf)
{
	if (!cp.armed && due()) {
		cp.armed = true;
		tf->rflags |= RFLAGS_TF;
	}
}

bool checkpoint_step(struct trapframe *tf)
{
	if (!cp.armed)
		return false;
	cp.armed = false;
	tf->rflags &= ~RFLAGS_TF;
	take(tf, 0);
	return true;
}

void checkpoint_room(struct trapframe *tf)
{
	if (cp.on && pager_dirty_count() >= cp.limit)
		take(tf, 0);
}

/* The pager's steal hook: the CLOCK needs a page no checkpoint holds. */
static void steal(void)
{
	if (l1_frame != 0 && !cp.taking && !l1_stepping())
		take(l1_frame, 0);
}

uint64_t checkpoint_cover(void)
{
	if (!cp.on)
		return 0;
	if (l1_frame != 0 && !cp.taking && !l1_stepping() && take(l1_frame, 0) == 0)
		return cp.j.next_seq - 1;
	return cp.j.next_seq;	/* the next one covers it */
}

uint64_t checkpoint_covered(void)
{
	return cp.on ? l1.info->checkpoint_seq : 0;
}

static uint64_t extsync_ns;	/* extsync=MS, read by checkpoint_boot */

uint64_t checkpoint_extsync_ns(void)
{
	return extsync_ns;
}

void checkpoint_exit(struct trapframe *tf)
{
	if (!cp.on)
		return;
	/* Home with everything, and the journal down to the final record: the next boot replays little. */
	if (take(tf, STATE_EXITED) != 0 || clean() != J_OK)
		kprintf("strata: checkpoint: the final checkpoint failed: the next boot resumes an earlier one\n");
	kprintf("strata: checkpoint: %lu taken, %lu failed, %lu journal cleanings\n",
	    (unsigned long)cp.taken, (unsigned long)cp.failed, (unsigned long)cp.cleanings);
}

/* ---- boot: recovery, the choice between resume and fresh start ---------- */

static NORETURN void journal_stop(enum journal_error e, const char *why)
{
	kprintf("strata: %s: the checkpoint journal fails its checks: %s (%s)\n"
	    "strata: not running it: nothing on the disk was changed by this boot\n",
	    l1.dev->name, journal_error_name(e), why ? why : "");
	load_stop(e == J_IOERR ? STRATA_EXIT_DISK_IO : STRATA_EXIT_JOURNAL,
	    e == J_IOERR ? "disk I/O error" : "the disk's journal fails its checks");
}

static bool recover(const struct disklabel *lb)
{
	struct jrecovery r;
	enum journal_error e;

	cp.j = (struct journal){ .dev = l1.dev, .start = l1.geom.l1_disk_limit,
	    .nblocks = (l1.geom.disk_bytes - l1.geom.l1_disk_limit) / JOURNAL_BLOCK,
	    .home_limit = l1.geom.l1_disk_limit / PAGE_SIZE, .install = lb->installs };
	if (lb->magic == 0 || lb->state != LABEL_READY)
		return false;
	e = journal_recover(&cp.j, &cp.st, &r);
	if (e == J_NONE)
		return false;
	if (e != J_OK)
		journal_stop(e, r.why);
	if (r.records > 0)
		kprintf("strata: journal: replayed %lu records (%lu pages), the newest is checkpoint %lu\n",
		    (unsigned long)r.records, (unsigned long)r.pages, (unsigned long)r.seq);
	if (r.records == 0)
		return false;
	if (r.state_bytes != sizeof(cp.st) || cp.st.magic != STATE_MAGIC)
		journal_stop(J_CORRUPT, "the newest checkpoint's state is not one this layer 0 wrote");
	return true;
}

void checkpoint_recover(const struct disklabel *lb)
{
	cp.recovered = recover(lb);
}

bool checkpoint_boot(const struct boot_info *bi, const struct disklabel *lb, bool from_module)
{
	const char *why = 0;

	cp.period_ns = option_number(bi->cmdline, "checkpoint", PERIOD_DEFAULT_MS) * 1000000ULL;
	extsync_ns = option_number(bi->cmdline, "extsync", EXTSYNC_DEFAULT_MS) * 1000000ULL;
	if (l1.dev == 0)
		return false;
	if (!cp.recovered)
		why = lb->magic == 0 ? "a new disk" : "no checkpoint on the disk";
	else if (cmdline_option(bi->cmdline, "fresh") != 0)
		why = "fresh on layer 0's command line";
	else if (cp.st.flags & STATE_EXITED)
		why = "the payload exited";
	else if (from_module && lb->payload_hash != l1.file_hash)
		why = "a new build of the payload";
	else if (cp.st.payload_hash != lb->payload_hash)
		why = "the checkpoint is of another build";
	if (why != 0) {
		kprintf("strata: checkpoint: fresh start (%s)\n", why);
		return false;
	}
	return true;
}

/* The pages one record may hold: a quarter of the journal, so that after a cleaning one always fits. */
static uint32_t record_limit(void)
{
	uint64_t n = cp.j.nblocks / 4;

	n = n > 8 ? n - 8 : 1;	/* head, state and seal blocks */
	return n > JOURNAL_PAGES_MAX ? JOURNAL_PAGES_MAX : (uint32_t)n;
}

static void start(const struct disklabel *lb)
{
	cp.payload_hash = lb->payload_hash;
	cp.limit = record_limit();
	cp.pages = vm_alloc_area((uint64_t)pager_pages_max() * sizeof(*cp.pages));
	pager_checkpoints(steal);
	cp.on = true;
	cp.last_ns = clock_ns();
}

void checkpoint_fresh(const struct disklabel *lb)
{
	enum journal_error e;

	if (l1.dev == 0)
		return;
	/* The fresh image home first: a cut before checkpoint 1 starts afresh again. */
	if (pager_sync() != 0)
		load_stop(STRATA_EXIT_DISK_IO, "disk I/O error");
	cp.j.install = lb->installs;
	if ((e = journal_format(&cp.j)) != J_OK)
		journal_stop(e, "formatting it");
	start(lb);
}

/* ---- resume ------------------------------------------------------------ */

static void rings_resume(void)
{
	for (int k = 0; k < NRINGS; k++) {
		struct ring *r = ring_of(k);

		if (r->nslots == cp.st.ring_slots[k] && cp.st.ring_next[k] < r->nslots)
			ring_resume(r, cp.st.ring_next[k], cp.st.ring_doorbells[k]);
	}
}

NORETURN void checkpoint_resume(const struct disklabel *lb)
{
	static struct trapframe f;

	cp.resumes = cp.st.resumes + 1;
	timer_resume_at(cp.st.clock_ns);
	l1.info->tsc_base = timer_tsc_base();
	l1.info->clock_ns = clock_ns();
	l1.info->resumes = cp.resumes;
	l1.info->resume_clock_ns = cp.st.clock_ns;
	l1.info->checkpoint_seq = cp.j.next_seq - 1;
	rings_resume();
	nic_resume(l1.rx.next, &cp.st.nic);
	start(lb);
	kprintf("strata: checkpoint: resuming checkpoint %lu of \"%s\" (resume %lu)\n",
	    (unsigned long)(cp.j.next_seq - 1), l1.img.hdr.name, (unsigned long)cp.resumes);
	f = cp.st.regs;
	f.rflags &= ~(RFLAGS_TF | RFLAGS_RF);
	f.cs = read_cs();
	f.ss = read_ss();
	__asm__ volatile("cli; fxrstor64 %0" :: "m"(cp.st.fpu));
	trap_resume(&f);
}
