/*
 * virtio-blk: disks behind the blkdev interface.
 *
 * Each device request is one descriptor chain: a 16-byte header the device
 * reads (type, sector), the data (one descriptor per run of physically
 * contiguous pages, device-writable for a read), and one status byte the
 * device writes.  Headers and status bytes live in a page of slots, one slot
 * per device request in flight.
 *
 * A blkreq waits in a FIFO until descriptors and a slot are free, and is
 * issued in parts of at most max_segs data segments each (seg_max, and the
 * queue size, bound a chain); it completes when its last part does, with
 * the first error any part had.
 *
 * With MSI-X the queue interrupts on completions; the handler only counts,
 * and completions are reaped by vblk_poll as without.
 */
#include "defs.h"
#include "blkdev.h"
#include "virtio.h"

/* Feature bits */
#define VBLK_F_SIZE_MAX		1
#define VBLK_F_SEG_MAX		2
#define VBLK_F_RO		5
#define VBLK_F_FLUSH		9

/* Device configuration offsets */
#define VBLK_CFG_CAPACITY	0
#define VBLK_CFG_SIZE_MAX	8
#define VBLK_CFG_SEG_MAX	12

/* Request types and status values */
#define VBLK_T_IN		0
#define VBLK_T_OUT		1
#define VBLK_T_FLUSH		4
#define VBLK_S_OK		0
#define VBLK_S_IOERR		1
#define VBLK_S_UNSUPP		2
#define VBLK_S_NONE		0xff	/* ours: the device has not written one */

#define VBLK_SLOTS		64
/* Without SIZE_MAX a segment could be any length; this keeps it far below
 * the 32-bit descriptor length. */
#define VBLK_SEG_BYTES_DEFAULT	(4u << 20)

/* The device-visible part of a slot: the request header, then the status. */
struct vblk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
	uint8_t status;
	uint8_t pad[15];
};
_Static_assert(sizeof(struct vblk_hdr) == 32, "slot layout");
_Static_assert(VBLK_SLOTS * sizeof(struct vblk_hdr) <= PAGE_SIZE, "slots fit a page");
_Static_assert(VBLK_SLOTS <= 64, "free slots are a 64-bit mask");

/* Our side of a slot: which part of which request it carries. */
struct vblk_part {
	struct blkreq *req;
	uint64_t sector;
	uint32_t nsectors;
};

struct vblk {
	struct blkdev dev;
	struct virtio_dev vio;
	struct virtq vq;
	volatile struct vblk_hdr *hdr;	/* VBLK_SLOTS of them, in one page */
	uint64_t hdr_pa;
	struct vblk_part part[VBLK_SLOTS];
	uint64_t free_slots;		/* bit i: slot i is free */
	uint32_t max_segs;		/* data segments in one chain */
	uint32_t seg_bytes;		/* bytes in one data segment */
	struct blkreq *head, *tail;	/* requests with parts left to issue */
	uint32_t published;		/* chains in the ring, not completed */
	uint32_t untold;		/* of which published since the last notification */
	bool untold_urgent;		/* one of those is of a request that is not lazy */
	struct vq_buf bufs[VIRTQ_MAX_SIZE]; /* scratch for one chain: off the small layer-0 stack */
};

static struct vblk vblks[BLK_MAX_DEVS];
static int nvblks;

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* data_segs for a request with one contiguous buffer: segments of seg_bytes. */
static uint32_t buf_segs(struct vblk *b, const struct blkreq *req, struct vq_buf *bufs,
    uint32_t limit, int *nsegs)
{
	uint64_t left = (uint64_t)(req->nsectors - req->issued) * BLK_SECTOR_SIZE;
	uint64_t pa = req->buf + (uint64_t)req->issued * BLK_SECTOR_SIZE, bytes = 0;
	int n = 0;

	while (left > 0 && (uint32_t)n < limit) {
		uint32_t len = left < b->seg_bytes ? (uint32_t)left : b->seg_bytes;

		bufs[n++] = (struct vq_buf){ pa + bytes, len, req->op == BLK_READ };
		left -= len;
		bytes += len;
	}
	*nsegs = n;
	return bytes / BLK_SECTOR_SIZE;
}

/* Fills bufs with the data segments of req's next part, merging physically
 * contiguous pages, at most limit segments.  Returns the sectors covered.
 * Parts start on page boundaries: only the request's last page is partial. */
static uint32_t data_segs(struct vblk *b, const struct blkreq *req, struct vq_buf *bufs,
    uint32_t limit, int *nsegs)
{
	uint64_t left = (uint64_t)(req->nsectors - req->issued) * BLK_SECTOR_SIZE;
	uint32_t p = req->issued / BLK_SECTORS_PER_PAGE;
	uint64_t bytes = 0;
	int n = 0;

	if (req->pages == 0)
		return buf_segs(b, req, bufs, limit, nsegs);
	while (left > 0) {
		uint32_t len = left < PAGE_SIZE ? (uint32_t)left : PAGE_SIZE;
		if (n > 0 && bufs[n - 1].pa + bufs[n - 1].len == req->pages[p] &&
		    bufs[n - 1].len + len <= b->seg_bytes) {
			bufs[n - 1].len += len;
		} else {
			if ((uint32_t)n == limit)
				break;
			bufs[n++] = (struct vq_buf){ req->pages[p], len, req->op == BLK_READ };
		}
		left -= len;
		bytes += len;
		p++;
	}
	*nsegs = n;
	return bytes / BLK_SECTOR_SIZE;
}

/* Issues the next part of the request at the head of the FIFO, if a slot
 * and enough descriptors are free; false if not. */
static bool issue_part(struct vblk *b)
{
	struct blkreq *req = b->head;
	volatile struct vblk_hdr *h;
	uint32_t nsect = 0;
	int slot, nsegs = 0;

	if (!b->free_slots || b->vq.nfree < 3)
		return false;
	slot = __builtin_ctzll(b->free_slots);
	h = &b->hdr[slot];
	h->reserved = 0;
	h->status = VBLK_S_NONE;
	if (req->op == BLK_FLUSH) {
		h->type = VBLK_T_FLUSH;
		h->sector = 0;
	} else {
		h->type = req->op == BLK_READ ? VBLK_T_IN : VBLK_T_OUT;
		h->sector = req->sector + req->issued;
		nsect = data_segs(b, req, &b->bufs[1], min32(b->max_segs, b->vq.nfree - 2), &nsegs);
	}
	b->bufs[0] = (struct vq_buf){ b->hdr_pa + slot * sizeof(*h), 16, false };
	b->bufs[nsegs + 1] = (struct vq_buf){ b->hdr_pa + slot * sizeof(*h) + 16, 1, true };
	b->part[slot] = (struct vblk_part){ req, h->sector, nsect };
	if (virtq_submit(&b->vq, b->bufs, nsegs + 2, &b->part[slot]) < 0)
		panic("%s: virtq_submit refused %d descriptors with %u free", b->dev.name,
		    nsegs + 2, b->vq.nfree);
	b->free_slots &= ~(1ULL << slot);
	b->published++;
	b->untold++;
	b->untold_urgent |= !req->lazy;
	req->inflight++;
	req->issued += nsect;
	if (req->issued == req->nsectors) {
		req->queued = false;
		b->head = req->next;
		if (!b->head)
			b->tail = 0;
	}
	return true;
}

/*
 * Issues as much of the FIFO as fits, then rings the doorbell once for all
 * the chains not told yet, unless all of them are lazy and may wait (or
 * tell_all: a wait).
 */
static void pump(struct vblk *b, bool tell_all)
{
	while (b->head && issue_part(b))
		;
	if (b->untold == 0 || (!tell_all && !b->untold_urgent &&
	    vblk_may_put_off(b->dev.irq, b->published, b->untold)))
		return;
	b->untold = 0;
	b->untold_urgent = false;
	virtq_kick(&b->vq);
}

static void vblk_submit(struct blkdev *dev, struct blkreq *req)
{
	struct vblk *b = dev->priv;

	req->next = 0;
	req->issued = 0;
	req->inflight = 0;
	req->queued = true;
	req->err = BLK_OK;
	if (b->tail)
		b->tail->next = req;
	else
		b->head = req;
	b->tail = req;
	pump(b, false);
}

/* The blk status for a device status byte and the used length; failures
 * are reported here, so no error passes silently even if the caller
 * ignores it.  A completion that did not write the whole chain is an I/O
 * error whatever its status says: the data is not all there. */
static enum blk_status part_status(struct vblk *b, const struct vblk_part *pt, uint8_t st,
    uint32_t used)
{
	static const char *const ops[] = { "read", "write", "flush" };
	enum blk_status s = st == VBLK_S_OK ? BLK_OK : st == VBLK_S_UNSUPP ? BLK_UNSUPP : BLK_IOERR;
	uint32_t bytes = pt->nsectors * BLK_SECTOR_SIZE;

	if (s == BLK_OK && !vblk_used_whole(pt->req->op == BLK_READ, bytes, used)) {
		kprintf("strata: %s: %s of %u sectors at %lu: short completion, the device wrote %u "
		    "of %u bytes (data and status)\n", b->dev.name, ops[pt->req->op], pt->nsectors,
		    (unsigned long)pt->sector, used, (pt->req->op == BLK_READ ? bytes : 0) + 1);
		return BLK_IOERR;
	}
	if (s != BLK_OK)
		kprintf("strata: %s: %s of %u sectors at %lu: %s (device status %u)\n", b->dev.name,
		    ops[pt->req->op], pt->nsectors, (unsigned long)pt->sector,
		    st == VBLK_S_NONE ? "no status written" : blk_status_name(s), st);
	return s;
}

/* Reaps every completed part, completes the requests they finish, then
 * issues whatever the freed descriptors allow. */
static int vblk_poll(struct blkdev *dev)
{
	struct vblk *b = dev->priv;
	struct vblk_part *pt;
	uint32_t written;
	int finished = 0;

	while ((pt = virtq_reap(&b->vq, &written))) {
		int slot = pt - b->part;
		struct blkreq *req = pt->req;
		enum blk_status s = part_status(b, pt, b->hdr[slot].status, written);
		b->free_slots |= 1ULL << slot;
		b->published--;
		if (b->untold > b->published)
			b->untold = b->published;	/* the device took one it was not told of */
		if (s != BLK_OK && req->err == BLK_OK)
			req->err = s;
		if (--req->inflight == 0 && !req->queued) {
			req->status = req->err;
			finished++;
			if (req->done)
				req->done(req);
		}
	}
	pump(b, false);	/* a put-off chain is told once the device has few left */
	return finished;
}

/* Why the device completes nothing more, or 0 while it may. */
static const char *vblk_broken(struct blkdev *dev)
{
	struct vblk *b = dev->priv;

	if (virtio_needs_reset(&b->vio))
		return "the device needs a reset (virtio DEVICE_NEEDS_RESET) and completes nothing more";
	return 0;
}

/*
 * Self-test (layer-0 selftest=disk-needs-reset): a chain whose
 * device-writable buffer comes before its device-readable one, which virtio
 * forbids, so that QEMU marks the device broken and sets DEVICE_NEEDS_RESET.
 * It carries a part of a request of nobody's: a device that completed it
 * anyway would harm nothing.
 */
void virtio_blk_break(struct blkdev *dev)
{
	static struct blkreq nobody;
	struct vblk *b = dev->priv;
	int slot;
	uint64_t hdr_pa;
	struct vq_buf bad[2];

	if (strcmp(dev->kind, "virtio-blk") != 0 || !b->free_slots)
		panic("%s: not a virtio-blk disk with a free slot", dev->name);
	slot = __builtin_ctzll(b->free_slots);
	hdr_pa = b->hdr_pa + slot * sizeof(struct vblk_hdr);
	bad[0] = (struct vq_buf){ hdr_pa + 16, 1, true };
	bad[1] = (struct vq_buf){ hdr_pa, 16, false };
	nobody = (struct blkreq){ .op = BLK_FLUSH, .inflight = 1 };
	b->part[slot] = (struct vblk_part){ &nobody, 0, 0 };
	b->free_slots &= ~(1ULL << slot);
	if (virtq_submit(&b->vq, bad, 2, &b->part[slot]) < 0)
		panic("%s: no room for the malformed chain", dev->name);
	virtq_kick(&b->vq);
}

/* Self-test (layer-0 selftest=disk-deaf): blk_wait's nudge must find the request. */
void virtio_blk_deafen(struct blkdev *dev)
{
	struct vblk *b = dev->priv;

	if (strcmp(dev->kind, "virtio-blk") != 0)
		panic("%s: not a virtio-blk disk", dev->name);
	b->vq.deaf = true;
}

/* Waking a halted blk_wait is all the interrupt is for. */
static void vblk_intr(void *ctx)
{
	struct vblk *b = ctx;

	b->dev.irq_count++;
}

static void vblk_tell(struct blkdev *dev)
{
	pump(dev->priv, true);
}

static void vblk_renotify(struct blkdev *dev)
{
	struct vblk *b = dev->priv;

	pump(b, true);
	virtq_notify(&b->vq);
}

static void vblk_state(struct blkdev *dev, char *buf, size_t len)
{
	struct vblk *b = dev->priv;

	virtq_state(&b->vq, buf, len);
}

static const struct blkdev_ops vblk_ops = {
	.submit = vblk_submit,
	.poll = vblk_poll,
	.broken = vblk_broken,
	.state = vblk_state,
	.tell = vblk_tell,
	.renotify = vblk_renotify,
};

/*
 * A queue of fewer than 3 descriptors cannot hold one request, so every
 * request would wait forever: the disk is unusable, and running the payload
 * without the disk it expects would hide its data, so this is fatal.
 */
static NORETURN void queue_too_small(struct vblk *b)
{
	char what[64], why[96];
	const struct pci_dev *d = &b->vio.pci;

	snprintf_(what, sizeof(what), "virtio-blk %02x:%02x.%x, queue 0", d->bus, d->dev, d->fn);
	snprintf_(why, sizeof(why), "the queue holds %u descriptors; a request needs 3 (header, data, status)",
	    b->vq.size);
	report_device(what, "room for one request", 0, why);
}

/* Reads the limits the negotiated features make valid; -1 if unusable. */
static int read_config(struct vblk *b)
{
	struct virtio_dev *vd = &b->vio;
	uint32_t seg_max = 0, size_max = 0;

	if (vd->devcfg_len < VBLK_CFG_SEG_MAX + 4) {
		virtio_fail(vd, "virtio-blk without device configuration");
		return -1;
	}
	b->dev.sectors = virtio_cfg_read(vd, VBLK_CFG_CAPACITY, 8);
	if (vd->features & VIRTIO_BIT(VBLK_F_SEG_MAX))
		seg_max = virtio_cfg_read(vd, VBLK_CFG_SEG_MAX, 4);
	if (vd->features & VIRTIO_BIT(VBLK_F_SIZE_MAX))
		size_max = virtio_cfg_read(vd, VBLK_CFG_SIZE_MAX, 4);
	/* A chain is the header, the data and the status: size - 2 data at most. */
	b->max_segs = vblk_chain_segs(b->vq.size, seg_max);
	if (b->max_segs == 0)
		queue_too_small(b);
	b->seg_bytes = size_max ? min32(size_max, VBLK_SEG_BYTES_DEFAULT) : VBLK_SEG_BYTES_DEFAULT;
	b->seg_bytes = PAGE_ROUND_DOWN(b->seg_bytes);
	if (b->seg_bytes == 0) {
		virtio_fail(vd, "virtio-blk size_max is below a page; unsupported");
		return -1;
	}
	b->dev.sector_size = BLK_SECTOR_SIZE;
	b->dev.max_sectors = b->max_segs * BLK_SECTORS_PER_PAGE;
	b->dev.read_only = vd->features & VIRTIO_BIT(VBLK_F_RO);
	b->dev.volatile_cache = vd->features & VIRTIO_BIT(VBLK_F_FLUSH);
	return 0;
}

/*
 * Brings up one device: features, queue 0, slots, limits; then registers it.
 * Past BLK_MAX_DEVS disks a device is left untouched.
 */
void virtio_blk_attach(const struct pci_dev *d)
{
	struct vblk *b = &vblks[nvblks];
	uint64_t wanted = VIRTIO_BIT(VBLK_F_SIZE_MAX) | VIRTIO_BIT(VBLK_F_SEG_MAX) |
	    VIRTIO_BIT(VBLK_F_RO) | VIRTIO_BIT(VBLK_F_FLUSH);
	int vector = -1;

	if (nvblks == BLK_MAX_DEVS)
		return;
	memset(b, 0, sizeof(*b));
	if (virtio_init(&b->vio, d) < 0 || virtio_negotiate(&b->vio, wanted) < 0)
		return;
	if (virtio_has_msix(&b->vio))
		vector = irq_register(vblk_intr, b);
	if (virtio_queue_setup(&b->vio, 0, &b->vq, vector) < 0)
		return;
	b->dev.irq = b->vq.interrupts;
	b->dev.irq_vector = (uint8_t)vector;
	b->hdr_pa = pmm_alloc();
	if (!b->hdr_pa) {
		virtio_fail(&b->vio, "out of memory for request headers");
		return;
	}
	b->hdr = p2v(b->hdr_pa);
	b->free_slots = VBLK_SLOTS == 64 ? ~0ULL : (1ULL << VBLK_SLOTS) - 1;
	if (read_config(b) < 0)
		return;
	b->dev.kind = "virtio-blk";
	b->dev.ops = &vblk_ops;
	b->dev.priv = b;
	virtio_ready(&b->vio);
	if (blkdev_register(&b->dev) < 0) {
		virtio_fail(&b->vio, "too many disks");
		return;
	}
	nvblks++;
}

