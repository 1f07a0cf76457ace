/*
 * The printf engine: one pass over the format, each conversion turned into
 * at most four runs (padding, prefix, zeros, digits) handed to a sink, so the
 * console gets whole runs rather than single bytes.
 */
#include "runtime.h"

/* One conversion specification, as parsed. */
struct spec {
	bool left;		/* '-' */
	bool zero;		/* '0' */
	int width;		/* -1: none */
	int prec;		/* -1: none */
	int size;		/* 'H' hh, 'h', 0 int, 'l', 'L' ll, 'z' */
};

static void emit(struct sink *s, const char *p, size_t n)
{
	if (n == 0)
		return;
	s->write(s, p, n);
	s->total += n;
}

/* Writes n copies of c. */
static void pad(struct sink *s, char c, int n)
{
	static const char spaces[] = "                ";
	static const char zeros[] = "0000000000000000";
	const char *run = c == '0' ? zeros : spaces;

	for (; n > 0; n -= 16)
		emit(s, run, n < 16 ? (size_t)n : 16);
}

/* Writes prefix, zeros and body, padded to the width on the spec's side. */
static void field(struct sink *s, const struct spec *sp, const char *prefix,
    int zeros, const char *body, int len)
{
	int plen = (int)strlen(prefix);
	int fill = sp->width - (plen + zeros + len);

	if (fill > 0 && sp->zero && !sp->left && sp->prec < 0) {
		zeros += fill;
		fill = 0;
	}
	if (!sp->left)
		pad(s, ' ', fill);
	emit(s, prefix, (size_t)plen);
	pad(s, '0', zeros);
	emit(s, body, (size_t)len);
	if (sp->left)
		pad(s, ' ', fill);
}

/* Formats v in base 10 or 16, behind prefix (a sign or "0x"). */
static void number(struct sink *s, const struct spec *sp, uint64_t v,
    unsigned base, bool upper, const char *prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	int n = 0;

	do {
		buf[sizeof buf - 1 - n++] = digits[v % base];
		v /= base;
	} while (v != 0);
	/* C: a zero with precision 0 prints no digits. */
	if (sp->prec == 0 && n == 1 && buf[sizeof buf - 1] == '0')
		n = 0;
	field(s, sp, prefix, sp->prec > n ? sp->prec - n : 0, buf + sizeof buf - n, n);
}

static int64_t signed_arg(int size, va_list *ap)
{
	switch (size) {
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return va_arg(*ap, long);	/* ssize_t: size_t's signed twin */
	case 'h': return (short)va_arg(*ap, int);
	case 'H': return (signed char)va_arg(*ap, int);
	default: return va_arg(*ap, int);
	}
}

static uint64_t unsigned_arg(int size, va_list *ap)
{
	switch (size) {
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 'h': return (unsigned short)va_arg(*ap, unsigned);
	case 'H': return (unsigned char)va_arg(*ap, unsigned);
	default: return va_arg(*ap, unsigned);
	}
}

/* Reads a width or precision: digits, or '*' from the arguments. */
static int count(const char **fmt, va_list *ap)
{
	int n = 0;

	if (**fmt == '*') {
		(*fmt)++;
		return va_arg(*ap, int);
	}
	while (**fmt >= '0' && **fmt <= '9')
		n = n * 10 + (*(*fmt)++ - '0');
	return n;
}

/* Parses flags, width, precision and size after the '%'. */
static void parse_spec(const char **fmt, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .width = -1, .prec = -1 };
	for (;; (*fmt)++) {
		if (**fmt == '-')
			sp->left = true;
		else if (**fmt == '0')
			sp->zero = true;
		else
			break;
	}
	sp->width = count(fmt, ap);
	if (sp->width < 0) {		/* C: a negative '*' width means '-' */
		sp->left = true;
		sp->width = -sp->width;
	}
	if (**fmt == '.') {
		(*fmt)++;
		sp->prec = count(fmt, ap);
		if (sp->prec < 0)	/* C: a negative '*' precision is none */
			sp->prec = -1;
	}
	if (**fmt == 'h' || **fmt == 'l' || **fmt == 'z') {
		sp->size = *(*fmt)++;
		if (**fmt == sp->size && sp->size != 'z') {
			sp->size = sp->size == 'h' ? 'H' : 'L';
			(*fmt)++;
		}
	}
}

/* Formats one conversion c; false when c is not one we know. */
static bool convert(struct sink *s, const struct spec *sp, char c, va_list *ap)
{
	int64_t v;
	char ch;
	const char *str;

	switch (c) {
	case 'd': case 'i':
		v = signed_arg(sp->size, ap);
		number(s, sp, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0 ? "-" : "");
		return true;
	case 'u':
		number(s, sp, unsigned_arg(sp->size, ap), 10, false, "");
		return true;
	case 'x': case 'X':
		number(s, sp, unsigned_arg(sp->size, ap), 16, c == 'X', "");
		return true;
	case 'p':
		number(s, sp, (uintptr_t)va_arg(*ap, void *), 16, false, "0x");
		return true;
	case 'c':
		ch = (char)va_arg(*ap, int);
		field(s, sp, "", 0, &ch, 1);
		return true;
	case 's':
		str = va_arg(*ap, const char *);
		if (str == NULL)
			str = "(null)";
		field(s, sp, "", 0, str,
		    (int)(sp->prec >= 0 ? strnlen(str, (size_t)sp->prec) : strlen(str)));
		return true;
	case '%':
		emit(s, "%", 1);
		return true;
	default:
		return false;
	}
}

void format(struct sink *s, const char *fmt, va_list ap)
{
	va_list args;

	/* A copy, so helpers can take a pointer to it (va_list may be an array). */
	va_copy(args, ap);
	while (*fmt != '\0') {
		const char *start = fmt;
		struct spec sp;

		if (*fmt != '%') {
			const char *pct = strchr(fmt, '%');
			size_t n = pct != NULL ? (size_t)(pct - fmt) : strlen(fmt);

			emit(s, fmt, n);
			fmt += n;
			continue;
		}
		fmt++;
		parse_spec(&fmt, &sp, &args);
		/* An unknown conversion is printed as written, to show the mistake. */
		if (*fmt == '\0' || !convert(s, &sp, *fmt, &args))
			emit(s, start, (size_t)(fmt - start) + (*fmt != '\0'));
		if (*fmt != '\0')
			fmt++;
	}
	va_end(args);
}
