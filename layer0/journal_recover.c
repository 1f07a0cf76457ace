/*
 * Recovery (journal.h, journal.c): the walk along the chain of sealed
 * records from the tail, the checks of each, and the replay of the whole
 * ones.  It runs with no record in flight, its I/O synchronous.
 */
#include "journal_impl.h"

#define REPLAY_RUN	64	/* pages of a record read, checked and written home at a time */

/* A sealed record found in the log: where it is, and its head and state blocks read in. */
struct found {
	uint64_t at;
	struct shape s;
	struct jseal seal;
	struct frames h, st;
};

/*
 * Whether the chain goes on at `at` with a sealed record (head block 0 and
 * seal only): the first one numbered tail_seq, any other one naming prev.
 */
static enum journal_error sealed_at(struct journal *j, uint64_t at, bool first, uint64_t prev,
    struct found *f, bool *yes)
{
	uint64_t pa = scratch_page();
	struct jhead h;
	struct jseal *seal = &f->seal;
	enum journal_error e = sync_blocks(j, BLK_READ, at, &pa, 1);

	*yes = false;
	memcpy(&h, p2v(pa), sizeof(h));
	if (e == J_OK && h.magic == JOURNAL_HEAD_MAGIC && h.install == j->install &&
	    (first ? h.seq == j->tail_seq : h.prev == prev && h.seq > prev) &&
	    h.npages <= JOURNAL_PAGES_MAX && h.state_bytes <= JOURNAL_STATE_MAX) {
		f->at = at;
		f->s = shape_of(h.npages, h.state_bytes);
		if (f->s.blocks <= j->nblocks - at)
			e = sync_blocks(j, BLK_READ, at + f->s.blocks - 1, &pa, 1);
		memcpy(seal, p2v(pa), sizeof(*seal));
		*yes = e == J_OK && f->s.blocks <= j->nblocks - at && seal->magic == JOURNAL_SEAL_MAGIC &&
		    seal->crc == crc32c(seal, offsetof(struct jseal, crc)) && seal->seq == h.seq &&
		    seal->prev == h.prev && seal->install == j->install && seal->at == at &&
		    seal->blocks == f->s.blocks;
	}
	pmm_free(pa);
	return e;
}

/*
 * Reads a sealed record's head and state blocks; *whole: they match the
 * CRCs in the seal sealed_at read.
 */
static enum journal_error record_read(struct journal *j, struct found *f, bool *whole)
{
	enum journal_error e;

	f->h = frames_alloc(f->s.nh);
	f->st = frames_alloc(f->s.ns);
	e = sync_blocks(j, BLK_READ, f->at, f->h.pa, f->h.n);
	if (e == J_OK)
		e = sync_blocks(j, BLK_READ, f->at + f->s.nh + f->s.n, f->st.pa, f->st.n);
	*whole = e == J_OK && frames_crc(f->h.pa, f->h.n) == f->seal.head_crc &&
	    frames_crc(f->st.pa, f->st.n) == f->seal.state_crc;
	return e;
}

static void record_free(struct found *f)
{
	frames_free(f->h);
	frames_free(f->st);
}

/* The record that was durable when f's began, from f's whole head. */
static uint64_t record_durable_claim(const struct found *f)
{
	return ((const struct jhead *)p2v(f->h.pa[0]))->durable;
}

/*
 * One pass over the pages of a sealed record whose head is whole, read
 * REPLAY_RUN at a time.  The check (pages == 0) says in *whole whether each
 * matches its checksum; the replay (after a check found it whole) writes
 * each home, counting them in *pages.  A page named outside layer 1's part
 * of the disk is J_CORRUPT (the head that names it is the one layer 0 wrote),
 * and so is one the replay reads back unlike the check.
 */
static enum journal_error pages_pass(struct journal *j, const struct found *f, bool *whole,
    uint64_t *pages, const char **why)
{
	struct frames run = frames_alloc(REPLAY_RUN);
	enum journal_error e = J_OK;

	*whole = true;
	for (uint32_t done = 0; e == J_OK && *whole && done < f->s.n; done += REPLAY_RUN) {
		uint32_t k = f->s.n - done < REPLAY_RUN ? f->s.n - done : REPLAY_RUN;

		e = sync_blocks(j, BLK_READ, f->at + f->s.nh + done, run.pa, k);
		for (uint32_t i = 0; e == J_OK && *whole && i < k; i++) {
			const struct jentry *en = head_entry(f->h.pa, done + i);

			if (en->home < STRATA_DISK_HEAD_SIZE / PAGE_SIZE || en->home >= j->home_limit) {
				*why = "a sealed record names a page outside layer 1's part of the disk";
				e = J_CORRUPT;
			} else if (page_sum(p2v(run.pa[i])) != en->crc) {
				*whole = false;
			} else if (pages != 0) {
				sync_start(j, BLK_WRITE, en->home * SECTORS, &run.pa[i], 1);
				(*pages)++;
			}
		}
		if (sync_finish(j) != J_OK && e == J_OK)
			e = J_IOERR;	/* the frames are read into again next */
	}
	frames_free(run);
	if (e == J_OK && !*whole && pages != 0) {
		*why = "a page of a sealed record read back unlike the check before";
		e = J_CORRUPT;
	}
	return e;
}

/* The next sealed record of the chain after the one that ended at `at`: there, or wrapped to block 0. */
static enum journal_error record_next(struct journal *j, uint64_t at, bool first, uint64_t prev,
    struct found *f, bool *yes)
{
	enum journal_error e = J_OK;

	*yes = false;
	if (at < j->nblocks)
		e = sealed_at(j, at, first, prev, f, yes);
	if (e == J_OK && !*yes && at != 0)
		e = sealed_at(j, 0, first, prev, f, yes);
	return e;
}

/*
 * Where the walk left the journal: the newest record found is durable and
 * the next one follows it, numbered past any of a life cut short (those may
 * be on the disk, sealed or not: skip).  With none found the log is empty,
 * and its first record needs a superblock numbering it (stale_tail).
 */
static void recovered(struct journal *j, const struct jrecovery *r, uint64_t newest_at)
{
	uint64_t base = r->records > 0 ? r->seq : j->tail_seq;

	j->durable = j->newest = r->records > 0 ? r->seq : j->tail_seq - 1;
	j->durable_end = j->head;
	j->next_seq = base + 1;
	j->skip = true;
	j->must_clear = false;
	j->stale_tail = r->records == 0;
	if (r->records > 0)
		j->live_at[r->seq % JOURNAL_LIVE_MAX] = newest_at;
}

/*
 * Whether a record of the chain after the torn record f says f was durable
 * when it began: then the tear is damage, not a cut.  The records after f
 * were never durable themselves, but any whose head is whole says what was.
 */
static enum journal_error claimed_durable(struct journal *j, const struct found *f, bool *claimed)
{
	uint64_t at = f->at + f->s.blocks, prev = f->seal.seq;
	enum journal_error e = J_OK;
	struct found g;
	bool yes, whole;

	*claimed = false;
	for (uint32_t k = 0; e == J_OK && !*claimed && k < JOURNAL_LIVE_MAX; k++) {
		if ((e = record_next(j, at, false, prev, &g, &yes)) != J_OK || !yes)
			break;
		e = record_read(j, &g, &whole);
		*claimed = e == J_OK && whole && record_durable_claim(&g) >= f->seal.seq;
		record_free(&g);
		at = g.at + g.s.blocks;
		prev = g.seal.seq;
	}
	return e;
}

/*
 * A sealed record that is not whole: a cut before the flush after its seal
 * (so the chain ends before it), or damage when it was durable: the tail
 * record of a log that is not empty, or one a later record says was.
 */
static enum journal_error torn(struct journal *j, const struct found *f, bool first,
    const char **why)
{
	enum journal_error e = J_OK;
	bool claimed = false;

	if (first && !j->tail_new) {
		*why = "the oldest record, durable when the log was last trimmed, fails its checksums";
		return J_CORRUPT;
	}
	if ((e = claimed_durable(j, f, &claimed)) == J_OK && claimed) {
		*why = "a sealed record that a later record says was durable fails its checksums";
		e = J_CORRUPT;
	}
	return e;
}

/*
 * Replays sealed record f, whose head was read: if it is whole, its pages
 * go home and its state is the newest; if not, the chain ends before it
 * (*end), unless torn() calls it damage.
 */
static enum journal_error record_take(struct journal *j, struct found *f, void *state,
    uint32_t state_max, struct jrecovery *r, bool *end)
{
	bool first = r->records == 0, whole;
	enum journal_error e = record_read(j, f, &whole);

	if (e == J_OK && whole)
		e = pages_pass(j, f, &whole, 0, &r->why);
	if (e == J_OK && !whole) {
		*end = true;
		r->torn = f->seal.seq;
		return torn(j, f, first, &r->why);
	}
	if (e == J_OK)
		e = pages_pass(j, f, &whole, &r->pages, &r->why);
	if (e == J_OK) {
		if (f->s.state_bytes <= state_max)
			state_from_blocks(&f->st, state, f->s.state_bytes);
		r->state_bytes = f->s.state_bytes;
		r->seq = f->seal.seq;
		r->records++;
	}
	return e;
}

enum journal_error journal_recover(struct journal *j, void *state, uint32_t state_max,
    struct jrecovery *r)
{
	enum journal_error e = journal_in_flight(j) > 0 ? J_BUSY : super_read(j, &r->why);
	uint64_t at = j->tail, newest = 0;
	struct found f;
	bool yes, end = false;

	r->records = r->pages = r->seq = r->torn = 0;
	r->state_bytes = 0;
	while (e == J_OK && !end &&
	    (e = record_next(j, at, r->records == 0, r->seq, &f, &yes)) == J_OK && yes) {
		e = record_take(j, &f, state, state_max, r, &end);
		if (e == J_OK && !end) {
			newest = f.at;
			at = j->head = f.at + f.s.blocks;
		}
		record_free(&f);
	}
	/*
	 * Every whole record is home: flush that, then the log keeps only the
	 * newest, whose state a cut before the next checkpoint resumes again
	 * (replaying its pages once more is harmless).
	 */
	if (e == J_OK && r->records > 1 && (e = sync_flush(j)) == J_OK)
		e = super_write(j, newest, r->seq, 0);
	if (e == J_OK)
		recovered(j, r, newest);
	return e;
}

