/*
 * The NIC rings (ABI 1.1): Ethernet frames through the TX and RX regions of
 * layout.h, in slots of ring.h.  A payload asks for them with tx_slots and
 * rx_slots in its header; info->tx_slots and info->rx_slots say what it got
 * (0 when the machine has no NIC).
 *
 * A frame is one slot: struct strata_slot's len is the frame's length, from
 * the destination MAC address to the end of the payload (no preamble, no FCS),
 * and its bytes follow the slot header.  The slot header's flags and reserved
 * fields are 0 whenever layer 1 sees a slot; layer 0 uses those bytes for the
 * device while it holds the slot (the frame goes to and from the device in
 * place, never copied).
 *
 * Sending: layer 1 writes frames into slots in order and reads the doorbell
 * page of the last one (as the console, ring.h).  Layer 0 queues them all for
 * the device and holds them (not present) until they are sent, then gives
 * them back with len 0.  A frame shorter than STRATA_NET_FRAME_MIN or longer
 * than STRATA_NET_FRAME_MAX is a V-RING violation.
 *
 * Receiving: layer 0 holds every RX slot it has posted to the device (not
 * present).  Frames are delivered strictly in slot order: when the device
 * fills slot i, it becomes present with len set.  A slot delivered with
 * len 0 carries no frame: the one that landed there was dropped (runt,
 * oversized, malformed) and counted in info->rx_dropped.  Layer 1 reads slots in
 * order; touching a slot not delivered yet blocks until a frame arrives.
 * When done with slots up to i, layer 1 reads the doorbell page of slot i:
 * layer 0 takes every delivered slot from the first one layer 1 had not given
 * back up to i and posts them to the device again.  A doorbell over a slot
 * not delivered yet is V-RING.
 *
 * Polling and waiting: info->rx_delivered counts the frames delivered since
 * boot (layer 1 compares it with its own count: no fault); STRATA_TRAP_WAIT
 * (trap.h) blocks until a frame is delivered or a deadline passes.
 */
#ifndef STRATA_NET_H
#define STRATA_NET_H

#include "ring.h"

/* Frame lengths layer 1 may send, and that it can receive. */
#define STRATA_NET_FRAME_MIN		STRATA_U32(14)
#define STRATA_NET_FRAME_MAX		STRATA_U32(1514)

#endif
