/*
 * The console ring driven by hand (doc/abi.md "Rings", "Exit"): slots
 * written with plain stores, doorbells read with one asm load, the exit trap
 * raised directly.  The runtime's console is never used, so layer 0's exit
 * summary ("strata: console: S slots in D doorbells") counts exactly the
 * slots and doorbells below, and tests/integration/conform.sh checks it.
 *
 * Layer 1 cannot see the serial line, so order is made visible in one line:
 * a run of slots carries one word each and only the last ends in '\n'; the
 * harness matches the whole line.  What layer 1 can see, it checks: a slot
 * comes back with len 0 once layer 0 has taken it.
 */
#include "conform.h"

static char why_buf[128];

static uint32_t nslots(void)
{
	return strata_info()->console_slots;
}

static volatile struct strata_slot *slot(uint32_t i)
{
	return (volatile struct strata_slot *)(uintptr_t)STRATA_SLOT_ADDR(STRATA_CONSOLE_BASE, i);
}

/* Writes text into slot i: the bytes, then the header layer 0 checks. */
static void fill(uint32_t i, const char *text)
{
	volatile struct strata_slot *s = slot(i);
	size_t n = strlen(text);

	for (size_t k = 0; k < n; k++)
		s->data[k] = (uint8_t)text[k];
	s->flags = 0;
	s->reserved = 0;
	s->len = (uint32_t)n;
}

/* Reads slot i's doorbell; layer 0 takes every slot up to i in the fault. */
static void ring(uint32_t i)
{
	uint64_t v, addr = STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, i);

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	(void)v;
}

/* The exit trap itself: strata_exit would ring first. */
static _Noreturn void trap_exit(int code)
{
	for (;;)
		__asm__ volatile("int %0" : : "i"(STRATA_TRAP_EXIT), "D"((uint64_t)code) : "memory");
}

/* Writes this check's verdict line into slot i; returns the exit code. */
static int verdict(uint32_t i, const char *why)
{
	char line[sizeof why_buf + 64];

	if (why == NULL)
		strata_snprintf(line, sizeof line, "conform: %s ok\n", check_name);
	else
		strata_snprintf(line, sizeof line, "conform: %s FAILED: %s\n", check_name, why);
	fill(i, line);
	return why != NULL;
}

/* NULL when slots [first, first + n) all came back with len 0, else why not. */
static const char *given_back(uint32_t first, uint32_t n)
{
	for (uint32_t i = first; i < first + n; i++) {
		if (slot(i)->len == 0)
			continue;
		strata_snprintf(why_buf, sizeof why_buf,
		    "slot %u has len %u after its doorbell, not 0", i, slot(i)->len);
		return why_buf;
	}
	return NULL;
}

/* Refuses to run on a ring too small for the check; slot 0 is always there. */
static _Noreturn void too_few_slots(uint32_t want)
{
	strata_snprintf(why_buf, sizeof why_buf, "needs %u console slots, has %u", want, nslots());
	verdict(0, why_buf);
	ring(0);
	trap_exit(1);
}

/*
 * Five slots written back to back, one doorbell on the last: one fault
 * carries all five, in order ("batch: 1 2 3 4 5").  Summary: 6 slots in
 * 2 doorbells, the verdict being the second.
 */
int check_batch(int argc, char **argv)
{
	static const char *const words[] = { "batch: 1", " 2", " 3", " 4", " 5\n" };
	const uint32_t k = sizeof words / sizeof words[0];
	int code;

	(void)argc;
	(void)argv;
	if (nslots() < k + 1)
		too_few_slots(k + 1);
	for (uint32_t i = 0; i < k; i++)
		fill(i, words[i]);
	ring(k - 1);
	code = verdict(k, given_back(0, k));
	ring(k);
	trap_exit(code);
}

/*
 * Three times round the ring, one word per slot ("wrap: 00 01 ... "),
 * ringing every nslots - 1 slots, so that each batch ends on another slot.
 * Each slot must have come back empty before it is written again.  With 8
 * slots: 24 words and the verdict, 25 slots in 4 doorbells.
 */
int check_wrap(int argc, char **argv)
{
	uint32_t n = nslots(), total = 3 * n, pending = 0, i = 0;
	const char *why = NULL;
	char word[32];

	(void)argc;
	(void)argv;
	for (uint32_t w = 0; w <= total; w++) {
		if (pending == n - 1) {
			ring(i == 0 ? n - 1 : i - 1);
			pending = 0;
		}
		if (why == NULL && slot(i)->len != 0) {
			strata_snprintf(why_buf, sizeof why_buf,
			    "slot %u not given back (len %u) when word %u came round", i,
			    slot(i)->len, w);
			why = why_buf;
		}
		if (w == total)
			break;
		strata_snprintf(word, sizeof word, "%s%02u%s", w == 0 ? "wrap: " : " ", w,
		    w + 1 == total ? "\n" : "");
		fill(i, word);
		pending++;
		i = i + 1 == n ? 0 : i + 1;
	}
	verdict(i, why);
	ring(i);
	trap_exit(why != NULL);
}

/*
 * Two batches of the whole ring, each rung on the last slot: the second ends
 * on the slot rung last, and layer 0 must take it all at its doorbell, not
 * at exit ("full: 00 ... 07", then "full: 08 ... 15" with 8 slots).  Every
 * slot must have come back empty after each doorbell.  The same doorbell
 * read once more, with nothing written, takes nothing.  Summary with 8
 * slots: 17 slots in 3 doorbells, the verdict's the third.
 */
int check_full_batch(int argc, char **argv)
{
	uint32_t n = nslots(), w = 0;
	const char *why = NULL;
	char word[32];
	int code;

	(void)argc;
	(void)argv;
	for (int lap = 0; lap < 2; lap++) {
		for (uint32_t i = 0; i < n; i++, w++) {
			strata_snprintf(word, sizeof word, "%s%02u%s", i == 0 ? "full: " : " ", w,
			    i + 1 == n ? "\n" : "");
			fill(i, word);
		}
		ring(n - 1);
		if (why == NULL)
			why = given_back(0, n);
	}
	ring(n - 1);
	code = verdict(0, why);
	ring(0);
	trap_exit(code);
}

/* Reads slot i's doorbell with the load named by kind. */
static void ring_with(uint32_t i, char kind)
{
	uint64_t addr = STRATA_DOORBELL_ADDR(STRATA_CONSOLE_BASE, i), v;

	switch (kind) {
	case 'b':
		__asm__ volatile("movzbq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
		break;
	case 'w':
		__asm__ volatile("movzwq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
		break;
	case 'l':
		__asm__ volatile("movl (%1), %k0" : "=r"(v) : "r"(addr) : "memory");
		break;
	case 'x':
		__asm__ volatile("movdqu (%1), %%xmm0\n\tmovq %%xmm0, %0" : "=r"(v) : "r"(addr)
		    : "xmm0", "memory");
		break;
	case 'p':
		__asm__ volatile("prefetcht0 (%0)" : : "r"(addr) : "memory");
		return;
	default:
		__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	}
	(void)v;
}

/*
 * Every width of load rings a doorbell: byte, word, dword, qword and a
 * 16-byte SSE load, one slot each ("loads: movzb movzw movl movq movdqu").
 * A prefetch of the next doorbell never faults, so it takes nothing: that
 * slot is still written, and the verdict's doorbell takes it with the
 * verdict.  Summary: 7 slots in 6 doorbells.
 */
int check_doorbell_loads(int argc, char **argv)
{
	static const char kinds[] = "bwlqx";
	static const char *const words[] = { "loads: movzb", " movzw", " movl", " movq", " movdqu" };
	const uint32_t k = sizeof kinds - 1;
	const char *why = NULL;
	int code;

	(void)argc;
	(void)argv;
	if (nslots() < k + 2)
		too_few_slots(k + 2);
	for (uint32_t i = 0; i < k; i++) {
		fill(i, words[i]);
		ring_with(i, kinds[i]);
		if (why == NULL)
			why = given_back(i, 1);
	}
	fill(k, "\n");
	ring_with(k, 'p');
	if (why == NULL && slot(k)->len == 0)
		why = "a prefetch of a doorbell took its slot";
	code = verdict(k + 1, why);
	ring(k + 1);
	trap_exit(code);
}

/*
 * A slot rung, then two written and never rung: at the exit trap layer 0
 * prints them too, after the rung one.  Summary: 3 slots in 1 doorbells.
 */
int check_unrung_at_exit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fill(0, "conform: unrung-at-exit rung\n");
	ring(0);
	fill(1, "conform: unrung-at-exit unrung\n");
	trap_exit(verdict(2, given_back(0, 1)));
}

/*
 * The same doorbell read twice in a row: the second read does not fault
 * and takes nothing.  Summary: 2 slots in 2 doorbells (the verdict's is
 * the second), not 3.
 */
int check_ring_twice(int argc, char **argv)
{
	int code;

	(void)argc;
	(void)argv;
	fill(0, "conform: ring-twice first\n");
	ring(0);
	ring(0);
	code = verdict(1, given_back(0, 1));
	ring(1);
	trap_exit(code);
}

/*
 * Slots with len 0 are taken like any other and print nothing: one rung
 * alone, one inside a batch ("conform: empty-slot" + empty + " ok").
 * Summary: 4 slots in 2 doorbells.
 */
int check_empty_slot(int argc, char **argv)
{
	const char *why;

	(void)argc;
	(void)argv;
	if (nslots() < 4)
		too_few_slots(4);
	fill(0, "");
	ring(0);
	why = given_back(0, 1);
	strata_snprintf(why_buf, sizeof why_buf, "conform: %s", check_name);
	fill(1, why == NULL ? why_buf : "conform: empty-slot FAILED: slot 0 not given back");
	fill(2, "");
	fill(3, why == NULL ? " ok\n" : "\n");
	ring(3);
	trap_exit(why != NULL);
}
