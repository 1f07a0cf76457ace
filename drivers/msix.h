/*
 * MSI-X (PCI capability 0x11): a function signals each of its interrupts by
 * writing one table entry's message to the local APIC, so no interrupt line,
 * I/O APIC or sharing is involved.  Entries start masked; a driver routes
 * the ones it wants to a vector of its own (layer0/irq.c).
 */
#ifndef MSIX_H
#define MSIX_H

#include <stdint.h>

#include "pci.h"

struct msix {
	volatile uint32_t *table;	/* four dwords an entry; 0 without MSI-X */
	uint16_t nentries;
};

int msix_enable(struct msix *m, const struct pci_dev *d); /* every entry masked, MSI-X on, INTx off: 0, or -1 if none */
int msix_route(struct msix *m, uint16_t entry, uint8_t vector); /* entry to vector on this CPU, unmasked: 0, or -1 */

#endif
