/*
 * The used ring says how many bytes the device wrote into each chain it
 * completed.  A driver that ignores it maps whatever the buffer held before
 * (a recycled frame's old contents) as if the device had filled it.  These
 * are the checks every completion passes, one per kind of chain, apart from
 * the drivers so that the host tests run them (tests/unit/test_virtio_used.c).
 */
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
