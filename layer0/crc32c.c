/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), as the disk label
 * and the checkpoint journal use it.  It catches every burst of up to 32
 * flipped bits and any torn sector of a page.  Slicing by eight: eight
 * tables of 256 entries, built at the first call, take eight bytes a step;
 * the journal runs it over every page of a checkpoint.  (The SSE 4.2 crc32
 * instruction would be faster, but QEMU's default CPU model lacks it.)
 */
#include "defs.h"

#define POLY	0x82f63b78u

static uint32_t table[8][256];
static bool built;

static void build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (POLY & (0 - (c & 1)));
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	built = true;
}

uint32_t crc32c_extend(uint32_t crc, const void *p, uint64_t n)
{
	const uint8_t *b = p;
	uint32_t c = ~crc;

	if (!built)
		build();
	for (; n >= 8; n -= 8, b += 8) {
		uint64_t w;

		memcpy(&w, b, 8);
		w ^= c;
		c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		    table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		    table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
	for (; n > 0; n--, b++)
		c = (c >> 8) ^ table[0][(c ^ *b) & 0xff];
	return ~c;
}

uint32_t crc32c(const void *p, uint64_t n)
{
	return crc32c_extend(0, p, n);
}
