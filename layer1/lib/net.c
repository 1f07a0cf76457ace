/*
 * The NIC rings (abi/strata/net.h): Ethernet frames out through the TX ring
 * and in through the RX ring, one frame a slot, and the wait trap.
 *
 * TX is the console's sending side (txring.c) used one frame a slot: a
 * frame is written in place in the next slot, committed, and any number of
 * committed frames go to layer 0 with one doorbell at strata_tx_flush().
 *
 * RX is the mirror: frames arrive in slot order, so frame number k since
 * boot is in slot k mod rx_slots, and info->rx_delivered tells without a
 * fault whether frame k has arrived.  Consumed slots are given back in
 * batches, one doorbell for many, but never later than before a wait: layer
 * 0 cannot deliver into slots layer 1 still holds.
 */
#include "runtime.h"

static struct txring tx;
static bool ready;

/* Layer 1's view of the RX ring. */
static struct {
	uint32_t nslots;	/* as granted; 0: no ring */
	uint64_t seen;		/* frames consumed since the start */
	uint64_t base;		/* seen when info->rx_delivered last counted from 0 */
	uint32_t held;		/* consumed and not yet given back */
	uint64_t resumes;	/* the info->resumes this view is in step with */
} rx;

/*
 * After a resume (doc/abi.md, "Checkpoints and resume"), layer 0 has posted
 * every RX slot again, from the first one held at the checkpoint, and
 * counts rx_delivered from 0: the frames held then are gone, and the next
 * frame lands where the first of them was.  Called before every use of the
 * ring, so a doorbell never covers a slot layer 0 took back.
 */
static void rx_resync(void)
{
	const struct strata_info *info = strata_info();

	if (info->resumes == rx.resumes)
		return;
	rx.resumes = info->resumes;
	rx.seen -= rx.held;
	rx.held = 0;
	rx.base = rx.seen;
}

/* Frames delivered since the start, on the count of rx.seen. */
static uint64_t rx_delivered(void)
{
	return rx.base + strata_info()->rx_delivered;
}

static void net_init(void)
{
	const struct strata_info *info = strata_info();

	txring_init(&tx, STRATA_NIC_TX_BASE, info->tx_slots);
	rx.nslots = info->rx_slots;
	rx.resumes = info->resumes;
	ready = true;
}

static struct strata_slot *rx_slot(uint64_t k)
{
	return (struct strata_slot *)(uintptr_t)STRATA_SLOT_ADDR(STRATA_NIC_RX_BASE,
	    k % rx.nslots);
}

void *strata_tx_frame(void)
{
	if (!ready)
		net_init();
	if (tx.nslots == 0)
		return NULL;
	/*
	 * The slot is opened only at commit: until then nothing about it is
	 * promised to layer 0, and the caller's first store into it is what
	 * blocks if layer 0 still holds it.
	 */
	return ((struct strata_slot *)(uintptr_t)STRATA_SLOT_ADDR(tx.base, tx.cur))->data;
}

void strata_tx_commit(uint32_t len)
{
	struct strata_slot *s;

	if (len == 0 || tx.nslots == 0)
		return;
	/* May ring the batch before it, never this slot: cur stays the same. */
	s = txring_slot(&tx);
	s->len = len;
	txring_close(&tx);
}

void strata_tx_flush(void)
{
	if (tx.nslots != 0)
		txring_ring(&tx);
}

void strata_rx_release(void)
{
	uint64_t v, addr;

	rx_resync();
	if (rx.held == 0)
		return;
	addr = STRATA_DOORBELL_ADDR(STRATA_NIC_RX_BASE, (rx.seen - 1) % rx.nslots);
	/* "memory": the frames' bytes must all be read before layer 0 reposts. */
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	(void)v;
	rx.held = 0;
}

const void *strata_rx_poll(uint32_t *len)
{
	const struct strata_slot *s;

	if (!ready)
		net_init();
	rx_resync();
	if (rx.nslots == 0 || rx_delivered() == rx.seen)
		return NULL;
	/* The slot is read only after the count said it was delivered. */
	__asm__ volatile("" : : : "memory");
	/*
	 * The frame returned last is done with now.  Giving back at half the
	 * ring keeps the other half posted to the device while this one is
	 * read.
	 */
	do {
		if (rx.held >= (rx.nslots + 1) / 2)
			strata_rx_release();
		s = rx_slot(rx.seen);
		rx.seen++;
		rx.held++;
		*len = s->len <= STRATA_SLOT_DATA_MAX ? s->len : 0;
		/* len 0: layer 0 dropped a bad frame in this slot; skip it. */
	} while (*len == 0 && rx_delivered() != rx.seen);
	return *len != 0 ? s->data : NULL;
}

const void *strata_rx_frame(uint32_t *len, uint64_t deadline_ns)
{
	const void *f;

	while ((f = strata_rx_poll(len)) == NULL) {
		if (deadline_ns != 0 && strata_now_ns() >= deadline_ns)
			return NULL;
		strata_wait(deadline_ns);
	}
	return f;
}

int strata_wait(uint64_t deadline_ns)
{
	uint64_t r;

	if (!ready)
		net_init();
	strata_rx_release();
	__asm__ volatile("int %1" : "=a"(r) : "i"(STRATA_TRAP_WAIT), "D"(deadline_ns),
	    "S"(rx.seen - rx.base) : "memory");
	return r == STRATA_WAIT_RX ? STRATA_WAIT_RX : STRATA_WAIT_TIMEOUT;
}
