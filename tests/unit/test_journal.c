/*
 * The checkpoint journal (layer0/journal.c) against power cuts.
 *
 * The disk is a fake driver behind blkdev_ops, run through the real
 * drivers/blkdev.c, that models a volatile write cache: requests complete
 * only when polled, a few at a time and in any order, and it logs every
 * write (sector by sector) and flush in completion order, each flush with
 * how much of the log it covers (what had completed when it was submitted).
 * A workload keeps several checkpoint records in flight, advancing the
 * journal between them, gives a page layer 1 changes while a record holds
 * it a new frame (the pager's copy on write), writes durable pages home and
 * releases journal space.  Then, for every prefix of the log and many random
 * subsets of the writes no flush covers (torn at sector granularity: the
 * CrashMonkey model of what a disk may hold after a power cut), the disk is
 * rebuilt as it could be after a cut there, recovered, and checked: recovery
 * succeeds, the checkpoint it finds is at least the newest that done()
 * had reported durable, every record of the chain up to it is sealed on that
 * disk, and every home page holds exactly what that checkpoint had.  The
 * device can fail the Nth request the journal sends.
 *
 * Physical pages are host pages (p2v is the identity).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "defs.h"
#include "blkdev.h"
#include "journal.h"
#include "strata/disk.h"

#define SECTOR		BLK_SECTOR_SIZE
#define WINDOW_PAGES	48			/* home pages, from the end of the head */
#define FIRST_HOME	(STRATA_DISK_HEAD_SIZE / PAGE_SIZE)
#define JOURNAL_BLOCKS	48
#define JOURNAL_START	(STRATA_DISK_HEAD_SIZE + WINDOW_PAGES * PAGE_SIZE)
#define DISK_BYTES	(JOURNAL_START + JOURNAL_BLOCKS * PAGE_SIZE)
#define NSECTORS	(DISK_BYTES / SECTOR)
#define CHECKPOINTS	30
#define STATE_BYTES	5000			/* two blocks of state */
#define OPS_MAX		20000
#define QUEUE_MAX	64
#define OLD_MAX		(CHECKPOINTS * 10)

uint64_t pmm_alloc(void) { return (uint64_t)(uintptr_t)aligned_alloc(PAGE_SIZE, PAGE_SIZE); }
void pmm_free(uint64_t pa) { free((void *)(uintptr_t)pa); }
void *p2v(uint64_t pa) { return (void *)(uintptr_t)pa; }
uint64_t v2p(const void *va) { return (uint64_t)(uintptr_t)va; }

/* ---- the disk: sectors, and a log of what reached the device ---------- */

struct op {
	bool flush;
	int submitted;			/* the log's length at its submission: what a flush covers */
	int order;			/* its request's place among all submissions */
	uint64_t sector;		/* a write: one sector */
	uint8_t data[SECTOR];
};

static struct {
	const uint8_t *sec[NSECTORS];	/* 0 reads as zeros */
	bool logging;			/* the workload, not a recovery */
	struct op *log;
	int nlog;
	uint8_t **owned;		/* sectors a recovery wrote */
	int nowned;
	struct {
		struct blkreq *req;
		int submitted;		/* the log's length then */
		int order;		/* submissions before it, itself included */
		bool fail;
	} queue[QUEUE_MAX];		/* submitted, not completed */
	int nsubmit;			/* requests submitted so far */
	int completing;			/* the order of the request being completed */
	int failed_order;		/* nsubmit when the failure completed: later ones were sent knowing */
	int nqueue;
	bool failable;			/* requests the journal sends from begin and advance */
	int sent, fail_nth;		/* failable ones sent; fail the one numbered fail_nth (0: none) */
	int journal_flushes;		/* flushes among them */
	int failed_at;			/* the log's length when it failed, or -1 */
	unsigned seed;			/* the order requests complete in */
	int flushes, writes;
	int flushes_out, max_flushes_out; /* the journal's flushes submitted, not completed */
} d;

static const uint8_t zero_sector[SECTOR];

static unsigned disk_rnd(void)
{
	d.seed = d.seed * 1103515245u + 12345u;
	return d.seed >> 8;
}

static void disk_write(uint64_t sector, const uint8_t *src, int submitted)
{
	if (d.logging) {
		ck_assert_int_lt(d.nlog, OPS_MAX);
		d.log[d.nlog] = (struct op){ false, submitted, d.completing, sector, { 0 } };
		memcpy(d.log[d.nlog].data, src, SECTOR);
		d.sec[sector] = d.log[d.nlog++].data;
	} else {
		uint8_t *s = malloc(SECTOR);

		memcpy(s, src, SECTOR);
		d.owned = realloc(d.owned, sizeof(*d.owned) * (size_t)(d.nowned + 1));
		d.owned[d.nowned++] = s;
		d.sec[sector] = s;
	}
	d.writes++;
}

/* A failed request changes nothing: a write is lost, a flush makes nothing durable. */
static void complete(struct blkreq *req, int submitted, bool fail)
{
	if (fail) {
		d.failed_at = d.nlog;
		d.failed_order = d.nsubmit;
		req->status = BLK_IOERR;
		return;
	}
	for (uint32_t k = 0; k < req->nsectors; k++) {
		uint8_t *mem = (uint8_t *)p2v(req->pages[k / BLK_SECTORS_PER_PAGE]) +
		    k % BLK_SECTORS_PER_PAGE * SECTOR;
		uint64_t s = req->sector + k;

		if (req->op == BLK_READ)
			memcpy(mem, d.sec[s] ? d.sec[s] : zero_sector, SECTOR);
		else
			disk_write(s, mem, submitted);
	}
	if (req->op == BLK_FLUSH) {
		d.flushes++;
		if (d.logging) {
			ck_assert_int_lt(d.nlog, OPS_MAX);
			d.log[d.nlog].flush = true;
			d.log[d.nlog++].submitted = submitted;
		}
	}
	req->status = BLK_OK;
}

static void vdisk_submit(struct blkdev *dev, struct blkreq *req)
{
	(void)dev;
	ck_assert_int_lt(d.nqueue, QUEUE_MAX);
	d.queue[d.nqueue].req = req;
	d.queue[d.nqueue].submitted = d.nlog;
	d.queue[d.nqueue].order = ++d.nsubmit;
	d.queue[d.nqueue++].fail = d.failable && ++d.sent == d.fail_nth;
	d.journal_flushes += d.failable && req->op == BLK_FLUSH;
	if (req->op == BLK_FLUSH && ++d.flushes_out > d.max_flushes_out)
		d.max_flushes_out = d.flushes_out;
}

/* Completes some of the requests submitted (at least one), in any order. */
static int vdisk_poll(struct blkdev *dev)
{
	int n = d.nqueue == 0 ? 0 : 1 + (int)(disk_rnd() % (unsigned)d.nqueue);

	(void)dev;
	for (int i = 0; i < n; i++) {
		int k = (int)(disk_rnd() % (unsigned)d.nqueue);
		struct blkreq *req = d.queue[k].req;
		int submitted = d.queue[k].submitted;
		bool fail = d.queue[k].fail;

		d.completing = d.queue[k].order;
		d.flushes_out -= req->op == BLK_FLUSH;
		d.queue[k] = d.queue[--d.nqueue];
		complete(req, submitted, fail);
		if (req->done)
			req->done(req);
	}
	return n;
}

static const struct blkdev_ops vdisk_ops = { .submit = vdisk_submit, .poll = vdisk_poll };
static struct blkdev dev = { .name = "disk0", .kind = "fake", .sectors = NSECTORS,
    .sector_size = SECTOR, .max_sectors = 1024, .volatile_cache = true, .ops = &vdisk_ops };

static void disk_reset(void)
{
	for (int i = 0; i < d.nowned; i++)
		free(d.owned[i]);
	free(d.owned);
	d.owned = 0;
	d.nowned = 0;
	memset(d.sec, 0, sizeof(d.sec));
	d.flushes = d.writes = 0;
}

/*
 * The disk after a cut at log position k: every write a flush completed
 * before k covers, then those of the other writes before k that keep[] says
 * (every one if keep is 0).
 */
static void disk_crash(int k, const bool *keep)
{
	int flushed = 0;

	disk_reset();
	for (int i = 0; i < k; i++)
		if (d.log[i].flush && d.log[i].submitted > flushed)
			flushed = d.log[i].submitted;
	for (int i = 0; i < k; i++)
		if (!d.log[i].flush && (i < flushed || keep == 0 || keep[i]))
			d.sec[d.log[i].sector] = d.log[i].data;
}

/* Whether the journal area holds a seal of record seq (its number follows the magic). */
static bool sealed_on_disk(uint64_t seq)
{
	for (uint64_t b = 0; b < JOURNAL_BLOCKS; b++) {
		const uint8_t *s = d.sec[(JOURNAL_START + b * PAGE_SIZE) / SECTOR];
		uint64_t magic, n;

		if (s == 0)
			continue;
		memcpy(&magic, s, 8);
		memcpy(&n, s + 8, 8);
		if (magic == JOURNAL_SEAL_MAGIC && n == seq)
			return true;
	}
	return false;
}

/* Whether log entry o writes the first sector of a seal of record seq. */
static bool is_seal_of(const struct op *o, uint64_t seq)
{
	uint64_t magic, n;

	memcpy(&magic, o->data, 8);
	memcpy(&n, o->data + 8, 8);
	return !o->flush && o->sector >= JOURNAL_START / SECTOR && magic == JOURNAL_SEAL_MAGIC && n == seq;
}

/* ---- the workload and its model --------------------------------------- */

static struct journal j;

static void journal_setup(void)
{
	memset(&j, 0, sizeof(j));
	j.dev = &dev;
	j.start = JOURNAL_START;
	j.nblocks = JOURNAL_BLOCKS;
	j.home_limit = JOURNAL_START / PAGE_SIZE;
	j.install = 0x5354524154410001ULL;
}

/* What page p holds at version v: a pattern no other (p, v) has. */
static void fill(uint8_t *b, int p, int v)
{
	for (uint64_t i = 0; i < PAGE_SIZE; i += 8) {
		uint64_t w = ((uint64_t)p << 48 | (uint64_t)v << 32 | i) ^
		    0x9e3779b97f4a7c15ULL * (uint64_t)(v + 1);

		memcpy(b + i, &w, 8);
	}
}

/* Checkpoint c is the record the workload began c-th; 0 is the start, before any. */
static struct {
	uint8_t *ram[WINDOW_PAGES];	/* layer 1's pages now */
	bool held[WINDOW_PAGES];	/* ram[p] is in a record: a change gets a new frame */
	uint8_t *old[OLD_MAX];		/* frames records held, freed at the end */
	int nold;
	int ver[WINDOW_PAGES];		/* their version now */
	int vers[CHECKPOINTS + 1][WINDOW_PAGES]; /* versions in checkpoint c */
	struct jpage pages[CHECKPOINTS + 1][WINDOW_PAGES]; /* record c's, kept until it is done */
	uint64_t seq[CHECKPOINTS + 1];
	int prev[CHECKPOINTS + 1];	/* the checkpoint record c follows */
	int durable_at[CHECKPOINTS + 1]; /* log length when done() said c is durable; INT_MAX */
	bool failed[CHECKPOINTS + 1];
	int begun_at[CHECKPOINTS + 1], done_at[CHECKPOINTS + 1]; /* in events of the workload */
	int events, begun;
	int base;			/* the checkpoint the next record follows */
	int durable;			/* the newest done() said is durable */
	uint64_t last_done, newest_seq;
	bool after_failure;		/* the next record must skip numbers */
	int max_in_flight;
	int rec[WINDOW_PAGES];		/* newest durable checkpoint holding the page's durable version */
	int home[WINDOW_PAGES];		/* the version its home holds (maybe not flushed) */
	unsigned seed;
} m;

static unsigned rnd(void)
{
	m.seed = m.seed * 1103515245u + 12345u;
	return m.seed >> 8;
}

static void state_of(uint8_t *st, int c)
{
	for (int i = 0; i < STATE_BYTES; i++)
		st[i] = (uint8_t)(c * 7 + i);
}

static int checkpoint_of(uint64_t seq)
{
	for (int c = 1; c <= m.begun; c++)
		if (m.seq[c] == seq)
			return c;
	ck_abort_msg("done() for record %lu, never begun", (unsigned long)seq);
	return 0;
}

/* done(): in number order, each record once; the model follows. */
static void on_done(void *ctx, uint64_t seq, enum journal_error e)
{
	int c = checkpoint_of(seq);

	(void)ctx;
	ck_assert_msg(seq > m.last_done, "done(%lu) after done(%lu)", (unsigned long)seq,
	    (unsigned long)m.last_done);
	m.last_done = seq;
	m.done_at[c] = ++m.events;
	if (e == J_OK) {
		m.durable = c;
		m.durable_at[c] = d.nlog;
		for (uint32_t i = 0; i < WINDOW_PAGES; i++)
			if (m.vers[c][i] != m.vers[m.prev[c]][i])
				m.rec[i] = c;
		return;
	}
	ck_assert_int_eq(e, J_IOERR);
	m.failed[c] = true;
	m.base = m.durable;
	m.after_failure = true;
}

static void advance(void)
{
	d.failable = true;
	journal_advance(&j);
	d.failable = false;
	if ((int)journal_in_flight(&j) > m.max_in_flight)
		m.max_in_flight = (int)journal_in_flight(&j);
}

static void drain(void)
{
	while (journal_in_flight(&j) > 0)
		advance();
}

/* Writes page p's durable version home. */
static void write_home(int p)
{
	uint8_t *b = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	uint64_t pa = v2p(b);

	fill(b, p, m.vers[m.durable][p]);
	ck_assert_int_eq(blk_rw_sync(&dev, BLK_WRITE, (FIRST_HOME + (uint64_t)p) * BLK_SECTORS_PER_PAGE,
	    BLK_SECTORS_PER_PAGE, &pa), BLK_OK);
	free(b);
	m.home[p] = m.vers[m.durable][p];
}

static void write_home_maybe(int p)
{
	if (m.home[p] != m.vers[m.durable][p])
		write_home(p);
}

/* A flush, then the journal may let go of every record whose pages are all home. */
static void flush_and_release(void)
{
	int keep = m.durable;

	ck_assert_int_eq(blk_rw_sync(&dev, BLK_FLUSH, 0, 0, 0), BLK_OK);
	for (int p = 0; p < WINDOW_PAGES; p++)
		if (m.rec[p] != 0 && m.home[p] != m.vers[m.durable][p] && m.rec[p] < keep)
			keep = m.rec[p];
	ck_assert_int_eq(journal_release(&j, m.seq[keep]), J_OK);
}

/* Layer 1 changes page p: a frame a record holds stays the record's. */
static void touch(int p)
{
	if (m.held[p]) {
		ck_assert_int_lt(m.nold, OLD_MAX);
		m.old[m.nold++] = m.ram[p];
		m.ram[p] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		m.held[p] = false;
	}
	fill(m.ram[p], p, ++m.ver[p]);
}

/* Begins checkpoint c: the pages changed since the record it follows. */
static void begin(int c)
{
	uint8_t st[STATE_BYTES];
	enum journal_error e;
	uint32_t n;

	state_of(st, c);
	for (int tries = 0;; tries++) {
		ck_assert_int_lt(tries, 1000);
		n = 0;
		for (int p = 0; p < WINDOW_PAGES; p++)
			if (m.ver[p] != m.vers[m.base][p])
				m.pages[c][n++] = (struct jpage){ FIRST_HOME + (uint64_t)p, v2p(m.ram[p]) };
		d.failable = true;
		e = journal_begin(&j, m.pages[c], n, st, STATE_BYTES, &m.seq[c]);
		d.failable = false;
		if (e == J_BUSY) {
			advance();
		} else if (e == J_NOSPACE) {
			drain();
			for (int p = 0; p < WINDOW_PAGES; p++)
				write_home_maybe(p);
			flush_and_release();
		} else {
			break;
		}
	}
	ck_assert_msg(e == J_OK, "checkpoint %d: %s", c, journal_error_name(e));
	if (m.after_failure)
		ck_assert_uint_ge(m.seq[c], m.newest_seq + JOURNAL_PIPELINE + 1);
	m.after_failure = false;
	m.newest_seq = m.seq[c];
	for (uint32_t i = 0; i < n; i++)
		m.held[m.pages[c][i].home - FIRST_HOME] = true;
	memcpy(m.vers[c], m.ver, sizeof(m.ver));
	m.prev[c] = m.base;
	m.base = m.begun = c;
	m.begun_at[c] = ++m.events;
	m.durable_at[c] = INT_MAX;
}

/* Runs the workload once, logging everything the disk saw; the device fails its fail_nth request. */
static void workload(unsigned seed, int fail_nth)
{
	memset(&m, 0, sizeof(m));
	m.seed = d.seed = seed;
	disk_reset();
	d.log = calloc(OPS_MAX, sizeof(*d.log));
	d.nlog = d.sent = d.journal_flushes = 0;
	d.flushes_out = d.max_flushes_out = 0;
	d.fail_nth = fail_nth;
	d.failed_at = -1;
	d.failed_order = 0;
	d.logging = true;
	for (int p = 0; p < WINDOW_PAGES; p++) {
		m.ram[p] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		fill(m.ram[p], p, 0);
		write_home(p);
	}
	journal_setup();
	j.done = on_done;
	ck_assert_int_eq(journal_format(&j), J_OK);
	m.durable_at[0] = d.nlog;
	m.seq[0] = j.next_seq - 1;
	for (int c = 1; c <= CHECKPOINTS; c++) {
		int changes = 1 + (int)(rnd() % 6);

		for (int i = 0; i < changes; i++)
			touch((int)(rnd() % WINDOW_PAGES));
		begin(c);
		for (int i = 0, n = (int)(rnd() % 4); i < n; i++)
			advance();
		for (int i = 0, n = (int)(rnd() % 6); i < n; i++)
			write_home_maybe((int)(rnd() % WINDOW_PAGES));
		if (rnd() % 3 == 0)
			flush_and_release();
	}
	drain();
	d.logging = false;
}

static void workload_free(void)
{
	for (int p = 0; p < WINDOW_PAGES; p++)
		free(m.ram[p]);
	for (int i = 0; i < m.nold; i++)
		free(m.old[i]);
	disk_reset();
	free(d.log);
}

/*
 * Recovers the disk as it is and checks it: 0, or a message.  Every record
 * of the chain from the newest reported durable to the one recovered must
 * have its seal on the disk: none is ever taken after an unsealed one.
 */
static const char *check_recovery(int k, char *msg, size_t len)
{
	uint8_t st[JOURNAL_STATE_MAX], want[STATE_BYTES], page[PAGE_SIZE];
	struct jrecovery r;
	enum journal_error e;
	int c = 0, floor = 0;

	for (int i = 0; i <= m.begun; i++)
		if (m.durable_at[i] <= k)
			floor = i;
	journal_setup();
	e = journal_recover(&j, st, sizeof(st), &r);
	if (e != J_OK) {
		snprintf(msg, len, "cut at %d: recovery failed: %s (%s)", k, journal_error_name(e),
		    r.why ? r.why : "");
		return msg;
	}
	if (r.seq != 0) {
		ck_assert_int_eq(r.state_bytes, STATE_BYTES);
		for (c = 1; c <= m.begun; c++) {
			state_of(want, c);
			if (memcmp(want, st, STATE_BYTES) == 0)
				break;
		}
		ck_assert_int_le(c, m.begun);
		ck_assert_uint_eq(r.seq, m.seq[c]);
	}
	if (c < floor) {
		snprintf(msg, len, "cut at %d: recovered checkpoint %d, but done() had said %d is durable",
		    k, c, floor);
		return msg;
	}
	for (int i = c; i > floor; i = m.prev[i])
		if (!sealed_on_disk(m.seq[i])) {
			snprintf(msg, len, "cut at %d: recovered checkpoint %d, but record %d of its chain has no seal",
			    k, c, i);
			return msg;
		}
	for (int p = 0; p < WINDOW_PAGES; p++) {
		uint64_t pa = v2p(page);

		blk_rw_sync(&dev, BLK_READ, (FIRST_HOME + (uint64_t)p) * BLK_SECTORS_PER_PAGE,
		    BLK_SECTORS_PER_PAGE, &pa);
		fill(m.ram[0], p, m.vers[c][p]);
		if (memcmp(page, m.ram[0], PAGE_SIZE) != 0) {
			snprintf(msg, len, "cut at %d: checkpoint %d, but page %d is not version %d",
			    k, c, p, m.vers[c][p]);
			return msg;
		}
	}
	return 0;
}

/*
 * Every cut of the log in [from, to], and at each, with subsets > 0, the
 * disk holding none of the writes no flush covers (so a record reported
 * durable before a completed flush covered it is found at once, whatever
 * order flushes completed in), then `subsets` random subsets of them.
 */
static void check_cuts(int from, int to, int subsets)
{
	static bool keep[OPS_MAX];
	char msg[160];

	for (int k = from < m.durable_at[0] ? m.durable_at[0] : from; k <= to && k <= d.nlog; k++) {
		disk_crash(k, 0);
		ck_assert_msg(check_recovery(k, msg, sizeof(msg)) == 0, "%s", msg);
		if (subsets > 0) {
			memset(keep, 0, sizeof(keep));
			disk_crash(k, keep);
			ck_assert_msg(check_recovery(k, msg, sizeof(msg)) == 0, "%s (flushed writes only)",
			    msg);
		}
		for (int t = 0; t < subsets; t++) {
			for (int i = 0; i < k; i++)
				keep[i] = rnd() % 2;
			disk_crash(k, keep);
			ck_assert_msg(check_recovery(k, msg, sizeof(msg)) == 0, "%s (subset %d)", msg, t);
		}
	}
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(a_pipelined_workload_then_recovery_finds_its_last_checkpoint)
{
	char msg[160];

	workload(1, 0);
	ck_assert_int_eq(m.durable, CHECKPOINTS);
	ck_assert_int_ge(m.max_in_flight, 3);
	ck_assert_msg(d.journal_flushes <= CHECKPOINTS, "%d flushes for %d records: more than one a record",
	    d.journal_flushes, CHECKPOINTS);
	disk_crash(d.nlog, 0);
	ck_assert_msg(check_recovery(d.nlog, msg, sizeof(msg)) == 0, "%s", msg);
	workload_free();
}
END_TEST

/* done() comes once for every record, in the order they were begun. */
START_TEST(done_reports_every_record_once_in_order)
{
	workload(3, 0);
	for (int c = 1; c <= CHECKPOINTS; c++) {
		ck_assert_int_gt(m.done_at[c], 0);
		ck_assert_int_gt(m.done_at[c], c > 1 ? m.done_at[c - 1] : 0);
	}
	workload_free();
}
END_TEST

START_TEST(every_cut_in_order_recovers_a_durable_state)
{
	workload(2 + (unsigned)_i, 0);
	check_cuts(0, d.nlog, 0);
	workload_free();
}
END_TEST

/* Writes no flush covers reach the disk in any subset, torn by sector. */
START_TEST(every_cut_with_lost_and_torn_writes_recovers_a_durable_state)
{
	workload(100 + (unsigned)_i, 0);
	check_cuts(0, d.nlog, 2);
	workload_free();
}
END_TEST

/*
 * The device fails one request the journal sent (a run, a seal or a flush):
 * that record fails and so does every later one in flight, no seal of a
 * failed record goes out after it, the numbers skip (begin checks), the
 * journal goes on, and every cut around it and the end still recover a
 * durable state.
 */
START_TEST(a_failed_request_fails_its_record_and_every_later_one_and_the_journal_goes_on)
{
	int last_failed = 0;

	workload(200 + (unsigned)_i, 1 + _i * 3);
	ck_assert_msg(d.failed_at >= 0, "request %d never sent", 1 + _i * 3);
	for (int c = 1; c <= CHECKPOINTS; c++) {
		if (!m.failed[c])
			continue;
		last_failed = c;
		for (int later = c + 1; later <= CHECKPOINTS; later++)
			ck_assert_msg(m.failed[later] || m.begun_at[later] > m.done_at[c],
			    "checkpoint %d failed, %d was in flight and did not", c, later);
	}
	ck_assert_msg(last_failed > 0, "no record failed");
	ck_assert_msg(m.durable > last_failed, "nothing durable after the failure");
	for (int i = d.failed_at; i < d.nlog; i++)
		for (int c = 1; c <= CHECKPOINTS; c++)
			ck_assert_msg(!m.failed[c] || d.log[i].order <= d.failed_order ||
			    !is_seal_of(&d.log[i], m.seq[c]),
			    "the seal of failed checkpoint %d sent after the failure", c);
	check_cuts(d.failed_at - 100, d.failed_at + 400, 1);
	check_cuts(d.nlog, d.nlog, 0);
	workload_free();
}
END_TEST

/*
 * Flushes may be out several at once and complete in any order: at the
 * moment done() says a record is durable, a disk holding only what the
 * completed flushes cover (each covers what had completed when it was
 * sent) already holds it.  Many seeds, one cut per record: cheap enough to
 * meet the rarer orders of completion.
 */
START_TEST(a_record_is_durable_only_once_a_completed_flush_covers_it)
{
	static bool flushed_only[OPS_MAX];
	char msg[160];
	int overlapped = 0;

	for (unsigned seed = 0; seed < 300; seed++) {
		workload(1000 + seed, 0);
		for (int c = 1; c <= CHECKPOINTS; c++) {
			if (m.failed[c] || m.durable_at[c] == INT_MAX)
				continue;
			disk_crash(m.durable_at[c], flushed_only);
			ck_assert_msg(check_recovery(m.durable_at[c], msg, sizeof(msg)) == 0,
			    "seed %u: %s", 1000 + seed, msg);
		}
		overlapped += d.max_flushes_out > 1;
		workload_free();
	}
	ck_assert_msg(overlapped > 0, "no workload ever had two flushes out at once");
}
END_TEST

/* JOURNAL_PIPELINE records in flight: the next waits (J_BUSY) and none waits in begin. */
START_TEST(begin_refuses_more_than_the_pipeline)
{
	static uint8_t page[PAGE_SIZE];
	struct jpage one = { FIRST_HOME, v2p(page) };
	uint8_t st[16] = { 0 };
	uint64_t seq[JOURNAL_PIPELINE + 1];

	disk_reset();
	d.logging = false;
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	for (int i = 0; i < JOURNAL_PIPELINE; i++)
		ck_assert_int_eq(journal_begin(&j, &one, 1, st, sizeof(st), &seq[i]), J_OK);
	ck_assert_int_eq(journal_begin(&j, &one, 1, st, sizeof(st), &seq[JOURNAL_PIPELINE]), J_BUSY);
	ck_assert_uint_eq(journal_in_flight(&j), JOURNAL_PIPELINE);
	ck_assert_int_eq(journal_wait(&j, seq[JOURNAL_PIPELINE - 1]), J_OK);
	ck_assert_uint_eq(journal_durable(&j), seq[JOURNAL_PIPELINE - 1]);
	ck_assert_uint_eq(journal_in_flight(&j), 0);
}
END_TEST

/*
 * A fresh start over a disk with a checkpoint formats the journal with the
 * same install: a cut right after it must not replay the earlier life's
 * first record, which sits where the new one will.
 */
START_TEST(a_stale_record_of_an_earlier_life_is_never_replayed)
{
	static uint8_t page[PAGE_SIZE];
	struct jpage one = { FIRST_HOME, v2p(page) };
	uint8_t st[JOURNAL_STATE_MAX] = { 0 };
	struct jrecovery r;

	disk_reset();
	d.logging = false;
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	ck_assert_int_eq(journal_commit(&j, &one, 1, st, 16), J_OK);
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
	ck_assert_uint_eq(r.records, 1);
	ck_assert_int_eq(journal_format(&j), J_OK);
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
	ck_assert_msg(r.records == 0, "a fresh start's empty journal replayed record %lu",
	    (unsigned long)r.seq);
	/* The new life goes on, numbered past the old one. */
	ck_assert_int_eq(journal_format(&j), J_OK);
	ck_assert_int_eq(journal_commit(&j, &one, 1, st, 16), J_OK);
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
	ck_assert_uint_eq(r.records, 1);
	ck_assert_uint_gt(r.seq, 1 + JOURNAL_PIPELINE);
}
END_TEST

/*
 * A record whose state is larger than the caller's buffer (another layer
 * 0's) is replayed, its state left out of the buffer and its size told.
 */
START_TEST(a_state_larger_than_the_buffer_is_not_copied)
{
	static uint8_t page[PAGE_SIZE];
	struct jpage one = { FIRST_HOME, v2p(page) };
	uint8_t big[64], st[32 + 8];
	struct jrecovery r;

	memset(big, 0xab, sizeof(big));
	memset(st, 0, sizeof(st));
	disk_reset();
	d.logging = false;
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	ck_assert_int_eq(journal_commit(&j, &one, 1, big, sizeof(big)), J_OK);
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, 32, &r), J_OK);
	ck_assert_uint_eq(r.records, 1);
	ck_assert_uint_eq(r.state_bytes, sizeof(big));
	for (size_t i = 0; i < sizeof(st); i++)
		ck_assert_msg(st[i] == 0, "byte %zu of the buffer was written", i);
}
END_TEST

/* After a resume the chain goes on from the recovered record, numbered past any cut short. */
START_TEST(the_chain_goes_on_after_recovery)
{
	static uint8_t page[PAGE_SIZE];
	struct jpage one = { FIRST_HOME + 1, v2p(page) };
	uint8_t st[JOURNAL_STATE_MAX];
	struct jrecovery r;
	uint64_t seq[3];

	workload(5, 0);
	disk_crash(d.nlog, 0);
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
	ck_assert_uint_eq(r.seq, m.seq[CHECKPOINTS]);
	ck_assert_uint_eq(j.next_seq - 1, r.seq);	/* checkpoint.c reads the newest so */
	memset(st, 0, sizeof(st));
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(journal_begin(&j, &one, 1, st, 16, &seq[i]), J_OK);
	ck_assert_uint_eq(seq[0], r.seq + JOURNAL_PIPELINE + 1);
	ck_assert_int_eq(journal_wait(&j, seq[2]), J_OK);
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
	ck_assert_uint_eq(r.seq, seq[2]);
	ck_assert_uint_eq(r.records, 4);
	workload_free();
}
END_TEST

/* A recovery cut short is recovered again: replaying twice is harmless. */
START_TEST(recovery_is_idempotent)
{
	char msg[160];

	workload(7, 0);
	disk_crash(d.nlog, 0);
	journal_setup();
	{
		uint8_t st[JOURNAL_STATE_MAX];
		struct jrecovery r;

		ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
	}
	ck_assert_msg(check_recovery(d.nlog, msg, sizeof(msg)) == 0, "%s", msg);
	workload_free();
}
END_TEST

/*
 * After workload(9), flips bits `flip` of byte `at` in each journal sector
 * in turn, on the disk as it ended, until recovery refuses the disk with a
 * reason that contains `why` ("" for any): whether one did.
 */
static bool damage_refused(int at, uint8_t flip, const char *why)
{
	uint8_t st[JOURNAL_STATE_MAX], bad[SECTOR];
	struct jrecovery r;

	workload(9, 0);
	for (uint64_t s = JOURNAL_START / SECTOR; s < NSECTORS; s++) {
		disk_crash(d.nlog, 0);
		if (d.sec[s] == 0)
			continue;
		memcpy(bad, d.sec[s], SECTOR);
		bad[at] ^= flip;
		d.sec[s] = bad;
		journal_setup();
		if (journal_recover(&j, st, sizeof(st), &r) != J_CORRUPT)
			continue;
		ck_assert_ptr_nonnull(r.why);
		if (strstr(r.why, why) != 0) {
			workload_free();
			return true;
		}
	}
	return false;
}

/* A sealed record that fails its CRCs means the disk lied: recovery refuses it, never resumes. */
START_TEST(a_damaged_sealed_record_is_refused)
{
	ck_assert_msg(damage_refused(100, 1, ""), "no damaged journal sector was refused");
}
END_TEST

/*
 * A flipped bit in a page of a record that was durable (a disk that lied
 * about a write) fails that page's checksum, and a later record's head says
 * it was durable (or it is the log's oldest): recovery refuses the disk,
 * where a cut would only have left it torn.
 */
START_TEST(a_damaged_page_of_a_record_known_durable_is_refused)
{
	ck_assert_msg(damage_refused(300, 0x10, "durable"),
	    "no damaged page of a record known durable was refused");
}
END_TEST

/*
 * No flush separates a record's writes from its seal, so a cut after the
 * seal and before the flush after it may leave the seal without some of
 * the record: that record is torn, never replayed (no page of it goes
 * home), and the checkpoint before it resumes.  For each record, cuts just
 * after its seal each lose one of the writes logged before it (as one
 * sector: a torn block).
 */
START_TEST(a_seal_without_its_whole_record_is_torn_and_the_record_before_resumes)
{
	static bool keep[OPS_MAX];
	uint8_t st[JOURNAL_STATE_MAX];
	struct jrecovery r;
	char msg[160];
	int torn = 0;

	workload(9, 0);
	for (int c = 1; c <= CHECKPOINTS; c++) {
		int k = 0;

		for (int i = 0; i < d.nlog; i++)
			if (is_seal_of(&d.log[i], m.seq[c]))
				k = i + 1;
		ck_assert_int_gt(k, 0);
		for (int lost = k - 2; lost >= 0 && lost >= k - 40; lost--) {
			for (int i = 0; i < k; i++)
				keep[i] = i != lost;
			disk_crash(k, keep);
			ck_assert_msg(check_recovery(k, msg, sizeof(msg)) == 0, "%s", msg);
			journal_setup();
			ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_OK);
			if (r.torn == m.seq[c]) {
				ck_assert_uint_lt(r.seq, m.seq[c]);
				torn++;
			}
		}
	}
	ck_assert_msg(torn > 0, "no record was left torn by a cut after its seal");
	workload_free();
}
END_TEST

/* A superblock torn as it is written leaves the other, older one. */
START_TEST(a_torn_superblock_falls_back_to_the_other)
{
	char msg[160];
	uint8_t junk[SECTOR];

	uint64_t slot[2], gen[2] = { 0, 0 };

	workload(11, 0);
	/* The newest superblock last: no record went where the older one's tail kept. */
	d.logging = true;
	for (int p = 0; p < WINDOW_PAGES; p++)
		write_home_maybe(p);
	flush_and_release();
	d.logging = false;
	disk_crash(d.nlog, 0);
	/* The sector of each slot that holds its superblock, and the generation there (at byte 8). */
	for (int k = 0; k < 2; k++) {
		slot[k] = (JOURNAL_SUPER_OFFSET + (uint64_t)k * PAGE_SIZE) / SECTOR;
		if (d.sec[slot[k]] != 0)
			memcpy(&gen[k], d.sec[slot[k]] + 8, sizeof(gen[k]));
	}
	ck_assert_msg(gen[0] != 0 && gen[1] != 0, "both superblocks written (generations %lu, %lu)",
	    (unsigned long)gen[0], (unsigned long)gen[1]);
	/* Tear the newer one: recovery must use the other. */
	memset(junk, 0x5a, sizeof(junk));
	d.sec[slot[gen[1] > gen[0]]] = junk;
	ck_assert_msg(check_recovery(d.nlog, msg, sizeof(msg)) == 0, "%s", msg);
	workload_free();
}
END_TEST

START_TEST(a_blank_disk_has_no_journal)
{
	uint8_t st[JOURNAL_STATE_MAX];
	struct jrecovery r;

	disk_reset();
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_NONE);
	ck_assert_ptr_nonnull(r.why);
}
END_TEST

/* A reinstall formats the journal anew: until it has, the old install's is nothing to recover. */
START_TEST(another_installs_journal_is_none)
{
	uint8_t st[JOURNAL_STATE_MAX];
	struct jrecovery r;

	disk_reset();
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	journal_setup();
	j.install++;
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_NONE);
}
END_TEST

/* Superblocks that are neither blank nor whole are damage: refused, never taken for blank. */
START_TEST(damaged_superblocks_are_refused)
{
	uint8_t st[JOURNAL_STATE_MAX], junk[SECTOR];
	struct jrecovery r;

	disk_reset();
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	memset(junk, 0x5a, sizeof(junk));
	for (int k = 0; k < 2; k++)
		d.sec[(JOURNAL_SUPER_OFFSET + (uint64_t)k * PAGE_SIZE) / SECTOR] = junk;
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_NOSUPER);
	ck_assert_ptr_nonnull(r.why);
}
END_TEST

/* A format-1 journal of this install is refused, not taken for none (journal.h says why). */
START_TEST(an_older_format_journal_is_refused)
{
	uint8_t st[JOURNAL_STATE_MAX], old[2][SECTOR];
	struct jrecovery r;
	uint64_t magic = JOURNAL_SUPER_MAGIC_1;

	disk_reset();
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	for (int k = 0; k < 2; k++) {
		uint64_t s = (JOURNAL_SUPER_OFFSET + (uint64_t)k * PAGE_SIZE) / SECTOR;
		uint32_t crc;

		memcpy(old[k], d.sec[s], SECTOR);
		memcpy(old[k], &magic, 8);
		crc = crc32c(old[k], 60);
		memcpy(old[k] + 60, &crc, 4);
		d.sec[s] = old[k];
	}
	journal_setup();
	ck_assert_int_eq(journal_recover(&j, st, sizeof(st), &r), J_NOSUPER);
	ck_assert_ptr_nonnull(strstr(r.why, "format 1"));
}
END_TEST

START_TEST(a_record_larger_than_the_journal_is_too_big)
{
	static struct jpage pages[JOURNAL_BLOCKS];
	uint8_t st[16] = { 0 };

	disk_reset();
	d.logging = false;
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	for (int i = 0; i < JOURNAL_BLOCKS; i++)
		pages[i] = (struct jpage){ FIRST_HOME, pmm_alloc() };
	ck_assert_int_eq(journal_commit(&j, pages, JOURNAL_BLOCKS, st, sizeof(st)), J_TOOBIG);
	for (int i = 0; i < JOURNAL_BLOCKS; i++)
		pmm_free(pages[i].pa);
}
END_TEST

/*
 * Every record leaves the reserve free after it; only the cleaning's
 * (use_reserve) may take it, so that record fits however full the
 * journal's room is.
 */
START_TEST(only_the_cleanings_record_takes_the_reserve)
{
	static uint8_t page[PAGE_SIZE];
	struct jpage one = { FIRST_HOME, v2p(page) };
	uint8_t st[16] = { 0 };
	uint64_t seq;
	int n = 0;

	disk_reset();
	d.logging = false;
	journal_setup();
	j.reserve = 3 * journal_record_blocks(1, sizeof(st));
	ck_assert_int_eq(journal_format(&j), J_OK);
	while (journal_commit(&j, &one, 1, st, sizeof(st)) == J_OK)
		n++;
	ck_assert_int_eq(n, (int)((JOURNAL_BLOCKS - j.reserve) / journal_record_blocks(1, sizeof(st))));
	ck_assert_int_eq(journal_begin(&j, &one, 1, st, sizeof(st), &seq), J_NOSPACE);
	j.use_reserve = true;
	ck_assert_int_eq(journal_begin(&j, &one, 1, st, sizeof(st), &seq), J_OK);
	j.use_reserve = false;
	ck_assert_int_eq(journal_wait(&j, seq), J_OK);
	ck_assert_int_eq(journal_release(&j, seq), J_OK);
	ck_assert_int_eq(journal_commit(&j, &one, 1, st, sizeof(st)), J_OK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("journal");
	TCase *t = tcase_create("cuts");

	blkdev_register(&dev);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, a_pipelined_workload_then_recovery_finds_its_last_checkpoint);
	tcase_add_test(t, done_reports_every_record_once_in_order);
	tcase_add_loop_test(t, every_cut_in_order_recovers_a_durable_state, 0, 3);
	tcase_add_loop_test(t, every_cut_with_lost_and_torn_writes_recovers_a_durable_state, 0, 2);
	tcase_add_loop_test(t, a_failed_request_fails_its_record_and_every_later_one_and_the_journal_goes_on,
	    0, 16);
	tcase_add_test(t, a_record_is_durable_only_once_a_completed_flush_covers_it);
	tcase_add_test(t, begin_refuses_more_than_the_pipeline);
	tcase_add_test(t, a_stale_record_of_an_earlier_life_is_never_replayed);
	tcase_add_test(t, the_chain_goes_on_after_recovery);
	tcase_add_test(t, a_state_larger_than_the_buffer_is_not_copied);
	tcase_add_test(t, an_older_format_journal_is_refused);
	tcase_add_test(t, recovery_is_idempotent);
	tcase_add_test(t, a_damaged_sealed_record_is_refused);
	tcase_add_test(t, a_damaged_page_of_a_record_known_durable_is_refused);
	tcase_add_test(t, a_seal_without_its_whole_record_is_torn_and_the_record_before_resumes);
	tcase_add_test(t, a_torn_superblock_falls_back_to_the_other);
	tcase_add_test(t, a_blank_disk_has_no_journal);
	tcase_add_test(t, another_installs_journal_is_none);
	tcase_add_test(t, damaged_superblocks_are_refused);
	tcase_add_test(t, a_record_larger_than_the_journal_is_too_big);
	tcase_add_test(t, only_the_cleanings_record_takes_the_reserve);
	suite_add_tcase(s, t);
	return run_suite(s, true);
}
