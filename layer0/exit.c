/*
 * Stopping the machine.  Under QEMU the isa-debug-exit device (port 0xf4)
 * ends QEMU with status code * 2 + 1, which images/qemu.sh turns back into
 * code; on a machine without it, layer 0 halts with interrupts off.
 */
#include "defs.h"

#define DEBUG_EXIT_PORT	0xf4

void machine_exit(uint32_t code)
{
	cli();
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		hlt();
}
