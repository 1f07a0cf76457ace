/*
 * <string.h> for lwIP's sources: the runtime declares the C string
 * functions (include/strata.h), so a host C library's header is never used.
 */
#ifndef LWIP_PORT_STRING_H
#define LWIP_PORT_STRING_H

#include <strata.h>

#endif
