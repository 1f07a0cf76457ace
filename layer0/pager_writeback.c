/*
 * Writing dirty pages to their home on the disk: the cluster around an
 * eviction's victim, a durable checkpoint's pages in the background, and
 * pager_sync()'s every dirty page in order.  Each asks home_write_allowed()
 * first: that is where the checkpoint rule ("nothing newer than the last
 * durable checkpoint overwrites its home location") lives.
 */
#include "defs.h"
#include "blkdev.h"
#include "pager_impl.h"

#define WB_MAX		256	/* pages in one write-back request */
#define WB_INFLIGHT	8	/* write-back requests in flight at once */

/*
 * May the dirty page c overwrite its home location on the disk now?  Once
 * checkpoints are on, only in the version a durable checkpoint holds: a
 * newer one would leave the home of a page ahead of the checkpoint a cut
 * resumes, with nothing to undo it.  Every write of a page home asks here.
 */
bool home_write_allowed(const struct cpage *c)
{
	return pg.steal == 0 || (c->flags & CP_JOURNALED);
}

/* One write request in flight: its pages and the descriptors they came from. */
struct wb_req {
	struct blkreq req;
	uint64_t pages[WB_MAX];
	uint32_t idx[WB_MAX];
	uint32_t n;
};
static struct wb_req wb[WB_INFLIGHT];

/*
 * A write request is over.  A frame a page has moved off meanwhile (it was
 * copied on write, pager_dirty.c) was the request's to free; the page's
 * next home write may go now.
 */
static void wb_finish(struct wb_req *w, int *failed)
{
	enum blk_status s = blk_wait(pg.dev, &w->req);

	for (uint32_t k = 0; k < w->n; k++) {
		struct cpage *c = &pg.cp[w->idx[k]];

		if (c->pa != w->pages[k]) {
			pmm_free(w->pages[k]);
			c->flags &= ~CP_GHOST;
			continue;
		}
		c->flags &= ~CP_HOMING;
		if (s == BLK_OK)
			c->flags &= ~(CP_DIRTY | CP_JOURNALED);
	}
	if (s != BLK_OK) {
		kprintf("strata: pager: writing %u pages at disk offset %#lx failed: %s\n",
		    w->n, (unsigned long)(pg.cp[w->idx[0]].dpn * PAGE_SIZE), blk_status_name(s));
		(*failed)++;
	}
	w->n = 0;
}

static void wb_submit(struct wb_req *w)
{
	w->req = (struct blkreq){
		.op = BLK_WRITE,
		.sector = pg.cp[w->idx[0]].dpn * BLK_SECTORS_PER_PAGE,
		.nsectors = w->n * BLK_SECTORS_PER_PAGE,
		.pages = w->pages,
	};
	pg.st.writes++;
	pg.st.write_pages += w->n;
	blk_submit(pg.dev, &w->req);	/* a final status is kept in req.status */
}

/* Whether page i can join the run w is building: w has room, and i comes right after its last page. */
static bool run_takes(const struct wb_req *w, uint32_t i)
{
	return w->n < WB_MAX && pg.cp[w->idx[w->n - 1]].dpn + 1 == pg.cp[i].dpn;
}

static void run_add(struct wb_req *w, uint32_t i)
{
	w->pages[w->n] = pg.cp[i].pa;
	w->idx[w->n++] = i;
}

/*
 * page_out: the one way a dirty page goes to its home on the disk.  Writes
 * the n descriptors of order[] (dirty, sorted by page), joining runs of
 * consecutive pages into requests of up to WB_MAX pages, WB_INFLIGHT at a
 * time.  Returns how many requests failed.
 */
static int page_out(const uint32_t *order, uint32_t n)
{
	int failed = 0;
	uint32_t slot = 0;
	struct wb_req *w = &wb[0];

	for (uint32_t k = 0; k < n; k++) {
		struct cpage *c = &pg.cp[order[k]];

		if (!home_write_allowed(c))
			continue;
		if (w->n > 0 && !run_takes(w, order[k])) {
			wb_submit(w);
			slot = (slot + 1) % WB_INFLIGHT;
			w = &wb[slot];
			if (w->n > 0)
				wb_finish(w, &failed);
		}
		run_add(w, order[k]);
	}
	if (w->n > 0)
		wb_submit(w);
	for (uint32_t s = 0; s < WB_INFLIGHT; s++)
		if (wb[s].n > 0)
			wb_finish(&wb[s], &failed);
	return failed;
}

/* True, with its descriptor in *i, when page p is cached, dirty and may be written. */
static bool writable_dirty(uint64_t p, uint32_t *i)
{
	if ((*i = desc_keyed(p)) == NIL)
		return false;
	harvest(&pg.cp[*i]);
	return (pg.cp[*i].flags & (CP_DIRTY | CP_PINNED)) == CP_DIRTY &&
	    home_write_allowed(&pg.cp[*i]);
}

/* The victim and the dirty pages next to it on the disk, written as one run. */
int page_out_cluster(uint32_t victim)
{
	uint64_t dpn = pg.cp[victim].dpn, first = dpn;
	uint32_t n = 0, i;

	while (first > 0 && dpn - first < WB_MAX / 2 && writable_dirty(first - 1, &i))
		first--;
	for (uint64_t p = first; n < WB_MAX && writable_dirty(p, &i); p++)
		pg.order[n++] = i;
	return page_out(pg.order, n);
}

/* Heap sort of order[0..n) by page number: no memory, no recursion. */
static void sift(uint32_t *a, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t child = 2 * root + 1, t;

		if (child >= n)
			return;
		if (child + 1 < n && pg.cp[a[child + 1]].dpn > pg.cp[a[child]].dpn)
			child++;
		if (pg.cp[a[root]].dpn >= pg.cp[a[child]].dpn)
			return;
		t = a[root];
		a[root] = a[child];
		a[child] = t;
		root = child;
	}
}

static void sort_by_page(uint32_t *a, uint32_t n)
{
	for (uint32_t i = n / 2; i-- > 0;)
		sift(a, i, n);
	for (uint32_t end = n; end-- > 1;) {
		uint32_t t = a[0];

		a[0] = a[end];
		a[end] = t;
		sift(a, 0, end);
	}
}

/*
 * A durable checkpoint's pages start home at once, in the background, in
 * whichever of WB_INFLIGHT runs are free; the rest go home lazily (eviction,
 * cleaning).  It never waits: a record's end may be seen in an interrupt.
 * A page stays HOMING until its request completes: nothing evicts it, and a
 * write to it moves it to a copy that is GHOST until then, so that two home
 * writes of one page are never in flight at once.
 */
static struct wb_req homing[WB_INFLIGHT];

static struct wb_req *homing_free(void)
{
	for (uint32_t s = 0; s < WB_INFLIGHT; s++)
		if (homing[s].n == 0)
			return &homing[s];
	return 0;
}

void home_start(const struct jpage *pages, uint32_t n)
{
	struct wb_req *w = 0;
	uint32_t m = 0;

	if (pg.dev == 0)
		return;
	home_reap(false);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i;

		if (writable_dirty(pages[k].home, &i))
			pg.order[m++] = i;
	}
	sort_by_page(pg.order, m);
	for (uint32_t k = 0; k < m; k++) {
		if (w != 0 && !run_takes(w, pg.order[k])) {
			wb_submit(w);
			w = 0;
		}
		if (w == 0 && (w = homing_free()) == 0)
			return;
		pg.cp[pg.order[k]].flags |= CP_HOMING;
		run_add(w, pg.order[k]);
	}
	if (w != 0)
		wb_submit(w);
}

static bool homing_in_flight(void)
{
	for (uint32_t s = 0; s < WB_INFLIGHT; s++)
		if (homing[s].n > 0)
			return true;
	return false;
}

/* Finishes the background home writes that are done (all, waiting, if wait).  True if any was in flight. */
bool home_reap(bool wait)
{
	bool any = false;

	if (!homing_in_flight())
		return false;	/* as a rule, on the eviction path: no poll of the device */
	if (!wait)
		blk_poll(pg.dev);
	for (uint32_t s = 0; s < WB_INFLIGHT; s++) {
		struct wb_req *w = &homing[s];
		int failed = 0;

		if (w->n == 0 || (!wait && w->req.status == BLK_PENDING))
			continue;
		any = true;
		wb_finish(w, &failed);	/* clears DIRTY and JOURNALED if it went home */
	}
	return any;
}

int pager_sync(void)
{
	uint32_t n = 0;
	int failed;

	pg.st.syncs++;
	if (pg.dev == 0)
		return 0;
	home_reap(true);
	for (uint32_t k = 0; k < pg.ndirty; k++)
		harvest(&pg.cp[pg.dirty[k]]);	/* what layer 1 wrote since its page was listed */
	for (uint32_t i = 0; i < pg.used; i++) {
		struct cpage *c = &pg.cp[i];

		if (c->pa != 0 && (c->flags & CP_DIRTY) && home_write_allowed(c)) {
			c->flags &= ~CP_NO_WRITEBACK;	/* a failed page gets another try */
			pg.order[n++] = i;
		}
	}
	sort_by_page(pg.order, n);
	failed = page_out(pg.order, n);
	if (blk_rw_sync(pg.dev, BLK_FLUSH, 0, 0, 0) != BLK_OK)
		failed++;
	return failed == 0 ? 0 : -1;
}
