/*
 * The checkpoint journal (journal.h), in three files sharing journal_impl.h:
 *   journal.c          the record format's pieces (geometry, scratch frames,
 *                      page checksums), synchronous I/O and the superblocks
 *   journal_write.c    records in flight: the order of their writes, seals
 *                      and flushes
 *   journal_recover.c  recovery: the walk along the chain of sealed records,
 *                      their checks, and the replay of the whole ones
 * It knows blocks and pages, not what a checkpoint holds: the caller gives
 * the pages and an opaque state blob.  Recovery and the superblocks use the
 * request slots of the records synchronously, with no record in flight.
 */
#include "journal_impl.h"

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

_Static_assert(sizeof(struct jsuper) == 64, "journal superblock layout");

struct shape shape_of(uint32_t n, uint32_t state_bytes)
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

uint64_t scratch_page(void)
{
	uint64_t pa = pmm_alloc();

	if (pa == 0)
		panic("journal: out of memory for a scratch page");
	memset(p2v(pa), 0, PAGE_SIZE);
	return pa;
}

struct frames frames_alloc(uint64_t n)
{
	struct frames f = { p2v(scratch_page()), n };

	for (uint64_t i = 0; i < n; i++)
		f.pa[i] = scratch_page();
	return f;
}

void frames_free(struct frames f)
{
	for (uint64_t i = 0; i < f.n; i++)
		pmm_free(f.pa[i]);
	pmm_free(v2p(f.pa));
}

uint32_t frames_crc(const uint64_t *pa, uint64_t n)
{
	uint32_t c = 0;

	for (uint64_t i = 0; i < n; i++)
		c = crc32c_extend(c, p2v(pa[i]), PAGE_SIZE);
	return c;
}

/* Entry i of a record whose head blocks are hp[]. */
struct jentry *head_entry(const uint64_t *hp, uint32_t i)
{
	uint64_t slot = (uint64_t)i + HEAD_ENTRIES;

	return (struct jentry *)p2v(hp[slot / ENTRIES]) + slot % ENTRIES;
}

/*
 * A page's checksum in its entry: a multiply-rotate hash of its 512 words,
 * folded to 32 bits.  Each step is a bijection of the running value for a
 * given word, so pages that differ in one run of words (a torn sector, a
 * stale page) differ in the result but for a 2^-32 chance.  It is not
 * CRC-32C: under emulation the table CRC costs about as much as the disk
 * writes of a checkpoint (270 MB/s), and this costs a fraction of it.
 */
uint32_t page_sum(const void *page)
{
	const uint64_t *w = page;
	uint64_t h = PAGE_SUM_SEED;

	for (uint64_t i = 0; i < PAGE_SIZE / 8; i++) {
		h = (h ^ w[i]) * PAGE_SUM_MUL;
		h = h << 31 | h >> 33;
	}
	return (uint32_t)(h ^ h >> 32);
}

/* The state blob into its blocks, and back out of them. */
static uint64_t state_chunk(uint32_t bytes, uint64_t i)
{
	uint64_t off = i * JOURNAL_BLOCK;

	return bytes - off < JOURNAL_BLOCK ? bytes - off : JOURNAL_BLOCK;
}

void state_to_blocks(const struct frames *st, const void *state, uint32_t bytes)
{
	for (uint64_t i = 0; i < st->n; i++)
		memcpy(p2v(st->pa[i]), (const uint8_t *)state + i * JOURNAL_BLOCK, state_chunk(bytes, i));
}

void state_from_blocks(const struct frames *st, void *state, uint32_t bytes)
{
	for (uint64_t i = 0; i < st->n; i++)
		memcpy((uint8_t *)state + i * JOURNAL_BLOCK, p2v(st->pa[i]), state_chunk(bytes, i));
}

/* ---- synchronous I/O --------------------------------------------------- */

enum journal_error sync_rw(struct journal *j, enum blk_op op, uint64_t sector, uint64_t pa)
{
	return blk_rw_sync(j->dev, op, sector, SECTORS, &pa) == BLK_OK ? J_OK : J_IOERR;
}

struct slot journal_slots[INFLIGHT];

/* Synchronous I/O takes the slots in turn, and waits for the one it takes. */
static struct {
	uint32_t next;			/* the slot it takes next */
	bool failed;			/* a request failed */
} sync_io;

static void io_reap(struct journal *j, struct slot *sl)
{
	if (sl->busy && blk_wait(j->dev, &sl->req) != BLK_OK)
		sync_io.failed = true;
	sl->busy = false;
}

/* Starts I/O of n pages (n <= RUN_MAX) at sector from the frames pa[], once a slot is free. */
void sync_start(struct journal *j, enum blk_op op, uint64_t sector, const uint64_t *pa,
    uint32_t n)
{
	struct slot *sl = &journal_slots[sync_io.next];

	io_reap(j, sl);
	memcpy(sl->pa, pa, n * sizeof(*pa));
	sl->req = (struct blkreq){ .op = op, .sector = sector, .nsectors = n * SECTORS, .pages = sl->pa };
	sl->owner = 0;
	sl->busy = true;
	blk_submit(j->dev, &sl->req);	/* a final status stays in req.status */
	sync_io.next = (sync_io.next + 1) % INFLIGHT;
}

/* Waits for every request started: J_OK, or J_IOERR if any failed. */
enum journal_error sync_finish(struct journal *j)
{
	bool failed;

	for (uint32_t k = 0; k < INFLIGHT; k++)
		io_reap(j, &journal_slots[k]);
	failed = sync_io.failed;
	sync_io.failed = false;
	return failed ? J_IOERR : J_OK;
}

/* The disk sector of journal block `block`. */
uint64_t block_sector(const struct journal *j, uint64_t block)
{
	return j->start / BLK_SECTOR_SIZE + block * SECTORS;
}

static void sync_blocks_start(struct journal *j, enum blk_op op, uint64_t block, const uint64_t *pa,
    uint64_t n)
{
	for (uint64_t done = 0; done < n; done += RUN_MAX) {
		uint64_t run = n - done < RUN_MAX ? n - done : RUN_MAX;

		sync_start(j, op, block_sector(j, block + done), pa + done, (uint32_t)run);
	}
}

/* Reads or writes journal blocks [block, block + n) from or to the frames pa[], and waits. */
enum journal_error sync_blocks(struct journal *j, enum blk_op op, uint64_t block,
    const uint64_t *pa, uint64_t n)
{
	sync_blocks_start(j, op, block, pa, n);
	return sync_finish(j);
}

enum journal_error sync_flush(struct journal *j)
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
enum journal_error super_write(struct journal *j, uint64_t tail, uint64_t tail_seq,
    uint32_t flags)
{
	uint64_t pa = scratch_page();
	struct jsuper *s = p2v(pa);
	enum journal_error e;

	*s = (struct jsuper){ JOURNAL_SUPER_MAGIC, j->generation + 1, j->start, j->nblocks, j->install,
	    tail, tail_seq, flags, 0 };
	s->crc = super_crc(s);
	e = sync_rw(j, BLK_WRITE, super_sector(s->generation), pa);
	if (e == J_OK)
		e = sync_flush(j);
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
enum journal_error super_read(struct journal *j, const char **why)
{
	uint64_t pa = scratch_page();
	struct jsuper best = { 0 }, *s = p2v(pa);
	enum journal_error e = J_OK;
	bool damaged = false, old = false;

	for (uint64_t slot = 0; slot < 2 && e == J_OK; slot++) {
		e = sync_rw(j, BLK_READ, super_sector(slot), pa);
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
bool log_empty(const struct journal *j)
{
	return j->newest < j->tail_seq;
}

/* The numbers that may be on the disk past the newest issued or recovered are skipped now. */
void skip_numbers(struct journal *j)
{
	if (j->skip)
		j->next_seq += JOURNAL_PIPELINE;
	j->skip = false;
}

enum journal_error journal_format(struct journal *j)
{
	enum journal_error e;

	if (journal_in_flight(j) > 0)
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
