/*
 * The checkpoint journal: the on-disk format that makes a checkpoint atomic,
 * and the recovery that finds the newest whole one after any cut.
 *
 * Home locations stay 1:1 with the disk, so a checkpoint cannot be written
 * in place: its pages go to the journal at the end of the disk first
 * (abi/strata/disk.h), in one *record*, and only a sealed record may let them
 * go home.  The journal is a circular log of records, oldest at the tail:
 *
 *   disk head, 4 KiB and 8 KiB      journal area [start, start + nblocks * 4 KiB)
 *   +--------+--------+             +------------------------------------------+
 *   | super A| super B|             |.. record s | record s+1 | ... |  free   |
 *   +--------+--------+             +------------------------------------------+
 *   generation, tail, tail_seq        ^ tail                            ^ head
 *
 *   a record, in 4 KiB blocks:
 *   +-----------+----------------------+----------------+------+
 *   | head (H)  | the n pages, in the  | state (S)      | seal |
 *   | n entries | order of the entries | layer 0's blob | (1)  |
 *   +-----------+----------------------+----------------+------+
 *   head: magic, seq, install, n, state bytes, then per page {home, CRC-32C}
 *   seal: magic, seq, install, where the record starts and its length, the
 *         CRC-32C of the head and state blocks, and its own CRC-32C
 *
 * The order of writes is what makes every instant of a cut safe:
 *   1. head, pages and state are written, then a flush;
 *   2. the seal is written, then a flush: the checkpoint is durable;
 *   3. only then may its pages be written home (ordinary write-back);
 *   4. a record's space is reused only after its pages' home writes were
 *      flushed and a superblock moving the tail past it was flushed.
 * A cut before 2 completes leaves no valid seal: the record is absent and the
 * previous checkpoint stands.  A cut after it leaves the record whole, since
 * the flush of 1 came first.  A superblock is CRC-checked and written to the
 * other of two slots each time, so a torn one leaves the previous, whose tail
 * is still intact by rule 4.
 *
 * Recovery reads the newest valid superblock and walks the log from its
 * tail: the record with the expected sequence number starts where the last
 * one ended, or at block 0 when it did not fit before the end.  Every sealed
 * record is replayed (its pages written home, in log order, so a later
 * record's copy of a page wins), the first position without one ends the
 * walk, and the log then keeps the newest alone: its state is the
 * checkpoint to resume, again after a cut before the next one.  A sealed record whose head, state or pages fail
 * their CRC means the disk broke its promises: recovery refuses it rather
 * than resume into a state no checkpoint had.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

/* The first word of a superblock, a record's head block and its seal block (host tools read them too). */
#define JOURNAL_SUPER_MAGIC	0x3142534a41525453ULL	/* "STRAJSB1" */
#define JOURNAL_HEAD_MAGIC	0x3148524a41525453ULL	/* "STRAJRH1" */
#define JOURNAL_SEAL_MAGIC	0x314c534a41525453ULL	/* "STRAJSL1" */

#define JOURNAL_SUPER_OFFSET	0x1000ULL	/* two superblocks in the disk head, 4 KiB apart */
#define JOURNAL_BLOCK		4096ULL
#define JOURNAL_STATE_MAX	(4 * JOURNAL_BLOCK)	/* layer 0's blob in one record */
#define JOURNAL_LIVE_MAX	1024	/* records between the tail and the head */
/* A record's head lists its pages in at most one page of head-block addresses. */
#define JOURNAL_PAGES_MAX	((uint32_t)((JOURNAL_BLOCK / 8) * (JOURNAL_BLOCK / 16) - 2))

struct blkdev;

/* One page of a checkpoint: where it lives on the disk, and the frame that holds it now. */
struct jpage {
	uint64_t home;		/* disk offset / 4 KiB */
	uint64_t pa;		/* its contents */
};

struct journal {
	struct blkdev *dev;
	uint64_t start;		/* disk byte offset of the journal area */
	uint64_t nblocks;	/* its size in 4 KiB blocks */
	uint64_t home_limit;	/* pages at or past this (disk offset / 4 KiB) are never home pages */
	uint64_t install;	/* the install the records belong to: another's are not ours */
	uint64_t generation;	/* of the newest superblock written or read */
	uint64_t tail, tail_seq; /* the oldest record recovery needs, and its number */
	uint64_t head, next_seq; /* where the next record goes, and its number */
	uint64_t live_at[JOURNAL_LIVE_MAX]; /* block of live record seq, at seq % JOURNAL_LIVE_MAX */
};

enum journal_error {
	J_OK,
	J_IOERR,		/* the device failed a read, write or flush */
	J_NOSPACE,		/* the record does not fit before the tail: advance it first */
	J_TOOBIG,		/* the record would not fit even in an empty journal */
	J_NONE,			/* no superblock of this install (blank, or another's): nothing to recover */
	J_NOSUPER,		/* no valid superblock, and one is damaged */
	J_CORRUPT,		/* a sealed record fails its checks: the disk lied */
};

/* What recovery found. */
struct jrecovery {
	uint64_t records;	/* sealed records replayed */
	uint64_t pages;		/* pages written home */
	uint64_t seq;		/* the newest sealed record's number, 0 if none */
	uint32_t state_bytes;	/* its state, copied into the caller's buffer */
	const char *why;	/* for J_CORRUPT and J_NOSUPER: what was wrong */
};

/* Empties the journal: both superblocks written, tail and head at 0, next record 1. */
enum journal_error journal_format(struct journal *j);
/* Finds the newest superblock, replays every sealed record home; the log keeps the newest. */
enum journal_error journal_recover(struct journal *j, void *state, struct jrecovery *r);
/* Writes one checkpoint: record, flush, seal, flush.  On J_OK it is durable as j->next_seq - 1. */
enum journal_error journal_commit(struct journal *j, const struct jpage *pages, uint32_t n,
    const void *state, uint32_t state_bytes);
/* Records before seq are not needed any more (their pages are home and flushed); the newest stays. */
enum journal_error journal_release(struct journal *j, uint64_t seq);
const char *journal_error_name(enum journal_error e);

#endif
