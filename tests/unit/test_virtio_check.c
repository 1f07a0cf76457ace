/* What the virtio drivers check: each kind of completion's used length, a queue's room for a request, when a lazy one is told. */
#include <check.h>

#include "fake.h"

#include "blkdev.h"
#include "virtio.h"

#define SECTOR		512
#define HDR		12	/* virtio-net's header, as virtio_net.c negotiates it */
#define RX_BUF		4092	/* a slot page after its length word */

START_TEST(blk_read_whole_is_data_and_status)
{
	ck_assert(vblk_used_whole(true, 8 * SECTOR, 8 * SECTOR + 1));
	ck_assert(vblk_used_whole(true, 2048 * SECTOR, 2048 * SECTOR + 1));
}
END_TEST

START_TEST(blk_read_short_by_a_sector_is_not_whole)
{
	ck_assert(!vblk_used_whole(true, 8 * SECTOR, 7 * SECTOR + 1));
}
END_TEST

START_TEST(blk_read_without_status_byte_is_not_whole)
{
	ck_assert(!vblk_used_whole(true, 8 * SECTOR, 8 * SECTOR));
}
END_TEST

START_TEST(blk_read_of_nothing_written_is_not_whole)
{
	ck_assert(!vblk_used_whole(true, 8 * SECTOR, 0));
}
END_TEST

START_TEST(blk_more_than_the_chain_holds_is_not_whole)
{
	ck_assert(!vblk_used_whole(true, 8 * SECTOR, 8 * SECTOR + 2));
	ck_assert(!vblk_used_whole(false, 8 * SECTOR, 2));
}
END_TEST

START_TEST(blk_write_and_flush_write_the_status_byte_only)
{
	ck_assert(vblk_used_whole(false, 8 * SECTOR, 1));
	ck_assert(vblk_used_whole(false, 0, 1));
	ck_assert(!vblk_used_whole(false, 8 * SECTOR, 0));
	ck_assert(!vblk_used_whole(false, 8 * SECTOR, 8 * SECTOR + 1));
}
END_TEST

START_TEST(blk_largest_read_does_not_wrap)
{
	ck_assert(!vblk_used_whole(true, UINT32_MAX, 0));
	ck_assert(vblk_used_whole(true, UINT32_MAX - 1, UINT32_MAX));
}
END_TEST

START_TEST(net_rx_frame_follows_the_header)
{
	ck_assert_int_eq(vnet_rx_frame_len(HDR + 60, HDR, RX_BUF), 60);
	ck_assert_int_eq(vnet_rx_frame_len(HDR, HDR, RX_BUF), 0);
	ck_assert_int_eq(vnet_rx_frame_len(RX_BUF, HDR, RX_BUF), RX_BUF - HDR);
}
END_TEST

START_TEST(net_rx_shorter_than_the_header_is_impossible)
{
	ck_assert_int_eq(vnet_rx_frame_len(0, HDR, RX_BUF), -1);
	ck_assert_int_eq(vnet_rx_frame_len(HDR - 1, HDR, RX_BUF), -1);
}
END_TEST

START_TEST(net_rx_longer_than_the_buffer_is_impossible)
{
	ck_assert_int_eq(vnet_rx_frame_len(RX_BUF + 1, HDR, RX_BUF), -1);
	ck_assert_int_eq(vnet_rx_frame_len(UINT32_MAX, HDR, RX_BUF), -1);
}
END_TEST

START_TEST(net_tx_completion_wrote_nothing)
{
	ck_assert(vnet_tx_used_ok(0));
	ck_assert(!vnet_tx_used_ok(1));
	ck_assert(!vnet_tx_used_ok(HDR + 60));
}
END_TEST

START_TEST(blk_chain_is_header_data_and_status)
{
	ck_assert_uint_eq(vblk_chain_segs(256, 0), 254);
	ck_assert_uint_eq(vblk_chain_segs(4, 0), 2);
	ck_assert_uint_eq(vblk_chain_segs(3, 0), 1);
}
END_TEST

START_TEST(blk_seg_max_bounds_the_chain)
{
	ck_assert_uint_eq(vblk_chain_segs(256, 126), 126);
	ck_assert_uint_eq(vblk_chain_segs(4, 126), 2);
}
END_TEST

START_TEST(blk_queue_below_three_holds_no_request)
{
	ck_assert_uint_eq(vblk_chain_segs(2, 0), 0);
	ck_assert_uint_eq(vblk_chain_segs(1, 0), 0);
	ck_assert_uint_eq(vblk_chain_segs(0, 0), 0);
	ck_assert_uint_eq(vblk_chain_segs(2, 126), 0);
}
END_TEST

START_TEST(blk_lazy_chains_wait_only_behind_enough_told_ones)
{
	ck_assert(vblk_may_put_off(true, BLK_LAZY_DEPTH, 0));
	ck_assert(vblk_may_put_off(true, BLK_LAZY_DEPTH + BLK_LAZY_BATCH - 1, BLK_LAZY_BATCH - 1));
	/* fewer told than the depth: the device could run dry */
	ck_assert(!vblk_may_put_off(true, BLK_LAZY_DEPTH, 1));
	ck_assert(!vblk_may_put_off(true, BLK_LAZY_DEPTH - 1, 0));
	/* a batch's worth waits: told at once */
	ck_assert(!vblk_may_put_off(true, BLK_LAZY_DEPTH + BLK_LAZY_BATCH, BLK_LAZY_BATCH));
	/* without interrupts no completion leads to a poll that would tell them */
	ck_assert(!vblk_may_put_off(false, BLK_LAZY_DEPTH + 1, 1));
}
END_TEST

static Suite *check_suite(void)
{
	Suite *s = suite_create("virtio_check");
	TCase *tc = tcase_create("lengths");
	TCase *tq = tcase_create("queues");

	tcase_add_test(tc, blk_read_whole_is_data_and_status);
	tcase_add_test(tc, blk_read_short_by_a_sector_is_not_whole);
	tcase_add_test(tc, blk_read_without_status_byte_is_not_whole);
	tcase_add_test(tc, blk_read_of_nothing_written_is_not_whole);
	tcase_add_test(tc, blk_more_than_the_chain_holds_is_not_whole);
	tcase_add_test(tc, blk_write_and_flush_write_the_status_byte_only);
	tcase_add_test(tc, blk_largest_read_does_not_wrap);
	tcase_add_test(tc, net_rx_frame_follows_the_header);
	tcase_add_test(tc, net_rx_shorter_than_the_header_is_impossible);
	tcase_add_test(tc, net_rx_longer_than_the_buffer_is_impossible);
	tcase_add_test(tc, net_tx_completion_wrote_nothing);
	tcase_add_test(tq, blk_chain_is_header_data_and_status);
	tcase_add_test(tq, blk_seg_max_bounds_the_chain);
	tcase_add_test(tq, blk_lazy_chains_wait_only_behind_enough_told_ones);
	tcase_add_test(tq, blk_queue_below_three_holds_no_request);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tq);
	return s;
}

int main(void)
{
	return run_suite(check_suite(), false);
}
