/*
 * The disk label and the disk's geometry (disklabel.h).  Layer 0 reads and
 * writes the label straight through the block device: the head of the disk is
 * not in the page cache, because layer 1 never maps it.
 */
#include "defs.h"
#include "blkdev.h"
#include "disklabel.h"
#include "strata/abi.h"

_Static_assert(sizeof(struct disklabel) <= 4096, "the label is one page");

uint64_t fnv1a(const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * The journal: a sixteenth of the disk, within the ABI's bounds, in whole
 * MiB.  A disk larger than the window is used up to the window's end: layer
 * 1 cannot address the rest, so the journal ends there too.
 */
void disk_geometry(const struct blkdev *dev, struct diskgeom *g)
{
	uint64_t journal;

	g->disk_bytes = PAGE_ROUND_DOWN(dev->sectors * dev->sector_size);
	if (g->disk_bytes > STRATA_DISK_WINDOW_SIZE) {
		kprintf("strata: %s: %lu GiB, larger than the %lu GiB window: using its first %lu GiB\n",
		    dev->name, (unsigned long)(g->disk_bytes >> 30),
		    (unsigned long)(STRATA_DISK_WINDOW_SIZE >> 30), (unsigned long)(STRATA_DISK_WINDOW_SIZE >> 30));
		g->disk_bytes = STRATA_DISK_WINDOW_SIZE;
	}
	journal = g->disk_bytes / 16;
	if (journal < STRATA_JOURNAL_MIN)
		journal = STRATA_JOURNAL_MIN;
	if (journal > STRATA_JOURNAL_MAX)
		journal = STRATA_JOURNAL_MAX;
	journal = (journal + 0xfffff) & ~0xfffffULL;
	g->l1_limit = g->disk_bytes > journal ? g->disk_bytes - journal : 0;
}

static uint64_t label_sum(const struct disklabel *l)
{
	return fnv1a(l, offsetof(struct disklabel, checksum));
}

int label_read(struct blkdev *dev, struct disklabel *l)
{
	uint64_t pa = pmm_alloc();
	enum blk_status s;
	int r = 0;

	if (pa == 0)
		panic("no memory to read the disk label");
	s = blk_rw_sync(dev, BLK_READ, 0, BLK_SECTORS_PER_PAGE, &pa);
	if (s != BLK_OK) {
		kprintf("strata: %s: reading the label failed: %s\n", dev->name, blk_status_name(s));
		r = -1;
	} else {
		memcpy(l, p2v(pa), sizeof(*l));
		r = l->magic == LABEL_MAGIC && l->version == LABEL_VERSION &&
		    l->nseg <= STRATA_MAX_SEGMENTS && l->checksum == label_sum(l);
	}
	pmm_free(pa);
	return r;
}

int label_write(struct blkdev *dev, struct disklabel *l)
{
	uint64_t pa = pmm_alloc();
	enum blk_status s;

	if (pa == 0)
		panic("no memory to write the disk label");
	l->magic = LABEL_MAGIC;
	l->version = LABEL_VERSION;
	l->checksum = label_sum(l);
	memcpy(p2v(pa), l, sizeof(*l));
	s = blk_rw_sync(dev, BLK_WRITE, 0, BLK_SECTORS_PER_PAGE, &pa);
	if (s == BLK_OK)
		s = blk_rw_sync(dev, BLK_FLUSH, 0, 0, 0);
	pmm_free(pa);
	if (s != BLK_OK)
		kprintf("strata: %s: writing the label failed: %s\n", dev->name, blk_status_name(s));
	return s == BLK_OK ? 0 : -1;
}
