/*
 * Block devices, as the pager sees them: numbered disks of 512-byte sectors
 * that take asynchronous requests.  A request names its memory as a list of
 * physical pages, so a large read lands straight in the pages that will map
 * it; the driver splits a request the device cannot take in one piece.
 *
 * Nothing here knows about virtio, and drivers know nothing of paging.
 * Completions are found by polling (blk_poll); a caller that must wait uses
 * blk_wait or the synchronous blk_rw_sync, which halt the CPU between polls
 * if the disk interrupts on completion.
 */
#ifndef BLKDEV_H
#define BLKDEV_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define BLK_SECTOR_SIZE		512
#define BLK_SECTORS_PER_PAGE	8
#define BLK_MAX_DEVS		4
#define BLK_LAZY_DEPTH		16	/* lazy requests wait while the device has this many told */
#define BLK_LAZY_BATCH		4	/* and until this many wait */

enum blk_op {
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH,		/* writes completed before are made durable (at once if no volatile cache) */
};

enum blk_status {
	BLK_OK,
	BLK_IOERR,		/* the device failed the transfer */
	BLK_UNSUPP,		/* the device does not do this (e.g. write to a read-only disk) */
	BLK_BADREQ,		/* the request itself is wrong: beyond the disk, no pages, ... */
	BLK_PENDING,		/* submitted, not completed yet */
};

/*
 * One request.  The caller fills the first block; the driver owns the request
 * from a BLK_PENDING submit until it sets status and calls done.
 *
 * pages[i] is the physical address of the memory for bytes [4096 i, 4096 (i+1))
 * of the transfer: ceil(nsectors / 8) pages, the last one possibly partly used.
 * Or, with pages 0, buf is the physical address of one contiguous buffer for
 * the whole transfer, page-aligned: the driver then need not look at each
 * page (a 2 MiB read of the pager).  A flush has no sector, nsectors or pages.
 *
 * lazy lets the driver put off telling the device of the request while the
 * device is busy with enough others (BLK_LAZY_DEPTH), so that several are
 * told with one notification: under emulation a notification is a trap into
 * the device model that costs more than a small read's own work.  The device
 * is told at the latest when it has fewer than that left (a poll sees it),
 * when BLK_LAZY_BATCH are put off, or when anyone waits (blk_wait), so a
 * lazy request is never forgotten; it only costs latency the caller said it
 * could spare (the prefetch trap's reads, needed only later).
 */
struct blkreq {
	enum blk_op op;
	uint64_t sector;
	uint32_t nsectors;
	const uint64_t *pages;
	uint64_t buf;				/* when pages is 0 */
	void (*done)(struct blkreq *req);	/* may be 0: then poll status */
	void *ctx;				/* the caller's */
	bool lazy;				/* the device may be told of it later (above) */
	volatile enum blk_status status;

	/* The driver's, while pending. */
	struct blkreq *next;
	uint32_t issued;			/* sectors handed to the device */
	uint32_t inflight;			/* device requests not completed */
	bool queued;				/* still has parts to issue */
	enum blk_status err;
};

struct blkdev;

struct blkdev_ops {
	void (*submit)(struct blkdev *dev, struct blkreq *req); /* req checked, BLK_PENDING */
	int (*poll)(struct blkdev *dev);	/* reaps completions, runs done; how many finished */
	const char *(*broken)(struct blkdev *dev); /* why it completes nothing more, or 0 (optional) */
	/* Where its queue stands, for a DEVICE report: what it was given, what it completed (optional). */
	void (*state)(struct blkdev *dev, char *buf, size_t len);
	/* Tells the device of every request put off (lazy); optional for a driver that puts off none. */
	void (*tell)(struct blkdev *dev);
	/* Notifies the device of its queue again, whatever it asked (optional): blk_wait's nudge. */
	void (*renotify)(struct blkdev *dev);
};

struct blkdev {
	char name[8];			/* "disk0", set by blkdev_register */
	const char *kind;		/* "virtio-blk" */
	uint64_t sectors;
	uint32_t sector_size;		/* always BLK_SECTOR_SIZE */
	uint32_t max_sectors;		/* largest one device request; bigger ones are split */
	bool read_only;
	bool volatile_cache;		/* writes need BLK_FLUSH to be durable */
	bool irq;			/* completions interrupt, on irq_vector: waiting may halt */
	uint8_t irq_vector;
	uint64_t irq_count;		/* interrupts taken since boot */
	uint64_t nudges;		/* waits that notified it again (blk_wait) */
	const struct blkdev_ops *ops;
	void *priv;			/* the driver's */
};

/* drivers/blkdev.c */
int blkdev_register(struct blkdev *dev);	/* its index, or -1 if the table is full */
struct blkdev *blkdev_get(int index);		/* 0 if none */
int blkdev_count(void);
enum blk_status blk_submit(struct blkdev *dev, struct blkreq *req); /* BLK_PENDING, or the final status (done not called) */
int blk_poll(struct blkdev *dev);
enum blk_status blk_wait(struct blkdev *dev, struct blkreq *req); /* polls until req completes; interrupts off */
/* blk_wait, calling progress after each poll that completed another request */
enum blk_status blk_wait_busy(struct blkdev *dev, struct blkreq *req, void (*progress)(void));
/* A DEVICE report (the machine stops) if dev needs a reset or left req pending too long (waited: struct waited's ns). */
void blk_check_answering(struct blkdev *dev, const struct blkreq *req, uint64_t waited);
enum blk_status blk_rw_sync(struct blkdev *dev, enum blk_op op, uint64_t sector,
    uint32_t nsectors, const uint64_t *pages);
const char *blk_status_name(enum blk_status s);

/* drivers/virtio_blk.c */
void virtio_blk_break(struct blkdev *dev);	/* self-test: a malformed chain, so it needs a reset */
void virtio_blk_deafen(struct blkdev *dev);	/* self-test: its notifications are lost until blk_wait's nudge */

/* drivers/blk_selftest.c */
void blk_selftest(uint32_t raw_passes);	/* every disk: reads, writes and restores, times raw_passes raw reads; panics on failure */

/* drivers/blk_bench.c */
void blk_bench(const char *what);	/* "flush4k", "write" or "all" on the first disk, rewriting its own bytes; prints the figures */

#endif
