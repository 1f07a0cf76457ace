/*
 * The runtime's internal interface, one heading per file.  Payloads see only
 * include/strata.h.
 */
#ifndef STRATA_RUNTIME_H
#define STRATA_RUNTIME_H

#include <strata.h>

/* ---- txring.c: the sending side of a ring (abi/strata/ring.h) ----------- */

/*
 * Layer 1's view of a ring it sends on (the console, the NIC's TX).  Slots
 * are filled in order from cur; `written` of them, ending at cur (when open)
 * or just before it, wait for one doorbell.
 */
struct txring {
	uint64_t base;		/* address of slot 0 */
	uint32_t nslots;	/* as granted in the info page; 0: no ring */
	uint32_t cur;		/* the open slot, or the next one to open */
	uint32_t written;	/* slots filled since the last doorbell */
	bool open;		/* cur holds data for the coming doorbell */
};

/* Sets r up over a ring whose slots layer 1 all owns (as at entry). */
void txring_init(struct txring *r, uint64_t base, uint32_t nslots);
/* The open slot, opening the next one (header zeroed) if none is; r->nslots > 0. */
struct strata_slot *txring_slot(struct txring *r);
/* The open slot is complete; the next txring_slot() opens the one after it. */
void txring_close(struct txring *r);
/* Hands every written slot to layer 0 with one doorbell read; no-op if none. */
void txring_ring(struct txring *r);

/* ---- console.c ----------------------------------------------------------- */

/* Sets the console up from the info page; before main. */
void console_init(const struct strata_info *info);
/* Appends n bytes to the ring without ringing. */
void console_put(const char *p, size_t n);
/* Rings if the buffering mode says this write should go out now. */
void console_end_write(void);

/* ---- format.c ------------------------------------------------------------ */

/* Where formatted text goes: write() is called with each run of bytes. */
struct sink {
	void (*write)(struct sink *s, const char *p, size_t n);
	size_t total;		/* bytes produced so far */
};

/* Formats fmt into s (conversions as strata_printf). */
void format(struct sink *s, const char *fmt, va_list ap);

/* ---- entry.S ------------------------------------------------------------- */

/* Indexes of strata_entry_regs, in the order entry.S stores them. */
enum {
	ENTRY_RAX, ENTRY_RBX, ENTRY_RCX, ENTRY_RDX, ENTRY_RSI, ENTRY_RDI,
	ENTRY_RBP, ENTRY_RSP, ENTRY_R8, ENTRY_R9, ENTRY_R10, ENTRY_R11,
	ENTRY_R12, ENTRY_R13, ENTRY_R14, ENTRY_R15, ENTRY_RFLAGS,
	ENTRY_NREGS
};

/*
 * The general registers and RFLAGS exactly as layer 0 entered the payload,
 * saved by _start before anything else runs, so the conformance payload
 * (layer1/conform) can check doc/abi.md's entry state.
 */
extern uint64_t strata_entry_regs[ENTRY_NREGS];

/* ---- start.c ------------------------------------------------------------- */

/* C entry, from entry.S: rdi is the info page. */
_Noreturn void strata_start(const struct strata_info *info);

#endif
