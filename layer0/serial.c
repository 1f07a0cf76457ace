/*
 * The serial console: COM1, 115200 8N1, polled.  It is layer 0's only output
 * and the console ring's sink, so it must work from the first instruction of
 * kmain to the last report, with interrupts on or off.
 */
#include "defs.h"

#define COM1		0x3f8
#define REG_DATA	0
#define REG_IER		1
#define REG_FCR		2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define LSR_THR_EMPTY	0x20
#define LCR_DLAB	0x80
#define LCR_8N1		0x03

void serial_init(void)
{
	outb(COM1 + REG_IER, 0x00);		/* no interrupts: we poll */
	outb(COM1 + REG_LCR, LCR_DLAB);
	outb(COM1 + REG_DATA, 1);		/* divisor 1: 115200 baud */
	outb(COM1 + REG_IER, 0);
	outb(COM1 + REG_LCR, LCR_8N1);
	outb(COM1 + REG_FCR, 0xc7);		/* FIFOs on, cleared, 14-byte threshold */
	outb(COM1 + REG_MCR, 0x03);		/* DTR, RTS */
}

/*
 * A UART whose transmitter never empties would hang every print, the fault
 * reports included: wait a bounded number of polls (far more than one
 * character takes at 115200 baud), and once it has timed out stop waiting
 * at all, so the machine still reaches its exit code.
 */
#define THR_POLLS_MAX	(1u << 20)

static bool uart_stuck;

static void put_raw(char c)
{
	uint32_t polls = 0;

	while (!uart_stuck && (inb(COM1 + REG_LSR) & LSR_THR_EMPTY) == 0)
		if (++polls == THR_POLLS_MAX)
			uart_stuck = true;
	outb(COM1 + REG_DATA, (uint8_t)c);
}

/* Newlines become CR LF: QEMU's stdio puts the terminal in raw mode. */
void serial_putc(char c)
{
	if (c == '\n')
		put_raw('\r');
	put_raw(c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}
