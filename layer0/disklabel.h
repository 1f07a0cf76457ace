/*
 * The label layer 0 keeps in the first page of the disk's head (never visible
 * to layer 1): which payload is installed, where its segments are, and the
 * disk's geometry as layer 0 laid it out.  A disk without a valid label is a
 * new disk.
 */
#ifndef DISKLABEL_H
#define DISKLABEL_H

#include "defs.h"
#include "validate.h"

#define LABEL_MAGIC	0x314b534441525453ULL	/* "STRADSK1" */
#define LABEL_VERSION	1

struct disklabel {
	uint64_t magic;
	uint32_t version;
	uint32_t nseg;
	uint64_t disk_bytes;		/* as installed */
	uint64_t l1_limit;		/* the journal starts here */
	uint64_t payload_hash;		/* FNV-1a of the payload's ELF file */
	uint64_t payload_bytes;
	uint64_t entry;
	uint64_t image_end;
	uint64_t installs;		/* how many times a payload was installed */
	struct strata_payload_header hdr;
	struct strata_segment seg[STRATA_MAX_SEGMENTS];
	uint64_t checksum;		/* FNV-1a of everything above */
};

/* The disk's geometry: what layer 1 gets and where the journal is. */
struct diskgeom {
	uint64_t disk_bytes;		/* whole pages, at most the window */
	uint64_t l1_limit;
};

struct blkdev;
void disk_geometry(const struct blkdev *dev, struct diskgeom *g);
/* 1 and *l filled when the disk holds a valid label, 0 when not, -1 on an I/O error. */
int label_read(struct blkdev *dev, struct disklabel *l);
/* Writes l (its checksum filled in) and flushes: 0, or -1 on an I/O error. */
int label_write(struct blkdev *dev, struct disklabel *l);
uint64_t fnv1a(const void *p, uint64_t n);

#endif
