/*
 * The disk's head and its label (disklabel.h), and the disk's geometry.
 * Layer 0 reads and writes the head straight through the block device: it
 * is not in the page cache, because layer 1 never maps it.
 *
 * A label is judged whole before any field of it is used: the magic, a
 * known version, the checksum, and a payload layout as strict as the
 * validator's.  Anything else in the head is foreign, and an install does
 * not overwrite it unless told to.
 */
#include "defs.h"
#include "blkdev.h"
#include "disklabel.h"
#include "strata/abi.h"
#include "validate.h"

_Static_assert(sizeof(struct disklabel) <= PAGE_SIZE, "the label is one page");
_Static_assert(LABEL_DATA_OFFSET % PAGE_SIZE == 0 && LABEL_DATA_OFFSET < STRATA_DISK_HEAD_SIZE,
    "the copy of the writable pages is in the head, in whole pages");

#define HEAD_CHUNK	16	/* pages read at a time when checking that a head is blank */

/* The label layer 0 wrote before ABI 1.2: recognised, so its disk is not foreign. */
struct disklabel_v1 {
	uint64_t magic;
	uint32_t version;
	uint32_t nseg;
	uint64_t disk_bytes;
	uint64_t l1_disk_limit;
	uint64_t payload_hash;
	uint64_t payload_bytes;
	uint64_t entry;
	uint64_t image_end;
	uint64_t installs;
	struct strata_payload_header hdr;
	struct label_segment seg[LABEL_MAX_SEGMENTS];
	uint64_t checksum;		/* FNV-1a of everything above */
};

/*
 * The on-disk layout, fixed: a change here is a new LABEL_VERSION.  The
 * payload header is the ABI's own note, fixed by abi/strata/payload.h.
 */
_Static_assert(sizeof(struct label_segment) == 40 && offsetof(struct label_segment, memsz) == 8 &&
    offsetof(struct label_segment, offset) == 16 && offsetof(struct label_segment, filesz) == 24 &&
    offsetof(struct label_segment, flags) == 32 && offsetof(struct label_segment, reserved) == 36,
    "struct label_segment is on the disk");
_Static_assert(offsetof(struct disklabel, version) == 8 && offsetof(struct disklabel, state) == 12 &&
    offsetof(struct disklabel, disk_bytes) == 16 && offsetof(struct disklabel, l1_disk_limit) == 24 &&
    offsetof(struct disklabel, payload_hash) == 32 && offsetof(struct disklabel, payload_bytes) == 40 &&
    offsetof(struct disklabel, entry) == 48 && offsetof(struct disklabel, image_end) == 56 &&
    offsetof(struct disklabel, installs) == 64 && offsetof(struct disklabel, data_pages) == 72 &&
    offsetof(struct disklabel, nseg) == 80 && offsetof(struct disklabel, reserved) == 84 &&
    offsetof(struct disklabel, hdr) == 88 && offsetof(struct disklabel, seg) == 152 &&
    offsetof(struct disklabel, cmdline) == 792 && offsetof(struct disklabel, checksum) == 2840,
    "struct disklabel is on the disk");
_Static_assert(offsetof(struct disklabel_v1, nseg) == 12 && offsetof(struct disklabel_v1, hdr) == 72 &&
    offsetof(struct disklabel_v1, seg) == 136 && offsetof(struct disklabel_v1, checksum) == 776,
    "struct disklabel_v1 is on the disks an older layer 0 wrote");
_Static_assert(LABEL_MAX_SEGMENTS == STRATA_MAX_SEGMENTS,
    "a label holds every segment a valid payload has, and no more than an image takes");
_Static_assert(STRATA_SEG_R == 4 && STRATA_SEG_W == 2 && STRATA_SEG_X == 1,
    "the label keeps the segment flags' values");

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
	g->l1_disk_limit = g->disk_bytes > journal ? g->disk_bytes - journal : 0;
}

uint64_t label_data_pages(const struct label_segment *seg, uint32_t nseg)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < nseg; i++)
		if ((seg[i].flags & STRATA_SEG_W) && seg[i].filesz > 0)
			n += (PAGE_ROUND_UP(seg[i].vaddr + seg[i].filesz) -
			    PAGE_ROUND_DOWN(seg[i].vaddr)) / PAGE_SIZE;
	return n;
}

void label_segments_from(struct label_segment *to, const struct strata_segment *from, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		to[i] = (struct label_segment){ .vaddr = from[i].vaddr, .memsz = from[i].memsz,
		    .offset = from[i].offset, .filesz = from[i].filesz, .flags = from[i].flags };
}

void label_segments_to(struct strata_segment *to, const struct label_segment *from, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		to[i] = (struct strata_segment){ .vaddr = from[i].vaddr, .memsz = from[i].memsz,
		    .offset = from[i].offset, .filesz = from[i].filesz, .flags = from[i].flags };
}

/* One segment of a label on its own: the validator's rules that survive into the label. */
static const char *segment_check(const struct label_segment *s)
{
	uint64_t end;

	if (__builtin_add_overflow(s->vaddr, s->memsz, &end) || s->vaddr < STRATA_L1_IMAGE_BASE ||
	    end > STRATA_L1_IMAGE_BASE + STRATA_L1_IMAGE_SIZE)
		return "a segment lies outside the image region";
	if (s->flags & ~(STRATA_SEG_R | STRATA_SEG_W | STRATA_SEG_X))
		return "a segment has unknown flags";
	if ((s->flags & STRATA_SEG_W) && (s->flags & STRATA_SEG_X))
		return "a segment is both writable and executable";
	if (s->filesz > s->memsz)
		return "a segment's file size exceeds its memory size";
	return 0;
}

/* The header's rules, as the validator applies them to a payload's note. */
static const char *header_check(const struct strata_payload_header *h)
{
	if (h->magic != STRATA_PAYLOAD_MAGIC)
		return "the payload header's magic is wrong";
	if (h->abi_major != STRATA_ABI_MAJOR || h->abi_minor > STRATA_ABI_MINOR)
		return "the payload wants an ABI this layer 0 does not implement";
	if (h->flags & ~STRATA_PAYLOAD_FLAGS_KNOWN)
		return "the payload header has unknown flags";
	if (h->stack_bytes != 0 && (h->stack_bytes % PAGE_SIZE != 0 ||
	    h->stack_bytes < STRATA_L1_STACK_MIN || h->stack_bytes > STRATA_L1_STACK_MAX))
		return "the payload header's stack size is out of bounds";
	if (h->console_slots > STRATA_RING_SLOTS_MAX || h->tx_slots > STRATA_RING_SLOTS_MAX ||
	    h->rx_slots > STRATA_RING_SLOTS_MAX)
		return "the payload header asks for too many ring slots";
	if (strnlen(h->name, sizeof(h->name)) == sizeof(h->name))
		return "the payload's name is not terminated";
	return 0;
}

/*
 * The layout a label describes, checked as strictly as abi/validate.c
 * checks a module (layer 0 maps it and l1fault.c computes with it): 1 to
 * LABEL_MAX_SEGMENTS segments in the image region, sorted, the first at
 * STRATA_L1_IMAGE_BASE, no page shared, none writable and executable, the
 * entry point in an executable one, image_end the page-aligned end of the
 * last; and (version 2) the copy of the writable pages the size they need.
 */
const char *label_check(const struct disklabel *l)
{
	const char *why;
	uint64_t end = 0;
	bool entry_ok = false;

	if (l->nseg == 0 || l->nseg > LABEL_MAX_SEGMENTS)
		return "the segment count is out of bounds";
	if (PAGE_ROUND_DOWN(l->seg[0].vaddr) != STRATA_L1_IMAGE_BASE)
		return "the first segment is not at the image base";
	for (uint32_t i = 0; i < l->nseg; i++) {
		const struct label_segment *s = &l->seg[i];

		if ((why = segment_check(s)) != 0)
			return why;
		if (i > 0 && PAGE_ROUND_DOWN(s->vaddr) < end)
			return "two segments share a page or are out of order";
		if (s->memsz > 0)
			end = PAGE_ROUND_UP(s->vaddr + s->memsz);
		if ((s->flags & STRATA_SEG_X) && l->entry >= s->vaddr && l->entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		return "the entry point is in no executable segment";
	if (l->image_end != end)
		return "image_end is not the page-aligned end of the last segment";
	if (l->version == LABEL_VERSION && (l->data_pages != label_data_pages(l->seg, l->nseg) ||
	    l->data_pages * PAGE_SIZE > LABEL_DATA_MAX))
		return "the copy of the writable pages has the wrong size";
	return header_check(&l->hdr);
}

bool page_is_zero(const void *p)
{
	const uint64_t *w = p;

	for (uint64_t i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
}

/* A version-1 label in the current form: no copy of the writable pages, no command line. */
static void label_from_v1(const struct disklabel_v1 *o, struct disklabel *l)
{
	memset(l, 0, sizeof(*l));
	l->magic = o->magic;
	l->version = o->version;
	l->state = LABEL_READY;
	l->nseg = o->nseg;
	l->disk_bytes = o->disk_bytes;
	l->l1_disk_limit = o->l1_disk_limit;
	l->payload_hash = o->payload_hash;
	l->payload_bytes = o->payload_bytes;
	l->entry = o->entry;
	l->image_end = o->image_end;
	l->installs = o->installs;
	l->hdr = o->hdr;
	memcpy(l->seg, o->seg, sizeof(l->seg));
}

enum head label_parse(const void *page, struct disklabel *l, const char **why)
{
	struct disklabel_v1 o;
	enum head kind = HEAD_LABEL;

	memcpy(l, page, sizeof(*l));
	if (l->magic != LABEL_MAGIC) {
		*why = "no Strata label (another file system, a partition table, or data)";
		return page_is_zero(page) ? HEAD_BLANK : HEAD_FOREIGN;
	}
	if (l->version == 1) {
		memcpy(&o, page, sizeof(o));
		if (o.checksum != fnv1a(&o, offsetof(struct disklabel_v1, checksum))) {
			*why = "a damaged Strata label (version 1, its checksum does not match)";
			return HEAD_FOREIGN;
		}
		label_from_v1(&o, l);
		kind = HEAD_OLD_LABEL;
	} else if (l->version != LABEL_VERSION) {
		*why = "a Strata label of a version this layer 0 does not know";
		return HEAD_FOREIGN;
	} else if (l->checksum != crc32c(l, offsetof(struct disklabel, checksum))) {
		*why = "a damaged Strata label (its checksum does not match)";
		return HEAD_FOREIGN;
	} else if (l->state != LABEL_INSTALLING && l->state != LABEL_READY) {
		*why = "a Strata label in an unknown state";
		return HEAD_FOREIGN;
	}
	if ((*why = label_check(l)) != 0)
		return HEAD_FOREIGN;
	l->cmdline[sizeof(l->cmdline) - 1] = '\0';
	return kind;
}

/* Moves n pages of the head, from page first, through pages[]: 0, or -1 (said) on an I/O error. */
static int head_io(struct blkdev *dev, enum blk_op op, uint64_t first, uint32_t n, const uint64_t *pages)
{
	enum blk_status s = blk_rw_sync(dev, op, first * BLK_SECTORS_PER_PAGE,
	    n * BLK_SECTORS_PER_PAGE, pages);

	if (s == BLK_OK)
		return 0;
	kprintf("strata: %s: %s the disk's head at page %lu failed: %s\n", dev->name,
	    op == BLK_READ ? "reading" : "writing", (unsigned long)first, blk_status_name(s));
	return -1;
}

/* Whether every byte of the head after its first page is zero: 1, 0, or -1 on an I/O error. */
static int rest_blank(struct blkdev *dev)
{
	uint64_t pages[HEAD_CHUNK];
	int r = 1;

	for (uint32_t k = 0; k < HEAD_CHUNK; k++)
		if ((pages[k] = pmm_alloc()) == 0)
			panic("no memory to read the disk's head");
	for (uint64_t p = 1; r == 1 && p < STRATA_DISK_HEAD_SIZE / PAGE_SIZE; p += HEAD_CHUNK) {
		uint32_t n = HEAD_CHUNK;

		if (p + n > STRATA_DISK_HEAD_SIZE / PAGE_SIZE)
			n = (uint32_t)(STRATA_DISK_HEAD_SIZE / PAGE_SIZE - p);
		if (head_io(dev, BLK_READ, p, n, pages) < 0)
			r = -1;
		for (uint32_t k = 0; r == 1 && k < n; k++)
			if (!page_is_zero(p2v(pages[k])))
				r = 0;
	}
	for (uint32_t k = 0; k < HEAD_CHUNK; k++)
		pmm_free(pages[k]);
	return r;
}

enum head head_read(struct blkdev *dev, struct disklabel *l, const char **why)
{
	uint64_t pa = pmm_alloc();
	enum head kind = HEAD_IOERR;

	if (pa == 0)
		panic("no memory to read the disk label");
	if (head_io(dev, BLK_READ, 0, 1, &pa) == 0)
		kind = label_parse(p2v(pa), l, why);
	pmm_free(pa);
	if (kind == HEAD_BLANK) {
		switch (rest_blank(dev)) {
		case 0:
			*why = "no Strata label, and its first MiB is not blank";
			return HEAD_FOREIGN;
		case -1:
			return HEAD_IOERR;
		}
	}
	return kind;
}

int label_write(struct blkdev *dev, struct disklabel *l)
{
	uint64_t pa = pmm_alloc();
	int r;

	if (pa == 0)
		panic("no memory to write the disk label");
	l->magic = LABEL_MAGIC;
	l->version = LABEL_VERSION;
	l->checksum = crc32c(l, offsetof(struct disklabel, checksum));
	memcpy(p2v(pa), l, sizeof(*l));
	r = head_io(dev, BLK_WRITE, 0, 1, &pa);
	pmm_free(pa);
	if (r == 0 && blk_rw_sync(dev, BLK_FLUSH, 0, 0, 0) != BLK_OK) {
		kprintf("strata: %s: flushing the disk label failed\n", dev->name);
		r = -1;
	}
	return r;
}

int label_data_io(struct blkdev *dev, bool write, uint64_t i, uint64_t pa)
{
	return head_io(dev, write ? BLK_WRITE : BLK_READ, LABEL_DATA_OFFSET / PAGE_SIZE + i, 1, &pa);
}
