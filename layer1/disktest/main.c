/*
 * disktest: checks and measures the disk window (abi/strata/disk.h) from
 * layer 1.  The first argument is the mode, the others key=value options:
 *
 *   write seed=S         fill the free area with the pattern of S, then sync
 *                        (with syncs=N: sync again while it reports an I/O
 *                        error, N syncs in all, for the retry the ABI promises)
 *   verify seed=S        check the free area holds the pattern of S
 *   scan passes=P        read every word of the free area, P times over (1):
 *                        MB/s of each pass of a mapped scan
 *   random n=N seed=S    median cost of touching N pages far apart
 *   randread n=N prefetch=K seed=S blank=B
 *                        N random page reads, K prefetched ahead, checked
 *                        against the pattern of S (0 with blank=1): reads/s
 *   randscan n=N prefetch=K passes=P
 *                        randread (blank=1), then scan: a stream through a
 *                        cache that random reads left full of 4 KiB pages
 *   sparse n=N           read a word of N pages spread evenly over the free
 *                        area, in order (on a huge disk, one per GiB or more)
 *   faults               median cost of a null fault, a hit and a miss
 *                        (boot with the layer-0 option faultaround=1)
 *   writeback mib=M      dirty M MiB, then time the sync that writes it
 *   commit n=N           N times: dirty one page, commit; the median round,
 *                        and the median commit trap alone
 *   checkpoint mib=M     dirty M MiB, then time the one commit that holds it
 *   resume mib=M         dirty M MiB, commit, wait for a cut (60 s at most);
 *                        resumed after it, say so at once and exit 0
 *   pause pages=P n=N    N times: dirty P pages, spin until a periodic
 *                        checkpoint is durable; the longest stall seen
 *   cadence pages=P ms=T keep P pages dirty for T ms: checkpoints per second
 *   cow pages=P n=N      write every word of P pages N times, timed
 *                        (cadence.c says more of these three)
 *   exec                 run code that lives on the disk
 *   exec-data            run code in the free area: must end in V-EXEC
 *   edge                 read and write the first and last free pages
 *   beyond               touch l1_disk_limit: must end in V-L0-REGION
 *   beyond-disk          touch disk_bytes: must end in V-OUTSIDE
 *   state                check this start is fresh (.data as built, .bss and
 *                        the unused stack zero), then dirty them all and sync
 *
 * The free area is [image_end, STRATA_DISK_WINDOW_BASE + l1_disk_limit):
 * image_end is an address, l1_disk_limit a disk offset.  Exit 0 on success,
 * 1 when a check fails ("disktest: FAILED ..."), 2 for bad usage or no disk.
 * Rates are in MB/s of 10^6 bytes; times come from the TSC through the info
 * page's tsc_ns_mult.  commit, checkpoint and resume are the checkpoint
 * benchmark's (tests/bench/checkpoint.sh), meant for the layer-0 option
 * checkpoint=0: each then says how many checkpoints its work took, so that
 * a figure is known to be that of one checkpoint per commit.
 */
#include <strata.h>

#include "disktest.h"

STRATA_PAYLOAD("disktest", 0, 0);

#define MAX_SAMPLES	16384	/* timed touches one measurement keeps */
#define NULL_FAULTS	1024	/* doorbells timed, rounded up to whole rings */
#define HIT_BYTES	(8 * MIB)
#define MISS_PAGES	512
#define RESCAN_BYTES	(32 * MIB)

static uint64_t samples[MAX_SAMPLES];
static uint64_t targets[MAX_SAMPLES];
/* Loads land here so that no loop can be optimised away. */
static volatile uint64_t sink;

/* ---- clock and loads --------------------------------------------------- */

uint64_t ticks_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * strata_info()->tsc_ns_mult) >> 32);
}

/* A load the compiler must issue as written. */
static uint64_t load(uint64_t addr)
{
	uint64_t v;

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

/* One load's cost in TSC ticks. */
static uint64_t timed_load(uint64_t addr)
{
	uint64_t t0, t1;

	t0 = tsc();
	sink = load(addr);
	t1 = tsc();
	return t1 - t0;
}

/* Shell sort: no recursion and no allocation, quick enough for MAX_SAMPLES. */
static void sort(uint64_t *v, size_t n)
{
	static const size_t gaps[] = { 3905, 1577, 701, 301, 132, 57, 23, 10, 4, 1 };

	for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
		size_t gap = gaps[g];

		for (size_t i = gap; i < n; i++) {
			uint64_t x = v[i];
			size_t j = i;

			for (; j >= gap && v[j - gap] > x; j -= gap)
				v[j] = v[j - gap];
			v[j] = x;
		}
	}
}

/* The median of n tick counts, in ns; sorts v. */
static uint64_t median_ns(uint64_t *v, size_t n)
{
	if (n == 0)
		return 0;
	sort(v, n);
	return ticks_ns(v[(n - 1) / 2]);
}

/* Prints "in T ms = X MB/s" for bytes moved in ns, X with one decimal. */
static void print_rate(uint64_t bytes, uint64_t ns)
{
	uint64_t tenths;

	if (ns == 0)
		ns = 1;
	/* No 128-bit division without libgcc; 64 bits hold 1.8 PB * 10^4. */
	tenths = bytes * 10000 / ns;
	strata_printf("in %llu ms = %llu.%llu MB/s", ULL(ns / 1000000), ULL(tenths / 10),
	    ULL(tenths % 10));
}

/* ---- pattern and randomness -------------------------------------------- */

/* splitmix64: a full-period generator whose state is one word. */
uint64_t rnd(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ z >> 30) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ z >> 27) * UINT64_C(0x94d049bb133111eb);
	return z ^ z >> 31;
}

/*
 * Picks n pages of a, shuffled into targets[].  The area is cut into n bins
 * and each page comes from the first half of its own bin, so no two are
 * closer than half a bin: a read-ahead or fault-around window around one
 * page rarely reaches another, and the shuffled order looks nothing like a
 * sequential scan.
 */
static void pick_pages(struct area a, uint64_t n, uint64_t seed)
{
	uint64_t bin = (a.hi - a.lo) / PAGE / n, span = bin > 1 ? bin / 2 : 1, st = seed;

	for (uint64_t i = 0; i < n; i++)
		targets[i] = a.lo + (i * bin + rnd(&st) % span) * PAGE;
	for (uint64_t i = n - 1; i > 0; i--) {
		uint64_t j = rnd(&st) % (i + 1), t = targets[i];

		targets[i] = targets[j];
		targets[j] = t;
	}
}

/* Times one load from each of the n pages in targets[]; their median in ns. */
static uint64_t touch_targets(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		samples[i] = timed_load(targets[i]);
	return median_ns(samples, n);
}

/* ---- the free area ----------------------------------------------------- */

static struct area free_area(const struct strata_info *info)
{
	struct area a;

	a.lo = (info->image_end + PAGE - 1) & ~(PAGE - 1);
	a.hi = STRATA_DISK_WINDOW_BASE + info->l1_disk_limit;
	return a;
}

static uint64_t disk_off(uint64_t addr)
{
	return addr - STRATA_DISK_WINDOW_BASE;
}

static uint64_t mib(struct area a)
{
	return (a.hi - a.lo) >> 20;
}

static void describe(struct area a)
{
	const struct strata_info *info = strata_info();

	strata_printf("disktest: disk %llu MiB, free area 0x%llx-0x%llx (%llu MiB), "
	    "journal from 0x%llx\n", ULL(info->disk_bytes >> 20), ULL(a.lo), ULL(a.hi),
	    ULL(mib(a)), ULL(info->l1_disk_limit));
}

/* ---- write, verify, scan ----------------------------------------------- */

/* Every word of [lo, hi) rewritten with the pattern of seed, so each page is really dirtied. */
static void fill(uint64_t lo, uint64_t hi, uint64_t seed)
{
	for (uint64_t *p = (uint64_t *)lo; p < (uint64_t *)hi; p++)
		*p = pattern((uint64_t)p, seed);
}

static int do_write(struct area a, const struct opts *o)
{
	uint64_t start = strata_now_ns();

	fill(a.lo, a.hi, o->seed);
	for (uint64_t k = 1; strata_sync() != 0; k++) {
		strata_printf("disktest: sync %llu of %llu reported an I/O error\n", ULL(k),
		    ULL(o->syncs));
		if (k >= o->syncs) {
			strata_printf("disktest: FAILED write seed %llu: sync reported an I/O error\n",
			    ULL(o->seed));
			return 1;
		}
	}
	strata_printf("disktest: wrote %llu MiB seed %llu ", ULL(mib(a)), ULL(o->seed));
	print_rate(a.hi - a.lo, strata_now_ns() - start);
	strata_puts("");
	return 0;
}

/* The first word of [lo, hi) that does not hold the pattern of seed, or NULL. */
static const uint64_t *first_wrong(uint64_t lo, uint64_t hi, uint64_t seed)
{
	for (const uint64_t *p = (const uint64_t *)lo; p < (const uint64_t *)hi; p++)
		if (*p != pattern((uint64_t)p, seed))
			return p;
	return NULL;
}

static int do_verify(struct area a, const struct opts *o)
{
	uint64_t start = strata_now_ns();
	const uint64_t *p = first_wrong(a.lo, a.hi, o->seed);

	if (p != NULL) {
		strata_printf("disktest: FAILED verify seed %llu: word at 0x%llx "
		    "(disk offset 0x%llx) holds 0x%llx, expected 0x%llx\n", ULL(o->seed),
		    ULL(p), ULL(disk_off((uint64_t)p)), ULL(*p), ULL(pattern((uint64_t)p, o->seed)));
		return 1;
	}
	strata_printf("disktest: verified %llu MiB seed %llu ", ULL(mib(a)), ULL(o->seed));
	print_rate(a.hi - a.lo, strata_now_ns() - start);
	strata_puts("");
	return 0;
}

/*
 * Adds up every word of [lo, hi) (whole pages); *ns is how long it took.
 * Eight words a turn: under
 * an emulator the loop's own overhead per word is a large part of its cost,
 * and the scan should be limited by the pager, not by the loop.  Unrolled,
 * the in-RAM rescan went from about 4.5 to 6.3 GB/s on the bench machine.
 */
static uint64_t sum_words(uint64_t lo, uint64_t hi, uint64_t *ns)
{
	uint64_t start = strata_now_ns(), sum = 0;

	for (const uint64_t *p = (const uint64_t *)lo; p < (const uint64_t *)hi; p += 8)
		sum += p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
	*ns = strata_now_ns() - start;
	return sum;
}

/*
 * The scan, passes times over, each pass timed on its own line, then the
 * same loop again over the last RESCAN_BYTES, which are still in RAM and
 * mapped: the last rate is the loop's own ceiling (under an emulator it can
 * be close to the disk's), which the others can only approach.  A pass
 * misses on every page only while the free area is more than twice the
 * cache: the benchmark's disk is sized for that (tests/bench/disk.sh).
 */
static int do_scan(struct area a, const struct opts *o)
{
	struct area last = a;
	uint64_t sum, ns;

	if (a.hi - a.lo > RESCAN_BYTES)
		last.lo = a.hi - RESCAN_BYTES;
	for (uint64_t k = 0; k < o->passes; k++) {
		sum = sum_words(a.lo, a.hi, &ns);
		strata_printf("disktest: scan %llu MiB ", ULL(mib(a)));
		print_rate(a.hi - a.lo, ns);
		strata_printf(" (sum 0x%llx)\n", ULL(sum));
	}
	sum = sum_words(last.lo, last.hi, &ns);
	strata_printf("disktest: rescan of the last %llu MiB, in RAM, ", ULL(mib(last)));
	print_rate(last.hi - last.lo, ns);
	strata_printf(" (sum 0x%llx)\n", ULL(sum));
	return 0;
}

/*
 * A scan after random reads that filled the cache with 4 KiB pages: the
 * pager must still find aligned 2 MiB runs for the stream (its compaction),
 * or the scan runs several times slower than on a fresh cache.
 */
static int do_randscan(struct area a, const struct opts *o)
{
	int rc = do_randread(a, o);

	return rc != 0 ? rc : do_scan(a, o);
}

/* ---- fault costs ------------------------------------------------------- */

static int do_random(struct area a, const struct opts *o)
{
	uint64_t pages = (a.hi - a.lo) / PAGE;

	if (o->n == 0 || o->n > MAX_SAMPLES || o->n > pages) {
		strata_printf("disktest: random: n must be 1..%llu\n",
		    ULL(pages < MAX_SAMPLES ? pages : MAX_SAMPLES));
		return 2;
	}
	pick_pages(a, o->n, o->seed);
	strata_printf("disktest: random %llu pages median %llu ns\n", ULL(o->n),
	    ULL(touch_targets(o->n)));
	return 0;
}

/*
 * Touches pages far apart, one each, keeping nothing but a sum: on a huge
 * disk each costs layer 0 tables of its own, which must go with the page.
 */
static int do_sparse(struct area a, const struct opts *o)
{
	uint64_t pages = (a.hi - a.lo) / PAGE, step, sum = 0, start = strata_now_ns();

	if (o->n == 0 || o->n > pages) {
		strata_printf("disktest: sparse: n must be 1..%llu\n", ULL(pages));
		return 2;
	}
	step = pages / o->n;
	for (uint64_t i = 0; i < o->n; i++)
		sum += load(a.lo + i * step * PAGE);
	strata_printf("disktest: sparse %llu pages %llu MiB apart in %llu ms (sum 0x%llx)\n",
	    ULL(o->n), ULL(step * PAGE >> 20), ULL((strata_now_ns() - start) / 1000000), ULL(sum));
	return 0;
}

/*
 * The null fault: a console doorbell over one empty slot, the least work a
 * fault asks of layer 0.  Each read of slot i's doorbell takes exactly slot
 * i when the slot before it was the last one rung (doc/abi.md, "Rings").
 *
 * This must run before the payload prints anything: the runtime's console
 * then stands at slot 0 with nothing written, and so does layer 0.  Ringing
 * every slot in order a whole number of times brings layer 0 back to slot 0
 * as the next one it takes, which is where the runtime will write first;
 * the last doorbell rung is that of slot nslots - 1, which no runtime batch
 * starting at slot 0 ends on.  Both sides agree again without the runtime
 * knowing anything happened.  Returns the median in ns, 0 without a console.
 */
static uint64_t null_faults(void)
{
	uint32_t nslots = strata_info()->console_slots;
	uint64_t n;

	if (nslots == 0)
		return 0;
	n = (NULL_FAULTS + nslots - 1) / nslots * nslots;
	for (uint64_t k = 0; k < n; k++) {
		uint32_t i = (uint32_t)(k % nslots);
		struct strata_slot *s;

		/* An empty, well-formed slot: layer 0 takes it and prints nothing. */
		s = (struct strata_slot *)(uintptr_t)STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, i);
		s->len = 0;
		s->flags = 0;
		s->reserved = 0;
		samples[k] = timed_load(STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, i));
	}
	return median_ns(samples, n);
}

/*
 * A hit: a page already in RAM but not mapped.  With faultaround=1 each
 * fault maps only its own page, and read-ahead brings a sequential run in
 * with few requests, so most touches of a one-word-per-page scan are hits.
 */
static uint64_t hit_faults(struct area a)
{
	uint64_t n = (a.hi - a.lo) / PAGE;

	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	for (uint64_t i = 0; i < n; i++)
		samples[i] = timed_load(a.lo + i * PAGE);
	return median_ns(samples, n);
}

/* Null first, before any output (null_faults says why); the results after. */
static int do_faults(struct area a, const struct opts *o)
{
	struct area hit = a, miss = a;
	uint64_t null_ns, hit_ns, miss_ns;

	if (a.hi - a.lo < 2 * HIT_BYTES) {
		strata_printf("disktest: faults: the free area is under %llu MiB\n",
		    ULL(2 * HIT_BYTES >> 20));
		return 2;
	}
	null_ns = null_faults();
	hit.hi = miss.lo = a.lo + HIT_BYTES;
	hit_ns = hit_faults(hit);
	pick_pages(miss, MISS_PAGES, o->seed);
	miss_ns = touch_targets(MISS_PAGES);
	describe(a);
	strata_printf("disktest: fault null %llu ns\n", ULL(null_ns));
	strata_printf("disktest: fault hit %llu ns\n", ULL(hit_ns));
	strata_printf("disktest: fault miss %llu ns\n", ULL(miss_ns));
	return 0;
}

/* Whether mib=M fits the free area; says so if not. */
static bool mib_fits(struct area a, const struct opts *o, const char *mode)
{
	if (o->mib != 0 && o->mib <= mib(a))
		return true;
	strata_printf("disktest: %s: mib must be 1..%llu\n", mode, ULL(mib(a)));
	return false;
}

static int do_writeback(struct area a, const struct opts *o)
{
	uint64_t bytes = o->mib * MIB, start;

	if (!mib_fits(a, o, "writeback"))
		return 2;
	fill(a.lo, a.lo + bytes, o->seed);
	start = strata_now_ns();
	if (strata_sync() != 0) {
		strata_puts("disktest: FAILED writeback: sync reported an I/O error");
		return 1;
	}
	strata_printf("disktest: writeback %llu MiB ", ULL(o->mib));
	print_rate(bytes, strata_now_ns() - start);
	strata_puts("");
	return 0;
}

/* ---- checkpoints ------------------------------------------------------- */

#define CUT_WAIT_NS	(UINT64_C(60) * 1000000000)	/* resume: the longest wait for the cut */

/* Prints " N.D us" for ns. */
void print_us(uint64_t ns)
{
	strata_printf(" %llu.%llu us", ULL(ns / 1000), ULL(ns / 100 % 10));
}

/* The median and the mean of n tick counts, in " N.D us" each; sorts v. */
static void print_median_mean(uint64_t *v, uint64_t n)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < n; i++)
		sum += v[i];
	print_us(median_ns(v, n));
	strata_printf(" (mean");
	print_us(ticks_ns(sum / n));
	strata_printf(")");
}

/*
 * n rounds of a store to one page of the free area and a commit: a durable
 * commit of one page (and of the stack page strata_commit's call dirties).
 * The page is where the rounds keep their times, so that the store that
 * dirties it is the only other one: round i's times go to slot i + 1 at the
 * start of round i + 1, and the last round's after the loop.  Each round is
 * timed from its store to the commit's return, the trap also alone: the
 * store finds the page journaled by the last commit, which layer 0 writes
 * home before it may change (pager_dirty.c), and the difference is that.
 * Round 0 maps the page and leaves nothing else dirty, untimed.
 */
#define COMMIT_ROUNDS_MAX	(PAGE / 16 - 1)

static int do_commit(struct area a, const struct opts *o)
{
	uint64_t (*slot)[2] = (uint64_t (*)[2])(uintptr_t)a.lo, last[2] = { 0, 0 }, seq = 0;

	if (o->n == 0 || o->n > COMMIT_ROUNDS_MAX) {
		strata_printf("disktest: commit: n must be 1..%llu\n", ULL(COMMIT_ROUNDS_MAX));
		return 2;
	}
	for (uint64_t i = 0; i <= o->n; i++) {
		uint64_t t0 = tsc(), t1;

		slot[i][0] = last[0];
		slot[i][1] = last[1];
		t1 = tsc();
		if (strata_commit() != 0) {
			strata_printf("disktest: FAILED commit: round %llu reported an I/O error\n", ULL(i));
			return 1;
		}
		last[1] = tsc() - t1;
		last[0] = last[1] + t1 - t0;
		if (i == 0)
			seq = strata_info()->checkpoint_seq;
	}
	slot[o->n + 1][0] = last[0];
	slot[o->n + 1][1] = last[1];
	strata_printf("disktest: commit 1 page x %llu: median", ULL(o->n));
	for (int k = 0; k < 2; k++) {
		for (uint64_t i = 0; i < o->n; i++)
			samples[i] = slot[i + 2][k];
		if (k == 1)
			strata_printf(", the trap alone");
		print_median_mean(samples, o->n);
	}
	strata_printf(", %llu checkpoints\n", ULL(strata_info()->checkpoint_seq - seq));
	return 0;
}

/*
 * A commit first, so that nothing is dirty but what follows; then mib MiB
 * dirtied and the one commit that makes them durable, timed.  The
 * checkpoints taken while dirtying (early ones, when the journal or RAM ran
 * short) and in the commit say whether that was one checkpoint of them all.
 */
static int do_checkpoint(struct area a, const struct opts *o)
{
	const struct strata_info *info = strata_info();
	uint64_t bytes = o->mib * MIB, before, dirtied, start, ns;

	if (!mib_fits(a, o, "checkpoint"))
		return 2;
	if (strata_commit() != 0) {
		strata_puts("disktest: FAILED checkpoint: the first commit reported an I/O error");
		return 1;
	}
	before = info->checkpoint_seq;
	fill(a.lo, a.lo + bytes, o->seed);
	dirtied = info->checkpoint_seq;
	start = strata_now_ns();
	if (strata_commit() != 0) {
		strata_puts("disktest: FAILED checkpoint: the commit reported an I/O error");
		return 1;
	}
	ns = strata_now_ns() - start;
	strata_printf("disktest: checkpoint %llu MiB ", ULL(o->mib));
	print_rate(bytes, ns);
	strata_printf(" (checkpoints: %llu while dirtying, %llu in the commit)\n",
	    ULL(dirtied - before), ULL(info->checkpoint_seq - dirtied));
	return 0;
}

/*
 * mib MiB dirtied and committed, then a wait for the machine to be cut.  A
 * resume comes back from the commit (or, with periodic checkpoints, from the
 * wait) with info->resumes above 0: the first thing the resumed run does is
 * to say so, which is the line tests/bench/checkpoint.sh times; then it
 * checks the pages hold what was committed.
 */
static int do_resume(struct area a, const struct opts *o)
{
	const struct strata_info *info = strata_info();
	const uint64_t *p;
	uint64_t deadline;

	if (!mib_fits(a, o, "resume"))
		return 2;
	fill(a.lo, a.lo + o->mib * MIB, o->seed);
	if (strata_commit() != 0) {
		strata_puts("disktest: FAILED resume: the commit reported an I/O error");
		return 1;
	}
	if (info->resumes == 0) {
		strata_printf("disktest: resume: %llu MiB committed in checkpoint %llu, waiting for a cut\n",
		    ULL(o->mib), ULL(info->checkpoint_seq));
		deadline = strata_now_ns() + CUT_WAIT_NS;
		while (info->resumes == 0 && strata_now_ns() < deadline)
			strata_wait(deadline);
	}
	if (info->resumes == 0) {
		strata_printf("disktest: FAILED resume: no cut came in %llu s\n", ULL(CUT_WAIT_NS / 1000000000));
		return 1;
	}
	strata_printf("disktest: resume: resumed (resume %llu) from the checkpoint of clock %llu ms\n",
	    ULL(info->resumes), ULL(info->resume_clock_ns / 1000000));
	if ((p = first_wrong(a.lo, a.lo + o->mib * MIB, o->seed)) != NULL) {
		strata_printf("disktest: FAILED resume: the word at 0x%llx is not as committed\n", ULL(p));
		return 1;
	}
	strata_printf("disktest: resume: %llu MiB as committed\n", ULL(o->mib));
	return 0;
}

/* ---- code on the disk -------------------------------------------------- */

/*
 * far_magic sits alone in 64 KiB-aligned text with 128 KiB of int3 on
 * either side, so the page it is on was never touched (nor mapped around a
 * fault) before exec calls it: the call itself is what makes layer 0 map a
 * text page of the disk, from its cache or from the disk itself.
 */
#define FAR_MAGIC	UINT64_C(0x5354524154414641)
__asm__(
	".pushsection .text.far, \"ax\", @progbits\n"
	".balign 0x10000\n"
	".skip 0x20000, 0xcc\n"
	".type far_magic, @function\n"
	"far_magic:\n"
	"	movabsq $0x5354524154414641, %rax\n"
	"	ret\n"
	".size far_magic, . - far_magic\n"
	".skip 0x20000, 0xcc\n"
	"far_end:\n"
	".popsection\n");
/* Hidden: defined in this link, so reached directly rather than through a GOT slot. */
__attribute__((visibility("hidden"))) uint64_t far_magic(void);
__attribute__((visibility("hidden"))) extern const uint8_t far_end[];

/* Whether the bytes at p are movabsq $FAR_MAGIC, %rax; ret. */
static bool is_far_magic(const uint8_t *p)
{
	uint64_t imm;

	memcpy(&imm, p + 2, sizeof imm);
	return p[0] == 0x48 && p[1] == 0xb8 && imm == FAR_MAGIC && p[10] == 0xc3;
}

static int do_exec(struct area a, const struct opts *o)
{
	uint64_t code = (uint64_t)(uintptr_t)far_magic, text = STRATA_L1_IMAGE_BASE;
	uint64_t end = (uint64_t)(uintptr_t)far_end, sum = 0, r;

	(void)a;
	(void)o;
	if ((uint64_t)(uintptr_t)main < STRATA_DISK_WINDOW_BASE + 16 * MIB) {
		strata_printf("disktest: FAILED exec: main at 0x%llx is not in the disk window\n",
		    ULL(main));
		return 1;
	}
	/* Called before being read, so the fault that maps it is an instruction fetch. */
	if ((r = far_magic()) != FAR_MAGIC) {
		strata_printf("disktest: FAILED exec: far_magic returned 0x%llx\n", ULL(r));
		return 1;
	}
	/* And the same bytes, read as data through the window, are that code. */
	if (!is_far_magic((const uint8_t *)(uintptr_t)code)) {
		strata_printf("disktest: FAILED exec: the bytes at 0x%llx are not far_magic\n",
		    ULL(code));
		return 1;
	}
	for (const uint8_t *p = (const uint8_t *)(uintptr_t)text; p < far_end; p++)
		sum = (sum ^ *p) * UINT64_C(0x100000001b3);
	strata_printf("disktest: exec ok: code at 0x%llx runs from disk offset 0x%llx "
	    "(main at 0x%llx; text checksum 0x%llx over %llu KiB)\n", ULL(code),
	    ULL(disk_off(code)), ULL(main), ULL(sum), ULL((end - text) >> 10));
	return 0;
}

/* The free area is data: an instruction fetch from it must stop the machine. */
static int do_exec_data(struct area a, const struct opts *o)
{
	uint8_t *p = (uint8_t *)(uintptr_t)a.lo;
	uint64_t (*fn)(void) = (uint64_t (*)(void))(uintptr_t)a.lo;
	uint64_t imm = FAR_MAGIC;

	(void)o;
	p[0] = 0x48;
	p[1] = 0xb8;
	memcpy(p + 2, &imm, sizeof imm);
	p[10] = 0xc3;
	strata_printf("disktest: exec-data: calling 0x%llx, expecting V-EXEC\n", ULL(a.lo));
	strata_flush();
	if (fn() == FAR_MAGIC)
		strata_puts("disktest: FAILED exec-data: code in the free area ran");
	else
		strata_puts("disktest: FAILED exec-data: the call returned");
	return 1;
}

/* ---- the ends of the area ---------------------------------------------- */

/* Writes, reads back and restores one word. */
static bool touch_rw(uint64_t addr)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)addr;
	uint64_t old = *p, mark = pattern(addr, 0x45444745);
	bool ok;

	*p = mark;
	ok = *p == mark;
	*p = old;
	return ok;
}

static int do_edge(struct area a, const struct opts *o)
{
	uint64_t last = a.hi - PAGE;

	(void)o;
	if (!touch_rw(a.lo) || !touch_rw(a.hi - 8)) {
		strata_puts("disktest: FAILED edge: a word did not read back as written");
		return 1;
	}
	strata_printf("disktest: edge ok first 0x%llx last 0x%llx\n", ULL(a.lo), ULL(last));
	return 0;
}

/* Touches addr, which must stop the machine with the violation named. */
static int expect_stop(uint64_t addr, const char *rule)
{
	strata_printf("disktest: touching 0x%llx (disk offset 0x%llx), expecting %s\n",
	    ULL(addr), ULL(disk_off(addr)), rule);
	strata_flush();
	sink = load(addr);
	strata_printf("disktest: FAILED: 0x%llx could be read\n", ULL(addr));
	return 1;
}

static int do_beyond(struct area a, const struct opts *o)
{
	(void)o;
	return expect_stop(a.hi, "V-L0-REGION");
}

static int do_beyond_disk(struct area a, const struct opts *o)
{
	uint64_t bytes = strata_info()->disk_bytes;

	(void)a;
	(void)o;
	if (bytes >= STRATA_DISK_WINDOW_SIZE) {
		strata_puts("disktest: beyond-disk: the disk fills the whole window");
		return 2;
	}
	return expect_stop(STRATA_DISK_WINDOW_BASE + bytes, "V-OUTSIDE");
}

/* ---- a fresh start ----------------------------------------------------- */

/*
 * Every start of a payload, from its module or from the disk, is fresh
 * (doc/abi.md, "Entry"): .data as the ELF has it, .bss zero, and the stack
 * zero below the frames this start has used.  state checks all three, then
 * dirties them and syncs, so that the next start from the disk fails the
 * check unless layer 0 made it fresh again.
 */
#define FRESH_DATA	UINT64_C(0x4652455348444154)
#define STACK_SKIP	(32 * 1024)	/* below this frame: deeper than any call made so far */
#define STACK_SPAN	(64 * 1024)	/* then this much is checked */

static volatile uint64_t state_data = FRESH_DATA;
static volatile uint64_t state_bss;

/* The first non-zero word of [lo, hi), or 0. */
static volatile uint64_t *first_nonzero(volatile uint64_t *lo, volatile uint64_t *hi)
{
	for (; lo < hi; lo++)
		if (*lo != 0)
			return lo;
	return NULL;
}

static int do_state(struct area a, const struct opts *o)
{
	uint64_t frame = (uint64_t)(uintptr_t)__builtin_frame_address(0);
	volatile uint64_t *hi = (volatile uint64_t *)(uintptr_t)((frame - STACK_SKIP) & ~(PAGE - 1));
	volatile uint64_t *lo = hi - STACK_SPAN / 8, *w = first_nonzero(lo, hi);
	int bad = 0;

	(void)a;
	(void)o;
	if (state_data != FRESH_DATA) {
		strata_printf("disktest: FAILED state: .data holds 0x%llx, built as 0x%llx\n",
		    ULL(state_data), ULL(FRESH_DATA));
		bad = 1;
	}
	if (state_bss != 0) {
		strata_printf("disktest: FAILED state: .bss holds 0x%llx, not 0\n", ULL(state_bss));
		bad = 1;
	}
	if (w != NULL) {
		strata_printf("disktest: FAILED state: the unused stack holds 0x%llx at 0x%llx\n",
		    ULL(*w), ULL(w));
		bad = 1;
	}
	state_data = ~FRESH_DATA;
	state_bss = FRESH_DATA;
	for (w = lo; w < hi; w++)
		*w = pattern((uint64_t)(uintptr_t)w, 0x535441434b);
	if (strata_sync() != 0) {
		strata_puts("disktest: FAILED state: sync reported an I/O error");
		return 1;
	}
	if (!bad)
		strata_puts("disktest: state fresh: .data as built, .bss and the unused stack zero; dirtied and synced");
	return bad;
}

/* ---- command line ------------------------------------------------------ */

struct mode {
	const char *name;
	int (*run)(struct area a, const struct opts *o);
	bool quiet;		/* prints nothing before it has measured */
};

static const struct mode modes[] = {
	{ "write", do_write, false },
	{ "verify", do_verify, false },
	{ "scan", do_scan, false },
	{ "randscan", do_randscan, false },
	{ "random", do_random, false },
	{ "randread", do_randread, false },
	{ "sparse", do_sparse, false },
	{ "faults", do_faults, true },
	{ "writeback", do_writeback, false },
	{ "commit", do_commit, false },
	{ "checkpoint", do_checkpoint, false },
	{ "resume", do_resume, false },
	{ "pause", do_pause, false },
	{ "cadence", do_cadence, false },
	{ "cow", do_cow, false },
	{ "exec", do_exec, false },
	{ "exec-data", do_exec_data, false },
	{ "edge", do_edge, false },
	{ "beyond", do_beyond, false },
	{ "beyond-disk", do_beyond_disk, false },
	{ "state", do_state, false },
};
#define NMODES	(sizeof modes / sizeof modes[0])

static void usage(void)
{
	strata_printf("usage: disktest MODE [seed=S] [n=N] [mib=M] [syncs=N] [pages=P] [ms=T] [prefetch=K] [blank=B] [passes=P]\nmodes:");
	for (size_t i = 0; i < NMODES; i++)
		strata_printf(" %s", modes[i].name);
	strata_puts("");
}

/* Reads the key=value words after the mode; false, saying why, on any other word. */
static bool parse_opts(int argc, char **argv, struct opts *o)
{
	static const char *const keys[] = { "seed", "n", "mib", "syncs", "pages", "ms", "prefetch",
	    "blank", "passes" };
	uint64_t *vals[] = { &o->seed, &o->n, &o->mib, &o->syncs, &o->pages, &o->ms, &o->prefetch,
	    &o->blank, &o->passes };
	const size_t nkeys = sizeof keys / sizeof keys[0];

	*o = (struct opts){ .seed = 1, .n = 1000, .mib = 16, .syncs = 1, .pages = 16, .ms = 2000,
	    .passes = 1 };
	for (int i = 2; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		size_t k = 0;

		while (eq != NULL && k < nkeys && ((size_t)(eq - argv[i]) != strlen(keys[k]) ||
		    strncmp(argv[i], keys[k], strlen(keys[k])) != 0))
			k++;
		if (eq == NULL || k == nkeys || !strata_parse_u64(eq + 1, 0, vals[k])) {
			strata_printf("disktest: bad option \"%s\"\n", argv[i]);
			return false;
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	const struct strata_info *info = strata_info();
	struct opts o;
	struct area a;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (!parse_opts(argc, argv, &o))
		return 2;
	if (info->disk_bytes == 0) {
		strata_puts("disktest: no disk (info->disk_bytes is 0): attach one");
		return 2;
	}
	a = free_area(info);
	if (a.lo >= a.hi) {
		strata_puts("disktest: the disk has no free area after the image");
		return 2;
	}
	for (size_t i = 0; i < NMODES; i++) {
		if (strcmp(argv[1], modes[i].name) != 0)
			continue;
		if (!modes[i].quiet)
			describe(a);
		return modes[i].run(a, &o);
	}
	strata_printf("disktest: unknown mode \"%s\"\n", argv[1]);
	usage();
	return 2;
}
