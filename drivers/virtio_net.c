/*
 * virtio-net: NICs behind the netdev interface.
 *
 * We take VIRTIO_F_VERSION_1 and VIRTIO_NET_F_MAC and nothing else: no
 * checksum or segmentation offload, no mergeable RX buffers, no control
 * queue, one queue pair.  Then every frame, both ways, is preceded by the
 * same 12-byte header, all zero on TX ("no offload"), and one frame is one
 * buffer.  That header sits in the slot page just before the frame (bytes
 * 4..15, see netdev.h), so each frame is one descriptor, DMAed in place.
 *
 * Queue 0 receives, queue 1 transmits.  The caller posts RX pages ahead;
 * both queues are reaped by polling.  An RX buffer has a driver record per
 * descriptor, found by the chain's head, that remembers the page and the
 * caller's cookie; a TX chain's cookie is the caller's own, so that a
 * doorbell's run goes in and comes out a chunk at a time, in one loop.
 *
 * With MSI-X both queues interrupt on one vector, whose handler only
 * counts: it is there to wake a halted wait, which then polls.  The RX queue
 * always interrupts.  The TX queue interrupts only while a caller waiting
 * for a sent frame asks it to (net_tx_wake): its completions are reaped at
 * every doorbell and tick, and an interrupt per sent batch, taken while
 * layer 1 runs, cost a third of the TX rate.
 */
#include "defs.h"
#include "netdev.h"
#include "virtio.h"

#define VNET_F_MAC		5

#define VNET_CFG_MAC		0

#define VNET_RXQ		0
#define VNET_TXQ		1

/* struct virtio_net_hdr with VERSION_1: flags, gso_type, hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers.  We only ever write zeros. */
#define VNET_HDR_LEN		12
#define VNET_RX_BUF_LEN		(PAGE_SIZE - NET_DEV_HDR_OFFSET)

/* Frames held for sending this long with none sent: the device stopped. */
#define VNET_TX_TIMEOUT_NS	(5ULL * 1000 * 1000 * 1000)
#define VNET_TX_NUDGE_NS	(2ULL * 1000 * 1000 * 1000)	/* see check_answering */

_Static_assert(NET_DEV_HDR_OFFSET + VNET_HDR_LEN == NET_FRAME_OFFSET,
    "the virtio-net header ends where the frame starts");

/* One buffer the device holds: which slot page, and the caller's cookie. */
struct vnet_buf {
	uint64_t slot_pa;
	void *cookie;
};

struct vnet {
	struct netdev dev;
	struct virtio_dev vio;
	struct virtq rxq, txq;
	int vector;				/* both queues', -1: polled */
	struct vnet_buf rx[VIRTQ_MAX_SIZE];	/* by head descriptor (TX chains hold the caller's cookie) */
	struct waited tx_wait;			/* how long the frames held have waited */
	bool tx_nudged;				/* ... and the device was notified again */
	uint64_t last_done;			/* the last completion, either queue */
};

static struct vnet vnets[NET_MAX_DEVS];
static int nvnets;

/* Makes one buffer of len bytes at slot_pa + NET_DEV_HDR_OFFSET available
 * on vq, and rings the doorbell if kick.  Chains are one descriptor, so the
 * head is the free list's first entry, and that is where the record goes. */
static int post(struct virtq *vq, struct vnet_buf *recs, uint64_t slot_pa, uint32_t len,
    bool write, void *cookie, bool kick)
{
	struct vq_buf b = { slot_pa + NET_DEV_HDR_OFFSET, len, write };
	uint16_t head;

	if (vq->nfree == 0)
		return -1;
	head = vq->free_head;
	recs[head] = (struct vnet_buf){ slot_pa, cookie };
	if (virtq_submit(vq, &b, 1, &recs[head]) != head)
		panic("virtq %u: one descriptor refused, or not at the free head %u", vq->index, head);
	if (kick)
		virtq_kick(vq);
	return 0;
}

/* The frames held start to wait from now: none was, or the device sent some. */
static void tx_wait_start(struct vnet *v)
{
	waited_start(&v->tx_wait);
	v->tx_nudged = false;
}

/* Frames go to the virtqueue this many at a time, from buffers on the stack. */
#define VNET_TX_CHUNK		32

/*
 * Each frame one device-readable buffer, its header and the frame, and the
 * caller's cookie the chain's own (vnet_poll gives it back as it is).
 */
static int vnet_tx_post(struct netdev *d, const struct net_frame *f, uint32_t n)
{
	struct vnet *v = d->priv;
	struct vq_buf bufs[VNET_TX_CHUNK];
	void *cookies[VNET_TX_CHUNK];
	uint32_t done = 0;

	if (n > 0 && v->txq.nfree == v->txq.size)
		tx_wait_start(v);
	/* Layer 1 left these zero; a stale byte would ask for an offload.
	 * Two stores, not memset's byte loop: this runs for every frame. */
	_Static_assert(NET_DEV_HDR_OFFSET == 4 && VNET_HDR_LEN == 12, "the header is a u32 and a u64");
	while (done < n && v->txq.nfree > 0) {
		uint32_t c = n - done < VNET_TX_CHUNK ? n - done : VNET_TX_CHUNK;

		for (uint32_t k = 0; k < c; k++) {
			uint8_t *page = p2v(f[done + k].slot_pa);

			*(uint32_t *)(page + 4) = 0;
			*(uint64_t *)(page + 8) = 0;
			bufs[k] = (struct vq_buf){ f[done + k].slot_pa + NET_DEV_HDR_OFFSET,
			    VNET_HDR_LEN + f[done + k].len, false };
			cookies[k] = f[done + k].cookie;
		}
		done += (uint32_t)virtq_submit_singles(&v->txq, bufs, cookies, (int)c);
	}
	return (int)done;
}

/* One notification for every frame posted since the last: a batch costs one exit. */
static bool vnet_tx_kick(struct netdev *d)
{
	struct vnet *v = d->priv;

	return virtq_kick(&v->txq);
}

static bool vnet_tx_wake(struct netdev *d, bool on)
{
	struct vnet *v = d->priv;

	return virtq_interrupt_on_use(&v->txq, on);
}

static int vnet_rx_post(struct netdev *d, uint64_t slot_pa, void *cookie)
{
	struct vnet *v = d->priv;

	return post(&v->rxq, v->rx, slot_pa, VNET_RX_BUF_LEN, true, cookie, true);
}

/* One received buffer: written bytes of header and frame.  A frame the ring
 * must not see goes straight back to the device in the same page. */
static void rx_one(struct vnet *v, struct vnet_buf b, uint32_t written,
    void (*rx_done)(void *cookie, uint32_t len))
{
	uint64_t *counter = 0;
	int64_t len = vnet_rx_frame_len(written, VNET_HDR_LEN, VNET_RX_BUF_LEN);

	if (len < 0)
		counter = &v->dev.rx_errors;
	else if (len < NET_FRAME_MIN)
		counter = &v->dev.rx_dropped_runt;
	else if (len > NET_FRAME_MAX)
		counter = &v->dev.rx_dropped_oversize;
	/* The device wrote its header over the slot's flags and reserved
	 * fields, which layer 1 must find zero. */
	memset((uint8_t *)p2v(b.slot_pa) + NET_DEV_HDR_OFFSET, 0, VNET_HDR_LEN);
	if (counter) {
		/* Dropped, but its buffer still comes back in its turn: the
		 * caller's slots stay in the order it posted them. */
		(*counter)++;
		rx_done(b.cookie, 0);
		return;
	}
	v->dev.rx_frames++;
	rx_done(b.cookie, (uint32_t)len);
}

/* A TX completion that claims bytes written: the device is confused about
 * the chain, so the frame counts as failed.  The slot still comes back (the
 * ring must not stall); the first one is reported, all are counted. */
static void tx_error(struct vnet *v, uint32_t written)
{
	if (v->dev.tx_errors++ == 0)
		kprintf("strata: %s: the device says it wrote %u bytes into a TX frame, which it "
		    "only reads; counted as a TX error\n", v->dev.name, written);
}

/* The DEVICE report: the machine stops. */
static NORETURN void give_up(struct vnet *v, uint32_t held, uint64_t waited, const char *why)
{
	char device[32], what[64];

	snprintf_(device, sizeof(device), "%s (%s)", v->dev.name, v->dev.kind);
	snprintf_(what, sizeof(what), "a completion (%u frames held to send, or a received one)", held);
	report_device(device, what, waited, why);
}

/*
 * After a poll that found nothing: a DEVICE report if the device asked for a
 * reset, or holds frames to send and has sent none for VNET_TX_TIMEOUT_NS.
 * Before that, at VNET_TX_NUDGE_NS, it is notified again, once, as blk_wait
 * does a disk (drivers/blkdev.c says why): QEMU 7.2 under TCG was seen to
 * leave a request it was told of, and a Linux guest's TX queue stopped so
 * under load (tests/bench/linux.sh).
 * Every NIC path that waits (on a TX slot, a full TX queue, an RX slot, the
 * wait trap) polls with interrupts off, so this is their bound.  Receiving
 * has none: a quiet network is not a broken device.
 */
static void check_answering(struct vnet *v)
{
	uint64_t now = clock_ns();
	uint32_t held = v->txq.size - v->txq.nfree;

	if (virtio_needs_reset(&v->vio))
		give_up(v, held, now - v->last_done,
		    "the device needs a reset (virtio DEVICE_NEEDS_RESET) and completes nothing more");
	if (held == 0)
		return;
	waited_step(&v->tx_wait);
	if (v->tx_wait.ns > VNET_TX_NUDGE_NS && !v->tx_nudged) {
		v->tx_nudged = true;
		virtq_notify(&v->txq);
		kprintf("strata: %s: %u frames held to send for %lu ms: notified the device again\n",
		    v->dev.name, held, (unsigned long)(v->tx_wait.ns / 1000000));
	}
	if (v->tx_wait.ns > VNET_TX_TIMEOUT_NS)
		give_up(v, held, v->tx_wait.ns, "the device sent nothing in 5 s");
}

/* TX first: a frame sent frees its page for the caller to reuse at once.
 * The device only read it, so its header bytes are still zero.  An RX
 * record is copied out before a callback can post over it. */
static int vnet_poll(struct netdev *d, net_tx_done_fn *tx_done,
    void (*rx_done)(void *cookie, uint32_t len))
{
	struct vnet *v = d->priv;
	struct vnet_buf *r;
	void *cookies[VNET_TX_CHUNK];
	uint32_t written, lens[VNET_TX_CHUNK];
	int n = 0, sent, c;

	while ((c = virtq_reap_many(&v->txq, cookies, lens, VNET_TX_CHUNK)) > 0) {
		for (int k = 0; k < c; k++)
			if (vnet_tx_used_ok(lens[k]))
				d->tx_frames++;
			else
				tx_error(v, lens[k]);
		n += c;
		tx_done(cookies, (uint32_t)c);
	}
	sent = n;
	while ((r = virtq_reap(&v->rxq, &written))) {
		n++;
		rx_one(v, *r, written, rx_done);
	}
	if (n == 0) {
		check_answering(v);
		return 0;
	}
	v->last_done = clock_ns();
	if (sent > 0)
		tx_wait_start(v);	/* the frames still held wait from here */
	return n;
}

/* Self-test (layer-0 selftest=net-deaf): check_answering's nudge must send the frames. */
void virtio_net_deafen(struct netdev *d)
{
	struct vnet *v = d->priv;

	if (strcmp(d->kind, "virtio-net") != 0)
		panic("%s: not a virtio-net NIC", d->name);
	v->txq.deaf = true;
}

static void vnet_intr(void *ctx)
{
	struct vnet *v = ctx;

	v->dev.irq_count++;
}

/* Reads the MAC the device was given, or makes up a locally administered
 * unicast one (02:...) from the clock and the PCI address. */
static void read_mac(struct vnet *v)
{
	struct virtio_dev *vd = &v->vio;
	uint64_t r;

	if ((vd->features & VIRTIO_BIT(VNET_F_MAC)) && vd->devcfg_len >= VNET_CFG_MAC + NET_MAC_LEN) {
		for (int i = 0; i < NET_MAC_LEN; i++)
			v->dev.mac[i] = virtio_cfg_read(vd, VNET_CFG_MAC + i, 1);
		return;
	}
	r = rdtsc() ^ ((uint64_t)vd->pci.bus << 16 | vd->pci.dev << 8 | vd->pci.fn) * 0x9e3779b97f4a7c15ULL;
	v->dev.mac[0] = 0x02;
	for (int i = 1; i < NET_MAC_LEN; i++)
		v->dev.mac[i] = r >> (8 * i);
}

/* Resets the device and sets up both queues, empty: -1 (reported) if not. */
static int bring_up(struct vnet *v, const struct pci_dev *d)
{
	if (virtio_init(&v->vio, d) < 0 || virtio_negotiate(&v->vio, VIRTIO_BIT(VNET_F_MAC)) < 0)
		return -1;
	if (virtio_num_queues(&v->vio) <= VNET_TXQ) {
		virtio_fail(&v->vio, "virtio-net without a transmit queue");
		return -1;
	}
	/* The vector is had once: a reset keeps it. */
	if (v->vector < 0 && virtio_has_msix(&v->vio))
		v->vector = irq_register(vnet_intr, v);
	if (virtio_queue_setup(&v->vio, VNET_RXQ, &v->rxq, v->vector) < 0 ||
	    virtio_queue_setup(&v->vio, VNET_TXQ, &v->txq, v->vector) < 0)
		return -1;
	virtq_interrupt_on_use(&v->txq, false);
	v->dev.rx_irq = v->rxq.interrupts;
	v->dev.rx_vector = (uint8_t)v->vector;
	return 0;
}

/* The old rings' pages are free once the device has reset.  Each reset maps
 * the device's windows anew (virtio_init), so it is for rare use. */
static void vnet_reset(struct netdev *d)
{
	struct vnet *v = d->priv;
	struct pci_dev pci = v->vio.pci;
	uint64_t old[4] = {
		v2p((const void *)v->rxq.desc), v2p((const void *)v->rxq.avail),
		v2p((const void *)v->txq.desc), v2p((const void *)v->txq.avail),
	};

	if (bring_up(v, &pci) < 0)
		panic("%s: the device did not come back after a reset", d->name);
	for (int i = 0; i < 4; i++)
		pmm_free(old[i]);
	virtio_ready(&v->vio);
}

/*
 * Self-test (layer-0 selftest=net-needs-reset): a TX chain whose
 * device-writable buffer comes before its device-readable one, which virtio
 * forbids, so that QEMU marks the device broken and sets DEVICE_NEEDS_RESET.
 * QEMU never completes a chain it refused, and the next poll that finds
 * nothing stops the machine.
 */
void virtio_net_break(struct netdev *d)
{
	struct vnet *v = d->priv;
	uint64_t page = pmm_alloc();
	struct vq_buf bad[2] = {
		{ page, VNET_HDR_LEN, true },
		{ page + VNET_HDR_LEN, NET_FRAME_MIN, false },
	};

	if (strcmp(d->kind, "virtio-net") != 0 || page == 0)
		panic("%s: not a virtio-net NIC, or no page for the malformed chain", d->name);
	if (v->txq.nfree == v->txq.size)
		tx_wait_start(v);
	if (virtq_submit(&v->txq, bad, 2, v) < 0)	/* never completed: any cookie */
		panic("%s: no room for the malformed chain", d->name);
	virtq_kick(&v->txq);
}

static const struct netdev_ops vnet_ops = {
	.tx_post = vnet_tx_post,
	.tx_kick = vnet_tx_kick,
	.tx_wake = vnet_tx_wake,
	.rx_post = vnet_rx_post,
	.poll = vnet_poll,
	.reset = vnet_reset,
};

/*
 * Brings up one device: features, queues, MAC; then registers it.  Past
 * NET_MAX_DEVS NICs a device is left untouched.
 */
void virtio_net_attach(const struct pci_dev *d)
{
	struct vnet *v = &vnets[nvnets];

	if (nvnets == NET_MAX_DEVS)
		return;
	memset(v, 0, sizeof(*v));
	v->vector = -1;
	if (bring_up(v, d) < 0)
		return;
	read_mac(v);
	v->dev.kind = "virtio-net";
	v->dev.mtu = NET_FRAME_MAX - NET_FRAME_MIN;
	v->dev.rx_depth = v->rxq.size;
	v->dev.tx_depth = v->txq.size;
	v->dev.ops = &vnet_ops;
	v->dev.priv = v;
	v->last_done = clock_ns();
	virtio_ready(&v->vio);
	if (netdev_register(&v->dev) < 0) {
		virtio_fail(&v->vio, "too many NICs");
		return;
	}
	nvnets++;
}

