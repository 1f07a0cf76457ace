/*
 * The counter on UDP port 8: every datagram adds one to a 64-bit counter
 * and is answered with the new value (8 bytes, little-endian) followed by
 * the datagram's own bytes, so a client tells its replies apart.  With a
 * disk the counter lives in the first page of the free area, where a
 * checkpoint takes it and a resume brings it back; without one, in .bss.
 *
 * The service holds no durability code.  Under syncecho's header
 * (STRATA_PAYLOAD_EXTSYNC) a reply leaves the machine only once the count
 * it carries is durable, so a client never sees a value that a crash takes
 * back: after any cut the next reply is above every one it has seen
 * (tests/integration/extsync.sh).
 */
#include <strata.h>

#include "lwip/pbuf.h"
#include "lwip/udp.h"

#include "netecho.h"

#define COUNT_PORT	8
#define COUNT_BYTES	8
#define DGRAM_MAX	1472	/* a reply that fits one Ethernet frame */

static uint64_t count_in_ram;
static uint64_t *count;

static void count_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p,
    const ip_addr_t *addr, u16_t port)
{
	u16_t n = p->tot_len < DGRAM_MAX - COUNT_BYTES ? p->tot_len : DGRAM_MAX - COUNT_BYTES;
	struct pbuf *r = pbuf_alloc(PBUF_TRANSPORT, (u16_t)(COUNT_BYTES + n), PBUF_RAM);
	uint64_t v = ++*count;

	(void)arg;
	if (r != NULL) {
		memcpy(r->payload, &v, COUNT_BYTES);	/* x86-64: little-endian */
		pbuf_copy_partial(p, (uint8_t *)r->payload + COUNT_BYTES, n, 0);
		udp_sendto(pcb, r, addr, port);
		pbuf_free(r);
	}
	pbuf_free(p);
}

void count_start(void)
{
	const struct strata_info *in = strata_info();
	struct udp_pcb *u = udp_new();

	LWIP_ASSERT("count: no pcb", u != NULL);
	count = in->disk_bytes != 0 ? (uint64_t *)in->image_end : &count_in_ram;
	udp_bind(u, IP4_ADDR_ANY, COUNT_PORT);
	udp_recv(u, count_recv, NULL);
}
