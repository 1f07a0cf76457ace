/*
 * rawnet: the NIC rings of abi/strata/net.h driven by hand, slot by slot and
 * doorbell by doorbell, to test layer 0's side of them and to time the fault
 * interface.  The first word of the command line is the mode:
 *
 *   arp            ARP request for 10.0.2.2 (QEMU's user-net gateway), wait
 *                  for the reply with the wait trap, print it
 *   wait-timeout   a wait with nothing to receive returns at its deadline
 *   batch N        N frames written back to back, one doorbell
 *   full-batch     a frame alone, then a batch of the whole TX ring, which
 *                  ends on the slot rung last
 *   rx-full        every RX slot delivered and held while more frames
 *                  arrive, then the whole ring given back with one doorbell
 *                  on the slot given back last: the frames that waited
 *                  arrive and none is dropped
 *   wrap           3 laps of the TX ring: wrapping onto held slots blocks
 *   pps N [M]      N frames batched (one doorbell per half ring) and M
 *                  (default N) frames one doorbell each: frames per second
 *                  of both
 *   tx-runt        a 10-byte frame (V-RING)
 *   tx-rmw         a read-modify-write of a TX doorbell (V-RING)
 *   two-doorbells  one instruction (cmpsq) reading two TX doorbells (V-RING)
 *   rx-early       the RX doorbell of a slot with no frame yet (V-RING)
 */
#include <strata.h>

#define TX_SLOTS	256
#define RX_SLOTS	64

STRATA_PAYLOAD_NET("rawnet", 0, 0, TX_SLOTS, RX_SLOTS);

static uint32_t tx_next, rx_next;
static uint64_t rx_seen;

static volatile struct strata_slot *tx_slot(uint32_t i)
{
	return (volatile struct strata_slot *)STRATA_SLOT_ADDR(STRATA_NIC_TX_BASE, i);
}

static volatile struct strata_slot *rx_slot(uint32_t i)
{
	return (volatile struct strata_slot *)STRATA_SLOT_ADDR(STRATA_NIC_RX_BASE, i);
}

static void ring_doorbell(uint64_t base, uint32_t i)
{
	(void)*(volatile uint64_t *)STRATA_DOORBELL_ADDR(base, i);
}

static uint64_t wait_rx(uint64_t deadline)
{
	uint64_t rax;

	__asm__ volatile("int %1" : "=a"(rax) : "i"(STRATA_TRAP_WAIT), "D"(deadline), "S"(rx_seen)
	    : "memory");
	return rax;
}

/* An ARP request from 10.0.2.15 for 10.0.2.2, or junk of a type nobody reads. */
static uint32_t build_frame(volatile uint8_t *f, bool arp)
{
	static const uint8_t req[42 - 12] = {
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 15,		/* sender MAC (filled below), IP */
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,		/* target */
	};
	const uint8_t *mac = strata_info()->mac;

	for (int k = 0; k < 6; k++) {
		f[k] = 0xff;
		f[6 + k] = mac[k];
	}
	for (uint32_t k = 0; k < sizeof(req); k++)
		f[12 + k] = req[k];
	for (int k = 0; k < 6; k++)
		f[22 + k] = mac[k];
	if (!arp) {
		f[12] = 0x88;		/* local experimental EtherType: dropped by QEMU */
		f[13] = 0xb5;
	}
	return 60;
}

/* Writes one frame into the next TX slot (blocking while layer 0 holds it). */
static uint32_t tx_put(bool arp)
{
	volatile struct strata_slot *s = tx_slot(tx_next);
	uint32_t i = tx_next;

	s->len = build_frame((volatile uint8_t *)s->data, arp);
	tx_next = (tx_next + 1) % strata_info()->tx_slots;
	return i;
}

static int fail(const char *what)
{
	strata_printf("rawnet: FAILED: %s\n", what);
	return 1;
}

static int mode_arp(void)
{
	uint64_t deadline = strata_now_ns() + 2000000000ULL;

	for (int tries = 0; tries < 4; tries++) {
		ring_doorbell(STRATA_NIC_TX_BASE, tx_put(true));
		while (wait_rx(strata_now_ns() + 500000000ULL) == STRATA_WAIT_RX) {
			volatile struct strata_slot *s = rx_slot(rx_next);
			volatile uint8_t *f = s->data;
			uint32_t i = rx_next;

			rx_seen++;
			rx_next = (rx_next + 1) % strata_info()->rx_slots;
			if (s->len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2) {
				strata_printf("rawnet: ARP reply from %u.%u.%u.%u is %02x:%02x:%02x:%02x:%02x:%02x\n",
				    f[28], f[29], f[30], f[31], f[22], f[23], f[24], f[25], f[26], f[27]);
				ring_doorbell(STRATA_NIC_RX_BASE, i);	/* give the slot back */
				return 0;
			}
			ring_doorbell(STRATA_NIC_RX_BASE, i);
		}
		if (strata_now_ns() > deadline)
			break;
	}
	return fail("no ARP reply from 10.0.2.2");
}

static int mode_wait_timeout(void)
{
	uint64_t t0 = strata_now_ns();

	if (wait_rx(t0 + 50000000ULL) != STRATA_WAIT_TIMEOUT)
		return fail("the wait returned without its deadline passing");
	if (strata_now_ns() - t0 < 50000000ULL)
		return fail("the wait returned before its deadline");
	strata_printf("rawnet: wait-timeout ok after %llu ms\n",
	    (unsigned long long)((strata_now_ns() - t0) / 1000000));
	return 0;
}

/*
 * Waits until layer 0 says every frame handed over has been sent; false if
 * tx_sent stops moving for a second first (frames lost by a doorbell).
 */
static bool drain(uint64_t sent_before, uint64_t n)
{
	uint64_t last = strata_info()->tx_sent, t = strata_now_ns();

	while (strata_info()->tx_sent < sent_before + n) {
		wait_rx(strata_now_ns() + 1000000ULL);	/* each trap polls the NIC */
		if (strata_info()->tx_sent != last) {
			last = strata_info()->tx_sent;
			t = strata_now_ns();
		} else if (strata_now_ns() - t > 1000000000ULL) {
			strata_printf("rawnet: FAILED: tx_sent stays at %llu, %llu frames short\n",
			    (unsigned long long)last, (unsigned long long)(sent_before + n - last));
			return false;
		}
	}
	return true;
}

static int mode_batch(uint64_t n)
{
	uint64_t sent = strata_info()->tx_sent;
	uint32_t last = 0;

	if (n == 0 || n >= strata_info()->tx_slots)
		return fail("batch: N must be 1 to tx_slots - 1");
	for (uint64_t k = 0; k < n; k++)
		last = tx_put(false);
	ring_doorbell(STRATA_NIC_TX_BASE, last);
	if (!drain(sent, n))
		return 1;
	strata_printf("rawnet: batch of %llu frames sent\n", (unsigned long long)n);
	return 0;
}

static int mode_full_batch(void)
{
	uint32_t slots = strata_info()->tx_slots, last = 0;
	uint64_t sent = strata_info()->tx_sent;

	ring_doorbell(STRATA_NIC_TX_BASE, tx_put(false));
	if (!drain(sent, 1))
		return 1;
	for (uint32_t k = 0; k < slots; k++)
		last = tx_put(false);
	ring_doorbell(STRATA_NIC_TX_BASE, last);	/* slot 0 again */
	if (!drain(sent + 1, slots))
		return 1;
	strata_printf("rawnet: full batch of %u frames sent\n", slots);
	return 0;
}

/* Waits until n frames past rx_seen have been delivered; false at the deadline. */
static bool rx_wait_for(uint64_t n, uint64_t deadline)
{
	while (strata_info()->rx_delivered - rx_seen < n)
		if (wait_rx(deadline) == STRATA_WAIT_TIMEOUT)
			return false;
	return true;
}

/* Reads the len of the next n delivered slots (layer 1 has seen them). */
static uint32_t rx_consume(uint64_t n)
{
	uint32_t last = rx_next;

	for (uint64_t k = 0; k < n; k++) {
		last = rx_next;
		(void)rx_slot(last)->len;
		rx_next = (rx_next + 1) % strata_info()->rx_slots;
		rx_seen++;
	}
	return last;
}

/* Sends n ARP requests to the gateway, each answered by one reply. */
static bool arp_requests(uint64_t n)
{
	uint64_t sent = strata_info()->tx_sent;
	uint32_t last = 0;

	for (uint64_t k = 0; k < n; k++)
		last = tx_put(true);
	ring_doorbell(STRATA_NIC_TX_BASE, last);
	return drain(sent, n);
}

#define RX_EXTRA	8	/* frames that must wait in the device */

static int mode_rx_full(void)
{
	uint32_t slots = strata_info()->rx_slots;
	uint64_t dropped = strata_info()->rx_dropped, start;

	/* One reply taken and given back alone: slot 0 is the one given back last. */
	if (!arp_requests(1) || !rx_wait_for(1, strata_now_ns() + 2000000000ULL))
		return fail("no ARP reply from 10.0.2.2");
	ring_doorbell(STRATA_NIC_RX_BASE, rx_consume(1));
	/* Every slot filled and held, and more replies behind them. */
	if (!arp_requests(slots + RX_EXTRA) ||
	    !rx_wait_for(slots, strata_now_ns() + 5000000000ULL))
		return fail("the RX ring did not fill");
	start = strata_now_ns();
	while (strata_now_ns() - start < 200000000ULL)
		wait_rx(start + 200000000ULL);
	if (strata_info()->rx_dropped != dropped)
		return fail("frames were dropped while every RX slot was held");
	ring_doorbell(STRATA_NIC_RX_BASE, rx_consume(slots));	/* slot 0 again */
	if (!rx_wait_for(RX_EXTRA, strata_now_ns() + 2000000000ULL))
		return fail("no frame arrived after the whole RX ring was given back");
	if (strata_info()->rx_dropped != dropped)
		return fail("frames were dropped after the RX ring was given back");
	strata_printf("rawnet: rx-full: %u slots given back at once, %u frames waited, none dropped\n",
	    slots, RX_EXTRA);
	return 0;
}

static int mode_wrap(void)
{
	uint32_t slots = strata_info()->tx_slots;
	uint64_t sent = strata_info()->tx_sent;

	/* Half a ring per doorbell: the next batch wraps onto slots still held. */
	for (uint32_t k = 0; k < 3 * slots; k++) {
		uint32_t i = tx_put(false);

		if ((k + 1) % (slots / 2) == 0)
			ring_doorbell(STRATA_NIC_TX_BASE, i);
	}
	if (!drain(sent, 3 * slots))
		return 1;
	strata_printf("rawnet: wrap: %u frames through %u slots\n", 3 * slots, slots);
	return 0;
}

/*
 * The same frame n times, per_doorbell frames per doorbell.  The frames are
 * written into every slot beforehand and only len is set per send, as layer
 * 0's own test sends prepared frames: the figure is the rings' cost, not
 * the cost of building frames.
 */
static uint64_t send_frames(uint64_t n, uint32_t per_doorbell)
{
	uint32_t slots = strata_info()->tx_slots;
	uint64_t sent = strata_info()->tx_sent, t0 = strata_now_ns();

	for (uint64_t k = 0; k < n; k++) {
		uint32_t i = tx_next;

		tx_slot(i)->len = 60;
		tx_next = (tx_next + 1) % slots;
		if ((k + 1) % per_doorbell == 0 || k + 1 == n)
			ring_doorbell(STRATA_NIC_TX_BASE, i);
	}
	if (!drain(sent, n))
		return 0;
	return n * 1000000000ULL / (strata_now_ns() - t0);
}

static int mode_pps(uint64_t n, uint64_t m)
{
	for (uint32_t i = 0; i < strata_info()->tx_slots; i++)
		build_frame((volatile uint8_t *)tx_slot(i)->data, false);
	uint64_t batched = send_frames(n, strata_info()->tx_slots / 2);
	uint64_t single = send_frames(m, 1);

	if (batched == 0 || single == 0)
		return 1;

	strata_printf("rawnet: pps batched %llu single %llu (%llu and %llu frames of 60 bytes)\n",
	    (unsigned long long)batched, (unsigned long long)single, (unsigned long long)n,
	    (unsigned long long)m);
	return 0;
}

int main(int argc, char **argv)
{
	const struct strata_info *in = strata_info();
	uint64_t n = 0, m = 0;

	if (in->tx_slots == 0 || in->rx_slots == 0) {
		strata_puts("rawnet: no NIC rings (boot with a NIC)");
		return 2;
	}
	if (argc < 2)
		return fail("usage: rawnet arp|wait-timeout|batch N|full-batch|rx-full|wrap|pps N [M]|"
		    "tx-runt|tx-rmw|two-doorbells|rx-early");
	if (argc > 2 && !strata_parse_u64(argv[2], 0, &n))
		return fail("N is not a number");
	if (argc > 3 && !strata_parse_u64(argv[3], 0, &m))
		return fail("M is not a number");
	if (strcmp(argv[1], "arp") == 0)
		return mode_arp();
	if (strcmp(argv[1], "wait-timeout") == 0)
		return mode_wait_timeout();
	if (strcmp(argv[1], "batch") == 0)
		return mode_batch(n);
	if (strcmp(argv[1], "full-batch") == 0)
		return mode_full_batch();
	if (strcmp(argv[1], "rx-full") == 0)
		return mode_rx_full();
	if (strcmp(argv[1], "wrap") == 0)
		return mode_wrap();
	if (strcmp(argv[1], "pps") == 0) {
		n = n ? n : 20000;
		return mode_pps(n, m ? m : n);
	}
	if (strcmp(argv[1], "tx-runt") == 0) {
		tx_slot(0)->len = 10;
		ring_doorbell(STRATA_NIC_TX_BASE, 0);
		return fail("a 10-byte frame was accepted");
	}
	if (strcmp(argv[1], "tx-rmw") == 0) {
		uint64_t addr = STRATA_DOORBELL_ADDR(STRATA_NIC_TX_BASE, tx_put(false));

		__asm__ volatile("addq $1, (%0)" : : "r"(addr) : "memory");
		return fail("a read-modify-write of a doorbell was accepted");
	}
	if (strcmp(argv[1], "two-doorbells") == 0) {
		uint64_t a = STRATA_DOORBELL_ADDR(STRATA_NIC_TX_BASE, tx_put(false));
		uint64_t b = STRATA_DOORBELL_ADDR(STRATA_NIC_TX_BASE, tx_put(false));

		__asm__ volatile("cmpsq" : "+S"(a), "+D"(b) : : "cc", "memory");
		return fail("one instruction reading two doorbells was accepted");
	}
	if (strcmp(argv[1], "rx-early") == 0) {
		/* Slot in->rx_slots - 1 cannot hold a frame yet: nothing was sent. */
		ring_doorbell(STRATA_NIC_RX_BASE, in->rx_slots - 1);
		return fail("an RX doorbell over an empty slot was accepted");
	}
	return fail("unknown mode");
}
