/*
 * Checkpoints: taking one, and resuming from the newest at boot.
 *
 * A checkpoint is one journal record (journal.c): every window page dirtied
 * since the previous checkpoint (the pager's dirty list, pager_dirty.c) and a
 * state blob: layer 1's registers and FPU state, where its rings stand, the
 * clock.  Layer 1 is stopped only to take it (the *pause*: write-protect
 * the dirty pages, save the state, start the journal's writes); it runs
 * while the record is written, and a write to one of its pages moves that
 * page to a copy (pager_dirty.c).  Up to JOURNAL_PIPELINE records are in
 * flight, moved along by the disk's and the timer's interrupts that stop
 * layer 1 (checkpoint_interrupt) and by every wait for one.  The cost is the
 * pages layer 1 dirtied, never the size of the disk or of RAM; a checkpoint
 * with nothing dirty and no ring moved writes nothing.
 *
 * Any instant of layer 1 is a valid checkpoint, so one is taken wherever
 * layer 0 holds layer 1 stopped at a whole instruction:
 *   - at a commit or sync trap, with the registers the trap returns;
 *   - every checkpoint=MS (default 1000, down to 1) of the clock, at a timer
 *     tick that interrupted layer 1 or while it waits;
 *   - once no record is in flight or the newest has its writes done, and
 *     within extsync=MS at the most, after a doorbell of an
 *     external-synchrony payload: its frames leave only once a checkpoint
 *     after the doorbell is durable;
 *   - early, before a write would take the dirty set past what one record
 *     may hold (a quarter of the journal), and when the CLOCK must evict a
 *     page no checkpoint holds yet (the steal rule, pager.c): checkpoint
 *     early, never refuse;
 *   - at exit, marked so that the next boot starts afresh.
 * A fault's registers re-run the faulting instruction; a trap that is not
 * over yet (a wait) is saved to run again from its int instruction.
 *
 * When the journal's room is used up it is cleaned, layer 1 stopped: a
 * checkpoint of every dirty page goes into the room the journal keeps for it
 * (so it always fits), then every journaled page is written home and
 * flushed, and every record but that one is released.  Until then every
 * version a record holds is in RAM, at home or in the journal; pages reach
 * home in the background after each durable checkpoint, or by eviction.
 */
#include "defs.h"
#include "blkdev.h"
#include "checkpoint.h"
#include "disklabel.h"
#include "journal.h"
#include "layer1.h"
#include "nic.h"
#include "pager.h"
#include "profile.h"
#include "strata/abi.h"

#define STATE_MAGIC	0x3154534b43525453ULL	/* "STRCKST1" */
#define STATE_EXITED	0x1	/* layer 1 exited: the next boot starts afresh */
#define PERIOD_DEFAULT_MS	1000
#define EXTSYNC_DEFAULT_MS	2
#define TICK_NS			(1000000000ULL / TICK_HZ)
#define INSN_INT_BYTES	2	/* int imm8 */

enum { RING_CONSOLE, RING_TX, RING_RX, NRINGS };

/* What a record holds besides the pages: all of layer 1 that is not in the window. */
struct cpstate {
	uint64_t magic;
	uint64_t flags;			/* STATE_* */
	uint64_t layer0_build;		/* the layer 0 that took it (build_id.c) */
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

/* A checkpoint whose record is in flight. */
struct record {
	uint64_t seq;
	struct jpage *pages;		/* its pages: room for every page of the cache */
	uint32_t n;
	uint64_t paused_ns;		/* when its pause began */
};

/* Running sums for the statistics line at exit. */
struct timing {
	uint64_t n, sum_ns, max_ns;
};

static struct {
	bool recovered;			/* the journal held a checkpoint: it is in st */
	bool foreign;			/* ... of another layer 0 build, which st does not hold */
	bool on;			/* checkpoints are taken (a disk, layer 1 started) */
	bool taking;
	bool armed;			/* a checkpoint waits for layer 1's next instruction */
	bool resumed;			/* a resume since the last record: its count is not in one yet */
	struct journal j;
	struct record fl[JOURNAL_PIPELINE]; /* in flight, oldest at head */
	uint32_t head, inflight;
	uint32_t limit;			/* pages a checkpoint holds, unless the ones before failed */
	uint64_t period_ns, last_ns;	/* periodic checkpoints; 0: none */
	uint64_t extsync_ns;		/* the longest a doorbell's checkpoint is put off */
	uint64_t cover_by;		/* a checkpoint must start by then (external synchrony); 0: none */
	uint64_t deferred;		/* when the first doorbell it covers rang (profile.h) */
	uint64_t promised;		/* the newest number checkpoint_cover() gave */
	uint64_t last_seq;		/* the newest record begun (or resumed) */
	uint64_t doorbells;		/* the rings' doorbells at the last checkpoint */
	uint64_t payload_hash;
	uint64_t resumes;
	uint64_t taken, failed, cleanings, skipped, pages_written;
	struct timing pause, durable;
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
	s->layer0_build = layer0_build();
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

static void timing_add(struct timing *t, uint64_t ns)
{
	t->n++;
	t->sum_ns += ns;
	if (ns > t->max_ns)
		t->max_ns = ns;
}

static uint64_t doorbells_now(void)
{
	uint64_t n = 0;

	for (int k = 0; k < NRINGS; k++)
		n += ring_of(k)->doorbells;
	return n;
}

/* The journal's end of a record: the oldest in flight, since they end in order. */
static void record_done(void *ctx, uint64_t seq, enum journal_error e)
{
	struct record *r = &cp.fl[cp.head];

	(void)ctx;
	if (cp.inflight == 0 || r->seq != seq)
		panic("checkpoint: record %lu ended out of order", (unsigned long)seq);
	pager_checkpoint_done(r->pages, r->n, e == J_OK);
	cp.head = (cp.head + 1) % JOURNAL_PIPELINE;
	cp.inflight--;
	if (e != J_OK) {
		cp.failed++;
		kprintf("strata: checkpoint: writing %u pages to the journal failed: %s\n", r->n,
		    journal_error_name(e));
		if (cp.promised > l1.info->checkpoint_seq && cp.cover_by == 0)
			cp.cover_by = clock_ns();	/* held frames need another one */
		return;
	}
	cp.taken++;
	cp.pages_written += r->n;
	timing_add(&cp.durable, clock_ns() - r->paused_ns);
	l1.info->checkpoint_seq = seq;
	nic_covered();
}

/* Waits until every record in flight has ended (the pager's drain). */
static void drain(void)
{
	while (cp.inflight > 0)
		journal_wait(&cp.j, cp.fl[cp.head].seq);
}

/*
 * Cleans the journal, layer 1 stopped since the checkpoint in record seq
 * took every dirty page: once it is durable every page is journaled, so
 * writing the journaled ones home leaves every version the records hold at
 * home or in that record, and all the others may go.
 */
static enum journal_error clean(uint64_t seq)
{
	enum journal_error e;

	cp.cleanings++;
	drain();
	if ((e = journal_wait(&cp.j, seq)) != J_OK)
		return e;
	if (pager_sync() != 0)
		return J_IOERR;
	return journal_release(&cp.j, seq);
}

/* Nothing to write: no page dirtied and no ring moved since the last checkpoint, none asked for. */
static bool unchanged(uint32_t n, uint64_t flags)
{
	return n == 0 && flags == 0 && cp.cover_by == 0 && doorbells_now() == cp.doorbells &&
	    cp.last_seq != 0 && !cp.resumed;
}

static enum journal_error begin(struct record *r)
{
	return journal_begin(&cp.j, r->pages, r->n, &cp.st, sizeof(cp.st), &r->seq);
}

/*
 * Starts r's record.  When the journal refuses it for now (a failed record
 * not over, or its space to clear, or no room), it waits until no record is
 * in flight, clears that space, and tries again; when the room is used up,
 * the record goes into the reserve the journal keeps for a cleaning, which
 * *cleaning then asks for.
 */
static enum journal_error record_begin(struct record *r, bool *cleaning)
{
	enum journal_error e = begin(r);

	*cleaning = false;
	if (e == J_BUSY || e == J_NOSPACE) {
		drain();
		if ((e = journal_release(&cp.j, 0)) == J_OK)	/* releases nothing */
			e = begin(r);
	}
	if (e == J_NOSPACE) {
		cp.j.use_reserve = true;
		e = begin(r);
		cp.j.use_reserve = false;
		*cleaning = e == J_OK;
	}
	return e;
}

/*
 * The pause: a checkpoint of layer 1 as frame f shows it starts.  Returns
 * the number that, once durable, holds it (the newest one when nothing
 * changed since), or 0 if the journal refused it (reported).
 */
static uint64_t take(const struct trapframe *f, uint64_t flags)
{
	uint64_t start = clock_ns(), t0 = prof_begin();
	bool cleaning = false;
	struct record *r;
	enum journal_error e;

	if (cp.taking)
		panic("checkpoint: another checkpoint was asked for while one is taken");
	cp.taking = true;
	while (cp.inflight == JOURNAL_PIPELINE)
		journal_wait(&cp.j, cp.fl[cp.head].seq);
	r = &cp.fl[(cp.head + cp.inflight) % JOURNAL_PIPELINE];
	state_save(f, flags);
	r->n = pager_checkpoint_pages(r->pages);
	r->paused_ns = cp.last_ns = start;
	if (unchanged(r->n, flags)) {
		cp.skipped++;
		cp.taking = false;
		return cp.last_seq;
	}
	cp.cover_by = 0;
	cp.resumed = false;
	cp.doorbells = doorbells_now();
	if ((e = record_begin(r, &cleaning)) != J_OK) {
		cp.taking = false;
		pager_checkpoint_done(r->pages, r->n, false);
		cp.failed++;
		kprintf("strata: checkpoint: %u pages not written to the journal: %s\n", r->n,
		    journal_error_name(e));
		return 0;
	}
	cp.inflight++;
	cp.last_seq = r->seq;
	timing_add(&cp.pause, clock_ns() - start);
	prof_end(PROF_CP_PAUSE, t0);
	prof_end(PROF_CP_DEFER, cp.deferred);
	cp.deferred = 0;
	if (cleaning) {
		t0 = prof_begin();
		if (clean(r->seq) != J_OK)
			kprintf("strata: checkpoint: cleaning the journal failed\n");
		prof_end(PROF_CP_CLEAN, t0);
	}
	cp.taking = false;
	return r->seq;
}

/* A durable checkpoint of frame f: 0, or -1 if the journal failed. */
static int take_durable(const struct trapframe *f, uint64_t flags)
{
	uint64_t seq = take(f, flags);

	if (seq == 0)
		return -1;
	if (seq > l1.info->checkpoint_seq)
		journal_wait(&cp.j, seq);
	return seq <= l1.info->checkpoint_seq ? 0 : -1;
}

int checkpoint_commit(struct trapframe *tf)
{
	struct trapframe f = *tf;

	if (!cp.on)
		return 0;
	f.rax = STRATA_COMMIT_OK;	/* a resume returns from the trap as it does now */
	f.by_int = 0;
	return take_durable(&f, 0);
}

/* The records in flight move along, never waiting (without one, nothing to poll for). */
static void records_advance(void)
{
	if (cp.inflight > 0)
		journal_advance(&cp.j);
}

/*
 * A doorbell's checkpoint need not wait for cover_by once the journal is
 * idle, or once the newest record in flight has sent its writes: then the
 * new record's writes overlap those and its flush, and its own flush goes
 * out as soon as they complete.  While the newest still waits for request
 * slots, the two would compete for them, so the doorbells until then share
 * one.  A slot of the pipeline stays free, so that cover_by's checkpoint
 * never waits for one.  (With a flush before each seal too, this earlier
 * start showed no gain; with one flush a record it cut the time a reply is
 * held from 3.4-4.0 ms to 2.6-2.7 ms, side by side.  Since journal_begin()
 * sends a record whole, waiting for its writes to complete instead showed
 * no difference, 4 rounds side by side.)
 */
static bool cover_early(void)
{
	return cp.inflight == 0 || (cp.inflight < JOURNAL_PIPELINE - 1 && !journal_writing(&cp.j));
}

static bool due(void)
{
	uint64_t now = clock_ns();

	if (!cp.on || cp.taking)
		return false;
	return (cp.period_ns != 0 && now - cp.last_ns >= cp.period_ns) ||
	    (cp.cover_by != 0 && (now >= cp.cover_by || cover_early()));
}

void checkpoint_tick(struct trapframe *tf)
{
	records_advance();
	if (tf != 0 && due())
		take(tf, 0);
}

/*
 * An interrupt stopped layer 1: the records in flight move along (never
 * waiting), and a checkpoint that is due is armed: the interrupt does not
 * take it itself, since taking one may wait for the disk, whose waits take
 * interrupts that would run on this interrupt's own stack.  A single step
 * does, with the debug trap after layer 1's next instruction
 * (checkpoint_step), on the exceptions' stack.
 */
void checkpoint_interrupt(struct trapframe *tf)
{
	records_advance();
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
		take_durable(l1_frame, 0);
}

uint64_t checkpoint_cover(void)
{
	uint64_t seq;

	if (!cp.on)
		return 0;
	/*
	 * Idle (the journal moved on first: a record durable by now counts),
	 * the checkpoint starts now; else the doorbells until the journal goes
	 * idle, or extsync_ns at the most, share one.
	 */
	records_advance();
	if ((cp.extsync_ns == 0 || cover_early()) && l1_frame != 0 && !cp.taking &&
	    !l1_stepping() && (seq = take(l1_frame, 0)) != 0)
		return seq;
	if (cp.cover_by == 0) {
		cp.cover_by = clock_ns() + cp.extsync_ns;
		cp.deferred = prof_begin();
	}
	cp.promised = cp.j.next_seq;	/* the next record: it starts by cover_by */
	return cp.promised;
}

uint64_t checkpoint_covered(void)
{
	return cp.on ? l1.info->checkpoint_seq : 0;
}

static void print_timing(void)
{
	kprintf("strata: checkpoint: pause mean %lu us max %lu us, durable mean %lu us max %lu us, "
	    "pages %lu\n", (unsigned long)(cp.pause.n ? cp.pause.sum_ns / cp.pause.n / 1000 : 0),
	    (unsigned long)(cp.pause.max_ns / 1000),
	    (unsigned long)(cp.durable.n ? cp.durable.sum_ns / cp.durable.n / 1000 : 0),
	    (unsigned long)(cp.durable.max_ns / 1000), (unsigned long)cp.pages_written);
}

void checkpoint_exit(struct trapframe *tf)
{
	uint64_t seq;

	if (!cp.on)
		return;
	/* Home with everything, and the journal down to the final record: the next boot replays little. */
	seq = take(tf, STATE_EXITED);
	if (seq == 0 || clean(seq) != J_OK)
		kprintf("strata: checkpoint: the final checkpoint failed: the next boot resumes an earlier one\n");
	kprintf("strata: checkpoint: %lu taken, %lu failed, %lu journal cleanings\n",
	    (unsigned long)cp.taken, (unsigned long)cp.failed, (unsigned long)cp.cleanings);
	print_timing();
}

/* ---- boot: recovery, the choice between resume and fresh start ---------- */

static NORETURN void journal_stop(enum journal_error e, const char *why)
{
	kprintf("strata: %s: the checkpoint journal fails its checks: %s (%s)\n"
	    "strata: not running it; install=force with a module installs it afresh over the disk, "
	    "its checkpoints lost\n", l1.dev->name, journal_error_name(e), why ? why : "");
	load_stop(e == J_IOERR ? STRATA_EXIT_DISK_IO : STRATA_EXIT_JOURNAL,
	    e == J_IOERR ? "disk I/O error" : "the disk's journal fails its checks");
}

/* What a recovery that failed after `replayed` whole records left on the disk. */
static void recovery_stopped(uint64_t replayed)
{
	if (replayed == 0)
		kprintf("strata: %s: nothing on the disk was changed by this boot\n", l1.dev->name);
	else
		kprintf("strata: %s: this boot changed nothing on the disk but the pages of the %lu "
		    "durable checkpoints before the damage, written home\n", l1.dev->name,
		    (unsigned long)replayed);
}

static bool recover(const struct disklabel *lb, bool forced)
{
	struct jrecovery r;
	enum journal_error e;

	cp.j = (struct journal){ .dev = l1.dev, .start = l1.geom.l1_disk_limit,
	    .nblocks = (l1.geom.disk_bytes - l1.geom.l1_disk_limit) / JOURNAL_BLOCK,
	    .home_limit = l1.geom.l1_disk_limit / PAGE_SIZE, .install = lb->installs };
	if (lb->magic == 0 || lb->state != LABEL_READY)
		return false;
	e = journal_recover(&cp.j, &cp.st, sizeof(cp.st), &r);
	if (e == J_NONE)
		return false;
	if (e != J_OK && e != J_IOERR && forced) {
		kprintf("strata: %s: the checkpoint journal fails its checks (%s): not replayed, "
		    "install=force\n", l1.dev->name, r.why ? r.why : journal_error_name(e));
		return false;
	}
	if (e != J_OK) {
		recovery_stopped(r.records);
		journal_stop(e, r.why);
	}
	if (r.records > 0)
		kprintf("strata: journal: replayed %lu records (%lu pages), the newest is checkpoint %lu\n",
		    (unsigned long)r.records, (unsigned long)r.pages, (unsigned long)r.seq);
	if (r.torn != 0)
		kprintf("strata: journal: checkpoint %lu was cut before its flush (sealed, not all "
		    "its writes on the disk): not replayed\n", (unsigned long)r.torn);
	if (r.records == 0)
		return false;
	/* Whole (its CRC matched), but another build's: its pages are home, its state is not ours. */
	cp.foreign = r.state_bytes != sizeof(cp.st) || cp.st.magic != STATE_MAGIC ||
	    cp.st.layer0_build != layer0_build();
	cp.last_seq = r.seq;
	return true;
}

void checkpoint_recover(const struct disklabel *lb, bool forced)
{
	cp.recovered = recover(lb, forced);
}

bool checkpoint_boot(const struct boot_info *bi, const struct disklabel *lb, bool from_module)
{
	const char *why = 0;

	cp.period_ns = option_number(bi->cmdline, "checkpoint", PERIOD_DEFAULT_MS) * 1000000ULL;
	cp.extsync_ns = option_number(bi->cmdline, "extsync", EXTSYNC_DEFAULT_MS) * 1000000ULL;
	if (l1.dev == 0)
		return false;
	if (!cp.recovered)
		why = lb->magic == 0 ? "a new disk" : "no checkpoint on the disk";
	else if (cp.foreign)
		why = "the checkpoint is of another layer 0 build";
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
	for (int k = 0; k < JOURNAL_PIPELINE; k++)
		cp.fl[k].pages = vm_alloc_area((uint64_t)pager_pages_max() * sizeof(struct jpage));
	cp.j.done = record_done;
	cp.j.reserve = journal_record_blocks(cp.limit, sizeof(cp.st));
	pager_checkpoints(steal, drain);
	if ((cp.period_ns != 0 && cp.period_ns < TICK_NS) ||
	    ((l1.img.hdr.flags & STRATA_PAYLOAD_EXTSYNC) && cp.extsync_ns < TICK_NS))
		timer_fast();	/* the tick that arms them comes every ms */
	cp.doorbells = doorbells_now();
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
	cp.last_seq = 0;
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
	l1.info->checkpoint_seq = cp.last_seq;
	rings_resume();
	nic_resume(l1.rx.next, &cp.st.nic);
	start(lb);
	cp.resumed = true;
	kprintf("strata: checkpoint: resuming checkpoint %lu of \"%s\" (resume %lu)\n",
	    (unsigned long)cp.last_seq, l1.img.hdr.name, (unsigned long)cp.resumes);
	f = cp.st.regs;
	f.rflags &= ~(RFLAGS_TF | RFLAGS_RF);
	f.cs = read_cs();
	f.ss = read_ss();
	__asm__ volatile("cli; fxrstor64 %0" :: "m"(cp.st.fpu));
	trap_resume(&f);
}
