/*
 * Finding the devices at boot: the one file that knows which drivers exist.
 * Each driver brings up the PCI functions of its type and registers them
 * with blkdev.c or netdev.c, which then know a device only by its ops.
 * Here too is the line per device that the boot log shows.
 */
#include "defs.h"
#include "blkdev.h"
#include "netdev.h"
#include "pci.h"
#include "virtio.h"

/* Every PCI function of virtio type type, in bus order, to attach. */
static void attach_virtio(int type, void (*attach)(const struct pci_dev *d))
{
	for (int i = 0; i < pci_count(); i++)
		if (virtio_pci_type(pci_get(i)) == type)
			attach(pci_get(i));
}

void probe_disks(void)
{
	char irq[24];

	attach_virtio(VIRTIO_ID_BLOCK, virtio_blk_attach);
	for (int i = 0; i < blkdev_count(); i++) {
		struct blkdev *d = blkdev_get(i);
		if (d->irq)
			snprintf_(irq, sizeof(irq), "MSI-X vector %#x", d->irq_vector);
		else
			snprintf_(irq, sizeof(irq), "polled");
		kprintf("strata: %s: %s, %lu sectors (%lu MiB)%s, %s\n", d->name, d->kind,
		    (unsigned long)d->sectors, (unsigned long)(d->sectors * d->sector_size >> 20),
		    d->read_only ? ", read-only" : "", irq);
	}
	if (blkdev_count() == 0)
		kprintf("strata: no disk\n");
}

void probe_nics(void)
{
	char mac[NET_MAC_STRLEN];

	attach_virtio(VIRTIO_ID_NET, virtio_net_attach);
	for (int i = 0; i < netdev_count(); i++) {
		struct netdev *d = netdev_get(i);
		net_format_mac(mac, d->mac);
		kprintf("strata: %s: %s, MAC %s, MTU %u, %u TX + %u RX buffers, ", d->name,
		    d->kind, mac, d->mtu, d->tx_depth, d->rx_depth);
		if (d->rx_irq)
			kprintf("RX on MSI-X vector %#x\n", d->rx_vector);
		else
			kprintf("polled\n");
	}
	if (netdev_count() == 0)
		kprintf("strata: no NIC\n");
}
