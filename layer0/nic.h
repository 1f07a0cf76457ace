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
void nic_start(uint32_t rx_first);	/* posts the RX slots, from rx_first on */
void nic_info(struct strata_info *in);		/* MAC, MTU, slots granted */
void nic_poll(void);				/* reaps the device: sent frames back, new ones in */
/*
 * A checkpoint became durable (checkpoint_covered() moved): sends the frames
 * of an extsync payload it covers.  Never waits; callable from any context,
 * an interrupt that hit layer 1 included.
 */
void nic_covered(void);
void nic_wait_trap(struct trapframe *tf);	/* STRATA_TRAP_WAIT */
void nic_print_stats(void);

#endif
