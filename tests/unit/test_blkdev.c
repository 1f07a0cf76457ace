/*
 * drivers/blkdev.c, what every caller of a disk shares, over the fake driver
 * of fake_disk.c: which requests never reach a driver, how a wait ends, and
 * what a device that stops answering becomes.  Physical pages are host pages
 * here (p2v is the identity).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "fake_disk.h"
#include "defs.h"
#include "blkdev.h"

void *p2v(uint64_t pa) { return (void *)(uintptr_t)pa; }

/* A page of host memory filled with byte, as a physical address. */
static uint64_t page_of(uint8_t byte)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	ck_assert_ptr_nonnull(p);
	memset(p, byte, PAGE_SIZE);
	return (uint64_t)(uintptr_t)p;
}

static void setup(void)
{
	fake_disk_create();
}

static void teardown(void)
{
	fake_disk_destroy();
}

/* blk_wait on req must stop the machine with a DEVICE report containing what. */
static void expect_device_report(struct blkreq *req, const char *what)
{
	jmp_buf jb;

	fake_panic_jmp = &jb;
	if (setjmp(jb) == 0) {
		blk_wait(&disk, req);
		ck_abort_msg("blk_wait returned %s", blk_status_name(req->status));
	}
	ck_assert_msg(strstr(fake_panic_msg, "DEVICE fake0 (fake)") != 0, "%s", fake_panic_msg);
	ck_assert_msg(strstr(fake_panic_msg, what) != 0, "%s", fake_panic_msg);
}

START_TEST(a_request_outside_the_disk_never_reaches_the_driver)
{
	uint64_t pa = page_of(0);

	ck_assert_int_eq(blk_rw_sync(&disk, BLK_READ, disk.sectors, 1, &pa), BLK_BADREQ);
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_READ, disk.sectors - 1, 2, &pa), BLK_BADREQ);
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_WRITE, 0, 0, &pa), BLK_BADREQ);
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_READ, 0, 1, 0), BLK_BADREQ);
	ck_assert_int_eq(nlog, 0);
	free(p2v(pa));
}
END_TEST

START_TEST(a_write_to_a_read_only_disk_is_unsupported)
{
	uint64_t pa = page_of(0);

	disk.read_only = true;
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_WRITE, 0, BLK_SECTORS_PER_PAGE, &pa), BLK_UNSUPP);
	ck_assert_int_eq(nlog, 0);
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_READ, 0, BLK_SECTORS_PER_PAGE, &pa), BLK_OK);
	ck_assert_int_eq(nlog, 1);
	free(p2v(pa));
}
END_TEST

START_TEST(a_flush_reaches_the_driver_only_with_a_volatile_cache)
{
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_FLUSH, 0, 0, 0), BLK_OK);
	expect_req(0, BLK_FLUSH, 0, 0);
	disk.volatile_cache = false;
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_FLUSH, 0, 0, 0), BLK_OK);
	ck_assert_int_eq(nlog, 1);
}
END_TEST

START_TEST(what_is_written_reads_back)
{
	uint64_t out[2] = { page_of(0x3c), page_of(0x5a) }, in[2] = { page_of(0), page_of(0) };

	ck_assert_int_eq(blk_rw_sync(&disk, BLK_WRITE, 80, 2 * BLK_SECTORS_PER_PAGE, out), BLK_OK);
	ck_assert(disk_filled(10, 0x3c) && disk_filled(11, 0x5a) && disk_pristine(12));
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_READ, 80, 2 * BLK_SECTORS_PER_PAGE, in), BLK_OK);
	ck_assert_mem_eq(p2v(in[0]), p2v(out[0]), PAGE_SIZE);
	ck_assert_mem_eq(p2v(in[1]), p2v(out[1]), PAGE_SIZE);
	expect_req(0, BLK_WRITE, 10, 2);
	expect_req(1, BLK_READ, 10, 2);
	for (int i = 0; i < 2; i++) {
		free(p2v(out[i]));
		free(p2v(in[i]));
	}
}
END_TEST

START_TEST(a_failed_read_is_an_io_error_and_leaves_memory_alone)
{
	uint64_t pa = page_of(0xee);
	const uint8_t *mem = p2v(pa);

	fail_pages(7, 1);
	ck_assert_int_eq(blk_rw_sync(&disk, BLK_READ, 7 * BLK_SECTORS_PER_PAGE, BLK_SECTORS_PER_PAGE, &pa),
	    BLK_IOERR);
	ck_assert(mem[0] == 0xee && mem[PAGE_SIZE - 1] == 0xee);
	ck_assert_str_eq(blk_status_name(BLK_IOERR), "I/O error");
	free(p2v(pa));
}
END_TEST

static int done_order[4], ndone;

static void note_done(struct blkreq *req)
{
	done_order[ndone++] = (int)(uintptr_t)req->ctx;
}

START_TEST(a_wait_completes_the_requests_ahead_of_its_own)
{
	uint64_t pa = page_of(0);
	struct blkreq req[3];

	for (int i = 0; i < 3; i++) {
		req[i] = (struct blkreq){ .op = BLK_READ, .sector = (uint64_t)i * BLK_SECTORS_PER_PAGE,
		    .nsectors = BLK_SECTORS_PER_PAGE, .pages = &pa, .done = note_done,
		    .ctx = (void *)(uintptr_t)i };
		ck_assert_int_eq(blk_submit(&disk, &req[i]), BLK_PENDING);
	}
	ck_assert_int_eq(npending, 3);
	ck_assert_int_eq(blk_wait(&disk, &req[1]), BLK_OK);
	ck_assert_int_eq(ndone, 2);
	ck_assert(done_order[0] == 0 && done_order[1] == 1);
	ck_assert_int_eq(req[2].status, BLK_PENDING);
	ck_assert_int_eq(blk_poll(&disk), 1);
	ck_assert_int_eq(req[2].status, BLK_OK);
	ck_assert_int_eq(blk_poll(&disk), 0);
	free(p2v(pa));
}
END_TEST

/*
 * A lazy request the driver put off is not forgotten by a wait: blk_wait
 * tells the device first (without it this wait would never end, and the
 * fake says so in a DEVICE report).
 */
START_TEST(a_wait_tells_the_device_of_a_lazy_request_first)
{
	uint64_t pa = page_of(0);
	struct blkreq req = { .op = BLK_READ, .sector = 0, .nsectors = BLK_SECTORS_PER_PAGE,
	    .pages = &pa, .lazy = true };

	disk_holds_lazy = true;
	ck_assert_int_eq(blk_submit(&disk, &req), BLK_PENDING);
	ck_assert_int_eq(blk_poll(&disk), 0);	/* held: the device was not told */
	ck_assert_int_eq(blk_wait(&disk, &req), BLK_OK);
	ck_assert_int_eq(ntells, 1);
	free(p2v(pa));
}
END_TEST

START_TEST(a_wait_for_a_request_the_device_never_got_is_a_device_report)
{
	struct blkreq req = { .op = BLK_FLUSH, .status = BLK_PENDING };

	expect_device_report(&req, "a flush");
	ck_assert_ptr_nonnull(strstr(fake_panic_msg, "never got"));
}
END_TEST

START_TEST(a_device_silent_for_30_s_is_a_device_report)
{
	uint64_t pa = page_of(0);
	struct blkreq req = { .op = BLK_READ, .sector = 24, .nsectors = 8, .pages = &pa };

	disk_silent = true;
	ck_assert_int_eq(blk_submit(&disk, &req), BLK_PENDING);
	expect_device_report(&req, "a read of 8 sectors at sector 24");
	ck_assert_ptr_nonnull(strstr(fake_panic_msg, "completed nothing in 30 s"));
	ck_assert_int_eq(npending, 1);
	free(p2v(pa));
}
END_TEST

/* A device that missed its notification hears the nudge, 2 s into the wait, and answers. */
START_TEST(a_wait_notifies_a_deaf_device_again_after_2_s)
{
	uint64_t pa = page_of(0), t0;
	struct blkreq req = { .op = BLK_READ, .sector = 24, .nsectors = 8, .pages = &pa };

	disk_deaf = true;
	ck_assert_int_eq(blk_submit(&disk, &req), BLK_PENDING);
	t0 = clock_ns();
	ck_assert_int_eq(blk_wait(&disk, &req), BLK_OK);
	ck_assert_int_eq(nrenotifies, 1);
	ck_assert_uint_eq(disk.nudges, 1);
	ck_assert_uint_ge(clock_ns() - t0, 2000000000ULL);
	ck_assert_uint_lt(clock_ns() - t0, 3000000000ULL);
	free(p2v(pa));
}
END_TEST

START_TEST(a_wait_that_ends_at_once_notifies_nothing_again)
{
	uint64_t pa = page_of(0);
	struct blkreq req = { .op = BLK_READ, .sector = 24, .nsectors = 8, .pages = &pa };

	ck_assert_int_eq(blk_submit(&disk, &req), BLK_PENDING);
	ck_assert_int_eq(blk_wait(&disk, &req), BLK_OK);
	ck_assert_int_eq(nrenotifies, 0);
	free(p2v(pa));
}
END_TEST

/* A host that stops the whole machine for an hour (a paused VM) jumps the
 * clock, but the device had no chance to answer in that hour either. */
START_TEST(a_host_pause_in_a_wait_is_not_the_device_s_silence)
{
	uint64_t pa = page_of(0);
	struct blkreq req = { .op = BLK_READ, .sector = 24, .nsectors = 8, .pages = &pa };
	jmp_buf jb;

	ck_assert_int_eq(blk_submit(&disk, &req), BLK_PENDING);
	disk_stall_ns = 3600ULL * 1000000000;
	fake_panic_jmp = &jb;
	if (setjmp(jb) != 0)
		ck_abort_msg("a paused host made a DEVICE report: %s", fake_panic_msg);
	ck_assert_int_eq(blk_wait(&disk, &req), BLK_OK);
	fake_panic_jmp = 0;
	free(p2v(pa));
}
END_TEST

START_TEST(disks_are_numbered_in_the_order_they_register)
{
	static struct blkdev d[BLK_MAX_DEVS + 1];

	for (int i = 0; i < BLK_MAX_DEVS; i++)
		ck_assert_int_eq(blkdev_register(&d[i]), i);
	ck_assert_int_eq(blkdev_register(&d[BLK_MAX_DEVS]), -1);
	ck_assert_int_eq(blkdev_count(), BLK_MAX_DEVS);
	ck_assert_str_eq(d[0].name, "disk0");
	ck_assert_str_eq(d[BLK_MAX_DEVS - 1].name, "disk3");
	ck_assert_ptr_eq(blkdev_get(2), &d[2]);
	ck_assert_ptr_null(blkdev_get(BLK_MAX_DEVS));
	ck_assert_ptr_null(blkdev_get(-1));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("blkdev");
	TCase *tc = tcase_create("blkdev");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_request_outside_the_disk_never_reaches_the_driver);
	tcase_add_test(tc, a_write_to_a_read_only_disk_is_unsupported);
	tcase_add_test(tc, a_flush_reaches_the_driver_only_with_a_volatile_cache);
	tcase_add_test(tc, what_is_written_reads_back);
	tcase_add_test(tc, a_failed_read_is_an_io_error_and_leaves_memory_alone);
	tcase_add_test(tc, a_wait_completes_the_requests_ahead_of_its_own);
	tcase_add_test(tc, a_wait_tells_the_device_of_a_lazy_request_first);
	tcase_add_test(tc, a_wait_for_a_request_the_device_never_got_is_a_device_report);
	tcase_add_test(tc, a_device_silent_for_30_s_is_a_device_report);
	tcase_add_test(tc, a_wait_notifies_a_deaf_device_again_after_2_s);
	tcase_add_test(tc, a_wait_that_ends_at_once_notifies_nothing_again);
	tcase_add_test(tc, a_host_pause_in_a_wait_is_not_the_device_s_silence);
	tcase_add_test(tc, disks_are_numbered_in_the_order_they_register);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(suite(), true);
}
