/* Number parsing: strtoul/strtol on 64-bit longs, and a strict whole-string form. */
#include "runtime.h"

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/*
 * The common core: skips blanks, reads a sign and the base prefix, then the
 * digits.  *neg says whether '-' came; *overflow whether the magnitude passed
 * 64 bits; *end is after the last digit, or s if none.
 */
static uint64_t scan(const char *s, const char **end, int base, bool *neg, bool *overflow)
{
	const char *p = s, *digits;
	uint64_t v = 0;

	*neg = *overflow = false;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '-' || *p == '+')
		*neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    digit_value(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	for (digits = p; digit_value(*p) < base; p++) {
		uint64_t d = (uint64_t)digit_value(*p);

		if (v > (UINT64_MAX - d) / (uint64_t)base)
			*overflow = true;
		v = v * (uint64_t)base + d;
	}
	*end = p == digits ? s : p;
	return v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	const char *e;
	bool neg, overflow;
	uint64_t v = scan(s, &e, base, &neg, &overflow);

	if (end != NULL)
		*end = (char *)e;
	if (overflow)
		return UINT64_MAX;
	/* C: strtoul negates a "-" number in the unsigned type. */
	return neg ? -v : v;
}

long strtol(const char *s, char **end, int base)
{
	const char *e;
	bool neg, overflow;
	uint64_t v = scan(s, &e, base, &neg, &overflow);

	if (end != NULL)
		*end = (char *)e;
	if (neg)
		return overflow || v > (uint64_t)INT64_MAX + 1 ? INT64_MIN : (int64_t)-v;
	return overflow || v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

bool strata_parse_u64(const char *s, int base, uint64_t *out)
{
	const char *e;
	bool neg, overflow;
	uint64_t v = scan(s, &e, base, &neg, &overflow);

	if (e == s || *e != '\0' || neg || overflow || (*s < '0' || *s > '9'))
		return false;
	*out = v;
	return true;
}
