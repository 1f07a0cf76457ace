/*
 * The NIC rings (nic.c): what the rest of layer 0 asks of them.  The rings
 * themselves are l1.tx and l1.rx (layer1.h), ring.c's machine with nic.c's
 * ring_ops.
 */
#ifndef NIC_H
#define NIC_H

#include "defs.h"
#include "strata/abi.h"

void nic_load(uint32_t tx_slots, uint32_t rx_slots);	/* grants the rings if there is a NIC */
/* What a checkpoint keeps of the NIC besides where each ring stands. */
struct nic_state {
	uint64_t rx_delivered;		/* info->rx_delivered */
	uint32_t rx_held;		/* RX slots layer 1 held: delivered, not given back */
	uint32_t reserved;
};

void nic_start(void);				/* a fresh start: posts every RX slot, from 0 */
void nic_save(struct nic_state *s);		/* at a checkpoint */
/* Resuming a checkpoint whose RX ring stood at rx_first: the RX slots and the count as it left them. */
void nic_resume(uint32_t rx_first, const struct nic_state *s);
void nic_info(struct strata_info *in);		/* MAC, MTU, slots granted */
int nic_poll(void);				/* reaps the device: sent frames back, new ones in; how many */
/*
 * A checkpoint became durable (checkpoint_covered() moved): sends the frames
 * of an extsync payload it covers.  Never waits; callable from any context,
 * an interrupt that hit layer 1 included.
 */
void nic_covered(void);
void nic_wait_trap(struct trapframe *tf);	/* STRATA_TRAP_WAIT */
void nic_print_stats(void);

#endif
