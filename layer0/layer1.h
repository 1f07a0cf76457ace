/*
 * What layer 0 knows about the running payload: where its regions are and
 * the state of its rings.  Shared by load.c and install.c (which build it),
 * l1fault.c (which enforces the ABI against it), and the owners of its
 * rings, console.c and nic.c.
 */
#ifndef LAYER1_H
#define LAYER1_H

#include "defs.h"
#include "disklabel.h"
#include "ring.h"
#include "validate.h"

struct layer1 {
	struct strata_image img;	/* the validated payload (or the disk label's copy) */
	const uint8_t *file;		/* its ELF, still in the module; 0 when it came from the disk */
	uint64_t file_bytes;
	uint64_t file_hash;		/* its FNV-1a, with a disk: the build, as the label and checkpoints name it */
	struct blkdev *dev;		/* the disk behind the window, or 0 */
	struct diskgeom geom;		/* all 0 without a disk */
	uint64_t stack_bytes;		/* below STRATA_L1_STACK_TOP */
	struct strata_info *info;	/* layer 0's writable view of the info page */
	struct ring console;
	struct ring tx, rx;		/* the NIC's, when granted (nslots 0 if not) */
};

extern struct layer1 l1;

/* load.c */
/* Stops the machine while loading the payload: why, in the last line layer 0 prints. */
NORETURN void load_stop(uint32_t code, const char *why);
/* A zeroed page for layer 1's structures, or the machine stops with STRATA_EXIT_L0_NOMEM. */
uint64_t page_or_die(const char *what);
/* Maps one layer-1 page at va (replacing what was there); pa 0 unmaps. */
void l1_map(uint64_t va, uint64_t pa, uint64_t flags);

/* l1fault.c */
/* The pager's permission function: how the window page at disk offset off is mapped (pager.h). */
uint64_t l1_window_perm(uint64_t off);

/* install.c: the payload on the disk (lb is the disk's label, zero unless it holds one) */
/* With a module: may it be installed over what the disk's head holds?  Stops the machine if not. */
/* install=force is on layer 0's command line: install over what the disk holds. */
bool install_forced(const struct boot_info *bi);
void install_check(const struct boot_info *bi, enum head head, const struct disklabel *lb,
    const char *why);
/* Without a module: can the disk's payload start fresh?  Stops the machine if not. */
void disk_boot_check(enum head head, const struct disklabel *lb, const char *why);
void image_from_label(const struct disklabel *lb);	/* l1.img as the label describes it */
/* Puts the module in the window and, with a disk, installs it there in a safe order. */
void payload_install(const struct boot_info *bi, struct disklabel *lb);
void fresh_start(void);		/* the disk's payload's writable segments as its ELF has them */
void stack_clear(void);		/* a zero stack, whatever an earlier run left */

#endif
