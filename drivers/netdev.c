/*
 * The NIC registry and the checks every caller of a NIC shares: a slot is a
 * whole page and a frame fits Ethernet, whatever the driver.
 */
#include "defs.h"
#include "netdev.h"

static struct netdev *devs[NET_MAX_DEVS];
static int ndevs;

int netdev_register(struct netdev *d)
{
	if (ndevs == NET_MAX_DEVS)
		return -1;
	snprintf_(d->name, sizeof(d->name), "net%d", ndevs);
	devs[ndevs] = d;
	return ndevs++;
}

struct netdev *netdev_get(int i)
{
	return i >= 0 && i < ndevs ? devs[i] : 0;
}

int netdev_count(void)
{
	return ndevs;
}

void net_format_mac(char out[NET_MAC_STRLEN], const uint8_t mac[NET_MAC_LEN])
{
	snprintf_(out, NET_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
	    mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* The ring code checks layer 1's frames (V-RING) before they get here, so
 * a bad slot or length is layer 0's own bug: stop rather than send junk. */
static void check_slot(const struct netdev *d, const char *op, uint64_t slot_pa)
{
	if (slot_pa == 0 || slot_pa != PAGE_ROUND_DOWN(slot_pa))
		panic("%s: %s of slot %#lx, which is not a page", d->name, op, (unsigned long)slot_pa);
}

static void check_frame(const struct netdev *d, const struct net_frame *f)
{
	check_slot(d, "tx", f->slot_pa);
	if (f->len < NET_FRAME_MIN || f->len > NET_FRAME_MAX)
		panic("%s: tx of a %u-byte frame (%u..%u allowed)", d->name, f->len,
		    NET_FRAME_MIN, NET_FRAME_MAX);
}

int net_tx_post(struct netdev *d, uint64_t slot_pa, uint32_t len, void *cookie)
{
	struct net_frame f = { slot_pa, len, cookie };

	return net_tx_post_run(d, &f, 1) == 1 ? 0 : -1;
}

uint32_t net_tx_post_run(struct netdev *d, const struct net_frame *f, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		check_frame(d, &f[k]);
	return (uint32_t)d->ops->tx_post(d, f, n);
}

bool net_tx_kick(struct netdev *d)
{
	return d->ops->tx_kick(d);
}

bool net_tx_wake(struct netdev *d, bool on)
{
	return d->ops->tx_wake(d, on);
}

int net_rx_post(struct netdev *d, uint64_t slot_pa, void *cookie)
{
	check_slot(d, "rx", slot_pa);
	return d->ops->rx_post(d, slot_pa, cookie);
}

int net_poll(struct netdev *d, net_tx_done_fn *tx_done, void (*rx_done)(void *cookie, uint32_t len))
{
	return d->ops->poll(d, tx_done, rx_done);
}

void net_reset(struct netdev *d)
{
	d->ops->reset(d);
}
