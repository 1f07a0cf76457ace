/*
 * Time: the TSC is the monotonic clock; the local APIC timer ticks at TICK_HZ
 * to refresh the clock in layer 1's info page (and, later, to run deadlines).
 * Both are calibrated once against PIT channel 2, in one window that opens
 * at kmain's start (timer_window_open) and closes in timer_init, so that the
 * boot's first milliseconds count towards it instead of adding to it.
 */
#include "defs.h"

/*
 * The window is at least CALIBRATE_MS of PIT ticks; the APIC timer, which
 * cannot start before vm_init maps it, counts for at least APIC_MIN_MS of
 * it.  Each end is the best of SAMPLE_TRIES steps of the PIT (at_step()).
 */
#define CALIBRATE_MS		5
#define APIC_MIN_MS		1
#define SAMPLE_TRIES		4
/* Windows that ran past the PIT's 16 bits (see window_close()) before giving up. */
#define WINDOW_TRIES		8

#define PIT_HZ			1193182
/* The TSC's rate is not known yet: 2^37 ticks is tens of seconds at any real one. */
#define PIT_WAIT_TICKS_MAX	(1ULL << 37)
#define PIT_CH2			0x42
#define PIT_CMD			0x43
#define PIT_CH2_LATCH		0x80	/* command: latch channel 2's count */
#define PIT_CH2_MODE0		0xb0	/* command: channel 2, lo/hi byte, mode 0 */
#define PIT_GATE		0x61	/* bit 0: ch2 gate, bit 1: speaker, bit 5: ch2 output */
#define PIT_OUT2		0x20

#define MSR_APIC_BASE		0x1b
#define LAPIC_ID		0x020
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define LAPIC_ISR		0x100	/* eight registers, 0x10 apart: 32 vectors each */
#define LAPIC_LVT_TIMER		0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_COUNT	0x390
#define LAPIC_TIMER_DIV		0x3e0
#define LVT_PERIODIC		(1U << 17)
#define LVT_MASKED		(1U << 16)
#define SVR_ENABLE		(1U << 8)

static volatile uint32_t *lapic;
static uint64_t tsc_base, tsc_ns_mult;	/* ns = (tsc - base) * mult >> 32 */
static volatile uint64_t *published;

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static uint32_t lapic_read(uint32_t reg) { return lapic[reg / 4]; }
static void lapic_write(uint32_t reg, uint32_t v) { lapic[reg / 4] = v; }

/* The TSC and the PIT, read one after the other. */
struct clocks {
	uint64_t tsc;
	uint16_t pit;		/* channel 2's count, down at PIT_HZ */
};

static struct clocks window_first;	/* the window's first end */

static struct clocks read_clocks(void)
{
	struct clocks c;
	uint8_t lo, hi;

	c.tsc = rdtsc();
	outb(PIT_CMD, PIT_CH2_LATCH);
	lo = inb(PIT_CH2);
	hi = inb(PIT_CH2);
	c.pit = (uint16_t)(hi << 8 | lo);
	return c;
}

/* PIT ticks from a to b: the count runs down, and wraps at 16 bits. */
static uint16_t pit_since(const struct clocks *a, const struct clocks *b)
{
	return (uint16_t)(a->pit - b->pit);
}

/* A PIT that never counts would hold the boot forever: each wait on it is bounded. */
static void pit_wait_bound(uint64_t since)
{
	if (rdtsc() - since > PIT_WAIT_TICKS_MAX)
		report_device("PIT channel 2", "its count to move, to calibrate the TSC", 0,
		    "the count never moved");
}

/*
 * The PIT counts in steps of 838 ns, a six-thousandth of the window: read at
 * any moment, its count would leave the window that uncertain at each end.
 * So an end is a step, the first read that sees a new count, dated by that
 * read's TSC to within the ticks since the read before it.  A vCPU
 * descheduled on a busy host between those two reads blurs the date: of
 * SAMPLE_TRIES steps in a row, the one seen soonest after the read before is
 * kept.  A pause anywhere else costs nothing, since the clocks go on
 * counting.
 */
static struct clocks at_step(void)
{
	struct clocks best = { 0 }, prev, c;
	uint64_t best_gap = UINT64_MAX, since = rdtsc();

	for (int i = 0; i < SAMPLE_TRIES; i++) {
		prev = read_clocks();
		while ((c = read_clocks()).pit == prev.pit) {
			prev = c;
			pit_wait_bound(since);
		}
		if (c.tsc - prev.tsc < best_gap) {
			best = c;
			best_gap = c.tsc - prev.tsc;
		}
	}
	return best;
}

/* Channel 2 counts down from 0xffff, once, in mode 0 (its output rises at 0). */
void timer_window_open(void)
{
	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01);	/* speaker off, gate on */
	outb(PIT_CMD, PIT_CH2_MODE0);
	outb(PIT_CH2, 0xff);
	outb(PIT_CH2, 0xff);
	window_first = at_step();
}

/* The 16-bit count has run out, 55 ms after the window opened: counts since then are ambiguous. */
static bool pit_ran_out(void)
{
	return (inb(PIT_GATE) & PIT_OUT2) != 0;
}

/*
 * The window's far end: a step CALIBRATE_MS after its first, and APIC_MIN_MS
 * after apic, when the APIC timer started.  False if the count ran out before
 * (a slow boot, or the vCPU descheduled for that long): such a window cannot
 * be read.
 */
static bool window_close(const struct clocks *apic, struct clocks *last)
{
	const uint16_t window = PIT_HZ * CALIBRATE_MS / 1000, apic_min = PIT_HZ * APIC_MIN_MS / 1000;
	struct clocks now;

	if (pit_ran_out())
		return false;
	do {
		now = read_clocks();
		pit_wait_bound(apic->tsc);
	} while (pit_since(&window_first, &now) < window || pit_since(apic, &now) < apic_min);
	*last = at_step();
	return !pit_ran_out();
}

/* The APIC timer counts down from the top, masked: the clocks as it starts. */
static struct clocks apic_count_start(void)
{
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	return read_clocks();
}

static uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * tsc_ns_mult) >> 32);
}

/*
 * The TSC's rate, as the clock's 32.32 fixed-point ns per tick, and the APIC
 * timer's count per tick of TICK_HZ, which it returns.
 */
static uint32_t calibrate(void)
{
	struct clocks apic = apic_count_start(), last;
	uint64_t pit_ticks, tsc_ticks, apic_tsc;
	uint32_t apic_count;

	for (int tries = 1; !window_close(&apic, &last); tries++) {
		if (tries == WINDOW_TRIES)
			report_device("PIT channel 2", "a calibration window shorter than its 16-bit count",
			    0, "every window ran for longer than 55 ms");
		timer_window_open();
		apic = apic_count_start();
	}
	apic_count = lapic_read(LAPIC_TIMER_COUNT);
	apic_tsc = rdtsc();
	pit_ticks = pit_since(&window_first, &last);
	tsc_ticks = last.tsc - window_first.tsc;
	if (tsc_ticks == 0)
		panic("the TSC does not advance");
	tsc_ns_mult = ((pit_ticks * 1000000000ULL / PIT_HZ) << 32) / tsc_ticks;
	tsc_base = rdtsc();
	kprintf("strata: TSC %lu MHz\n", (unsigned long)(tsc_ticks * PIT_HZ / pit_ticks / 1000000));
	return (uint32_t)((uint64_t)(0xffffffff - apic_count) * (1000000000 / TICK_HZ) /
	    tsc_to_ns(apic_tsc - apic.tsc));
}

uint64_t clock_ns(void)
{
	return tsc_to_ns(rdtsc() - tsc_base);
}

/* The legacy PICs would deliver on vectors that are CPU exceptions: mask them. */
static void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static uint32_t per_ms;	/* local APIC timer counts in a millisecond */

/* The APIC's registers, and its timer masked until calibrated. */
static void lapic_start(void)
{
	lapic = vm_map_mmio(rdmsr(MSR_APIC_BASE) & 0xffffff000ULL, 4096);
	lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(LAPIC_TIMER_DIV, 0x3);		/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
}

static void lapic_tick(uint32_t per_tick)
{
	if (per_tick == 0)
		panic("the local APIC timer does not count");
	per_ms = per_tick / (1000 / TICK_HZ);
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, per_tick);
}

/*
 * Ticks every ms instead of every 1000 / TICK_HZ ms: for checkpoints or held
 * frames that must not wait for the next slow tick.  Costs an interrupt a
 * millisecond, so only when asked.
 */
void timer_fast(void)
{
	if (per_ms != 0)
		lapic_write(LAPIC_TIMER_INIT, per_ms);
}

void timer_init(void)
{
	pic_mask_all();
	lapic_start();
	lapic_tick(calibrate());
}

uint64_t timer_tsc_base(void) { return tsc_base; }
uint64_t timer_tsc_ns_mult(void) { return tsc_ns_mult; }

/*
 * A resume: the clock reads ns now and goes on from there, so that layer 1's
 * clock never runs backwards across a cut.  The base moves back by that many
 * ticks; below zero it wraps, and (tsc - base) in 64 bits wraps back.
 */
void timer_resume_at(uint64_t ns)
{
	uint64_t hi = ns >> 32, lo = ns << 32, ticks;

	if (hi >= tsc_ns_mult)
		panic("timer: a clock of %lu ns is more ticks than 64 bits hold", (unsigned long)ns);
	/* (ns << 32) / mult in one divide: the quotient fits, as checked (no libgcc here). */
	__asm__("divq %2" : "=a"(ticks), "+d"(hi) : "r"(tsc_ns_mult), "a"(lo));
	tsc_base = rdtsc() - ticks;
}

void timer_publish(volatile uint64_t *where)
{
	published = where;
	*where = clock_ns();
}

void timer_tick(void)
{
	if (published != 0)
		*published = clock_ns();
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

/* Bits 31..24 in xAPIC mode, which is the mode lapic_start leaves it in. */
uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

bool lapic_in_service(uint64_t vector)
{
	return lapic != 0 && vector < 256 &&
	    (lapic_read(LAPIC_ISR + 0x10 * (uint32_t)(vector / 32)) >> (vector % 32) & 1);
}
