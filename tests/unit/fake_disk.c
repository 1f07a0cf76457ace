/*
 * A fake disk driver behind blkdev_ops, so a unit test runs the real
 * drivers/blkdev.c (its checks, blk_wait, blk_rw_sync, the status names)
 * and the fake cannot drift from the interface.
 *
 * The disk is sparse: an anonymous mapping that holds each word XOR its
 * pattern, so a sector never written reads as pattern(offset) and costs no
 * memory.  Requests complete only when the caller polls, oldest first, one
 * per poll, so a caller that does not wait really has requests in flight.
 * Every request the driver gets is logged (op, sector, nsectors, outcome),
 * and the device can be told to fail the Nth request or any request
 * touching a range of sectors, or to go silent.  With disk_holds_lazy, a
 * lazy request is not completed until the driver's tell op is called, as a
 * device never notified of it would not; with disk_deaf, nothing completes
 * until the renotify op is called, as a device that missed a notification.
 * With disk_oldest_last, the oldest request completes only once it is the
 * only one, as a device completing out of order may.  The disk has a volatile
 * cache, so that blkdev.c hands every flush to the driver and the log shows
 * it.
 *
 * Memory is named by physical address, read through p2v(): the test
 * provides it (pmm.c's direct map, or its own).
 */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, MAP_NORESERVE */
#include <check.h>
#include <string.h>
#include <sys/mman.h>

#include "defs.h"
#include "fake.h"
#include "fake_disk.h"

#define WORDS		(PAGE_SIZE / 8)
#define MAX_PENDING	64

struct blkdev disk;
struct logent reqlog[MAX_LOG];
int nlog;
int npending, max_inflight;
int fail_nth;
bool disk_silent;
bool disk_holds_lazy;
bool disk_oldest_last;
int ncompleted;
int ntells;
bool disk_deaf;
int nrenotifies;
uint64_t disk_stall_ns;

static uint64_t *disk_data;
static struct blkreq *pending[MAX_PENDING];
static struct logent *logged[MAX_PENDING];	/* each pending request's log entry */
static bool untold[MAX_PENDING];	/* held: lazy, and tell not called since */
static uint64_t fail_lo, fail_hi;	/* fail requests touching sectors [lo, hi) */

uint64_t pattern(uint64_t o)
{
	return 0x5354524154410000ULL ^ o;
}

static void transfer(const struct blkreq *req)
{
	uint64_t o = req->sector * BLK_SECTOR_SIZE;
	uint64_t bytes = (uint64_t)req->nsectors * BLK_SECTOR_SIZE;

	for (uint64_t b = 0; b < bytes; b += 8, o += 8) {
		uint64_t pa = req->pages ? req->pages[b / PAGE_SIZE] : req->buf + b / PAGE_SIZE * PAGE_SIZE;
		uint64_t *mem = (uint64_t *)p2v(pa) + b % PAGE_SIZE / 8;

		if (req->op == BLK_READ)
			*mem = disk_data[o / 8] ^ pattern(o);
		else
			disk_data[o / 8] = *mem ^ pattern(o);
	}
}

static bool told_to_fail(const struct blkreq *req)
{
	if (nlog == fail_nth)
		return true;
	return req->op != BLK_FLUSH && req->sector < fail_hi &&
	    req->sector + req->nsectors > fail_lo;
}

/* Logs req and queues it; its outcome waits in the driver's field until it completes. */
static void fake_submit(struct blkdev *dev, struct blkreq *req)
{
	struct logent *l;

	ck_assert_ptr_eq(dev, &disk);
	ck_assert_int_lt(nlog, MAX_LOG);
	l = &reqlog[nlog++];
	*l = (struct logent){ req->op, req->sector, req->nsectors, BLK_OK, req->pages == 0, req->lazy,
	    .done_before = ncompleted };
	if (told_to_fail(req))
		l->status = BLK_IOERR;
	req->err = l->status;
	ck_assert_int_lt(npending, MAX_PENDING);
	untold[npending] = disk_holds_lazy && req->lazy;
	logged[npending] = l;
	pending[npending++] = req;
	if (npending > max_inflight)
		max_inflight = npending;
}

/* Completes the oldest request (with disk_oldest_last, the next oldest while there is one). */
static int fake_poll(struct blkdev *dev)
{
	struct blkreq *req;
	int k = disk_oldest_last && npending > 1 ? 1 : 0;

	ck_assert_ptr_eq(dev, &disk);
	if (npending == 0 || disk_silent || disk_deaf || untold[k])
		return 0;
	if (disk_stall_ns != 0) {
		fake_clock_jump(disk_stall_ns);
		disk_stall_ns = 0;
		return 0;
	}
	req = pending[k];
	logged[k]->done_seq = ++ncompleted;
	npending--;
	memmove(pending + k, pending + k + 1, (size_t)(npending - k) * sizeof(pending[0]));
	memmove(untold + k, untold + k + 1, (size_t)(npending - k) * sizeof(untold[0]));
	memmove(logged + k, logged + k + 1, (size_t)(npending - k) * sizeof(logged[0]));
	if (req->err == BLK_OK && req->op != BLK_FLUSH)
		transfer(req);
	req->status = req->err;
	if (req->done != 0)
		req->done(req);
	return 1;
}

/* A poll finds nothing only when the device holds nothing: a wait would never end. */
static const char *fake_broken(struct blkdev *dev)
{
	ck_assert_ptr_eq(dev, &disk);
	if (npending > 0 && untold[0])
		return "waiting for a lazy request the device was never told of";
	return npending == 0 ? "waiting for a request the device never got" : 0;
}

/* The device is told of every request: the held ones can complete. */
static void fake_tell(struct blkdev *dev)
{
	ck_assert_ptr_eq(dev, &disk);
	ntells++;
	memset(untold, 0, sizeof(untold));
}

/* Notified again: a deaf device hears it, and every request is told. */
static void fake_renotify(struct blkdev *dev)
{
	ck_assert_ptr_eq(dev, &disk);
	nrenotifies++;
	disk_deaf = false;
	memset(untold, 0, sizeof(untold));
}

static const struct blkdev_ops fake_ops = {
	.submit = fake_submit,
	.poll = fake_poll,
	.broken = fake_broken,
	.tell = fake_tell,
	.renotify = fake_renotify,
};

void fake_disk_create(void)
{
	disk_data = mmap(NULL, DISK_BYTES, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_ptr_ne(disk_data, MAP_FAILED);
	disk = (struct blkdev){
		.name = "fake0", .kind = "fake", .sectors = DISK_PAGES * BLK_SECTORS_PER_PAGE,
		.sector_size = BLK_SECTOR_SIZE, .max_sectors = 2048, .volatile_cache = true,
		.ops = &fake_ops,
	};
	nlog = npending = max_inflight = fail_nth = 0;
	disk_silent = false;
	disk_holds_lazy = false;
	disk_oldest_last = false;
	ncompleted = 0;
	ntells = 0;
	disk_deaf = false;
	nrenotifies = 0;
	disk_stall_ns = 0;
	fail_lo = fail_hi = 0;
}

void fake_disk_destroy(void)
{
	munmap(disk_data, DISK_BYTES);
}

void fail_pages(uint64_t page, uint64_t n)
{
	fail_lo = page * BLK_SECTORS_PER_PAGE;
	fail_hi = (page + n) * BLK_SECTORS_PER_PAGE;
}

bool disk_pristine(uint64_t page)
{
	for (uint64_t w = 0; w < WORDS; w++)
		if (disk_data[page * WORDS + w] != 0)
			return false;
	return true;
}

bool disk_filled(uint64_t page, uint8_t byte)
{
	for (uint64_t w = 0; w < WORDS; w++) {
		uint64_t o = page * PAGE_SIZE + w * 8;

		if ((disk_data[o / 8] ^ pattern(o)) != byte * 0x0101010101010101ULL)
			return false;
	}
	return true;
}

int count_ops(enum blk_op op)
{
	int n = 0;

	for (int k = 0; k < nlog; k++)
		n += reqlog[k].op == op;
	return n;
}

void expect_req(int k, enum blk_op op, uint64_t page, uint64_t pages)
{
	ck_assert_msg(k < nlog, "request %d expected, %d logged", k, nlog);
	ck_assert_msg(reqlog[k].op == op, "request %d: op %d, expected %d", k, reqlog[k].op, op);
	if (op == BLK_FLUSH)
		return;
	ck_assert_msg(reqlog[k].sector == page * BLK_SECTORS_PER_PAGE &&
	    reqlog[k].nsectors == pages * BLK_SECTORS_PER_PAGE,
	    "request %d: sectors %lu+%u, expected page %lu+%lu", k,
	    (unsigned long)reqlog[k].sector, reqlog[k].nsectors,
	    (unsigned long)page, (unsigned long)pages);
}
