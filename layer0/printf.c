/*
 * Formatted output for layer 0: %d %i %u %x %X %p %s %c %%, with the flags
 * '-', '0' and '#', a field width, a precision (for strings: at most that
 * many bytes; '*' takes it from the arguments) and the length modifiers
 * l, ll and z.  Nothing more: layer 0 prints reports, not prose.
 */
#include "defs.h"

struct out {
	char *buf;
	size_t size;	/* of buf */
	size_t len;	/* what would have been written */
};

static void out_c(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		out_c(o, c);
}

struct spec {
	bool left, zero, alt;
	int width, prec;
	int lng;	/* 0: int, 1: long, 2: long long */
};

static void out_str(struct out *o, const char *s, const struct spec *sp)
{
	size_t n;

	if (s == 0)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	if (!sp->left)
		out_pad(o, ' ', sp->width - (int)n);
	for (size_t i = 0; i < n; i++)
		out_c(o, s[i]);
	if (sp->left)
		out_pad(o, ' ', sp->width - (int)n);
}

static void out_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
    const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, ndigits, extra;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	ndigits = n;
	extra = (neg ? 1 : 0) + (sp->alt && base == 16 ? 2 : 0);
	if (!sp->left && !sp->zero)
		out_pad(o, ' ', sp->width - ndigits - extra);
	if (neg)
		out_c(o, '-');
	if (sp->alt && base == 16) {
		out_c(o, '0');
		out_c(o, upper ? 'X' : 'x');
	}
	if (!sp->left && sp->zero)
		out_pad(o, '0', sp->width - ndigits - extra);
	while (n > 0)
		out_c(o, tmp[--n]);
	if (sp->left)
		out_pad(o, ' ', sp->width - ndigits - extra);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	for (; *f >= '0' && *f <= '9'; f++)
		sp->width = sp->width * 10 + (*f - '0');
	if (*f == '.') {
		f++;
		sp->prec = 0;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int);
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++)
			sp->prec = sp->prec * 10 + (*f - '0');
	}
	for (; *f == 'l' || *f == 'z'; f++)
		sp->lng++;
	return f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->lng > 0)
		return va_arg(*ap, unsigned long);	/* long, long long and size_t are 64 bits */
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->lng > 0)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

int vsnprintf_(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; *f != '\0'; f++) {
		if (*f != '%') {
			out_c(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &sp, &aq);
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = arg_signed(&sp, &aq);
			out_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false, &sp);
			break;
		}
		case 'u':
			out_num(&o, arg_unsigned(&sp, &aq), false, 10, false, &sp);
			break;
		case 'x':
		case 'X':
			out_num(&o, arg_unsigned(&sp, &aq), false, 16, *f == 'X', &sp);
			break;
		case 'p':
			sp.alt = true;
			out_num(&o, (uint64_t)va_arg(aq, void *), false, 16, false, &sp);
			break;
		case 's':
			out_str(&o, va_arg(aq, const char *), &sp);
			break;
		case 'c':
			out_c(&o, (char)va_arg(aq, int));
			break;
		case '%':
			out_c(&o, '%');
			break;
		case '\0':
			f--;
			break;
		default:
			out_c(&o, '%');
			out_c(&o, *f);
		}
	}
	va_end(aq);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf_(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf_(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf_(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
