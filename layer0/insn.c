/*
 * The one kind of instruction layer 0 completes on layer 1's behalf: a plain
 * load into a general register, as every doorbell read in this tree is
 * (`mov disp(%reg), %reg`).  A doorbell page reads as zeros, so such a read
 * completes by writing 0 to its register and moving past it, with no page
 * mapped and no single step (l1fault.c).  Anything else, a prefix, another
 * opcode, a SIB byte, is left to the single step, which is always right.
 *
 * Bytes are read one by one, each only once those before it say the
 * instruction has it, so nothing past the instruction's end is touched.
 */
#include "defs.h"

#define REX_FIRST	0x40
#define REX_LAST	0x4f
#define REX_R		0x04
#define OP_MOV_LOAD	0x8b	/* mov r/m32-or-64 into r32-or-64 */
#define RM_SIB		4
#define RM_DISP32	5	/* with mod 0: RIP-relative */
#define REG_RSP		4

int insn_plain_load(const uint8_t *code, unsigned *reg, unsigned *len)
{
	unsigned n = 0, rex = 0, modrm, mod, rm;

	if (code[n] >= REX_FIRST && code[n] <= REX_LAST)
		rex = code[n++];
	if (code[n++] != OP_MOV_LOAD)
		return -1;
	modrm = code[n++];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3 || rm == RM_SIB)
		return -1;
	*reg = (modrm >> 3 & 7) | (rex & REX_R ? 8 : 0);
	if (*reg == REG_RSP)
		return -1;
	if (mod == 1)
		n += 1;
	else if (mod == 2 || rm == RM_DISP32)
		n += 4;
	*len = n;
	return 0;
}
