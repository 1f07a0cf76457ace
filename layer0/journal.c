/*
 * The checkpoint journal (journal.h): the record format, the order of its
 * writes and flushes, and recovery.  It knows blocks and pages, not what a
 * checkpoint holds: the caller gives the pages and an opaque state blob.
 *
 * A record in flight is a small state machine that journal_advance() moves
 * on, never waiting:
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
 * written from the frames that hold them, never copied.  Recovery and the
 * superblocks use the same request slots synchronously, with nothing in flight.
 */
#include "defs.h"
#include "blkdev.h"
#include "journal.h"
#include "profile.h"
#include "strata/disk.h"

#define SECTORS		(JOURNAL_BLOCK / BLK_SECTOR_SIZE)
#define RUN_MAX		256	/* journal blocks in one request: 1 MiB */
#define INFLIGHT	8	/* requests of runs in flight at once */
#define REPLAY_RUN	64	/* pages of a record read, checked and written home at a time */
#define ENTRIES		(JOURNAL_BLOCK / sizeof(struct jentry))
#define HEAD_ENTRIES	3	/* a head block's first entries hold struct jhead */
#define FINISHED	(JOURNAL_PIPELINE * 2)	/* results journal_wait keeps */
#define PAGE_SUM_SEED	0x5354524154415047ULL	/* "STRATAPG" */
#define PAGE_SUM_MUL	0x9e3779b97f4a7c15ULL	/* odd: multiplying by it is a bijection */

struct jsuper {
	uint64_t magic;
	uint64_t generation;	/* the newer valid superblock wins */
	uint64_t start, nblocks; /* the journal area it describes */
	uint64_t install;
	uint64_t tail, tail_seq;
	uint32_t flags;		/* SUPER_TAIL_NEW */
	uint32_t crc;		/* CRC-32C of the fields above */
};

/*
 * The log is empty: no record was durable when this superblock was written,
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

_Static_assert(sizeof(struct jsuper) == 64, "journal superblock layout");
_Static_assert(sizeof(struct jhead) == HEAD_ENTRIES * sizeof(struct jentry), "record head layout");
_Static_assert(sizeof(struct jseal) == 64, "seal layout");

/* A record's geometry, from its page count and state size. */
struct shape {
	uint32_t n, state_bytes;
	uint64_t nh, ns, blocks;
};

static struct shape shape_of(uint32_t n, uint32_t state_bytes)
{
	struct shape s = { n, state_bytes, (n + HEAD_ENTRIES + ENTRIES - 1) / ENTRIES,
	    (state_bytes + JOURNAL_BLOCK - 1) / JOURNAL_BLOCK, 0 };

	s.blocks = s.nh + n + s.ns + 1;
	return s;
}

uint64_t journal_record_blocks(uint32_t n, uint32_t state_bytes)
{
	return shape_of(n, state_bytes).blocks;
}

const char *journal_error_name(enum journal_error e)
{
	static const char *const names[] = { [J_OK] = "ok", [J_IOERR] = "I/O error",
	    [J_NOSPACE] = "no space before the tail", [J_TOOBIG] = "larger than the journal takes",
	    [J_NONE] = "no journal of this install",
	    [J_NOSUPER] = "no whole superblock", [J_CORRUPT] = "a sealed record fails its checks",
	    [J_BUSY] = "records in flight" };

	return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

/* ---- scratch frames ---------------------------------------------------- */

/* n zeroed frames, their addresses in a page of their own; the machine stops without RAM. */
struct frames {
	uint64_t *pa;
	uint64_t n;
};

static uint64_t frame(void)
{
	uint64_t pa = pmm_alloc();

	if (pa == 0)
		panic("journal: out of memory for a scratch page");
	memset(p2v(pa), 0, PAGE_SIZE);
	return pa;
}

static struct frames frames_alloc(uint64_t n)
{
	struct frames f = { p2v(frame()), n };

	for (uint64_t i = 0; i < n; i++)
		f.pa[i] = frame();
	return f;
}

static void frames_free(struct frames f)
{
	for (uint64_t i = 0; i < f.n; i++)
		pmm_free(f.pa[i]);
	pmm_free(v2p(f.pa));
}

static uint32_t frames_crc(const uint64_t *pa, uint64_t n)
{
	uint32_t c = 0;

	for (uint64_t i = 0; i < n; i++)
		c = crc32c_extend(c, p2v(pa[i]), PAGE_SIZE);
	return c;
}

/* Entry i of a record whose head blocks are hp[]. */
static struct jentry *entry(const uint64_t *hp, uint32_t i)
{
	uint64_t slot = (uint64_t)i + HEAD_ENTRIES;

	return (struct jentry *)p2v(hp[slot / ENTRIES]) + slot % ENTRIES;
}

/* ---- I/O --------------------------------------------------------------- */

static enum journal_error rw(struct journal *j, enum blk_op op, uint64_t sector, uint64_t pa)
{
	return blk_rw_sync(j->dev, op, sector, SECTORS, &pa) == BLK_OK ? J_OK : J_IOERR;
}

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

/* A request of up to RUN_MAX blocks, with its own list of frames. */
struct slot {
	struct blkreq req;
	uint64_t pa[RUN_MAX];
	struct flight *owner;		/* 0: synchronous I/O */
	bool busy;
};

/*
 * The requests and the records in flight: one journal at a time writes.
 * Synchronous I/O (recovery, superblocks) takes the slots in turn while no
 * record is in flight.
 */
static struct {
	struct slot slot[INFLIGHT];
	uint32_t next;			/* synchronous I/O: the slot it takes next */
	bool failed;			/* synchronous I/O: a request failed */
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

static void io_reap(struct journal *j, struct slot *sl)
{
	if (sl->busy && blk_wait(j->dev, &sl->req) != BLK_OK)
		io.failed = true;
	sl->busy = false;
}

/* Starts I/O of n pages (n <= RUN_MAX) at sector from the frames pa[], once a slot is free. */
static void io_start(struct journal *j, enum blk_op op, uint64_t sector, const uint64_t *pa,
    uint32_t n)
{
	struct slot *sl = &io.slot[io.next];

	io_reap(j, sl);
	memcpy(sl->pa, pa, n * sizeof(*pa));
	sl->req = (struct blkreq){ .op = op, .sector = sector, .nsectors = n * SECTORS, .pages = sl->pa };
	sl->owner = 0;
	sl->busy = true;
	blk_submit(j->dev, &sl->req);	/* a final status stays in req.status */
	io.next = (io.next + 1) % INFLIGHT;
}

/* Waits for every request started: J_OK, or J_IOERR if any failed. */
static enum journal_error io_finish(struct journal *j)
{
	bool failed;

	for (uint32_t k = 0; k < INFLIGHT; k++)
		io_reap(j, &io.slot[k]);
	failed = io.failed;
	io.failed = false;
	return failed ? J_IOERR : J_OK;
}

static uint64_t block_sector(const struct journal *j, uint64_t block)
{
	return j->start / BLK_SECTOR_SIZE + block * SECTORS;
}

/* Starts reading or writing journal blocks [block, block + n) from or to the frames pa[]. */
static void blocks_start(struct journal *j, enum blk_op op, uint64_t block, const uint64_t *pa,
    uint64_t n)
{
	for (uint64_t done = 0; done < n; done += RUN_MAX) {
		uint64_t run = n - done < RUN_MAX ? n - done : RUN_MAX;

		io_start(j, op, block_sector(j, block + done), pa + done, (uint32_t)run);
	}
}

static enum journal_error blocks_rw(struct journal *j, enum blk_op op, uint64_t block,
    const uint64_t *pa, uint64_t n)
{
	blocks_start(j, op, block, pa, n);
	return io_finish(j);
}

static enum journal_error flush(struct journal *j)
{
	return blk_rw_sync(j->dev, BLK_FLUSH, 0, 0, 0) == BLK_OK ? J_OK : J_IOERR;
}

/* ---- superblocks ------------------------------------------------------- */

static uint32_t super_crc(const struct jsuper *s)
{
	return crc32c(s, offsetof(struct jsuper, crc));
}

static uint64_t super_sector(uint64_t generation)
{
	return (JOURNAL_SUPER_OFFSET + (generation & 1) * JOURNAL_BLOCK) / BLK_SECTOR_SIZE;
}

/*
 * Writes the next generation into the other slot and flushes; j moves only
 * once it is durable.  flags: SUPER_TAIL_NEW when the log is empty.
 */
static enum journal_error super_write(struct journal *j, uint64_t tail, uint64_t tail_seq,
    uint32_t flags)
{
	uint64_t pa = frame();
	struct jsuper *s = p2v(pa);
	enum journal_error e;

	*s = (struct jsuper){ JOURNAL_SUPER_MAGIC, j->generation + 1, j->start, j->nblocks, j->install,
	    tail, tail_seq, flags, 0 };
	s->crc = super_crc(s);
	e = rw(j, BLK_WRITE, super_sector(s->generation), pa);
	if (e == J_OK)
		e = flush(j);
	pmm_free(pa);
	if (e != J_OK)
		return e;
	j->generation++;
	j->tail = tail;
	j->tail_seq = tail_seq;
	j->tail_new = flags & SUPER_TAIL_NEW;
	return J_OK;
}

static bool super_valid(const struct journal *j, const struct jsuper *s)
{
	return s->magic == JOURNAL_SUPER_MAGIC && s->crc == super_crc(s) && s->start == j->start &&
	    s->nblocks == j->nblocks && s->install == j->install && s->tail < j->nblocks &&
	    s->tail_seq != 0;
}

/*
 * A superblock that is not this journal's: zero (never written) or whole
 * but of another install or layout, both of which leave nothing to recover.
 * Anything else is damage.
 */
static bool super_other(const struct journal *j, const struct jsuper *s)
{
	return s->magic == 0 || (s->magic == JOURNAL_SUPER_MAGIC && s->crc == super_crc(s)) ||
	    (s->magic == JOURNAL_SUPER_MAGIC_1 && s->crc == super_crc(s) && s->install != j->install);
}

/* This install's superblock of format 1, whose records this layer 0 cannot read. */
static bool super_old(const struct journal *j, const struct jsuper *s)
{
	return s->magic == JOURNAL_SUPER_MAGIC_1 && s->crc == super_crc(s) && s->install == j->install;
}

/*
 * The newer of the valid superblocks into j; J_NONE if neither is and
 * neither is damaged, J_NOSUPER if neither is and one is damaged or of
 * format 1 (journal.h says why that is refused).
 */
static enum journal_error super_read(struct journal *j, const char **why)
{
	uint64_t pa = frame();
	struct jsuper best = { 0 }, *s = p2v(pa);
	enum journal_error e = J_OK;
	bool damaged = false, old = false;

	for (uint64_t slot = 0; slot < 2 && e == J_OK; slot++) {
		e = rw(j, BLK_READ, super_sector(slot), pa);
		if (e == J_OK && super_valid(j, s) && s->generation > best.generation)
			best = *s;
		else if (e == J_OK && super_old(j, s))
			old = true;
		else if (e == J_OK && !super_other(j, s))
			damaged = true;
	}
	pmm_free(pa);
	if (e != J_OK)
		return e;
	if (best.magic == 0 && old) {
		*why = "an older layer 0's journal (format 1): its records cannot be read";
		return J_NOSUPER;
	}
	if (best.magic == 0 && damaged) {
		*why = "neither journal superblock is whole, and one is not blank";
		return J_NOSUPER;
	}
	if (best.magic == 0) {
		*why = "no journal of this install: never formatted, or another install's";
		return J_NONE;
	}
	j->generation = best.generation;
	j->tail = j->head = best.tail;
	j->tail_seq = best.tail_seq;
	j->tail_new = best.flags & SUPER_TAIL_NEW;
	return J_OK;
}

/* No record is in the log: the next one goes at the head, numbered tail_seq. */
static bool log_empty(const struct journal *j)
{
	return j->newest < j->tail_seq;
}

/* The numbers that may be on the disk past the newest issued or recovered are skipped now. */
static void skip_numbers(struct journal *j)
{
	if (j->skip)
		j->next_seq += JOURNAL_PIPELINE;
	j->skip = false;
}

enum journal_error journal_format(struct journal *j)
{
	enum journal_error e;

	if (io.n > 0)
		return J_BUSY;
	skip_numbers(j);
	if (j->next_seq == 0)
		j->next_seq = 1;
	j->generation = 0;
	if ((e = super_write(j, 0, j->next_seq, SUPER_TAIL_NEW)) != J_OK ||
	    (e = super_write(j, 0, j->next_seq, SUPER_TAIL_NEW)) != J_OK)
		return e;
	j->head = j->durable_end = 0;
	j->newest = j->durable = j->next_seq - 1;
	j->must_clear = j->stale_tail = false;
	return J_OK;
}

/* ---- writing a record -------------------------------------------------- */

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

/* The state blob into its blocks, and back out of them. */
static uint64_t state_chunk(uint32_t bytes, uint64_t i)
{
	uint64_t off = i * JOURNAL_BLOCK;

	return bytes - off < JOURNAL_BLOCK ? bytes - off : JOURNAL_BLOCK;
}

static void state_to_blocks(const struct frames *st, const void *state, uint32_t bytes)
{
	for (uint64_t i = 0; i < st->n; i++)
		memcpy(p2v(st->pa[i]), (const uint8_t *)state + i * JOURNAL_BLOCK, state_chunk(bytes, i));
}

static void state_from_blocks(const struct frames *st, void *state, uint32_t bytes)
{
	for (uint64_t i = 0; i < st->n; i++)
		memcpy((uint8_t *)state + i * JOURNAL_BLOCK, p2v(st->pa[i]), state_chunk(bytes, i));
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
		if (!io.slot[k].busy)
			return &io.slot[k];
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
		struct slot *sl = &io.slot[k];

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

/*
 * A page's checksum in its entry: a multiply-rotate hash of its 512 words,
 * folded to 32 bits.  Each step is a bijection of the running value for a
 * given word, so pages that differ in one run of words (a torn sector, a
 * stale page) differ in the result but for a 2^-32 chance.  It is not
 * CRC-32C: under emulation the table CRC costs about as much as the disk
 * writes of a checkpoint (270 MB/s), and this costs a fraction of it.
 */
static uint32_t page_sum(const void *page)
{
	const uint64_t *w = page;
	uint64_t h = PAGE_SUM_SEED;

	for (uint64_t i = 0; i < PAGE_SIZE / 8; i++) {
		h = (h ^ w[i]) * PAGE_SUM_MUL;
		h = h << 31 | h >> 33;
	}
	return (uint32_t)(h ^ h >> 32);
}

/* The entries of the pages whose run went out: the pages cannot change until the record is done. */
static void entries_fill(struct flight *r)
{
	uint64_t upto = (uint64_t)r->sent * RUN_MAX;

	for (; r->summed < r->s.n && r->summed < upto; r->summed++) {
		const struct jpage *p = &r->pages[r->summed];

		*entry(r->h.pa, r->summed) = (struct jentry){ p->home, page_sum(p2v(p->pa)), 0 };
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
	    .pages = pages, .h = frames_alloc(s.nh), .st = frames_alloc(s.ns), .seal_pa = frame(),
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
		if (io.slot[k].busy)
			return &io.slot[k].req;
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
		uint64_t pa = frame();

		e = rw(j, BLK_WRITE, block_sector(j, j->clear_at), pa);
		if (e == J_OK)
			e = flush(j);
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

/* ---- recovery ---------------------------------------------------------- */

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
	uint64_t pa = frame();
	struct jhead h;
	struct jseal *seal = &f->seal;
	enum journal_error e = blocks_rw(j, BLK_READ, at, &pa, 1);

	*yes = false;
	memcpy(&h, p2v(pa), sizeof(h));
	if (e == J_OK && h.magic == JOURNAL_HEAD_MAGIC && h.install == j->install &&
	    (first ? h.seq == j->tail_seq : h.prev == prev && h.seq > prev) &&
	    h.npages <= JOURNAL_PAGES_MAX && h.state_bytes <= JOURNAL_STATE_MAX) {
		f->at = at;
		f->s = shape_of(h.npages, h.state_bytes);
		if (f->s.blocks <= j->nblocks - at)
			e = blocks_rw(j, BLK_READ, at + f->s.blocks - 1, &pa, 1);
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
	e = blocks_rw(j, BLK_READ, f->at, f->h.pa, f->h.n);
	if (e == J_OK)
		e = blocks_rw(j, BLK_READ, f->at + f->s.nh + f->s.n, f->st.pa, f->st.n);
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

		e = blocks_rw(j, BLK_READ, f->at + f->s.nh + done, run.pa, k);
		for (uint32_t i = 0; e == J_OK && *whole && i < k; i++) {
			const struct jentry *en = entry(f->h.pa, done + i);

			if (en->home < STRATA_DISK_HEAD_SIZE / PAGE_SIZE || en->home >= j->home_limit) {
				*why = "a sealed record names a page outside layer 1's part of the disk";
				e = J_CORRUPT;
			} else if (page_sum(p2v(run.pa[i])) != en->crc) {
				*whole = false;
			} else if (pages != 0) {
				io_start(j, BLK_WRITE, en->home * SECTORS, &run.pa[i], 1);
				(*pages)++;
			}
		}
		if (io_finish(j) != J_OK && e == J_OK)
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
    struct jrecovery *r, bool *end)
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
		state_from_blocks(&f->st, state, f->s.state_bytes);
		r->state_bytes = f->s.state_bytes;
		r->seq = f->seal.seq;
		r->records++;
	}
	return e;
}

enum journal_error journal_recover(struct journal *j, void *state, struct jrecovery *r)
{
	enum journal_error e = io.n > 0 ? J_BUSY : super_read(j, &r->why);
	uint64_t at = j->tail, newest = 0;
	struct found f;
	bool yes, end = false;

	r->records = r->pages = r->seq = r->torn = 0;
	r->state_bytes = 0;
	while (e == J_OK && !end &&
	    (e = record_next(j, at, r->records == 0, r->seq, &f, &yes)) == J_OK && yes) {
		e = record_take(j, &f, state, r, &end);
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
	if (e == J_OK && r->records > 1 && (e = flush(j)) == J_OK)
		e = super_write(j, newest, r->seq, 0);
	if (e == J_OK)
		recovered(j, r, newest);
	return e;
}
