/*
 * netecho: the echo service (RFC 862) on UDP and TCP port 7 and a counter
 * on UDP port 8 (count.c), over lwIP on the NIC rings.  lwIP itself answers
 * ARP and ICMP echo.  The payload header is header.c's, so that syncecho
 * runs this same program under its own (layer1/syncecho/).
 *
 * Arguments (any order):
 *   ip=A.B.C.D gw=A.B.C.D mask=A.B.C.D   static address (default: QEMU's
 *                                        user network, 10.0.2.15/24 via 10.0.2.2)
 *   dhcp                 ask for an address instead
 *   exit-after=N         exit 0 after N seconds (tests); default: run forever
 *   selftest-ping        ping the gateway once up and print the outcome
 *
 * Prints "netecho: up ADDRESS mac MAC" once it answers.  Exit codes: 0 after
 * exit-after, 2 for bad arguments, 3 without a NIC.
 */
#include <strata.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/dhcp.h"
#include "lwip/timeouts.h"

#include "strata_netif.h"
#include "netecho.h"

/* The longest sleep between two looks at the clock (exit-after, ping). */
#define WAIT_MAX_NS	(100 * 1000000ULL)

struct config {
	ip4_addr_t ip, mask, gw;
	bool dhcp;
	bool ping;
	uint64_t exit_after_s;	/* 0: never */
};

static struct config cfg;

/* Reads one of netecho's own arguments; false if a is none, or malformed. */
static bool own_arg(const char *a, struct config *c)
{
	if (strcmp(a, "dhcp") == 0)
		c->dhcp = true;
	else if (strcmp(a, "selftest-ping") == 0)
		c->ping = true;
	else if (strncmp(a, "exit-after=", 11) == 0)
		return strata_parse_u64(a + 11, 10, &c->exit_after_s);
	else
		return false;
	return true;
}

/* Fills c from argv; false (after saying why) on a bad argument. */
static bool parse_args(int argc, char **argv, struct config *c)
{
	strata_netif_qemu_addr(&c->ip, &c->mask, &c->gw);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int addr = strata_netif_addr_arg(a, &c->ip, &c->mask, &c->gw);

		if (addr < 0 || (addr == 0 && !own_arg(a, c))) {
			strata_printf("netecho: bad argument: %s\n", a);
			return false;
		}
	}
	if (c->dhcp) {
		ip4_addr_set_zero(&c->ip);
		ip4_addr_set_zero(&c->mask);
		ip4_addr_set_zero(&c->gw);
	}
	return true;
}

static void say_up(struct netif *netif)
{
	const uint8_t *m = netif->hwaddr;
	char ip[IP4ADDR_STRLEN_MAX];

	ip4addr_ntoa_r(netif_ip4_addr(netif), ip, sizeof ip);
	strata_printf("netecho: up %s mac %02x:%02x:%02x:%02x:%02x:%02x\n", ip,
	    m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The address is there: say so, and start the ping self-test if asked. */
static void up(struct netif *netif)
{
	say_up(netif);
	if (cfg.ping)
		ping_start(netif_ip4_gw(netif));
}

/* DHCP's address arrives through here; a static one is there from the start. */
static void status_changed(struct netif *netif)
{
	if (!ip4_addr_isany_val(*netif_ip4_addr(netif)))
		up(netif);
}

int main(int argc, char **argv)
{
	struct netif *netif;
	uint64_t end = 0;

	if (!parse_args(argc, argv, &cfg))
		return 2;
	lwip_init();
	if ((netif = strata_netif_add(&cfg.ip, &cfg.mask, &cfg.gw)) == NULL) {
		strata_puts("netecho: no NIC rings granted (does the machine have a NIC?)");
		return 3;
	}
	echo_start();
	count_start();
	netif_set_status_callback(netif, status_changed);
	if (cfg.dhcp)
		dhcp_start(netif);
	else
		up(netif);
	if (cfg.exit_after_s != 0)
		end = strata_now_ns() + cfg.exit_after_s * 1000000000ULL;
	for (;;) {
		strata_netif_input(netif);
		sys_check_timeouts();
		if (end != 0 && strata_now_ns() >= end)
			break;
		strata_netif_wait(netif, WAIT_MAX_NS);
	}
	strata_tx_flush();
	strata_printf("netecho: exit after %llus, %lu frames dropped\n",
	    (unsigned long long)cfg.exit_after_s, strata_netif_dropped);
	return 0;
}
