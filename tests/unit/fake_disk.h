/*
 * The unit tests' disk: a fake driver behind blkdev_ops, linked with the
 * real drivers/blkdev.c (fake_disk.c says how it behaves).  The names are
 * the tests' own: a test reads the log and sets the failures directly.
 */
#ifndef FAKE_DISK_H
#define FAKE_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "defs.h"
#include "blkdev.h"

#define DISK_PAGES	(2ULL << 20)	/* 8 GiB, sparse */
#define DISK_BYTES	(DISK_PAGES * PAGE_SIZE)
#define MAX_LOG		16384

/* One request as the driver got it. */
struct logent {
	enum blk_op op;
	uint64_t sector;
	uint32_t nsectors;
	enum blk_status status;		/* how it ended */
	bool one_buffer;		/* a contiguous buffer, not a page list */
	bool lazy;			/* the driver may put off telling the device */
	int done_before;		/* requests completed when it was submitted */
	int done_seq;			/* it was the Nth to complete (1-based); 0: not yet */
};

extern struct blkdev disk;		/* DISK_PAGES pages, flushes reach the driver */
extern struct logent reqlog[MAX_LOG];	/* every request the driver got, in order */
extern int nlog;			/* a test may reset it */
extern int npending;			/* submitted and not completed */
extern int max_inflight;		/* the most pending at once; a test may reset it */
extern int fail_nth;			/* fail the request logged Nth (1-based); 0: none */
extern bool disk_silent;		/* polls complete nothing: a device that stopped answering */
extern bool disk_holds_lazy;		/* lazy requests complete only once the driver's tell op ran */
extern bool disk_oldest_last;		/* the oldest pending request completes only when it is alone */
extern int ncompleted;			/* requests completed */
extern int ntells;			/* calls of the tell op */
extern bool disk_deaf;			/* polls complete nothing until the renotify op runs: a lost notification */
extern int nrenotifies;			/* calls of the renotify op */
extern uint64_t disk_stall_ns;		/* the next poll finds nothing and the clock jumps this far: a paused host */

void fake_disk_create(void);		/* a pristine disk, nothing logged or failing */
void fake_disk_destroy(void);
uint64_t pattern(uint64_t o);		/* what byte o (a multiple of 8) holds as a word until written */
void fail_pages(uint64_t page, uint64_t n); /* fail requests touching pages [page, page + n) */
bool disk_pristine(uint64_t page);	/* never written */
bool disk_filled(uint64_t page, uint8_t byte);
int count_ops(enum blk_op op);		/* requests of op in the log */
void expect_req(int k, enum blk_op op, uint64_t page, uint64_t pages); /* log entry k is op on those pages */

#endif
