/*
 * tinyring: every ring at its smallest, one slot each (doc/abi.md, "Rings").
 * On a one-slot ring every doorbell is on the slot rung last, so this is
 * the payload that fails if layer 0 ever ignores such a doorbell: lines
 * that print only at exit or never, frames that are never sent, an RX slot
 * that is never posted again.  It uses the runtime as any payload would:
 * printed lines, ARP requests to QEMU's user-net gateway (10.0.2.2) and
 * their replies.  Exits 0 after "tinyring: ok", 1 after a "FAILED" line,
 * 2 without a NIC.
 */
#include <strata.h>

STRATA_PAYLOAD_NET("tinyring", 0, 1, 1, 1);

#define LINES		20
#define ROUND_TRIPS	20
#define SECOND		1000000000ULL

/* Writes an ARP request from 10.0.2.15 for 10.0.2.2 into f; its length. */
static uint32_t arp_request(uint8_t *f)
{
	static const uint8_t arp[] = {
		0x08, 0x06,			/* EtherType ARP */
		0x00, 0x01, 0x08, 0x00, 6, 4,	/* Ethernet, IPv4 */
		0x00, 0x01,			/* request */
	};
	static const uint8_t sender_ip[] = { 10, 0, 2, 15 }, target_ip[] = { 10, 0, 2, 2 };
	const uint8_t *mac = strata_info()->mac;

	memset(f, 0xff, 6);			/* broadcast */
	memcpy(f + 6, mac, 6);
	memcpy(f + 12, arp, sizeof arp);
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, sender_ip, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, target_ip, 4);
	memset(f + 42, 0, 60 - 42);		/* padded to the Ethernet minimum */
	return 60;
}

static bool is_arp_reply(const uint8_t *f, uint32_t len)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2;
}

static int fail(const char *what, unsigned n)
{
	strata_printf("tinyring: FAILED: %s (%u)\n", what, n);
	return 1;
}

/* One ARP request out, its reply in, each through the ring's only slot. */
static bool round_trip(void)
{
	uint64_t deadline = strata_now_ns() + 2 * SECOND;
	const uint8_t *f;
	uint32_t len;

	strata_tx_commit(arp_request(strata_tx_frame()));
	strata_tx_flush();
	while ((f = strata_rx_frame(&len, deadline)) != NULL)
		if (is_arp_reply(f, len))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	uint64_t sent = in->tx_sent;

	(void)argc;
	(void)argv;
	/* Each line is its own doorbell on console slot 0. */
	for (unsigned k = 0; k < LINES; k++)
		strata_printf("tinyring: line %u\n", k);
	if (in->tx_slots == 0 || in->rx_slots == 0) {
		strata_puts("tinyring: no NIC rings (boot with a NIC)");
		return 2;
	}
	for (unsigned k = 0; k < ROUND_TRIPS; k++)
		if (!round_trip())
			return fail("no ARP reply through the one RX slot, round trip", k);
	if (in->tx_sent != sent + ROUND_TRIPS)
		return fail("frames sent through the one TX slot", (unsigned)(in->tx_sent - sent));
	strata_printf("tinyring: ok: %u lines, %u ARP round trips, one slot a ring\n", LINES,
	    ROUND_TRIPS);
	return 0;
}
