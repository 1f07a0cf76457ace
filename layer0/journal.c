/*
 * The checkpoint journal (journal.h): the record format, the order of its
 * writes and flushes, and recovery.  It knows blocks and pages, not what a
 * checkpoint holds: the caller gives the pages and an opaque state blob.
 *
 * Writes and reads go in requests of up to RUN_MAX contiguous blocks (1 MiB),
 * INFLIGHT of them at once, and every step waits for all of its requests
 * before the flush that orders it.  Head and state blocks are built in
 * scratch frames; a record's pages are written from the frames that hold
 * them, never copied.
 */
#include "defs.h"
#include "blkdev.h"
#include "journal.h"
#include "strata/disk.h"

#define SECTORS		(JOURNAL_BLOCK / BLK_SECTOR_SIZE)
#define RUN_MAX		256	/* journal blocks in one request: 1 MiB */
#define INFLIGHT	8	/* requests in flight at once */
#define REPLAY_RUN	64	/* pages of a record read, checked and written home at a time */
#define ENTRIES		(JOURNAL_BLOCK / sizeof(struct jentry))

struct jsuper {
	uint64_t magic;
	uint64_t generation;	/* the newer valid superblock wins */
	uint64_t start, nblocks; /* the journal area it describes */
	uint64_t install;
	uint64_t tail, tail_seq;
	uint32_t reserved;
	uint32_t crc;		/* CRC-32C of the fields above */
};

struct jentry {
	uint64_t home;		/* disk offset / 4 KiB */
	uint32_t crc;		/* of the page's 4 KiB */
	uint32_t reserved;
};

/* A record's first block starts with this; its entries follow, entry i at slot i + 2. */
struct jhead {
	uint64_t magic;
	uint64_t seq;
	uint64_t install;
	uint32_t npages;
	uint32_t state_bytes;
};

struct jseal {
	uint64_t magic;
	uint64_t seq;
	uint64_t install;
	uint64_t at;		/* the block the record starts at */
	uint64_t blocks;	/* its length, this seal included */
	uint32_t head_crc;	/* CRC-32C of the head blocks */
	uint32_t state_crc;	/* and of the state blocks */
	uint32_t reserved;
	uint32_t crc;		/* of the fields above */
};

_Static_assert(sizeof(struct jsuper) == 64, "journal superblock layout");
_Static_assert(sizeof(struct jhead) == 2 * sizeof(struct jentry), "record head layout");
_Static_assert(sizeof(struct jseal) == 56, "seal layout");

/* A record's geometry, from its page count and state size. */
struct shape {
	uint32_t n, state_bytes;
	uint64_t nh, ns, blocks;
};

static struct shape shape_of(uint32_t n, uint32_t state_bytes)
{
	struct shape s = { n, state_bytes, (n + 2 + ENTRIES - 1) / ENTRIES,
	    (state_bytes + JOURNAL_BLOCK - 1) / JOURNAL_BLOCK, 0 };

	s.blocks = s.nh + n + s.ns + 1;
	return s;
}

const char *journal_error_name(enum journal_error e)
{
	static const char *const names[] = { [J_OK] = "ok", [J_IOERR] = "I/O error",
	    [J_NOSPACE] = "no space before the tail", [J_TOOBIG] = "larger than the journal takes",
	    [J_NONE] = "no journal of this install",
	    [J_NOSUPER] = "no whole superblock", [J_CORRUPT] = "a sealed record fails its checks" };

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
	uint64_t slot = (uint64_t)i + 2;

	return (struct jentry *)p2v(hp[slot / ENTRIES]) + slot % ENTRIES;
}

/* ---- I/O --------------------------------------------------------------- */

static enum journal_error rw(struct journal *j, enum blk_op op, uint64_t sector, uint64_t pa)
{
	return blk_rw_sync(j->dev, op, sector, SECTORS, &pa) == BLK_OK ? J_OK : J_IOERR;
}

/* The requests in flight, each with its own list of frames (the journal runs one step at a time). */
static struct {
	struct blkreq req[INFLIGHT];
	uint64_t pa[INFLIGHT][RUN_MAX];
	bool busy[INFLIGHT];
	uint32_t next;
	bool failed;
} io;

static void io_reap(struct journal *j, uint32_t slot)
{
	if (io.busy[slot] && blk_wait(j->dev, &io.req[slot]) != BLK_OK)
		io.failed = true;
	io.busy[slot] = false;
}

/* Starts I/O of n pages (n <= RUN_MAX) at sector from the frames pa[], once a slot is free. */
static void io_start(struct journal *j, enum blk_op op, uint64_t sector, const uint64_t *pa,
    uint32_t n)
{
	uint32_t slot = io.next;

	io_reap(j, slot);
	memcpy(io.pa[slot], pa, n * sizeof(*pa));
	io.req[slot] = (struct blkreq){ .op = op, .sector = sector, .nsectors = n * SECTORS,
	    .pages = io.pa[slot] };
	io.busy[slot] = true;
	blk_submit(j->dev, &io.req[slot]);	/* a final status stays in req.status */
	io.next = (slot + 1) % INFLIGHT;
}

/* Waits for every request started: J_OK, or J_IOERR if any failed. */
static enum journal_error io_finish(struct journal *j)
{
	bool failed;

	for (uint32_t slot = 0; slot < INFLIGHT; slot++)
		io_reap(j, slot);
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

/* Writes the next generation into the other slot and flushes; j moves only once it is durable. */
static enum journal_error super_write(struct journal *j, uint64_t tail, uint64_t tail_seq)
{
	uint64_t pa = frame();
	struct jsuper *s = p2v(pa);
	enum journal_error e;

	*s = (struct jsuper){ JOURNAL_SUPER_MAGIC, j->generation + 1, j->start, j->nblocks, j->install,
	    tail, tail_seq, 0, 0 };
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
static bool super_other(const struct jsuper *s)
{
	return s->magic == 0 || (s->magic == JOURNAL_SUPER_MAGIC && s->crc == super_crc(s));
}

/*
 * The newer of the valid superblocks into j; J_NONE if neither is and
 * neither is damaged, J_NOSUPER if neither is and one is damaged.
 */
static enum journal_error super_read(struct journal *j, const char **why)
{
	uint64_t pa = frame();
	struct jsuper best = { 0 }, *s = p2v(pa);
	enum journal_error e = J_OK;
	bool damaged = false;

	for (uint64_t slot = 0; slot < 2 && e == J_OK; slot++) {
		e = rw(j, BLK_READ, super_sector(slot), pa);
		if (e == J_OK && super_valid(j, s) && s->generation > best.generation)
			best = *s;
		else if (e == J_OK && !super_other(s))
			damaged = true;
	}
	pmm_free(pa);
	if (e != J_OK)
		return e;
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
	j->tail_seq = j->next_seq = best.tail_seq;
	return J_OK;
}

enum journal_error journal_format(struct journal *j)
{
	enum journal_error e;

	j->generation = 0;
	if ((e = super_write(j, 0, 1)) != J_OK || (e = super_write(j, 0, 1)) != J_OK)
		return e;
	j->head = 0;
	j->next_seq = 1;
	return J_OK;
}

/* ---- writing a record -------------------------------------------------- */

/* Where a record of `blocks` goes: at the head, or wrapped to block 0; -1 if neither is free. */
static int64_t record_place(const struct journal *j, uint64_t blocks)
{
	if (j->next_seq - j->tail_seq >= JOURNAL_LIVE_MAX)
		return -1;
	if (j->tail_seq == j->next_seq)			/* empty */
		return j->head + blocks <= j->nblocks ? (int64_t)j->head : 0;
	if (j->tail < j->head) {			/* live: [tail, head) */
		if (j->head + blocks <= j->nblocks)
			return (int64_t)j->head;
		return blocks <= j->tail ? 0 : -1;
	}
	return j->head + blocks <= j->tail ? (int64_t)j->head : -1; /* live wraps: free [head, tail) */
}

/* The head blocks: the record's identity, then each page's home and CRC. */
static void head_fill(const struct journal *j, const struct frames *h, const struct jpage *pages,
    const struct shape *s)
{
	*(struct jhead *)p2v(h->pa[0]) = (struct jhead){ JOURNAL_HEAD_MAGIC, j->next_seq, j->install, s->n,
	    s->state_bytes };
	for (uint32_t i = 0; i < s->n; i++)
		*entry(h->pa, i) = (struct jentry){ pages[i].home, crc32c(p2v(pages[i].pa), PAGE_SIZE), 0 };
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

/* Starts writing the pages from the frames that hold them, RUN_MAX to a request. */
static void pages_start(struct journal *j, uint64_t block, const struct jpage *pages, uint32_t n)
{
	uint64_t run[RUN_MAX];

	for (uint32_t done = 0; done < n; done += RUN_MAX) {
		uint32_t k = n - done < RUN_MAX ? n - done : RUN_MAX;

		for (uint32_t i = 0; i < k; i++)
			run[i] = pages[done + i].pa;
		io_start(j, BLK_WRITE, block_sector(j, block + done), run, k);
	}
}

/* Step 1: head, pages and state at `at`, then a flush. */
static enum journal_error record_write(struct journal *j, uint64_t at, const struct frames *h,
    const struct jpage *pages, uint32_t n, const struct frames *st)
{
	enum journal_error e;

	blocks_start(j, BLK_WRITE, at, h->pa, h->n);
	pages_start(j, at + h->n, pages, n);
	blocks_start(j, BLK_WRITE, at + h->n + n, st->pa, st->n);
	e = io_finish(j);
	return e == J_OK ? flush(j) : e;
}

/* Step 2: the seal, then a flush: from here the checkpoint is durable. */
static enum journal_error record_seal(struct journal *j, uint64_t at, const struct frames *h,
    const struct frames *st, uint64_t blocks)
{
	uint64_t pa = frame();
	struct jseal *seal = p2v(pa);
	enum journal_error e;

	*seal = (struct jseal){ JOURNAL_SEAL_MAGIC, j->next_seq, j->install, at, blocks,
	    frames_crc(h->pa, h->n), frames_crc(st->pa, st->n), 0, 0 };
	seal->crc = crc32c(seal, offsetof(struct jseal, crc));
	e = blocks_rw(j, BLK_WRITE, at + blocks - 1, &pa, 1);
	pmm_free(pa);
	return e == J_OK ? flush(j) : e;
}

enum journal_error journal_commit(struct journal *j, const struct jpage *pages, uint32_t n,
    const void *state, uint32_t state_bytes)
{
	struct shape s = shape_of(n, state_bytes);
	struct frames h, st;
	enum journal_error e;
	int64_t at;

	if (n > JOURNAL_PAGES_MAX || state_bytes > JOURNAL_STATE_MAX || s.blocks >= j->nblocks)
		return J_TOOBIG;
	if ((at = record_place(j, s.blocks)) < 0)
		return J_NOSPACE;
	h = frames_alloc(s.nh);
	st = frames_alloc(s.ns);
	head_fill(j, &h, pages, &s);
	state_to_blocks(&st, state, state_bytes);
	e = record_write(j, (uint64_t)at, &h, pages, n, &st);
	if (e == J_OK)
		e = record_seal(j, (uint64_t)at, &h, &st, s.blocks);
	frames_free(h);
	frames_free(st);
	if (e != J_OK)
		return e;
	j->live_at[j->next_seq % JOURNAL_LIVE_MAX] = (uint64_t)at;
	j->head = (uint64_t)at + s.blocks;
	j->next_seq++;
	return J_OK;
}

/* The newest record always stays: it holds the state a resume starts from. */
enum journal_error journal_release(struct journal *j, uint64_t seq)
{
	if (seq >= j->next_seq)
		seq = j->next_seq - 1;
	if (seq <= j->tail_seq)
		return J_OK;
	return super_write(j, j->live_at[seq % JOURNAL_LIVE_MAX], seq);
}

/* ---- recovery ---------------------------------------------------------- */

/* A sealed record found in the log: where it is, and its head and state blocks read in. */
struct found {
	uint64_t at;
	struct shape s;
	struct jseal seal;
	struct frames h, st;
};

/* Whether the record numbered seq starts at `at` and is sealed (head block 0 and seal only). */
static enum journal_error sealed_at(struct journal *j, uint64_t at, uint64_t seq, struct found *f,
    bool *yes)
{
	uint64_t pa = frame();
	struct jhead h;
	struct jseal *seal = &f->seal;
	enum journal_error e = blocks_rw(j, BLK_READ, at, &pa, 1);

	*yes = false;
	memcpy(&h, p2v(pa), sizeof(h));
	if (e == J_OK && h.magic == JOURNAL_HEAD_MAGIC && h.seq == seq && h.install == j->install &&
	    h.npages <= JOURNAL_PAGES_MAX && h.state_bytes <= JOURNAL_STATE_MAX) {
		f->at = at;
		f->s = shape_of(h.npages, h.state_bytes);
		if (f->s.blocks <= j->nblocks - at)
			e = blocks_rw(j, BLK_READ, at + f->s.blocks - 1, &pa, 1);
		memcpy(seal, p2v(pa), sizeof(*seal));
		*yes = e == J_OK && f->s.blocks <= j->nblocks - at && seal->magic == JOURNAL_SEAL_MAGIC &&
		    seal->crc == crc32c(seal, offsetof(struct jseal, crc)) && seal->seq == seq &&
		    seal->install == j->install && seal->at == at && seal->blocks == f->s.blocks;
	}
	pmm_free(pa);
	return e;
}

/* Reads a sealed record's head and state blocks and checks them against the seal sealed_at read. */
static enum journal_error record_read(struct journal *j, struct found *f, const char **why)
{
	enum journal_error e;

	f->h = frames_alloc(f->s.nh);
	f->st = frames_alloc(f->s.ns);
	e = blocks_rw(j, BLK_READ, f->at, f->h.pa, f->h.n);
	if (e == J_OK)
		e = blocks_rw(j, BLK_READ, f->at + f->s.nh + f->s.n, f->st.pa, f->st.n);
	if (e == J_OK && (frames_crc(f->h.pa, f->h.n) != f->seal.head_crc ||
	    frames_crc(f->st.pa, f->st.n) != f->seal.state_crc)) {
		*why = "a sealed record's head or state does not match its seal";
		e = J_CORRUPT;
	}
	return e;
}

/* Writes a record's pages home, each checked against its CRC and its place on the disk. */
static enum journal_error record_replay(struct journal *j, const struct found *f, uint64_t *pages,
    const char **why)
{
	struct frames run = frames_alloc(REPLAY_RUN);
	enum journal_error e = J_OK;

	for (uint32_t done = 0; e == J_OK && done < f->s.n; done += REPLAY_RUN) {
		uint32_t k = f->s.n - done < REPLAY_RUN ? f->s.n - done : REPLAY_RUN;

		e = blocks_rw(j, BLK_READ, f->at + f->s.nh + done, run.pa, k);
		for (uint32_t i = 0; e == J_OK && i < k; i++) {
			const struct jentry *en = entry(f->h.pa, done + i);

			if (en->home < STRATA_DISK_HEAD_SIZE / PAGE_SIZE || en->home >= j->home_limit) {
				*why = "a sealed record names a page outside layer 1's part of the disk";
				e = J_CORRUPT;
			} else if (crc32c(p2v(run.pa[i]), PAGE_SIZE) != en->crc) {
				*why = "a page of a sealed record does not match its CRC";
				e = J_CORRUPT;
			} else {
				io_start(j, BLK_WRITE, en->home * SECTORS, &run.pa[i], 1);
				(*pages)++;
			}
		}
		if (io_finish(j) != J_OK && e == J_OK)
			e = J_IOERR;	/* the frames are read into again next */
	}
	frames_free(run);
	return e;
}

/* The next sealed record after the one that ended at `at`: there, or wrapped to block 0. */
static enum journal_error record_next(struct journal *j, uint64_t at, uint64_t seq, struct found *f,
    bool *yes)
{
	enum journal_error e = J_OK;

	*yes = false;
	if (at < j->nblocks)
		e = sealed_at(j, at, seq, f, yes);
	if (e == J_OK && !*yes && at != 0)
		e = sealed_at(j, 0, seq, f, yes);
	return e;
}

enum journal_error journal_recover(struct journal *j, void *state, struct jrecovery *r)
{
	enum journal_error e = super_read(j, &r->why);
	uint64_t at = j->tail, newest = 0;
	struct found f;
	bool yes;

	r->records = r->pages = r->seq = 0;
	r->state_bytes = 0;
	while (e == J_OK && (e = record_next(j, at, j->next_seq, &f, &yes)) == J_OK && yes) {
		e = record_read(j, &f, &r->why);
		if (e == J_OK)
			e = record_replay(j, &f, &r->pages, &r->why);
		if (e == J_OK) {
			state_from_blocks(&f.st, state, f.s.state_bytes);
			r->state_bytes = f.s.state_bytes;
			r->seq = j->next_seq;
			r->records++;
			newest = f.at;
			at = f.at + f.s.blocks;
			j->head = at;
			j->next_seq++;
		}
		frames_free(f.h);
		frames_free(f.st);
	}
	/*
	 * Every sealed record is home: flush that, then the log keeps only the
	 * newest, whose state a cut before the next checkpoint resumes again
	 * (replaying its pages once more is harmless).
	 */
	if (e == J_OK && r->records > 1 && (e = flush(j)) == J_OK)
		e = super_write(j, newest, r->seq);
	if (e == J_OK && r->records > 0)
		j->live_at[r->seq % JOURNAL_LIVE_MAX] = newest;
	return e;
}
