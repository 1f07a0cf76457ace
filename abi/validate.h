/*
 * The payload validator: one implementation of the loadability rules of
 * abi/strata/payload.h, compiled into layer 0 (before it enters a payload),
 * into build/bin/abicheck, into the unit tests and into the fuzz target.
 *
 * It reads only the bytes it is given, never past len, and allocates nothing.
 */
#ifndef STRATA_VALIDATE_H
#define STRATA_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "strata/abi.h"

#define STRATA_MAX_SEGMENTS	16

/* Each reason a file is not a loadable payload. */
enum strata_reason {
	SR_TRUNCATED,		/* the file ends inside a header or segment */
	SR_NOT_ELF,		/* no ELF magic */
	SR_NOT_ELF64_X86_64,	/* wrong class, data encoding, machine or version */
	SR_NOT_EXEC,		/* not ET_EXEC */
	SR_BAD_PHDRS,		/* program header table malformed */
	SR_NO_LOAD,		/* no PT_LOAD segment */
	SR_TOO_MANY_SEGMENTS,	/* more than STRATA_MAX_SEGMENTS PT_LOAD */
	SR_WRONG_LINK_ADDRESS,	/* lowest segment not at STRATA_L1_IMAGE_BASE */
	SR_SEGMENT_OUTSIDE,	/* a segment outside the image region */
	SR_SEGMENT_OVERLAP,	/* two segments share a page */
	SR_SEGMENT_MISALIGNED,	/* vaddr and offset disagree modulo the page size */
	SR_WRITE_EXEC,		/* a segment both writable and executable */
	SR_FILESZ_GT_MEMSZ,	/* p_filesz > p_memsz */
	SR_ENTRY_OUTSIDE_TEXT,	/* entry not in an executable segment */
	SR_NO_NOTE,		/* no Strata payload note */
	SR_BAD_NOTE,		/* the note is malformed or too short */
	SR_BAD_MAGIC,		/* the header's magic is wrong */
	SR_ABI_VERSION,		/* the header asks for an ABI this kernel lacks */
	SR_BAD_FLAGS,		/* unknown header flags set */
	SR_BAD_STACK,		/* stack_bytes out of bounds */
	SR_BAD_RING,		/* a ring slot count out of bounds */
	SR_COUNT
};

struct strata_segment {
	uint64_t vaddr, memsz;		/* where, how much */
	uint64_t offset, filesz;	/* what to copy from the file */
	uint32_t flags;			/* STRATA_SEG_* */
};
#define STRATA_SEG_R	4U
#define STRATA_SEG_W	2U
#define STRATA_SEG_X	1U

/* Everything layer 0 needs from a payload that passed. */
struct strata_image {
	uint64_t entry;
	struct strata_segment seg[STRATA_MAX_SEGMENTS];
	int nseg;
	struct strata_payload_header hdr;	/* copied, zero-extended to v1 size */
	uint64_t image_end;			/* page-rounded end of the highest segment */
	/* the symbol table, if the file has one (offsets into the file, 0 if none) */
	uint64_t symtab_off, symtab_size, strtab_off, strtab_size;
};

/* Called once per problem found; detail is a short human-readable fact. */
typedef void (*strata_reason_fn)(void *ctx, enum strata_reason r, const char *detail);

/*
 * Checks the len bytes at file.  Returns the number of problems found (0: the
 * payload is loadable and *img describes it), calling report for each one.
 * kernel_major/minor: the ABI this layer 0 (or abicheck) implements.
 */
int strata_validate(const void *file, size_t len, uint32_t kernel_major,
    uint32_t kernel_minor, struct strata_image *img, strata_reason_fn report, void *ctx);

/* A stable one-word name for a reason ("truncated", "write-exec", ...). */
const char *strata_reason_name(enum strata_reason r);

#endif
