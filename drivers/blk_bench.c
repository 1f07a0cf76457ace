/*
 * The block benchmark (layer 0 command line "blkbench=flush4k", "write" or
 * "all"): what the first disk costs through the driver alone, with no pager,
 * journal or layer 1 in the way, so that a checkpoint can be set beside the
 * physical floor it cannot beat (tests/bench/checkpoint.sh):
 *
 *   flush4k  a 4 KiB write then a flush, each waited for, FLUSH_ROUNDS times:
 *            the least a durable commit of one page can cost
 *   write    WRITE_BYTES of sequential writes, PHASE_MIB requests of 1 MiB
 *            in flight at once, then a flush: the rate a checkpoint's
 *            records could reach
 *
 * Both write the disk's own bytes back where they were, at its end where the
 * checkpoint journal lives, after reading them untimed: whatever instant the
 * machine stops, the disk holds what it held, so the option is safe on a
 * disk with data.  A failure panics, as blktest's do.
 */
#include "defs.h"
#include "blkdev.h"

#define FLUSH_ROUNDS	200
#define MIB_PAGES	256			/* pages in one 1 MiB request */
#define PHASE_MIB	16			/* requests in flight, and MiB read then written per phase */
#define WRITE_BYTES	(64ULL << 20)

static uint64_t rounds_ns[FLUSH_ROUNDS];
static uint64_t phase[PHASE_MIB][MIB_PAGES];

static void expect_ok(struct blkdev *d, const char *what, enum blk_status got)
{
	if (got != BLK_OK)
		panic("blkbench: %s: %s: %s", d->name, what, blk_status_name(got));
}

/* Insertion sort: FLUSH_ROUNDS values, once. */
static void sort_ns(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++) {
		uint64_t x = v[i];
		int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* The last page of the disk, written from its own contents and flushed, FLUSH_ROUNDS times. */
static void bench_flush4k(struct blkdev *d)
{
	uint64_t sector = (d->sectors / BLK_SECTORS_PER_PAGE - 1) * BLK_SECTORS_PER_PAGE;
	uint64_t page = pmm_alloc_uninit(), sum = 0, median;

	if (page == 0)
		panic("blkbench: out of memory for one page");
	expect_ok(d, "read the last page", blk_rw_sync(d, BLK_READ, sector, BLK_SECTORS_PER_PAGE, &page));
	for (int i = 0; i < FLUSH_ROUNDS; i++) {
		uint64_t t0 = clock_ns();

		expect_ok(d, "write the last page",
		    blk_rw_sync(d, BLK_WRITE, sector, BLK_SECTORS_PER_PAGE, &page));
		expect_ok(d, "flush", blk_rw_sync(d, BLK_FLUSH, 0, 0, 0));
		rounds_ns[i] = clock_ns() - t0;
		sum += rounds_ns[i];
	}
	pmm_free(page);
	sort_ns(rounds_ns, FLUSH_ROUNDS);
	median = rounds_ns[(FLUSH_ROUNDS - 1) / 2];
	sum /= FLUSH_ROUNDS;
	kprintf("strata: blkbench: flush4k: %d x (4 KiB write + flush) at sector %lu: "
	    "median %lu.%lu us, mean %lu.%lu us\n", FLUSH_ROUNDS, (unsigned long)sector,
	    (unsigned long)(median / 1000), (unsigned long)(median / 100 % 10),
	    (unsigned long)(sum / 1000), (unsigned long)(sum / 100 % 10));
}

/* Submits n 1 MiB requests from sector on, one from each buffer of phase[], and waits for all. */
static void phase_rw(struct blkdev *d, enum blk_op op, uint64_t sector, int n)
{
	const char *what = op == BLK_READ ? "read 1 MiB" : "write 1 MiB";
	struct blkreq req[PHASE_MIB];

	for (int i = 0; i < n; i++) {
		req[i] = (struct blkreq){ .op = op, .sector = sector + (uint64_t)i * MIB_PAGES *
		    BLK_SECTORS_PER_PAGE, .nsectors = MIB_PAGES * BLK_SECTORS_PER_PAGE, .pages = phase[i] };
		blk_submit(d, &req[i]);
	}
	/* A request refused at submit holds its final status already: blk_wait returns it. */
	for (int i = 0; i < n; i++)
		expect_ok(d, what, blk_wait(d, &req[i]));
}

/* The disk's last WRITE_BYTES (or all of it, in whole MiB), rewritten phase by phase; only the writes timed. */
static void bench_write(struct blkdev *d)
{
	uint64_t mib = d->sectors * BLK_SECTOR_SIZE >> 20, ns = 0, t0, tenths;
	uint64_t sector, done = 0;

	if (mib > WRITE_BYTES >> 20)
		mib = WRITE_BYTES >> 20;
	sector = d->sectors - mib * MIB_PAGES * BLK_SECTORS_PER_PAGE;
	for (int i = 0; i < PHASE_MIB; i++)
		for (int k = 0; k < MIB_PAGES; k++)
			if (!(phase[i][k] = pmm_alloc_uninit()))
				panic("blkbench: out of memory for its %d MiB buffer", PHASE_MIB);
	while (done < mib) {
		int n = mib - done < PHASE_MIB ? (int)(mib - done) : PHASE_MIB;
		uint64_t at = sector + done * MIB_PAGES * BLK_SECTORS_PER_PAGE;

		phase_rw(d, BLK_READ, at, n);
		t0 = clock_ns();
		phase_rw(d, BLK_WRITE, at, n);
		ns += clock_ns() - t0;
		done += n;
	}
	t0 = clock_ns();
	expect_ok(d, "flush", blk_rw_sync(d, BLK_FLUSH, 0, 0, 0));
	ns += clock_ns() - t0;
	for (int i = 0; i < PHASE_MIB; i++)
		for (int k = 0; k < MIB_PAGES; k++)
			pmm_free(phase[i][k]);
	tenths = mib * 1048576 * 10000 / (ns ? ns : 1);	/* MB/s of 10^6 bytes, in tenths */
	kprintf("strata: blkbench: write: %lu MiB at sector %lu, %d x 1 MiB in flight, then a flush, "
	    "in %lu ms = %lu.%lu MB/s\n", (unsigned long)mib, (unsigned long)sector, PHASE_MIB,
	    (unsigned long)(ns / 1000000), (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
}

void blk_bench(const char *what)
{
	struct blkdev *d = blkdev_get(0);
	bool all = option_is(what, "all");

	if (!all && !option_is(what, "flush4k") && !option_is(what, "write"))
		panic("blkbench: unknown benchmark (flush4k, write, all)");
	if (d == 0)
		panic("blkbench: no disk");
	if (d->read_only || d->sectors < (uint64_t)MIB_PAGES * BLK_SECTORS_PER_PAGE)
		panic("blkbench: %s is read-only or under 1 MiB", d->name);
	if (all || option_is(what, "flush4k"))
		bench_flush4k(d);
	if (all || option_is(what, "write"))
		bench_write(d);
}
