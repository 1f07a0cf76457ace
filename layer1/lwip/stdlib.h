/*
 * <stdlib.h> for lwIP's sources: strtol from the runtime, atoi from
 * sys_arch.c (netif.c's netif_find is its one user).
 */
#ifndef LWIP_PORT_STDLIB_H
#define LWIP_PORT_STDLIB_H

#include <strata.h>

int atoi(const char *s);

#endif
