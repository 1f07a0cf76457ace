/*
 * cadence.c: disktest's modes for continuous checkpoints (issue 15), the
 * payload side of tests/bench/checkpoint.sh's pause, cadence and
 * copy-on-write figures.  Each runs under layer 0's periodic checkpoints
 * (`checkpoint=MS`) and measures what layer 1 itself sees of them:
 *
 *   pause pages=P n=N    N rounds (after one that maps the pages): dirty one
 *                        word of each of P pages, then spin reading the
 *                        clock until info->checkpoint_seq moves.  The longest
 *                        gap between two reads of a round is the time layer
 *                        1 was stopped: layer 0's own pause figure, seen
 *                        from the other side.  A round in which the number
 *                        moved before all P were dirty is counted as split.
 *   cadence pages=P ms=T keep rewriting one word of each of P pages for T
 *                        ms: the checkpoints made durable in that time.
 *   cow pages=P n=N      write every word of P pages, N passes (after one
 *                        that maps them), timed: run with checkpoint=10 and
 *                        checkpoint=0, the slowdown copy-on-write costs.
 *
 * The loops that measure make no calls, so the pages they dirty are the P
 * pages and no stack page.  A spin that sees no checkpoint in
 * SPIN_LIMIT_MS fails the mode (layer 0 was booted with checkpoint=0).
 */
#include "disktest.h"

#define SPIN_LIMIT_MS	10000
#define PAGES_MAX	(UINT64_C(1) << 20)

/*
 * Where the newest durable checkpoint's number is, read anew each time:
 * layer 0 changes it under us.  Taken once, so that the loops make no call.
 */
static volatile const uint64_t *seq_word(void)
{
	return (volatile const uint64_t *)&strata_info()->checkpoint_seq;
}

/* TSC ticks in a millisecond: the clock's 32.32 ns per tick, inverted. */
static uint64_t ticks_per_ms(void)
{
	return (UINT64_C(1000000) << 32) / strata_info()->tsc_ns_mult;
}

/* Writes v into the first word of each of n pages from lo. */
static inline void dirty_pages(uint64_t lo, uint64_t n, uint64_t v)
{
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint64_t *)(lo + i * PAGE) = v;
}

/* Whether pages=P fits the free area; says so if not. */
static bool pages_fit(struct area a, const struct opts *o, const char *mode)
{
	uint64_t most = (a.hi - a.lo) / PAGE;

	if (most > PAGES_MAX)
		most = PAGES_MAX;
	if (o->pages != 0 && o->pages <= most && o->n != 0)
		return true;
	strata_printf("disktest: %s: pages must be 1..%llu and n at least 1\n", mode, ULL(most));
	return false;
}

/*
 * Spins until the checkpoint number at seqp moves past seq: the longest gap
 * between two clock reads in ticks, or 0 if limit ticks went by first.
 */
static inline uint64_t longest_stall(volatile const uint64_t *seqp, uint64_t seq, uint64_t limit)
{
	uint64_t start = tsc(), last = start, longest = 1;

	while (*seqp == seq) {
		uint64_t t = tsc();

		if (t - last > longest)
			longest = t - last;
		last = t;
		if (t - start > limit)
			return 0;
	}
	return longest;
}

/* A pause run's figures, in ticks. */
struct stalls {
	uint64_t sum;
	uint64_t most;
	uint64_t split;
};

/*
 * The rounds keep their figures in the first of the P pages, just past the
 * word each round dirties: that page is written anyway, and held in
 * registers the figures would crowd the loop into spilling onto the stack,
 * whose page would then be in every checkpoint too.
 */
int do_pause(struct area a, const struct opts *o)
{
	volatile const uint64_t *seqp = seq_word();
	struct stalls *st = (struct stalls *)(a.lo + sizeof(uint64_t));
	uint64_t limit = ticks_per_ms() * SPIN_LIMIT_MS;

	if (!pages_fit(a, o, "pause"))
		return 2;
	for (uint64_t r = 0; r <= o->n; r++) {
		uint64_t before = *seqp, seq, stall;

		dirty_pages(a.lo, o->pages, r + 1);
		if (r == 1)
			*st = (struct stalls){ 0, 0, 0 };
		seq = *seqp;
		if ((stall = longest_stall(seqp, seq, limit)) == 0) {
			strata_printf("disktest: FAILED pause: no checkpoint in %d ms "
			    "(boot with the layer-0 option checkpoint=MS)\n", SPIN_LIMIT_MS);
			return 1;
		}
		st->split += seq != before;
		st->sum += stall;
		if (stall > st->most)
			st->most = stall;
	}
	strata_printf("disktest: pause %llu pages x %llu: longest stall mean", ULL(o->pages), ULL(o->n));
	print_us(ticks_ns(st->sum / o->n));
	strata_printf(" max");
	print_us(ticks_ns(st->most));
	strata_printf(", %llu split\n", ULL(st->split));
	return 0;
}

int do_cadence(struct area a, const struct opts *o)
{
	volatile const uint64_t *seqp = seq_word();
	uint64_t seq, start, end, now, rounds = 0, n, ns, tenths;

	if (!pages_fit(a, o, "cadence"))
		return 2;
	if (o->ms == 0) {
		strata_puts("disktest: cadence: ms must be at least 1");
		return 2;
	}
	dirty_pages(a.lo, o->pages, 0);
	seq = *seqp;
	start = tsc();
	end = start + ticks_per_ms() * o->ms;
	do {
		dirty_pages(a.lo, o->pages, ++rounds);
		now = tsc();
	} while (now < end);
	n = *seqp - seq;
	ns = ticks_ns(now - start);
	/* n * 10^10 fits 64 bits for n up to 1.8 * 10^9. */
	tenths = n * UINT64_C(10000000000) / (ns ? ns : 1);
	strata_printf("disktest: cadence %llu pages for %llu ms: %llu checkpoints = %llu.%llu/s "
	    "(%llu rounds)\n", ULL(o->pages), ULL(ns / 1000000), ULL(n), ULL(tenths / 10),
	    ULL(tenths % 10), ULL(rounds));
	return 0;
}

/*
 * Writes every word of [lo, hi) with v and its address: no pass is like the
 * one before.  The barrier keeps the compiler from dropping a pass that the
 * next one overwrites.
 */
static inline void write_words(uint64_t lo, uint64_t hi, uint64_t v)
{
	for (uint64_t *p = (uint64_t *)lo; p < (uint64_t *)hi; p++)
		*p = v ^ (uint64_t)p;
	__asm__ volatile("" : : : "memory");
}

int do_cow(struct area a, const struct opts *o)
{
	volatile const uint64_t *seqp = seq_word();
	uint64_t hi = a.lo + o->pages * PAGE, seq, t0, t1;

	if (!pages_fit(a, o, "cow"))
		return 2;
	write_words(a.lo, hi, 0);
	seq = *seqp;
	t0 = tsc();
	for (uint64_t pass = 1; pass <= o->n; pass++)
		write_words(a.lo, hi, pass);
	t1 = tsc();
	strata_printf("disktest: cow %llu pages x %llu passes: %llu us, %llu checkpoints\n",
	    ULL(o->pages), ULL(o->n), ULL(ticks_ns(t1 - t0) / 1000), ULL(*seqp - seq));
	return 0;
}
