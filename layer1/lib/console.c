/*
 * The console: a byte stream cut into slots of the console ring.  Bytes fill
 * a slot up to STRATA_SLOT_DATA_MAX before the next one is opened, and the
 * buffering mode decides when a doorbell goes out (include/strata.h).
 */
#include "runtime.h"

static struct txring con;
static enum strata_console_mode con_mode = STRATA_CONSOLE_LINE;
static bool con_newline;	/* a '\n' was written since the last doorbell */

void console_init(const struct strata_info *info)
{
	txring_init(&con, STRATA_CONSOLE_BASE, info->console_slots);
}

void console_put(const char *p, size_t n)
{
	/* No console granted: output has nowhere to go. */
	if (con.nslots == 0)
		return;
	while (n > 0) {
		struct strata_slot *s = txring_slot(&con);
		size_t k = STRATA_SLOT_DATA_MAX - s->len;

		if (k > n)
			k = n;
		memcpy(s->data + s->len, p, k);
		/* len kept current so a fault mid-line still shows the text. */
		s->len += (uint32_t)k;
		if (s->len == STRATA_SLOT_DATA_MAX)
			txring_close(&con);
		if (memchr(p, '\n', k) != NULL)
			con_newline = true;
		p += k;
		n -= k;
	}
}

void console_end_write(void)
{
	if (con_mode == STRATA_CONSOLE_UNBUFFERED ||
	    (con_mode == STRATA_CONSOLE_LINE && con_newline))
		strata_flush();
}

void strata_console_mode(enum strata_console_mode mode)
{
	con_mode = mode;
}

void strata_flush(void)
{
	if (con.nslots == 0)
		return;
	txring_ring(&con);
	con_newline = false;
}

void strata_write(const void *buf, size_t n)
{
	console_put(buf, n);
	console_end_write();
}

void strata_puts(const char *s)
{
	console_put(s, strlen(s));
	console_put("\n", 1);
	console_end_write();
}
