/*
 * Records in flight (journal.h, journal.c): the order of their writes and
 * flushes.  A record in flight is a small state machine that
 * journal_advance() moves on, never waiting:
 *   WRITING   its runs of up to RUN_MAX blocks go out as request slots free,
 *             pages and state first; the pages' entries (home, checksum) are filled
 *             once their run went out, and the head goes last, whole: all
 *             in journal_begin() itself when slots are free, not at the
 *             next completion;
 *   SEALING   every run went out, so the head is whole, and the seal (its
 *             CRC) goes out beside them: it waits for all of them to complete;
 *   POSTSEAL  it waits for a flush submitted after they completed;
 *   DURABLE   and leaves, in number order, once every record before it has.
 * Neither a flush nor a completion separates a record's writes from its
 * seal: such a flush cost as much as the one after the seal, and under
 * external synchrony every reply waits for each step.  So a cut may leave a
 * seal whose record is not whole (a torn record), and recovery checks every
 * block of a record against the checksums its head and seal hold before it
 * writes any page home (journal.h).
 * A failed request fails its record and every later one; a failed record
 * leaves once none of its requests is in flight.  Flushes are the journal's
 * own, each serving every record that waited when it went out; a record
 * whose writes complete while one is out sends its own at once.
 * Head and state blocks are built in scratch frames; a record's pages are
 * written from the frames that hold them, never copied.
 */
#include "journal_impl.h"

#define FINISHED	(JOURNAL_PIPELINE * 2)	/* results journal_wait keeps */

enum stage { WRITING, SEALING, POSTSEAL, DURABLE };

/* A record in flight. */
struct flight {
	uint64_t seq, prev, at;
	struct shape s;
	const struct jpage *pages;	/* the caller's, kept until the record is done */
	struct frames h, st;		/* head and state blocks */
	uint64_t seal_pa;
	struct blkreq seal;
	uint32_t runs, sent;		/* its write requests, and how many went out */
	uint32_t summed;		/* pages whose entry is in the head */
	uint32_t pending;		/* its requests not completed */
	bool sealed;			/* its seal completed (and left pending) */
	uint64_t flush;			/* the flush it waits for, in POSTSEAL */
	enum stage stage;
	uint64_t since;			/* when it entered its stage (profile.h; 0: off) */
	enum journal_error error;
};

/* The records in flight: one journal at a time writes. */
static struct {
	struct flight rec[JOURNAL_PIPELINE];
	uint32_t first, n;		/* the records in flight, oldest first, in rec[] as a ring */
	bool unwinding;			/* failed records are leaving */
	struct {
		struct blkreq req;
		uint64_t number;
		uint64_t t0;		/* when it went out (profile.h) */
		bool busy;
	} flush[JOURNAL_PIPELINE];	/* flushes out at once: at most one a record */
	uint64_t flushes_sent, flushes_done; /* numbers of the newest flush sent, and completed */
	struct {
		uint64_t seq;
		enum journal_error e;
	} fin[FINISHED];		/* the last records done, at seq % FINISHED */
} io;

/*
 * Where a record of `blocks` goes: at the head, or wrapped to block 0; -1 if
 * neither is free.  Unless it is the cleaning's, it leaves the reserve free
 * after it, and numbers for one more record, which may skip past a failure.
 */
static int64_t record_place(const struct journal *j, uint64_t blocks)
{
	uint64_t numbers = j->use_reserve ? 1 : JOURNAL_PIPELINE + 2;

	if (!j->use_reserve)
		blocks += j->reserve;
	if (j->next_seq + numbers - j->tail_seq > JOURNAL_LIVE_MAX)
		return -1;
	if (log_empty(j))
		return j->head + blocks <= j->nblocks ? (int64_t)j->head : 0;
	if (j->tail < j->head) {			/* live: [tail, head) */
		if (j->head + blocks <= j->nblocks)
			return (int64_t)j->head;
		return blocks <= j->tail ? 0 : -1;
	}
	return j->head + blocks <= j->tail ? (int64_t)j->head : -1; /* live wraps: free [head, tail) */
}

/*
 * A record's writes, in the order they go out: its pages, RUN_MAX to a
 * request, then its state blocks (one request), then its head blocks.
 */
static uint32_t page_runs(const struct shape *s)
{
	return (s->n + RUN_MAX - 1) / RUN_MAX;
}

static uint32_t runs_of(const struct shape *s)
{
	return page_runs(s) + (s->ns != 0) + (uint32_t)((s->nh + RUN_MAX - 1) / RUN_MAX);
}

static uint64_t min_run(uint64_t left)
{
	return left < RUN_MAX ? left : RUN_MAX;
}

/* Run k of record r: its first block and length, its frames into pa[]. */
static uint64_t run_of(const struct flight *r, uint32_t k, uint64_t *block, uint64_t *pa)
{
	uint32_t pr = page_runs(&r->s), sr = r->s.ns != 0;
	uint64_t first, n;

	if (k < pr) {
		first = (uint64_t)k * RUN_MAX;
		n = min_run(r->s.n - first);
		for (uint64_t i = 0; i < n; i++)
			pa[i] = r->pages[first + i].pa;
		*block = r->at + r->s.nh + first;
		return n;
	}
	if (k < pr + sr) {
		memcpy(pa, r->st.pa, r->s.ns * sizeof(*pa));
		*block = r->at + r->s.nh + r->s.n;
		return r->s.ns;
	}
	first = (uint64_t)(k - pr - sr) * RUN_MAX;
	n = min_run(r->s.nh - first);
	memcpy(pa, r->h.pa + first, n * sizeof(*pa));
	*block = r->at + first;
	return n;
}

/* The head goes out only once every page's entry is in it. */
static bool run_ready(const struct flight *r)
{
	return r->sent < page_runs(&r->s) + (r->s.ns != 0) || r->summed == r->s.n;
}

static struct flight *rec_at(uint32_t k)
{
	return &io.rec[(io.first + k) % JOURNAL_PIPELINE];
}

static struct slot *slot_free(void)
{
	for (uint32_t k = 0; k < INFLIGHT; k++)
		if (!journal_slots[k].busy)
			return &journal_slots[k];
	return 0;
}

/* Sends the runs of the records in flight, oldest first, while request slots are free. */
static void runs_send(struct journal *j)
{
	for (uint32_t k = 0; k < io.n; k++) {
		struct flight *r = rec_at(k);

		while (r->error == J_OK && r->sent < r->runs && run_ready(r)) {
			struct slot *sl = slot_free();
			uint64_t block, n;

			if (sl == 0)
				return;
			n = run_of(r, r->sent, &block, sl->pa);
			sl->req = (struct blkreq){ .op = BLK_WRITE, .sector = block_sector(j, block),
			    .nsectors = (uint32_t)(n * SECTORS), .pages = sl->pa };
			sl->owner = r;
			sl->busy = true;
			r->sent++;
			r->pending++;
			blk_submit(j->dev, &sl->req);
		}
	}
}

/* Record r failed, and so does every later one: their seals must never follow it. */
static void fail_from(struct flight *r)
{
	for (uint32_t k = 0; k < io.n; k++)
		if (rec_at(k)->seq >= r->seq)
			rec_at(k)->error = J_IOERR;
}

static void fail_undurable(void)
{
	for (uint32_t k = 0; k < io.n; k++)
		if (rec_at(k)->stage != DURABLE) {
			fail_from(rec_at(k));
			return;
		}
}

/* r moves to stage next; the profile counts the time it spent in the one it leaves. */
static void stage_to(struct flight *r, enum stage next)
{
	static const enum prof_stage left[] = { [WRITING] = PROF_J_WRITE,
	    [SEALING] = PROF_J_SEAL, [POSTSEAL] = PROF_J_POSTSEAL,
	    [DURABLE] = PROF_J_ORDER };

	prof_end(left[r->stage], r->since);
	r->since = prof_begin();
	r->stage = next;
}

/*
 * Completed flushes.  A flush makes durable every write that completed
 * before it went out, so one that completes makes every earlier-numbered
 * flush's records durable too, even if that one is still out.  A failed one
 * fails every record not durable yet, whatever a later one did.
 */
static void flushes_reap(void)
{
	bool failed = false;

	for (uint32_t k = 0; k < JOURNAL_PIPELINE; k++) {
		if (!io.flush[k].busy || io.flush[k].req.status == BLK_PENDING)
			continue;
		io.flush[k].busy = false;
		prof_end(PROF_J_FLUSH, io.flush[k].t0);
		if (io.flush[k].req.status != BLK_OK)
			failed = true;
		else if (io.flush[k].number > io.flushes_done)
			io.flushes_done = io.flush[k].number;
	}
	if (failed)
		fail_undurable();
}

/* Completed requests: runs, seals and flushes. */
static void reap(void)
{
	for (uint32_t k = 0; k < INFLIGHT; k++) {
		struct slot *sl = &journal_slots[k];

		if (!sl->busy || sl->owner == 0 || sl->req.status == BLK_PENDING)
			continue;
		sl->busy = false;
		sl->owner->pending--;
		if (sl->req.status != BLK_OK)
			fail_from(sl->owner);
	}
	for (uint32_t k = 0; k < io.n; k++) {
		struct flight *r = rec_at(k);

		if (r->stage != SEALING || r->sealed || r->seal.status == BLK_PENDING)
			continue;
		r->sealed = true;
		r->pending--;
		if (r->seal.status != BLK_OK)
			fail_from(r);
	}
	flushes_reap();
}

/* The entries of the pages whose run went out: the pages cannot change until the record is done. */
static void entries_fill(struct flight *r)
{
	uint64_t upto = (uint64_t)r->sent * RUN_MAX;

	for (; r->summed < r->s.n && r->summed < upto; r->summed++) {
		const struct jpage *p = &r->pages[r->summed];

		*head_entry(r->h.pa, r->summed) = (struct jentry){ p->home, page_sum(p2v(p->pa)), 0 };
	}
}

static void seal_send(struct journal *j, struct flight *r)
{
	struct jseal *seal = p2v(r->seal_pa);

	*seal = (struct jseal){ JOURNAL_SEAL_MAGIC, r->seq, r->prev, j->install, r->at, r->s.blocks,
	    frames_crc(r->h.pa, r->h.n), frames_crc(r->st.pa, r->st.n), 0, 0 };
	seal->crc = crc32c(seal, offsetof(struct jseal, crc));
	r->seal = (struct blkreq){ .op = BLK_WRITE, .sector = block_sector(j, r->at + r->s.blocks - 1),
	    .nsectors = SECTORS, .pages = &r->seal_pa };
	stage_to(r, SEALING);
	r->pending++;
	blk_submit(j->dev, &r->seal);
}

/* Moves record r on one step. */
static void step(struct journal *j, struct flight *r)
{
	if (r->error != J_OK)
		return;
	switch (r->stage) {
	case WRITING:
		entries_fill(r);
		if (r->sent == r->runs)
			seal_send(j, r);
		break;
	case SEALING:
		if (r->pending == 0) {
			r->flush = io.flushes_sent + 1;
			stage_to(r, POSTSEAL);
		}
		break;
	case POSTSEAL:
		if (io.flushes_done >= r->flush)
			stage_to(r, DURABLE);
		break;
	case DURABLE:
		break;
	}
}

/*
 * Sends all the records in flight can send now: their runs, each head once
 * its pages' entries are in it, each seal once its head went out.  Without
 * the second pass a head, and then its seal, would each wait for the next
 * completion to be sent, and every held reply with them.
 */
static void records_push(struct journal *j)
{
	for (int pass = 0; pass < 2; pass++) {
		runs_send(j);
		for (uint32_t k = 0; k < io.n; k++)
			step(j, rec_at(k));
	}
}

static int flush_free(void)
{
	for (int k = 0; k < JOURNAL_PIPELINE; k++)
		if (!io.flush[k].busy)
			return k;
	return -1;
}

/*
 * A flush goes out as soon as a record waits for one not sent yet, even
 * while earlier ones are out: waiting for those to come back first would
 * add their round trip through the device to every held reply.
 */
static void flush_send(struct journal *j)
{
	int f;

	for (uint32_t k = 0; k < io.n && (f = flush_free()) >= 0; k++) {
		struct flight *r = rec_at(k);

		if (r->error != J_OK || r->stage != POSTSEAL || r->flush <= io.flushes_sent)
			continue;
		io.flush[f].req = (struct blkreq){ .op = BLK_FLUSH };
		io.flush[f].number = ++io.flushes_sent;
		io.flush[f].t0 = prof_begin();
		io.flush[f].busy = true;
		blk_submit(j->dev, &io.flush[f].req);
	}
}

static bool finished(const struct flight *r)
{
	return r->error != J_OK ? r->pending == 0 : r->stage == DURABLE;
}

/*
 * After the last failed record left: the next one goes where the first
 * failed one went, numbered past every number that may be on the disk
 * (skip), and its space is cleared first (journal_release) if a failed seal
 * went out.
 */
static void unwind(struct journal *j)
{
	io.unwinding = false;
	j->head = j->durable_end;
	j->newest = j->durable;
	j->skip = true;
	if (log_empty(j)) {
		j->stale_tail = true;
		j->must_clear = false;
	}
}

/* The oldest record leaves. */
static void finish(struct journal *j, struct flight *r)
{
	if (r->error == J_OK) {
		prof_end(PROF_J_ORDER, r->since);
		j->durable = r->seq;
		j->durable_end = r->at + r->s.blocks;
	} else if (!io.unwinding) {
		io.unwinding = true;
		j->must_clear = r->stage >= SEALING;
		j->clear_at = r->at;
	}
	io.fin[r->seq % FINISHED].seq = r->seq;
	io.fin[r->seq % FINISHED].e = r->error;
	frames_free(r->h);
	frames_free(r->st);
	pmm_free(r->seal_pa);
	io.first = (io.first + 1) % JOURNAL_PIPELINE;
	io.n--;
	if (io.unwinding && io.n == 0)
		unwind(j);
}

enum journal_error journal_begin(struct journal *j, const struct jpage *pages, uint32_t n,
    const void *state, uint32_t state_bytes, uint64_t *seq)
{
	struct shape s = shape_of(n, state_bytes);
	struct flight *r;
	int64_t at;

	if (n > JOURNAL_PAGES_MAX || state_bytes > JOURNAL_STATE_MAX || s.blocks >= j->nblocks)
		return J_TOOBIG;
	if (io.n == JOURNAL_PIPELINE || (io.n > 0 && rec_at(io.n - 1)->error != J_OK))
		return J_BUSY;
	skip_numbers(j);
	if (j->must_clear || j->stale_tail || (at = record_place(j, s.blocks)) < 0)
		return J_NOSPACE;
	r = rec_at(io.n++);
	*r = (struct flight){ .seq = j->next_seq, .prev = j->newest, .at = (uint64_t)at, .s = s,
	    .pages = pages, .h = frames_alloc(s.nh), .st = frames_alloc(s.ns), .seal_pa = scratch_page(),
	    .runs = runs_of(&s), .stage = WRITING, .since = prof_begin(), .error = J_OK };
	*(struct jhead *)p2v(r->h.pa[0]) = (struct jhead){ JOURNAL_HEAD_MAGIC, r->seq, r->prev,
	    j->install, n, state_bytes, j->durable };
	state_to_blocks(&r->st, state, state_bytes);
	j->live_at[r->seq % JOURNAL_LIVE_MAX] = (uint64_t)at;
	j->head = (uint64_t)at + s.blocks;
	j->newest = r->seq;
	j->next_seq++;
	*seq = r->seq;
	blk_poll(j->dev);
	reap();		/* a failure already completed: no seal may follow it */
	records_push(j);
	return J_OK;
}

void journal_advance(struct journal *j)
{
	struct {
		uint64_t seq;
		enum journal_error e;
	} done[JOURNAL_PIPELINE];
	uint32_t ndone = 0;

	if (io.n == 0)
		return;
	blk_poll(j->dev);
	reap();
	records_push(j);
	flush_send(j);
	while (io.n > 0 && finished(rec_at(0))) {
		done[ndone].seq = rec_at(0)->seq;
		done[ndone++].e = rec_at(0)->error;
		finish(j, rec_at(0));
	}
	for (uint32_t k = 0; k < ndone && j->done != 0; k++)
		j->done(j->ctx, done[k].seq, done[k].e);
}

/*
 * A request of the journal not reaped yet (maybe completed since): every
 * record in flight has one, or waits for a record or flush that does.
 */
static struct blkreq *unreaped(void)
{
	for (uint32_t k = 0; k < INFLIGHT; k++)
		if (journal_slots[k].busy)
			return &journal_slots[k].req;
	for (uint32_t k = 0; k < io.n; k++)
		if (rec_at(k)->stage == SEALING && !rec_at(k)->sealed)
			return &rec_at(k)->seal;
	for (uint32_t k = 0; k < JOURNAL_PIPELINE; k++)
		if (io.flush[k].busy)
			return &io.flush[k].req;
	return 0;
}

/* Moves the journal on, then waits (blk_wait halts between polls) for one of its requests. */
static void advance_or_wait(struct journal *j)
{
	struct blkreq *req;

	journal_advance(j);
	if (io.n == 0)
		return;
	if ((req = unreaped()) == 0)
		panic("journal: %u records in flight and no request of theirs", io.n);
	blk_wait(j->dev, req);
}

static bool flying(uint64_t seq)
{
	for (uint32_t k = 0; k < io.n; k++)
		if (rec_at(k)->seq == seq)
			return true;
	return false;
}

enum journal_error journal_wait(struct journal *j, uint64_t seq)
{
	while (flying(seq))
		advance_or_wait(j);
	if (io.fin[seq % FINISHED].seq == seq)
		return io.fin[seq % FINISHED].e;
	return seq <= j->durable ? J_OK : J_IOERR;
}

uint64_t journal_durable(const struct journal *j)
{
	return j->durable;
}

uint32_t journal_in_flight(const struct journal *j)
{
	(void)j;
	return io.n;
}

bool journal_writing(const struct journal *j)
{
	const struct flight *r = io.n > 0 ? rec_at(io.n - 1) : 0;

	(void)j;
	return r != 0 && r->error == J_OK && r->stage == WRITING;
}

/*
 * Makes failed records' space reusable: zeroes the head of the first one,
 * whose seal went out (so that no record placed there later can be taken
 * with that seal), or, when the log is empty, writes a superblock numbering
 * its first record anew.  Waits; nothing is in flight (journal_begin refuses).
 */
static enum journal_error space_clear(struct journal *j)
{
	enum journal_error e = J_OK;

	if (j->must_clear) {
		uint64_t pa = scratch_page();

		e = sync_rw(j, BLK_WRITE, block_sector(j, j->clear_at), pa);
		if (e == J_OK)
			e = sync_flush(j);
		pmm_free(pa);
		j->must_clear = e != J_OK;
	}
	if (e == J_OK && j->stale_tail) {
		skip_numbers(j);
		if ((e = super_write(j, j->head, j->next_seq, SUPER_TAIL_NEW)) == J_OK)
			j->stale_tail = false;
	}
	return e;
}

enum journal_error journal_commit(struct journal *j, const struct jpage *pages, uint32_t n,
    const void *state, uint32_t state_bytes)
{
	enum journal_error e;
	uint64_t seq;

	while (io.n > 0)
		advance_or_wait(j);
	if ((e = space_clear(j)) != J_OK || (e = journal_begin(j, pages, n, state, state_bytes, &seq)) != J_OK)
		return e;
	return journal_wait(j, seq);
}

/* The newest durable record always stays: it holds the state a resume starts from. */
enum journal_error journal_release(struct journal *j, uint64_t seq)
{
	enum journal_error e = io.n == 0 ? space_clear(j) : J_OK;

	if (e != J_OK)
		return e;
	if (seq > j->durable)
		seq = j->durable;
	if (seq <= j->tail_seq)
		return J_OK;
	return super_write(j, j->live_at[seq % JOURNAL_LIVE_MAX], seq, 0);
}

