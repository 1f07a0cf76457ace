/*
 * lwIP's netif on the NIC rings.  Frames are copied both ways: a received
 * slot is given back to layer 0 long before lwIP is done with what it
 * queued (out-of-order segments, ARP queues), and a frame to send is one
 * slot while lwIP's pbufs are chains.  Sent frames wait in the TX ring for
 * strata_netif_wait's doorbell, so a poll round that answers many frames
 * costs one fault.
 */
#include <strata.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "strata_netif.h"

/* Ethernet's shortest frame without its FCS; shorter ones are padded. */
#define ETH_FRAME_MIN	60

unsigned long strata_netif_dropped;

static struct netif nic;

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
	uint8_t *f;
	uint32_t len = p->tot_len;

	(void)netif;
	if (len > STRATA_NET_FRAME_MAX)
		return ERR_BUF;
	if ((f = strata_tx_frame()) == NULL)
		return ERR_IF;
	pbuf_copy_partial(p, f, (u16_t)len, 0);
	if (len < ETH_FRAME_MIN) {
		memset(f + len, 0, ETH_FRAME_MIN - len);
		len = ETH_FRAME_MIN;
	}
	strata_tx_commit(len);
	return ERR_OK;
}

static err_t nic_init(struct netif *netif)
{
	const struct strata_info *info = strata_info();

	netif->name[0] = 's';
	netif->name[1] = 't';
	netif->hwaddr_len = ETH_HWADDR_LEN;
	memcpy(netif->hwaddr, info->mac, ETH_HWADDR_LEN);
	netif->mtu = info->mtu != 0 ? info->mtu : STRATA_NET_FRAME_MAX - SIZEOF_ETH_HDR;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
	    NETIF_FLAG_LINK_UP;
	netif->output = etharp_output;
	netif->linkoutput = linkoutput;
	return ERR_OK;
}

struct netif *strata_netif_add(const ip4_addr_t *ip, const ip4_addr_t *mask,
    const ip4_addr_t *gw)
{
	const struct strata_info *info = strata_info();

	if (info->tx_slots == 0 || info->rx_slots == 0)
		return NULL;
	if (netif_add(&nic, ip, mask, gw, NULL, nic_init, ethernet_input) == NULL)
		return NULL;
	netif_set_default(&nic);
	netif_set_up(&nic);
	return &nic;
}

/* One received frame into a pbuf and up the stack. */
static void input_frame(struct netif *netif, const void *f, uint32_t len)
{
	struct pbuf *p;

	if (len < SIZEOF_ETH_HDR || len > STRATA_NET_FRAME_MAX) {
		strata_netif_dropped++;
		return;
	}
	if ((p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL)) == NULL) {
		strata_netif_dropped++;
		return;
	}
	pbuf_take(p, f, (u16_t)len);
	if (netif->input(p, netif) != ERR_OK) {
		pbuf_free(p);
		strata_netif_dropped++;
	}
}

unsigned strata_netif_input(struct netif *netif)
{
	unsigned n, budget = strata_info()->rx_slots;
	const void *f;
	uint32_t len;

	for (n = 0; n < budget && (f = strata_rx_poll(&len)) != NULL; n++)
		input_frame(netif, f, len);
	return n;
}

void strata_netif_wait(struct netif *netif, uint64_t max_ns)
{
	uint32_t ms = sys_timeouts_sleeptime();
	uint64_t wait_ns = max_ns;

	(void)netif;
	strata_tx_flush();
	if (ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE && (uint64_t)ms * 1000000 < wait_ns)
		wait_ns = (uint64_t)ms * 1000000;
	if (wait_ns == 0)
		return;
	strata_wait(strata_now_ns() + wait_ns);
}

void strata_netif_qemu_addr(ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
	IP4_ADDR(ip, 10, 0, 2, 15);
	IP4_ADDR(mask, 255, 255, 255, 0);
	IP4_ADDR(gw, 10, 0, 2, 2);
}

int strata_netif_addr_arg(const char *arg, ip4_addr_t *ip, ip4_addr_t *mask, ip4_addr_t *gw)
{
	static const char *const names[] = { "ip=", "mask=", "gw=" };
	ip4_addr_t *addrs[] = { ip, mask, gw };

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(names[i]);

		if (strncmp(arg, names[i], n) == 0)
			return ip4addr_aton(arg + n, addrs[i]) != 0 ? 1 : -1;
	}
	return 0;
}
