/*
 * Time: the TSC, calibrated once against the PIT, is the monotonic clock; the
 * local APIC timer, calibrated against the TSC, ticks at TICK_HZ to refresh
 * the clock in layer 1's info page (and, later, to run deadlines).
 */
#include "defs.h"

#define CALIBRATE_MS		10
#define CALIBRATE_RUNS		3

#define PIT_HZ			1193182
/* The TSC's rate is not known yet: 2^37 ticks is tens of seconds at any real one. */
#define PIT_WAIT_TICKS_MAX	(1ULL << 37)
#define PIT_CH2			0x42
#define PIT_CMD			0x43
#define PIT_GATE		0x61	/* bit 0: ch2 gate, bit 1: speaker, bit 5: ch2 output */

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

/* TSC ticks in CALIBRATE_MS, counted while PIT channel 2 counts down once. */
static uint64_t tsc_per_calibration(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t t0;

	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01);	/* speaker off, gate on */
	outb(PIT_CMD, 0xb0);				/* ch2, lo/hi byte, mode 0 */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	/* Restart the count by toggling the gate, then wait for OUT2 to rise. */
	outb(PIT_GATE, inb(PIT_GATE) & ~0x01);
	outb(PIT_GATE, inb(PIT_GATE) | 0x01);
	t0 = rdtsc();
	while ((inb(PIT_GATE) & 0x20) == 0)
		if (rdtsc() - t0 > PIT_WAIT_TICKS_MAX)
			report_device("PIT channel 2", "its count to run out, to calibrate the TSC", 0,
			    "the count never ran out");
	return rdtsc() - t0;
}

/*
 * The fewest TSC ticks of CALIBRATE_RUNS windows.  Under emulation on a busy
 * host the vCPU may be descheduled inside a window, and the TSC (the host's)
 * keeps counting while the PIT's count has long run out: a window can only
 * come out too long, never too short, so the shortest is the truest.
 */
static void tsc_calibrate(void)
{
	uint64_t ticks = tsc_per_calibration();

	for (int i = 1; i < CALIBRATE_RUNS; i++) {
		uint64_t t = tsc_per_calibration();

		if (t < ticks)
			ticks = t;
	}
	if (ticks == 0)
		panic("the TSC does not advance");
	tsc_ns_mult = ((uint64_t)CALIBRATE_MS * 1000000 << 32) / ticks;
	tsc_base = rdtsc();
	kprintf("strata: TSC %lu MHz\n", (unsigned long)(ticks / (CALIBRATE_MS * 1000)));
}

uint64_t clock_ns(void)
{
	return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_base) * tsc_ns_mult) >> 32);
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = clock_ns() + ns;

	while (clock_ns() < end)
		__asm__ volatile("pause");
}

/* The legacy PICs would deliver on vectors that are CPU exceptions: mask them. */
static void pic_mask_all(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static uint32_t per_ms;	/* local APIC timer counts in a millisecond */

static void lapic_start(void)
{
	uint32_t per_tick;

	lapic = vm_map_mmio(rdmsr(MSR_APIC_BASE) & 0xffffff000ULL, 4096);
	lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(LAPIC_TIMER_DIV, 0x3);		/* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	spin_ns(CALIBRATE_MS * 1000000ULL);
	/* Counted in CALIBRATE_MS; a tick is 1000 / TICK_HZ ms. */
	per_tick = (uint32_t)((uint64_t)(0xffffffff - lapic_read(LAPIC_TIMER_COUNT)) *
	    (1000 / TICK_HZ) / CALIBRATE_MS);
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
	tsc_calibrate();
	lapic_start();
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
