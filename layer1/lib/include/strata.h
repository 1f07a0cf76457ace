/*
 * The Strata payload runtime: everything a layer-1 payload needs besides the
 * ABI itself (abi/strata/, included below).  Link with libstrata.a and the
 * payload linker script; doc/payloads.md shows the build line.
 *
 * A payload is one program:
 *
 *   #include <strata.h>
 *
 *   STRATA_PAYLOAD("echo", 0, 0);
 *
 *   int main(int argc, char **argv)
 *   {
 *       for (int i = 1; i < argc; i++)
 *           strata_printf("%s\n", argv[i]);
 *       return 0;
 *   }
 *
 * The runtime's entry point splits the command line into argv, calls main,
 * and exits with its return value.  Freestanding: no libc, no allocator, no
 * floating point in the formatter.  Single-threaded; nothing here is
 * reentrant from an interrupt (layer 1 takes none of its own).
 */
#ifndef STRATA_H
#define STRATA_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strata/abi.h"

/* ---- the payload header ------------------------------------------------ */

/* The ELF note layout of abi/strata/payload.h: a 4-byte-aligned note record. */
struct strata_note {
	uint32_t namesz;	/* STRATA_NOTE_NAMESZ */
	uint32_t descsz;	/* sizeof(struct strata_payload_header) */
	uint32_t type;		/* STRATA_NOTE_PAYLOAD */
	char name[8];		/* "Strata\0", padded to 4 */
	struct strata_payload_header hdr;
};

/* The one header of this payload; STRATA_PAYLOAD defines it. */
extern const struct strata_note strata_payload_note;

/*
 * STRATA_PAYLOAD(name, stack_bytes, console_slots): declares the payload
 * header.  Exactly one per payload, at file scope, followed by ';'.  A payload
 * without one fails to link (undefined strata_payload_note), one with two
 * fails with a duplicate definition.
 *
 *   name           string literal, at most 31 characters: argv[0] and reports
 *   stack_bytes    0 for STRATA_L1_STACK_DEFAULT (256 KiB), else a multiple
 *                  of 4096 in [STRATA_L1_STACK_MIN, STRATA_L1_STACK_MAX]
 *   console_slots  0 for STRATA_CONSOLE_SLOTS_DEFAULT (8), else 1 to
 *                  STRATA_RING_SLOTS_MAX; more slots let larger bursts of
 *                  output go out with one doorbell
 *
 * The bounds are checked at compile time.
 */
#define STRATA_PAYLOAD(name_str, stack_bytes_, console_slots_)			\
	STRATA_PAYLOAD_NET(name_str, stack_bytes_, console_slots_, 0, 0)

/*
 * STRATA_PAYLOAD_NET(name, stack_bytes, console_slots, tx_slots, rx_slots):
 * STRATA_PAYLOAD for a payload that uses the NIC (the strata_tx_* and
 * strata_rx_* calls below), asking for its two rings.
 *
 *   tx_slots  frames that may be queued for sending at once, 1 to
 *             STRATA_RING_SLOTS_MAX: more let larger bursts go with one
 *             doorbell
 *   rx_slots  frames layer 0 can receive before layer 1 takes them, 1 to
 *             STRATA_RING_SLOTS_MAX: more ride out longer bursts (the rest
 *             wait in the device, whose own queue is finite)
 *
 * info->tx_slots and info->rx_slots say what was granted: 0 on a machine
 * without a NIC.
 */
#define STRATA_PAYLOAD_NET(name_str, stack_bytes_, console_slots_, tx_slots_, rx_slots_) \
	STRATA_PAYLOAD_FLAGS(name_str, stack_bytes_, console_slots_, tx_slots_, rx_slots_, 0)

/*
 * STRATA_PAYLOAD_FLAGS(name, stack_bytes, console_slots, tx_slots, rx_slots,
 * flags): STRATA_PAYLOAD_NET with header flags (abi/strata/payload.h), such
 * as STRATA_PAYLOAD_EXTSYNC: every frame sent leaves the machine only once
 * the state that produced it is durable (doc/abi.md, "External synchrony").
 */
#define STRATA_PAYLOAD_FLAGS(name_str, stack_bytes_, console_slots_, tx_slots_, rx_slots_, \
	    flags_)								\
	_Static_assert(((flags_) & ~STRATA_PAYLOAD_FLAGS_KNOWN) == 0,		\
	    "flags: STRATA_PAYLOAD_FLAGS_KNOWN bits only");			\
	_Static_assert((tx_slots_) <= STRATA_RING_SLOTS_MAX &&			\
	    (rx_slots_) <= STRATA_RING_SLOTS_MAX,				\
	    "tx_slots, rx_slots: 0, or 1 to STRATA_RING_SLOTS_MAX");		\
	_Static_assert(sizeof(name_str) <= 32, "payload name over 31 characters"); \
	_Static_assert((stack_bytes_) == 0 ||					\
	    ((stack_bytes_) % STRATA_PAGE_SIZE == 0 &&				\
	     (stack_bytes_) >= STRATA_L1_STACK_MIN &&				\
	     (stack_bytes_) <= STRATA_L1_STACK_MAX),				\
	    "stack_bytes: 0, or a page multiple within the ABI bounds");	\
	_Static_assert((console_slots_) <= STRATA_RING_SLOTS_MAX,		\
	    "console_slots: 0, or 1 to STRATA_RING_SLOTS_MAX");		\
	__attribute__((section(".note.strata"), used, aligned(4)))		\
	const struct strata_note strata_payload_note = {			\
		.namesz = STRATA_NOTE_NAMESZ,					\
		.descsz = sizeof(struct strata_payload_header),			\
		.type = STRATA_NOTE_PAYLOAD,					\
		.name = STRATA_NOTE_NAME,					\
		.hdr = {							\
			.magic = STRATA_PAYLOAD_MAGIC,				\
			.abi_major = STRATA_ABI_MAJOR,				\
			.abi_minor = STRATA_ABI_MINOR,				\
			.header_size = sizeof(struct strata_payload_header),	\
			.flags = (flags_),					\
			.stack_bytes = (stack_bytes_),				\
			.console_slots = (console_slots_),			\
			.tx_slots = (tx_slots_),				\
			.rx_slots = (rx_slots_),				\
			.name = name_str,					\
		},								\
	}

/* The payload's entry, called by the runtime; its result is the exit code. */
int main(int argc, char **argv);

/* ---- the machine -------------------------------------------------------- */

/* The read-only info page layer 0 keeps current (abi/strata/info.h). */
const struct strata_info *strata_info(void);

/* Nanoseconds since layer 0 started, from the TSC; monotonic, no trap. */
uint64_t strata_now_ns(void);

/*
 * Ends the payload with code 0..63 (STRATA_EXIT_PAYLOAD_MAX) after flushing
 * the console.  Any other code, negative ones included, still goes to layer
 * 0, which stops the machine with V-TRAP (exit 87).  Returning from main
 * does the same with main's result.
 */
_Noreturn void strata_exit(int code);

/*
 * The durability barrier (STRATA_TRAP_SYNC): when it returns 0, everything
 * written to the disk window before the call is on the disk and survives a
 * reset.  -1 when the disk failed a write or the flush; the data stays in
 * RAM and a later call tries again.  Without a disk it returns 0 at once.
 */
int strata_sync(void);

/*
 * The commit (STRATA_TRAP_COMMIT, ABI 1.3): when it returns 0, a checkpoint
 * holding everything written to the disk window before the call, and the
 * registers as the call returns, is durable: after a reset or a power cut the
 * payload resumes there or later, never earlier.  -1 when a journal write or
 * flush failed (the previous checkpoint stands; a later call tries again).
 * After a resume it returns 0 again, this time in the resumed run: look at
 * info->resumes to tell.
 */
int strata_commit(void);

/*
 * Prefetch (STRATA_TRAP_PREFETCH, ABI 1.5): the payload will soon read
 * [addr, addr + len) of the disk window, widened to whole pages, all of them
 * its own (stack, image, free area; V-OUTSIDE otherwise).  Layer 0 starts
 * reading the pages not in RAM and returns at once; a later touch of one
 * waits only for its own read.  Returns how many page reads were started (0
 * when all are cached or in flight, or prefetch already holds its share of
 * the cache).  A hint: it changes no byte the payload reads.
 */
long strata_prefetch(const void *addr, size_t len);

/* ---- console ------------------------------------------------------------ */

/*
 * Output goes into the console ring and reaches the serial line when the
 * runtime rings a doorbell; one doorbell carries every slot written since the
 * last one, so the modes trade latency for faults:
 *
 *   STRATA_CONSOLE_LINE        (default) each call whose text holds a '\n'
 *                              rings once, at its end
 *   STRATA_CONSOLE_FULL        rings only when the ring is nearly full, on
 *                              strata_flush() and at exit
 *   STRATA_CONSOLE_UNBUFFERED  each call rings once, at its end
 *
 * Text still buffered when the payload exits or faults is printed by layer 0
 * before its report.
 */
enum strata_console_mode {
	STRATA_CONSOLE_LINE,
	STRATA_CONSOLE_FULL,
	STRATA_CONSOLE_UNBUFFERED,
};

/* Sets the buffering mode; takes effect at the next write. */
void strata_console_mode(enum strata_console_mode mode);

/* Rings the doorbell for everything written and not yet rung; no-op if none. */
void strata_flush(void);

/* Writes n bytes as they are. */
void strata_write(const void *buf, size_t n);

/* Writes s and a '\n'. */
void strata_puts(const char *s);

/*
 * printf-style output.  Conversions: %d %i %u %x %X %p %c %s %%; length
 * modifiers hh h l ll z; flags '-' and '0'; width and precision as numbers or
 * '*' (precision: most bytes of %s, least digits of an integer).  No floating
 * point, no %n.  Returns the number of bytes written.
 */
__attribute__((format(printf, 1, 2)))
int strata_printf(const char *fmt, ...);
int strata_vprintf(const char *fmt, va_list ap);

/*
 * The same into buf: at most size - 1 bytes and a NUL (nothing if size is 0).
 * Returns the length the whole text would have, as C's snprintf.
 */
__attribute__((format(printf, 3, 4)))
int strata_snprintf(char *buf, size_t size, const char *fmt, ...);
int strata_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- the NIC (abi/strata/net.h) ---------------------------------------- */

/*
 * Ethernet frames, from the destination MAC address to the end of the
 * payload (no preamble, no FCS), STRATA_NET_FRAME_MIN to
 * STRATA_NET_FRAME_MAX bytes, one a ring slot.  The payload asks for the
 * rings with STRATA_PAYLOAD_NET; without them (info->tx_slots or rx_slots
 * 0) the calls below find nothing to send on or receive.  The MAC address
 * is info->mac.
 *
 * Sending is write, commit, flush:
 *
 *   uint8_t *f = strata_tx_frame();
 *   ...build n bytes in f...
 *   strata_tx_commit(n);
 *   ...more frames...
 *   strata_tx_flush();		one doorbell for all of them
 */

/*
 * The buffer for the next frame to send: STRATA_NET_FRAME_MAX bytes, in
 * place in the next TX slot.  Writing it blocks while layer 0 still holds
 * the slot (its frame not yet sent).  The same buffer until committed.
 * NULL without a TX ring.
 */
void *strata_tx_frame(void);

/*
 * The frame in strata_tx_frame()'s buffer is len bytes long, and is queued
 * for the next doorbell; 0 commits nothing.  A len outside the frame bounds
 * stops the machine with V-RING when it is sent.  A doorbell is rung here
 * only when the ring would otherwise be full.
 */
void strata_tx_commit(uint32_t len);

/* Sends every committed frame with one doorbell; no-op if none. */
void strata_tx_flush(void);

/*
 * The next received frame, and its length in *len; NULL at once if none has
 * arrived (no fault, no trap: info->rx_delivered says).  The frame stays
 * readable until the next call of strata_rx_poll, strata_rx_frame,
 * strata_rx_release or strata_wait; frames are given back to layer 0 in
 * batches, at one of those calls.
 */
const void *strata_rx_poll(uint32_t *len);

/*
 * strata_rx_poll that waits: NULL only once the clock (strata_now_ns)
 * reaches deadline_ns; 0 waits forever.
 */
const void *strata_rx_frame(uint32_t *len, uint64_t deadline_ns);

/*
 * Gives every frame taken so far back to layer 0 for reception, with one
 * doorbell; no-op if none.  The polls and strata_wait do it on their own
 * when it is due, so a payload calls it only to give frames back early.
 */
void strata_rx_release(void);

/*
 * Sleeps in layer 0 (STRATA_TRAP_WAIT) until a frame arrives that
 * strata_rx_poll has not returned yet (STRATA_WAIT_RX; at once if one
 * already has) or the clock reaches deadline_ns (STRATA_WAIT_TIMEOUT; 0:
 * no deadline).  Gives every taken frame back first, since layer 0 cannot
 * receive into slots layer 1 holds.
 */
int strata_wait(uint64_t deadline_ns);

/* ---- memory and strings (the C library's contracts) ---------------------- */

/*
 * Real names, because the compiler emits calls to memcpy, memmove, memset and
 * memcmp on its own (struct copies, zeroing) even in freestanding code.
 */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/*
 * C's strtoul/strtol on 64-bit values: leading blanks, an optional sign, a
 * "0x" prefix for base 16 or 0, base 0 picks 16, 8 or 10 from the prefix.
 * Out of range saturates (ULONG_MAX, LONG_MIN/MAX); no errno exists, so use
 * strata_parse_u64 to tell an overflow apart.  *end (if end) is set after
 * the last digit used, or to s when there was none.
 */
unsigned long strtoul(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);

/*
 * Parses all of s as an unsigned number (base as strtoul).  True and *out
 * set when s is one number with nothing after it and it fits in 64 bits.
 */
bool strata_parse_u64(const char *s, int base, uint64_t *out);

#endif
