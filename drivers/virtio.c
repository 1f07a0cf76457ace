/*
 * virtio 1.x over PCI (the "modern" transport) and split virtqueues.
 *
 * The device describes where its structures live with vendor capabilities:
 * common configuration, notification doorbells, the ISR byte and the
 * device-specific configuration, each a window into one BAR.  We map each
 * window on its own; QEMU puts all four in one 16 KiB BAR.
 *
 * A queue lives in two zeroed pages: the descriptor table in one, the avail
 * ring (at 0) and the used ring (at 1024) in the other, which fits both for
 * VIRTQ_MAX_SIZE entries with the alignment virtio 1.x asks (16, 2, 4).
 */
#include "defs.h"
#include "virtio.h"

/* Common configuration structure offsets. */
#define COMMON_DFSELECT		0x00
#define COMMON_DF		0x04
#define COMMON_GFSELECT		0x08
#define COMMON_GF		0x0c
#define COMMON_MSIX_CONFIG	0x10
#define COMMON_NUMQ		0x12
#define COMMON_STATUS		0x14
#define COMMON_CFGGEN		0x15
#define COMMON_Q_SELECT		0x16
#define COMMON_Q_SIZE		0x18
#define COMMON_Q_MSIX		0x1a
#define COMMON_Q_ENABLE		0x1c
#define COMMON_Q_NOFF		0x1e
#define COMMON_Q_DESC		0x20
#define COMMON_Q_AVAIL		0x28
#define COMMON_Q_USED		0x30
#define COMMON_LEN		0x38

#define NO_VECTOR		0xffff	/* an MSI-X entry number: none */

/* Device status bits, set in this order during initialisation. */
#define STATUS_ACKNOWLEDGE	1
#define STATUS_DRIVER		2
#define STATUS_DRIVER_OK	4
#define STATUS_FEATURES_OK	8
#define STATUS_NEEDS_RESET	0x40	/* set by the device */
#define STATUS_FAILED		0x80

/* How often a waiter may read the status (an MMIO read, an exit under emulation). */
#define STATUS_READ_EVERY_NS	1000000ULL

/* virtio_pci_cap.cfg_type */
#define CAP_COMMON		1
#define CAP_NOTIFY		2
#define CAP_ISR			3
#define CAP_DEVICE		4

#define DESC_F_NEXT		1
#define DESC_F_WRITE		2
#define AVAIL_F_NO_INTERRUPT	1
#define USED_F_NO_NOTIFY	1

#define USED_RING_OFFSET	1024

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct vq_used {
	uint16_t flags;
	uint16_t idx;
	struct vq_used_elem ring[];
};

_Static_assert(sizeof(struct vq_desc) == 16, "virtq descriptor is 16 bytes");
_Static_assert(sizeof(struct vq_used_elem) == 8, "used element is 8 bytes");
_Static_assert(VIRTQ_MAX_SIZE * sizeof(struct vq_desc) <= PAGE_SIZE, "descriptors fit a page");
_Static_assert(4 + 2 * VIRTQ_MAX_SIZE + 2 <= USED_RING_OFFSET, "avail ring fits below the used ring");
_Static_assert(USED_RING_OFFSET + 4 + 8 * VIRTQ_MAX_SIZE + 2 <= PAGE_SIZE, "used ring fits the page");

/* Keeps the compiler from moving ring accesses across this point.  x86
 * keeps stores in order and loads in order, so that is all the ring
 * protocol needs except where a store must precede a load (virtq_kick). */
#define barrier()	__asm__ volatile("" ::: "memory")

static uint8_t rd8(volatile uint8_t *b, uint32_t off) { return *(volatile uint8_t *)(b + off); }
static uint16_t rd16(volatile uint8_t *b, uint32_t off) { return *(volatile uint16_t *)(b + off); }
static uint32_t rd32(volatile uint8_t *b, uint32_t off) { return *(volatile uint32_t *)(b + off); }
static void wr8(volatile uint8_t *b, uint32_t off, uint8_t v) { *(volatile uint8_t *)(b + off) = v; }
static void wr16(volatile uint8_t *b, uint32_t off, uint16_t v) { *(volatile uint16_t *)(b + off) = v; }
static void wr32(volatile uint8_t *b, uint32_t off, uint32_t v) { *(volatile uint32_t *)(b + off) = v; }

/* 64-bit fields as two 32-bit writes, low half first, which every
 * implementation of the transport accepts. */
static void wr64(volatile uint8_t *b, uint32_t off, uint64_t v)
{
	wr32(b, off, (uint32_t)v);
	wr32(b, off + 4, (uint32_t)(v >> 32));
}

int virtio_pci_type(const struct pci_dev *d)
{
	if (d->vendor != VIRTIO_VENDOR)
		return -1;
	if (d->device >= 0x1040 && d->device <= 0x107f)
		return d->device - 0x1040;
	/* Transitional devices name their type in the subsystem ID. */
	if (d->device >= 0x1000 && d->device <= 0x103f)
		return pci_read16(d, PCI_SUBSYS_ID);
	return -1;
}

/* One vendor capability, as the device describes it. */
struct vcap {
	uint8_t bar;
	uint32_t offset, length;
	uint32_t mult;		/* notify only */
	bool found;
};

/* True when BAR bar of d is an I/O port range, which map_cap cannot map. */
static bool bar_is_io(const struct pci_dev *d, uint8_t bar)
{
	struct pci_bar b;

	return pci_bar(d, bar, &b) == 0 && b.io;
}

/*
 * Fills caps[1..4] with the first capability of each type whose BAR is valid
 * and in memory space.  A device may offer a type twice: QEMU's
 * modern-pio-notify puts a notify capability in an I/O BAR ahead of the
 * memory one, which is then the one taken.
 */
static void find_caps(const struct pci_dev *d, struct vcap caps[5])
{
	for (uint8_t p = pci_cap_next(d, 0, PCI_CAP_VENDOR); p; p = pci_cap_next(d, p, PCI_CAP_VENDOR)) {
		uint8_t type = pci_read8(d, p + 3), bar = pci_read8(d, p + 4);
		if (type < CAP_COMMON || type > CAP_DEVICE || bar > 5 || caps[type].found ||
		    bar_is_io(d, bar))
			continue;
		caps[type].bar = bar;
		caps[type].offset = pci_read32(d, p + 8);
		caps[type].length = pci_read32(d, p + 12);
		caps[type].mult = type == CAP_NOTIFY ? pci_read32(d, p + 16) : 0;
		caps[type].found = true;
	}
}

/* Maps a capability's window uncached; 0 if its BAR cannot hold it. */
static volatile uint8_t *map_cap(const struct pci_dev *d, const struct vcap *c)
{
	struct pci_bar b;
	uint64_t pa, start;
	uint8_t *va;

	if (pci_bar(d, c->bar, &b) < 0 || b.io || b.base == 0 ||
	    (uint64_t)c->offset + c->length > b.size || c->length == 0)
		return 0;
	pa = b.base + c->offset;
	start = PAGE_ROUND_DOWN(pa);
	va = vm_map_mmio(start, PAGE_ROUND_UP(pa + c->length) - start);
	return va ? va + (pa - start) : 0;
}

static void set_status(struct virtio_dev *vd, uint8_t bits)
{
	wr8(vd->common, COMMON_STATUS, rd8(vd->common, COMMON_STATUS) | bits);
}

/* Writes 0 to the status and waits for the device to finish resetting. */
static int reset(struct virtio_dev *vd)
{
	wr8(vd->common, COMMON_STATUS, 0);
	for (int i = 0; i < 1000000; i++) {
		if (rd8(vd->common, COMMON_STATUS) == 0)
			return 0;
		__asm__ volatile("pause");
	}
	return -1;
}

/* Finds and maps the four structures, enables the function, resets the
 * device and announces a driver.  On -1 it has already reported why. */
int virtio_init(struct virtio_dev *vd, const struct pci_dev *d)
{
	struct vcap caps[5] = {0};
	int type = virtio_pci_type(d);

	memset(vd, 0, sizeof(*vd));
	vd->pci = *d;
	if (type < 0)
		return -1;
	vd->type = type;
	find_caps(d, caps);
	if (!caps[CAP_COMMON].found || !caps[CAP_NOTIFY].found || !caps[CAP_ISR].found) {
		kprintf("strata: virtio %02x:%02x.%x: no modern (virtio 1.x) capabilities\n",
		    d->bus, d->dev, d->fn);
		return -1;
	}
	vd->common = map_cap(d, &caps[CAP_COMMON]);
	vd->notify_base = map_cap(d, &caps[CAP_NOTIFY]);
	vd->isr = map_cap(d, &caps[CAP_ISR]);
	if (caps[CAP_DEVICE].found) {
		vd->devcfg = map_cap(d, &caps[CAP_DEVICE]);
		vd->devcfg_len = vd->devcfg ? caps[CAP_DEVICE].length : 0;
	}
	vd->notify_mult = caps[CAP_NOTIFY].mult;
	vd->notify_len = caps[CAP_NOTIFY].length;
	if (!vd->common || !vd->notify_base || !vd->isr || caps[CAP_COMMON].length < COMMON_LEN) {
		kprintf("strata: virtio %02x:%02x.%x: a capability lies outside its BAR (BARs unassigned?)\n",
		    d->bus, d->dev, d->fn);
		return -1;
	}
	pci_enable(d);
	msix_enable(&vd->msix, d);	/* without it the device is polled only */
	if (reset(vd) < 0) {
		virtio_fail(vd, "device did not reset");
		return -1;
	}
	wr16(vd->common, COMMON_MSIX_CONFIG, NO_VECTOR);	/* configuration changes: unused */
	set_status(vd, STATUS_ACKNOWLEDGE);
	set_status(vd, STATUS_DRIVER);
	return 0;
}

static uint64_t device_features(struct virtio_dev *vd)
{
	uint64_t f;

	wr32(vd->common, COMMON_DFSELECT, 0);
	f = rd32(vd->common, COMMON_DF);
	wr32(vd->common, COMMON_DFSELECT, 1);
	return f | (uint64_t)rd32(vd->common, COMMON_DF) << 32;
}

/* Accepts VERSION_1 and whatever of wanted the device offers, then checks
 * that the device agrees (FEATURES_OK stays set). */
int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted)
{
	uint64_t offered = device_features(vd);

	if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		virtio_fail(vd, "device does not offer VIRTIO_F_VERSION_1 (legacy only)");
		return -1;
	}
	vd->features = offered & (wanted | VIRTIO_BIT(VIRTIO_F_VERSION_1));
	wr32(vd->common, COMMON_GFSELECT, 0);
	wr32(vd->common, COMMON_GF, (uint32_t)vd->features);
	wr32(vd->common, COMMON_GFSELECT, 1);
	wr32(vd->common, COMMON_GF, (uint32_t)(vd->features >> 32));
	set_status(vd, STATUS_FEATURES_OK);
	if (!(rd8(vd->common, COMMON_STATUS) & STATUS_FEATURES_OK)) {
		virtio_fail(vd, "device refused the negotiated features");
		return -1;
	}
	return 0;
}

uint16_t virtio_num_queues(const struct virtio_dev *vd)
{
	return rd16(vd->common, COMMON_NUMQ);
}

/* Largest power of two not above n (n > 0). */
static uint16_t pow2_floor(uint16_t n)
{
	uint16_t p = 1;

	while ((uint32_t)p * 2 <= n)
		p *= 2;
	return p;
}

bool virtio_has_msix(const struct virtio_dev *vd)
{
	return vd->msix.table != 0;
}

/* Routes the selected queue's interrupts to vector through the MSI-X entry
 * of the queue's own number.  false if there is no such entry or the
 * device refuses it (reading back NO_VECTOR): the queue is then polled. */
static bool queue_vector(struct virtio_dev *vd, uint16_t index, int vector)
{
	if (vector < 0 || msix_route(&vd->msix, index, (uint8_t)vector) < 0)
		return false;
	wr16(vd->common, COMMON_Q_MSIX, index);
	return rd16(vd->common, COMMON_Q_MSIX) == index;
}

/* Sets up queue index with min(device maximum, VIRTQ_MAX_SIZE) entries and
 * all descriptors free; the device interrupts on vector if it can (vector
 * < 0: it never does).  Pages for the rings come from pmm and are never
 * returned: queues live as long as layer 0. */
int virtio_queue_setup(struct virtio_dev *vd, uint16_t index, struct virtq *vq, int vector)
{
	uint16_t max, noff;
	uint64_t desc_pa, ring_pa, doorbell;
	uint8_t *ring;

	wr16(vd->common, COMMON_Q_SELECT, index);
	max = rd16(vd->common, COMMON_Q_SIZE);
	if (max == 0 || rd16(vd->common, COMMON_Q_ENABLE)) {
		virtio_fail(vd, "queue missing or already enabled");
		return -1;
	}
	noff = rd16(vd->common, COMMON_Q_NOFF);
	doorbell = (uint64_t)noff * vd->notify_mult;
	if (doorbell + 2 > vd->notify_len) {
		virtio_fail(vd, "queue doorbell lies outside the notify window");
		return -1;
	}
	desc_pa = pmm_alloc();
	ring_pa = pmm_alloc();
	if (!desc_pa || !ring_pa) {
		virtio_fail(vd, "out of memory for a virtqueue");
		return -1;
	}
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->size = pow2_floor(max < VIRTQ_MAX_SIZE ? max : VIRTQ_MAX_SIZE);
	vq->desc = p2v(desc_pa);
	ring = p2v(ring_pa);
	vq->avail = (volatile struct vq_avail *)ring;
	vq->used = (volatile struct vq_used *)(ring + USED_RING_OFFSET);
	vq->notify = (volatile uint16_t *)(vd->notify_base + doorbell);
	for (uint16_t i = 0; i < vq->size; i++)
		vq->desc[i].next = i + 1;
	vq->nfree = vq->size;
	vq->interrupts = queue_vector(vd, index, vector);
	vq->avail->flags = vq->interrupts ? 0 : AVAIL_F_NO_INTERRUPT;

	wr16(vd->common, COMMON_Q_SIZE, vq->size);
	wr64(vd->common, COMMON_Q_DESC, desc_pa);
	wr64(vd->common, COMMON_Q_AVAIL, ring_pa);
	wr64(vd->common, COMMON_Q_USED, ring_pa + USED_RING_OFFSET);
	wr16(vd->common, COMMON_Q_ENABLE, 1);
	return 0;
}

void virtio_ready(struct virtio_dev *vd)
{
	set_status(vd, STATUS_DRIVER_OK);
}

/*
 * The device met an error it cannot recover from (QEMU's virtio_error, for a
 * malformed chain say) and completes nothing more until it is reset.  Asked
 * by waiters at every poll that found nothing, so the status is read at most
 * once a millisecond.
 */
bool virtio_needs_reset(struct virtio_dev *vd)
{
	uint64_t now = clock_ns();

	if (now - vd->status_read_ns < STATUS_READ_EVERY_NS)
		return false;
	vd->status_read_ns = now;
	return rd8(vd->common, COMMON_STATUS) & STATUS_NEEDS_RESET;
}

void virtio_fail(struct virtio_dev *vd, const char *why)
{
	kprintf("strata: virtio %02x:%02x.%x: %s\n", vd->pci.bus, vd->pci.dev, vd->pci.fn, why);
	if (vd->common)
		set_status(vd, STATUS_FAILED);
}

#define CFGGEN_TRIES_MAX	1000

/* Reads a device-configuration field with one access of its own width; an
 * 8-byte field takes two, so the generation counter is checked around them. */

uint64_t virtio_cfg_read(const struct virtio_dev *vd, uint32_t off, int width)
{
	uint8_t gen;
	uint64_t v;

	if (off + (uint32_t)width > vd->devcfg_len)
		panic("virtio_cfg_read: offset %u width %d beyond the %u-byte device configuration",
		    off, width, vd->devcfg_len);
	switch (width) {
	case 1:
		return rd8(vd->devcfg, off);
	case 2:
		return rd16(vd->devcfg, off);
	case 4:
		return rd32(vd->devcfg, off);
	case 8:
		/* A device changes its configuration rarely: one that keeps changing is broken. */
		for (int tries = 0; tries < CFGGEN_TRIES_MAX; tries++) {
			gen = rd8(vd->common, COMMON_CFGGEN);
			v = rd32(vd->devcfg, off) | (uint64_t)rd32(vd->devcfg, off + 4) << 32;
			if (gen == rd8(vd->common, COMMON_CFGGEN))
				return v;
		}
		report_device("virtio device", "a stable read of its configuration", 0,
		    "its configuration generation kept changing");
	}
	panic("virtio_cfg_read: width %d", width);
}

/* Puts bufs[0..n) in a chain and makes it available; the device sees it at
 * the next virtq_kick.  cookie (not 0) comes back from virtq_reap. */
int virtq_submit(struct virtq *vq, const struct vq_buf *bufs, int n, void *cookie)
{
	uint16_t head = vq->free_head, d = head, last = head;

	if (n <= 0 || n > vq->nfree || !cookie)
		return -1;
	for (int i = 0; i < n; i++) {
		last = d;
		vq->desc[d].addr = bufs[i].pa;
		vq->desc[d].len = bufs[i].len;
		vq->desc[d].flags = (bufs[i].write ? DESC_F_WRITE : 0) | (i + 1 < n ? DESC_F_NEXT : 0);
		d = vq->desc[d].next;	/* the free list links consecutive free entries */
	}
	vq->free_head = vq->desc[last].next;
	vq->nfree -= n;
	vq->cookie[head] = cookie;
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	vq->avail_idx++;	/* published by virtq_kick, once for the batch */
	return head;
}

/*
 * Asks the device to interrupt when it uses vq, or not to; false if the
 * queue has no vector.  The fence orders the flag's store before the reads
 * of the used ring that follow, so a completion is either seen by the next
 * poll or interrupts.
 */
bool virtq_interrupt_on_use(struct virtq *vq, bool on)
{
	if (!vq->interrupts)
		return false;
	vq->avail->flags = on ? 0 : AVAIL_F_NO_INTERRUPT;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return true;
}

/*
 * virtq_submit for n chains of one buffer each, bufs[k] with cookies[k], in
 * one loop: the per-frame path of a NIC, where a call per chain cost more
 * than the chain.  How many it made available: as many as were free.
 */
int virtq_submit_singles(struct virtq *vq, const struct vq_buf *bufs, void *const *cookies, int n)
{
	int k;

	for (k = 0; k < n && vq->nfree > 0; k++) {
		uint16_t d = vq->free_head;

		vq->desc[d].addr = bufs[k].pa;
		vq->desc[d].len = bufs[k].len;
		vq->desc[d].flags = bufs[k].write ? DESC_F_WRITE : 0;
		vq->free_head = vq->desc[d].next;
		vq->nfree--;
		vq->cookie[d] = cookies[k];
		vq->avail->ring[vq->avail_idx & (vq->size - 1)] = d;
		vq->avail_idx++;
	}
	return k;
}

/* Publishes every chain submitted since the last kick with one store of
 * avail->idx, so the device never sees half a batch.  The full fence orders
 * that store before the load of the used flags, so a device that just
 * turned notifications back on is not missed. */
bool virtq_kick(struct virtq *vq)
{
	barrier();		/* the ring entries before the index that publishes them */
	vq->avail->idx = vq->avail_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->deaf)
		return false;	/* notifications lost, on purpose */
	if (vq->used->flags & USED_F_NO_NOTIFY)
		return false;
	*vq->notify = vq->index;
	return true;
}

/* Notifies the device of vq whatever its flags say: a spurious notification is always allowed. */
void virtq_notify(struct virtq *vq)
{
	vq->deaf = false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*vq->notify = vq->index;
}

/*
 * Where vq stands, as the device left it in memory: chains published
 * (avail), completed (used) and reaped by the driver, and free descriptors.
 * used ahead of reaped in a report means completions nobody polled for.
 */
void virtq_state(const struct virtq *vq, char *buf, size_t len)
{
	snprintf_(buf, len, "queue %u: avail %u, used %u, reaped %u, %u of %u descriptors free",
	    vq->index, vq->avail->idx, vq->used->idx, vq->last_used, vq->nfree, vq->size);
}

/* Returns the chain at head to the free list. */
static void free_chain(struct virtq *vq, uint16_t head)
{
	uint16_t d = head, n = 1;

	while (vq->desc[d].flags & DESC_F_NEXT) {
		d = vq->desc[d].next;
		n++;
	}
	vq->desc[d].next = vq->free_head;
	vq->free_head = head;
	vq->nfree += n;
}

/* Takes the used entry at last_used (the device published it); panics if it
 * names a chain the device was never given, since then the rings can no
 * longer be trusted. */
static void *reap_one(struct virtq *vq, uint32_t *written)
{
	volatile struct vq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
	uint32_t id = e->id;
	void *cookie;

	if (id >= vq->size || !vq->cookie[id])
		panic("virtq %u: device completed descriptor %u, which it does not hold", vq->index, id);
	*written = e->len;
	vq->last_used++;
	cookie = vq->cookie[id];
	vq->cookie[id] = 0;
	free_chain(vq, id);
	return cookie;
}

/* Takes one entry off the used ring: its cookie, or 0 if there is none. */
void *virtq_reap(struct virtq *vq, uint32_t *written)
{
	if (vq->used->idx == vq->last_used)
		return 0;
	barrier();		/* the index before the entry it publishes */
	return reap_one(vq, written);
}

/* Up to max entries off the used ring in one loop, as virtq_reap: how many. */
int virtq_reap_many(struct virtq *vq, void **cookies, uint32_t *written, int max)
{
	uint16_t used = vq->used->idx;
	int k;

	barrier();
	for (k = 0; k < max && vq->last_used != used; k++)
		cookies[k] = reap_one(vq, &written[k]);
	return k;
}
