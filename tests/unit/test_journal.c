/*
 * The checkpoint journal (layer0/journal.c) against power cuts.
 *
 * The disk is a fake driver behind blkdev_ops, run through the real
 * drivers/blkdev.c, that models a volatile write cache: it logs every write
 * (sector by sector) and flush in completion order.  A workload commits
 * checkpoints of a small window of pages, writes their pages home the way
 * the pager will (only pages unchanged since their commit, the steal rule)
 * and releases journal space.  Then, for every prefix of the log and many
 * random subsets of the writes after the last flush in it (torn at sector
 * granularity: the CrashMonkey model of what a disk may hold after a power
 * cut), the disk is rebuilt as it could be after a cut there, recovered, and
 * checked: recovery succeeds, the checkpoint it finds is at least the newest
 * whose commit had returned, and every home page holds exactly what that
 * checkpoint had.
 *
 * Physical pages are host pages (p2v is the identity).
 */
#include <check.h>
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
#define JOURNAL_BLOCKS	40
#define JOURNAL_START	(STRATA_DISK_HEAD_SIZE + WINDOW_PAGES * PAGE_SIZE)
#define DISK_BYTES	(JOURNAL_START + JOURNAL_BLOCKS * PAGE_SIZE)
#define NSECTORS	(DISK_BYTES / SECTOR)
#define CHECKPOINTS	30
#define STATE_BYTES	5000			/* two blocks of state */
#define OPS_MAX		20000

uint64_t pmm_alloc(void) { return (uint64_t)(uintptr_t)aligned_alloc(PAGE_SIZE, PAGE_SIZE); }
void pmm_free(uint64_t pa) { free((void *)(uintptr_t)pa); }
void *p2v(uint64_t pa) { return (void *)(uintptr_t)pa; }
uint64_t v2p(const void *va) { return (uint64_t)(uintptr_t)va; }

/* ---- the disk: sectors, and a log of what reached the device ---------- */

struct op {
	bool flush;
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
	struct blkreq *queue;		/* submitted, not completed */
	int flushes, writes;
} d;

static const uint8_t zero_sector[SECTOR];

static void disk_write(uint64_t sector, const uint8_t *src)
{
	if (d.logging) {
		ck_assert_int_lt(d.nlog, OPS_MAX);
		d.log[d.nlog] = (struct op){ false, sector, { 0 } };
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

static void complete(struct blkreq *req)
{
	for (uint32_t k = 0; k < req->nsectors; k++) {
		uint8_t *mem = (uint8_t *)p2v(req->pages[k / BLK_SECTORS_PER_PAGE]) +
		    k % BLK_SECTORS_PER_PAGE * SECTOR;
		uint64_t s = req->sector + k;

		if (req->op == BLK_READ)
			memcpy(mem, d.sec[s] ? d.sec[s] : zero_sector, SECTOR);
		else
			disk_write(s, mem);
	}
	if (req->op == BLK_FLUSH) {
		d.flushes++;
		if (d.logging) {
			ck_assert_int_lt(d.nlog, OPS_MAX);
			d.log[d.nlog++].flush = true;
		}
	}
	req->status = BLK_OK;
}

static void vdisk_submit(struct blkdev *dev, struct blkreq *req)
{
	(void)dev;
	req->next = d.queue;
	d.queue = req;
}

static int vdisk_poll(struct blkdev *dev)
{
	int n = 0;

	(void)dev;
	while (d.queue != 0) {
		struct blkreq *req = d.queue;

		d.queue = req->next;
		complete(req);
		if (req->done)
			req->done(req);
		n++;
	}
	return n;
}

static const struct blkdev_ops vdisk_ops = { vdisk_submit, vdisk_poll, 0 };
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

/* The disk after a cut at log position k: everything up to the last flush before k,
 * then those of the writes after it that keep[] says (every one if keep is 0). */
static void disk_crash(int k, const bool *keep)
{
	int flushed = 0;

	disk_reset();
	for (int i = 0; i < k; i++)
		if (d.log[i].flush)
			flushed = i;
	for (int i = 0; i < k; i++)
		if (!d.log[i].flush && (i < flushed || keep == 0 || keep[i]))
			d.sec[d.log[i].sector] = d.log[i].data;
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

static struct {
	uint8_t *ram[WINDOW_PAGES];	/* layer 1's pages now */
	int ver[WINDOW_PAGES];		/* their version now */
	int durable[CHECKPOINTS + 1][WINDOW_PAGES]; /* versions in checkpoint c (0: the start) */
	int returned_at[CHECKPOINTS + 1]; /* log length when commit c returned */
	int rec[WINDOW_PAGES];		/* newest record holding the page's durable version */
	int home[WINDOW_PAGES];		/* the version its home holds (maybe not flushed) */
	bool home_flushed[WINDOW_PAGES];
	int committed;
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

/* Writes page p home from RAM (it must be unchanged since its commit). */
static void write_home(int p)
{
	uint64_t pa = v2p(m.ram[p]);

	ck_assert_int_eq(blk_rw_sync(&dev, BLK_WRITE, (FIRST_HOME + (uint64_t)p) * BLK_SECTORS_PER_PAGE,
	    BLK_SECTORS_PER_PAGE, &pa), BLK_OK);
	m.home[p] = m.ver[p];
	m.home_flushed[p] = false;
}

/* A flush, then the journal may let go of every record whose pages are all home. */
static void flush_and_release(void)
{
	uint64_t keep = j.next_seq;

	ck_assert_int_eq(blk_rw_sync(&dev, BLK_FLUSH, 0, 0, 0), BLK_OK);
	for (int p = 0; p < WINDOW_PAGES; p++) {
		m.home_flushed[p] = true;
		if (m.rec[p] != 0 && m.home[p] != m.durable[m.committed][p] && (uint64_t)m.rec[p] < keep)
			keep = (uint64_t)m.rec[p];
	}
	ck_assert_int_eq(journal_release(&j, keep), J_OK);
}

/*
 * Layer 1 changes page p.  The rule the pager will keep: a page's durable
 * version reaches home before layer 1 changes it again, so no record is ever
 * the only copy of a page that is neither home nor in a newer record.
 */
static void touch(int p)
{
	if (m.rec[p] != 0 && m.home[p] != m.durable[m.committed][p])
		write_home(p);
	fill(m.ram[p], p, ++m.ver[p]);
}

static void commit(int c)
{
	struct jpage pages[WINDOW_PAGES];
	uint8_t st[STATE_BYTES];
	uint32_t n = 0;
	enum journal_error e;

	for (int p = 0; p < WINDOW_PAGES; p++)
		if (m.ver[p] != m.durable[c - 1][p])
			pages[n++] = (struct jpage){ FIRST_HOME + (uint64_t)p, v2p(m.ram[p]) };
	state_of(st, c);
	while ((e = journal_commit(&j, pages, n, st, STATE_BYTES)) == J_NOSPACE) {
		for (int p = 0; p < WINDOW_PAGES; p++)
			if (m.rec[p] != 0 && m.home[p] != m.durable[c - 1][p] && m.ver[p] == m.durable[c - 1][p])
				write_home(p);
		flush_and_release();
	}
	ck_assert_msg(e == J_OK, "commit %d: %s", c, journal_error_name(e));
	for (int p = 0; p < WINDOW_PAGES; p++) {
		m.durable[c][p] = m.ver[p];
		if (m.ver[p] != m.durable[c - 1][p])
			m.rec[p] = (int)j.next_seq - 1;
	}
	m.committed = c;
	m.returned_at[c] = d.nlog;
}

/* Runs the workload once, logging everything the disk saw. */
static void workload(unsigned seed)
{
	m.seed = seed;
	disk_reset();
	d.log = calloc(OPS_MAX, sizeof(*d.log));
	d.nlog = 0;
	d.logging = true;
	for (int p = 0; p < WINDOW_PAGES; p++) {
		m.ram[p] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		fill(m.ram[p], p, 0);
		write_home(p);
		m.rec[p] = 0;
	}
	memset(m.durable, 0, sizeof(m.durable));
	journal_setup();
	ck_assert_int_eq(journal_format(&j), J_OK);
	m.committed = 0;
	m.returned_at[0] = d.nlog;
	for (int c = 1; c <= CHECKPOINTS; c++) {
		int changes = 1 + (int)(rnd() % 9);

		for (int i = 0; i < changes; i++)
			touch((int)(rnd() % WINDOW_PAGES));
		commit(c);
		for (int i = 0, n = (int)(rnd() % 6); i < n; i++) {
			int p = (int)(rnd() % WINDOW_PAGES);

			if (m.ver[p] == m.durable[c][p] && m.home[p] != m.ver[p])
				write_home(p);
		}
		if (rnd() % 3 == 0)
			flush_and_release();
	}
	d.logging = false;
}

static void workload_free(void)
{
	for (int p = 0; p < WINDOW_PAGES; p++)
		free(m.ram[p]);
	disk_reset();
	free(d.log);
}

/* Recovers the disk as it is and checks it: 0, or a message. */
static const char *check_recovery(int k, char *msg, size_t len)
{
	uint8_t st[JOURNAL_STATE_MAX], want[STATE_BYTES], page[PAGE_SIZE];
	struct jrecovery r;
	enum journal_error e;
	int c = 0, floor = 0;

	for (int i = 0; i <= CHECKPOINTS; i++)
		if (m.returned_at[i] <= k)
			floor = i;
	journal_setup();
	e = journal_recover(&j, st, &r);
	if (e != J_OK) {
		snprintf(msg, len, "cut at %d: recovery failed: %s (%s)", k, journal_error_name(e),
		    r.why ? r.why : "");
		return msg;
	}
	if (r.seq != 0) {
		ck_assert_int_eq(r.state_bytes, STATE_BYTES);
		for (c = 1; c <= CHECKPOINTS; c++) {
			state_of(want, c);
			if (memcmp(want, st, STATE_BYTES) == 0)
				break;
		}
		ck_assert_int_le(c, CHECKPOINTS);
	}
	if (c < floor) {
		snprintf(msg, len, "cut at %d: recovered checkpoint %d, but commit %d had returned", k, c, floor);
		return msg;
	}
	for (int p = 0; p < WINDOW_PAGES; p++) {
		uint64_t pa = v2p(page);

		blk_rw_sync(&dev, BLK_READ, (FIRST_HOME + (uint64_t)p) * BLK_SECTORS_PER_PAGE,
		    BLK_SECTORS_PER_PAGE, &pa);
		fill(m.ram[0], p, m.durable[c][p]);
		if (memcmp(page, m.ram[0], PAGE_SIZE) != 0) {
			snprintf(msg, len, "cut at %d: checkpoint %d, but page %d is not version %d",
			    k, c, p, m.durable[c][p]);
			return msg;
		}
	}
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(a_commit_then_recovery_finds_it)
{
	char msg[160];

	workload(1);
	disk_crash(d.nlog, 0);
	ck_assert_msg(check_recovery(d.nlog, msg, sizeof(msg)) == 0, "%s", msg);
	workload_free();
}
END_TEST

START_TEST(every_cut_in_order_recovers_a_committed_state)
{
	char msg[160];

	workload(2 + (unsigned)_i);
	for (int k = m.returned_at[0]; k <= d.nlog; k++) {
		disk_crash(k, 0);
		ck_assert_msg(check_recovery(k, msg, sizeof(msg)) == 0, "%s", msg);
	}
	workload_free();
}
END_TEST

/* Writes after the last flush reach the disk in any subset, torn by sector. */
START_TEST(every_cut_with_lost_and_torn_writes_recovers_a_committed_state)
{
	static bool keep[OPS_MAX];
	char msg[160];

	workload(100 + (unsigned)_i);
	for (int k = m.returned_at[0]; k <= d.nlog; k++) {
		for (int t = 0; t < 3; t++) {
			for (int i = 0; i < k; i++)
				keep[i] = rnd() % 2;
			disk_crash(k, keep);
			ck_assert_msg(check_recovery(k, msg, sizeof(msg)) == 0, "%s (subset %d)", msg, t);
		}
	}
	workload_free();
}
END_TEST

/* A recovery cut short is recovered again: replaying twice is harmless. */
START_TEST(recovery_is_idempotent)
{
	char msg[160];

	workload(7);
	disk_crash(d.nlog, 0);
	journal_setup();
	d.logging = false;
	{
		uint8_t st[JOURNAL_STATE_MAX];
		struct jrecovery r;

		ck_assert_int_eq(journal_recover(&j, st, &r), J_OK);
	}
	ck_assert_msg(check_recovery(d.nlog, msg, sizeof(msg)) == 0, "%s", msg);
	workload_free();
}
END_TEST

/* A sealed record that fails its CRCs means the disk lied: recovery refuses it, never resumes. */
START_TEST(a_damaged_sealed_record_is_refused)
{
	uint8_t st[JOURNAL_STATE_MAX], bad[SECTOR];
	struct jrecovery r;

	workload(9);
	/* Flip a byte in each journal sector in turn until one lands in a sealed record. */
	for (uint64_t s = JOURNAL_START / SECTOR; s < NSECTORS; s++) {
		disk_crash(d.nlog, 0);
		if (d.sec[s] == 0)
			continue;
		memcpy(bad, d.sec[s], SECTOR);
		bad[100] ^= 1;
		d.sec[s] = bad;
		journal_setup();
		if (journal_recover(&j, st, &r) == J_CORRUPT) {
			ck_assert_ptr_nonnull(r.why);
			workload_free();
			return;
		}
	}
	ck_abort_msg("no damaged journal sector was refused");
}
END_TEST

/* A torn superblock leaves the other, older one. */
START_TEST(a_torn_superblock_falls_back_to_the_other)
{
	char msg[160];
	uint8_t junk[SECTOR];

	uint64_t slot[2], gen[2] = { 0, 0 };

	workload(11);
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
	ck_assert_int_eq(journal_recover(&j, st, &r), J_NONE);
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
	ck_assert_int_eq(journal_recover(&j, st, &r), J_NONE);
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
	ck_assert_int_eq(journal_recover(&j, st, &r), J_NOSUPER);
	ck_assert_ptr_nonnull(r.why);
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

int main(void)
{
	Suite *s = suite_create("journal");
	TCase *t = tcase_create("cuts");

	blkdev_register(&dev);
	tcase_set_timeout(t, 120);
	tcase_add_test(t, a_commit_then_recovery_finds_it);
	tcase_add_loop_test(t, every_cut_in_order_recovers_a_committed_state, 0, 2);
	tcase_add_loop_test(t, every_cut_with_lost_and_torn_writes_recovers_a_committed_state, 0, 2);
	tcase_add_test(t, recovery_is_idempotent);
	tcase_add_test(t, a_damaged_sealed_record_is_refused);
	tcase_add_test(t, a_torn_superblock_falls_back_to_the_other);
	tcase_add_test(t, a_blank_disk_has_no_journal);
	tcase_add_test(t, another_installs_journal_is_none);
	tcase_add_test(t, damaged_superblocks_are_refused);
	tcase_add_test(t, a_record_larger_than_the_journal_is_too_big);
	suite_add_tcase(s, t);
	return run_suite(s, true);
}
