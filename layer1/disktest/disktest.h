/*
 * disktest.h: what disktest's files share.  main.c holds the disk window's
 * modes and the command line, cadence.c the modes of continuous checkpoints
 * (issue 15), which time layer 1 itself while layer 0 checkpoints it.
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
};

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

/* cadence.c */
int do_pause(struct area a, const struct opts *o);
int do_cadence(struct area a, const struct opts *o);
int do_cow(struct area a, const struct opts *o);

#endif
