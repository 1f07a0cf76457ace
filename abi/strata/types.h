/*
 * Strata ABI: the one header every other abi/ header includes.
 *
 * The ABI headers are read by four kinds of consumer: layer 0 (freestanding
 * C), layer-1 payloads (freestanding C), host tools and tests (hosted C), and
 * linker scripts / assembly run through the C preprocessor.  Constants are
 * therefore written with STRATA_U64()/STRATA_U32(), which carry a C suffix only
 * where C reads them, and structures are hidden from the preprocessor-only
 * consumers.
 */
#ifndef STRATA_TYPES_H
#define STRATA_TYPES_H

#if defined(__ASSEMBLER__) || defined(STRATA_LINKER_SCRIPT)
#define STRATA_U64(x) x
#define STRATA_U32(x) x
#else
#include <stdint.h>
#define STRATA_U64(x) x##ULL
#define STRATA_U32(x) x##U
#define STRATA_C_TYPES 1
/* Layout checks for every structure that crosses the layer boundary. */
#define STRATA_LAYOUT(type, size) \
	_Static_assert(sizeof(type) == (size), #type " changed size: ABI break")
#define STRATA_OFFSET(type, field, off) \
	_Static_assert(__builtin_offsetof(type, field) == (off), \
	    #type "." #field " moved: ABI break")
#endif

#endif
