/*
 * The ping self-test: ICMP echo requests to the gateway through a raw pcb,
 * and the matching reply printed with its round trip.  QEMU's user network
 * cannot send the guest an ICMP echo from the host, but its gateway answers
 * one from the guest, which proves the same path: ARP, IPv4 and ICMP both
 * ways through the rings.
 */
#include <strata.h>

#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/timeouts.h"

#include "netecho.h"

#define PING_ID		0x5354		/* "ST": tells our replies from others' */
#define PING_TRIES	5
#define PING_DATA	32		/* payload bytes, as ping's default 56 is arbitrary too */
#define PING_RESEND_MS	1000

static struct raw_pcb *pcb;
static ip_addr_t target;
static u16_t seq;
static uint64_t sent_ns;
static bool answered;

static u8_t ping_recv(void *arg, struct raw_pcb *raw, struct pbuf *p, const ip_addr_t *from)
{
	const struct ip_hdr *iph = p->payload;
	struct icmp_echo_hdr echo;
	u16_t hlen = IPH_HL_BYTES(iph);
	char ip[IP4ADDR_STRLEN_MAX];

	(void)arg;
	(void)raw;
	if (p->tot_len < hlen + sizeof echo ||
	    pbuf_copy_partial(p, &echo, sizeof echo, hlen) != sizeof echo)
		return 0;
	if (echo.type != ICMP_ER || echo.id != PP_HTONS(PING_ID) || echo.seqno != lwip_htons(seq))
		return 0;
	answered = true;
	ip4addr_ntoa_r(ip_2_ip4(from), ip, sizeof ip);
	strata_printf("netecho: ping %s reply seq %u bytes %u time %llu us\n", ip, seq,
	    (unsigned)(p->tot_len - hlen), (unsigned long long)((strata_now_ns() - sent_ns) / 1000));
	pbuf_free(p);
	return 1;
}

/* One echo request; then again each second until answered or PING_TRIES. */
static void ping_send(void *arg)
{
	struct icmp_echo_hdr *echo;
	struct pbuf *p;
	char ip[IP4ADDR_STRLEN_MAX];

	(void)arg;
	if (answered)
		return;
	if (seq == PING_TRIES) {
		ip4addr_ntoa_r(ip_2_ip4(&target), ip, sizeof ip);
		strata_printf("netecho: ping %s no reply to %u requests\n", ip, seq);
		return;
	}
	seq++;
	p = pbuf_alloc(PBUF_IP, sizeof *echo + PING_DATA, PBUF_RAM);
	if (p != NULL) {
		echo = p->payload;
		ICMPH_TYPE_SET(echo, ICMP_ECHO);
		ICMPH_CODE_SET(echo, 0);
		echo->chksum = 0;
		echo->id = PP_HTONS(PING_ID);
		echo->seqno = lwip_htons(seq);
		for (int i = 0; i < PING_DATA; i++)
			((u8_t *)(echo + 1))[i] = (u8_t)i;
		echo->chksum = inet_chksum(echo, p->len);
		sent_ns = strata_now_ns();
		raw_sendto(pcb, p, &target);
		pbuf_free(p);
	}
	sys_timeout(PING_RESEND_MS, ping_send, NULL);
}

void ping_start(const ip4_addr_t *to)
{
	if (pcb != NULL || (pcb = raw_new(IP_PROTO_ICMP)) == NULL)
		return;
	ip_addr_copy_from_ip4(target, *to);
	raw_recv(pcb, ping_recv, NULL);
	raw_bind(pcb, IP_ADDR_ANY);
	ping_send(NULL);
}
