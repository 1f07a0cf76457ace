/*
 * randread n=N prefetch=K seed=S blank=B: N reads of one word each from N
 * distinct pages picked at random over the whole free area (larger than RAM
 * on the bench's disk), so every read misses, each word checked, timed as a
 * whole: reads per second.  With K > 0 the payload names the page K reads
 * ahead with strata_prefetch (ABI 1.5) before each read, after naming the
 * first K, so up to K disk reads are in flight while it waits on one; K = 0
 * prefetches nothing and every miss is one disk read waited for alone.
 *
 * The word read must be pattern(address, S), what `write seed=S` left, or 0
 * with blank=1 (a disk never written): a prefetch that handed the payload
 * the wrong page, or a page before its read completed, shows as a bad word.
 * Exit 1 if any word is wrong.
 */
#include "disktest.h"

#define RANDREAD_MAX	65536	/* reads one run makes at most */

static uint64_t where[RANDREAD_MAX];

/* The word checked in page p: one of its 512, picked with the page. */
static uint64_t word_of(uint64_t p, uint64_t r)
{
	return p + (r >> 40) % (PAGE / 8) * 8;
}

int do_randread(struct area a, const struct opts *o)
{
	uint64_t pages = (a.hi - a.lo) / PAGE, st = o->seed ^ 0x72616e64, k = o->prefetch;
	uint64_t bad = 0, first_bad = 0, first_val = 0, start, ns;

	if (o->n == 0 || o->n > RANDREAD_MAX || o->n > pages || k > o->n) {
		strata_printf("disktest: randread: n must be 1..%llu and prefetch at most n\n",
		    ULL(pages < RANDREAD_MAX ? pages : RANDREAD_MAX));
		return 2;
	}
	/*
	 * n distinct pages: one from each of n equal bins of the area, at a
	 * random place in it, then shuffled, so every read is of a page not
	 * read before and no order runs through the area.
	 */
	for (uint64_t i = 0; i < o->n; i++) {
		uint64_t r = rnd(&st);

		where[i] = word_of(a.lo + (i * (pages / o->n) + r % (pages / o->n)) * PAGE, r);
	}
	for (uint64_t i = o->n - 1; i > 0; i--) {
		uint64_t j = rnd(&st) % (i + 1), t = where[i];

		where[i] = where[j];
		where[j] = t;
	}
	start = strata_now_ns();
	for (uint64_t i = 0; i < k; i++)
		strata_prefetch((const void *)(uintptr_t)where[i], 8);
	for (uint64_t i = 0; i < o->n; i++) {
		uint64_t v, want;

		if (k > 0 && i + k < o->n)
			strata_prefetch((const void *)(uintptr_t)where[i + k], 8);
		v = *(volatile const uint64_t *)(uintptr_t)where[i];
		want = o->blank ? 0 : pattern(where[i], o->seed);
		if (v != want && bad++ == 0) {
			first_bad = i;
			first_val = v;	/* as read: a late read may have changed it since */
		}
	}
	ns = strata_now_ns() - start;
	if (bad != 0) {
		uint64_t w = where[first_bad];

		strata_printf("disktest: FAILED randread: %llu of %llu words wrong, the first at 0x%llx "
		    "read 0x%llx, expected 0x%llx\n", ULL(bad), ULL(o->n), ULL(w), ULL(first_val),
		    ULL(o->blank ? 0 : pattern(w, o->seed)));
		return 1;
	}
	strata_printf("disktest: randread %llu pages prefetch %llu in %llu ms = %llu reads/s, "
	    "every word right\n", ULL(o->n), ULL(k), ULL(ns / 1000000),
	    ULL(o->n * 1000000000 / (ns ? ns : 1)));
	return 0;
}
