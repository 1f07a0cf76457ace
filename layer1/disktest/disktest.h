/*
 * disktest.h: what disktest's files share.  main.c holds the disk window's
 * modes and the command line, cadence.c the modes of continuous checkpoints
 * (issue 15), which time layer 1 itself while layer 0 checkpoints it,
 * randread.c random reads with and without prefetch (issue 17).
 */
#ifndef DISKTEST_H
#define DISKTEST_H

#include <strata.h>

#define PAGE		STRATA_PAGE_SIZE
#define MIB		(UINT64_C(1) << 20)

/* %llu and %llx take unsigned long long; uint64_t is unsigned long. */
#define ULL(x)		((unsigned long long)(x))

/* Window addresses [lo, hi), page aligned. */
struct area {
	uint64_t lo;
	uint64_t hi;
};

struct opts {
	uint64_t seed;
	uint64_t n;
	uint64_t mib;
	uint64_t syncs;
	uint64_t pages;
	uint64_t ms;
	uint64_t prefetch;
	uint64_t blank;
	uint64_t passes;
};

/*
 * The word expected at addr: a bijection of addr for each seed (an odd
 * multiply and a xorshift), so a word written to the wrong place shows as
 * surely as a wrong word, and two seeds differ at every address.
 */
static inline uint64_t pattern(uint64_t addr, uint64_t seed)
{
	uint64_t x = (addr ^ seed * UINT64_C(0xd6e8feb86659fd93)) * UINT64_C(0x9e3779b97f4a7c15);

	return x ^ x >> 31;
}

/*
 * lfence on both sides keeps the load being timed inside the interval: the
 * TSC is read only once everything before it has completed.
 */
static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* main.c */
uint64_t ticks_ns(uint64_t ticks);
void print_us(uint64_t ns);
uint64_t rnd(uint64_t *state);

/* randread.c */
int do_randread(struct area a, const struct opts *o);

/* cadence.c */
int do_pause(struct area a, const struct opts *o);
int do_cadence(struct area a, const struct opts *o);
int do_cow(struct area a, const struct opts *o);

#endif
