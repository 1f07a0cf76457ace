/*
 * MSI-X: finding the table, masking and routing its entries.
 *
 * The capability holds the message control word and where the table lives
 * (a BAR and an offset in it); the table holds one 16-byte entry per
 * interrupt: the message address, the message data, and a mask bit.
 */
#include "defs.h"
#include "msix.h"

#define CAP_CTRL		2	/* message control, 16 bits */
#define CTRL_SIZE		0x07ff	/* entries - 1 */
#define CTRL_FUNCTION_MASK	(1u << 14)
#define CTRL_ENABLE		(1u << 15)
#define CAP_TABLE		4	/* BAR number in bits 2..0, offset above */
#define TABLE_BIR		7u

/* An entry, in dwords. */
#define ENT_ADDR_LO		0
#define ENT_ADDR_HI		1
#define ENT_DATA		2
#define ENT_CTRL		3
#define ENT_DWORDS		4
#define ENT_CTRL_MASKED		1u

/* The local APICs answer writes here; bits 19..12 name the destination
 * APIC (physical mode, no redirection hint).  Data is the vector alone:
 * fixed delivery, edge-triggered. */
#define MSI_ADDR		0xfee00000u
#define MSI_DEST_SHIFT		12

/* Maps the n-entry table, or returns 0 if its BAR cannot hold it. */
static volatile uint32_t *map_table(const struct pci_dev *d, uint32_t where, uint16_t n)
{
	struct pci_bar b;
	uint64_t off = where & ~TABLE_BIR, len = (uint64_t)n * ENT_DWORDS * 4, pa, start;
	uint8_t *va;

	if (pci_bar(d, where & TABLE_BIR, &b) < 0 || b.io || b.base == 0 || off + len > b.size)
		return 0;
	pa = b.base + off;
	start = PAGE_ROUND_DOWN(pa);
	va = vm_map_mmio(start, PAGE_ROUND_UP(pa + len) - start);
	return va ? (volatile uint32_t *)(va + (pa - start)) : 0;
}

/* Entries are masked before MSI-X goes on, so none fires at an address we
 * have not written yet; the function mask is then cleared for good and each
 * entry's own bit decides. */
int msix_enable(struct msix *m, const struct pci_dev *d)
{
	uint8_t cap = pci_cap_next(d, 0, PCI_CAP_MSIX);
	uint16_t ctrl;

	m->table = 0;
	m->nentries = 0;
	if (cap == 0)
		return -1;
	ctrl = pci_read16(d, cap + CAP_CTRL);
	m->table = map_table(d, pci_read32(d, cap + CAP_TABLE), (ctrl & CTRL_SIZE) + 1);
	if (m->table == 0) {
		kprintf("strata: pci %02x:%02x.%x: MSI-X table outside its BAR, not used\n",
		    d->bus, d->dev, d->fn);
		return -1;
	}
	m->nentries = (ctrl & CTRL_SIZE) + 1;
	pci_enable(d);		/* the table is memory the function decodes; INTx off */
	for (uint16_t i = 0; i < m->nentries; i++)
		m->table[i * ENT_DWORDS + ENT_CTRL] |= ENT_CTRL_MASKED;
	pci_write16(d, cap + CAP_CTRL, (ctrl & ~CTRL_FUNCTION_MASK) | CTRL_ENABLE);
	return 0;
}

/* Masked while it is rewritten, so the device never sends half a message. */
int msix_route(struct msix *m, uint16_t entry, uint8_t vector)
{
	volatile uint32_t *e;

	if (m->table == 0 || entry >= m->nentries)
		return -1;
	e = m->table + entry * ENT_DWORDS;
	e[ENT_CTRL] |= ENT_CTRL_MASKED;
	e[ENT_ADDR_LO] = MSI_ADDR | lapic_id() << MSI_DEST_SHIFT;
	e[ENT_ADDR_HI] = 0;
	e[ENT_DATA] = vector;
	e[ENT_CTRL] &= ~ENT_CTRL_MASKED;
	return 0;
}
