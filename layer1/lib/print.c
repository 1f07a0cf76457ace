/* The printf family: the format engine bound to the console or a buffer. */
#include "runtime.h"

static void console_sink(struct sink *s, const char *p, size_t n)
{
	(void)s;
	console_put(p, n);
}

int strata_vprintf(const char *fmt, va_list ap)
{
	struct sink s = { .write = console_sink };

	format(&s, fmt, ap);
	console_end_write();
	return (int)s.total;
}

int strata_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = strata_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* A sink into a fixed buffer: keeps what fits, counts everything. */
struct buf_sink {
	struct sink sink;	/* first, so the sink pointer is the buf_sink's */
	char *buf;
	size_t cap;		/* bytes that may be stored, the NUL excluded */
	size_t used;
};

static void buf_write(struct sink *s, const char *p, size_t n)
{
	struct buf_sink *b = (struct buf_sink *)s;
	size_t k = b->cap - b->used;

	if (k > n)
		k = n;
	memcpy(b->buf + b->used, p, k);
	b->used += k;
}

int strata_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_sink b = {
		.sink = { .write = buf_write },
		.buf = buf,
		.cap = size > 0 ? size - 1 : 0,
	};

	format(&b.sink, fmt, ap);
	if (size > 0)
		buf[b.used] = '\0';
	return (int)b.sink.total;
}

int strata_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = strata_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
