/*
 * The platform services lwIP asks of a NO_SYS port: a millisecond clock,
 * random numbers, atoi, and a faster Internet checksum.
 */
#include "lwip/arch.h"
#include "lwip/sys.h"

#include <stdlib.h>

/* lwIP's timers compare differences of this, so its 32-bit wrap is harmless. */
u32_t sys_now(void)
{
	return (u32_t)(strata_now_ns() / 1000000);
}

/*
 * xorshift64*, seeded from the TSC on first use.  Only local port numbers
 * and DHCP transaction ids depend on it: unpredictable enough, never crypto.
 */
u32_t sys_rand(void)
{
	static uint64_t state;
	uint32_t lo, hi;

	if (state == 0) {
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		state = ((uint64_t)hi << 32 | lo) | 1;
	}
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return (u32_t)((state * 0x2545f4914f6cdd1dULL) >> 32);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* Adds w to a one's complement sum: the carry out wraps around. */
static inline uint64_t add1c(uint64_t sum, uint64_t w)
{
	sum += w;
	return sum + (sum < w);
}

/*
 * The Internet checksum's sum (RFC 1071) of len bytes, not inverted: what
 * lwIP's own routine returns, 8 bytes a step instead of 2, which counts
 * under TCG, where every byte of every frame passes through here.  The sum
 * is the same whatever the word size or alignment, as long as words are
 * loaded in memory order, so unaligned 64-bit loads are fine on x86.
 */
uint16_t sys_chksum(const void *data, int len)
{
	const uint8_t *p = data;
	uint64_t sum = 0, w;
	uint32_t w32;
	uint16_t w16;

	for (; len >= 8; p += 8, len -= 8) {
		__builtin_memcpy(&w, p, 8);
		sum = add1c(sum, w);
	}
	if (len >= 4) {
		__builtin_memcpy(&w32, p, 4);
		sum = add1c(sum, w32);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		__builtin_memcpy(&w16, p, 2);
		sum = add1c(sum, w16);
		p += 2;
		len -= 2;
	}
	if (len > 0)
		sum = add1c(sum, *p);	/* the first byte of a word: its low half */
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}
