/*
 * Layer 0's stage profile (L0ARGS=profile): TSC ticks and calls summed per
 * stage of the paths worth timing, printed when layer 1 exits.  Off, each
 * probe is one load and a branch; on, two rdtsc.  Stages nest (a fault
 * holds its waits and evictions), so each total is inclusive: read one
 * against the stage that holds it.  Each stage prints its mean and its
 * least per call.
 */
#ifndef PROFILE_H
#define PROFILE_H

#include "defs.h"

enum prof_stage {
	PROF_FAULT,		/* pager_fault, all of it */
	PROF_REAP,		/* finishing completed background reads */
	PROF_WAIT,		/* a fault (or layer 0 taking a page) waiting for a background read of it */
	PROF_READ,		/* a synchronous read of a miss */
	PROF_EVICT,		/* evict_one: CLOCK sweeps, write-outs, steals */
	PROF_STEAL,		/* checkpoints the CLOCK asked for */
	PROF_ALLOC,		/* frames from the physical allocator for the cache */
	PROF_RECYCLE,		/* 2 MiB frames taken from 2 MiB pages the CLOCK passed */
	PROF_COMPACT,		/* 2 MiB runs emptied of small pages (pager_compact.c) */
	PROF_MAP,		/* mapping the fault's page and the stream's run */
	PROF_ISSUE,		/* starting background reads */
	PROF_SUBMIT,		/* of which handing them to the driver */
	PROF_IRQ,		/* pager_interrupt: read-ahead moved on from a disk interrupt */
	PROF_RA_IDLE,		/* a stream with no read in flight: from its last one seen over to its next */
	PROF_AROUND,		/* of a random fault's mapping, fault-around */
	PROF_PREFETCH,		/* the prefetch trap in layer 0 */
	PROF_PF_SUBMIT,		/* of which handing its reads to the driver */
	PROF_PF_WAIT,		/* a touch waiting for a prefetch read still in flight */
	PROF_TX,		/* a TX doorbell of one frame: the frame to the NIC */
	PROF_TX_BATCH,		/* TX doorbells of several frames, counted in frames */
	PROF_TX_WAIT,		/* layer 1 waiting for a TX slot the NIC still holds */
	PROF_TX_RUN,		/* of a TX doorbell, its run unmapped and posted, in frames */
	PROF_TX_FLUSH,		/* of a TX doorbell, the TLB flush for its run */
	PROF_TX_KICK,		/* of a TX doorbell, its frames published, the device busy: no notification */
	PROF_TX_NOTIFY,		/* of a TX doorbell, its frames published and the device notified */
	PROF_TX_POLL,		/* of a TX doorbell, the poll after it: sent frames reaped and given back */
	PROF_TX_GIVE,		/* sent frames' slots given back, in frames */
	PROF_RX_WAIT,		/* the wait trap, all of it */
	PROF_RX_IDLE,		/* of which halted, per halt (the interrupt that ends it included) */
	PROF_RX_WAKE,		/* of which from the last halt to returning the frame */
	PROF_RX_TURN,		/* a frame the wait trap returned, to the end of the next TX doorbell's kick */
	PROF_TX_HELD,		/* an extsync TX frame, from its doorbell to the device */
	PROF_CP_DEFER,		/* a doorbell's checkpoint put off: its promise to its start */
	PROF_CP_PAUSE,		/* the pause of a checkpoint that wrote a record */
	PROF_CP_CLEAN,		/* a journal cleaning, layer 1 stopped */
	PROF_J_WRITE,		/* a record's stages: its pages, head and state sent */
	PROF_J_SEAL,		/* its seal sent too, until all of them completed */
	PROF_J_POSTSEAL,	/* the flush after the seal */
	PROF_J_ORDER,		/* durable, waiting for older records to leave */
	PROF_J_FLUSH,		/* the journal's flushes, as the device took them */
	PROF_N
};

extern bool prof_on;		/* set by kmain for L0ARGS=profile */
struct prof_total {
	uint64_t ticks, calls;
	/*
	 * The fewest ticks one call took (a stage of n things: its share), 0
	 * before any: what the stage costs when nothing else on the host got
	 * in its way, beside the mean, which under TCG on a shared host holds
	 * every time QEMU's threads were descheduled in the middle of it.
	 */
	uint64_t least;
};
extern struct prof_total prof[PROF_N];

void profile_print(void);		/* the totals, if on */

/* The start of a stage: 0 when profiling is off. */
static inline uint64_t prof_begin(void)
{
	return prof_on ? rdtsc() : 0;
}

/* The end of a stage that did n things: "calls" counts them. */
static inline void prof_end_n(enum prof_stage s, uint64_t t0, uint64_t n)
{
	if (t0 != 0) {
		uint64_t d = rdtsc() - t0, each = n > 1 ? d / n : d;

		prof[s].ticks += d;
		prof[s].calls += n;
		if (prof[s].least == 0 || each < prof[s].least)
			prof[s].least = each;
	}
}

static inline void prof_end(enum prof_stage s, uint64_t t0)
{
	prof_end_n(s, t0, 1);
}

#endif
