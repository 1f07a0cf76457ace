/*
 * lwIP's compiler and platform glue for layer 1: freestanding C on x86-64,
 * diagnostics on the console, assertions fatal.  No C library: the few
 * functions lwIP calls come from libstrata (string.h and stdlib.h beside
 * this directory forward to it).
 */
#ifndef LWIP_ARCH_CC_H
#define LWIP_ARCH_CC_H

#include <strata.h>

#define BYTE_ORDER		LITTLE_ENDIAN

/* One instruction each instead of lwIP's shift-and-mask fallbacks. */
#define lwip_htons(x)		((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x)		((u32_t)__builtin_bswap32((u32_t)(x)))

/* Headers a freestanding compiler lacks: lwIP brings its own versions. */
#define LWIP_NO_INTTYPES_H	1
#define LWIP_NO_CTYPE_H		1
#define LWIP_NO_LIMITS_H	1
#define X8_F			"02x"
#define U16_F			"hu"
#define S16_F			"hd"
#define X16_F			"hx"
#define U32_F			"u"
#define S32_F			"d"
#define X32_F			"x"
#define SZT_F			"zu"

/* The exit code of a failed lwIP assertion: the payload's last own code. */
#define LWIP_ASSERT_EXIT	STRATA_EXIT_PAYLOAD_MAX

#define LWIP_PLATFORM_DIAG(x)	do { strata_printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x)	do {					\
	strata_printf("lwip: assertion \"%s\" failed at %s:%d\n",		\
	    (x), __FILE__, __LINE__);						\
	strata_exit(LWIP_ASSERT_EXIT);						\
} while (0)

/* Every checksum lwIP computes or checks: sys_arch.c's, 8 bytes a step. */
uint16_t sys_chksum(const void *data, int len);
#define LWIP_CHKSUM		sys_chksum

/* Local ports and DHCP transaction ids: from sys_arch.c's generator. */
uint32_t sys_rand(void);
#define LWIP_RAND()		sys_rand()

#endif
