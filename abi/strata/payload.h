/*
 * The payload header: an ELF note every payload carries, in a PT_NOTE segment.
 *
 *   namesz = 7, name = "Strata\0", type = STRATA_NOTE_PAYLOAD,
 *   desc = struct strata_payload_header (descsz >= its v1 size)
 *
 * A payload is an ELF64 x86-64 executable (ET_EXEC) linked at
 * STRATA_L1_IMAGE_BASE.  Its PT_LOAD segments lie in the image region, none is
 * both writable and executable, and its entry point is in an executable one.
 * abicheck and layer 0 run the same checks (abi/validate.c).
 */
#ifndef STRATA_PAYLOAD_H
#define STRATA_PAYLOAD_H

#include "types.h"

#define STRATA_NOTE_NAME		"Strata"
#define STRATA_NOTE_NAMESZ		STRATA_U32(7)
#define STRATA_NOTE_PAYLOAD		STRATA_U32(0x53540001)
#define STRATA_PAYLOAD_MAGIC		STRATA_U32(0x31505453)	/* "STP1" */

/*
 * External synchrony (ABI 1.4): a frame rung on the NIC TX ring leaves the
 * machine only once a checkpoint taken at or after its doorbell is durable
 * (doc/abi.md, "External synchrony").
 */
#define STRATA_PAYLOAD_EXTSYNC		STRATA_U32(0x1)
/* The header flags layer 0 understands; any other set bit is refused. */
#define STRATA_PAYLOAD_FLAGS_KNOWN	STRATA_PAYLOAD_EXTSYNC

#ifdef STRATA_C_TYPES
struct strata_payload_header {
	uint32_t magic;			/* STRATA_PAYLOAD_MAGIC */
	uint16_t abi_major;		/* the ABI the payload was built against */
	uint16_t abi_minor;
	uint32_t header_size;		/* sizeof this struct as the payload knows it */
	uint32_t flags;			/* STRATA_PAYLOAD_FLAGS_KNOWN bits only */
	uint32_t stack_bytes;		/* 0: STRATA_L1_STACK_DEFAULT */
	uint32_t console_slots;		/* 0: STRATA_CONSOLE_SLOTS_DEFAULT */
	uint32_t tx_slots;		/* NIC rings; 0: none */
	uint32_t rx_slots;
	char name[32];			/* NUL-terminated, for reports */
};
STRATA_LAYOUT(struct strata_payload_header, 64);
#endif

#endif
