/*
 * The NIC self-test (layer 0 command line "nettest"), on the first NIC:
 *
 *   raw TX  FRAMES frames of RAW_LEN bytes through net_tx_post_run (layer 0's
 *           "nettest=FRAMES", RAW_FRAMES for a bare "nettest"), as many in
 *           flight as the queue holds, reaped as they complete, timed: the
 *           driver's own rate, with no layer-1 fault in the way.
 *   RX      an ARP request for QEMU user networking's gateway, 10.0.2.2,
 *           and its reply, within ARP_WAIT_MS.  No reply is reported, not
 *           fatal: the NIC may sit on a network without that gateway.
 *
 * Frames live in slot-shaped pages (frame at NET_FRAME_OFFSET), the path the
 * rings use.  The raw frames are broadcast junk of a local-experimental
 * EtherType (IEEE 802 0x88b5), which QEMU's user network drops unread.
 * At the end the NIC is reset, so nothing of the test is left posted, and
 * sends one more frame to show the reset left it working.
 * A failure of the driver's contract panics.
 */
#include "defs.h"
#include "netdev.h"

#define RAW_FRAMES	10000		/* enough to test; a benchmark asks for more */
#define RAW_LEN		60		/* the Ethernet minimum without FCS */
#define TX_PAGES_MAX	257		/* a full 256-entry queue, and one to find it full */
#define RX_PAGES	16
#define ARP_WAIT_MS	1000
#define ARP_RESEND_MS	250
#define STALL_NS	(10ULL * 1000 * 1000 * 1000)

#define ETH_HLEN	14
#define ETHERTYPE_ARP	0x0806
#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_JUNK	0x88b5
#define ARP_LEN		28
#define ARP_REQUEST	1
#define ARP_REPLY	2

static const uint8_t our_ip[4] = { 10, 0, 2, 15 };
static const uint8_t gw_ip[4] = { 10, 0, 2, 2 };

/* One test slot page.  The free TX pages form a stack. */
struct tslot {
	uint64_t pa;
	bool posted;
};

static struct tslot txs[TX_PAGES_MAX], rxs[RX_PAGES];
static struct tslot *tx_free[TX_PAGES_MAX];
static int ntx, ntx_free;
static uint32_t tx_completed, rx_seen;
static struct netdev *dev;
static uint8_t gw_mac[NET_MAC_LEN];
static bool gw_replied;

static uint8_t *frame(const struct tslot *s)
{
	return (uint8_t *)p2v(s->pa) + NET_FRAME_OFFSET;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* An Ethernet header from our MAC to dst (0: broadcast), and the slot's len. */
static uint8_t *eth_header(struct tslot *s, const uint8_t *dst, uint16_t type, uint32_t len)
{
	uint8_t *f = frame(s);

	*(uint32_t *)p2v(s->pa) = len;
	for (int i = 0; i < NET_MAC_LEN; i++)
		f[i] = dst ? dst[i] : 0xff;
	memcpy(f + NET_MAC_LEN, dev->mac, NET_MAC_LEN);
	put16(f + 12, type);
	return f + ETH_HLEN;
}

static void tx_done(void *const *cookies, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		struct tslot *s = cookies[k];

		if (s < txs || s >= txs + ntx || !s->posted)
			panic("nettest: tx_done with a cookie %p that was not posted", cookies[k]);
		s->posted = false;
		tx_free[ntx_free++] = s;
		tx_completed++;
	}
}

/* An ARP reply from the gateway to us is what the RX test waits for. */
static void check_arp(const uint8_t *f, uint32_t len)
{
	const uint8_t *a = f + ETH_HLEN;

	if (len < ETH_HLEN + ARP_LEN || get16(f + 12) != ETHERTYPE_ARP)
		return;
	if (get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 || get16(a + 6) != ARP_REPLY)
		return;
	if (memcmp(a + 14, gw_ip, 4) != 0 || memcmp(a + 24, our_ip, 4) != 0)
		return;
	memcpy(gw_mac, a + 8, NET_MAC_LEN);
	gw_replied = true;
}

/* Every frame is checked against the driver's contract, then its page
 * goes back to the device. */
static void rx_done(void *cookie, uint32_t len)
{
	struct tslot *s = cookie;
	const uint8_t *page;

	if (s < rxs || s >= rxs + RX_PAGES || !s->posted)
		panic("nettest: rx_done with a cookie %p that was not posted", cookie);
	if (len < NET_FRAME_MIN || len > NET_FRAME_MAX)
		panic("nettest: rx_done with a %u-byte frame", len);
	page = p2v(s->pa);
	for (int i = NET_DEV_HDR_OFFSET; i < NET_FRAME_OFFSET; i++)
		if (page[i] != 0)
			panic("nettest: received slot byte %d is %#x, not 0", i, page[i]);
	rx_seen++;
	check_arp(page + NET_FRAME_OFFSET, len);
	if (net_rx_post(dev, s->pa, s) < 0)
		panic("nettest: RX queue full when reposting a buffer it just gave back");
}

static void alloc_slots(struct tslot *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!(s[i].pa = pmm_alloc()))
			panic("nettest: out of memory after %d of %d pages", i, n);
}

static void free_slots(struct tslot *s, int n)
{
	for (int i = 0; i < n; i++)
		pmm_free(s[i].pa);
}

/*
 * Sends from the free stack until it is empty or the queue is full: one
 * run, as a TX doorbell posts its frames, and one notification for it.
 */
static void tx_fill(uint32_t *sent, uint32_t want)
{
	static struct net_frame run[TX_PAGES_MAX];
	uint32_t n = 0, posted;

	while (*sent + n < want && n < (uint32_t)ntx_free) {
		struct tslot *s = tx_free[ntx_free - 1 - n];

		run[n++] = (struct net_frame){ s->pa, *(uint32_t *)p2v(s->pa), s };
	}
	posted = net_tx_post_run(dev, run, n);
	for (uint32_t k = 0; k < posted; k++)
		((struct tslot *)run[k].cookie)->posted = true;
	ntx_free -= (int)posted;
	*sent += posted;
	net_tx_kick(dev);
}

/* Polls once; after STALL_NS without progress the device is hung. */
static void poll_or_stall(uint64_t *last, const char *what)
{
	if (net_poll(dev, tx_done, rx_done) > 0) {
		*last = clock_ns();
		return;
	}
	__asm__ volatile("pause");
	if (clock_ns() - *last > STALL_NS)
		panic("nettest: %s: %s gave nothing back for %lu s", what, dev->name,
		    (unsigned long)(STALL_NS / 1000000000));
}

static void raw_tx(uint32_t frames)
{
	uint32_t sent = 0;
	uint64_t start, last, ns;

	ntx = dev->tx_depth + 1 < TX_PAGES_MAX ? (int)dev->tx_depth + 1 : TX_PAGES_MAX;
	alloc_slots(txs, ntx);
	for (int i = 0; i < ntx; i++) {
		uint8_t *p = eth_header(&txs[i], 0, ETHERTYPE_JUNK, RAW_LEN);
		for (int j = 0; j < RAW_LEN - ETH_HLEN; j++)
			p[j] = (uint8_t)(i + j);
		tx_free[ntx_free++] = &txs[i];
	}
	tx_completed = 0;
	start = last = clock_ns();
	while (tx_completed < frames) {
		tx_fill(&sent, frames);
		poll_or_stall(&last, "raw tx");
	}
	ns = clock_ns() - start;
	if (ns == 0)
		ns = 1;
	kprintf("strata: net raw tx: %u frames of %u bytes in %lu ms = %lu pps\n", frames,
	    RAW_LEN, (unsigned long)(ns / 1000000),
	    (unsigned long)((uint64_t)frames * 1000000000 / ns));
}

/* Who has 10.0.2.2?  Tell 10.0.2.15. */
static void send_arp(void)
{
	uint32_t sent = 0;
	struct tslot *s;
	uint8_t *a;

	if (ntx_free == 0)
		return;
	s = tx_free[ntx_free - 1];
	a = eth_header(s, 0, ETHERTYPE_ARP, RAW_LEN);
	memset(a, 0, RAW_LEN - ETH_HLEN);
	put16(a, 1);				/* Ethernet */
	put16(a + 2, ETHERTYPE_IPV4);
	a[4] = NET_MAC_LEN;
	a[5] = 4;
	put16(a + 6, ARP_REQUEST);
	memcpy(a + 8, dev->mac, NET_MAC_LEN);
	memcpy(a + 14, our_ip, 4);
	memcpy(a + 24, gw_ip, 4);
	tx_fill(&sent, 1);
}

static void arp_rx(void)
{
	uint64_t start, resent, last;
	char mac[NET_MAC_STRLEN];
	int nrx = RX_PAGES < (int)dev->rx_depth ? RX_PAGES : (int)dev->rx_depth;

	alloc_slots(rxs, nrx);
	for (int i = 0; i < nrx; i++) {
		if (net_rx_post(dev, rxs[i].pa, &rxs[i]) < 0)
			panic("nettest: RX queue full after %d of %u buffers", i, dev->rx_depth);
		rxs[i].posted = true;
	}
	start = resent = last = clock_ns();
	send_arp();
	while (!gw_replied && clock_ns() - start < ARP_WAIT_MS * 1000000ULL) {
		if (clock_ns() - resent > ARP_RESEND_MS * 1000000ULL) {
			send_arp();
			resent = clock_ns();
		}
		poll_or_stall(&last, "arp");
	}
	if (gw_replied) {
		net_format_mac(mac, gw_mac);
		kprintf("strata: net rx: ARP reply from 10.0.2.2 (%s) in %lu us, %u frames received\n",
		    mac, (unsigned long)((clock_ns() - start) / 1000), rx_seen);
	} else {
		kprintf("strata: net rx: nothing from 10.0.2.2 within %u ms (%u frames received)\n",
		    ARP_WAIT_MS, rx_seen);
	}
}

static void tx_drain(const char *what)
{
	uint64_t last = clock_ns();

	while (ntx_free < ntx)
		poll_or_stall(&last, what);
}

/* Forgets the RX buffers by a reset, then checks that the NIC still sends. */
static void finish(void)
{
	uint32_t sent = 0;
	int nrx = RX_PAGES < (int)dev->rx_depth ? RX_PAGES : (int)dev->rx_depth;

	tx_drain("drain");
	net_reset(dev);
	for (int i = 0; i < nrx; i++)
		rxs[i].posted = false;
	eth_header(tx_free[ntx_free - 1], 0, ETHERTYPE_JUNK, RAW_LEN);
	tx_fill(&sent, 1);
	tx_drain("send after reset");
	free_slots(txs, ntx);
	free_slots(rxs, nrx);
}

void net_selftest(uint32_t frames)
{
	dev = netdev_get(0);
	if (!dev)
		panic("nettest: no NIC to test");
	raw_tx(frames != 0 ? frames : RAW_FRAMES);
	arp_rx();
	finish();
	kprintf("strata: nettest: %s passed (dropped: %lu runt, %lu oversize; %lu rx errors)\n",
	    dev->name, (unsigned long)dev->rx_dropped_runt, (unsigned long)dev->rx_dropped_oversize,
	    (unsigned long)dev->rx_errors);
}
