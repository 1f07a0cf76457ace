/*
 * PCI configuration space through the legacy ports 0xcf8/0xcfc, which q35
 * still decodes, so no ECAM mapping is needed.  Functions are enumerated once
 * (every bus, device and function) and kept in a small table.
 */
#ifndef PCI_H
#define PCI_H

#include <stdbool.h>
#include <stdint.h>

/* Configuration header offsets (type 0). */
#define PCI_VENDOR		0x00
#define PCI_DEVICE		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_CLASS_REV		0x08
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYS_ID		0x2e
#define PCI_CAP_PTR		0x34

#define PCI_CMD_IO		(1u << 0)
#define PCI_CMD_MEM		(1u << 1)
#define PCI_CMD_MASTER		(1u << 2)
#define PCI_CMD_INTX_OFF	(1u << 10)
#define PCI_STATUS_CAPS		(1u << 4)

#define PCI_CAP_VENDOR		0x09
#define PCI_CAP_MSIX		0x11

#define PCI_MAX_DEVS		64

/* One function, as enumeration found it. */
struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class, subclass, progif;
};

/* A decoded base address register. */
struct pci_bar {
	uint64_t base;		/* physical (memory) or port (I/O) */
	uint64_t size;
	bool io;
	bool is64;
};

uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);

int pci_count(void);				/* enumerates on first use */
const struct pci_dev *pci_get(int i);		/* 0 past the end */
int pci_bar(const struct pci_dev *d, int bar, struct pci_bar *out); /* 0, or -1 if unimplemented */
void pci_enable(const struct pci_dev *d);	/* memory decode and bus mastering on, INTx off */
uint8_t pci_cap_next(const struct pci_dev *d, uint8_t cap, uint8_t id); /* next cap with id after cap (0: first), or 0 */

#endif
