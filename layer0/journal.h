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
 *   head: magic, seq, prev, install, n, state bytes, the newest record
 *         durable when it began, then per page {home, checksum}
 *         (journal.c's page_sum)
 *   seal: magic, seq, prev, install, where the record starts and its
 *         length, the CRC-32C of the head and state blocks, and its own
 *
 * The order of writes is what makes every instant of a cut safe:
 *   1. head, pages and state are written, and the seal as soon as the head
 *      is whole (every write of 1 sent), without waiting for them;
 *   2. once all of them and the seal completed, a flush: the checkpoint is
 *      durable;
 *   3. only then may its pages be written home (ordinary write-back);
 *   4. a record's space is reused only after its pages' home writes were
 *      flushed and a superblock moving the tail past it was flushed.
 * A cut before the flush of 2 completes may leave the seal without some of
 * the record (a volatile cache keeps writes in any order): the record is
 * *torn*, and the previous checkpoint stands.  So recovery checks a sealed
 * record whole (head and state against the CRCs in the seal, every page
 * against its checksum in the head) before it writes any page of it home.
 * A cut after the flush leaves the record whole, since every write of it
 * completed before the flush went out.  Only the records after the newest
 * durable one can be torn: a torn record that was durable means the disk
 * lied, and recovery refuses it.  It knows one was durable when it is the
 * tail of a log that was not empty (the superblock says which) or when a
 * later record's head names it as durable.  (A flush between the writes
 * and the seal would make a valid seal mean a whole record, but it cost as
 * much as the flush after the seal, and under external synchrony every
 * reply waits for each step.)
 * A superblock is CRC-checked and written to the other of two slots each
 * time, so a torn one leaves the previous, whose tail is still intact by
 * rule 4.
 *
 * Writing is pipelined: journal_begin() places a record after the one before
 * it and starts its writes, journal_advance() moves every record in flight
 * through steps 1 and 2 without ever waiting, and up to JOURNAL_PIPELINE
 * records are in flight at once.  One flush serves every record whose writes
 * had completed when it was submitted.  Records are durable in number order
 * (a record is durable once its flush completed and every one before it is),
 * and a seal never goes out after a record before it failed:
 * a failure fails every later record in flight, and the next record is placed
 * where the failed ones began (after the head of the first one, if its seal
 * was sent, is zeroed and flushed).
 *
 * Each record names its predecessor (`prev` in head and seal), and numbers
 * never repeat on a disk: after recovery, a failure or a format the next
 * number skips JOURNAL_PIPELINE + 1 past the newest issued or recovered, since
 * any of those may sit on the disk, sealed or not.  Recovery reads the newest
 * valid superblock and follows the chain from its tail: the first record is
 * the one numbered tail_seq at the tail; each next one names the last as its
 * prev and starts where the last one ended, or at block 0 when it did not fit
 * before the end.  So a stale sealed record of an earlier life (a fresh start
 * reusing the install) and a record sealed after an unsealed one are never
 * replayed.  Every whole record on the chain is replayed (its pages written
 * home, in log order, so a later record's copy of a page wins), the first
 * position without one, or with a torn one, ends the walk, and the log then
 * keeps the newest alone: its state is the checkpoint to resume, again after
 * a cut before the next one.  A damaged record known durable means the disk
 * broke its promises: recovery refuses it rather than resume into a state no
 * checkpoint had.  (The newest durable record, damaged, is told from a torn
 * one only when a later record names it.)
 *
 * Format 2 (this one) added `prev` to head and seal.  A format-1 superblock
 * ("STRAJSB1") is refused (J_NOSUPER, "an older layer 0's journal"), not
 * taken for none: its records may hold checkpoints not yet written home, and
 * starting afresh over them would run layer 1 on a disk no checkpoint had.
 */
#ifndef JOURNAL_H
#define JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The first word of a superblock, a record's head block and its seal block;
 * the record's number follows it (host tools read them too).  The last digit
 * is the format's version.
 */
#define JOURNAL_SUPER_MAGIC	0x3242534a41525453ULL	/* "STRAJSB2" */
#define JOURNAL_HEAD_MAGIC	0x3248524a41525453ULL	/* "STRAJRH2" */
#define JOURNAL_SEAL_MAGIC	0x324c534a41525453ULL	/* "STRAJSL2" */
#define JOURNAL_SUPER_MAGIC_1	0x3142534a41525453ULL	/* "STRAJSB1": format 1, refused */

#define JOURNAL_SUPER_OFFSET	0x1000ULL	/* two superblocks in the disk head, 4 KiB apart */
#define JOURNAL_BLOCK		4096ULL
#define JOURNAL_STATE_MAX	(4 * JOURNAL_BLOCK)	/* layer 0's blob in one record */
#define JOURNAL_LIVE_MAX	1024	/* record numbers between the tail and the head */
#define JOURNAL_PIPELINE	4	/* records in flight at once */
/* A record's head lists its pages in at most one page of head-block addresses. */
#define JOURNAL_PAGES_MAX	((uint32_t)((JOURNAL_BLOCK / 8) * (JOURNAL_BLOCK / 16) - 3))

struct blkdev;

/* One page of a checkpoint: where it lives on the disk, and the frame that holds it now. */
struct jpage {
	uint64_t home;		/* disk offset / 4 KiB */
	uint64_t pa;		/* its contents */
};

enum journal_error {
	J_OK,
	J_IOERR,		/* the device failed a read, write or flush */
	J_NOSPACE,		/* the record does not fit before the tail: release, then begin again */
	J_TOOBIG,		/* the record would not fit even in an empty journal */
	J_NONE,			/* no superblock of this install (blank, or another's): nothing to recover */
	J_NOSUPER,		/* no valid superblock, and one is damaged (or of format 1) */
	J_CORRUPT,		/* a sealed record fails its checks: the disk lied */
	J_BUSY,			/* JOURNAL_PIPELINE records in flight, or failed ones not done yet */
};

/* A record finished: durable (J_OK) or failed (J_IOERR).  See journal_advance. */
typedef void journal_done_fn(void *ctx, uint64_t seq, enum journal_error e);

struct journal {
	struct blkdev *dev;
	uint64_t start;		/* disk byte offset of the journal area */
	uint64_t nblocks;	/* its size in 4 KiB blocks */
	uint64_t home_limit;	/* pages at or past this (disk offset / 4 KiB) are never home pages */
	uint64_t install;	/* the install the records belong to: another's are not ours */
	uint64_t reserve;	/* blocks every record leaves free after it, for a cleaning's record */
	bool use_reserve;	/* the next record may take them: it is the cleaning's */
	journal_done_fn *done;	/* may be 0 */
	void *ctx;		/* done's first argument */
	uint64_t generation;	/* of the newest superblock written or read */
	uint64_t tail, tail_seq; /* the oldest record recovery needs, and its number */
	bool tail_new;		/* no record was durable at the last superblock (SUPER_TAIL_NEW) */
	uint64_t head, next_seq; /* where the next record goes, and its number (but see skip) */
	bool skip;		/* next_seq skips JOURNAL_PIPELINE first: those may be on the disk */
	uint64_t newest;	/* the record the next one names as prev: durable or in flight */
	uint64_t durable, durable_end; /* the newest durable record, and the block after it */
	bool must_clear;	/* failed records' space needs clear_at zeroed before reuse */
	uint64_t clear_at;	/* the head block of the first one, whose seal went out */
	bool stale_tail;	/* the log is empty and tail_seq may be on the disk: a superblock first */
	uint64_t live_at[JOURNAL_LIVE_MAX]; /* block of live record seq, at seq % JOURNAL_LIVE_MAX */
};

/* What recovery found. */
struct jrecovery {
	uint64_t records;	/* sealed records replayed */
	uint64_t pages;		/* pages written home */
	uint64_t seq;		/* the newest sealed record's number, 0 if none */
	uint64_t torn;		/* a sealed record after it whose writes a cut left short, 0 if none */
	uint32_t state_bytes;	/* its state, copied into the caller's buffer if it fits */
	const char *why;	/* for J_CORRUPT and J_NOSUPER: what was wrong */
};

/*
 * One journal at a time has records in flight (the requests are journal.c's).
 * journal_format and journal_recover wait, and take an idle journal (J_BUSY).
 */

/*
 * Empties the journal: both superblocks written, tail and head at 0.  The
 * first record is numbered j->next_seq, kept as recovery or earlier records
 * left it (so numbers never repeat on the disk), or 1 when it is 0 (a
 * journal never read: a new install's, whose old records are another's).
 */
enum journal_error journal_format(struct journal *j);
/*
 * Finds the newest superblock, replays every record of the chain home; the
 * log keeps the newest.  The next record is numbered JOURNAL_PIPELINE + 1
 * past it, or past tail_seq when the chain is empty (its first record then
 * needs a new superblock: journal_format or journal_release writes it).
 * Until then j->next_seq - 1 stays the newest recovered (j->skip is set).
 * The newest record's state goes into state[] when it is no larger than
 * state_max (a record of another layer 0 may hold a larger one): the caller
 * compares state_bytes with what it expects.
 */
enum journal_error journal_recover(struct journal *j, void *state, uint32_t state_max,
    struct jrecovery *r);

/*
 * Starts writing a checkpoint record and returns at once: J_OK and *seq, or
 * J_NOSPACE (no room before the tail counting records in flight, or a failed
 * record's space must be cleared first: journal_release does both), J_TOOBIG,
 * J_BUSY (JOURNAL_PIPELINE in flight, or failed records not done yet).  The
 * state blob is copied.  pages[] itself is kept, not copied: the array and the
 * frames it names must stay allocated and unchanged until the record is done.
 */
enum journal_error journal_begin(struct journal *j, const struct jpage *pages, uint32_t n,
    const void *state, uint32_t state_bytes, uint64_t *seq);
/*
 * Moves every record in flight along without ever waiting: polls the device,
 * computes page checksums of submitted runs, submits heads, flushes, seals, and
 * requests that waited for a free slot.  Callable at any point where no other
 * journal call runs (an interrupt that hit layer 1).  At its end, with the
 * journal's state updated, calls j->done(j->ctx, seq, error) for each record
 * finished, in seq order: J_OK once it is durable with every record before
 * it, J_IOERR once a failed one has no request left in flight.  done may call
 * journal_durable, journal_in_flight and journal_begin.
 */
void journal_advance(struct journal *j);
/*
 * Waits (halting between polls) until record seq is done: J_OK or J_IOERR.
 * seq is in flight, or one of the last JOURNAL_PIPELINE * 2 records done.
 */
enum journal_error journal_wait(struct journal *j, uint64_t seq);
uint64_t journal_durable(const struct journal *j);	/* newest seq durable, with all before */
uint32_t journal_in_flight(const struct journal *j);	/* records begun and not done */
bool journal_writing(const struct journal *j);	/* the newest one has writes not sent yet */
/* begin + wait, for tests and simple callers; on J_OK durable as j->next_seq - 1. */
enum journal_error journal_commit(struct journal *j, const struct jpage *pages, uint32_t n,
    const void *state, uint32_t state_bytes);
/*
 * Records before seq are not needed any more (their pages are home and
 * flushed); the newest durable one stays.  seq is a record's number, or
 * anything past journal_durable() (which it stands for); never frees a record
 * in flight.  Waits: it also clears a failed record's space (journal_begin's
 * J_NOSPACE).
 */
enum journal_error journal_release(struct journal *j, uint64_t seq);
/* The blocks a record of n pages and state_bytes of state takes (for j->reserve). */
uint64_t journal_record_blocks(uint32_t n, uint32_t state_bytes);
const char *journal_error_name(enum journal_error e);

#endif
