/*
 * The info page: one read-only page at STRATA_INFO_BASE that layer 0 fills
 * before layer 1 starts and keeps current while it runs.  A pointer to it is
 * also layer 1's first argument (rdi) at entry.
 */
#ifndef STRATA_INFO_H
#define STRATA_INFO_H

#include "types.h"

#define STRATA_INFO_MAGIC		STRATA_U32(0x4f464e49)	/* "INFO" */
#define STRATA_CMDLINE_MAX		STRATA_U32(2048)	/* bytes, with the NUL */

#ifdef STRATA_C_TYPES
struct strata_info {
	uint32_t magic;			/* STRATA_INFO_MAGIC */
	uint16_t abi_major;		/* layer 0's ABI version */
	uint16_t abi_minor;
	uint64_t ram_bytes;		/* usable RAM the machine has */
	/*
	 * The monotonic clock, in ns since layer 0 started, with a 128-bit
	 * product (in 64 bits it wraps within seconds):
	 *   ns = ((unsigned __int128)(rdtsc - tsc_base) * tsc_ns_mult) >> 32
	 * clock_ns is the same clock, refreshed at every timer tick.
	 */
	uint64_t tsc_base;
	uint64_t tsc_ns_mult;		/* 32.32 fixed point ns per TSC tick */
	volatile uint64_t clock_ns;
	uint64_t disk_bytes;		/* size of the disk, 0 when none */
	uint64_t l1_disk_limit;		/* window offsets >= this belong to layer 0 */
	uint32_t console_slots;		/* slots in each ring, as granted */
	uint32_t tx_slots;
	uint32_t rx_slots;
	uint32_t stack_bytes;		/* the stack granted below STRATA_L1_STACK_TOP */
	uint64_t image_end;		/* first address after the loaded image */
	/* ABI 1.1: the NIC (net.h); all 0 without one */
	uint8_t mac[6];			/* the NIC's MAC address */
	uint16_t mtu;			/* largest IP packet: STRATA_NET_FRAME_MAX - 14 */
	volatile uint64_t rx_delivered;	/* RX slots delivered since boot (len 0: a dropped frame) */
	volatile uint64_t rx_dropped;	/* frames the NIC received that layer 1 never saw */
	volatile uint64_t tx_sent;	/* frames sent since boot */
	/*
	 * ABI 1.3: checkpoints (doc/abi.md, "Checkpoints and resume").  A run
	 * starts fresh (its image as built, resumes 0) or resumes the newest
	 * durable checkpoint of the run before, at the instruction and with
	 * the registers it had then; clock_ns carries on from where it was.
	 */
	uint64_t resumes;		/* how often this run was resumed; 0 after a fresh start */
	uint64_t resume_clock_ns;	/* the clock at the checkpoint resumed last, 0 if none */
	volatile uint64_t checkpoint_seq; /* the newest durable checkpoint's number, 0 if none */
	uint8_t reserved[1912];		/* zero; new fields come from here */
	char cmdline[STRATA_CMDLINE_MAX]; /* the payload's command line, NUL-terminated */
};
STRATA_LAYOUT(struct strata_info, 4096);
STRATA_OFFSET(struct strata_info, tsc_base, 16);
STRATA_OFFSET(struct strata_info, clock_ns, 32);
STRATA_OFFSET(struct strata_info, console_slots, 56);
STRATA_OFFSET(struct strata_info, mac, 80);
STRATA_OFFSET(struct strata_info, rx_delivered, 88);
STRATA_OFFSET(struct strata_info, resumes, 112);
STRATA_OFFSET(struct strata_info, cmdline, 2048);
#endif

#endif
