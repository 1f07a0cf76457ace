/*
 * The virtio 1.x core: the modern PCI transport and split virtqueues, shared
 * by the virtio drivers (virtio_blk.c, virtio_net.c).  Drivers see devices,
 * feature bits, device configuration and queues of buffer chains; nothing
 * here knows what a block or a packet is.
 *
 * Completions are always found by polling the used ring.  A queue given a
 * vector also raises an MSI-X interrupt when the device uses it, so that a
 * waiter can halt instead of spin; the handler only notes it and reaping
 * stays out of interrupt handlers.  INTx is off, and a device without MSI-X
 * gets no interrupts at all.  Layer 0 is one CPU with no preemption of
 * layer-0 code by layer-0 code, so nothing here takes a lock.
 */
#ifndef VIRTIO_H
#define VIRTIO_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "msix.h"
#include "pci.h"

#define VIRTIO_VENDOR		0x1af4

/* Device types (the virtio spec's device IDs). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2

/* Feature bits shared by every device type. */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_BIT(f)		(1ULL << (f))

/* Queues are capped at one page of 16-byte descriptors. */
#define VIRTQ_MAX_SIZE		256

/* One buffer of a chain: device-readable, or device-writable if write. */
struct vq_buf {
	uint64_t pa;
	uint32_t len;
	bool write;
};

struct vq_desc;
struct vq_avail;
struct vq_used;

/* A split virtqueue.  Descriptors not in flight form a free list through next. */
struct virtq {
	uint16_t index;			/* queue number on the device */
	uint16_t size;			/* a power of two, <= VIRTQ_MAX_SIZE */
	uint16_t nfree;
	uint16_t free_head;
	uint16_t avail_idx;		/* our copy of avail->idx */
	uint16_t last_used;		/* used->idx up to which we have reaped */
	bool interrupts;		/* the device interrupts when it uses the queue */
	bool deaf;			/* self-test: kicks publish but do not notify, until virtq_notify */
	volatile struct vq_desc *desc;
	volatile struct vq_avail *avail;
	volatile struct vq_used *used;
	volatile uint16_t *notify;	/* this queue's doorbell */
	void *cookie[VIRTQ_MAX_SIZE];	/* by head descriptor: what the driver submitted */
};

/* A virtio device on PCI, with its four configuration structures mapped. */
struct virtio_dev {
	struct pci_dev pci;
	uint16_t type;			/* VIRTIO_ID_* */
	volatile uint8_t *common;
	volatile uint8_t *isr;
	volatile uint8_t *devcfg;
	uint32_t devcfg_len;
	volatile uint8_t *notify_base;
	uint32_t notify_mult;
	uint64_t notify_len;
	uint64_t features;		/* negotiated */
	struct msix msix;		/* no table: no interrupts */
	uint64_t status_read_ns;	/* when virtio_needs_reset last read it */
};

int virtio_pci_type(const struct pci_dev *d);	/* VIRTIO_ID_*, or -1 if not virtio */
int virtio_init(struct virtio_dev *vd, const struct pci_dev *d); /* maps, resets, ACKNOWLEDGE|DRIVER; 0 or -1 */
int virtio_negotiate(struct virtio_dev *vd, uint64_t wanted);	/* VERSION_1 + wanted & offered; 0 or -1 */
bool virtio_has_msix(const struct virtio_dev *vd);	/* may a queue have a vector? */
int virtio_queue_setup(struct virtio_dev *vd, uint16_t index, struct virtq *vq, int vector); /* 0 or -1 */
void virtio_ready(struct virtio_dev *vd);	/* DRIVER_OK: the device may use its queues */
void virtio_fail(struct virtio_dev *vd, const char *why); /* FAILED, with a report */
bool virtio_needs_reset(struct virtio_dev *vd);	/* DEVICE_NEEDS_RESET: it will complete nothing more */
uint16_t virtio_num_queues(const struct virtio_dev *vd);
uint64_t virtio_cfg_read(const struct virtio_dev *vd, uint32_t off, int width); /* width 1, 2, 4 or 8 */

int virtq_submit(struct virtq *vq, const struct vq_buf *bufs, int n, void *cookie); /* head, or -1 if too few free */
/* n chains of one buffer each (the per-frame path): how many fit */
int virtq_submit_singles(struct virtq *vq, const struct vq_buf *bufs, void *const *cookies, int n);
bool virtq_interrupt_on_use(struct virtq *vq, bool on); /* interrupts on use, or not; false: no vector */
bool virtq_kick(struct virtq *vq);		/* publishes the new chains; notifies the device unless it asked not to be (false) */
void virtq_notify(struct virtq *vq);		/* notifies the device, whatever it asked */
void *virtq_reap(struct virtq *vq, uint32_t *written); /* one completed chain's cookie (freed), or 0 */
int virtq_reap_many(struct virtq *vq, void **cookies, uint32_t *written, int max); /* up to max of them: how many */
void virtq_state(const struct virtq *vq, char *buf, size_t len); /* for a DEVICE report */

/* virtio_blk.c, virtio_net.c: each brings up one function of its type (drivers/probe.c) */
void virtio_blk_attach(const struct pci_dev *d);
void virtio_net_attach(const struct pci_dev *d);

/* virtio_check.c: what a completion's used length must be (each driver checks every one), queue limits */
bool vblk_used_whole(bool read, uint32_t data_bytes, uint32_t used_len); /* read data + status, or status */
int64_t vnet_rx_frame_len(uint32_t used_len, uint32_t hdr_len, uint32_t buf_len); /* -1: not hdr..buf */
bool vnet_tx_used_ok(uint32_t used_len);	/* a TX chain: nothing written */
uint32_t vblk_chain_segs(uint16_t queue_size, uint32_t seg_max); /* data segments in a chain; 0: none fit */
bool vblk_may_put_off(bool interrupts, uint32_t published, uint32_t untold); /* lazy chains may wait */

#endif
