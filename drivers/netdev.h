/*
 * Network interfaces, as layer 0's ring code sees them: numbered NICs that
 * send and receive Ethernet frames held in slot pages (abi/strata/ring.h),
 * in place, by physical address.  Nothing is copied and nothing here knows
 * about virtio.
 *
 * A slot page, while a driver holds it:
 *
 *   0      4                16                       16 + len
 *   +------+----------------+------------------------+
 *   | len  | device header  | frame (dst MAC first)  |
 *   +------+----------------+------------------------+
 *
 * Bytes [NET_DEV_HDR_OFFSET, NET_FRAME_OFFSET) are the slot header's flags
 * and reserved fields, which layer 1 leaves zero; a driver may put its
 * device's per-frame header there (virtio-net's is 12 bytes) so that header
 * and frame go to the device as one buffer.  They are zero again when a
 * frame comes back through tx_done or rx_done.
 *
 * Completions are polled (net_poll); nothing here waits.  A NIC may also
 * interrupt when it receives a frame, so that a waiter can halt.
 */
#ifndef NETDEV_H
#define NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#define NET_MAX_DEVS		2
#define NET_DEV_HDR_OFFSET	4	/* where a device header may start in a slot page */
#define NET_FRAME_OFFSET	16	/* STRATA_SLOT_HEADER_SIZE: the frame's first byte */
#define NET_FRAME_MIN		14	/* an Ethernet header, nothing after it */
#define NET_FRAME_MAX		1514	/* the header and a 1500-byte payload */
#define NET_MAC_LEN		6
#define NET_MAC_STRLEN		18	/* "52:54:00:12:34:56" and its NUL */

struct netdev;

/* One frame to send: its slot page, its length, what tx_done gives back. */
struct net_frame {
	uint64_t slot_pa;
	uint32_t len;
	void *cookie;
};

/* Frames sent, in the order the device finished them. */
typedef void net_tx_done_fn(void *const *cookies, uint32_t n);

struct netdev_ops {
	int (*tx_post)(struct netdev *d, const struct net_frame *f, uint32_t n);	/* how many fit */
	bool (*tx_kick)(struct netdev *d);
	bool (*tx_wake)(struct netdev *d, bool on);
	int (*rx_post)(struct netdev *d, uint64_t slot_pa, void *cookie);
	int (*poll)(struct netdev *d, net_tx_done_fn *tx_done,
	    void (*rx_done)(void *cookie, uint32_t len));
	void (*reset)(struct netdev *d);
};

struct netdev {
	char name[8];			/* "net0", set by netdev_register */
	const char *kind;		/* "virtio-net" */
	uint8_t mac[NET_MAC_LEN];
	uint32_t mtu;			/* IP bytes in a frame: 1500 */
	uint32_t tx_depth;		/* frames the device can hold for sending at once */
	uint32_t rx_depth;		/* RX buffers the device can hold at once */
	bool rx_irq;			/* a frame received interrupts, on rx_vector (a frame sent may too) */
	uint8_t rx_vector;
	const struct netdev_ops *ops;
	void *priv;			/* the driver's */

	/* Counters since boot, kept by the driver. */
	uint64_t rx_frames;		/* passed up through rx_done */
	uint64_t tx_frames;		/* sent and given back through tx_done */
	uint64_t rx_dropped_runt;	/* shorter than NET_FRAME_MIN: reposted */
	uint64_t rx_dropped_oversize;	/* longer than NET_FRAME_MAX: reposted */
	uint64_t rx_errors;		/* the device returned a buffer it could not have filled */
	uint64_t tx_errors;		/* the device reported a send failed */
	uint64_t irq_count;		/* interrupts taken */
};

/* drivers/netdev.c */
int netdev_register(struct netdev *d);		/* its index, or -1 if the table is full */
struct netdev *netdev_get(int i);		/* 0 if none */
int netdev_count(void);
void net_format_mac(char out[NET_MAC_STRLEN], const uint8_t mac[NET_MAC_LEN]);

/*
 * Sends the len-byte frame at slot_pa + NET_FRAME_OFFSET (slot_pa is a page,
 * NET_FRAME_MIN <= len <= NET_FRAME_MAX, or the caller has a bug and layer 0
 * panics).  Returns 0, after which the driver owns the page until tx_done
 * gives back cookie; or -1 if the TX queue is full: kick, poll, try again.
 * The device is not told yet: net_tx_kick does that once for every frame
 * posted since, so a batch of frames costs one notification.
 */
int net_tx_post(struct netdev *d, uint64_t slot_pa, uint32_t len, void *cookie);
/*
 * net_tx_post for f[0..n) in order, in one loop (a doorbell's run): how many
 * were posted, the first ones; fewer than n when the TX queue filled.
 */
uint32_t net_tx_post_run(struct netdev *d, const struct net_frame *f, uint32_t n);
bool net_tx_kick(struct netdev *d);	/* false: the device asked not to be told */
/*
 * Whether a frame sent interrupts (on rx_vector), for a caller that halts
 * until one is: on, then a poll, then the halt, so that a frame sent before
 * the halt is either polled or interrupts.  false: the NIC cannot.
 */
bool net_tx_wake(struct netdev *d, bool on);

/*
 * Gives the device the whole page at slot_pa to receive one frame into, at
 * slot_pa + NET_FRAME_OFFSET.  0, or -1 if the RX queue is full.  The page
 * comes back through rx_done with cookie, in its turn: a frame too short or
 * too long (or a buffer the device mangled) is counted and comes back with
 * len 0, so that buffers always return in the order they were posted.
 */
int net_rx_post(struct netdev *d, uint64_t slot_pa, void *cookie);

/*
 * Reaps what the device has finished: tx_done(cookies, n) for the frames
 * sent, a run at a time, rx_done(cookie, len) for each frame received, in
 * the order the device finished them.  Either callback may post again.
 * Returns how many buffers the device gave back, dropped frames included: 0
 * means no progress.
 */
int net_poll(struct netdev *d, net_tx_done_fn *tx_done, void (*rx_done)(void *cookie, uint32_t len));

/*
 * Resets the device and forgets every buffer posted to it, with no callback:
 * the caller owns those pages again.  For a caller (the self-test) that must
 * hand over a NIC with nothing posted.  Counters are kept.
 */
void net_reset(struct netdev *d);

/* drivers/virtio_net.c */
void virtio_net_break(struct netdev *d);	/* self-test: a malformed chain, so it needs a reset */
void virtio_net_deafen(struct netdev *d);	/* self-test: its TX notifications are lost until the nudge */

/* drivers/net_selftest.c */
void net_selftest(uint32_t frames);	/* cmdline "nettest[=FRAMES]": raw TX rate (0: the default count), ARP round trip; panics on failure */

#endif
