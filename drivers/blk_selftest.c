/*
 * The block self-test (layer 0 command line "blktest"), on every disk: reads
 * its head, writes a pattern over its last sectors, flushes, reads it back
 * (into pages, then into one contiguous buffer) and compares, puts the old
 * contents back, checks that bad requests are
 * refused, and times a raw sequential read of the whole disk with several
 * large requests in flight, as many times as asked (a benchmark takes the
 * median of the passes).  A failure panics, so the test is pass or stop.
 *
 * The scratch area is larger than one device request and ends on the last
 * sector with a partial page, so splitting, merging and the boundary are
 * all exercised.  It is written twice (pattern, then the saved contents),
 * so a disk is unchanged afterwards unless the machine stops in between.
 */
#include "defs.h"
#include "blkdev.h"

#define SCRATCH_PAGES	300
#define SCRATCH_SECTORS	(SCRATCH_PAGES * BLK_SECTORS_PER_PAGE - 3)
#define RAW_DEPTH	4	/* requests in flight */
#define RAW_PAGES	256	/* 1 MiB each */

static uint64_t save[SCRATCH_PAGES], pat[SCRATCH_PAGES], back[SCRATCH_PAGES], rev[SCRATCH_PAGES];
static uint64_t contig[SCRATCH_PAGES];
static uint64_t raw[RAW_DEPTH][RAW_PAGES];

static void alloc_pages(uint64_t *pages, int n)
{
	for (int i = 0; i < n; i++)
		if (!(pages[i] = pmm_alloc()))
			panic("blktest: out of memory after %d of %d pages", i, n);
}

static void free_pages(const uint64_t *pages, int n)
{
	for (int i = 0; i < n; i++)
		pmm_free(pages[i]);
}

/* The pattern word for disk byte offset pos: different at every position,
 * so data landing in the wrong place is caught as surely as wrong data. */
static uint64_t pattern(uint64_t pos)
{
	return (pos * 0x9e3779b97f4a7c15ULL) ^ 0x5354524154410000ULL;
}

static void expect(struct blkdev *d, const char *what, enum blk_status got, enum blk_status want)
{
	if (got != want)
		panic("blktest: %s: %s: got %s, expected %s", d->name, what,
		    blk_status_name(got), blk_status_name(want));
}

/* Fills (or checks, if check) the transfer held in pages with the pattern. */
static void pattern_pages(const uint64_t *pages, uint64_t sector, uint32_t nsectors, bool check)
{
	uint64_t bytes = (uint64_t)nsectors * BLK_SECTOR_SIZE;

	for (uint64_t off = 0; off < bytes; off += 8) {
		uint64_t *w = (uint64_t *)p2v(pages[off / PAGE_SIZE]) + off % PAGE_SIZE / 8;
		uint64_t want = pattern(sector * BLK_SECTOR_SIZE + off);
		if (!check)
			*w = want;
		else if (*w != want)
			panic("blktest: read back %#lx at sector %lu + byte %lu, wrote %#lx",
			    (unsigned long)*w, (unsigned long)(sector + off / BLK_SECTOR_SIZE),
			    (unsigned long)(off % BLK_SECTOR_SIZE), (unsigned long)want);
	}
}

static void test_head(struct blkdev *d)
{
	uint64_t pages[8];

	alloc_pages(pages, 8);
	expect(d, "read sectors 0..63", blk_rw_sync(d, BLK_READ, 0, 64, pages), BLK_OK);
	free_pages(pages, 8);
}

/* The pattern at sector read again into one contiguous buffer (pages 0,
 * buf), as the pager's 2 MiB reads are. */
static void read_contiguous(struct blkdev *d, uint64_t sector)
{
	uint64_t buf = pmm_alloc_huge();
	struct blkreq req = { .op = BLK_READ, .sector = sector, .nsectors = SCRATCH_SECTORS, .buf = buf };

	if (buf == 0)
		panic("blktest: no 2 MiB of contiguous memory for the buffer test");
	if (blk_submit(d, &req) == BLK_PENDING)
		blk_wait(d, &req);
	expect(d, "read back into one buffer", req.status, BLK_OK);
	for (int i = 0; i < SCRATCH_PAGES; i++)
		contig[i] = buf + (uint64_t)i * PAGE_SIZE;
	pattern_pages(contig, sector, SCRATCH_SECTORS, true);
	pmm_free_huge(buf);
}

/* Pattern written from pages in descending order (nothing merges, so the
 * request is split), read back into ascending pages (which merge). */
static void test_write_read(struct blkdev *d)
{
	uint64_t sector = d->sectors - SCRATCH_SECTORS;

	alloc_pages(save, SCRATCH_PAGES);
	alloc_pages(pat, SCRATCH_PAGES);
	alloc_pages(back, SCRATCH_PAGES);
	for (int i = 0; i < SCRATCH_PAGES; i++)
		rev[i] = pat[SCRATCH_PAGES - 1 - i];
	expect(d, "save scratch", blk_rw_sync(d, BLK_READ, sector, SCRATCH_SECTORS, save), BLK_OK);
	pattern_pages(rev, sector, SCRATCH_SECTORS, false);
	expect(d, "write pattern", blk_rw_sync(d, BLK_WRITE, sector, SCRATCH_SECTORS, rev), BLK_OK);
	expect(d, "flush", blk_rw_sync(d, BLK_FLUSH, 0, 0, 0), BLK_OK);
	expect(d, "read back", blk_rw_sync(d, BLK_READ, sector, SCRATCH_SECTORS, back), BLK_OK);
	pattern_pages(back, sector, SCRATCH_SECTORS, true);
	read_contiguous(d, sector);
	expect(d, "restore scratch", blk_rw_sync(d, BLK_WRITE, sector, SCRATCH_SECTORS, save), BLK_OK);
	expect(d, "flush", blk_rw_sync(d, BLK_FLUSH, 0, 0, 0), BLK_OK);
	free_pages(save, SCRATCH_PAGES);
	free_pages(pat, SCRATCH_PAGES);
	free_pages(back, SCRATCH_PAGES);
	kprintf("strata: blktest: %u sectors at %lu written, flushed, read back, restored\n",
	    SCRATCH_SECTORS, (unsigned long)sector);
}

static void test_bad(struct blkdev *d)
{
	uint64_t page;

	alloc_pages(&page, 1);

	expect(d, "read past the end", blk_rw_sync(d, BLK_READ, d->sectors, 1, &page), BLK_BADREQ);
	expect(d, "read across the end", blk_rw_sync(d, BLK_READ, d->sectors - 1, 2, &page), BLK_BADREQ);
	expect(d, "read of 0 sectors", blk_rw_sync(d, BLK_READ, 0, 0, &page), BLK_BADREQ);
	expect(d, "read without pages", blk_rw_sync(d, BLK_READ, 0, 1, 0), BLK_BADREQ);
	if (d->read_only)
		expect(d, "write to a read-only disk", blk_rw_sync(d, BLK_WRITE, 0, 1, &page), BLK_UNSUPP);
	free_pages(&page, 1);
}

/* Reads the whole disk, RAW_DEPTH requests of RAW_PAGES pages in flight. */
static void raw_read(struct blkdev *d)
{
	struct blkreq req[RAW_DEPTH];
	uint64_t next = 0, chunk = RAW_PAGES * BLK_SECTORS_PER_PAGE, start;
	struct waited silent;
	int busy = 0;

	for (int i = 0; i < RAW_DEPTH; i++)
		alloc_pages(raw[i], RAW_PAGES);
	start = clock_ns();
	waited_start(&silent);
	for (;;) {
		for (int i = 0; i < RAW_DEPTH; i++) {
			if (busy & 1 << i) {
				if (req[i].status == BLK_PENDING)
					continue;
				expect(d, "raw read", req[i].status, BLK_OK);
				busy &= ~(1 << i);
			}
			if (next >= d->sectors)
				continue;
			req[i] = (struct blkreq){ .op = BLK_READ, .sector = next, .pages = raw[i],
			    .nsectors = d->sectors - next < chunk ? d->sectors - next : chunk };
			next += req[i].nsectors;
			expect(d, "raw read submit", blk_submit(d, &req[i]), BLK_PENDING);
			busy |= 1 << i;
		}
		if (!busy)
			break;
		if (blk_poll(d) > 0) {
			waited_start(&silent);
			continue;
		}
		blk_check_answering(d, &req[__builtin_ctz(busy)], waited_step(&silent));
		__asm__ volatile("pause");
	}
	uint64_t ms = (clock_ns() - start) / 1000000;
	kprintf("strata: blk raw read: %lu MiB in %lu ms\n",
	    (unsigned long)(d->sectors * BLK_SECTOR_SIZE >> 20), (unsigned long)ms);
	for (int i = 0; i < RAW_DEPTH; i++)
		free_pages(raw[i], RAW_PAGES);
}

/* Runs every test on one disk, the raw read raw_passes times. */
static void test_disk(struct blkdev *d, uint32_t raw_passes)
{
	if (d->sectors < SCRATCH_SECTORS + 64)
		panic("blktest: %s has %lu sectors, too small to test", d->name, (unsigned long)d->sectors);
	test_head(d);
	if (!d->read_only)
		test_write_read(d);
	test_bad(d);
	for (uint32_t k = 0; k < raw_passes; k++)
		raw_read(d);
	kprintf("strata: blktest: %s passed\n", d->name);
}

void blk_selftest(uint32_t raw_passes)
{
	if (blkdev_count() == 0)
		panic("blktest: no disk to test");
	for (int i = 0; i < blkdev_count(); i++)
		test_disk(blkdev_get(i), raw_passes);
}
