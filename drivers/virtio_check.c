/*
 * What the virtio drivers check of what a device tells them, apart from the
 * drivers so that the host tests run them (tests/unit/test_virtio_check.c).
 *
 * The used ring says how many bytes the device wrote into each chain it
 * completed.  A driver that ignores it maps whatever the buffer held before
 * (a recycled frame's old contents) as if the device had filled it, so every
 * completion passes the check for its kind of chain.  A queue's size bounds
 * the chains a driver can build, and how busy the device is decides when
 * a lazy request must be told.
 */
#include "blkdev.h"
#include "virtio.h"

/*
 * virtio-blk: a request completes whole when the device wrote every byte it
 * was given to write: for a read the data and then the status byte, for a
 * write or a flush the status byte alone.  QEMU reports exactly that.
 */
bool vblk_used_whole(bool read, uint32_t data_bytes, uint32_t used_len)
{
	return used_len == (read ? (uint64_t)data_bytes : 0) + 1;
}

/*
 * virtio-net RX: the frame's length after the hdr_len-byte virtio-net header
 * in a buf_len-byte buffer, or -1 when the device cannot have written
 * used_len bytes: less than the header, or more than the buffer.
 */
int64_t vnet_rx_frame_len(uint32_t used_len, uint32_t hdr_len, uint32_t buf_len)
{
	if (used_len < hdr_len || used_len > buf_len)
		return -1;
	return used_len - hdr_len;
}

/* virtio-net TX: the device only reads a TX chain, so it wrote nothing (QEMU says 0). */
bool vnet_tx_used_ok(uint32_t used_len)
{
	return used_len == 0;
}

/*
 * virtio-blk: the data segments one chain can carry in a queue of
 * queue_size descriptors, the header and the status taking one each, and at
 * most seg_max (0: the device sets no limit).  0 when not even one fits: the
 * device cannot take a request at all.
 */
uint32_t vblk_chain_segs(uint16_t queue_size, uint32_t seg_max)
{
	uint32_t segs;

	if (queue_size < 3)
		return 0;
	segs = queue_size - 2u;
	return seg_max != 0 && seg_max < segs ? seg_max : segs;
}

/*
 * virtio-blk: whether the untold chains published since the last
 * notification may wait for a later one (blkdev.h, lazy): only when the
 * device interrupts, so that its completions lead to a poll that tells it,
 * while it has BLK_LAZY_DEPTH chains it was told of, and fewer than
 * BLK_LAZY_BATCH wait.  published counts every chain in the ring not
 * completed, the untold ones with them.
 */
bool vblk_may_put_off(bool interrupts, uint32_t published, uint32_t untold)
{
	return interrupts && published - untold >= BLK_LAZY_DEPTH && untold < BLK_LAZY_BATCH;
}
