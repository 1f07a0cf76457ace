/*
 * Prefetch (STRATA_TRAP_PREFETCH, ABI 1.5): pages layer 1 says it will need,
 * read while it goes on.
 *
 * The trap starts one read per run of pages that are neither cached nor
 * being read, each into new cache pages flagged INFLIGHT and BUSY (so
 * nothing maps or evicts them while the device writes their frames) and
 * PREFETCHED, and returns without waiting.  Up to PF_SLOTS reads are in
 * flight at once, several dozen: virtio-blk has 64 request slots and its
 * queue, and a random-read load needs that many to keep the device busy.
 *
 * Reads finish when a poll finds them complete (each fault and each prefetch
 * trap polls), or when a touch waits for one: a fault on a page still in
 * flight waits for that read alone (desc_settled, which the fault path and
 * layer 0's taking of a page call).  A read that
 * failed leaves nothing behind: its pages are dropped, so the touch reads the
 * page again, and a second failure is the fault's DISK-IO report, as without
 * prefetch; the trap never reports one.
 *
 * The share bound: pages prefetched and not yet touched (PREFETCHED) are at
 * most a sixteenth of the cache, so prefetching cannot push the working set
 * out.  A touch clears the flag: the page mapped (by its fault, or with a
 * neighbour's by fault-around or a stream: map()) or taken by layer 0
 * (desc_split_out()); a prefetched page the CLOCK evicts first is simply
 * dropped (it is clean) and counted as cancelled.  Checkpoints never see
 * these pages: a page being read is not dirty, and nothing of a prefetch is
 * state.
 */
#include "defs.h"
#include "blkdev.h"
#include "pager_impl.h"
#include "profile.h"

#define PF_SLOTS	48	/* reads in flight at once */
#define PF_RUN		32	/* pages one read carries at most */
#define PF_SHARE	16	/* untouched prefetched pages: at most 1/PF_SHARE of the cache */

struct pf_read {
	struct blkreq req;
	uint64_t dpn;
	uint32_t n;
	uint32_t idx[PF_RUN];	/* descriptors of its pages */
	uint64_t pages[PF_RUN];	/* their frames */
	bool active;
};

static struct pf_read reads[PF_SLOTS];
static uint32_t nactive;
static struct pager_prefetch_stats pst;

static uint64_t share(void)
{
	uint64_t s = pg.ncp / PF_SHARE;

	return s > 0 ? s : 1;
}

/* A read is over: its pages join the cache, or go if it failed. */
static void finish(struct pf_read *r)
{
	enum blk_status s = blk_wait(pg.dev, &r->req);

	for (uint32_t k = 0; k < r->n; k++) {
		struct cpage *c = &pg.cp[r->idx[k]];

		if (s == BLK_OK) {
			c->flags &= ~(CP_INFLIGHT | CP_BUSY);
			continue;
		}
		/* Not cancelled: gone so that the touch reads it again, and reports. */
		c->flags &= ~CP_PREFETCHED;
		pst.untouched--;
		drop(r->idx[k]);
	}
	if (s != BLK_OK) {
		pst.errors++;
		kprintf("strata: pager: prefetch of %u pages at disk offset %#lx failed: %s "
		    "(reported at the touch)\n", r->n, (unsigned long)(r->dpn * PAGE_SIZE),
		    blk_status_name(s));
	}
	r->active = false;
	nactive--;
}

void pf_reap(void)
{
	if (nactive == 0)
		return;
	blk_poll(pg.dev);
	for (uint32_t k = 0; k < PF_SLOTS; k++)
		if (reads[k].active && reads[k].req.status != BLK_PENDING)
			finish(&reads[k]);
}

/* Waits for the read of page dpn, if one is in flight. */
static void wait_for(uint64_t dpn)
{
	for (uint32_t k = 0; k < PF_SLOTS && nactive > 0; k++) {
		struct pf_read *r = &reads[k];

		if (r->active && dpn - r->dpn < r->n) {
			uint64_t t0 = prof_begin();

			if (r->req.status == BLK_PENDING)
				pst.waits++;
			finish(r);
			prof_end(PROF_PF_WAIT, t0);
			return;
		}
	}
}

/*
 * The fault path and layer 0's taking of a page ask here first: the reads
 * that are over are finished (so their pages are cached, and their slots and
 * share free), and page dpn's own is waited for if it is still in flight.
 * It is not yet a touch: map() and desc_split_out() say so.
 */
uint32_t desc_settled(uint64_t dpn)
{
	pf_reap();
	wait_for(dpn);
	return desc_holding(dpn);
}

void pager_prefetch_touched(uint32_t i)
{
	if (!(pg.cp[i].flags & CP_PREFETCHED))
		return;
	pg.cp[i].flags &= ~CP_PREFETCHED;
	pst.untouched--;
	pst.used++;
}

void pager_prefetch_dropped(uint32_t i)
{
	pg.cp[i].flags &= ~CP_PREFETCHED;
	pst.untouched--;
	pst.cancelled++;
}

static struct pf_read *free_read(void)
{
	for (uint32_t k = 0; k < PF_SLOTS; k++)
		if (!reads[k].active)
			return &reads[k];
	return 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t pager_prefetch(uint64_t off, uint64_t len)
{
	uint64_t dpn = off / PAGE_SIZE, end = (off + len) / PAGE_SIZE, started = 0;
	uint64_t looked = 0, t0 = prof_begin(), t;

	if (pg.dev == 0)
		return 0;
	pst.traps++;
	pf_reap();
	/* A range much longer than the share is cut there: the trap must return soon. */
	while (dpn < end && looked++ < share()) {
		struct pf_read *r;
		uint32_t i, n;

		if ((i = desc_holding(dpn)) != NIL) {
			pst.cached++;	/* in RAM or being read already: nothing to do */
			dpn = pg.cp[i].dpn + pages_of(&pg.cp[i]);
			continue;
		}
		if (pst.untouched >= share()) {
			pst.refused_share++;
			break;
		}
		if ((r = free_read()) == 0) {
			pst.refused_queue++;
			break;
		}
		n = (uint32_t)min64(min64(end - dpn, PF_RUN), share() - pst.untouched);
		if ((n = gather(dpn, n, r->idx, r->pages, CP_INFLIGHT | CP_PREFETCHED)) == 0)
			break;
		pst.untouched += n;
		r->dpn = dpn;
		r->n = n;
		/* Lazy: needed only later, so it may wait to be told with the next ones. */
		r->req = (struct blkreq){ .op = BLK_READ, .sector = dpn * BLK_SECTORS_PER_PAGE,
		    .nsectors = n * BLK_SECTORS_PER_PAGE, .pages = r->pages, .lazy = true };
		r->active = true;
		nactive++;
		pg.st.reads++;
		pg.st.read_pages += n;
		pst.reads++;
		pst.pages += n;
		t = prof_begin();
		blk_submit(pg.dev, &r->req);	/* a final status at once is kept in req.status */
		prof_end(PROF_PF_SUBMIT, t);
		started += n;
		dpn += n;
	}
	prof_end(PROF_PREFETCH, t0);
	return started;
}

const struct pager_prefetch_stats *pager_prefetch_stats(void)
{
	pst.inflight = nactive;
	pst.share = share();
	return &pst;
}

void pager_prefetch_print(void)
{
	if (pst.traps == 0)
		return;
	kprintf("strata: pager: prefetch: %lu traps, %lu reads (%lu pages), %lu runs cached, "
	    "%lu pages used, %lu cancelled, %lu touches waited, %lu reads failed, "
	    "%lu cut by the share (%lu pages), %lu by the queue\n",
	    (unsigned long)pst.traps, (unsigned long)pst.reads, (unsigned long)pst.pages,
	    (unsigned long)pst.cached, (unsigned long)pst.used, (unsigned long)pst.cancelled,
	    (unsigned long)pst.waits, (unsigned long)pst.errors, (unsigned long)pst.refused_share,
	    (unsigned long)share(), (unsigned long)pst.refused_queue);
}
