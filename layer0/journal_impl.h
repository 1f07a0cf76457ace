/*
 * What the parts of the journal share, and nothing outside them includes:
 * the record's on-disk pieces, its geometry, scratch frames and the request
 * slots.  journal.c says which file does what.
 */
#ifndef JOURNAL_IMPL_H
#define JOURNAL_IMPL_H

#include "defs.h"
#include "blkdev.h"
#include "journal.h"
#include "profile.h"
#include "strata/disk.h"

#define SECTORS		(JOURNAL_BLOCK / BLK_SECTOR_SIZE)
#define RUN_MAX		256	/* journal blocks in one request: 1 MiB */
#define INFLIGHT	8	/* requests in flight at once */
#define ENTRIES		(JOURNAL_BLOCK / sizeof(struct jentry))
#define HEAD_ENTRIES	3	/* a head block's first entries hold struct jhead */

/*
 * In a superblock: the log is empty: no record was durable when this superblock was written,
 * so the one numbered tail_seq may be torn.  Without it the tail record was
 * durable, and failing its checks means the disk lied. is empty: no record was durable when this superblock was written,
 * so the one numbered tail_seq may be torn.  Without it the tail record was
 * durable, and failing its checks means the disk lied.
 */
#define SUPER_TAIL_NEW	0x1

struct jentry {
	uint64_t home;		/* disk offset / 4 KiB */
	uint32_t crc;		/* of the page's 4 KiB */
	uint32_t reserved;
};

/* A record's first block starts with this; its entries follow, entry i at slot i + HEAD_ENTRIES. */
struct jhead {
	uint64_t magic;
	uint64_t seq;
	uint64_t prev;		/* the record before it, which recovery must have found */
	uint64_t install;
	uint32_t npages;
	uint32_t state_bytes;
	uint64_t durable;	/* the newest record durable when it began: that one was whole */
};

struct jseal {
	uint64_t magic;
	uint64_t seq;
	uint64_t prev;
	uint64_t install;
	uint64_t at;		/* the block the record starts at */
	uint64_t blocks;	/* its length, this seal included */
	uint32_t head_crc;	/* CRC-32C of the head blocks */
	uint32_t state_crc;	/* and of the state blocks */
	uint32_t reserved;
	uint32_t crc;		/* of the fields above */
};

_Static_assert(sizeof(struct jhead) == HEAD_ENTRIES * sizeof(struct jentry), "record head layout");
_Static_assert(sizeof(struct jseal) == 64, "seal layout");

/* A record's geometry, from its page count and state size. */
struct shape {
	uint32_t n, state_bytes;
	uint64_t nh, ns, blocks;
};

/* n zeroed frames, their addresses in a page of their own; the machine stops without RAM. */
struct frames {
	uint64_t *pa;
	uint64_t n;
};

struct flight;

/* A request of up to RUN_MAX blocks, with its own list of frames. */
struct slot {
	struct blkreq req;
	uint64_t pa[RUN_MAX];
	struct flight *owner;		/* 0: synchronous I/O */
	bool busy;
};

/* The request slots: records in flight take free ones, synchronous I/O (idle journal) each in turn. */
extern struct slot journal_slots[INFLIGHT];

/* journal.c */
struct shape shape_of(uint32_t n, uint32_t state_bytes);
uint64_t scratch_page(void);
struct frames frames_alloc(uint64_t n);
void frames_free(struct frames f);
uint32_t frames_crc(const uint64_t *pa, uint64_t n);
struct jentry *head_entry(const uint64_t *hp, uint32_t i);
uint32_t page_sum(const void *page);
void state_to_blocks(const struct frames *st, const void *state, uint32_t bytes);
void state_from_blocks(const struct frames *st, void *state, uint32_t bytes);
uint64_t block_sector(const struct journal *j, uint64_t block);
enum journal_error sync_rw(struct journal *j, enum blk_op op, uint64_t sector, uint64_t pa);
void sync_start(struct journal *j, enum blk_op op, uint64_t sector, const uint64_t *pa, uint32_t n);
enum journal_error sync_finish(struct journal *j);
enum journal_error sync_blocks(struct journal *j, enum blk_op op, uint64_t block,
    const uint64_t *pa, uint64_t n);
enum journal_error sync_flush(struct journal *j);
enum journal_error super_write(struct journal *j, uint64_t tail, uint64_t tail_seq, uint32_t flags);
enum journal_error super_read(struct journal *j, const char **why);
bool log_empty(const struct journal *j);
void skip_numbers(struct journal *j);

#endif
