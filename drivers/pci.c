/*
 * PCI: configuration space access, enumeration, BARs, capabilities.
 *
 * Enumeration tries every bus, device and function rather than following
 * bridges: 8192 probes of an absent vendor ID are cheap, and it finds devices
 * behind bridges the firmware configured without this code knowing bridges.
 * Layer 0 runs on one CPU and enumerates before anything else touches the
 * ports, so the two-step address/data access needs no lock.
 */
#include "defs.h"
#include "pci.h"

#define CONFIG_ADDRESS	0xcf8
#define CONFIG_DATA	0xcfc

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs = -1;		/* -1: not enumerated yet */

/* devs[i]'s BARs, each decoded once (see pci_bar()). */
static struct {
	struct pci_bar bar;
	int rc;			/* pci_bar()'s */
	bool known;
} bars[PCI_MAX_DEVS][6];

static inline void cfg_outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint16_t cfg_inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }

/* Selects the dword holding off; returns the data port for off's bytes. */
static uint16_t cfg_select(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	outl(CONFIG_ADDRESS, 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 |
	    (uint32_t)fn << 8 | (off & 0xfc));
	return CONFIG_DATA + (off & 3);
}

static uint32_t raw_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	return inl(cfg_select(bus, dev, fn, off));
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
	return raw_read32(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
	return cfg_inw(cfg_select(d->bus, d->dev, d->fn, off));
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
	return inb(cfg_select(d->bus, d->dev, d->fn, off));
}

void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	outl(cfg_select(d->bus, d->dev, d->fn, off), v);
}

/* A 16-bit write, so that writing the command register cannot clear the
 * write-one-to-clear bits of the status register beside it. */
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	cfg_outw(cfg_select(d->bus, d->dev, d->fn, off), v);
}

/* Records one present function; warns once if the table is full. */
static void add(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
	struct pci_dev *d;
	uint32_t cls;

	if (ndevs == PCI_MAX_DEVS) {
		kprintf("strata: pci: more than %d functions, ignoring %02x:%02x.%x\n",
		    PCI_MAX_DEVS, bus, dev, fn);
		return;
	}
	d = &devs[ndevs++];
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	cls = raw_read32(bus, dev, fn, PCI_CLASS_REV);
	d->class = cls >> 24;
	d->subclass = cls >> 16;
	d->progif = cls >> 8;
}

/* Fills devs[] with every function that answers. */
static void enumerate(void)
{
	ndevs = 0;
	for (int bus = 0; bus < 256; bus++) {
		for (int dev = 0; dev < 32; dev++) {
			uint32_t id = raw_read32(bus, dev, 0, PCI_VENDOR);
			if ((id & 0xffff) == 0xffff)
				continue;
			add(bus, dev, 0, id);
			/* Bit 7 of the header type: functions 1..7 may exist. */
			if (!(inb(cfg_select(bus, dev, 0, PCI_HEADER_TYPE)) & 0x80))
				continue;
			for (int fn = 1; fn < 8; fn++) {
				id = raw_read32(bus, dev, fn, PCI_VENDOR);
				if ((id & 0xffff) != 0xffff)
					add(bus, dev, fn, id);
			}
		}
	}
}

int pci_count(void)
{
	if (ndevs < 0)
		enumerate();
	return ndevs;
}

const struct pci_dev *pci_get(int i)
{
	return i >= 0 && i < pci_count() ? &devs[i] : 0;
}

/* Writes all-ones to the BAR at off and returns what stuck, restoring it.
 * The caller has turned decoding off, so the device never answers at the
 * all-ones address meanwhile. */
static uint32_t probe_mask(const struct pci_dev *d, uint16_t off)
{
	uint32_t old = pci_read32(d, off), mask;

	pci_write32(d, off, 0xffffffffu);
	mask = pci_read32(d, off);
	pci_write32(d, off, old);
	return mask;
}

/* Decodes BAR number bar (0..5) into *out; a 64-bit BAR uses bar and bar+1. */
static int bar_decode(const struct pci_dev *d, int bar, struct pci_bar *out)
{
	uint16_t off = PCI_BAR0 + 4 * bar, cmd;
	uint32_t lo, lomask;
	uint64_t mask;

	cmd = pci_read16(d, PCI_COMMAND);
	lo = pci_read32(d, off);
	pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	lomask = probe_mask(d, off);
	out->io = lo & 1;
	out->is64 = !out->io && (lo & 6) == 4 && bar < 5;
	if (out->io) {
		out->base = lo & ~3u;
		mask = 0xffff0000u | (lomask & ~3u);
	} else if (out->is64) {
		out->base = (lo & ~15u) | (uint64_t)pci_read32(d, off + 4) << 32;
		mask = (lomask & ~15u) | (uint64_t)probe_mask(d, off + 4) << 32;
	} else {
		out->base = lo & ~15u;
		mask = 0xffffffff00000000ull | (lomask & ~15u);
	}
	pci_write16(d, PCI_COMMAND, cmd);
	out->size = ~mask + 1;
	return (out->io ? (lomask & ~3u) : (lomask & ~15u)) ? 0 : -1;
}

/* The index of d in devs[], or -1 for a function enumeration did not record. */
static int dev_index(const struct pci_dev *d)
{
	for (int i = 0; i < pci_count(); i++)
		if (devs[i].bus == d->bus && devs[i].dev == d->dev && devs[i].fn == d->fn)
			return i;
	return -1;
}

/*
 * Each BAR is decoded once and kept (layer 0 never moves one): decoding turns
 * the function's decoding off and on again, and QEMU remaps its memory at
 * each turn, about half a millisecond under TCG, while a virtio function's
 * four capabilities and its MSI-X table ask for the same one or two BARs.
 */
int pci_bar(const struct pci_dev *d, int bar, struct pci_bar *out)
{
	int i = dev_index(d);

	if (bar < 0 || bar > 5)
		return -1;
	if (i < 0)
		return bar_decode(d, bar, out);
	if (!bars[i][bar].known) {
		bars[i][bar].rc = bar_decode(d, bar, &bars[i][bar].bar);
		bars[i][bar].known = true;
	}
	*out = bars[i][bar].bar;
	return bars[i][bar].rc;
}

void pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	pci_write16(d, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
}

/* Walks the capability list; the 48-step bound stops a looping list. */
uint8_t pci_cap_next(const struct pci_dev *d, uint8_t cap, uint8_t id)
{
	uint8_t p;

	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	p = cap ? pci_read8(d, cap + 1) : pci_read8(d, PCI_CAP_PTR);
	for (int steps = 0; p >= 0x40 && steps < 48; steps++) {
		p &= 0xfc;
		if (pci_read8(d, p) == id)
			return p;
		p = pci_read8(d, p + 1);
	}
	return 0;
}
