/*
 * lwIP's network interface on the Strata NIC rings (include/strata.h's
 * strata_tx_* and strata_rx_*).  The payload owns the main loop:
 *
 *   lwip_init();
 *   netif = strata_netif_add(&ip, &mask, &gw);
 *   for (;;) {
 *       strata_netif_input(netif);	frames in, lwIP's callbacks run
 *       sys_check_timeouts();
 *       strata_netif_wait(netif, max_ns);	frames out, then sleep
 *   }
 */
#ifndef STRATA_NETIF_H
#define STRATA_NETIF_H

#include "lwip/netif.h"

/*
 * Adds the NIC as lwIP's one netif, with its MAC and MTU from the info page,
 * link up, administratively up and the default route.  ip, mask and gw as
 * netif_add (all 0.0.0.0 for DHCP to fill).  NULL when the machine has no
 * NIC rings (info->tx_slots or rx_slots 0).
 */
struct netif *strata_netif_add(const ip4_addr_t *ip, const ip4_addr_t *mask,
    const ip4_addr_t *gw);

/*
 * Hands every frame received so far to lwIP, at most one ring's worth so
 * timers still run under a flood.  Returns the number of frames taken.
 * Frames lwIP refuses or has no buffer for are dropped and counted.
 */
unsigned strata_netif_input(struct netif *netif);

/*
 * Sends what lwIP queued (one doorbell for all), then sleeps until a frame
 * arrives or lwIP's next timer is due, but at most max_ns.
 */
void strata_netif_wait(struct netif *netif, uint64_t max_ns);

/* QEMU's user network, every payload's default: 10.0.2.15/24 via 10.0.2.2. */
void strata_netif_qemu_addr(ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw);

/*
 * Reads a payload argument ip=A.B.C.D, gw=A.B.C.D or mask=A.B.C.D into the
 * matching address.  0 if arg is none of them, 1 if it is one and was read,
 * -1 if it is one and its address is malformed.
 */
int strata_netif_addr_arg(const char *arg, ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw);

/* Frames dropped by strata_netif_input: malformed, or no pbuf for them. */
extern unsigned long strata_netif_dropped;

#endif
