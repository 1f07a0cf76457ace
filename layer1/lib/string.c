/*
 * Memory and string functions with the C library's contracts.
 *
 * memcpy and memset are the string instructions, as layer 0's: no C loop
 * the compiler could turn back into a call to the very function it sits
 * in.  They move 8 bytes a step (`rep movsq`, then `rep movsb` for the
 * tail), because QEMU's TCG runs each step of a rep separately: a UDP echo
 * copies its frame twice (slot to pbuf, pbuf to slot), and byte steps cost
 * it about 9 us of the vCPU's 31 between the frame's arrival and its
 * answer's notification (profile stage rxturn less txnotif, means of 8000
 * echoes).
 */
#include "runtime.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	void *d = dst;
	size_t words = n / 8, bytes = n % 8;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(bytes) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	uint64_t w;

	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n);
	/*
	 * dst overlaps the end of src: copy from the top down.  Not `std; rep
	 * movsb`, so an interrupt never finds the direction flag set; the empty
	 * asm keeps the compiler from turning the loops into a memmove call.
	 */
	while (n >= 8) {
		n -= 8;
		__builtin_memcpy(&w, s + n, 8);
		__builtin_memcpy(d + n, &w, 8);
		__asm__ volatile("" : : : "memory");
	}
	while (n > 0) {
		n--;
		d[n] = s[n];
		__asm__ volatile("" : : : "memory");
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	uint64_t v = 0x0101010101010101ULL * (uint8_t)c;
	size_t words = n / 8, bytes = n % 8;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(v) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(v) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n > 0; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++)
		if (*a != *b || *a == '\0')
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}
