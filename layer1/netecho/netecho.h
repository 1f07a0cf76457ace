/* netecho's parts, one heading per file. */
#ifndef NETECHO_H
#define NETECHO_H

#include "lwip/ip4_addr.h"

/* ---- echo.c -------------------------------------------------------------- */

/* Listens on UDP and TCP port 7 and echoes everything back. */
void echo_start(void);

/* ---- count.c ------------------------------------------------------------- */

/* Listens on UDP port 8: each datagram adds one to a counter and gets it back. */
void count_start(void);

/* ---- ping.c -------------------------------------------------------------- */

/*
 * The ping self-test: pings `to` (ICMP echo, resent each second until a
 * reply or PING_TRIES requests) and prints the outcome.  Once per boot: a
 * later call (a DHCP renewal) does nothing.
 */
void ping_start(const ip4_addr_t *to);

#endif
