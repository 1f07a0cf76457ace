/*
 * counter: a persistent counter that commits, the witness of the crash tests
 * (tests/crash/) and an example of checkpoints and resume.
 *
 *   counter [every=N] [steps=S] [pages=P] [churn=B]
 *
 *   every=N   commit (strata_commit) after every N steps (default 1; 0: never,
 *             and print marks instead, below)
 *   steps=S   exit 0 after S steps of this run (default 0: run forever)
 *   pages=P   state pages rewritten with each step, 1..PAGES_MAX (default 4;
 *             keep it for the runs of one disk: a page added later is blank)
 *   churn=B   besides, each step stamps the next B pages of a churn area of
 *             CHURN_PAGES pages in turn (default 0; B divides CHURN_PAGES and
 *             is at most CHURN_PAGES / 2), so that a record holds pages the
 *             next one does not, and a few MiB a step fill the journal and
 *             make layer 0 clean it every few steps: the witness of the
 *             cleaning's order (a page journaled only in a released record
 *             must be home first; tests/crash/powerloss.sh with CHURN)
 *
 * The counter is the first word of the free area (info->image_end onward);
 * its state pages lie SPREAD apart after it, so each is a page of its own.
 * A step adds one to the counter and stamps every state page with the new
 * value and a check of it and the page's index.  A churn page holds the
 * stamp of the last step that wrote it (block (v - 1) mod the number of
 * blocks is step v's), or zero if none did yet.  At each step boundary they
 * agree: a checkpoint may catch a step half done, but a resume finishes it
 * before the next boundary.  So a boundary where they disagree is a state no
 * checkpoint had, and the payload says what differs and exits 3.
 *
 * Lines the crash scripts read:
 *   counter: fresh at V        main ran: a fresh start, with V from the disk
 *   counter: resumed at V      info->resumes changed: a resume, the counter V
 *   counter: committed V       a commit returned 0 with the counter at V
 *   counter: INCONSISTENT ...  the invariant failed (exit 3)
 * and with every=0, where periodic checkpoints are all that keeps the state:
 *   counter: mark V to W at T us tick K us seq S
 *                              at clock T the counter was V and it stays at
 *                              or below W until the next mark; K was
 *                              info->clock_ns (the clock at layer 0's last
 *                              timer tick, when periodic checkpoints start)
 *                              and S info->checkpoint_seq (the newest durable
 *                              checkpoint); a mark is printed, and its line
 *                              on the console, before the step past W
 *   counter: resumed from clock T us
 *                              after "resumed at": info->resume_clock_ns, the
 *                              clock of the checkpoint resumed, on the same
 *                              clock as the marks (it carries on over resumes)
 * W is chosen so that marks come about every MARK_NS.
 * A resume re-enters at the instruction of its checkpoint, not main, so the
 * resume count is looked at after every step and every commit.  Without a
 * disk the state lives in .bss: the same run, no durability.  Exit 2: a bad
 * option, or a free area too small for the pages.
 */
#include <strata.h>

STRATA_PAYLOAD("counter", 0, 0);

#define PAGES_MAX	16
#define CHURN_PAGES	1024			/* after the state pages, */
#define CHURN_STRIDE	2			/* every other page: no two in one disk write */
#define SPREAD		(UINT64_C(4) << 20)	/* bytes between two state pages */
#define VERIFY_EVERY	64			/* steps between two checks of a run */
#define MARK_NS		2000000			/* every=0: the time between two marks */
#define MARK_SPAN_MAX	(UINT64_C(1) << 30)	/* the most steps between two marks */
#define EXIT_USAGE	2
#define EXIT_INCONSISTENT 3

#define ULL(x)		((unsigned long long)(x))

/* What a step writes into one state page. */
struct stamp {
	uint64_t value;		/* the counter after the step */
	uint64_t check;		/* stamp_check(value, the page's index) */
};

struct counter {
	volatile uint64_t *value;
	volatile struct stamp *page[PAGES_MAX];
	uint64_t npages;
	volatile struct stamp *churn_area;
	uint64_t churn;
	uint64_t every;
	uint64_t steps;
	uint64_t resumes;	/* info->resumes as last seen */
	uint64_t mark_value;	/* every=0: the last mark's V, W and clock */
	uint64_t mark_to;
	uint64_t mark_ns;
};

/* The state without a disk: the counter and one stamp per page, in .bss. */
static struct {
	uint64_t value;
	struct stamp page[PAGES_MAX];
} nodisk;

/*
 * A mix of the value and the index, so that a stale stamp, a stamp of
 * another page or a torn one (value and check from different steps) shows.
 */
static uint64_t stamp_check(uint64_t value, uint64_t index)
{
	uint64_t x = (value + 1) * UINT64_C(0x9e3779b97f4a7c15) ^ (index + 1) * UINT64_C(0xbf58476d1ce4e5b9);

	return x ^ x >> 29;
}

/* The resume count, read anew each time: layer 0 changes it under us. */
static uint64_t resumes_now(void)
{
	return *(volatile const uint64_t *)&strata_info()->resumes;
}

static bool parse_opts(int argc, char **argv, struct counter *c)
{
	static const char *const keys[] = { "every", "steps", "pages", "churn" };
	uint64_t *vals[] = { &c->every, &c->steps, &c->npages, &c->churn };
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		size_t k = 0;

		while (eq != NULL && k < nkeys && ((size_t)(eq - argv[i]) != strlen(keys[k]) ||
		    strncmp(argv[i], keys[k], strlen(keys[k])) != 0))
			k++;
		if (eq == NULL || k == nkeys || !strata_parse_u64(eq + 1, 0, vals[k])) {
			strata_printf("counter: bad option \"%s\"\n", argv[i]);
			return false;
		}
	}
	if (c->npages < 1 || c->npages > PAGES_MAX) {
		strata_printf("counter: pages must be 1..%d\n", PAGES_MAX);
		return false;
	}
	if (c->churn > CHURN_PAGES / 2 || (c->churn != 0 && CHURN_PAGES % c->churn != 0)) {
		strata_printf("counter: churn must divide %d and be at most %d\n", CHURN_PAGES,
		    CHURN_PAGES / 2);
		return false;
	}
	return true;
}

/* Points the counter and its pages into the free area, or .bss without a disk. */
static bool place_state(struct counter *c)
{
	const struct strata_info *info = strata_info();
	uint64_t lo = (info->image_end + STRATA_PAGE_SIZE - 1) & ~(STRATA_PAGE_SIZE - 1);
	uint64_t hi = STRATA_DISK_WINDOW_BASE + info->l1_disk_limit;

	uint64_t need = (c->npages + 1) * SPREAD + (c->churn ? CHURN_PAGES * CHURN_STRIDE * STRATA_PAGE_SIZE : 0);

	if (info->disk_bytes == 0) {
		if (c->churn != 0) {
			strata_printf("counter: churn needs a disk\n");
			return false;
		}
		c->value = &nodisk.value;
		for (uint64_t i = 0; i < c->npages; i++)
			c->page[i] = &nodisk.page[i];
		return true;
	}
	if (hi < lo || hi - lo < need) {
		strata_printf("counter: the free area (%llu MiB) is too small for %llu pages %llu MiB apart "
		    "and %llu churn pages\n", ULL(hi > lo ? (hi - lo) >> 20 : 0), ULL(c->npages),
		    ULL(SPREAD >> 20), ULL(c->churn ? CHURN_PAGES : 0));
		return false;
	}
	c->value = (volatile uint64_t *)lo;
	for (uint64_t i = 0; i < c->npages; i++)
		c->page[i] = (volatile struct stamp *)(lo + (i + 1) * SPREAD);
	c->churn_area = (volatile struct stamp *)(lo + (c->npages + 1) * SPREAD);
	return true;
}

/*
 * Churn page j, the first stamp of its page.  Pages apart make each page a
 * disk write of its own, so that layer 0's background home writes, a few in
 * flight at a time, leave most of a record's pages to the cleaning.
 */
static volatile struct stamp *churn_page(const struct counter *c, uint64_t j)
{
	return (volatile struct stamp *)((volatile char *)c->churn_area +
	    j * CHURN_STRIDE * STRATA_PAGE_SIZE);
}

/* The value in churn page j with the counter at v: the last step up to v that wrote it, or 0. */
static uint64_t churn_expected(const struct counter *c, uint64_t j, uint64_t v)
{
	uint64_t blocks = CHURN_PAGES / c->churn, block = j / c->churn, now;

	if (v == 0)
		return 0;
	now = (v - 1) % blocks;
	v -= (now + blocks - block) % blocks;
	return (int64_t)v > 0 ? v : 0;
}

/* Step v's churn: its block of pages, stamped with v (PAGES_MAX onward: indexes of their own). */
static void churn_step(const struct counter *c, uint64_t v)
{
	uint64_t first = (v - 1) % (CHURN_PAGES / c->churn) * c->churn;

	for (uint64_t j = first; j < first + c->churn; j++) {
		churn_page(c, j)->value = v;
		churn_page(c, j)->check = stamp_check(v, PAGES_MAX + j);
	}
}

/* One step: the counter and every stamp move to the next value. */
static void step(struct counter *c)
{
	uint64_t v = *c->value + 1;

	for (uint64_t i = 0; i < c->npages; i++) {
		c->page[i]->value = v;
		c->page[i]->check = stamp_check(v, i);
	}
	if (c->churn != 0)
		churn_step(c, v);
	*c->value = v;
}

/*
 * Whether stamp s, of the page with this index, holds value want and its
 * check (or is blank, when want is 0); says what differs and exits 3 if not.
 */
static void verify_stamp(volatile const struct stamp *s, uint64_t index, uint64_t want, uint64_t v)
{
	uint64_t pv = s->value, pc = s->check;

	if (want == 0 && pv == 0 && pc == 0)
		return;
	if (pv != want || pc != stamp_check(pv, index)) {
		strata_printf("counter: INCONSISTENT: counter %llu, page %llu holds %llu "
		    "with check 0x%llx (%llu with 0x%llx expected)\n", ULL(v), ULL(index), ULL(pv),
		    ULL(pc), ULL(want), ULL(stamp_check(want, index)));
		strata_exit(EXIT_INCONSISTENT);
	}
}

/*
 * At a step boundary every stamp holds the counter's value and its check,
 * and every churn page the value of the last step that wrote it.  A fresh
 * disk (all zero) is the state before the first step.  Exits 3 with what
 * differs otherwise.
 */
static void verify(const struct counter *c)
{
	uint64_t v = *c->value;

	for (uint64_t i = 0; i < c->npages; i++)
		verify_stamp(c->page[i], i, v, v);
	for (uint64_t j = 0; c->churn != 0 && j < CHURN_PAGES; j++)
		verify_stamp(churn_page(c, j), PAGES_MAX + j, churn_expected(c, j, v), v);
}

/* Says so, and checks the state, when a resume happened since the last look. */
static void notice_resume(struct counter *c)
{
	uint64_t r = resumes_now();

	if (r == c->resumes)
		return;
	c->resumes = r;
	strata_printf("counter: resumed at %llu\n", ULL(*c->value));
	if (c->every == 0)
		strata_printf("counter: resumed from clock %llu us\n",
		    ULL(strata_info()->resume_clock_ns / 1000));
	verify(c);
}

/*
 * A mark (every=0): where the counter is and the most it may reach before
 * the next one, so that the crash tests can tell where a cut found it.  The
 * span is the steps of the last MARK_NS at the rate since the last mark.  A
 * resume not yet noticed is noticed first, so that its lines come before
 * any mark of the resumed run.
 */
static void mark(struct counter *c)
{
	uint64_t v = *c->value, now = strata_now_ns(), span = 1;

	notice_resume(c);
	if (now > c->mark_ns && v > c->mark_value)
		span = (v - c->mark_value) * MARK_NS / (now - c->mark_ns);
	if (span == 0)
		span = 1;
	if (span > MARK_SPAN_MAX)
		span = MARK_SPAN_MAX;
	c->mark_value = v;
	c->mark_to = v + span;
	c->mark_ns = now;
	strata_printf("counter: mark %llu to %llu at %llu us tick %llu us seq %llu\n", ULL(v),
	    ULL(c->mark_to), ULL(now / 1000), ULL(strata_info()->clock_ns / 1000),
	    ULL(strata_info()->checkpoint_seq));
}

int main(int argc, char **argv)
{
	struct counter c = { .every = 1, .npages = 4 };

	if (!parse_opts(argc, argv, &c) || !place_state(&c))
		return EXIT_USAGE;
	c.resumes = resumes_now();
	strata_printf("counter: fresh at %llu\n", ULL(*c.value));
	verify(&c);
	if (c.every == 0)
		mark(&c);
	for (uint64_t n = 1; c.steps == 0 || n <= c.steps; n++) {
		step(&c);
		notice_resume(&c);
		if (c.every == 0 && *c.value >= c.mark_to)
			mark(&c);
		if (c.every != 0 && n % c.every == 0) {
			int r = strata_commit();

			notice_resume(&c);
			if (r == 0)
				strata_printf("counter: committed %llu\n", ULL(*c.value));
		}
		if (n % VERIFY_EVERY == 0)
			verify(&c);
	}
	return 0;
}
