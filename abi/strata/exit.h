/*
 * Exit codes: what the machine reports when it stops, through QEMU's
 * isa-debug-exit device (QEMU's own status is code * 2 + 1; `make run` turns it
 * back into the code).  Codes are 7 bits.
 */
#ifndef STRATA_EXIT_H
#define STRATA_EXIT_H

#include "types.h"

/* 0..63: the payload's own code, given to STRATA_TRAP_EXIT. */
#define STRATA_EXIT_PAYLOAD_MAX		STRATA_U32(63)

/* 64..79: layer 0 stopped the machine for its own reasons. */
#define STRATA_EXIT_L0_PANIC		STRATA_U32(64)	/* exception or assertion in layer 0 */
#define STRATA_EXIT_L0_NOMEM		STRATA_U32(65)	/* out of physical memory */
#define STRATA_EXIT_NO_PAYLOAD		STRATA_U32(66)	/* no payload module given */
#define STRATA_EXIT_BAD_PAYLOAD		STRATA_U32(67)	/* the payload failed validation */
#define STRATA_EXIT_ABI_VERSION		STRATA_U32(68)	/* the payload wants another ABI */
#define STRATA_EXIT_DOUBLE_FAULT	STRATA_U32(69)	/* #DF, whoever was running */
#define STRATA_EXIT_MACHINE_CHECK	STRATA_U32(70)	/* #MC */
#define STRATA_EXIT_NMI			STRATA_U32(71)	/* unexpected NMI */
#define STRATA_EXIT_DISK_IO		STRATA_U32(72)	/* a disk read failed: a page could not be brought in */
#define STRATA_EXIT_DISK_OTHER		STRATA_U32(73)	/* the disk holds another payload (see "install") */
#define STRATA_EXIT_DISK_SMALL		STRATA_U32(74)	/* the disk is too small for the head or the payload */
#define STRATA_EXIT_DISK_FOREIGN	STRATA_U32(75)	/* the disk is neither blank nor a Strata disk */
#define STRATA_EXIT_IMAGE_OVERLAP	STRATA_U32(76)	/* a new build would overwrite layer 1's data */
#define STRATA_EXIT_DEVICE		STRATA_U32(77)	/* a device stopped answering or needs a reset */
#define STRATA_EXIT_REINSTALL		STRATA_U32(78)	/* the disk's payload must be installed again */
#define STRATA_EXIT_JOURNAL		STRATA_U32(79)	/* the disk's checkpoint journal fails its checks */

/* 80..95: layer 1 broke a rule of the fault ABI (doc/abi.md, "Violations"). */
#define STRATA_EXIT_V_OUTSIDE		STRATA_U32(80)	/* access outside every region */
#define STRATA_EXIT_V_NULL		STRATA_U32(81)	/* access in the null guard */
#define STRATA_EXIT_V_READONLY		STRATA_U32(82)	/* write to a read-only region */
#define STRATA_EXIT_V_L0_REGION		STRATA_U32(83)	/* touch of a layer-0 region */
#define STRATA_EXIT_V_EXEC		STRATA_U32(84)	/* execution of a non-executable page */
#define STRATA_EXIT_V_STACK		STRATA_U32(85)	/* stack overflow into the guard page */
#define STRATA_EXIT_V_RING		STRATA_U32(86)	/* ring protocol broken */
#define STRATA_EXIT_V_TRAP		STRATA_U32(87)	/* unknown trap or bad trap arguments */

/* 96..127: layer 1 raised CPU exception vector v: code 96 + v. */
#define STRATA_EXIT_L1_EXCEPTION_BASE	STRATA_U32(96)

#endif
