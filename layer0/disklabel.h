/*
 * The head of a Strata disk: its first STRATA_DISK_HEAD_SIZE bytes, layer
 * 0's alone and never visible to layer 1.
 *
 *   0        +-------------------------------+
 *            | label (struct disklabel)      |  one page
 *   4 KiB    +-------------------------------+
 *            | reserved: checkpoint          |  zero until checkpoints use it
 *            | superblocks                   |
 *   64 KiB   +-------------------------------+  LABEL_DATA_OFFSET
 *            | the payload's writable pages  |  label->data_pages pages, at
 *            | as installed (file bytes,     |  most LABEL_DATA_MAX bytes:
 *            | zero after them), in segment  |  what a boot from the disk
 *            | order                         |  starts .data from
 *   1 MiB    +-------------------------------+  STRATA_DISK_HEAD_SIZE
 *
 * A head is blank (all zero: a new disk), a whole label (magic, version,
 * CRC-32C and a payload layout that passes label_check), a whole label of
 * version 1 (FNV-1a, no copy of the writable pages), or foreign.  No field
 * is trusted before the label is known to be whole.
 *
 * The label is an on-disk format of its own: its structs are fixed byte for
 * byte (disklabel.c asserts every offset), and a payload's segments are
 * stored as struct label_segment, converted from and to the validator's
 * struct strata_segment at the boundary, so that neither can change the
 * other's layout.
 */
#ifndef DISKLABEL_H
#define DISKLABEL_H

#include "defs.h"
#include "strata/abi.h"

#define LABEL_MAGIC	0x314b534441525453ULL	/* "STRADSK1" */
#define LABEL_VERSION	2
#define LABEL_DATA_OFFSET	0x10000ULL
#define LABEL_DATA_MAX	(STRATA_DISK_HEAD_SIZE - LABEL_DATA_OFFSET)
#define LABEL_MAX_SEGMENTS	16	/* the validator's STRATA_MAX_SEGMENTS */

/* label->state: an install writes INSTALLING first and READY last. */
#define LABEL_INSTALLING	1
#define LABEL_READY		2

/* One segment of the installed payload; flags are the validator's STRATA_SEG_* bits. */
struct label_segment {
	uint64_t vaddr, memsz;		/* where, how much */
	uint64_t offset, filesz;	/* the file bytes it started from */
	uint32_t flags;
	uint32_t reserved;		/* written 0, never read */
};

struct disklabel {
	uint64_t magic;
	uint32_t version;
	uint32_t state;
	uint64_t disk_bytes;		/* as installed */
	uint64_t l1_disk_limit;	/* the journal starts here */
	uint64_t payload_hash;		/* FNV-1a of the payload's ELF file */
	uint64_t payload_bytes;
	uint64_t entry;
	uint64_t image_end;		/* page-aligned */
	uint64_t installs;		/* how many times a payload was installed */
	uint64_t data_pages;		/* pages of the copy at LABEL_DATA_OFFSET */
	uint32_t nseg;
	uint32_t reserved;
	struct strata_payload_header hdr;
	struct label_segment seg[LABEL_MAX_SEGMENTS];
	char cmdline[STRATA_CMDLINE_MAX];	/* the module's, for a boot from the disk */
	uint32_t checksum;		/* CRC-32C of everything above */
};

/* What the head of a disk holds. */
enum head {
	HEAD_BLANK,		/* all zero: a new disk */
	HEAD_LABEL,		/* a whole label of LABEL_VERSION */
	HEAD_OLD_LABEL,		/* a whole version-1 label, converted (data_pages 0, state READY) */
	HEAD_FOREIGN,		/* anything else: another file system, junk, a damaged label */
	HEAD_IOERR,
};

/* The disk's geometry: what layer 1 gets and where the journal is. */
struct diskgeom {
	uint64_t disk_bytes;		/* whole pages, at most the window */
	uint64_t l1_disk_limit;
};

struct blkdev;
struct strata_segment;
void disk_geometry(const struct blkdev *dev, struct diskgeom *g);
/* Reads and judges the head; *l is filled for a label, *why says what is wrong with a foreign one. */
enum head head_read(struct blkdev *dev, struct disklabel *l, const char **why);
/* Judges a head's first page alone (no I/O): HEAD_BLANK here means only that this page is zero. */
enum head label_parse(const void *page, struct disklabel *l, const char **why);
/* Whether a label's payload layout could have come from a valid payload: 0, or why not. */
const char *label_check(const struct disklabel *l);
/* Writes l (magic, version and checksum filled in) and flushes: 0, or -1 on an I/O error. */
int label_write(struct blkdev *dev, struct disklabel *l);
/* Page i of the copy of the writable pages from (not flushed) or into the page at pa: 0, or -1. */
int label_data_io(struct blkdev *dev, bool write, uint64_t i, uint64_t pa);
/* Pages of the copy a layout needs: every page holding file bytes of a writable segment. */
uint64_t label_data_pages(const struct label_segment *seg, uint32_t nseg);
/* The label's records of the validator's segments seg[0..n), and back. */
void label_segments_from(struct label_segment *to, const struct strata_segment *from, uint32_t n);
void label_segments_to(struct strata_segment *to, const struct label_segment *from, uint32_t n);
uint64_t fnv1a(const void *p, uint64_t n);
/* Whether the page at p holds nothing but zero bytes. */
bool page_is_zero(const void *p);

#endif
