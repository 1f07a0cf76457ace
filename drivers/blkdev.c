/*
 * The block-device registry and what every caller of a disk shares: request
 * checks, waiting and synchronous transfers, whatever the driver behind
 * blkdev_ops (drivers/probe.c finds the disks).
 */
#include "defs.h"
#include "blkdev.h"

/* A request the device has not completed in this long is a hung device. */
#define BLK_TIMEOUT_NS	(30ULL * 1000 * 1000 * 1000)
#define BLK_NUDGE_NS	(2ULL * 1000 * 1000 * 1000)	/* see blk_nudge */

static struct blkdev *devs[BLK_MAX_DEVS];
static int ndevs;

int blkdev_register(struct blkdev *dev)
{
	if (ndevs == BLK_MAX_DEVS)
		return -1;
	snprintf_(dev->name, sizeof(dev->name), "disk%d", ndevs);
	devs[ndevs] = dev;
	return ndevs++;
}

struct blkdev *blkdev_get(int index)
{
	return index >= 0 && index < ndevs ? devs[index] : 0;
}

int blkdev_count(void)
{
	return ndevs;
}

const char *blk_status_name(enum blk_status s)
{
	switch (s) {
	case BLK_OK:		return "ok";
	case BLK_IOERR:		return "I/O error";
	case BLK_UNSUPP:	return "unsupported by the device";
	case BLK_BADREQ:	return "bad request";
	case BLK_PENDING:	return "pending";
	}
	return "?";
}

/* What is wrong with req for dev, or BLK_PENDING if nothing is. */
static enum blk_status check(const struct blkdev *dev, const struct blkreq *req)
{
	switch (req->op) {
	case BLK_FLUSH:
		/* Without a volatile cache every completed write is durable already. */
		return dev->volatile_cache ? BLK_PENDING : BLK_OK;
	case BLK_WRITE:
		if (dev->read_only)
			return BLK_UNSUPP;
		/* fall through */
	case BLK_READ:
		if (req->nsectors == 0 || (!req->pages && !req->buf) || req->sector >= dev->sectors ||
		    req->nsectors > dev->sectors - req->sector)
			return BLK_BADREQ;
		return BLK_PENDING;
	}
	return BLK_BADREQ;
}

/* Hands req to the driver: BLK_PENDING, after which done runs from a poll;
 * anything else is the request's final status, and done is not called. */
enum blk_status blk_submit(struct blkdev *dev, struct blkreq *req)
{
	enum blk_status s = check(dev, req);

	req->status = s;
	if (s != BLK_PENDING)
		return s;
	dev->ops->submit(dev, req);
	return BLK_PENDING;
}

int blk_poll(struct blkdev *dev)
{
	return dev->ops->poll(dev);
}

/*
 * Stops the machine with a DEVICE report when dev asked for a reset, or has
 * left req pending for longer than BLK_TIMEOUT_NS (waited, the caller's
 * struct waited: time the machine ran); returns while dev may still
 * complete it.  Either way the device still owns req's pages,
 * so it is fatal, not an error a caller could handle.
 */
/* req in words, for the console: "a flush", "a read of 8 sectors at sector 24". */
static void request_what(const struct blkreq *req, char *buf, size_t len)
{
	static const char *const ops[] = { "read", "write", "flush" };

	if (req->op == BLK_FLUSH)
		snprintf_(buf, len, "a flush");
	else
		snprintf_(buf, len, "a %s of %u sectors at sector %lu", ops[req->op], req->nsectors,
		    (unsigned long)req->sector);
}

void blk_check_answering(struct blkdev *dev, const struct blkreq *req, uint64_t waited)
{
	const char *broken = dev->ops->broken ? dev->ops->broken(dev) : 0;
	char device[32], what[80], why[192], state[128] = "";

	if (broken == 0 && waited <= BLK_TIMEOUT_NS)
		return;
	snprintf_(device, sizeof(device), "%s (%s)", dev->name, dev->kind);
	request_what(req, what, sizeof(what));
	/* Whether the device completed what it was given tells a lost wakeup from a silent device. */
	if (dev->ops->state)
		dev->ops->state(dev, state, sizeof(state));
	if (broken)
		snprintf_(why, sizeof(why), "%s", broken);
	else
		snprintf_(why, sizeof(why), "the device completed nothing in %lu s",
		    (unsigned long)(BLK_TIMEOUT_NS / 1000000000));
	if (state[0])
		snprintf_(why + strlen(why), sizeof(why) - strlen(why), "; %s", state);
	report_device(device, what, waited, why);
}

/*
 * A wait whose request is still pending after BLK_NUDGE_NS notifies the
 * device again, once, and says so.  A request the device was told of (it is in
 * the published ring) but never took was seen once in QEMU 7.2 under TCG
 * (a crash image's recovery, 1 of some hundred boots, not repeatable): a
 * notification lost, by the device's side, since the driver's fence and
 * check of its flags follow the virtio protocol.  The spec allows a
 * notification at any time, so a spurious one costs nothing; a device
 * that takes the request then says the notification was the trouble, one
 * that does not still ends in blk_check_answering's report.
 */
static void blk_nudge(struct blkdev *dev, const struct blkreq *req, uint64_t waited, bool *done)
{
	char what[80];

	if (*done || waited < BLK_NUDGE_NS || dev->ops->renotify == 0)
		return;
	*done = true;
	dev->nudges++;
	dev->ops->renotify(dev);
	request_what(req, what, sizeof(what));
	kprintf("strata: %s: %lu ms waiting for %s: notified the device again\n", dev->name,
	    (unsigned long)(waited / 1000000), what);
}

/*
 * Polls the device until req completes, called with interrupts off.  If the
 * disk interrupts on completion the CPU halts between polls: a completion
 * after the last poll leaves its interrupt pending, which ends the halt at
 * once (sleep_until_interrupt), and the timer ends it within a tick anyway.
 * Otherwise it spins with pause.  Every poll that finds nothing asks
 * blk_check_answering, so a broken or silent device ends in a report.
 *
 * Interrupts taken while halted run on their own stack and touch neither
 * the disk nor the pager: the timer's clock and NIC poll (NIC pages only),
 * and device handlers that count.  Callers (the pager, the loader) wait
 * only between whole updates of the page tables.
 */
enum blk_status blk_wait(struct blkdev *dev, struct blkreq *req)
{
	return blk_wait_busy(dev, req, 0);
}

/*
 * blk_wait, calling progress (if not 0) after each poll that completed a
 * request while req is still pending: the caller may use the freed room.
 */
enum blk_status blk_wait_busy(struct blkdev *dev, struct blkreq *req, void (*progress)(void))
{
	struct waited w;
	uint64_t waited;
	bool nudged = false;

	if (dev->ops->tell)
		dev->ops->tell(dev);	/* req, or what is before it, may have been put off */
	waited_start(&w);
	while (req->status == BLK_PENDING) {
		if (blk_poll(dev) > 0) {
			if (progress != 0 && req->status == BLK_PENDING)
				progress();
			continue;
		}
		waited = waited_step(&w);
		blk_nudge(dev, req, waited, &nudged);
		blk_check_answering(dev, req, waited);
		if (dev->irq)
			sleep_until_interrupt();
		else
			__asm__ volatile("pause");
	}
	return req->status;
}

enum blk_status blk_rw_sync(struct blkdev *dev, enum blk_op op, uint64_t sector,
    uint32_t nsectors, const uint64_t *pages)
{
	struct blkreq req = {
		.op = op, .sector = sector, .nsectors = nsectors, .pages = pages,
	};

	if (blk_submit(dev, &req) != BLK_PENDING)
		return req.status;
	return blk_wait(dev, &req);
}
