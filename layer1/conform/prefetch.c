/*
 * "Traps", prefetch (ABI 1.5): with a disk, naming 16 pages of the free
 * area that were never touched starts 16 page reads; naming them again
 * starts none (they are being read or cached); what the pages hold is the
 * disk's (zero on the new disk of the case); after the touch, a third
 * prefetch starts none either.  conform.sh checks layer 0's count of one
 * read of 16 pages, all 16 used.
 *
 * prefetch-error, on a disk that fails reads of the free area's first page:
 * the trap starts the read and returns as ever; the touch is what stops the
 * machine with the DISK-IO report (conform.sh checks the exit code).
 */
#include "conform.h"

#define PAGES	16

int check_prefetch(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	uint64_t hi = STRATA_DISK_WINDOW_BASE + in->l1_disk_limit, bytes = PAGES * STRATA_PAGE_SIZE;
	/* Well below the free area's end and aligned, far from what the runtime touches. */
	uint64_t lo = (hi - 64 * bytes) & ~(bytes - 1);
	const volatile uint64_t *w = (const volatile uint64_t *)(uintptr_t)lo;
	long r;

	(void)argc;
	(void)argv;
	if (in->disk_bytes == 0 || lo < in->image_end)
		return failed("needs a disk with a free area of 1 MiB or more");
	if ((r = strata_prefetch((const void *)(uintptr_t)lo, bytes)) != PAGES)
		return failed("the first prefetch started %ld page reads, not %d", r, PAGES);
	if ((r = strata_prefetch((const void *)(uintptr_t)lo, bytes)) != 0)
		return failed("a prefetch of pages being read started %ld reads, not 0", r);
	for (uint64_t k = 0; k < bytes / 8; k++)
		if (w[k] != 0)
			return failed("word %llu of the prefetched pages holds %#llx, not 0",
			    (unsigned long long)k, (unsigned long long)w[k]);
	if ((r = strata_prefetch((const void *)(uintptr_t)lo, bytes)) != 0)
		return failed("a prefetch of cached pages started %ld reads, not 0", r);
	return passed();
}

int check_prefetch_error(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	const volatile uint64_t *w = (const volatile uint64_t *)(uintptr_t)in->image_end;
	uint64_t bytes = PAGES * STRATA_PAGE_SIZE;
	long r;

	(void)argc;
	(void)argv;
	if (in->disk_bytes == 0)
		return failed("needs a disk");
	r = strata_prefetch((const void *)(uintptr_t)in->image_end, bytes);
	strata_printf("conform: prefetch-error trap returned %ld\n", r);
	strata_flush();
	if (r != PAGES)
		return failed("the prefetch started %ld page reads, not %d", r, PAGES);
	return failed("the touch of a page the disk cannot read went on, reading %#llx",
	    (unsigned long long)w[0]);
}
