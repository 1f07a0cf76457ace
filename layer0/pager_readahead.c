/*
 * Reading pages in: a miss alone, or a sequential stream's pages ahead of it.
 *
 * A fault that continues the last one reads RA_FIRST pages, then twice the
 * last read up to RA_MAX, and keeps RA_INFLIGHT reads going in the
 * background while layer 1 goes on, and while a fault waits for one of
 * them; a stream never has more than ra_limit pages (a quarter of the
 * cache) read ahead of it.  Where it can, a stream reads in 2 MiB pages:
 * one aligned block of HUGE_PAGES frames, one descriptor, one read, one
 * PDE.  Under emulation the per-page work of the cache costs more than the
 * copy, so this is what lets a mapped scan come near the device's own
 * speed.  A random fault maps the cached pages of its
 * aligned fault-around block with it.
 */
#include "defs.h"
#include "blkdev.h"
#include "pager_impl.h"
#include "profile.h"

#define RA_INFLIGHT	12	/* background reads ahead of a sequential stream */

static uint64_t list[RA_MAX];	/* physical pages of the read in progress */

/* A read ahead of a sequential stream, running while layer 1 goes on. */
struct prefetch {
	struct blkreq req;
	uint64_t pages[RA_MAX];
	uint64_t buf;		/* a 2 MiB page's frames, read as one buffer; else 0 */
	uint32_t idx[RA_MAX];	/* its descriptors: one if huge */
	uint32_t ndesc;
	uint64_t dpn;
	uint32_t n;		/* pages */
	bool active;
};
static struct prefetch prefetches[RA_INFLIGHT];
static uint64_t idle_since;	/* profiled: when the last stream read was seen over */

/* The next read of a sequential stream: twice the last, from RA_FIRST up to RA_MAX. */
static uint32_t grow(void)
{
	uint32_t most = pg.ra_limit < RA_MAX ? (uint32_t)pg.ra_limit : RA_MAX;

	pg.ra_pages = pg.ra_pages < RA_FIRST ? RA_FIRST : pg.ra_pages * 2;
	if (pg.ra_pages > most)
		pg.ra_pages = most;
	return pg.ra_pages;
}

/*
 * Gathers up to n new cache pages from dpn (which is not cached) for one
 * read, stopping before a page that is cached or not layer 1's, or when no
 * frame can be had; flags them extra.  How many.
 */
uint32_t gather(uint64_t dpn, uint32_t n, uint32_t *idx, uint64_t *pages, uint32_t extra)
{
	uint32_t got;

	for (got = 0; got < n; got++) {
		uint64_t p = dpn + got;

		if (got > 0 && (desc_holding(p) != NIL || pg.perm(p * PAGE_SIZE) == 0))
			break;
		if ((idx[got] = page_alloc(p, pg.dev == 0)) == NIL)
			break;
		pg.cp[idx[got]].flags |= extra;
		pages[got] = pg.cp[idx[got]].pa;
	}
	return got;
}

/*
 * Reads up to n pages from dpn into new cache pages, stopping before a page
 * that is cached or not layer 1's.  Returns the descriptor of dpn (BUSY), or
 * NIL with *err set on a read error.
 */
uint32_t read_in(uint64_t dpn, uint32_t n, uint32_t *nread, bool *err)
{
	uint32_t idx[RA_MAX], got;
	enum blk_status s;
	uint64_t t0;

	*err = false;
	if ((got = gather(dpn, n, idx, list, 0)) == 0)
		out_of_memory();
	*nread = got;
	if (pg.dev == 0)
		return idx[0];		/* the frame is zero: that is the page */
	pg.st.reads++;
	pg.st.read_pages += got;
	t0 = prof_begin();
	s = blk_rw_sync(pg.dev, BLK_READ, dpn * BLK_SECTORS_PER_PAGE, got * BLK_SECTORS_PER_PAGE, list);
	prof_end(PROF_READ, t0);
	for (uint32_t k = 1; k < got; k++)
		pg.cp[idx[k]].flags &= ~CP_BUSY;
	if (s == BLK_OK)
		return idx[0];
	kprintf("strata: pager: reading %u pages at disk offset %#lx failed: %s\n", got,
	    (unsigned long)(dpn * PAGE_SIZE), blk_status_name(s));
	for (uint32_t k = 0; k < got; k++)
		drop(idx[k]);
	*err = true;
	return NIL;
}
/* Maps the cached pages of the aligned fault-around block holding dpn. */
void fault_around(uint64_t dpn)
{
	uint64_t first = dpn - dpn % pg.faultaround;

	for (uint64_t p = first; p < first + pg.faultaround; p++) {
		uint32_t i;

		/* Not a page a background read is still filling: it has no contents yet. */
		if (p != dpn && (i = desc_holding(p)) != NIL &&
		    !(pg.cp[i].flags & (CP_MAPPED | CP_INFLIGHT)) && pg.perm(p * PAGE_SIZE) != 0)
			map(i);
	}
}

/* Whether a background read is in flight. */
static bool prefetch_active(void)
{
	for (int k = 0; k < RA_INFLIGHT; k++)
		if (prefetches[k].active)
			return true;
	return false;
}

/* A background read is over: its pages join the cache, or go if it failed. */
static void prefetch_finish(struct prefetch *p)
{
	enum blk_status s = blk_wait(pg.dev, &p->req);

	for (uint32_t k = 0; k < p->ndesc; k++) {
		if (s == BLK_OK)
			pg.cp[p->idx[k]].flags &= ~(CP_INFLIGHT | CP_BUSY);
		else
			drop(p->idx[k]);	/* a fault will read it again, and report */
	}
	p->active = false;
	if (!prefetch_active())
		idle_since = prof_begin();
}

/* Finishes the background reads that completed, without waiting. */
void prefetch_reap(void)
{
	if (!prefetch_active())
		return;
	blk_poll(pg.dev);
	for (int k = 0; k < RA_INFLIGHT; k++)
		if (prefetches[k].active && prefetches[k].req.status != BLK_PENDING)
			prefetch_finish(&prefetches[k]);
}

/* While a fault waits: the stream's reads that are over join the cache, and their slots read on. */
static void refill(void)
{
	prefetch_reap();
	prefetch_more();
}

/*
 * Waits for the background read that is filling page dpn.  With refill_ok
 * (pager.c's desc_read_over says when), the reads after it that complete meanwhile are finished and their slots given
 * new reads at once, so the device is not left with less to do until the
 * fault is over.
 */
void prefetch_wait(uint64_t dpn, bool refill_ok)
{
	for (int k = 0; k < RA_INFLIGHT; k++) {
		struct prefetch *p = &prefetches[k];

		if (p->active && dpn - p->dpn < p->n) {
			blk_wait_busy(pg.dev, &p->req, refill_ok ? refill : 0);
			prefetch_finish(p);
		}
	}
}

/*
 * Whether streams read ahead in 2 MiB pages: only with fault-around on (a
 * 2 MiB page is mapped whole) and a stream's slice of the cache holding one.
 */
static bool huge_streams(void)
{
	return pg.faultaround > 1 && pg.ra_limit >= HUGE_PAGES;
}

/*
 * Sets p up to read the aligned block at p->dpn as one 2 MiB page, if none
 * of it is cached and all of it is mapped alike.
 */
static bool prefetch_huge(struct prefetch *p)
{
	uint64_t dpn = p->dpn, flags = pg.perm(dpn * PAGE_SIZE);
	uint32_t i;

	if (!huge_streams() || dpn % HUGE_PAGES != 0)
		return false;
	if (desc_holding(dpn) != NIL)
		return false;
	for (uint64_t k = 1; k < HUGE_PAGES; k++)	/* no 2 MiB page here: its own pages only */
		if (desc_keyed(dpn + k) != NIL || pg.perm((dpn + k) * PAGE_SIZE) != flags)
			return false;
	if ((i = huge_alloc(dpn)) == NIL)
		return false;
	p->buf = pg.cp[i].pa;
	p->idx[0] = i;
	p->ndesc = 1;
	p->n = HUGE_PAGES;
	return true;
}

/*
 * Sets p up to read the next pages of the stream into 4 KiB pages: up to the
 * next 2 MiB boundary at most, when the stream could go on in 2 MiB pages.
 */
static bool prefetch_small(struct prefetch *p)
{
	uint32_t n = grow();

	if (huge_streams() && n > HUGE_PAGES - p->dpn % HUGE_PAGES)
		n = (uint32_t)(HUGE_PAGES - p->dpn % HUGE_PAGES);
	p->buf = 0;
	p->n = p->ndesc = gather(p->dpn, n, p->idx, p->pages, CP_INFLIGHT | CP_BUSY);
	return p->n > 0;
}

/*
 * A stream about to read the aligned block at dpn: 4 KiB pages cached in it
 * (random reads, fault-around, prefetch) would keep the block, and the
 * stream through it, in 4 KiB pages for good.  When they are fewer than
 * half the block, every one may be dropped (page_droppable: clean,
 * unpinned) and the block could be one 2 MiB page (all of it mapped alike),
 * they go, with one TLB flush: the block's 2 MiB read brings them back with
 * the rest.  Otherwise the cached pages carry the stream.  Only a stream
 * that went through a block's worth already: two neighbouring pages of a
 * random load (a value across a page boundary) look like a stream's start,
 * and must not cost the cache its hot pages.
 */
static void absorb_small_pages(uint64_t dpn)
{
	static uint32_t idx[HUGE_PAGES / 2];
	uint64_t flags = pg.perm(dpn * PAGE_SIZE);
	uint32_t n = 0, i;

	if (pg.seq_next - pg.stream_from < HUGE_PAGES)
		return;
	for (uint64_t k = 0; k < HUGE_PAGES; k++) {
		if ((i = desc_keyed(dpn + k)) == NIL)
			continue;
		if (n == HUGE_PAGES / 2 || !page_droppable(i))
			return;
		idx[n++] = i;
	}
	for (uint64_t k = 1; n > 0 && k < HUGE_PAGES; k++)
		if (pg.perm((dpn + k) * PAGE_SIZE) != flags)
			return;
	for (uint32_t k = 0; k < n; k++)
		drop_unflushed(idx[k]);
	if (n > 0)
		vm_flush_all();
	pg.st.absorbed += n;
}

/*
 * Keeps RA_INFLIGHT reads going ahead of a sequential stream.  A stream's
 * faults may map cached pages past its last read (pages read by the
 * prefetch trap, fault-around or an earlier stream): its reads then go on
 * from its next fault, not from behind it, which the window's unsigned
 * distance would take for a stream far ahead and read nothing more.
 */
void prefetch_more(void)
{
	if (pg.ra_end < pg.seq_next)
		pg.ra_end = pg.seq_next;
	for (int k = 0; k < RA_INFLIGHT; k++) {
		struct prefetch *p = &prefetches[k];
		uint64_t t0;
		uint32_t i;

		if (p->active)
			continue;
		/*
		 * Pages already cached need no read (and must not get a second
		 * descriptor), but a block reached at its start may first give
		 * its small pages up for one 2 MiB read.
		 */
		while (pg.ra_end - pg.seq_next < pg.ra_limit) {
			if (huge_streams() && pg.ra_end % HUGE_PAGES == 0 &&
			    pg.ra_end + HUGE_PAGES - pg.seq_next <= pg.ra_limit)
				absorb_small_pages(pg.ra_end);
			if ((i = desc_holding(pg.ra_end)) == NIL)
				break;
			pg.ra_end = pg.cp[i].dpn + pages_of(&pg.cp[i]);
		}
		if (pg.ra_end - pg.seq_next >= pg.ra_limit || pg.perm(pg.ra_end * PAGE_SIZE) == 0)
			return;		/* far enough ahead, or the stream leaves layer 1's pages */
		if (huge_streams() && pg.ra_end % HUGE_PAGES == 0 &&
		    pg.ra_end + HUGE_PAGES - pg.seq_next > pg.ra_limit)
			return;		/* a 2 MiB read, once the stream has room for it */
		p->dpn = pg.ra_end;
		if (!prefetch_huge(p) && !prefetch_small(p))
			return;
		pg.ra_end += p->n;
		p->req = (struct blkreq){ .op = BLK_READ, .sector = p->dpn * BLK_SECTORS_PER_PAGE,
		    .nsectors = p->n * BLK_SECTORS_PER_PAGE, .pages = p->buf ? 0 : p->pages,
		    .buf = p->buf };
		p->active = true;
		prof_end(PROF_RA_IDLE, idle_since);
		idle_since = 0;
		pg.st.reads++;
		pg.st.read_pages += p->n;
		t0 = prof_begin();
		blk_submit(pg.dev, &p->req);	/* a final status at once is kept in req.status */
		prof_end(PROF_SUBMIT, t0);
	}
}

void pager_interrupt(void)
{
	uint64_t t0 = prof_begin();

	if (pg.dev == 0)
		return;
	/* Prefetch reads that are over free their slots, and a poll tells the device of put-off ones. */
	pf_reap();
	if (!prefetch_active())
		return;		/* no stream is reading: nothing to keep going */
	prefetch_reap();
	pg.no_wait = true;
	prefetch_more();
	pg.no_wait = false;
	prof_end(PROF_IRQ, t0);
}

/* Maps the run of cached pages after dpn (up to n of them): a stream reads them next. */
uint64_t map_run(uint64_t dpn, uint32_t n)
{
	uint64_t p = dpn + 1;
	uint32_t i;

	while (p < dpn + n && (i = desc_holding(p)) != NIL && !(pg.cp[i].flags & CP_INFLIGHT)) {
		if (!(pg.cp[i].flags & CP_MAPPED))
			map(i);
		p = pg.cp[i].dpn + pages_of(&pg.cp[i]);
	}
	return p;
}

/*
 * Reads page dpn, not cached, after a fault on it: alone when the fault is
 * random (a new stream may start there), else with read-ahead.  Its
 * descriptor, BUSY, or NIL on a read error.
 */
uint32_t read_miss(uint64_t dpn, bool sequential)
{
	uint32_t i, n = 1;
	bool err;

	if (!sequential) {
		i = read_in(dpn, 1, &n, &err);
		pg.ra_pages = 1;	/* a new stream may start here */
		pg.seq_next = dpn + 1;
		pg.stream_from = dpn;
		pg.ra_end = dpn + 1;
		return i;
	}
	/* A bad sector in the read-ahead must not fail a page that reads fine alone. */
	if ((i = read_in(dpn, grow(), &n, &err)) == NIL && n > 1)
		i = read_in(dpn, 1, &n, &err);
	if (i != NIL && dpn + n > pg.ra_end)
		pg.ra_end = dpn + n;
	return i;
}
