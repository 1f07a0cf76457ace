/*
 * The NIC rings of abi/strata/net.h over the first network device.
 *
 * Both rings are struct ring (ring.c).  A TX doorbell hands each frame's slot
 * page to the device in place and holds it until the device has sent it; an
 * RX slot page is posted to the device and held until a frame lands in it,
 * then delivered to layer 1 in slot order; an RX doorbell posts consumed
 * slots again.  The device is polled at every fault in the NIC rings, in the
 * wait trap and at every timer tick, so frames flow even while layer 1
 * computes.  A frame that finds no slot posted waits in the device: nothing
 * here drops one for want of a slot.
 *
 * External synchrony (STRATA_PAYLOAD_EXTSYNC, with a disk): a TX doorbell
 * does not give its frames to the device.  It asks the checkpointer for the
 * number of a checkpoint that covers them (checkpoint_cover) and holds them,
 * their slots not present like those of queued frames, until that
 * checkpoint is durable; nic_covered() then sends them, in ring order.
 * Nothing here waits for a checkpoint: a payload that wraps onto a held
 * slot blocks on it as on any held slot.
 */
#include "defs.h"
#include "checkpoint.h"
#include "layer1.h"
#include "netdev.h"
#include "nic.h"
#include "profile.h"
#include "strata/abi.h"

/* Slot numbers in the order they go to the device. */
struct slotq {
	uint32_t slot[STRATA_RING_SLOTS_MAX];
	uint32_t head, len;
};

static struct netdev *nic;
static uint32_t rx_filled[STRATA_RING_SLOTS_MAX];	/* frame length + 1, not yet delivered */
static uint32_t rx_next;		/* the slot to deliver next */
static struct slotq rx_backlog;		/* RX slots the device had no room for */
static bool extsync;			/* TX frames wait for their checkpoint */
static struct slotq tx_held;		/* TX frames waiting for it (or for room in the device) */
static uint32_t held_unnumbered;	/* the last ones of tx_held, taken by the doorbell now ringing */
static uint64_t held_seq[STRATA_RING_SLOTS_MAX];	/* the checkpoint each held slot waits for */
static uint32_t held_len[STRATA_RING_SLOTS_MAX];	/* and its frame's length (ring.c clears the slot's) */
static uint32_t sent_slot[STRATA_RING_SLOTS_MAX];	/* slots of frames a poll found sent, to give back */
static uint32_t nsent;
static uint32_t tx_in_device;		/* frames posted to the device, not yet sent */
static uint64_t held_at[STRATA_RING_SLOTS_MAX];	/* when its doorbell took it (profile.h) */
static uint64_t rx_seen_at;		/* when the wait trap last returned a frame (profile.h) */

static void slotq_push(struct slotq *q, uint32_t i)
{
	q->slot[(q->head + q->len) % STRATA_RING_SLOTS_MAX] = i;
	q->len++;
}

/* The k-th slot of q from its head. */
static uint32_t slotq_at(const struct slotq *q, uint32_t k)
{
	return q->slot[(q->head + k) % STRATA_RING_SLOTS_MAX];
}

static void slotq_pop(struct slotq *q)
{
	q->head = (q->head + 1) % STRATA_RING_SLOTS_MAX;
	q->len--;
}

static void *cookie_of(uint32_t i) { return (void *)(uintptr_t)(i + 1); }
static uint32_t slot_of(void *cookie) { return (uint32_t)((uintptr_t)cookie - 1); }

/*
 * A frame sent: its slot goes back once the poll is over, with the others
 * (tx_give_back), rather than in the middle of reaping them.  A slot is in
 * the device once at most, so a poll finds at most nslots of them.
 */
static void tx_done(void *const *cookies, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		sent_slot[nsent++] = slot_of(cookies[k]);
	tx_in_device -= n;
}

/* Frame i to the device: 0, or -1 if its queue is full. */
static int tx_post(uint32_t i, uint32_t len)
{
	if (net_tx_post(nic, l1.tx.slot[i].pa, len, cookie_of(i)) < 0)
		return -1;
	tx_in_device++;
	return 0;
}

static void tx_give_back(void)
{
	uint64_t t0;

	if (nsent == 0)
		return;
	t0 = prof_begin();
	ring_release_many(&l1.tx, sent_slot, nsent);
	l1.info->tx_sent += nsent;
	prof_end_n(PROF_TX_GIVE, t0, nsent);
	nsent = 0;
}

/* Frames are delivered in slot order even if the device completes them out of order. */
static void rx_done(void *cookie, uint32_t len)
{
	rx_filled[slot_of(cookie)] = len + 1;
	while (rx_filled[rx_next] != 0) {
		ring_deliver(&l1.rx, rx_next, rx_filled[rx_next] - 1);
		rx_filled[rx_next] = 0;
		rx_next = rx_next + 1 == l1.rx.nslots ? 0 : rx_next + 1;
		l1.info->rx_delivered++;
	}
}

/* Posts what the device had no room for before. */
static void rx_post_backlog(void)
{
	while (rx_backlog.len > 0) {
		uint32_t i = slotq_at(&rx_backlog, 0);

		if (net_rx_post(nic, l1.rx.slot[i].pa, cookie_of(i)) < 0)
			return;
		slotq_pop(&rx_backlog);
	}
}

/*
 * The slot pages a doorbell takes from layer 1 leave the TLB together, at
 * its end and before layer 1 runs again: one invlpg each when few, else one
 * reload of CR3.  Under TCG an invlpg empties the whole TLB (QEMU does so
 * whenever a 2 MiB page may cover the address, and layer 0's direct map is
 * made of them), so a batch of N frames cost N full flushes.
 */
#define FLUSH_CEILING	8
static uint64_t stale[FLUSH_CEILING];
static uint32_t nstale;

static void flush_later(uint64_t va)
{
	if (nstale < FLUSH_CEILING)
		stale[nstale] = va;
	nstale++;
}

static void flush_stale(void)
{
	if (nstale > FLUSH_CEILING)
		vm_flush_all();
	else
		for (uint32_t k = 0; k < nstale; k++)
			vm_flush(stale[k]);
	nstale = 0;
}

/*
 * The frames an extsync doorbell held wait for a checkpoint that covers
 * everything layer 1 did up to the doorbell: its number, from the
 * checkpointer, which starts it (or, today, takes it: then it is durable
 * already and they go at once).
 */
static void held_number(void)
{
	uint64_t seq;

	if (held_unnumbered == 0)
		return;
	seq = checkpoint_cover();
	for (uint32_t k = tx_held.len - held_unnumbered; k < tx_held.len; k++)
		held_seq[slotq_at(&tx_held, k)] = seq;
	held_unnumbered = 0;
}

/* After a TX doorbell: one notification for every frame it queued, then a look for completions. */
static void tx_rung(struct ring *r)
{
	uint64_t t0 = prof_begin();

	(void)r;
	flush_stale();
	prof_end(PROF_TX_FLUSH, t0);
	held_number();
	t0 = prof_begin();
	if (net_tx_kick(nic))
		prof_end(PROF_TX_NOTIFY, t0);
	else
		prof_end(PROF_TX_KICK, t0);
	prof_end(PROF_RX_TURN, rx_seen_at);
	rx_seen_at = 0;
	t0 = prof_begin();
	nic_poll();
	prof_end(PROF_TX_POLL, t0);
}

/*
 * A checkpoint became durable: the held frames it covers go to the device,
 * in ring order, as far as the device has room (nic_poll tries again).
 * Never waits: callable from any context that may touch the device.
 */
void nic_covered(void)
{
	uint64_t durable;
	bool sent = false;

	if (tx_held.len == held_unnumbered)
		return;
	durable = checkpoint_covered();
	while (tx_held.len > held_unnumbered) {
		uint32_t i = slotq_at(&tx_held, 0);

		if (held_seq[i] > durable || tx_post(i, held_len[i]) < 0)
			break;
		slotq_pop(&tx_held);
		prof_end(PROF_TX_HELD, held_at[i]);
		sent = true;
	}
	if (sent)
		net_tx_kick(nic);
}

/* After an RX doorbell: the slots it gave back may already take the frames waiting. */
static void rx_rung(struct ring *r)
{
	(void)r;
	flush_stale();
	nic_poll();
}

int nic_poll(void)
{
	int n;

	if (nic == 0 || (l1.tx.nslots == 0 && l1.rx.nslots == 0))
		return 0;
	n = net_poll(nic, tx_done, rx_done);
	tx_give_back();
	rx_post_backlog();
	nic_covered();
	l1.info->rx_dropped = nic->rx_dropped_runt + nic->rx_dropped_oversize + nic->rx_errors;
	return n;
}

/*
 * Every frame maps its slot's data page twice (held, then given back), so
 * the PTE of each data page is found once and kept: the page tables of the
 * ring regions are never freed.
 */
static pte_t *tx_pte[STRATA_RING_SLOTS_MAX], *rx_pte[STRATA_RING_SLOTS_MAX];

static void nic_map(struct ring *r, uint64_t va, uint64_t pa, bool writable)
{
	pte_t **pte = r->ctx;		/* tx_pte or rx_pte, given to ring_init */
	uint64_t off = va - r->base, i = off / STRATA_SLOT_STRIDE;
	pte_t old;

	if (off % STRATA_SLOT_STRIDE != 0) {
		l1_map(va, pa, PTE_NX);		/* a doorbell page */
		return;
	}
	if (pte[i] == 0 && (pte[i] = vm_walk(kernel_root, va, true)) == 0)
		panic("out of memory for the %s ring's page tables", r->name);
	old = vm_swap_leaf(pte[i], pa, PTE_NX | (writable ? PTE_W : 0));
	if (old & PTE_P)
		flush_later(va);	/* only a doorbell unmaps slots: its rung hook flushes */
}

/*
 * Layer 1 wrapped onto a slot layer 0 still holds.  A held TX frame waits
 * for its checkpoint: that one must start and end while layer 1 waits here.
 *
 * While the device has frames to send, the CPU halts until it sends one
 * instead of spinning.  Under emulation the CPU is a host thread and the
 * device another: spinning took the host CPU from the thread that was to
 * send the frame, and on a busy host a wait lasted a host time slice
 * (0.5 to 2.6 ms each, 70 to 220 waits in 500,000 frames, against 0.13 ms
 * halted).  A frame held for a checkpoint has nothing to wake the CPU, so
 * that wait spins as before.
 */
static void nic_wait(struct ring *r)
{
	int progress;

	(void)r;
	progress = nic_poll();
	checkpoint_tick(l1_frame);
	if (progress > 0)
		return;
	if (tx_in_device > 0 && net_tx_wake(nic, true)) {
		if (nic_poll() == 0)
			sleep_until_interrupt();
		net_tx_wake(nic, false);
		return;
	}
	__asm__ volatile("pause");
}

/* Layer 1 writes the TX slots: used means written, the dirty bit. */
static bool tx_used(struct ring *r, uint32_t i)
{
	(void)r;
	return tx_pte[i] != 0 && vm_leaf_dirty(tx_pte[i]);
}

/*
 * Layer 1 reads the RX slots: used means read, the accessed bit.  It is
 * exact under QEMU.  A CPU may set it for a read it only speculated, and
 * then a repeated RX doorbell over a ring delivered whole would give it all
 * back unread.
 */
static bool rx_used(struct ring *r, uint32_t i)
{
	(void)r;
	return rx_pte[i] != 0 && vm_leaf_accessed(rx_pte[i]);
}

/* Every frame a TX doorbell takes must have a length the wire can carry. */
static int tx_check(const struct ring *r, uint32_t first, uint32_t n, const char **why)
{
	for (uint32_t k = 0, i = first; k < n; k++, i = ring_succ(r, i)) {
		uint32_t len = r->slot[i].page->len;

		if (len < STRATA_NET_FRAME_MIN || len > STRATA_NET_FRAME_MAX) {
			*why = "a TX frame shorter than STRATA_NET_FRAME_MIN or longer than "
			    "STRATA_NET_FRAME_MAX";
			return -1;
		}
	}
	return 0;
}

/*
 * A TX slot: the frame goes to the device in place, or with extsync waits
 * for its checkpoint first; the slot is held until it is sent.
 */
static int tx_take(struct ring *r, uint32_t i, const struct strata_slot *s)
{
	(void)r;
	if (extsync) {
		held_len[i] = s->len;
		slotq_push(&tx_held, i);
		held_at[i] = prof_begin();
		held_unnumbered++;
		return RING_TAKE_HOLD;
	}
	while (tx_post(i, s->len) < 0) {
		net_tx_kick(nic);	/* the device's queue is full: let it work, */
		nic_poll();		/* and wait for completions */
	}
	return RING_TAKE_HOLD;
}

/* An RX slot layer 1 is done with goes back to the device. */
static int rx_take(struct ring *r, uint32_t i, const struct strata_slot *s)
{
	(void)s;
	if (rx_backlog.len > 0 || net_rx_post(nic, r->slot[i].pa, cookie_of(i)) < 0)
		slotq_push(&rx_backlog, i);
	return RING_TAKE_HOLD;
}

/*
 * A TX doorbell's run: every page unmapped, then the frames to the device in
 * one call, so that nothing is called per frame (under TCG a call and its
 * return cost more than the work of a frame).  The pages are unmapped first
 * since a wait for room in the device may give some back.  Frames held for
 * a checkpoint go slot by slot, as tx_take holds them.
 */
static struct net_frame run_frame[STRATA_RING_SLOTS_MAX];

static void tx_hold_run(struct ring *r, uint32_t first, uint32_t n)
{
	uint64_t t0 = prof_begin();
	uint32_t k, i, posted = 0;

	for (k = 0, i = first; k < n; k++, i = ring_succ(r, i)) {
		nic_map(r, STRATA_SLOT_ADDR(r->base, i), 0, false);
		run_frame[k] = (struct net_frame){ r->slot[i].pa, r->slot[i].page->len, cookie_of(i) };
	}
	if (extsync) {
		for (k = 0, i = first; k < n; k++, i = ring_succ(r, i))
			tx_take(r, i, r->slot[i].page);
		n = 0;
	}
	while (posted < n) {
		uint32_t c = net_tx_post_run(nic, run_frame + posted, n - posted);

		posted += c;
		tx_in_device += c;
		if (posted < n) {
			net_tx_kick(nic);	/* the device's queue is full: let it work, */
			nic_poll();		/* and wait for completions */
		}
	}
	prof_end_n(PROF_TX_RUN, t0, k);
}

static const struct ring_ops tx_ops = {
	.take = tx_take, .hold_run = tx_hold_run, .check = tx_check, .map = nic_map,
	.wait = nic_wait, .used = tx_used, .rung = tx_rung,
};
static const struct ring_ops rx_ops = {
	.take = rx_take, .map = nic_map, .wait = nic_wait, .used = rx_used, .rung = rx_rung,
};

static uint32_t ring_pages(struct ring *r, uint32_t n, const char *what)
{
	for (uint32_t i = 0; i < n; i++) {
		r->slot[i].pa = page_or_die(what);
		r->slot[i].page = p2v(r->slot[i].pa);
	}
	return n;
}

/*
 * The payload's header asks for external synchrony.  Without a disk nothing
 * is ever durable, so nothing is held: the flag changes nothing, and the
 * console says so.
 */
static void extsync_load(void)
{
	if (!(l1.img.hdr.flags & STRATA_PAYLOAD_EXTSYNC) || l1.tx.nslots == 0)
		return;
	if (l1.dev == 0) {
		kprintf("strata: %s: external synchrony asked for, but without a disk nothing is "
		    "durable: frames are sent at their doorbell\n", nic->name);
		return;
	}
	extsync = true;
	kprintf("strata: %s: external synchrony: a frame is sent once a checkpoint after its "
	    "doorbell is durable\n", nic->name);
}

/* Sets the rings up as the payload's header asks, if there is a NIC. */
void nic_load(uint32_t tx_slots, uint32_t rx_slots)
{
	uint64_t doorbell;

	nic = netdev_get(0);
	if (nic == 0 || (tx_slots == 0 && rx_slots == 0))
		return;
	doorbell = page_or_die("NIC doorbell");
	if (tx_slots > 0)
		ring_init(&l1.tx, "nic-tx", STRATA_NIC_TX_BASE, ring_pages(&l1.tx, tx_slots, "TX"),
		    doorbell, &tx_ops, tx_pte);
	if (rx_slots > 0) {
		ring_init(&l1.rx, "nic-rx", STRATA_NIC_RX_BASE, ring_pages(&l1.rx, rx_slots, "RX"),
		    doorbell, &rx_ops, rx_pte);
		ring_hold_all(&l1.rx);
	}
	kprintf("strata: %s: rings of %u TX and %u RX slots\n", nic->name, tx_slots, rx_slots);
	extsync_load();
}

/*
 * Hands the RX ring out from slot first on, its first held slots delivered
 * and empty, every other one posted in order: the device fills them so.
 */
static void rx_start(uint32_t first, uint32_t held)
{
	uint32_t n = l1.rx.nslots;

	for (uint32_t k = 0; k < held; k++)
		ring_deliver(&l1.rx, (first + k) % n, 0);
	rx_next = n ? (first + held) % n : 0;
	for (uint32_t k = held; k < n; k++)
		rx_take(&l1.rx, (first + k) % n, 0);
}

void nic_start(void)
{
	rx_start(0, 0);
}

void nic_save(struct nic_state *s)
{
	s->rx_delivered = l1.info->rx_delivered;
	s->rx_held = 0;
	for (uint32_t i = 0; i < l1.rx.nslots; i++)
		s->rx_held += l1.rx.slot[i].owner == SLOT_LAYER1;
}

/*
 * A resume: layer 1 counts frames by rx_delivered and finds frame k in slot
 * k mod rx_slots, so the count goes on from the checkpoint's and the next
 * frame lands in the slot after the last one delivered then.  The slots
 * layer 1 held at the checkpoint come back delivered and empty: their
 * frames are lost, and layer 1, whose own index may be anywhere among them,
 * reads them as dropped frames and gives them back.
 */
void nic_resume(uint32_t rx_first, const struct nic_state *s)
{
	l1.info->rx_delivered = s->rx_delivered;
	rx_start(rx_first, s->rx_held <= l1.rx.nslots ? s->rx_held : 0);
}

void nic_info(struct strata_info *in)
{
	if (nic == 0)
		return;
	memcpy(in->mac, nic->mac, sizeof(in->mac));
	in->mtu = (uint16_t)(STRATA_NET_FRAME_MAX - 14);
	in->tx_slots = l1.tx.nslots;
	in->rx_slots = l1.rx.nslots;
}

/*
 * STRATA_TRAP_WAIT: until a frame is delivered past what layer 1 has seen, or
 * the deadline.  If a received frame interrupts, the CPU halts between polls
 * while the deadline is more than a tick away, since the timer ends a halt
 * within a tick; closer to it, or with a polled NIC, it spins.
 */
void nic_wait_trap(struct trapframe *tf)
{
	uint64_t deadline = tf->rdi, seen = tf->rsi, now, t0 = prof_begin(), t, woke = 0;

	for (;;) {
		nic_poll();
		checkpoint_tick(tf);	/* a waiting payload is checkpointed too */
		if (l1.info->rx_delivered != seen) {
			tf->rax = STRATA_WAIT_RX;
			prof_end(PROF_RX_WAIT, t0);
			rx_seen_at = prof_begin();
			prof_end(PROF_RX_WAKE, woke);
			return;
		}
		now = clock_ns();
		if (deadline != 0 && now >= deadline) {
			tf->rax = STRATA_WAIT_TIMEOUT;
			prof_end(PROF_RX_WAIT, t0);
			return;
		}
		if (nic != 0 && nic->rx_irq && (deadline == 0 || deadline - now > 1000000000 / TICK_HZ)) {
			t = prof_begin();
			sleep_until_interrupt();	/* the timer's tick keeps the info clock */
			prof_end(PROF_RX_IDLE, t);
			woke = prof_begin();
			continue;
		}
		timer_tick();	/* interrupts are off in here: keep the info clock current */
		__asm__ volatile("pause");
	}
}

void nic_print_stats(void)
{
	if (nic == 0 || (l1.tx.nslots == 0 && l1.rx.nslots == 0))
		return;
	kprintf("strata: %s: %lu frames sent, %lu received; dropped %lu runt, %lu oversize, "
	    "%lu errors\n", nic->name, (unsigned long)l1.info->tx_sent,
	    (unsigned long)l1.info->rx_delivered, (unsigned long)nic->rx_dropped_runt,
	    (unsigned long)nic->rx_dropped_oversize, (unsigned long)nic->rx_errors);
}
